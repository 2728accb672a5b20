"""Score sheets as rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select, update

from store import schema
from store.rows import TxBase
from store.tally import read_sheet_tally
from workflow.ports import SheetTotals, SheetTx
from workflow.records import ScoreSheet


class SheetRows(TxBase):
    """Score sheets: the current one of each party (or scorer) and project, the replaced ones kept."""

    def supersede_sheets(self, project_id: int) -> list[ScoreSheet]:
        """Mark every current sheet of a project as history (kept, no longer counted); return them."""
        old = [s for s in self.sheets_of(project_id) if s.current]
        if old:
            self.s.connection().execute(
                update(schema.score_sheets)
                .where(schema.score_sheets.c.project_id == project_id, schema.score_sheets.c.current.is_(True))
                .values(current=False)
            )
        return old

    def sheets_of(self, project_id: int) -> list[ScoreSheet]:
        t = schema.score_sheets
        return self._records(ScoreSheet, t, t.c.project_id == project_id, order_by=(t.c.id,))

    def put_sheets(self, sheets: Sequence[ScoreSheet], by_scorer: bool = False) -> dict[tuple[int, str], int]:
        """Store each sheet as its city's (``by_scorer``: its scorer's) current sheet of its
        project, in three statements; the sheets they replace stay as history. Returns
        {(project, city or scorer): the replaced total}."""
        keys = {(s.project_id, s.scorer if by_scorer else s.city) for s in sheets}
        old: dict[tuple[int, str], tuple[int, int]] = {}
        ids = sorted({pid for pid, _ in keys})
        whose = sorted({who for _, who in keys})
        conn = self.s.connection()
        # in the driver's own terms: a Core select's IN list of 500 values costs more to expand than
        # the database takes to answer it. A batch is one scorer's (one city's): only its sheets
        # are read, not every party's
        quote = conn.dialect.identifier_preparer.quote
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        who_column = quote("scorer" if by_scorer else "city")
        # the cycle, current, city and project: each sheet found in the sheets' (cycle, current,
        # city, project, total) index alone, not by reading every sheet of each project (which
        # grew with each city's batch: at 100,000 projects the ninth read 800,000 sheet rows)
        cycles = sorted({s.cycle_id for s in sheets})
        sql = (
            f"SELECT {quote('id')}, {quote('project_id')}, {who_column}, {quote('total')}"
            f" FROM {quote(schema.score_sheets.name)} WHERE {quote('current')} = {mark}"
        )
        if len(cycles) == 1:
            sql += f" AND {quote('cycle_id')} = {mark}"
        else:
            cycles = []
        if len(whose) <= 50:
            sql += f" AND {who_column} IN ({', '.join([mark] * len(whose))})"
        else:
            whose = []
        postgresql = conn.dialect.name == "postgresql"
        # 500 projects to a select: under SQL parameter limits; on PostgreSQL 5,000 in one array
        step = 5000 if postgresql else 500
        for start in range(0, len(ids), step):
            part = ids[start : start + step]
            if postgresql:
                where, params = f"{sql} AND {quote('project_id')} = ANY({mark})", (True, *cycles, *whose, part)
            else:
                where = f"{sql} AND {quote('project_id')} IN ({', '.join([mark] * len(part))})"
                params = (True, *cycles, *whose, *part)
            for sid, pid, who, total in conn.exec_driver_sql(where, params):
                if (pid, who) in keys:
                    old[(pid, who)] = (sid, total)
        stale = [sid for sid, _ in old.values()]
        t = schema.score_sheets
        for start in range(0, len(stale), step):
            part = stale[start : start + step]
            if postgresql:
                conn.exec_driver_sql(
                    f"UPDATE {quote(t.name)} SET {quote('current')} = false WHERE {quote('id')} = ANY(%s)", (part,)
                )
            else:
                conn.execute(update(t).where(t.c.id.in_(part)).values(current=False))
        self._insert_many(schema.score_sheets, sheets)
        return {key: total for key, (_, total) in old.items()}

    def sheet_totals(self, cycle_id: str, own_excluded: bool = False) -> list[tuple[int, int]]:
        """(project, total) of every current sheet of a cycle: what ranking needs, nothing more
        (``own_excluded``: not a city's sheet on its own project, which a cycle keeps uncounted)."""
        t = schema.score_sheets
        q = select(t.c.project_id, t.c.total).where(t.c.cycle_id == cycle_id, t.c.current.is_(True))
        return [(pid, total) for pid, total in self.s.connection().execute(_not_own(q, own_excluded))]

    def sheet_sums(self, cycle_id: str, own_excluded: bool = False) -> list[tuple[int, int, int]]:
        """(project, sum of totals, number of sheets) over the current sheets of a cycle, added up
        by the database: a mean or a sum ranks from these without reading every sheet (as
        ``sheet_totals``)."""
        t = schema.score_sheets
        q = select(t.c.project_id, func.sum(t.c.total), func.count()).where(
            t.c.cycle_id == cycle_id, t.c.current.is_(True)
        )
        q = _not_own(q, own_excluded).group_by(t.c.project_id)
        return [(pid, int(total), n) for pid, total, n in self.s.connection().execute(q)]

    def sheet_keys(self, cycle_id: str, by_scorer: bool = False, city: str | None = None) -> list[tuple[str, int]]:
        """(city, or ``by_scorer`` the scorer; project) of each current sheet of a cycle (only
        ``city``'s when given): who has scored what, from the sheets' index, no sheet read whole."""
        t = schema.score_sheets
        key = t.c.scorer if by_scorer else t.c.city
        where = [t.c.cycle_id == cycle_id, t.c.current.is_(True)] + ([t.c.city == city] if city is not None else [])
        return [(who, pid) for who, pid in self.s.connection().execute(select(key, t.c.project_id).where(*where))]

    def sheets(self, cycle_id: str, project_id: int | None = None, current_only: bool = True) -> list[ScoreSheet]:
        t = schema.score_sheets
        where = [t.c.cycle_id == cycle_id]
        if project_id is not None:
            where.append(t.c.project_id == project_id)
        if current_only:
            where.append(t.c.current.is_(True))
        return self._records(ScoreSheet, schema.score_sheets, *where, order_by=(t.c.project_id, t.c.city, t.c.id))

    def count_current_sheets(
        self,
        cycle_id: str,
        key_states: Sequence[str],
        by_scorer: bool = False,
        by_state: Mapping[str, int] | None = None,
        totals: SheetTotals | None = None,
    ) -> dict[str, int]:
        """Current sheets per scoring city (``by_scorer``: per scorer, a committee's votes), of the
        projects in ``key_states``. The projects are named by a subquery (answered from the
        projects' covering index) rather than joined, which would read a project row per sheet:
        four times faster on 90,000 sheets (see ``current_sheet_counts`` for which side of the
        states is read)."""
        who = schema.score_sheets.c.scorer if by_scorer else schema.score_sheets.c.city
        return current_sheet_counts(self.s.connection(), cycle_id, key_states, who, by_state=by_state, totals=totals)

    def current_sheet_totals(self, cycle_id: str, by_scorer: bool = False) -> dict[str, tuple[int, int]]:
        """Every current sheet of the cycle counted by city (``by_scorer``: by scorer), with the
        projects they are on: party -> (sheets, projects), one read of the sheets' index."""
        s = schema.score_sheets
        who = s.c.scorer if by_scorer else s.c.city
        q = (
            select(who, func.count(), func.count(func.distinct(s.c.project_id)))
            .where(s.c.cycle_id == cycle_id, s.c.current.is_(True))
            .group_by(who)
        )
        return {party: (n, projects) for party, n, projects in self.s.connection().execute(q)}

    def sheet_tally(self, cycle_id: str) -> dict[tuple[str, str], int] | None:
        """The cycle's current sheets by (city, scorer), as PostgreSQL keeps them (store/tally.py)."""
        return read_sheet_tally(self.s.connection(), cycle_id)


def _not_own(q: Any, own_excluded: bool) -> Any:
    """``q`` over the sheets without (``own_excluded``) a city's sheet on its own project."""
    if not own_excluded:
        return q
    s, p = schema.score_sheets, schema.projects
    return q.join(p, p.c.id == s.c.project_id).where(s.c.city != p.c.city)


# the type checker holds this backend to its port
_port: type[SheetTx] = SheetRows


def current_sheet_counts(
    conn: Any,
    cycle_id: str,
    key_states: Sequence[str],
    who: Any,
    distinct_projects: bool = False,
    by_state: Mapping[str, int] | None = None,
    totals: SheetTotals | None = None,
) -> dict[str, int]:
    """The cycle's current sheets counted by ``who`` (a column of score_sheets), of the projects
    in ``key_states`` (``distinct_projects``: the projects, not the sheets). Which side is read is
    chosen by how many projects stand in each state (counted from the (cycle, city, state) index
    alone): while most of the cycle's projects are in key states (joint scoring and after) every
    current sheet of the cycle is counted from the sheets' index and those of the other states'
    few projects taken off, so that no project row is read for the many; before that, the key
    states' projects are named by a subquery as before. ``totals``: where the whole is read, it
    is asked of ``totals()`` (``current_sheet_totals`` of ``who``, which a caller may have kept)
    rather than counted here."""
    s, p = schema.score_sheets, schema.projects
    keys = set(key_states)
    if by_state is None:  # (a status has counted them by city and state already: guards.py _counts)
        by_state = dict(
            conn.execute(select(p.c.state, func.count()).where(p.c.cycle_id == cycle_id).group_by(p.c.state)).all()
        )
    counted = (
        select(who, func.count(func.distinct(s.c.project_id)) if distinct_projects else func.count())
        .where(s.c.cycle_id == cycle_id, s.c.current.is_(True))
        .group_by(who)
    )
    key_side = sum(n for state, n in by_state.items() if state in keys)
    if key_side <= sum(n for state, n in by_state.items() if state not in keys):
        keyed = select(p.c.id).where(p.c.cycle_id == cycle_id, p.c.state.in_(list(key_states)))
        return {w: n for w, n in conn.execute(counted.where(s.c.project_id.in_(keyed)))}
    # (a sheet is always of a project of its own cycle, and the projects of the two sides are
    # apart, so that the whole less the other side is the key side, distinct projects too)
    if totals is not None:
        whole = {w: projects if distinct_projects else n for w, (n, projects) in totals().items()}
    else:
        whole = {w: n for w, n in conn.execute(counted)}
    others = sorted(state for state, n in by_state.items() if state not in keys and n)
    if others:
        rest = select(p.c.id).where(p.c.cycle_id == cycle_id, p.c.state.in_(others))
        for w, n in conn.execute(counted.where(s.c.project_id.in_(rest))):
            whole[w] -= n
    return {w: n for w, n in whole.items() if n}
