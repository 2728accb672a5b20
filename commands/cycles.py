"""`evalflow cycle`: open a program's cycle, show its status, advance it, list it, its history."""

from __future__ import annotations

import sys
from typing import Any

import click

from commands.common import (
    LIST_STATUS,
    cfg,
    handled,
    json_option,
    out,
    parse_places,
    party_words,
    print_audit,
    program_of_cycle,
    stage_words,
)
from i18n import Joined, Msg, Text
from workflow.program.scoring import OWN_PARTY, OWN_PARTY_WORDS


@click.group()
def cycle() -> None:
    """Cycles: open, status, advance."""


def _parse_quota(values: tuple[str, ...]) -> dict[str, dict[str, int]]:
    quotas: dict[str, dict[str, int]] = {}
    for v in values:
        try:
            city, rest = v.split(":", 1)
            for part in rest.split(","):
                key, num = part.split("=")  # (the engine checks that each key is a result of the program)
                if not key.strip():
                    raise ValueError
                quotas.setdefault(city.strip(), {})[key.strip()] = int(num)
        except ValueError:
            raise click.BadParameter(
                Msg("{value}: use CITY:RESULT=N,RESULT=M", value=repr(v)).render(), param_hint="--quota"
            ) from None
    return quotas


def _category_places(ctx: click.Context) -> dict[str, int]:
    """``--CATEGORY-places N`` (or ``=N``) for any list category: the older spelling of
    ``--places CATEGORY=N``, kept for scripts (the engine checks the category)."""
    places: dict[str, int] = {}
    args = list(ctx.args)
    while args:
        arg = args.pop(0)
        name, eq, value = arg.partition("=")
        if not (name.startswith("--") and name.endswith("-places") and len(name) > len("---places")):
            raise click.NoSuchOption(name, ctx=ctx)
        if not eq:
            if not args:
                raise click.BadOptionUsage(name, f"Option '{name}' requires an argument.", ctx=ctx)
            value = args.pop(0)
        option = click.Option([name], type=click.IntRange(0))  # (its errors name the option)
        number = option.type.convert(value, option, ctx)
        places[name[2 : -len("-places")].replace("-", "_")] = number
    return places


def _category_places_help() -> list[tuple[str, str]]:
    """--CATEGORY-places in `cycle open --help`: parsed from the extra arguments, so click has no
    option of its own to list. One line for each list category of the programs there are (read
    from their files only when the help is shown), then the general form."""
    from workflow.errors import EvalflowError
    from workflow.program import ProgramRegistry

    records: list[tuple[str, str]] = []
    registry = ProgramRegistry()
    for program_id in registry.ids():
        try:
            categories = registry.get(program_id).categories
        except EvalflowError:  # (an invalid program file: `program show` names its problems)
            continue
        for c in categories:
            records.append(
                (
                    f"--{c.id.replace('_', '-')}-places N",
                    Msg(
                        "{program}: places of {name} (as --places {id}=N).", program=program_id, name=c.name, id=c.id
                    ).render(),
                )
            )
    records.append(
        ("--CATEGORY-places N", Msg("Places of any list category of the program (as --places CATEGORY=N).").render())
    )
    return records


