"""`evalflow project`: applications and projects — submit, import, list, show, act on, history."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from commands.common import (
    ID,
    cfg,
    expect_version_option,
    fire_cmd,
    full_report,
    handled,
    json_option,
    out,
    party_words,
    print_audit,
    program_of_cycle,
    progress,
    record_details,
    record_words,
    state_words,
)
from i18n import Msg, Text


@click.group()
def project() -> None:
    """Applications and projects."""


@project.command("submit")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--cycle", "cycle_id", help="Cycle (default: the only open cycle, or the file's 'cycle').")
@handled
def project_submit(file: Path, cycle_id: str | None) -> None:
    """Submit an application (the program's form) from a TOML or JSON file."""
    from workflow.application import read_application

    p = cfg().engine().submit(cfg().user, read_application(file), cycle_id)
    city = party_words(p.city, p.cycle_id)
    said = Msg(
        "Submitted project {id}: {name} ({unit}, {city})", id=p.id, name=p.project_name, unit=p.unit_name, city=city
    )
    click.echo(said.render())


def _project_row(p: Any) -> str:
    """A project as a row of the list: its city and state by id in English, by name in Chinese."""
    program = program_of_cycle(p.cycle_id)
    state = Text(p.state, program.state_name(p.state)) if program is not None else p.state
    row = Msg(
        "{id:>5}  {city:<10} {state:<24} {unit}  《{name}》",
        id=p.id,
        city=party_words(p.city, p.cycle_id),
        state=state,
        unit=p.unit_name,
        name=p.project_name,
    )
    return row.render()


@project.command("list")
@json_option
@click.option("--cycle", "cycle_id")
@click.option("--city")
@click.option("--state")
@handled
def project_list(cycle_id: str | None, city: str | None, state: str | None) -> None:
    """List the projects you may see."""
    items = cfg().engine().projects(cfg().user, cycle_id, city, state)

    def text() -> None:
        for p in items:
            click.echo(_project_row(p))
        click.echo(Msg("{count} projects", count=len(items)).render())

    out(items, text)


@project.command("show")
@json_option
@click.argument("project_id", type=ID)
@handled
def project_show(project_id: int) -> None:
    """Show a project with its application, sheets and history."""
    p, sheets, hist = cfg().engine().project(cfg().user, project_id)

    def text() -> None:
        from zoneinfo import ZoneInfo

        from workflow.form import shown

        program = program_of_cycle(p.cycle_id)
        form = program.form
        app = p.application
        click.echo(Msg("Project {id}: {name}", id=p.id, name=p.project_name).render())
        head = Msg(
            "  {label} {unit} ({city}), 状态 {state}, version {version}",
            label=form.field(form.unit).zh,
            unit=p.unit_name,
            city=party_words(p.city, p.cycle_id),
            state=state_words(p.state, p.cycle_id, strip=True),
            version=p.version,
        )
        click.echo(head.render())
        if p.review_result:
            result = program.results.get(p.review_result, "")
            method = program.review_methods.get(p.review_method, p.review_method)
            click.echo(
                Msg(
                    "  评审结果 {result} ({method})",
                    result=Text(f"{p.review_result} {result}", result or p.review_result),
                    method=Text(str(p.review_method), method),
                ).render()
            )
        for f in form.fields:
            if f.path not in (form.unit, form.title, form.party):
                click.echo(f"  {f.zh}: {shown(f, f.get(app))}")
        if form.group is not None:
            g = form.group
            for m in app.get(g.key, []):
                marks = " ".join(flag.zh for flag in g.flags if m.get(flag.name))
                values = " ".join(shown(f, m.get(f.name)) for f in g.fields)
                click.echo(f"  {g.zh}: {values}" + (f" ({marks})" if marks else ""))
        if program.review_criteria_field:
            kind = form.field(program.review_criteria_field).get(app)
            for n, item in enumerate(program.review_criteria.get(kind, ()), start=1):
                click.echo(Msg("  评审内容 {n}. {item}", n=n, item=item).render())
        for key, entries in p.record.items():  # the long-lived record: decisions, grades, orders, progress
            for e in entries:
                at = datetime.fromisoformat(e["at"]).astimezone(ZoneInfo(program.timezone))
                line = Msg(
                    "  {key} {at} {by}: {details}",
                    key=record_words(key, program),
                    at=f"{at:%Y-%m-%d %H:%M}",
                    by=e.get("by", ""),
                    details=record_details(e, program, key),
                )
                click.echo(line.render().rstrip(": ："))
        for s in sheets:
            who = s.scorer if program.sheets_per == "scorer" else s.city
            line = Msg(
                "  评分 {who} total {total} {scores} {replaced}",
                who=f"{who:<10}",
                total=f"{s.total:>3}",
                scores=s.scores,
                replaced="" if s.current else Msg("(replaced)"),
            )
            click.echo(line.render())
        click.echo(Msg("  history: {count} entries (evalflow project history {id})", count=len(hist), id=p.id).render())

    out({"project": p, "sheets": sheets, "history": hist}, text)


@project.command("history")
@json_option
@click.argument("project_id", type=ID)
@handled
def project_history(project_id: int) -> None:
    """Every change of a project, oldest first."""
    _, _, hist = cfg().engine().project(cfg().user, project_id)

    def text() -> None:
        for e in hist:
            print_audit(e)

    out(hist, text)


@project.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--cycle", "cycle_id", help="Cycle (default: the only open cycle).")
@click.option("--dry-run", is_flag=True, help="Check every row; import nothing.")
@handled
def project_import(file: Path, cycle_id: str | None, dry_run: bool) -> None:
    """Import many applications (the program's form) from XLSX, CSV or JSON, all or nothing.

    \b
    XLSX: sheet 申报表 (one row per application, keyed by 申报序号) and sheet
    团队成员 (one row per member, with the 申报序号 of its application); see
    `evalflow template application`. CSV (UTF-8, GB18030/GBK): the two joined,
    one row per team member, the application's fields on its first row.
    JSON: a list of applications. Importing the same file again adds nothing.
    """
    from sheets.applications import read_applications

    engine = cfg().engine()
    cycle = engine.get_cycle(cycle_id)
    with full_report(file):
        program = engine.program_of(cycle)
        items = read_applications(file, program.form, program.parties)
        checking = Msg("checking {count} applications", count=len(items)).render()
        with progress(len(items), checking) as update:
            result = engine.submit_batch(cfg().user, items, cycle.id, dry_run, update)
    new = len(result.created)
    same = Msg("; {count} already imported, left as they are", count=len(result.unchanged)) if result.unchanged else ""
    if dry_run:
        checked = Msg(
            "Checked {count} applications: {new} would be imported{same}. Nothing was imported (--dry-run).",
            count=len(items),
            new=new,
            same=same,
        )
        click.echo(checked.render())
        return
    ids = [p.id for p in result.created]
    where = Msg(": projects {first}–{last}", first=ids[0], last=ids[-1]) if ids else ""
    imported = Msg(
        "Imported {new} applications into {cycle}{where}{same}", new=new, cycle=cycle.id, where=where, same=same
    )
    click.echo(imported.render())


@project.command("act")
@click.argument("trigger")
@click.argument("project_ids", type=ID, nargs=-1, required=True)
@click.option(
    "-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="A parameter of the action (repeatable)."
)
@click.option("--reason", default="", help="Why (kept in the history).")
@handled
def project_act(trigger: str, project_ids: tuple[int, ...], params: tuple[str, ...], reason: str) -> None:
    """Take any action of the program on projects, e.g. `project act decide 3 -p result=approve`,
    `project act order_rectification 3 -p deadline=2029-03-31 --reason …`, `project act assess 3 -p
    考核等级=合格`. The actions of a program, their parameters and choices are listed by `program
    show`; a parameter or a choice may be named by its Chinese label."""
    from workflow.common import FIRE_ARGUMENTS

    request: dict[str, Any] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(Msg("--param {item}: expected KEY=VALUE", item=repr(item)).render())
        if key.strip() in FIRE_ARGUMENTS or key.strip() == "verb":
            raise click.UsageError(
                Msg(
                    "--param {item}: {key} is not a parameter of an action (see --reason)",
                    item=repr(item),
                    key=key.strip(),
                ).render()
            )
        request[key.strip()] = value.strip()  # typed by the action's declaration
    fire_cmd(trigger, project_ids, reason=reason, verb=f"{trigger}:", **request)


@project.command("accept")
@click.argument("project_id", type=ID)
@click.option("--opinion", default="", help="The accepting party's opinion (recorded on the application).")
@expect_version_option
@handled
def project_accept(project_id: int, opinion: str, expected_version: int | None) -> None:
    """Confirm an eligible application into the city project library (checks the four conditions)."""
    fire_cmd("accept", project_id, verb="Accepted", opinion=opinion, expected_version=expected_version)


@project.command("reject")
@click.argument("project_id", type=ID)
@click.option("--reason", required=True, help="Why the application is not accepted.")
@expect_version_option
@handled
def project_reject(project_id: int, reason: str, expected_version: int | None) -> None:
    """Reject an application (with a reason)."""
    fire_cmd("reject", project_id, reason=reason, verb="Rejected", expected_version=expected_version)
