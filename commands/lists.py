"""`evalflow list` and `evalflow publish`: the proposed list, its versions and confirmations, its publication."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from commands.common import cfg, handled, json_option, local, out


@click.group("list")
def list_group() -> None:
    """The proposed list: propose, show, confirm, object."""


def _print_list(lst: Any, confirmations: list[Any] | None = None, previous: Any = None) -> None:
    from workflow.ranking import list_changes
    from workflow.story import tell_changes

    click.echo(f"List version {lst.number} ({lst.status}, {lst.method}), proposed by {lst.proposed_by} {local(lst.at)}")
    for e in lst.entries:
        click.echo(
            f"  {e.rank:>3}. {e.score:>9}  {e.category:<13} #{e.project_id:<5} {e.city:<10} "
            f"{e.unit_name}  《{e.project_name}》"
        )
    if previous is not None:
        moved: list[Mapping[str, Any]] = [*list_changes(previous.entries, lst.entries)]
        changes = tell_changes(moved)
        click.echo(f"  changes from version {previous.number}: " + ("none" if not changes else str(len(changes))))
        for line in changes:
            click.echo(f"    {line}")
    if confirmations is not None:
        done = [c.city for c in confirmations if c.decision == "confirm"]
        click.echo(f"  confirmed by {len(done)}: {', '.join(done) or '—'}")
        for c in confirmations:
            if c.decision == "object":
                click.echo(f"  objection by {c.city} ({c.user}): {c.reason}")


@list_group.command("propose")
@click.argument("cycle_id", required=False)
@click.option("--tie-order", default="", help="Settle a boundary tie: project ids, best first, comma-separated.")
@handled
def list_propose(cycle_id: str | None, tie_order: str) -> None:
    """Aggregate the score sheets into a new proposed list version (lead)."""
    try:
        order = [int(x) for x in tie_order.split(",") if x.strip()]
    except ValueError:
        raise click.BadParameter("use project ids separated by commas", param_hint="--tie-order") from None
    engine = cfg().engine()
    lst = engine.propose_list(cfg().user, cycle_id, order)
    _, versions, _ = engine.list_versions(cfg().user, lst.cycle_id)
    _print_list(lst, previous=_previous(versions, lst))


def _previous(versions: list[Any], lst: Any) -> Any:
    earlier = [v for v in versions if v.number < lst.number]
    return earlier[-1] if earlier else None


@list_group.command("show")
@json_option
@click.argument("cycle_id", required=False)
@click.option("--all", "all_versions", is_flag=True, help="Show every version, not only the latest.")
@handled
def list_show(cycle_id: str | None, all_versions: bool) -> None:
    """Show the proposed list and its confirmations."""
    cyc, versions, confs = cfg().engine().list_versions(cfg().user, cycle_id)
    shown = versions if all_versions else versions[-1:]
    if not shown and not cfg().json:
        click.echo(f"No list has been proposed for {cyc.id} yet.")
        return
    from workflow.ranking import list_changes

    def text() -> None:
        for v in shown:
            _print_list(v, confs[v.id], _previous(versions, v))

    out(
        [
            {
                "list": v,
                "confirmations": confs[v.id],
                "changes": list_changes(_previous(versions, v).entries, v.entries) if _previous(versions, v) else [],
            }
            for v in shown
        ],
        text,
    )


@list_group.command("confirm")
@click.argument("cycle_id", required=False)
@handled
def list_confirm(cycle_id: str | None) -> None:
    """Confirm the current proposed list for your city."""
    lst = cfg().engine().confirm_list(cfg().user, cycle_id, "confirm")
    click.echo(f"Confirmed list version {lst.number}")


@list_group.command("object")
@click.argument("cycle_id", required=False)
@click.option("--reason", required=True)
@handled
def list_object(cycle_id: str | None, reason: str) -> None:
    """Object to the current proposed list; the lead must propose a new version."""
    lst = cfg().engine().confirm_list(cfg().user, cycle_id, "object", reason)
    click.echo(f"Objected to list version {lst.number}: the lead must propose a new version")


@click.command()
@click.argument("cycle_id", required=False)
@handled
def publish(cycle_id: str | None) -> None:
    """Publish the confirmed list as the official list (lead)."""
    engine = cfg().engine()
    lst = engine.publish(cfg().user, cycle_id)
    listed = [e for e in lst.entries if e.category != "none"]
    _, versions, _ = engine.list_versions(cfg().user, lst.cycle_id)
    corrected = [v for v in versions if v.status == "corrected"]
    if corrected:
        click.echo(f"Published list version {lst.number} correcting version {corrected[-1].number}, because of:")
        for a in engine.publication_appeals(cfg().user, lst.cycle_id, lst.number):
            decided = f" — {a.decision_reason}" if a.decision_reason else ""
            click.echo(f"  appeal {a.id} (project {a.project_id}, {a.city}): {a.reason}{decided}")
    else:
        click.echo(f"Published list version {lst.number}: {len(listed)} projects named")
    _print_list(lst, previous=corrected[-1] if corrected else None)
