"""`evalflow list` and `evalflow publish`: the proposed list, its versions and confirmations, its publication."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from commands.common import ID, LIST_STATUS, cfg, handled, json_option, local, out, parse_places, party_words
from i18n import Joined, Msg


@click.group("list")
def list_group() -> None:
    """The proposed list: propose, show, confirm, object."""


def _print_list(lst: Any, confirmations: list[Any] | None = None, previous: Any = None) -> None:
    from workflow.ranking import list_changes
    from workflow.story import tell_changes

    head = Msg(
        "List version {number} ({status}, {method}), proposed by {by} {at}",
        number=lst.number,
        status=LIST_STATUS.get(str(lst.status), str(lst.status)),
        method=lst.method,
        by=lst.proposed_by,
        at=local(lst.at),
    )
    click.echo(head.render())
    for e in lst.entries:
        click.echo(
            f"  {e.rank:>3}. {e.score:>9}  {e.category:<13} #{e.project_id:<5} {e.city:<10} "
            f"{e.unit_name}  《{e.project_name}》"
        )
    if previous is not None:
        moved: list[Mapping[str, Any]] = [*list_changes(previous.entries, lst.entries)]
        changes = tell_changes(moved)
        count = Msg("none") if not changes else len(changes)
        click.echo(Msg("  changes from version {number}: {count}", number=previous.number, count=count).render())
        for line in changes:
            click.echo(f"    {line}")
    if confirmations is not None:
        done = [c.city for c in confirmations if c.decision == "confirm"]
        who = Joined([party_words(c, lst.cycle_id) for c in done], ", ") if done else "—"
        click.echo(Msg("  confirmed by {count}: {parties}", count=len(done), parties=who).render())
        for c in confirmations:
            if c.decision == "object":
                city = party_words(c.city, lst.cycle_id)
                said = Msg("  objection by {city} ({user}): {reason}", city=city, user=c.user, reason=c.reason)
                if not c.reason:  # (its reasons are the program's read_objection_reasons')
                    said = Msg("  objection by {city} ({user}), its reasons withheld", city=city, user=c.user)
                click.echo(said.render())


@list_group.command("propose")
@click.argument("cycle_id", required=False)
@click.option("--tie-order", default="", help="Settle a boundary tie: project ids, best first, comma-separated.")
@click.option(
    "--dry-run", is_flag=True, help="Show the projects that would change category, and the ties; save nothing."
)
@click.option(
    "--places",
    "place_args",
    multiple=True,
    metavar="CATEGORY=N",
    help="With --dry-run: places to try in place of the cycle's, e.g. CATEGORY=12.",
)
@handled
def list_propose(cycle_id: str | None, tie_order: str, dry_run: bool, place_args: tuple[str, ...]) -> None:
    """Aggregate the score sheets into a new proposed list version (lead); with --dry-run, what
    other places would change, nothing saved."""
    try:
        order = [int(x) for x in tie_order.split(",") if x.strip()]
    except ValueError:
        raise click.BadParameter(
            Msg("use project ids separated by commas").render(), param_hint="--tie-order"
        ) from None
    if place_args and not dry_run:
        said = Msg("--places is tried with --dry-run: a cycle's places are set when it is opened")
        raise click.UsageError(said.render())
    engine = cfg().engine()
    if dry_run:
        _print_what_if(engine.what_if(cfg().user, cycle_id, parse_places(place_args), order))
        return
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
        click.echo(Msg("No list has been proposed for {cycle} yet.", cycle=cyc.id).render())
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
    click.echo(Msg("Confirmed list version {number}", number=lst.number).render())


@list_group.command("object")
@click.argument("cycle_id", required=False)
@click.option("--reason", required=True)
@handled
def list_object(cycle_id: str | None, reason: str) -> None:
    """Object to the current proposed list; the lead must propose a new version."""
    lst = cfg().engine().confirm_list(cfg().user, cycle_id, "object", reason)
    said = Msg("Objected to list version {number}: the lead must propose a new version", number=lst.number)
    click.echo(said.render())


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
        said = Msg(
            "Published list version {number} correcting version {corrected}, because of:",
            number=lst.number,
            corrected=corrected[-1].number,
        )
        click.echo(said.render())
        for a in engine.publication_appeals(cfg().user, lst.cycle_id, lst.number):
            decided = f" — {a.decision_reason}" if a.decision_reason else ""
            line = Msg(
                "  appeal {id} (project {project}, {city}): {reason}{decided}",
                id=a.id,
                project=a.project_id,
                city=party_words(a.city, lst.cycle_id),
                reason=a.reason,
                decided=decided,
            )
            click.echo(line.render())
    else:
        said = Msg("Published list version {number}: {count} projects named", number=lst.number, count=len(listed))
        click.echo(said.render())
    _print_list(lst, previous=corrected[-1] if corrected else None)


def _print_what_if(w: Any) -> None:
    from workflow.engine.explain import places_words as _places_words
    from workflow.ranking import show

    said = Msg(
        "What if the places were {then} (now {now}), cycle {cycle}, from the current sheets; nothing is saved",
        then=_places_words(w.program, w.places_then),
        now=_places_words(w.program, w.places_now),
        cycle=w.cycle.id,
    )
    click.echo(said.render())
    if not w.moves:
        click.echo(Msg("  no project would change category ({count} ranked)", count=w.ranked).render())
    else:
        click.echo(Msg("  {count} projects would change category:", count=len(w.moves)).render())
    for m in w.moves:
        line = Msg(
            "    #{id} {city} 《{name}》 rank {rank}, {score}: {before} → {after}",
            id=m.project_id,
            city=party_words(m.city, w.cycle.id),
            name=m.project_name,
            rank=m.rank,
            score=show(m.score),
            before=w.program.category_words(m.before),
            after=w.program.category_words(m.after),
        )
        click.echo(line.render())
    for tie in w.ties:
        click.echo(Msg("  to settle: {tie}", tie=tie).render())


@list_group.command("explain")
@click.argument("project_id", type=ID)
@handled
def list_explain(project_id: int) -> None:
    """Why a project holds its rank: the sheets counted and left out, its score, rank and
    category, the boundary it sits nearest, its ties and the list version (lead)."""
    from workflow.engine.explain import explanation_lines

    e = cfg().engine().explain_rank(cfg().user, project_id)
    cid = e.cycle.id
    head = Msg(
        "Project {id} 《{name}》 ({unit}, {city}), cycle {cycle}",
        id=project_id,
        name=e.project_name,
        unit=e.unit_name,
        city=party_words(e.city, cid),
        cycle=cid,
    )
    click.echo(head.render())
    for line in explanation_lines(e, lambda status: LIST_STATUS.get(status, status)):
        click.echo(line.render())


@list_group.command("bundle")
@click.option("--cycle", "cycle_id")
@click.option("--out", type=click.Path(dir_okay=False), help="The file to write (default: CYCLE-list-vN.bundle.json).")
@handled
def list_bundle(cycle_id: str | None, out: str | None) -> None:
    """Write the published list as a bundle anyone can check without the database: the list as
    canonical JSON, its publication's audit entry, the checkpoint signed with it and the public
    key. `evalflow verify BUNDLE` checks it."""
    from pathlib import Path

    name, data = cfg().engine().publication_bundle(cfg().user, cycle_id)
    path = Path(out or name)
    path.write_bytes(data)
    click.echo(Msg("Wrote {file} ({size} KB)", file=str(path), size=max(1, len(data) // 1024)).render())