class _OpenCommand(click.Command):
    """`cycle open`, its help listing the --CATEGORY-places options after --places."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        records: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx) if isinstance(param, click.Option) else None
            if record is not None:
                records.append(record)
                if param.name == "place_args":
                    records += _category_places_help()
        with formatter.section(Msg("Options").render()):
            formatter.write_dl(records)


@cycle.command("open", cls=_OpenCommand, context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("program_id")
@click.option("--year", type=int, required=True, help="The cycle year (windows are computed for it).")
@click.option(
    "--places",
    "place_args",
    multiple=True,
    metavar="CATEGORY=N",
    help="Places of a list category in this cycle (default: the program's), e.g. CATEGORY=12.",
)
@click.option("--quota", multiple=True, help="Quota of review results for this cycle: CITY:RESULT=N,RESULT=M.")
@click.option(
    "--own-party",
    type=click.Choice(OWN_PARTY),
    metavar="WORD",
    help="A city on its own projects: scores (its sheet counts), recused (may not score them), excluded (its"
    " sheet is kept, not counted). Default: the program's [scoring] own_party.",
)
@click.pass_context
@handled
def cycle_open(
    ctx: click.Context,
    program_id: str,
    year: int,
    place_args: tuple[str, ...],
    quota: tuple[str, ...],
    own_party: str | None,
) -> None:
    """Open a cycle of a program for a year (lead only)."""
    places = {**_category_places(ctx), **parse_places(place_args)}  # (--CATEGORY-places N, --places C=N)
    c = cfg().engine().open_cycle(cfg().user, program_id, year, places, _parse_quota(quota), own_party)
    said = Msg(
        "Opened cycle {cycle} ({program} v{version}); stage {stage}",
        cycle=c.id,
        program=program_id,
        version=c.program_version,
        stage=stage_words(c.stage, c.id),
    )
    click.echo(said.render())
    own = c.config.own_party
    if own in OWN_PARTY_WORDS:  # (said where a city does not simply score its own projects)
        click.echo(OWN_PARTY_WORDS[own].render())


def _duration(seconds: float | None) -> Msg:
    if seconds is None:
        return Msg("no closing date")
    if seconds <= 0:
        return Msg("window closed")
    days, rem = divmod(int(seconds), 86400)
    hours = rem // 3600
    if days:
        return Msg("{days} d {hours} h left", days=days, hours=hours)
    return Msg("{hours} h {minutes} min left", hours=hours, minutes=(rem % 3600) // 60)


def _of(n: int, limit: int | None) -> str:
    return f"{n}/{limit}" if limit is not None else str(n)


_WIDTH = {"count": 5, "result": 7, "minimum": 6, "sheets": 8, "confirmed": 5, "funding": 10}


def _status_cell(col: dict[str, Any], row: dict[str, Any]) -> str:
    """One cell of the status table, as wide as its column's header."""
    v, kind = row[col["id"]], col["kind"]
    if kind == "result":
        return f"{_of(v, row[col['id'] + '_quota']):>7}"
    if kind == "minimum":
        return f"{v:>3}/{row[col['id'] + '_minimum']:<2}"
    if kind == "sheets":
        return f"{v:>4}/{row[col['id'] + '_needed']:<3}"
    if kind == "confirmed":
        return f"{'✓' if v else '·':>5}"
    if kind == "funding":
        return f"{v:>10,}"
    return f"{v:>5}"


@cycle.command("status")
@json_option
@click.argument("cycle_id", required=False)
@handled
def cycle_status(cycle_id: str | None) -> None:
    """Current stage, window and time left, per-city progress against quotas and minimums."""
    engine = cfg().engine()
    s = engine.status(cfg().user, cycle_id)

    def text() -> None:
        click.echo(f"{s['cycle']}  {s['program_name']}")
        # the window in the reader's language (the status keeps it in English for scripts)
        program = program_of_cycle(s["cycle"])
        window = program.window(s["stage"], engine.get_cycle(s["cycle"]).year)
        heading = Msg(
            "Stage {number}/{stages}: {stage} — window {window} ({left})",
            number=s["stage_number"],
            stages=s["stages"],
            stage=Text(f"{s['stage']} {s['stage_name']}", s["stage_name"]),
            window=window.described() if window is not None else s["window"],
            left=_duration(s["seconds_left"]),
        )
        click.echo(heading.render())
        if s["list"]:
            status = LIST_STATUS.get(s["list"]["status"], s["list"]["status"])
            click.echo(Msg("List: version {version} {status}", version=s["list"]["version"], status=status).render())
        columns = s["columns"]
        city_heading = Msg("city").render()
        click.echo(f"{city_heading:<10}" + "".join(f"{col['zh']:>{_WIDTH[col['kind']]}}" for col in columns))
        for c in s["cities"]:
            city = Text(c["city"], c["name"]).render()
            click.echo(f"{city:<10}" + "".join(_status_cell(col, c) for col in columns))
        funding = next((col for col in columns if col["kind"] == "funding"), None)
        funded = [c for c in s["cities"] if funding and c[funding["id"]]]
        if funding and funded:
            amounts = Joined([f"{c['name']} ¥{c[funding['id']]:,}" for c in funded], ", ")
            label = Text(funding["en"], funding["zh"])
            click.echo(Msg("{label}: {amounts}", label=label, amounts=amounts).render())
        if s.get("program_changed"):
            click.echo(Msg("Note: {note}", note=s["program_changed"]).render())
        for o in s.get("overrides", ()):
            click.echo(_override_line(o, s["cycle"]).render())
        if s.get("open_appeals"):
            shown = Joined([_appeal_item(a, s["cycle"]) for a in s["open_appeals"]], ", ")
            click.echo(Msg("Open appeals: {appeals}", appeals=shown).render())
        if s.get("correction"):
            c = s["correction"]
            reopened = Msg(
                "List reopened by appeals {appeals} (was version {list}): "
                "the lead proposes a new version, all parties confirm it, then it is published",
                appeals=Joined(c["appeals"], ", "),
                list=c["list"],
            )
            click.echo(reopened.render())
        for note in s.get("closing_overridden", ()):
            click.echo(Msg("  overridden: {note}", note=note).render())
        if s["can_close"]:
            click.echo(Msg("Closing rules hold: the lead may advance.").render())
        else:
            click.echo(Msg("Before this stage can close:").render())
            for r in s["closing_rules"]:
                click.echo(f"  {r}")

    out(s, text)


