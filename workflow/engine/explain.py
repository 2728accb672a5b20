"""Why a project holds its rank (`list explain`), and what other places would change (`list
propose --dry-run --places …`): reads of the ranking for the lead, nothing saved.

A project's explanation names the sheets counted, any left out and why (trimmed as the highest or
lowest, or a city's own sheet a cycle keeps uncounted), the score they make, its rank and
category, the boundary it sits nearest and the project across it, the projects tied with it and
what ordered them (the lead's tie order, or the project id where the tie crosses no boundary),
and the list version it stands on."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from i18n import Joined, Msg
from workflow.common import party_of
from workflow.engine.cycles import places_problems
from workflow.engine.scoring import ScoringActions
from workflow.errors import InvalidInput, NotPermitted
from workflow.program import Program
from workflow.ranking import Ranked, place, show
from workflow.records import Cycle, ListEntry, ListVersion

TRIMMED_HIGH, TRIMMED_LOW, OWN_EXCLUDED = "trimmed_high", "trimmed_low", "own_excluded"
_LEADS = Msg("the workings of the ranking show every city's sheets; the lead reads them")


@dataclass(frozen=True)
class SheetLine:
    rater: str  # the city (or, in a program scored per scorer, the scorer)
    city: str
    total: int
    left_out: str | None = None  # TRIMMED_HIGH, TRIMMED_LOW, OWN_EXCLUDED, or None: counted


@dataclass(frozen=True)
class Boundary:
    """The place boundary a project sits nearest: after ``edge`` places, ``above`` | ``below``;
    the project across it (at place ``edge`` + 1 for a project above, ``edge`` for one below),
    its score, and how far the two scores stand apart."""

    edge: int
    above: str
    below: str
    across: int
    across_score: Fraction
    margin: Fraction
    across_name: str = ""


@dataclass(frozen=True)
class Explanation:
    cycle: Cycle
    program: Program
    project_id: int
    city: str
    unit_name: str
    project_name: str
    method: str
    trim: int
    own_party: str
    sheets: list[SheetLine]
    ranked: int  # how many projects the ranking ranks
    places: list[tuple[str, int]]
    mine: Ranked | None  # None: not ranked (no counted sheet, or not on the shortlist)
    boundary: Boundary | None
    tied_with: list[int] = field(default_factory=list)
    by_lead: bool = False  # the tie ordered by the lead's tie order
    version: ListVersion | None = None  # the newest list version, its head
    entry: ListEntry | None = None  # the project's entry on it

    def as_data(self) -> dict[str, Any]:
        """The explanation as JSON gives it (the API)."""
        b, mine = self.boundary, self.mine
        return {
            "project": self.project_id,
            "cycle": self.cycle.id,
            "city": self.city,
            "project_name": self.project_name,
            "method": self.method,
            "trim": self.trim,
            "own_party": self.own_party,
            "sheets": [
                {"rater": x.rater, "city": x.city, "total": x.total, "left_out": x.left_out} for x in self.sheets
            ],
            "score": show(mine.score) if mine else None,
            "rank": mine.rank if mine else None,
            "category": mine.category if mine else None,
            "ranked": self.ranked,
            "places": dict(self.places),
            "boundary": None
            if b is None
            else {
                "after_place": b.edge,
                "above": b.above,
                "below": b.below,
                "across": b.across,
                "across_name": b.across_name,
                "across_score": show(b.across_score),
                "margin": show(b.margin),
            },
            "tied_with": self.tied_with,
            "tie_ordered_by": ("lead" if self.by_lead else "project id") if self.tied_with else None,
            "list_version": None
            if self.version is None
            else {
                "number": self.version.number,
                "status": str(self.version.status),
                "entry": None
                if self.entry is None
                else {"rank": self.entry.rank, "category": self.entry.category, "score": self.entry.score},
            },
        }


@dataclass(frozen=True)
class CategoryMove:
    project_id: int
    city: str
    unit_name: str
    project_name: str
    rank: int
    score: Fraction
    before: str
    after: str


@dataclass(frozen=True)
class WhatIf:
    cycle: Cycle
    program: Program
    places_now: list[tuple[str, int]]
    places_then: list[tuple[str, int]]
    moves: list[CategoryMove]
    ties: list[Msg]  # boundary ties the other places would leave to settle
    ranked: int

    def as_data(self) -> dict[str, Any]:
        """The what-if as JSON gives it (the API): nothing of it is saved."""
        return {
            "cycle": self.cycle.id,
            "places_now": dict(self.places_now),
            "places_then": dict(self.places_then),
            "ranked": self.ranked,
            "moves": [
                {
                    "project": m.project_id,
                    "city": m.city,
                    "unit_name": m.unit_name,
                    "project_name": m.project_name,
                    "rank": m.rank,
                    "score": show(m.score),
                    "before": m.before,
                    "after": m.after,
                }
                for m in self.moves
            ],
            "ties": [str(t) for t in self.ties],
        }


class RankReads(ScoringActions):
    """`list explain` and the what-if of other places."""

    def _ranks_for_lead(self, act: Any, verb: Msg) -> None:
        if act.user.role != "lead":
            raise NotPermitted(verb, Msg("cycle {id}", id=act.cycle.id), _LEADS)

    def explain_rank(self, acting: str | None, project_id: int) -> Explanation:
        """Why ``project_id`` holds its rank, from the current sheets and the cycle's places (the
        newest list version's tie order settling ties, as it did)."""
        with self.store.transaction(write=False) as tx:
            # (the role first: anyone else is refused alike whether the project exists or not)
            if self._user(tx, acting).role != "lead":
                raise NotPermitted(Msg("explain the rank of"), Msg("project {id}", id=project_id), _LEADS)
            project = self._project(tx, project_id)
        with self._acting(acting, project.cycle_id, write=False) as act:
            tx, program, cycle = act.tx, act.program, act.cycle
            method = program.list_settings.get("aggregate", "mean")
            trim = int(program.list_settings.get("trim", 0)) if method == "trimmed_mean" else 0
            own_party = program.own_party_in(cycle.config)
            by_scorer = program.sheets_per == "scorer"
            version = tx.latest_list(cycle.id, entries=True)
            tie_order = list(version.tie_order) if version is not None else []
            ranked = self.ranked_kept(act, tie_order)
            entry = next((e for e in version.entries if e.project_id == project_id), None) if version else None
            head = replace(version, entries=[]) if version is not None else None  # (the entry is kept apart)
            found = tx.sheets(cycle.id, project_id)
            places = program.places_in(cycle.config)
            mine = next((r for r in ranked if r.project_id == project_id), None)
            boundary = _nearest_boundary(ranked, places, mine)
            if boundary is not None:  # (the one project across it, named: not every ranked one's name)
                across = tx.projects_by_ids([boundary.across])
                boundary = replace(boundary, across_name=across[0].project_name if across else "")
        order = {p.id: i for i, p in enumerate(program.parties)}  # (the program's order of cities)
        found = sorted(found, key=lambda x: (order.get(x.city, len(order)), x.scorer))
        sheets = _sheet_lines(found, project.city, by_scorer, method, trim, own_party)
        tied: list[int] = []
        by_lead = False
        if mine is not None:
            tied = [r.project_id for r in ranked if r.score == mine.score and r.project_id != project_id]
            by_lead = bool(tied) and all(pid in tie_order for pid in [project_id, *tied])
        return Explanation(
            cycle,
            program,
            project_id,
            project.city,
            project.unit_name,
            project.project_name,
            method,
            trim,
            own_party,
            sheets,
            len(ranked),
            places,
            mine,
            boundary,
            tied,
            by_lead,
            head,
            entry,
        )

    def what_if(
        self,
        acting: str | None,
        cycle_id: str | None,
        places: Mapping[str, int],
        tie_order: Sequence[int] = (),
    ) -> WhatIf:
        """The projects that would change category were the list's places ``places`` (the rest
        as the cycle has them), from the current sheets; nothing is saved."""
        with self._acting(acting, cycle_id, write=False) as act:
            self._ranks_for_lead(act, Msg("try other places for"))
            program, cycle = act.program, act.cycle
            bad = places_problems(program, places)
            if bad:
                raise InvalidInput(Msg("list places"), bad)
            now = self.ranked_kept(act, tie_order)
            then, ties = place(
                now, program.places_in(cycle.config, places), tie_order
            )  # (the same order, placed again)
            before = {r.project_id: r.category for r in now}
            moved = [r for r in then if before.get(r.project_id) != r.category]
            named = {p.id: p for p in act.tx.projects_by_ids([r.project_id for r in moved])} if moved else {}
        moves = []
        for r in moved:
            p = named[r.project_id]
            moves.append(
                CategoryMove(
                    r.project_id, p.city, p.unit_name, p.project_name, r.rank, r.score, before[r.project_id], r.category
                )
            )
        return WhatIf(
            cycle,
            program,
            program.places_in(cycle.config),
            program.places_in(cycle.config, places),
            moves,
            ties,
            len(then),
        )


