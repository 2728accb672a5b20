"""Quotas, minimums and the score sheet: the counting rules of a cycle."""

from __future__ import annotations

from collections.abc import Iterator

from i18n import Joined, Msg, Text
from policies.base import OR, Criterion, GuardContext, Rejection, policy

# the municipal results a city names, as the source documents call them (市（区）级示范、优秀项目)
RESULT_NAMES = {"demonstration": "示范", "excellent": "优秀", "none": "未入选"}


def _result(result: str) -> Text:
    return Text(result, RESULT_NAMES.get(result, result))


@policy("municipal_quota", counts=True, zh="市（区）级示范、优秀项目名额")
def municipal_quota(ctx: GuardContext) -> Iterator[Rejection]:
    """A city names at most its quota of municipal demonstration / excellent projects."""
    assert ctx.project is not None
    result = ctx.request.get("result")
    if not result:
        return
    city = ctx.project.city
    limit = ctx.quotas.get(city, {}).get(result)
    if limit is None:
        return
    used = ctx.counts.results.get((city, result), 0)
    if ctx.project.review_result == result:
        used -= 1  # re-reviewing a project to the result it already has takes no new place
    if used >= limit:
        yield Rejection(
            "municipal_quota",
            Msg(
                "{party} has {used} of {limit} municipal {result} projects; project {id} cannot be named {result}",
                # (English has always named the city both ways: NAME (id))
                party=Text(f"{ctx.party_name(city)} ({city})", ctx.party_name(city)),
                used=used,
                limit=limit,
                result=_result(result),
                id=ctx.project.id,
            ),
        )


@policy("recommend_own_demonstration", zh="从本市示范项目中推荐")
def recommend_own_demonstration(ctx: GuardContext) -> Iterator[Rejection]:
    """Only municipal demonstration projects may be recommended (own city: see permissions)."""
    assert ctx.project is not None
    if ctx.project.review_result != "demonstration":
        result = ctx.project.review_result
        yield Rejection(
            "recommend_own_demonstration",
            Msg(
                "project {id} is not a municipal demonstration project ({shown})",
                id=ctx.project.id,
                shown=_result(result) if result else Msg("no municipal result"),
            ),
        )


@policy("min_recommendations", counts=True, zh="推荐不少于5个")
def min_recommendations(ctx: GuardContext) -> Iterator[Rejection]:
    """Every city recommends at least the minimum (5) of its demonstration projects."""
    minimum = int(ctx.params.get("minimum", 5))
    for party in ctx.parties:
        made = ctx.counts.count(party.id, "recommended")
        if made < minimum:
            yield Rejection(
                "min_recommendations",
                Msg(
                    "{party} has {made} of the {minimum} required recommendations",
                    party=party.words,
                    made=made,
                    minimum=minimum,
                ),
                (party.id,),
            )


@policy("score_in_bands", zh="按评分标准档次评分")
def score_in_bands(ctx: GuardContext) -> Iterator[Rejection]:
    """Every criterion is scored, as a whole number inside one of its bands."""
    scores = ctx.request.get("scores") or {}
    matched = 0
    for criterion in ctx.criteria:
        value = scores.get(criterion.id)
        if value is None:
            yield Rejection("score_in_bands", Msg("{criterion} is not scored", criterion=_criterion(criterion)))
            continue
        matched += 1
        whole = type(value) is int or isinstance(value, int) and not isinstance(value, bool)
        if whole and criterion.band_for(value) is not None:
            continue  # the usual case, kept cheap: a batch checks thousands of sheets
        bands = Joined((f"{b.min}-{b.max}" for b in criterion.bands), OR)
        if not whole:
            yield Rejection(
                "score_in_bands",
                Msg(
                    "{criterion} = {value!r} is not a whole number ({bands})",
                    criterion=_criterion(criterion),
                    value=value,
                    bands=bands,
                ),
            )
        else:
            yield Rejection(
                "score_in_bands",
                Msg(
                    "{criterion} = {value} is outside every band of {criterion} (max {max}; bands {bands})",
                    criterion=_criterion(criterion),
                    value=value,
                    max=criterion.max,
                    bands=bands,
                ),
            )
    if len(scores) == matched:
        return  # every score named a criterion: nothing is unknown
    unknown = sorted(set(scores) - {c.id for c in ctx.criteria})
    if unknown:
        yield Rejection("score_in_bands", Msg("unknown criteria: {names}", names=Joined(unknown, ", ")))


def _criterion(criterion: Criterion) -> Text:
    """A criterion as a message names it: its id in English, its (short) name in Chinese."""
    return Text(criterion.id, criterion.short or criterion.name)
