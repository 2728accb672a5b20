"""Aggregate the parties' score totals into a ranked list split into places.

Scores are kept exact (fractions) so that a tie is a real tie, never a rounding accident. A
tie across a place boundary is reported, and settled only by an explicit order from the lead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from i18n import Joined, Msg, Text
from policies.closing import tie


@dataclass(frozen=True, slots=True)
class Ranked:
    project_id: int
    score: Fraction
    totals: tuple[int, ...]
    category: str = "none"
    rank: int = 0


def aggregate(totals: Sequence[int], method: str = "mean", trim: int = 0) -> Fraction:
    """Mean of the totals, the trimmed mean dropping ``trim`` highest and lowest, or their sum
    (a committee's votes: each sheet's total is 1 for, 0 against)."""
    values = sorted(totals)
    if method == "sum":
        return Fraction(sum(values))
    if method == "trimmed_mean":
        if len(values) <= 2 * trim:
            raise ValueError(f"cannot trim {trim} from each end of {len(values)} totals")
        values = values[trim : len(values) - trim] if trim else values
    elif method != "mean":
        raise ValueError(f"unknown aggregate method {method!r}")
    return Fraction(sum(values), len(values))


def show(score: Fraction) -> str:
    return f"{float(score):.4f}"


def rank(
    totals_by_project: Mapping[int, Sequence[int]],
    places: Sequence[tuple[str, int]],
    method: str = "mean",
    trim: int = 0,
    tie_order: Sequence[int] = (),
) -> tuple[list[Ranked], list[Msg]]:
    """Rank projects and assign categories by ``places`` (e.g. [("gold", 10), ("silver", 20)], best first).

    Returns the ranked list and, for every tie that crosses a boundary and is not fully settled
    by ``tie_order``, a message naming the tied projects and their score.
    """
    scores = {pid: aggregate(t, method, trim) for pid, t in totals_by_project.items()}
    return rank_scores(scores, places, tie_order, totals_by_project)


def rank_scores(
    scores: Mapping[int, Fraction],
    places: Sequence[tuple[str, int]],
    tie_order: Sequence[int] = (),
    totals: Mapping[int, Sequence[int]] | None = None,
) -> tuple[list[Ranked], list[Msg]]:
    """:func:`rank` for projects whose scores are already aggregated (by the database, say);
    ``totals``, when known, are kept with each ranked project."""
    return place(ordered(scores, tie_order, totals), places, tie_order)


def ordered(
    scores: Mapping[int, Fraction], tie_order: Sequence[int] = (), totals: Mapping[int, Sequence[int]] | None = None
) -> list[Ranked]:
    """The projects best first, not yet placed: ties by the lead's explicit order first, then by
    project id (only used once settled)."""
    position = {pid: i for i, pid in enumerate(tie_order)}
    scored = [Ranked(pid, score, tuple((totals or {}).get(pid, ()))) for pid, score in scores.items()]
    # The scores are compared as whole numbers over their common denominator: the same order as
    # the fractions', exactly, without a fraction's comparison for each of the sort's n log n
    # comparisons (10,000 projects: about 130,000).
    unplaced = len(position)
    if all(type(r.score) is Fraction or type(r.score) is int for r in scored):
        common = math.lcm(*{r.score.denominator for r in scored})
        scored.sort(
            key=lambda r: (
                -(r.score.numerator * (common // r.score.denominator)),
                position.get(r.project_id, unplaced),
                r.project_id,
            )
        )
    else:  # (other numbers: compared as they are)
        scored.sort(key=lambda r: (-r.score, position.get(r.project_id, unplaced), r.project_id))
    return scored


def place(
    scored: Sequence[Ranked], places: Sequence[tuple[str, int]], tie_order: Sequence[int] = ()
) -> tuple[list[Ranked], list[Msg]]:
    """Projects in their order (:func:`ordered`) split into ``places``: each with its rank and
    category, and, for every tie that crosses a boundary and is not fully settled by
    ``tie_order``, a message naming the tied projects and their score. The same order may be
    placed again under other places (a what-if) without ranking it again."""
    settled = set(tie_order)
    boundaries: list[tuple[int, str, str]] = []
    edge = 0
    for i, (category, count) in enumerate(places):
        edge += count
        after = places[i + 1][0] if i + 1 < len(places) else "none"
        boundaries.append((edge, category, after))

    ties: list[Msg] = []
    for edge, above, below in boundaries:
        if 0 < edge < len(scored) and scored[edge - 1].score == scored[edge].score:
            score = scored[edge].score
            # (the order's first key is the score: the tied projects stand together around the edge)
            first, last = edge - 1, edge
            while first > 0 and scored[first - 1].score == score:
                first -= 1
            while last + 1 < len(scored) and scored[last + 1].score == score:
                last += 1
            group = [r.project_id for r in scored[first : last + 1]]
            if not all(pid in settled for pid in group):
                ties.append(tie(group, show(score), above, edge, below))

    out: list[Ranked] = []
    edge_iter = iter(boundaries)
    current = next(edge_iter, None)
    for i, r in enumerate(scored, start=1):
        while current is not None and i > current[0]:
            current = next(edge_iter, None)
        category = current[1] if current is not None else "none"
        out.append(Ranked(r.project_id, r.score, r.totals, category, i))
    return out, ties


def list_changes(old: Sequence[Any], new: Sequence[Any]) -> list[dict[str, Any]]:
    """What changed between two list versions (their entries), project by project: added,
    removed, or a different rank, category or score. Entries of list versions (ListEntry)."""

    def place(e: Any) -> dict[str, Any]:
        return {"rank": e.rank, "category": e.category, "score": e.score}

    before = {e.project_id: e for e in old}
    after = {e.project_id: e for e in new}
    out: list[dict[str, Any]] = []
    for pid in sorted(before.keys() | after.keys(), key=lambda p: (after[p].rank if p in after else 10**9, p)):
        a, b = before.get(pid), after.get(pid)
        if a is not None and b is not None and place(a) == place(b):
            continue
        e = b or a
        assert e is not None  # (the id is in one of the two)
        out.append(
            {
                "project": pid,
                "city": e.city,
                "project_name": e.project_name,
                "change": "added" if a is None else "removed" if b is None else "changed",
                "before": place(a) if a else None,
                "after": place(b) if b else None,
            }
        )
    return out


# what a change of a list's entry names, in both languages
_CHANGED = {"rank": Text("rank", "名次"), "category": Text("category", "类别"), "score": Text("score", "得分")}


def change_message(change: Mapping[str, Any]) -> Msg:
    """One line for an administrator, e.g. '#12 city 《…》: rank 3 → 1, silver → gold'."""
    head = {"id": change["project"], "city": change["city"], "name": change["project_name"]}
    a, b = change["before"], change["after"]
    if a is None:
        return Msg(
            "#{id} {city} 《{name}》: added at rank {rank} ({category}, {score})",
            **head,
            rank=b["rank"],
            category=b["category"],
            score=b["score"],
        )
    if b is None:
        return Msg(
            "#{id} {city} 《{name}》: removed (was rank {rank}, {category}, {score})",
            **head,
            rank=a["rank"],
            category=a["category"],
            score=a["score"],
        )
    parts = [
        Msg("{what} {before} → {after}", what=_CHANGED[k], before=a[k], after=b[k])
        for k in ("rank", "category", "score")
        if a[k] != b[k]
    ]
    return Msg("#{id} {city} 《{name}》: {changes}", **head, changes=Joined(parts, ", "))


def describe_change(change: Mapping[str, Any]) -> str:
    """:func:`change_message` in the current language."""
    return change_message(change).render()