def _sheet_lines(
    sheets: Sequence[Any], home: str, by_scorer: bool, method: str, trim: int, own_party: str
) -> list[SheetLine]:
    """Each current sheet of a project, and whether (and why) the score leaves it out: a city's
    own sheet where the cycle excludes it, then (a trimmed mean) the ``trim`` lowest and highest
    of the rest, as workflow/ranking.py's aggregate drops them."""
    lines = [SheetLine(s.scorer if by_scorer else s.city, s.city, s.total) for s in sheets]
    out: dict[int, str] = {}
    if own_party == "excluded":
        out.update({i: OWN_EXCLUDED for i, line in enumerate(lines) if line.city == home})
    counted = sorted((line.total, i) for i, line in enumerate(lines) if i not in out)
    if method == "trimmed_mean" and trim and len(counted) > 2 * trim:
        out.update({i: TRIMMED_LOW for _, i in counted[:trim]})
        out.update({i: TRIMMED_HIGH for _, i in counted[-trim:]})
    return [SheetLine(line.rater, line.city, line.total, out.get(i)) for i, line in enumerate(lines)]


def _nearest_boundary(
    ranked: Sequence[Ranked], places: Sequence[tuple[str, int]], mine: Ranked | None
) -> Boundary | None:
    """The boundary between two categories (or the last category and none) nearest ``mine``'s rank."""
    if mine is None or not ranked:
        return None
    edges: list[tuple[int, str, str]] = []
    edge = 0
    for i, (category, count) in enumerate(places):
        edge += count
        below = places[i + 1][0] if i + 1 < len(places) else "none"
        if 0 < edge < len(ranked):
            edges.append((edge, category, below))
    if not edges:
        return None
    edge, above, below = min(edges, key=lambda e: (abs(mine.rank - (e[0] + 0.5)), e[0]))
    across = ranked[edge] if mine.rank <= edge else ranked[edge - 1]  # (ranks start at 1)
    margin = mine.score - across.score if mine.rank <= edge else across.score - mine.score
    return Boundary(edge, above, below, across.project_id, across.score, margin)


