"""One page of a cycle's project list in SQL: its conditions, search, order, count and window
(LIMIT/OFFSET) done by the database, reading only the columns the list shows (no application,
no record), on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select, true

from store import schema
from store.cycle_range import within_cycle_ids
from store.rows import TxBase
from workflow.page_query import Match, PageQuery
from workflow.ports import ProjectPageTx
from workflow.records import Project

# what a page reads of a project: everything but its application and record (left empty)
PAGE_COLUMNS = (
    "id",
    "cycle_id",
    "city",
    "applicant",
    "unit_name",
    "project_name",
    "state",
    "review_result",
    "review_method",
    "version",
    "submitted_at",
    "updated_at",
    "reopened_to",
)


def page_project(row: Any) -> Project:
    """A project as a page shows it, from a row of PAGE_COLUMNS (its application and record left
    empty)."""
    return Project(**dict(zip(PAGE_COLUMNS, row, strict=True)), application={}, record={})


def _like(text: str) -> str:
    """``text`` as a LIKE pattern matching it anywhere, its own wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ProjectPages(TxBase):
    """A page of projects, and the ids of a whole view (ordered elsewhere: by score)."""

    def _record_filled(self, key: str) -> ColumnElement[bool]:
        """Whether the record's list ``key`` has an entry (the record is JSON text, not jsonb)."""
        t = schema.projects
        if self.s.connection().dialect.name == "postgresql":
            length = func.json_array_length(t.c.record.op("->")(key))
        else:
            length = func.json_array_length(t.c.record, "$." + '"' + key.replace('"', '""') + '"')
        return func.coalesce(length, 0) > 0

    def _term(self, m: Match) -> ColumnElement[bool]:
        t = schema.projects
        tests: list[ColumnElement[bool]] = []
        if m.cities is not None:
            tests.append(t.c.city.in_(m.cities))
        if m.states is not None:
            tests.append(t.c.state.in_(m.states))
        if m.applicant is not None:
            tests.append(t.c.applicant == m.applicant)
        if m.reopened_to is not None:
            named = [s for s in m.reopened_to if s is not None]
            either = [t.c.reopened_to.in_(named)] if named else []
            if None in m.reopened_to:
                either.append(t.c.reopened_to.is_(None))
            tests.append(or_(*either) if either else false())
        if m.review_results is not None:
            tests.append(t.c.review_result.in_(m.review_results))
        if m.ids is not None:
            tests.append(t.c.id.in_(m.ids) if m.ids else false())
        if m.not_ids:
            tests.append(t.c.id.not_in(m.not_ids))
        tests += [self._record_filled(k) for k in m.record_has]
        tests += [~self._record_filled(k) for k in m.record_lacks]
        return and_(true(), *tests)

    def _where(self, cycle_id: str, query: PageQuery, in_id_order: bool = True) -> list[ColumnElement[bool]]:
        t = schema.projects
        # (the cycle's run of ids: read in id order, no other cycle's rows first; store/cycle_range.py;
        # a grouped count reads no order, and the range would keep it from the indexes alone)
        where: list[ColumnElement[bool]] = [t.c.cycle_id == cycle_id]
        if in_id_order:
            where.append(within_cycle_ids(cycle_id))
        for terms in query.all_of:
            where.append(or_(*(self._term(m) for m in terms)) if terms else false())
        text = query.search.strip()
        if text:
            found: list[ColumnElement[bool]] = [
                t.c.project_name.ilike(_like(text), escape="\\"),
                t.c.unit_name.ilike(_like(text), escape="\\"),
            ]
            number = text.lstrip("#")
            if number.isdecimal() and len(number) < 18:  # (an id: a whole number the column holds)
                found.append(t.c.id == int(number))
            where.append(or_(*found))
        return where

    def _order(self, query: PageQuery) -> list[Any]:
        t = schema.projects
        out: list[Any] = []
        for key in query.sort:
            column: Any = t.c[key.column]
            if key.positions:  # the program's order of its parties or states, others after them
                column = case(dict(key.positions), value=column, else_=len(key.positions))
            out.append(column.desc() if key.descending else column.asc())
        return [*out, t.c.id.asc()]  # (a stable order: the id last)

    def project_page(self, cycle_id: str, query: PageQuery, total: int | None = None) -> tuple[list[Project], int]:
        """The projects of one page of ``query`` (their application and record left out, empty)
        and how many the whole view holds: a count and one window, both in SQL (the count not
        where the caller knows it: ``total``)."""
        t = schema.projects
        conn = self.s.connection()
        where = self._where(cycle_id, query)
        if total is None:
            total = conn.execute(select(func.count()).select_from(t).where(*where)).scalar_one()
        q = select(*(t.c[n] for n in PAGE_COLUMNS)).where(*where).order_by(*self._order(query))
        if query.limit is not None:
            q = q.limit(query.limit).offset(query.offset)
        elif query.offset:
            q = q.offset(query.offset)
        rows = conn.execute(q).all()
        return [page_project(row) for row in rows], total

    def project_page_ids(self, cycle_id: str, query: PageQuery) -> list[int]:
        """The ids of every project of ``query``'s view (its window ignored), in its order."""
        t = schema.projects
        q = select(t.c.id).where(*self._where(cycle_id, query)).order_by(*self._order(query))
        return list(self.s.connection().execute(q).scalars())

    def projects_by_ids(self, ids: list[int]) -> list[Project]:
        """The page columns of these projects, in the order of ``ids``."""
        t = schema.projects
        found: dict[int, Project] = {}
        conn = self.s.connection()
        for start in range(0, len(ids), 500):
            q = select(*(t.c[n] for n in PAGE_COLUMNS)).where(t.c.id.in_(ids[start : start + 500]))
            for row in conn.execute(q):
                p = page_project(row)
                found[p.id] = p  # type: ignore[index]
        return [found[i] for i in ids if i in found]


# the type checker holds this backend to its port
_port: type[ProjectPageTx] = ProjectPages
