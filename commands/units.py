"""`evalflow unit`: a unit's record across the years."""

from __future__ import annotations

from datetime import datetime

import click

from commands.common import cfg, chosen_program, handled, json_option, out, record_details, record_words, state_words
from i18n import Msg


@click.group()
def unit() -> None:
    """A unit's record across the years (every cycle of a program)."""


@unit.command("show")
@json_option
@click.argument("name")
@click.option("--program", "program_id", help="The program (default: the current cycle's).")
@handled
def unit_show(name: str, program_id: str | None) -> None:
    """Every application of the unit NAME in every cycle of the program, with its state and record."""
    from zoneinfo import ZoneInfo

    program = chosen_program(program_id)
    found = cfg().engine().unit(cfg().user, name, program.id)

    def text() -> None:
        click.echo(f"{name} — {program.name}")
        for cycle, p in found:
            state = state_words(p.state, p.cycle_id, strip=True)
            line = Msg(
                "  {cycle}  project {id} 《{name}》: {state}", cycle=cycle.id, id=p.id, name=p.project_name, state=state
            )
            click.echo(line.render())
            for key, entries in p.record.items():
                for e in entries:
                    at = datetime.fromisoformat(e["at"]).astimezone(ZoneInfo(program.timezone))
                    line = Msg(
                        "    {at} {key}: {details}",
                        at=f"{at:%Y-%m-%d}",
                        key=record_words(key, program),
                        details=record_details(e, program, key),
                    )
                    click.echo(line.render().rstrip(": ："))

    out([{"cycle": c.id, "project": p} for c, p in found], text)
