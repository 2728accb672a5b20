"""`evalflow cycle`: open a program's cycle, show its status, advance it, list it, its history."""

from __future__ import annotations

import sys
from typing import Any

import click

from commands.common import cfg, handled, json_option, out, print_audit


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
            raise click.BadParameter(f"{v!r}: use CITY:RESULT=N,RESULT=M", param_hint="--quota") from None
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
                (f"--{c.id.replace('_', '-')}-places N", f"{program_id}: places of {c.name} (as --places {c.id}=N).")
            )
    records.append(("--CATEGORY-places N", "Places of any list category of the program (as --places CATEGORY=N)."))
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
        with formatter.section("Options"):
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
@click.pass_context
@handled
def cycle_open(
    ctx: click.Context, program_id: str, year: int, place_args: tuple[str, ...], quota: tuple[str, ...]
) -> None:
    """Open a cycle of a program for a year (lead only)."""
    places = _category_places(ctx)  # (--CATEGORY-places N)
    for arg in place_args:
        category, _, number = arg.partition("=")
        if not number.strip().isdigit():
            raise click.UsageError(f"--places {arg!r}: expected CATEGORY=N with N a whole number")
        places[category.strip()] = int(number)
    c = cfg().engine().open_cycle(cfg().user, program_id, year, places, _parse_quota(quota))
    click.echo(f"Opened cycle {c.id} ({program_id} v{c.program_version}); stage {c.stage}")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "no closing date"
    if seconds <= 0:
        return "window closed"
    days, rem = divmod(int(seconds), 86400)
    hours = rem // 3600
    return f"{days} d {hours} h left" if days else f"{hours} h {(rem % 3600) // 60} min left"


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
    s = cfg().engine().status(cfg().user, cycle_id)

    def text() -> None:
        click.echo(f"{s['cycle']}  {s['program_name']}")
        click.echo(
            f"Stage {s['stage_number']}/{s['stages']}: {s['stage']} {s['stage_name']} — window {s['window']} "
            f"({_duration(s['seconds_left'])})"
        )
        if s["list"]:
            click.echo(f"List: version {s['list']['version']} {s['list']['status']}")
        columns = s["columns"]
        click.echo(f"{'city':<10}" + "".join(f"{col['zh']:>{_WIDTH[col['kind']]}}" for col in columns))
        for c in s["cities"]:
            click.echo(f"{c['city']:<10}" + "".join(_status_cell(col, c) for col in columns))
        funding = next((col for col in columns if col["kind"] == "funding"), None)
        funded = [c for c in s["cities"] if funding and c[funding["id"]]]
        if funding and funded:
            click.echo(f"{funding['en']}: " + ", ".join(f"{c['name']} ¥{c[funding['id']]:,}" for c in funded))
        if s.get("program_changed"):
            click.echo(f"Note: {s['program_changed']}")
        for o in s.get("overrides", ()):
            scope = f"project {o['project']}" if o.get("project") is not None else (o.get("city") or "every party")
            click.echo(f"Override {o['id']}: {o['rule']} lifted for {scope} by {o['by']} «{o['reason']}»")
        if s.get("open_appeals"):
            shown = ", ".join(f"{a['appeal']} (project {a['project']}, {a['city']})" for a in s["open_appeals"])
            click.echo(f"Open appeals: {shown}")
        if s.get("correction"):
            c = s["correction"]
            click.echo(
                f"List reopened by appeals {', '.join(map(str, c['appeals']))} (was version {c['list']}): "
                "the lead proposes a new version, all parties confirm it, then it is published"
            )
        for note in s.get("closing_overridden", ()):
            click.echo(f"  overridden: {note}")
        if s["can_close"]:
            click.echo("Closing rules hold: the lead may advance.")
        else:
            click.echo("Before this stage can close:")
            for r in s["closing_rules"]:
                click.echo(f"  {r}")

    out(s, text)


@cycle.command("advance")
@click.argument("cycle_id", required=False)
@click.option("--dry-run", is_flag=True, help="Only list what would stop the stage from closing.")
@handled
def cycle_advance(cycle_id: str | None, dry_run: bool) -> None:
    """Close the current stage and open the next (lead only)."""
    r = cfg().engine().advance(cfg().user, cycle_id, dry_run)
    if dry_run:
        if r.rejections:
            click.echo(f"Stage '{r.from_stage}' cannot close yet:")
            for rej in r.rejections:
                click.echo(f"  {rej}")
            sys.exit(3)
        click.echo(f"Stage '{r.from_stage}' can close; next: {r.to_stage}")
    else:
        click.echo(f"Closed '{r.from_stage}'; cycle {r.cycle.id} is now in stage '{r.to_stage}'")


@cycle.command("list")
@json_option
@handled
def cycle_list() -> None:
    """List cycles."""
    cycles = cfg().engine().cycles()

    def text() -> None:
        for c in cycles:
            click.echo(f"{c.id:<12} {c.program_id:<24} {c.year} {c.stage}")

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
