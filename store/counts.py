"""What the dashboard and the scorer's queue count, counted by the database: the projects of a
cycle grouped by what a to-do depends on (city, state, reopened stage, which record lists are
filled), and the projects a party has not scored yet, counted and windowed. A reader's scope
is the project list's (``Match`` terms, store/project_pages.py), so a count holds exactly the
projects the same reader's list would; no application, no record is read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, exists, func, literal, literal_column, select, union_all

from store import schema
from store.project_pages import PAGE_COLUMNS, ProjectPages, page_project
from store.score_sheets import current_sheet_counts
from workflow.page_query import Match, PageQuery
from workflow.ports import CountTx, ProjectGroup, SheetTotals
from workflow.records import Project


class ProjectCounts(ProjectPages):
    """Grouped counts of a cycle's projects, and a party's unscored ones."""

    def _scope(
        self, cycle_id: str, readable: list[Match] | None, states: Sequence[str] | None, in_id_order: bool = True
    ) -> list[Any]:
        """The WHERE of a cycle's projects a reader may read (``readable`` None: every one), in
        ``states`` when given."""
        if readable is not None and states is not None and any(_holds_all(m, states) for m in readable):
            readable = None  # (every project in those states is the reader's: the scope adds nothing)
        query = PageQuery([readable] if readable is not None else [])
        if states is not None:
            query.all_of.append([Match(states=tuple(states))])
        return self._where(cycle_id, query, in_id_order)

    def project_groups(
        self,
        cycle_id: str,
        readable: list[Match] | None,
        record_keys: Sequence[str] = (),
        by_city_state: Mapping[tuple[str, str], int] | None = None,
    ) -> list[ProjectGroup]:
        """How many projects of the cycle (those ``readable``) stand in each (city, state,
        reopened stage, filled ``record_keys``): a row per group. Without record keys, from the
        indexes alone: the count by city and state (ix_projects_cycle_city_state), less the few
        reopened projects counted apart (the partial index ix_projects_reopened); the count by
        city and state of the reader's projects may be the caller's (``by_city_state``)."""
        t = schema.projects
        keys = tuple(dict.fromkeys(record_keys))
        conn = self.s.connection()
        where = self._scope(cycle_id, readable, None, in_id_order=bool(keys))
        if not keys:
            if by_city_state is not None:  # (the reader's, counted by the caller)
                by_state = [(city, state, n) for (city, state), n in by_city_state.items()]
            else:
                by_state = conn.execute(
                    select(t.c.city, t.c.state, func.count()).where(*where).group_by(t.c.city, t.c.state)
                ).all()
            reopened = conn.execute(
                select(t.c.city, t.c.state, t.c.reopened_to, func.count())
                .where(*where, t.c.reopened_to.is_not(None))
                .group_by(t.c.city, t.c.state, t.c.reopened_to)
            ).all()
            apart: dict[tuple[str, str], int] = {}
            out = [ProjectGroup(city, state, stage, frozenset(), n) for city, state, stage, n in reopened]
            for g in out:
                apart[(g.city, g.state)] = apart.get((g.city, g.state), 0) + g.count
            for city, state, n in by_state:
                if n > apart.get((city, state), 0):
                    out.append(ProjectGroup(city, state, None, frozenset(), n - apart.get((city, state), 0)))
            return out
        filled: list[ColumnElement[Any]] = [self._record_filled(k).label(f"k{n}") for n, k in enumerate(keys)]
        # (grouped by the filled flags' positions: PostgreSQL groups by an output column's number)
        q = (
            select(t.c.city, t.c.state, t.c.reopened_to, *filled, func.count())
            .where(*where)
            .group_by(*(literal_column(str(n)) for n in range(1, 4 + len(keys))))
        )
        out = []
        for row in conn.execute(q):
            filled_keys = frozenset(k for k, f in zip(keys, row[3 : 3 + len(keys)], strict=True) if f)
            out.append(ProjectGroup(row[0], row[1], row[2], filled_keys, row[-1]))
        return out

    def unscored(
        self,
        cycle_id: str,
        readable: list[Match] | None,
        states: Sequence[str],
        party: str | None,
        by_scorer: bool = False,
        limit: int | None = None,
        by_state: Mapping[str, int] | None = None,
        recused: bool = False,
    ) -> tuple[list[Project], int]:
        """The projects of the cycle in ``states`` (those ``readable``) on which ``party`` (a city,
        or ``by_scorer`` a scorer) has no current score sheet (``party`` None: every one), by id:
        the first ``limit`` (None: all; 0: none) with the list's columns, and how many there are.
        ``recused``: the party's own projects left out (a city recused from its own, a scorer from
        their city's)."""
        t = schema.projects
        conn = self.s.connection()
        if party is None and limit == 0 and (readable is None or any(_holds_all(m, states) for m in readable)):
            # (only how many of the cycle stand in those states: from the counts by state the
            # caller has, or from the (cycle, city, state) index alone, without the id range a
            # page of rows in id order is read by)
            if by_state is not None:
                return [], sum(n for state, n in by_state.items() if state in states)
            count = select(func.count()).select_from(t).where(t.c.cycle_id == cycle_id, t.c.state.in_(list(states)))
            return [], conn.execute(count).scalar_one()
        where = self._unscored_where(cycle_id, readable, states, party, by_scorer)
        if recused and party is not None:  # (a scorer is recused from their own city's)
            home = select(schema.users.c.city).where(schema.users.c.name == party).scalar_subquery()
            where.append(t.c.city.is_distinct_from(home) if by_scorer else t.c.city != party)
        total = conn.execute(select(func.count()).select_from(t).where(*where)).scalar_one()
        if limit == 0 or total == 0:
            return [], total
        if limit is not None:  # (the first ids from the indexes, then only their rows)
            ids = list(conn.execute(select(t.c.id).where(*where).order_by(t.c.id).limit(limit)).scalars())
            return self.projects_by_ids(ids), total
        rows = conn.execute(select(*(t.c[n] for n in PAGE_COLUMNS)).where(*where).order_by(t.c.id)).all()
        return [page_project(row) for row in rows], total

    def unscored_ids(
        self,
        cycle_id: str,
        readable: list[Match] | None,
        states: Sequence[str],
        parties: Sequence[str],
        limit: int,
        recused: bool = False,
    ) -> dict[str, list[int]]:
        """The first ``limit`` ids of ``unscored`` of each of ``parties`` (cities), from the
        indexes alone, in one statement (a branch a party: a dashboard names nine cities' first
        few; ``recused``: not its own)."""
        t = schema.projects
        scope = self._scope(cycle_id, readable, states)  # (the same for every party: made once)
        branches = []
        for party in parties:
            where = [*scope, ~self._sheet_of(cycle_id, party, False)] + ([t.c.city != party] if recused else [])
            first = select(literal(party).label("party"), t.c.id).where(*where).order_by(t.c.id).limit(limit)
            branches.append(select(first.subquery()))
        out: dict[str, list[int]] = {party: [] for party in parties}
        if not branches:
            return out
        for party, pid in self.s.connection().execute(union_all(*branches)):
            out[party].append(pid)
        return {party: sorted(ids) for party, ids in out.items()}

    def _unscored_where(
        self, cycle_id: str, readable: list[Match] | None, states: Sequence[str], party: str | None, by_scorer: bool
    ) -> list[Any]:
        where = self._scope(cycle_id, readable, states)
        if party is not None:
            where.append(~self._sheet_of(cycle_id, party, by_scorer))
        return where

    @staticmethod
    def _sheet_of(cycle_id: str, party: str, by_scorer: bool) -> Any:
        """Whether the project has a current sheet of ``party`` (a city, or ``by_scorer`` a scorer)."""
        t, s = schema.projects, schema.score_sheets
        who = s.c.scorer if by_scorer else s.c.city
        return exists().where(s.c.cycle_id == cycle_id, s.c.current.is_(True), who == party, s.c.project_id == t.c.id)

    def scored_counts(
        self,
        cycle_id: str,
        readable: list[Match] | None,
        states: Sequence[str],
        by_scorer: bool = False,
        by_state: Mapping[str, int] | None = None,
        totals: SheetTotals | None = None,
    ) -> dict[str, int]:
        """How many of the cycle's projects in ``states`` (those ``readable``) each party (a city,
        or ``by_scorer`` a scorer) has a current sheet on: one grouped count of the sheets, the
        projects named by a subquery (as the status counts them)."""
        t, s = schema.projects, schema.score_sheets
        who = s.c.scorer if by_scorer else s.c.city
        if readable is not None and any(_holds_all(m, states) for m in readable):
            readable = None  # (every project in those states is the reader's: the scope adds nothing)
        if readable is None:
            return current_sheet_counts(
                self.s.connection(), cycle_id, states, who, distinct_projects=True, by_state=by_state, totals=totals
            )
        keyed = select(t.c.id).where(*self._scope(cycle_id, readable, states))
        rows = self.s.connection().execute(
            select(who, func.count(func.distinct(s.c.project_id)))
            .where(s.c.cycle_id == cycle_id, s.c.current.is_(True), s.c.project_id.in_(keyed))
            .group_by(who)
        )
        return {party: n for party, n in rows}

    def sheet_sums_of(
        self, cycle_id: str, project_ids: Sequence[int], own_excluded: bool = False
    ) -> list[tuple[int, int, int]]:
        """(project, sum of totals, number of sheets) over the current sheets of these projects
        only: the scores one page of the list shows, not the whole cycle's (``own_excluded``: not
        a city's sheet on its own project)."""
        t, p = schema.score_sheets, schema.projects
        if not project_ids:
            return []
        q = select(t.c.project_id, func.sum(t.c.total), func.count()).where(
            t.c.cycle_id == cycle_id, t.c.current.is_(True), t.c.project_id.in_(list(project_ids))
        )
        if own_excluded:
            q = q.join(p, p.c.id == t.c.project_id).where(t.c.city != p.c.city)
        q = q.group_by(t.c.project_id)
        return [(pid, int(total), n) for pid, total, n in self.s.connection().execute(q)]

    def sheet_keys_of(
        self, cycle_id: str, project_ids: Sequence[int], by_scorer: bool = False, city: str | None = None
    ) -> list[tuple[str, int]]:
        """``sheet_keys`` of these projects only: who has scored which of one page's projects."""
        t = schema.score_sheets
        if not project_ids:
            return []
        key = t.c.scorer if by_scorer else t.c.city
        where = [t.c.cycle_id == cycle_id, t.c.current.is_(True), t.c.project_id.in_(list(project_ids))]
        if city is not None:
            where.append(t.c.city == city)
        return [(who, pid) for who, pid in self.s.connection().execute(select(key, t.c.project_id).where(*where))]

    def any_current_sheet(self, cycle_id: str, states: Sequence[str]) -> bool:
        """Whether a project of the cycle in ``states`` has a current sheet (one row at most)."""
        t, s = schema.projects, schema.score_sheets
        q = (
            select(s.c.id)
            .where(
                s.c.cycle_id == cycle_id,
                s.c.current.is_(True),
                s.c.project_id.in_(select(t.c.id).where(t.c.cycle_id == cycle_id, t.c.state.in_(list(states)))),
            )
            .limit(1)
        )
        return self.s.connection().execute(q).first() is not None


def _holds_all(match: Match, states: Sequence[str]) -> bool:
    """Whether ``match`` takes every project in ``states``, whatever else it stands in (a reader's
    term that names states only: the key library once joint scoring has begun)."""
    only_states = Match(states=match.states)
    return match == only_states and match.states is not None and set(states) <= set(match.states)


# the type checker holds this backend to its port
_port: type[CountTx] = ProjectCounts
