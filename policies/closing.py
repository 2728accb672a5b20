"""Closing rules: what must hold before a stage may close (and the list be proposed or published)."""

from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo

from policies.base import GuardContext, Rejection, policy


@policy("window_ended")
def window_ended(ctx: GuardContext) -> Iterator[Rejection]:
    """The stage's window has ended (for stages that must stay open for their whole window)."""
    if ctx.stage_closes is not None and ctx.now < ctx.stage_closes:
        left = ctx.stage_closes - ctx.now
        hours = int(left.total_seconds() // 3600)
        until = ctx.stage_closes.astimezone(ZoneInfo(ctx.timezone)).strftime("%Y-%m-%d %H:%M")
        yield Rejection(
            "window_ended",
            f"the stage must stay open for its whole window, until {until} {ctx.timezone} "
            f"({hours // 24} d {hours % 24} h left)",
        )


@policy("all_submissions_decided", counts=True)
def all_submissions_decided(ctx: GuardContext) -> Iterator[Rejection]:
    """Each city has confirmed or rejected every submission."""
    for party in ctx.parties:
        waiting = ctx.counts.count(party.id, "submitted")
        if waiting:
            yield Rejection(
                "all_submissions_decided",
                f"{party.id} has {waiting} submission{'s' if waiting != 1 else ''} neither accepted nor rejected",
                (party.id,),
            )


@policy("all_library_projects_reviewed", counts=True)
def all_library_projects_reviewed(ctx: GuardContext) -> Iterator[Rejection]:
    """Every project in a city's library has a municipal result."""
    for party in ctx.parties:
        waiting = ctx.counts.count(party.id, "in_library")
        if waiting:
            total = waiting + ctx.counts.count(
                party.id, "municipal_demonstration", "municipal_excellent", "municipal_none", "recommended"
            )
            yield Rejection(
                "all_library_projects_reviewed",
                f"{party.id} has {waiting} of {total} library projects without a municipal result",
                (party.id,),
            )


@policy("all_sheets_in", counts=True)
def all_sheets_in(ctx: GuardContext) -> Iterator[Rejection]:
    """Every city has scored every project in the key library."""
    needed = ctx.counts.shortlist
    if needed == 0:
        yield Rejection("all_sheets_in", "the key-project library is empty")
        return
    for party in ctx.parties:
        done = ctx.counts.sheets_by_city.get(party.id, 0)
        if done < needed:
            yield Rejection(
                "all_sheets_in", f"{party.id} has scored {done} of {needed} key-library projects", (party.id,)
            )


@policy("all_parties_confirmed", counts=True)
def all_parties_confirmed(ctx: GuardContext) -> Iterator[Rejection]:
    """All parties have confirmed the current version of the proposed list."""
    version = ctx.request.get("list_version")
    if version is None:
        objected = ctx.request.get("objected_version")
        if objected is not None:
            yield Rejection(
                "all_parties_confirmed",
                f"list version {objected} was objected to; the lead must propose a new version",
            )
        else:
            yield Rejection("all_parties_confirmed", "no list has been proposed")
        return
    missing = [p.id for p in ctx.parties if p.id not in ctx.counts.confirmations]
    if missing:
        done = len(ctx.parties) - len(missing)
        yield Rejection(
            "all_parties_confirmed",
            f"list version {version} has {done} of {len(ctx.parties)} confirmations; waiting for {', '.join(missing)}",
            tuple(missing),
        )


@policy("boundary_tie_settled")
def boundary_tie_settled(ctx: GuardContext) -> Iterator[Rejection]:
    """A tie across a place boundary is shown and must be settled explicitly by the lead."""
    for tie in ctx.request.get("unsettled_ties", ()):
        yield Rejection("boundary_tie_settled", tie)
