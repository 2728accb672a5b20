"""`evalflow appeal`: appeals against a project's result — file, decide, list, show."""

from __future__ import annotations

from typing import Any

import click

from commands.common import (
    ID,
    cfg,
    handled,
    json_option,
    local,
    out,
    party_words,
    program_of_cycle,
    stage_words,
    state_words,
)
from i18n import Msg, Text

# an appeal's status as a reader reads it (its id in English, as scripts read it); "open" is named
# here in both languages, as the catalog's "open" is the verb (开启 a cycle)
_STATUS = {"open": Text("open", "待处理"), "upheld": Msg("upheld"), "dismissed": Msg("dismissed")}


@click.group()
def appeal() -> None:
    """Appeals against a project's result: file, decide (uphold and reopen, or dismiss), list, show."""


def _print_appeal(a: Any, detail: bool = False) -> None:
    status = _STATUS.get(a.status, a.status)
    decided: Any = ""
    if a.status != "open":
        reopened = Msg(", reopened to {stage}", stage=stage_words(a.reopen_to, a.cycle_id)) if a.reopen_to else ""
        why = f" «{a.decision_reason}»" if a.decision_reason else ""
        decided = Msg(
            " — {status} by {by} {at}{reopened}{why}",
            status=status,
            by=a.decided_by,
            at=local(a.decided_at),
            reopened=reopened,
            why=why,
        )
    program = program_of_cycle(a.cycle_id)
    line = Msg(
        "appeal {id} project {project} {city} against {state} ({stage}) filed by {by} {at} [{status}]{decided}",
        id=f"{a.id:<4}",
        project=f"{a.project_id:<5}",
        city=f"{party_words(a.city, a.cycle_id).render():<10}",
        state=Text(a.against_state, program.state_name(a.against_state)),
        stage=stage_words(a.against_stage, a.cycle_id),
        by=a.filed_by,
        at=local(a.filed_at),
        status=status,
        decided=decided,
    )
    click.echo(line.render())
    if detail:
        click.echo(Msg("  reason: {reason}", reason=a.reason).render())
        if a.list_version:
            click.echo(Msg("  list version: {version}", version=a.list_version).render())


@appeal.command("file")
@click.argument("project_id", type=ID)
@click.option("--reason", required=True, help="What is wrong with the result, and why.")
@handled
def appeal_file(project_id: int, reason: str) -> None:
    """Appeal against a project's current result (its applicant or its city's administrator)."""
    a = cfg().engine().file_appeal(cfg().user, project_id, reason)
    program = program_of_cycle(a.cycle_id)
    said = Msg(
        "Filed appeal {id} against project {project}'s result '{state}' (decided by whoever made results of '{stage}')",
        id=a.id,
        project=a.project_id,
        state=Text(a.against_state, program.state_name(a.against_state)),
        stage=stage_words(a.against_stage, a.cycle_id),
    )
    click.echo(said.render())


@appeal.command("decide")
@click.argument("appeal_id", type=ID)
@click.option("--uphold", is_flag=True, help="Uphold the appeal (needs --reopen-to).")
@click.option("--dismiss", is_flag=True, help="Dismiss the appeal (needs --reason).")
@click.option("--reopen-to", "reopen_to", help="The stage to reopen the project to (a stage id of its program).")
@click.option("--reason", default="", help="Why (required to dismiss).")
@handled
def appeal_decide(appeal_id: int, uphold: bool, dismiss: bool, reopen_to: str | None, reason: str) -> None:
    """Decide an appeal, by whoever made the contested result."""
    if uphold == dismiss:
        raise click.UsageError(Msg("say either --uphold --reopen-to STAGE or --dismiss --reason TEXT").render())
    decision = "uphold" if uphold else "dismiss"
    if decision == "dismiss" and reopen_to:
        raise click.UsageError(Msg("--reopen-to goes with --uphold, not --dismiss").render())
    a, p = cfg().engine().decide_appeal(cfg().user, appeal_id, decision, reopen_to, reason)
    if a.status == "upheld":
        said = Msg(
            "Upheld appeal {id}: project {project} reopened to '{stage}', now {state}",
            id=a.id,
            project=p.id,
            stage=stage_words(a.reopen_to, p.cycle_id),
            state=state_words(p.state, p.cycle_id),
        )
    else:
        said = Msg(
            "Dismissed appeal {id}: project {project} stays {state}",
            id=a.id,
            project=p.id,
            state=state_words(p.state, p.cycle_id),
        )
    click.echo(said.render())


@appeal.command("list")
@json_option
@click.option("--cycle", "cycle_id")
@click.option("--status", type=click.Choice(["open", "upheld", "dismissed"]))
@handled
def appeal_list(cycle_id: str | None, status: str | None) -> None:
    """The appeals you may see."""
    _, items = cfg().engine().appeals(cfg().user, cycle_id, status)

    def text() -> None:
        for a in items:
            _print_appeal(a)
        click.echo(Msg("{count} appeals", count=len(items)).render())

    out(items, text)


@appeal.command("show")
@json_option
@click.argument("appeal_id", type=ID)
@handled
def appeal_show(appeal_id: int) -> None:
    """One appeal, with its reason and decision."""
    a, p = cfg().engine().appeal(cfg().user, appeal_id)
    out({"appeal": a, "project": p}, lambda: _print_appeal(a, detail=True))