def not_ranked_why(explanation: Explanation) -> Msg:
    """Why a project has no rank."""
    if not explanation.sheets:
        return Msg("it has no current score sheet")
    if all(line.left_out for line in explanation.sheets):
        return Msg("none of its sheets is counted")
    return Msg("it is not among the projects the list ranks")


def places_words(program: Program, places: Sequence[tuple[str, int]]) -> Joined:
    """The categories and their places, as a line names them."""
    return Joined([Msg("{category} {n}", category=program.category_words(c), n=n) for c, n in places], ", ")


def explanation_lines(e: Explanation, status_words: Callable[[str], Any]) -> list[Msg]:
    """An explanation as lines for a reader: the sheets, the score, the rank, the boundary, the
    tie, the list version (``status_words``: a list status's words)."""
    out: list[Msg] = []
    why = {
        OWN_EXCLUDED: Msg("its own city's, not counted"),
        TRIMMED_HIGH: Msg("among the highest, trimmed"),
    }
    sheets = [
        Msg(
            "{rater} {total}",
            rater=line.rater if e.program.sheets_per == "scorer" else party_of(e.program, line.rater),
            total=line.total,
        )
        if line.left_out is None
        else Msg(
            "{rater} {total} ({why})",
            rater=line.rater if e.program.sheets_per == "scorer" else party_of(e.program, line.rater),
            total=line.total,
            why=why.get(line.left_out, Msg("among the lowest, trimmed")),
        )
        for line in e.sheets
    ]
    out.append(Msg("  sheets: {sheets}", sheets=Joined(sheets, ", ") if sheets else Msg("none")))
    counted = sum(1 for line in e.sheets if line.left_out is None)
    if e.mine is None:
        out.append(Msg("  not ranked: {why}", why=not_ranked_why(e)))
    else:
        kind = {
            "sum": Msg("the sum of {count} sheets", count=counted),
            "trimmed_mean": Msg(
                "the mean of {count} of {all} sheets, {trim} highest and lowest left out",
                count=counted,
                all=len(e.sheets),
                trim=e.trim,
            ),
        }.get(e.method, Msg("the mean of {count} sheets", count=counted))
        out.append(Msg("  score {score}: {kind}", score=show(e.mine.score), kind=kind))
        out.append(
            Msg(
                "  rank {rank} of {count}: {category} (places: {places})",
                rank=e.mine.rank,
                count=e.ranked,
                category=e.program.category_words(e.mine.category),
                places=places_words(e.program, e.places),
            )
        )
        b = e.boundary
        if b is not None:
            words = {
                "edge": b.edge,
                "above": e.program.category_words(b.above),
                "below": e.program.category_words(b.below),
                "across": b.across,
                "name": b.across_name,
                "score": show(b.across_score),
                "margin": show(b.margin),
            }
            if e.mine.rank <= b.edge:
                line = Msg(
                    "  nearest boundary: after place {edge} ({above} | {below}); project {across} 《{name}》,"
                    " first below it, has {score}, {margin} less",
                    **words,
                )
            else:
                line = Msg(
                    "  nearest boundary: after place {edge} ({above} | {below}); project {across} 《{name}》,"
                    " last above it, has {score}, {margin} more",
                    **words,
                )
            out.append(line)
        if e.tied_with:
            order = (
                Msg("ordered by the lead's tie order")
                if e.by_lead
                else Msg("ordered by project id: the tie crosses no place boundary")
            )
            tied = Msg(
                "  tied at {score} with projects {ids}: {order}",
                score=show(e.mine.score),
                ids=Joined(e.tied_with, ", "),
                order=order,
            )
            out.append(tied)
    if e.version is None:
        out.append(Msg("  no list version yet"))
    elif e.entry is None:
        out.append(Msg("  list version {number}: not on it", number=e.version.number))
    else:
        same = e.mine is not None and (e.entry.rank, e.entry.category, e.entry.score) == (
            e.mine.rank,
            e.mine.category,
            show(e.mine.score),
        )
        line = Msg(
            "  list version {number} ({status}): rank {rank}, {category}, {score}; {now}",
            number=e.version.number,
            status=status_words(str(e.version.status)),
            rank=e.entry.rank,
            category=e.program.category_words(e.entry.category),
            score=e.entry.score,
            now=Msg("as the sheets stand now") if same else Msg("the sheets have changed since"),
        )
        out.append(line)
    return out


__all__ = ["CategoryMove", "Explanation", "RankReads", "WhatIf", "explanation_lines", "places_words"]
