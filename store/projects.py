"""Projects as rows: read and written in batches of thousands, on SQLite through the driver's own
rows where a Core statement's work per row would cost more than the database."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Sequence
from dataclasses import fields
from operator import attrgetter
from typing import Any

from sqlalchemy import JSON, bindparam, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from i18n import Msg
from store import pg_bulk, schema
from store.cycle_range import within_cycle_ids
from store.rows import TxBase, binders, bound_rows, insert_sql
from store.schema import UTCDateTime
from workflow.ports import ProjectTx
from workflow.records import Project

_PROJECT_FIELDS = tuple(f.name for f in fields(Project))
# what save_projects writes of a project, besides its new version (application and record only
# when an effect changed them)
_SAVED = ("state", "review_result", "review_method", "application", "updated_at", "reopened_to", "record")
_UPDATES: dict[tuple[str, tuple[str, ...]], tuple[str, list[tuple[Any, Any]]]] = {}


def _update_sql(dialect: Any, names: Sequence[str]) -> tuple[str, list[tuple[Any, Any]]]:
    """The UPDATE of save_projects for ``names`` in the driver's own parameter style: the new
    version, then ``names``, where the id and the version read match; with each of ``names``'
    bind processor (None where the driver takes the value as it is) and column; cached."""
    key = (dialect.name, tuple(names))
    found = _UPDATES.get(key)
    if found is None:
        t = schema.projects
        quote = dialect.identifier_preparer.quote
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        sets = ", ".join(f"{quote(n)} = {mark}" for n in ("version", *names))
        sql = f"UPDATE {quote(t.name)} SET {sets} WHERE {quote('id')} = {mark} AND {quote('version')} = {mark}"
        found = _UPDATES[key] = (sql, [(t.c[n].type._cached_bind_processor(dialect), t.c[n]) for n in names])
    return found


_SELECTS: dict[tuple[str, ...], tuple[str, list[tuple[Any, Any]]]] = {}
_APPLICATION = _PROJECT_FIELDS.index("application")


def _sqlite_projects(conn: Any, ids: Sequence[int], with_application: bool) -> list[Project]:
    """The projects of ``ids`` (at most 500), in id order, on SQLite: the rows of one DB-API
    select, each value through its column type's own result processing (JSON, instants to UTC),
    as _project_rows reads them, without a Core result's work per row (a score batch reads 10,000
    projects). The instants of a batch's rows are mostly one text: it is made into its instant
    once per call. Without ``with_application`` the application is left out, empty."""
    names = tuple(n for n in _PROJECT_FIELDS if with_application or n != "application")
    found = _SELECTS.get(names)
    if found is None:
        t = schema.projects
        quote = conn.dialect.identifier_preparer.quote
        sql = f"SELECT {', '.join(quote(n) for n in names)} FROM {quote(t.name)} WHERE {quote('id')} IN ({{}})"
        sql += f" ORDER BY {quote('id')}"
        procs = [(t.c[n].type._cached_result_processor(conn.dialect, None), t.c[n]) for n in names]
        found = _SELECTS[names] = (sql, procs)
    sql, procs = found
    processed = [
        (i, _same_text(p) if isinstance(c.type, UTCDateTime) else _empty_or(p) if isinstance(c.type, JSON) else p)
        for i, (p, c) in enumerate(procs)
        if p
    ]
    statement = sql.format(", ".join(["?"] * len(ids)))
    cursor = conn.exec_driver_sql(statement, tuple(ids)).cursor
    try:
        rows = cursor.fetchall()  # (the driver's own rows: a Core result's fetch costs 0.5 µs a row more)
    except sqlite3.Error as exc:  # as the Core result would have raised it
        raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from None
    out = []
    for r in rows:
        row = list(r)
        for i, p in processed:
            row[i] = p(row[i])
        if not with_application:
            row.insert(_APPLICATION, {})
        out.append(Project(*row))
    return out


def _pg_projects(conn: Any, ids: Sequence[int], with_application: bool) -> list[Project]:
    """The projects of ``ids``, in id order, on PostgreSQL: one select of the driver's own rows
    (store/pg_bulk.py select_by_ids), as _sqlite_projects reads them on SQLite."""
    names = [n for n in _PROJECT_FIELDS if with_application or n != "application"]
    rows = pg_bulk.select_by_ids(conn, schema.projects, names, ids)
    if not with_application:
        for row in rows:
            row.insert(_APPLICATION, {})
    return [Project(*row) for row in rows]


class _Written:
    """How many rows a statement wrote, as _save_checked reads it of a result."""

    __slots__ = ("rowcount",)

    def __init__(self, rowcount: int):
        self.rowcount = rowcount


def _empty_or(process: Any) -> Any:
    """A JSON column's result processing, the usual empty record made without parsing."""

    def value(text: Any) -> Any:
        return {} if text == "{}" else process(text)

    return value


