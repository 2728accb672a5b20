"""Scoring: a party's score sheet for a project (the program's sheet trigger, through the door)
and the ranking the sheets add up to."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, cast

from i18n import Joined, Msg
from policies.base import Rejection, name_rule
from workflow.analysis import RANKING_SHOWN, Gather, ScoreAnalysis
from workflow.common import ActionContext
from workflow.engine.context import kept_in
from workflow.engine.projects import ProjectActions
from workflow.engine.report import matrix
from workflow.errors import InvalidInput, NotPermitted
from workflow.program import Program
from workflow.ranking import rank, rank_scores, show
from workflow.records import Cycle, ListVersion, Project

name_rule("list_current", "名单与当前评分一致")

# rankings kept for read-only actions (ScoringActions.ranked_kept): the newest two
_RANKINGS: dict[tuple[Any, ...], Any] = {}
# the newest analysis of the sheets (ScoringActions.score_analysis)
_ANALYSES: dict[tuple[Any, ...], Any] = {}


@dataclass(frozen=True)
class AnalysisData:
    """`scores analyze`'s answer: the findings, and the projects and raters they name."""

    cycle: Cycle
    program: Program
    analysis: ScoreAnalysis
    projects: Mapping[int, tuple[str, str]]  # id -> (city, project name), of the projects with sheets
    totals_by_rater: Mapping[str, Any] = field(default_factory=dict)  # each rater's sheet totals (an array)
    spread: Mapping[int, tuple[float, float]] = field(default_factory=dict)  # project -> lowest, highest total
    ranked: list[Any] = field(default_factory=list)  # the ranking's head: the places and ten more (Ranked)
    places: list[tuple[str, int]] = field(default_factory=list)  # the cycle's categories and places
    # what it was worked out from (the audit's heads, the cycle's version, the program's digest):
    # two of one key say the same (empty: not kept)
    key: tuple[Any, ...] = ()

    def as_data(self) -> dict[str, Any]:
        """The findings as JSON gives them (`scores analyze --json`, the API)."""
        data, a = self, self.analysis

        def interval(x: Any) -> dict[str, Any] | None:
            if x is None:
                return None
            return {"estimate": x.estimate, "low": x.low, "high": x.high, "sheets": x.sheets, "flagged": x.flagged}

        return {
            "cycle": data.cycle.id,
            "sheets": a.sheets,
            "projects": a.projects,
            "complete": a.complete,
            "settings": {
                "confidence": a.settings.confidence,
                "each_interval": a.level,
                "least_offset": a.settings.least_offset,
                "outlier_z": a.settings.outlier_z,
            },
            "raters": [
                {
                    "rater": r.rater,
                    "party": r.party,
                    "sheets": r.sheets,
                    "leniency": interval(r.leniency),
                    "home_bias": interval(r.home_bias),
                    "flagged": r.flagged,
                }
                for r in a.raters
            ],
            "agreement": [
                {
                    "criterion": g.criterion,
                    "w": _number(g.w),
                    "chi2": _number(g.chi2),
                    "df": g.df,
                    "p": _number(g.p),
                    "projects": g.projects,
                }
                for g in a.agreement
            ],
            "outliers": [
                {
                    "project": o.project_id,
                    "project_name": data.projects.get(o.project_id, ("", ""))[1],
                    "rater": o.rater,
                    "total": o.total,
                    "others_median": o.others_median,
                    "z": o.z,
                }
                for o in a.outliers
            ],
        }


