"""Quotas, minimums and the score sheet: the counting rules of a cycle."""

from __future__ import annotations

from collections.abc import Iterator

from policies.base import GuardContext, Rejection, policy


@policy("municipal_quota", counts=True)
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
            f"{ctx.party_name(city)} ({city}) has {used} of {limit} municipal {result} projects; "
            f"project {ctx.project.id} cannot be named {result}",
        )


@policy("recommend_own_demonstration")
def recommend_own_demonstration(ctx: GuardContext) -> Iterator[Rejection]:
    """Only municipal demonstration projects may be recommended (own city: see permissions)."""
    assert ctx.project is not None
    if ctx.project.review_result != "demonstration":
        shown = ctx.project.review_result or "no municipal result"
        yield Rejection(
            "recommend_own_demonstration",
            f"project {ctx.project.id} is not a municipal demonstration project ({shown})",
        )


@policy("min_recommendations", counts=True)
def min_recommendations(ctx: GuardContext) -> Iterator[Rejection]:
    """Every city recommends at least the minimum (5) of its demonstration projects."""
    minimum = int(ctx.params.get("minimum", 5))
    for party in ctx.parties:
        made = ctx.counts.count(party.id, "recommended")
        if made < minimum:
            yield Rejection(
                "min_recommendations",
                f"{party.id} has {made} of the {minimum} required recommendations",
                (party.id,),
            )


@policy("score_in_bands")
def score_in_bands(ctx: GuardContext) -> Iterator[Rejection]:
    """Every criterion is scored, as a whole number inside one of its bands."""
    scores = ctx.request.get("scores") or {}
    matched = 0
    for criterion in ctx.criteria:
        value = scores.get(criterion.id)
        if value is None:
            yield Rejection("score_in_bands", f"{criterion.id} is not scored")
            continue
        matched += 1
        whole = type(value) is int or isinstance(value, int) and not isinstance(value, bool)
        if whole and criterion.band_for(value) is not None:
            continue  # the usual case, kept cheap: a batch checks thousands of sheets
        bands = " or ".join(f"{b.min}-{b.max}" for b in criterion.bands)
        if not whole:
            yield Rejection("score_in_bands", f"{criterion.id} = {value!r} is not a whole number ({bands})")
        else:
            yield Rejection(
                "score_in_bands",
                f"{criterion.id} = {value} is outside every band of {criterion.id} "
                f"(max {criterion.max}; bands {bands})",
            )
    if len(scores) == matched:
        return  # every score named a criterion: nothing is unknown
    unknown = sorted(set(scores) - {c.id for c in ctx.criteria})
    if unknown:
        yield Rejection("score_in_bands", f"unknown criteria: {', '.join(unknown)}")