def _same_text(process: Any) -> Any:
    """``process`` remembering the text it last made a value of (for one read's rows)."""
    last: list[Any] = [None, None]

    def remembered(value: Any) -> Any:
        if type(value) is not str:
            return process(value)
        if value != last[0]:
            last[0], last[1] = value, process(value)
        return last[1]

    return remembered


class ProjectRows(TxBase):
    """Projects: one row each, its application and record as JSON."""

    def get_project(self, project_id: int) -> Project | None:
        found = self._project_rows([schema.projects.c.id == project_id], with_application=True)
        return found[0] if found else None

    def _project_rows(self, where: Any, with_application: bool) -> list[Project]:
        """Projects matching ``where``, in id order, read with Core (no ORM bookkeeping for a
        batch); without ``with_application`` their (large) application is left out, empty."""
        t = schema.projects
        names = [f.name for f in fields(Project) if with_application or f.name != "application"]
        rows = self.s.connection().execute(select(*(t.c[n] for n in names)).where(*where).order_by(t.c.id)).all()
        extra: dict[str, Any] = {} if with_application else {"application": {}}
        return [Project(**dict(zip(names, row, strict=True)), **extra) for row in rows]

    def get_projects(self, project_ids: Sequence[int], with_application: bool = True) -> dict[int, Project]:
        """Several projects by id, read fresh, in a few statements (see _project_rows)."""
        ids = list(dict.fromkeys(project_ids))
        t = schema.projects
        out: dict[int, Project] = {}
        conn = self.s.connection()
        step = 5000 if conn.dialect.name == "postgresql" else 500  # (there: one array, not 500 parameters)
        for start in range(0, len(ids), step):
            part = ids[start : start + step]
            if conn.dialect.name == "sqlite":
                found = _sqlite_projects(conn, part, with_application)
            elif conn.dialect.name == "postgresql":
                found = _pg_projects(conn, part, with_application)
            else:
                found = self._project_rows([t.c.id.in_(part)], with_application)
            for p in found:
                out[p.id] = p  # type: ignore[index]
        return out

    def insert_projects(self, projects: Sequence[Project]) -> None:
        """Insert new projects; their generated ids are written back, in order.

        On SQLite, which cannot tell which row of a many-row INSERT … RETURNING got which id,
        a Core insert runs one statement per row anyway, with a compiled statement's parameters
        and a result to make for each: there the values are bound as _insert_many binds them and
        the rows written in one executemany with the ids SQLite would give them. On PostgreSQL
        ids from the table's sequence and one COPY (_pg_insert_projects). Elsewhere one Core
        insert with RETURNING in parameter order."""
        for p in projects:
            p.version = 1
        t = schema.projects
        conn = self.s.connection()
        bound = None
        if conn.dialect.name == "sqlite" and projects:
            try:
                bound = bound_rows(conn, t, projects)
            except Exception:
                # a value its column refuses (a naive instant): left to the Core insert below,
                # which refuses it as it always did, before it writes anything
                bound = None
        pg_ids = self._pg_insert_projects(conn, projects) if conn.dialect.name == "postgresql" and projects else None
        if pg_ids is not None:
            ids = pg_ids
        elif bound is not None:
            _, rows = bound
            # the ids SQLite itself gives new rows of a table without AUTOINCREMENT, max(id) + 1
            # onwards: the transaction holds the write lock (BEGIN IMMEDIATE), so no other writer
            # takes one; written with them in one executemany, not one statement per row
            names = tuple(f.name for f in fields(projects[0]) if f.name != "id")
            sql = insert_sql(conn.dialect, t, ("id", *names))[0]
            first = (conn.exec_driver_sql("SELECT max(id) FROM projects").scalar() or 0) + 1
            ids = list(range(first, first + len(rows)))
            conn.exec_driver_sql(sql, [(pid, *row) for pid, row in zip(ids, rows, strict=True)])
        else:
            values = [{f.name: getattr(p, f.name) for f in fields(p) if f.name != "id"} for p in projects]
            stmt = insert(t).returning(t.c.id, sort_by_parameter_order=True)  # Core: no ORM bookkeeping per row
            ids = conn.execute(stmt, values).scalars().all()
        for p, pid in zip(projects, ids, strict=True):
            p.id = pid

    def _pg_insert_projects(self, conn: Any, projects: Sequence[Project]) -> list[int] | None:
        """insert_projects on PostgreSQL: ids from the table's own sequence, the rows by COPY
        (store/pg_bulk.py); the ids, in order. None: a value its column refuses (a naive
        instant), left to the Core insert, which refuses it as it always did."""
        t = schema.projects
        names = tuple(f.name for f in fields(projects[0]) if f.name != "id")
        try:
            rows = pg_bulk.record_rows(conn, t, names, projects)
        except Exception:
            return None
        ids = pg_bulk.reserve_ids(conn, t, len(projects))
        pg_bulk.insert_rows(conn, t, ("id", *names), [(pid, *row) for pid, row in zip(ids, rows, strict=True)])
        self._grew(t, len(projects))
        return ids

    def save_projects(
        self,
        projects: Sequence[Project],
        with_application: bool = True,
        with_record: bool = True,
        untouched: Collection[str] = (),
    ) -> None:
        """Write many projects in one statement (executemany), each only if its stored version is
        still the one read; bump them. If any moved, raise ConcurrentChange for the first one
        found (the caller's transaction then writes nothing). ``untouched``: columns among
        review_result, review_method and reopened_to that no project of the batch changed,
        left out of the UPDATE (the database then leaves their indexes alone)."""
        if not projects:
            return
        dialect = self.s.connection().dialect.name
        if dialect == "sqlite":
            self._sqlite_save_projects(projects, with_application, with_record, untouched)
            return
        if dialect == "postgresql":
            self._pg_save_projects(projects, with_application, with_record, untouched)
            return
        t = schema.projects
        values = {
            "version": bindparam("b_new"),
            "state": bindparam("b_state"),
            "review_result": bindparam("b_result"),
            "review_method": bindparam("b_method"),
            "updated_at": bindparam("b_updated", type_=t.c.updated_at.type),
            "reopened_to": bindparam("b_reopened"),
        }
        for name in untouched:
            values.pop(name)
        if with_application:  # (the JSON is rewritten only when an effect changed it)
            values["application"] = bindparam("b_application", type_=t.c.application.type)
        if with_record:
            values["record"] = bindparam("b_record", type_=t.c.record.type)
        stmt = update(t).where(t.c.id == bindparam("b_id"), t.c.version == bindparam("b_version")).values(**values)
        rows = [
            {
                "b_id": p.id,
                "b_version": p.version,
                "b_new": p.version + 1,
                "b_state": p.state,
                "b_result": p.review_result,
                "b_method": p.review_method,
                **({"b_application": p.application} if with_application else {}),
                **({"b_record": p.record} if with_record else {}),
                "b_updated": p.updated_at,
                "b_reopened": p.reopened_to,
            }
            for p in projects
        ]
        self._save_checked(projects, lambda: self.s.connection().execute(stmt, rows))

    def _sqlite_save_projects(
        self, projects: Sequence[Project], with_application: bool, with_record: bool, untouched: Collection[str]
    ) -> None:
        """save_projects on SQLite: the same UPDATE, as one DB-API executemany of plain rows, each
        value through its column type's own bind processing (instants to UTC, JSON), without a
        Core statement's parameter work per row (a batch saves 10,000 projects)."""
        names = [
            n
            for n in _SAVED
            if (with_application or n != "application") and (with_record or n != "record") and n not in untouched
        ]
        conn = self.s.connection()
        sql, procs = _update_sql(conn.dialect, names)
        processed = binders(procs)
        values = attrgetter(*names)
        rows = []
        for p in projects:
            row = [p.version + 1, *values(p), p.id, p.version]
            for i, process in processed:
                row[i + 1] = process(row[i + 1])
            rows.append(tuple(row))
        self._save_checked(projects, lambda: self.s.connection().exec_driver_sql(sql, rows))

    def _pg_save_projects(
        self, projects: Sequence[Project], with_application: bool, with_record: bool, untouched: Collection[str]
    ) -> None:
        """save_projects on PostgreSQL: the same version-checked UPDATE, as one statement over
        arrays of the batch's values (store/pg_bulk.py update_versioned), not one per project."""
        names = [
            n
            for n in _SAVED
            if (with_application or n != "application") and (with_record or n != "record") and n not in untouched
        ]
        t = schema.projects
        bound = pg_bulk.record_rows(self.s.connection(), t, names, projects)
        rows = [(p.version + 1, *row, p.id, p.version) for p, row in zip(projects, bound, strict=True)]
        self._save_checked(projects, lambda: _Written(pg_bulk.update_versioned(self.s.connection(), t, names, rows)))

    def _save_checked(self, projects: Sequence[Project], write: Callable[[], Any]) -> None:
        """Run ``write`` (the batch's version-checked UPDATE) inside a savepoint; if it did not
        write every project, some project moved: undo the batch and write one by one, which
        names the first moved (ConcurrentChange). Otherwise bump the versions."""
        savepoint = self.s.begin_nested()
        result = write()  # (asking for the connection inside ``write`` begins the savepoint)
        if result.rowcount != len(projects):
            savepoint.rollback()
            for p in projects:
                self.save_project(p)
            return
        savepoint.commit()
        for p in projects:
            p.version += 1

    def save_project(self, project: Project) -> None:
        """Write the project if the stored version is still ``project.version``; bump it."""
        self._save_versioned(
            schema.projects,
            project,
            Msg("project {id}", id=project.id),
            state=project.state,
            review_result=project.review_result,
            review_method=project.review_method,
            application=project.application,
            updated_at=project.updated_at,
            reopened_to=project.reopened_to,
            record=project.record,
        )

    def find_projects(
        self,
        cycle_id: str,
        cities: Sequence[str] | None = None,
        states: Sequence[str] | None = None,
        applicant: str | None = None,
        with_application: bool = True,
    ) -> list[Project]:
        """A cycle's projects, in id order (see _project_rows): callers that rank, place or list
        them leave the applications out."""
        t = schema.projects
        # (the cycle's run of ids: read in id order, no other cycle's rows first; store/cycle_range.py)
        where = [t.c.cycle_id == cycle_id, within_cycle_ids(cycle_id)]
        if cities is not None:
            where.append(t.c.city.in_(list(cities)))
        if states is not None:
            where.append(t.c.state.in_(list(states)))
        if applicant is not None:
            where.append(t.c.applicant == applicant)
        return self._project_rows(where, with_application)

    def unit_projects(self, program_id: str, units: Sequence[str]) -> list[Project]:
        """The projects of these applying units in every cycle of a program (their applications
        left out), oldest first: a unit's record across the years."""
        if not units:
            return []
        t, c = schema.projects, schema.cycles
        cycles = select(c.c.id).where(c.c.program_id == program_id)
        out: list[Project] = []
        names = sorted(set(units))
        for start in range(0, len(names), 500):
            out += self._project_rows([t.c.cycle_id.in_(cycles), t.c.unit_name.in_(names[start : start + 500])], False)
        return sorted(out, key=lambda p: p.id or 0)

    def project_keys(self, cycle_id: str) -> dict[tuple[str, str], int]:
        """(applying unit, project name) -> project id, for every project of a cycle: how an import
        knows what was submitted already (three small columns, not whole projects)."""
        t = schema.projects
        q = select(t.c.unit_name, t.c.project_name, t.c.id).where(t.c.cycle_id == cycle_id)
        return {(unit, name): pid for unit, name, pid in self.s.connection().execute(q)}

    def project_ids(self, cycle_id: str, states: Sequence[str]) -> list[int]:
        """The ids of a cycle's projects in ``states``, in id order."""
        t = schema.projects
        q = select(t.c.id).where(t.c.cycle_id == cycle_id, t.c.state.in_(list(states))).order_by(t.c.id)
        return list(self.s.connection().execute(q).scalars())

    def project_names(self, cycle_id: str, states: Sequence[str]) -> dict[int, tuple[str, str, str]]:
        """project id -> (party, applying unit, project name) of a cycle's projects in ``states``:
        what a ranked list names, without whole projects (a tenth of their memory at 100k)."""
        t = schema.projects
        q = select(t.c.id, t.c.city, t.c.unit_name, t.c.project_name).where(
            t.c.cycle_id == cycle_id, t.c.state.in_(list(states))
        )
        parties: dict[str, str] = {}  # one string per party, not one per project
        return {
            pid: (parties.setdefault(city, city), unit, name)
            for pid, city, unit, name in self.s.connection().execute(q)
        }

    def count_by_city_state(self, cycle_id: str) -> dict[tuple[str, str], int]:
        t = schema.projects
        q = select(t.c.city, t.c.state, func.count()).where(t.c.cycle_id == cycle_id).group_by(t.c.city, t.c.state)
        return {(city, state): n for city, state, n in self.s.connection().execute(q)}

    def count_review_results(self, cycle_id: str) -> dict[tuple[str, str], int]:
        t = schema.projects
        q = (
            select(t.c.city, t.c.review_result, func.count())
            .where(t.c.cycle_id == cycle_id, t.c.review_result.is_not(None))
            .group_by(t.c.city, t.c.review_result)
        )
        return {(city, result): n for city, result, n in self.s.connection().execute(q)}

    def reopened_projects(self, cycle_id: str) -> list[Project]:
        t = schema.projects
        return self._project_rows([t.c.cycle_id == cycle_id, t.c.reopened_to.is_not(None)], with_application=True)


# the type checker holds this backend to its port
_port: type[ProjectTx] = ProjectRows
