"""`evalflow template`: blank spreadsheets to fill in (the application form, a city's score sheet)."""

from __future__ import annotations

from pathlib import Path

import click

from commands.common import cfg, chosen_program, handled
from i18n import Msg


@click.group()
def template() -> None:
    """Blank spreadsheets to fill in: the program's application form, a city's score sheet."""


@template.command("application")
@click.option("--program", "program_id", help="The program whose form to write (default: the current cycle's program).")
@click.option("--out", type=click.Path(path_type=Path), help="The file to write (default: the form's name, .xlsx).")
@handled
def template_application(program_id: str | None, out: Path | None) -> None:
    """Write a program's application template (XLSX): exact columns, Chinese headers, an example row."""
    from sheets.applications import write_template
    from workflow.program_code import example_application

    program = chosen_program(program_id)
    form = program.form
    out = out or Path(f"{form.name.replace(' ', '-')}.xlsx")
    write_template(out, form, example_application(program, program.year_at(cfg().clock()())))
    sheets = Msg("{first} and {second}", first=form.sheet, second=form.group.sheet) if form.group else form.sheet
    said = Msg("Wrote {file}: sheets {sheets} (the 示例 rows are never imported) and 填表说明", file=out, sheets=sheets)
    click.echo(said.render())


@template.command("scores")
@click.option("--city", required=True, help="The scoring city (its id, see `evalflow program show`).")
@click.option("--cycle", "cycle_id")
@click.option("--out", type=click.Path(path_type=Path), help="Default: the score sheet's name and CITY, .xlsx.")
@handled
def template_scores(city: str, cycle_id: str | None, out: Path | None) -> None:
    """Write CITY's pre-filled score sheet: every shortlisted project, the criteria with their bands."""
    from sheets.scores import write_template

    cycle, program, projects = cfg().engine().shortlist(cfg().user, cycle_id, city)
    party = program.party(city)
    out = out or Path(f"{program.sheet_name.replace(' ', '-')}-{city}.xlsx")
    write_template(out, party, projects, program.criteria, cycle.id, program.parties)
    said = Msg(
        "Wrote {file}: {count} key-library projects for {unit} to score", file=out, count=len(projects), unit=party.unit
    )
    click.echo(said.render())
