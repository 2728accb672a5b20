"""`evalflow appeal`: appeals against a project's result — file, decide, list, show."""

from __future__ import annotations

from typing import Any

import click

from commands.common import cfg, handled, json_option, local, out, state_name


@click.group()
def appeal() -> None:
    """Appeals against a project's result: file, decide (uphold and reopen, or dismiss), list, show."""


def _print_appeal(a: Any, detail: bool = False) -> None:
    decided = ""
    if a.status != "open":
        decided = f" — {a.status} by {a.decided_by} {local(a.decided_at)}"
        if a.reopen_to:
            decided += f", reopened to {a.reopen_to}"
        if a.decision_reason:
            decided += f" «{a.decision_reason}»"
    click.echo(
        f"appeal {a.id:<4} project {a.project_id:<5} {a.city:<10} against {a.against_state} ({a.against_stage}) "
        f"filed by {a.filed_by} {local(a.filed_at)} [{a.status}]{decided}"
    )
    if detail:
        click.echo(f"  reason: {a.reason}")
        if a.list_version:
            click.echo(f"  list version: {a.list_version}")


@appeal.command("file")
@click.argument("project_id", type=int)
@click.option("--reason", required=True, help="What is wrong with the result, and why.")
@handled
def appeal_file(project_id: int, reason: str) -> None:
    """Appeal against a project's current result (its applicant or its city's administrator)."""
    a = cfg().engine().file_appeal(cfg().user, project_id, reason)
    click.echo(
        f"Filed appeal {a.id} against project {a.project_id}'s result '{a.against_state}' "
        f"(decided by whoever made results of '{a.against_stage}')"
    )


@appeal.command("decide")
@click.argument("appeal_id", type=int)
@click.option("--uphold", is_flag=True, help="Uphold the appeal (needs --reopen-to).")
@click.option("--dismiss", is_flag=True, help="Dismiss the appeal (needs --reason).")
@click.option("--reopen-to", "reopen_to", help="The stage to reopen the project to (a stage id of its program).")
@click.option("--reason", default="", help="Why (required to dismiss).")
@handled
def appeal_decide(appeal_id: int, uphold: bool, dismiss: bool, reopen_to: str | None, reason: str) -> None:
    """Decide an appeal, by whoever made the contested result."""
    if uphold == dismiss:
        raise click.UsageError("say either --uphold --reopen-to STAGE or --dismiss --reason TEXT")
    decision = "uphold" if uphold else "dismiss"
    if decision == "dismiss" and reopen_to:
        raise click.UsageError("--reopen-to goes with --uphold, not --dismiss")
    a, p = cfg().engine().decide_appeal(cfg().user, appeal_id, decision, reopen_to, reason)
    if a.status == "upheld":
        click.echo(
            f"Upheld appeal {a.id}: project {p.id} reopened to '{a.reopen_to}', "
            f"now {p.state} {state_name(p.state, p.cycle_id)}"
        )
    else:
        click.echo(f"Dismissed appeal {a.id}: project {p.id} stays {p.state} {state_name(p.state, p.cycle_id)}")


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
        click.echo(f"{len(items)} appeals")

    out(items, text)


@appeal.command("show")
@json_option
@click.argument("appeal_id", type=int)
@handled
def appeal_show(appeal_id: int) -> None:
    """One appeal, with its reason and decision."""
    a, p = cfg().engine().appeal(cfg().user, appeal_id)
    out({"appeal": a, "project": p}, lambda: _print_appeal(a, detail=True))