def _override_line(o: dict[str, Any], cycle_id: str) -> Msg:
    """An override in force, with the rule by its name and the parties by theirs."""
    from policies.base import RULE_NAMES

    scope: Any
    if o.get("project") is not None:
        scope = Msg("project {id}", id=o["project"])
    elif o.get("city"):
        scope = party_words(o["city"], cycle_id)
    else:
        scope = Msg("every party")
    return Msg(
        "Override {id}: {rule} lifted for {scope} by {by} «{reason}»",
        id=o["id"],
        rule=Text(o["rule"], RULE_NAMES.get(o["rule"], o["rule"])),
        scope=scope,
        by=o["by"],
        reason=o["reason"],
    )


def _appeal_item(a: dict[str, Any], cycle_id: str) -> Msg:
    city = party_words(a["city"], cycle_id)
    return Msg("{appeal} (project {project}, {city})", appeal=a["appeal"], project=a["project"], city=city)


@cycle.command("advance")
@click.argument("cycle_id", required=False)
@click.option("--dry-run", is_flag=True, help="Only list what would stop the stage from closing.")
@handled
def cycle_advance(cycle_id: str | None, dry_run: bool) -> None:
    """Close the current stage and open the next (lead only)."""
    r = cfg().engine().advance(cfg().user, cycle_id, dry_run)
    if dry_run:
        if r.rejections:
            click.echo(Msg("Stage '{stage}' cannot close yet:", stage=stage_words(r.from_stage, r.cycle.id)).render())
            for rej in r.rejections:
                click.echo(f"  {rej}")
            sys.exit(3)
        said = Msg(
            "Stage '{stage}' can close; next: {next}",
            stage=stage_words(r.from_stage, r.cycle.id),
            next=stage_words(r.to_stage, r.cycle.id),
        )
        click.echo(said.render())
    else:
        said = Msg(
            "Closed '{stage}'; cycle {cycle} is now in stage '{next}'",
            stage=stage_words(r.from_stage, r.cycle.id),
            cycle=r.cycle.id,
            next=stage_words(r.to_stage, r.cycle.id),
        )
        click.echo(said.render())


@cycle.command("list")
@json_option
@handled
def cycle_list() -> None:
    """List cycles."""
    cycles = cfg().engine().cycles()

    def text() -> None:
        for c in cycles:
            program = program_of_cycle(c.id)
            row = Msg(
                "{id:<12} {program:<24} {year} {stage}",
                id=c.id,
                program=Text(c.program_id, program.name if program is not None else c.program_id),
                year=c.year,
                stage=stage_words(c.stage, c.id),
            )
            click.echo(row.render())

    out(cycles, text)


@cycle.command("history")
@json_option
@click.argument("cycle_id", required=False)
@handled
def cycle_history(cycle_id: str | None) -> None:
    """The cycle's whole audit trail (lead only)."""
    entries = cfg().engine().history(cfg().user, cycle_id)

    def text() -> None:
        for e in entries:
            print_audit(e)

    out(entries, text)
