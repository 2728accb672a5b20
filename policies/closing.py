"""Closing rules: what must hold before a stage may close (and the list be proposed or published)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

from i18n import Joined, Msg, Text
from policies.base import GuardContext, Rejection, policy

# a time zone as the source documents name it
ZONE_NAMES = {"Asia/Shanghai": "北京时间"}


def zone(name: str) -> Text:
    """A time zone as a message names it: its id in English, 北京时间 in Chinese."""
    return Text(name, ZONE_NAMES.get(name, name))


@policy("window_ended", zh="阶段时间已届满")
def window_ended(ctx: GuardContext) -> Iterator[Rejection]:
    """The stage's window has ended (for stages that must stay open for their whole window)."""
    if ctx.stage_closes is not None and ctx.now < ctx.stage_closes:
        left = ctx.stage_closes - ctx.now
        hours = int(left.total_seconds() // 3600)
        until = ctx.stage_closes.astimezone(ZoneInfo(ctx.timezone)).strftime("%Y-%m-%d %H:%M")
        yield Rejection(
            "window_ended",
            Msg(
                "the stage must stay open for its whole window, until {until} {zone} ({days} d {hours} h left)",
                until=until,
                zone=zone(ctx.timezone),
                days=hours // 24,
                hours=hours % 24,
            ),
        )


@policy("all_submissions_decided", counts=True, zh="申报项目均已确认入库或不予入库")
def all_submissions_decided(ctx: GuardContext) -> Iterator[Rejection]:
    """Each city has confirmed or rejected every submission."""
    for party in ctx.parties:
        waiting = ctx.counts.count(party.id, "submitted")
        if waiting:
            yield Rejection(
                "all_submissions_decided",
                Msg(
                    "{party} has {count} submissions neither accepted nor rejected",
                    party=party.words,
                    count=waiting,
                )
                if waiting != 1
                else Msg(
                    "{party} has {count} submission neither accepted nor rejected",
                    party=party.words,
                    count=waiting,
                ),
                (party.id,),
            )


@policy("all_library_projects_reviewed", counts=True, zh="项目库内项目均已完成市（区）级评审")
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
                Msg(
                    "{party} has {waiting} of {total} library projects without a municipal result",
                    party=party.words,
                    waiting=waiting,
                    total=total,
                ),
                (party.id,),
            )


@policy("all_sheets_in", counts=True, zh="评分表齐全")
def all_sheets_in(ctx: GuardContext) -> Iterator[Rejection]:
    """Every city has scored every project in the key library (but its own, where a cycle's
    cities are recused from them)."""
    needed = ctx.counts.shortlist
    if needed == 0:
        yield Rejection("all_sheets_in", Msg("the key-project library is empty"))
        return
    for party in ctx.parties:
        done, needed = ctx.counts.sheets_by_city.get(party.id, 0), ctx.counts.sheets_needed(party.id)
        if done < needed:
            yield Rejection(
                "all_sheets_in",
                Msg(
                    "{party} has scored {done} of {needed} key-library projects",
                    party=party.words,
                    done=done,
                    needed=needed,
                ),
                (party.id,),
            )


@policy("all_parties_confirmed", counts=True, zh="九城市组织部门均已确认")
def all_parties_confirmed(ctx: GuardContext) -> Iterator[Rejection]:
    """All parties have confirmed the current version of the proposed list."""
    version = ctx.request.get("list_version")
    if version is None:
        objected = ctx.request.get("objected_version")
        if objected is not None:
            yield Rejection(
                "all_parties_confirmed",
                Msg("list version {version} was objected to; the lead must propose a new version", version=objected),
            )
        else:
            yield Rejection("all_parties_confirmed", Msg("no list has been proposed"))
        return
    missing = [p for p in ctx.parties if p.id not in ctx.counts.confirmations]
    if missing:
        done = len(ctx.parties) - len(missing)
        yield Rejection(
            "all_parties_confirmed",
            Msg(
                "list version {version} has {done} of {total} confirmations; waiting for {missing}",
                version=version,
                done=done,
                total=len(ctx.parties),
                missing=Joined((p.words for p in missing), ", "),
            ),
            tuple(p.id for p in missing),
        )


@policy("boundary_tie_settled", zh="名次分界处并列已处理")
def boundary_tie_settled(ctx: GuardContext) -> Iterator[Rejection]:
    """A tie across a place boundary is shown and must be settled explicitly by the lead."""
    for tie in ctx.request.get("unsettled_ties", ()):
        yield Rejection("boundary_tie_settled", tie)


# a list's categories, as the source documents name them
CATEGORY_NAMES = {"demonstration": "示范项目", "excellent": "优秀项目", "selected": "入选项目", "none": "未入选"}

# the tie the ranking finds at a place boundary (workflow.ranking makes it, the rule above shows it)
TIE = Msg(
    "projects {ids} are tied at {score} across the boundary between {above} (place {place}) and {below}; "
    "settle with --tie-order listing them best first"
).id


def tie(projects: Iterable[object], score: str, above: str, place: int, below: str) -> Msg:
    """The message of ``projects`` tied at ``score`` across the boundary after ``place``, between
    the categories ``above`` and ``below``."""
    return Msg(
        TIE,
        ids=Joined(projects, ", "),
        score=score,
        above=Text(above, CATEGORY_NAMES.get(above, above)),
        place=place,
        below=Text(below, CATEGORY_NAMES.get(below, below)),
    )
