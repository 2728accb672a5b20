"""Rules of a committee review: every member has voted; the public notice has run its course."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from i18n import Msg
from policies.base import GuardContext, Rejection, policy


@policy("all_votes_in", counts=True, zh="评委会委员均已投票")
def all_votes_in(ctx: GuardContext) -> Iterator[Rejection]:
    """Every committee member (a user with the scorer role) has voted on every project under review."""
    needed = ctx.counts.shortlist
    if needed == 0:
        yield Rejection("all_votes_in", Msg("no project is under review"))
        return
    if not ctx.counts.scorers:
        yield Rejection("all_votes_in", Msg("no committee member is registered (add users with the scorer role)"))
        return
    for member in ctx.counts.scorers:
        done, needed = ctx.counts.sheets_by_scorer.get(member, 0), ctx.counts.votes_of_member_needed(member)
        if done < needed:
            yield Rejection(
                "all_votes_in",
                Msg(
                    "committee member {member} has voted on {done} of {needed} projects",
                    member=member,
                    done=done,
                    needed=needed,
                ),
            )


@policy("notice_over", zh="公示期已满")
def notice_over(ctx: GuardContext) -> Iterator[Rejection]:
    """The list has been on public notice for the program's number of days (``days``, default 3)."""
    days = int(ctx.params.get("days", 3))
    published = ctx.request.get("published_at")
    if not published:
        yield Rejection("notice_over", Msg("the list has not been put on public notice yet"))
        return
    ends = datetime.fromisoformat(published) + timedelta(days=days)
    if ctx.now < ends:
        local = ends.astimezone(ZoneInfo(ctx.timezone)).strftime("%Y-%m-%d %H:%M")
        yield Rejection(
            "notice_over",
            Msg("the {days}-day public notice runs until {until}; objections may still come", days=days, until=local),
        )
