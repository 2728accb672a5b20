"""What `evalflow report` reads, a page at a time: the projects of the score matrix by id (keyset
pages, only the three columns the matrix shows), the current sheets of one page's projects (their
scores and totals, not their bands or instants), the scorers, the list version the report shows.

The report of a 100,000-project cycle reads 900,000 sheets: read whole as records (every JSON
column parsed by its column type, every instant made) they cost 3 GB and most of a minute. These
reads go through the driver's own rows and parse only the scores (orjson), and a page's rows are
dropped once written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import orjson
from sqlalchemy import case, select

from store import schema
from store.rows import TxBase
from workflow.ports import ReportTx
from workflow.records import ListVersion


class ReportRows(TxBase):
    """The report's reads: pages of projects and of their current sheets, in id order."""

    def _sql(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Rows of a statement in the driver's own terms: ``?`` marks a parameter, and ``+`` before
        a column keeps SQLite from answering that condition from an index (SQLite's own way to
        steer its planner, which has no statistics to go by: without it a page's read would take
        the cycle's index and walk every project, or every sheet, of the cycle for each page);
        PostgreSQL plans from its statistics."""
        conn = self.s.connection()
        if conn.dialect.name != "sqlite":
            sql = sql.replace("+", "")
        if conn.dialect.paramstyle != "qmark":
            sql = sql.replace("?", "%s")
        return list(conn.exec_driver_sql(sql, tuple(params)).cursor.fetchall())

    def report_list(self, cycle_id: str) -> ListVersion | None:
        """The head (no entries) of the list version a report shows: the newest published one,
        else the newest."""
        t = schema.list_versions
        names = [f.name for f in fields(ListVersion) if f.name != "entries"]
        published = case((t.c.status == "published", 1), else_=0)
        q = select(*(t.c[n] for n in names)).where(t.c.cycle_id == cycle_id)
        row = self.s.connection().execute(q.order_by(published.desc(), t.c.number.desc()).limit(1)).first()
        return None if row is None else ListVersion(**dict(zip(names, row, strict=True)), entries=[])

    def report_projects(
        self, cycle_id: str, states: Sequence[str], after: int, limit: int
    ) -> list[tuple[int, str, str]]:
        """(id, project name, city) of at most ``limit`` projects in ``states`` whose id is above
        ``after``, in id order: one page of the score matrix (none for no states: a program
        that ranks nothing)."""
        if not states:
            return []
        marks = ", ".join("?" * len(states))
        sql = (
            "SELECT id, project_name, city FROM projects"
            f" WHERE +cycle_id = ? AND +state IN ({marks}) AND id > ? ORDER BY id LIMIT ?"
        )
        return [(pid, name, city) for pid, name, city in self._sql(sql, (cycle_id, *states, after, limit))]

    def report_sheet_cities(self, cycle_id: str) -> list[str]:
        """Every city with a current sheet in the cycle, in name order (from the sheets' index)."""
        t = schema.score_sheets
        q = select(t.c.city).where(t.c.cycle_id == cycle_id, t.c.current.is_(True)).distinct().order_by(t.c.city)
        return [city for (city,) in self.s.connection().execute(q)]

    def report_sheets(
        self,
        cycle_id: str,
        cities: Sequence[str],
        first: int,
        last: int,
        criteria: Sequence[str],
        by_scorer: bool = False,
    ) -> dict[int, dict[str, tuple[Any, ...]]]:
        """The current sheets of ``cities`` on the projects ``first`` to ``last``, each project's
        by city (``by_scorer``: by scorer) in the order read: each city's run of the sheets'
        index (cycle, current, city, project), whose rows lie together as each city's batch
        wrote them, with no sort. A sheet as the matrix shows its cells: the tuple of
        ``criteria``'s scores in that order (None where one is missing), its total last."""
        if not cities:
            return {}
        conn = self.s.connection()
        scores = "CAST(scores AS TEXT)" if conn.dialect.name == "postgresql" else "scores"
        sql = (
            f"SELECT project_id, {'scorer' if by_scorer else 'city'}, total, {scores} FROM score_sheets"
            f" WHERE cycle_id = ? AND current = ? AND city IN ({', '.join('?' * len(cities))})"
            " AND project_id >= ? AND project_id <= ? ORDER BY city, project_id"
        )
        rows = self._sql(sql, (cycle_id, True, *cities, first, last))
        loads = orjson.loads
        # the same scores and total recur from sheet to sheet (a few hundred alike in 18,000 at
        # 100,000 projects): each of the page's is parsed and put in order once; the tuples are
        # shared, read only, and dropped with the page
        ids = tuple(criteria)
        made: dict[tuple[str, int], tuple[Any, ...]] = {}
        out: dict[int, dict[str, tuple[Any, ...]]] = {}
        for pid, key, total, text in rows:
            cells = made.get((text, total))
            if cells is None:
                cells = made[text, total] = (*map(loads(text).get, ids), total)
            found = out.get(pid)
            if found is None:
                out[pid] = {key: cells}
            else:
                found[key] = cells
        return out

    def report_scorers(self, cycle_id: str) -> list[str]:
        """Every scorer with a current sheet in the cycle, in name order (Python's: a database's
        collation may order names otherwise, and the matrix's columns were always in this one)."""
        t = schema.score_sheets
        q = select(t.c.scorer).where(t.c.cycle_id == cycle_id, t.c.current.is_(True)).distinct()
        return sorted(who for (who,) in self.s.connection().execute(q))

    def project_cities(self, cycle_id: str, state: str) -> list[tuple[int, str]]:
        """(id, city) of the cycle's projects in ``state``."""
        t = schema.projects
        q = select(t.c.id, t.c.city).where(t.c.cycle_id == cycle_id, t.c.state == state).order_by(t.c.id)
        return [(pid, city) for pid, city in self.s.connection().execute(q)]


# the type checker holds this backend to its port
_port: type[ReportTx] = ReportRows