class ScoringActions(ProjectActions):
    """Score sheets and the ranking of the shortlist."""

    def score(
        self,
        acting: str | None,
        project_id: int,
        scores: Mapping[str, int],
        completion: str = "",
    ) -> Project:
        """The acting scorer's (or city's) score sheet for a project: the program's sheet action
        (a city's ``score``, a committee member's ``vote``), whatever the program calls it."""
        with self.store.transaction(write=False) as tx:
            project = self._project(tx, project_id)
            cycle = tx.get_cycle(project.cycle_id)
        trigger = self.program_of(cycle).sheet_trigger if cycle is not None else None
        if trigger is None:
            raise InvalidInput("score sheet", [Msg("the program has no score sheets")])
        return self.fire(acting, project_id, trigger, scores=dict(scores), completion=completion)[0]

    def score_analysis(self, acting: str | None, cycle_id: str | None = None) -> AnalysisData:
        """What the current sheets say of the raters (the lead's, as the report is; nothing
        blocks on it): workflow/analysis.py, over the shortlisted and placed projects' sheets,
        read a page of projects at a time."""
        with self._acting(acting, cycle_id, write=False) as act:
            user, cycle, program = act.user, act.cycle, act.program
            if user.role != "lead":
                raise NotPermitted(
                    Msg("analyze the scores of"),
                    Msg("cycle {id}", id=cycle.id),
                    Msg("the analysis compares every city; the lead reads it"),
                )
            if not program.digest:  # (a program made in code: nothing tells it from another)
                return self._analyze(act, ())
            key = ("analysis", cycle.id, cycle.version, program.id, program.digest, act.audit_heads)
            # (kept by each process as ranked_kept keeps a ranking: a lead reading the page again,
            # or asking what-if after what-if, reads every sheet only when one has changed)
            return cast(AnalysisData, kept_in(_ANALYSES, 1, key, lambda: self._analyze(act, key)))

    def _analyze(self, act: ActionContext, key: tuple[Any, ...]) -> AnalysisData:
        """score_analysis's work, in its transaction."""
        tx, cycle, program = act.tx, act.cycle, act.program
        by_scorer = program.sheets_per == "scorer"
        # the raters: the program's cities in its order, or (a program scored per scorer)
        # each scorer with a current sheet, of their user's city
        raters = tx.report_scorers(cycle.id) if by_scorer else [p.id for p in program.parties]
        party_of = {u.name: u.city or "" for u in tx.list_users()} if by_scorer else None
        criteria = [c.id for c in program.criteria]
        gather = Gather(raters, len(criteria), party_of)
        states = tuple(dict.fromkeys([*program.listable_states, *program.placed_states]))
        projects: dict[int, tuple[str, str]] = {}
        empty = (None,) * (len(criteria) + 1)
        for row in matrix(tx, cycle, program, states):
            if row.sheets:
                projects[row.id] = (row.city, row.project_name)
                gather.add(row.id, row.city, [row.sheets.get(r, empty) for r in raters])
        places = program.places_in(cycle.config)
        latest = tx.latest_list(cycle.id, entries=False)
        ranked = self.ranked_kept(act, latest.tie_order if latest is not None else ())
        head = list(ranked[: min(sum(n for _, n in places) + 10, RANKING_SHOWN)])
        import numpy as np  # (here: a command that analyzes nothing does not load it)

        found = gather.finish(criteria, program.analysis)
        totals = found.totals
        by_rater = {r: totals[~np.isnan(totals[:, i]), i] for i, r in enumerate(raters)}
        row_of = {pid: i for i, pid in enumerate(found.ids)}
        spread = {  # (the ranking's head only: a chart's spread of the cities' totals)
            r.project_id: (
                float(np.nanmin(totals[row_of[r.project_id]])),
                float(np.nanmax(totals[row_of[r.project_id]])),
            )
            for r in head
            if r.project_id in row_of
        }
        return AnalysisData(cycle, program, found.analysis, projects, by_rater, spread, head, places, key)

    def ranked_kept(self, act: ActionContext, tie_order: Sequence[int]) -> Sequence[Any]:
        """The ranking (without names) for a read-only action, kept by each process under the
        audit chains' heads as Reads._kept keeps counts: any change of a sheet, project, list or
        cycle moves a head or the cycle's version, so a kept ranking is the sheets' as they stand.
        A lead reading project after project (their rank, the list's scores) ranks the cycle once
        for them all. Two are kept, a ranking of 100,000 projects being about 10 MB."""
        program, cycle = act.program, act.cycle

        def work_out() -> tuple[Any, ...]:
            return tuple(self._ranking(act, tie_order, names=False)[1])

        if not program.digest:  # (a program made in code: nothing tells it from another)
            return work_out()
        key = ("ranking", tuple(tie_order), cycle.id, cycle.version, program.id, program.digest, act.audit_heads)
        return cast(tuple[Any, ...], kept_in(_RANKINGS, 2, key, work_out))

    def _ranking(
        self, act: ActionContext, tie_order: Sequence[int], names: bool = True
    ) -> tuple[Any, list[Any], list[Any], str]:
        """The ranked projects: (their names by id, or without ``names`` only the set of their ids;
        the ranking; unsettled ties; the method)."""
        tx, program, cycle = act.tx, act.program, act.cycle
        # placed projects are ranked too: a corrected list ranks the whole shortlist again
        states = program.listable_states + program.placed_states
        projects = tx.project_names(cycle.id, states) if names else set(tx.project_ids(cycle.id, states))
        places = program.places_in(cycle.config)
        method = program.list_settings.get("aggregate", "mean")
        trim = int(program.list_settings.get("trim", 0))
        excluded = program.own_party_in(cycle.config) == "excluded"  # (kept, shown, not counted)
        if method in ("mean", "sum"):  # the database adds up: one row per project, not per sheet
            scores = {
                pid: Fraction(total) if method == "sum" else Fraction(total, n)
                for pid, total, n in tx.sheet_sums(cycle.id, excluded)
                if pid in projects
            }
            ranked, ties = rank_scores(scores, places, tie_order) if scores else ([], [])
            return projects, ranked, ties, method
        totals: dict[int, list[int]] = {pid: [] for pid in projects}
        for pid, total in tx.sheet_totals(cycle.id, excluded):
            if pid in totals:
                totals[pid].append(total)
        totals = {pid: t for pid, t in totals.items() if t}
        ranked, ties = rank(totals, places, method, trim, tie_order) if totals else ([], [])
        return projects, ranked, ties, method

    def _stale(self, act: ActionContext, lst: ListVersion) -> list[Rejection]:
        """A list version no longer matching the current sheets (a reopened project re-scored after
        it was proposed) must not be published: name every project whose score moved."""
        _, ranked, _, _ = self._ranking(act, lst.tie_order, names=False)
        now = {r.project_id: show(r.score) for r in ranked}
        then = {e.project_id: e.score for e in lst.entries}
        absent = Msg("absent")
        moved = [
            Msg("project {id} {then} → {now}", id=pid, then=then.get(pid, absent), now=now.get(pid, absent))
            for pid in sorted(then.keys() | now.keys())
            if then.get(pid) != now.get(pid)
        ]
        if not moved:
            return []
        changed = Msg(
            "the score sheets changed since list version {number} was proposed ({moved}); propose a new version",
            number=lst.number,
            moved=Joined(moved, "; "),
        )
        return [Rejection("list_current", changed)]


def _number(value: float) -> float | None:
    """A figure as JSON holds it: none where it is not a number (every rater alike: no W)."""
    return None if math.isnan(value) else value
