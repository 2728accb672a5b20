"""The SQL store: implements the engine's store port on SQLModel / SQLAlchemy.

SQLite (the embedded default) runs in WAL mode with a busy timeout, and write transactions
start with BEGIN IMMEDIATE so that two writers queue instead of failing half-way.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields, is_dataclass
from datetime import UTC
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Text, bindparam, cast, delete, event, func, insert, inspect, or_, select, text, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError
from sqlmodel import Session, SQLModel, create_engine

from store.guard import protect_audit
from store.tables import (
    AppealRow,
    AuditHeadRow,
    AuditRow,
    ConfirmationRow,
    CycleRow,
    LeaseRow,
    ListVersionRow,
    ProjectRow,
    ReminderRow,
    ScoreSheetRow,
    UserRow,
    UTCDateTime,
)
from workflow.audit import GENESIS, chain_of, seal
from workflow.errors import ConcurrentChange, StoreUnavailable
from workflow.records import (
    Appeal,
    AuditEntry,
    Confirmation,
    Cycle,
    Lease,
    ListEntry,
    ListVersion,
    Project,
    Reminder,
    ScoreSheet,
    User,
)

BUSY_TIMEOUT_MS = 10_000
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FIRST = "0001"
HEAD = "0004"  # the newest revision in store/migrations/versions (a test keeps this true)
R = TypeVar("R")


def database_url(db: str | None) -> str:
    """A path or a URL; default ./evalflow.db (or EVALFLOW_DATABASE_URL)."""
    value = db or os.environ.get("EVALFLOW_DATABASE_URL") or "evalflow.db"
    return value if "://" in value else f"sqlite:///{value}"


def _why(exc: Exception) -> str:
    """The driver's reason on one line (psycopg's messages carry hints on lines of their own)."""
    return " ".join(str(getattr(exc, "orig", exc)).split())


_ENGINES: dict[str, Engine] = {}


def make_engine(url: str) -> Engine:
    """One engine (and connection pool) per database URL in a process."""
    engine = _ENGINES.get(url)
    if engine is None:
        engine = _ENGINES[url] = _new_engine(url)
    return engine


def _new_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "isolation_level": None},
            json_serializer=_to_json,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write", True) else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=_to_json)


def _to_json(value: Any) -> str:
    """The JSON text of a column's value. A record inside it (a list version's entry) is written as
    its fields, the same text as a dict of them, each made only while it is written: a list of
    100,000 entries is not first copied into 100,000 dicts."""
    return json.dumps(value, default=_fields)


def _fields(value: Any) -> dict[str, Any]:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _entries(text: str) -> list[ListEntry]:
    """A list version's entries from their JSON text, each made into its record as it is read (no
    dict per entry kept for the whole list); the few parties and categories are one string each."""
    words: dict[str, str] = {}

    def entry(e: dict[str, Any]) -> ListEntry:
        e["city"] = words.setdefault(e["city"], e["city"])
        e["category"] = words.setdefault(e["category"], e["category"])
        return ListEntry(**e)

    return json.loads(text, object_hook=entry)


class SqlStore:
    """Opens transactions on one database."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)

    def describe(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def sqlite_path(self) -> Path | None:
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            return Path(parsed.database)
        return None

    def create(self) -> bool:
        """Create the schema, or bring an existing one up to date; True if it was created now.

        A new database gets the tables as they are and is stamped with the newest revision; an
        existing one is upgraded by the migrations in store/migrations (Alembic). A database made
        before migrations existed is recognised by its tables and stamped first."""
        path = self.sqlite_path()
        fresh = path is not None and not path.exists()
        try:
            existed = inspect(self.engine).has_table("projects")
            if not existed:
                SQLModel.metadata.create_all(self.engine)
                with self.engine.begin() as conn:
                    protect_audit(conn)
                self._alembic("stamp", HEAD)
            else:
                self.upgrade()
        except (OperationalError, DatabaseError) as exc:
            raise StoreUnavailable(f"Cannot create the database at {self.describe()}: {_why(exc)}") from None
        if fresh and path is not None and path.exists():
            path.chmod(0o600)
        return not existed

    def schema_version(self) -> str | None:
        """The schema revision the database is at (None: made before migrations, or empty)."""
        try:
            with self.engine.connect() as conn:
                if not inspect(conn).has_table("alembic_version"):
                    return None
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except (OperationalError, DatabaseError) as exc:
            raise StoreUnavailable(f"Cannot open the database at {self.describe()}: {_why(exc)}") from None

    def is_empty(self) -> bool:
        """Whether the database has no evalflow tables at all (never initialised)."""
        try:
            return not inspect(self.engine).has_table("projects")
        except (OperationalError, DatabaseError) as exc:
            raise StoreUnavailable(f"Cannot open the database at {self.describe()}: {_why(exc)}") from None

    def upgrade(self) -> tuple[str | None, str]:
        """Run every migration the database lacks; returns (revision before, revision after)."""
        before = self.schema_version()
        if before is None:
            tables = set(inspect(self.engine).get_table_names())
            if "projects" not in tables:
                SQLModel.metadata.create_all(self.engine)
                self._alembic("stamp", HEAD)
                return None, HEAD
            # made before migrations existed: the first schema, or this one if it has appeals
            self._alembic("stamp", HEAD if "appeals" in tables else FIRST)
            before = self.schema_version()
        if before != HEAD:
            self._alembic("upgrade", HEAD)
        return before, HEAD

    def _alembic(self, command: str, revision: str) -> None:
        from alembic import command as commands
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.connect() as conn:  # (store/migrations/env.py runs on this connection)
            config.attributes["connection"] = conn
            getattr(commands, command)(config, revision)
            conn.commit()

    def check_ready(self) -> None:
        path = self.sqlite_path()
        if path is not None and not path.exists():
            raise StoreUnavailable(f"No database at {path}; run 'evalflow init' first (or pass --db)")
        try:  # the usual case in one query: the schema is there and current
            with self.engine.connect() as conn:
                if conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD:
                    return
        except (OperationalError, DatabaseError):
            pass  # no such table, or no database at all: found out below, with a clear message
        try:
            ready = inspect(self.engine).has_table("projects")
        except (OperationalError, DatabaseError) as exc:
            raise StoreUnavailable(f"Cannot open the database at {self.describe()}: {_why(exc)}") from None
        if not ready:
            raise StoreUnavailable(f"The database at {self.describe()} is not initialised; run 'evalflow init'")
        version = self.schema_version()
        if version != HEAD:
            raise StoreUnavailable(
                f"The database at {self.describe()} has schema {version or 'from before migrations'}; "
                f"this evalflow needs {HEAD}: run 'evalflow db upgrade' (back it up first)"
            )

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Tx]:
        """One database transaction; commits on success, rolls back on any exception."""
        try:
            with self.engine.connect() as conn:
                conn.info["write"] = write
                with conn.begin():
                    with Session(bind=conn, expire_on_commit=False, autoflush=False) as session:
                        yield Tx(session, write)
                        session.flush()
        except (OperationalError, DatabaseError) as exc:
            raise StoreUnavailable(f"The database at {self.describe()} failed: {_why(exc)}") from None

    def dispose(self) -> None:
        self.engine.dispose()


_INSERTS: dict[tuple[str, str, tuple[str, ...]], tuple[str, list[tuple[Any, Any]]]] = {}


def _insert_sql(dialect: Any, table: Any, names: tuple[str, ...]) -> tuple[str, list[tuple[Any, Any]]]:
    """The INSERT statement for ``names`` of ``table`` in the driver's own parameter style, and
    each column's bind processor (None where the driver takes the value as it is) with the
    column; cached."""
    key = (dialect.name, table.name, names)
    found = _INSERTS.get(key)
    if found is None:
        quote = dialect.identifier_preparer.quote
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)})"
            f" VALUES ({', '.join([mark] * len(names))})"
        )
        found = _INSERTS[key] = (sql, [(table.c[n].type._cached_bind_processor(dialect), table.c[n]) for n in names])
    return found


def _same_once(process: Any) -> Any:
    """``process`` remembering its last value: a batch's rows share one instant."""
    last: list[Any] = [object(), None]

    def remembered(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, process(value)
        return last[1]

    return remembered


def _insert_missing(dialect: str, table: Any, values: dict[str, Any]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING, in the dialect's own words."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    return dialect_insert(table).values(**values).on_conflict_do_nothing()


def _record(cls: type[R], row: Any) -> R:
    """Copy a row into its record (same field names); JSON values are copied so the record owns them."""
    values = {}
    for f in fields(cls):  # type: ignore[arg-type]
        value = getattr(row, f.name)
        values[f.name] = dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value
    return cls(**values)


class Tx:
    """Reads and writes inside one transaction. Every write of a versioned record checks the version."""

    def __init__(self, session: Session, write: bool = True):
        self.s = session
        self.write = write

    def _insert(self, table: type[SQLModel], record: Any, **extra: Any) -> Any:
        """Insert ``record`` as a row of ``table``; a generated id is written back to the record."""
        # shallow: JSON values are written as they are (asdict would deep-copy every one); nested
        # records (a list version's entries) are written as their fields by _to_json
        data = {**{f.name: getattr(record, f.name) for f in fields(record)}, **extra}
        if data.get("id", ...) is None:
            data.pop("id")
        row = table(**data)
        self.s.add(row)
        self.s.flush()
        if hasattr(record, "id"):
            record.id = row.id  # type: ignore[attr-defined]
        return row

    def _insert_many(self, table: Any, records: Sequence[Any]) -> None:
        """Insert records (dataclasses) as rows of ``table`` in one DB-API executemany: each value
        goes through its column type's own bind processing (instants to UTC, JSON), without the
        per-row compilation of an ORM or Core bulk insert, which costs more than the database."""
        if not records:
            return
        conn = self.s.connection()
        names = [f.name for f in fields(records[0]) if f.name != "id"]
        sql, procs = _insert_sql(conn.dialect, table.__table__, tuple(names))
        procs = [_same_once(p) if isinstance(c.type, UTCDateTime) else p for p, c in procs]
        rows = [
            tuple(p(v) if p is not None else v for p, v in zip(procs, map(r.__getattribute__, names), strict=True))
            for r in records
        ]
        conn.exec_driver_sql(sql, rows)

    def _save_versioned(self, table: Any, item: Any, subject: str, /, **values: Any) -> None:
        """Write ``values`` only if the stored version is still ``item.version``; bump it.

        A concurrent writer moved the version: raise ConcurrentChange with both versions."""
        result = self.s.execute(
            update(table)
            .where(table.id == item.id, table.version == item.version)
            .values(version=item.version + 1, **values)
        )
        if result.rowcount != 1:
            found = self.s.execute(select(table.version).where(table.id == item.id)).scalar()
            raise ConcurrentChange(subject, item.version, found)
        item.version += 1

    # -- users ------------------------------------------------------------------------------
    def get_user(self, name: str) -> User | None:
        row = self.s.execute(select(UserRow).where(UserRow.name == name)).scalars().first()
        return _record(User, row) if row else None

    def count_users(self) -> int:
        return self.s.execute(select(func.count()).select_from(UserRow)).scalar_one()

    def add_user(self, user: User, at: Any) -> None:
        self._insert(UserRow, user, created_at=at)

    def list_users(self) -> list[User]:
        return [
            _record(User, r)
            for r in self.s.execute(select(UserRow).order_by(UserRow.role, UserRow.city, UserRow.name)).scalars()
        ]

    # -- cycles -----------------------------------------------------------------------------
    def get_cycle(self, cycle_id: str) -> Cycle | None:
        """The cycle; in a write transaction its row is locked until the transaction ends, so that
        every change to one cycle is made one after the other (on PostgreSQL: SELECT … FOR UPDATE;
        SQLite's BEGIN IMMEDIATE already serialises writers). Guards that count across the cycle
        (quotas, minimums) then see every change committed before theirs."""
        q = select(CycleRow).where(CycleRow.id == cycle_id).execution_options(populate_existing=True)
        if self.write:
            q = q.with_for_update()
        row = self.s.execute(q).scalars().first()
        return _record(Cycle, row) if row else None

    def list_cycles(self) -> list[Cycle]:
        rows = self.s.execute(select(CycleRow).order_by(CycleRow.opened_at.desc())).scalars()  # type: ignore[attr-defined]
        return [_record(Cycle, r) for r in rows]

    def insert_cycle(self, cycle: Cycle) -> None:
        self._insert(CycleRow, cycle)

    def save_cycle(self, cycle: Cycle) -> None:
        """Write stage and settings if the stored version is still ``cycle.version``; bump it."""
        self._save_versioned(CycleRow, cycle, f"cycle {cycle.id}", stage=cycle.stage, settings=cycle.settings)

    # -- projects ---------------------------------------------------------------------------
    def get_project(self, project_id: int) -> Project | None:
        row = self.s.get(ProjectRow, project_id, populate_existing=True)
        return _record(Project, row) if row else None

    def _project_rows(self, where: Any, with_application: bool) -> list[Project]:
        """Projects matching ``where``, in id order, read with Core (no ORM bookkeeping for a
        batch); without ``with_application`` their (large) application is left out, empty."""
        t = ProjectRow.__table__
        names = [f.name for f in fields(Project) if with_application or f.name != "application"]
        rows = self.s.connection().execute(select(*(t.c[n] for n in names)).where(*where).order_by(t.c.id)).all()
        extra = {} if with_application else {"application": {}}
        return [Project(**dict(zip(names, row, strict=True)), **extra) for row in rows]

    def get_projects(self, project_ids: Sequence[int], with_application: bool = True) -> dict[int, Project]:
        """Several projects by id, read fresh, in a few statements (see _project_rows)."""
        ids = list(dict.fromkeys(project_ids))
        t = ProjectRow.__table__
        out: dict[int, Project] = {}
        for start in range(0, len(ids), 500):
            for p in self._project_rows([t.c.id.in_(ids[start : start + 500])], with_application):
                out[p.id] = p  # type: ignore[index]
        return out

    def insert_projects(self, projects: Sequence[Project]) -> None:
        """Insert new projects in one statement; their generated ids are written back, in order."""
        rows = []
        for p in projects:
            p.version = 1
            rows.append({f.name: getattr(p, f.name) for f in fields(p) if f.name != "id"})
        t = ProjectRow.__table__
        stmt = insert(t).returning(t.c.id, sort_by_parameter_order=True)  # Core: no ORM bookkeeping per row
        ids = self.s.connection().execute(stmt, rows).scalars().all()
        for p, pid in zip(projects, ids, strict=True):
            p.id = pid

    def save_projects(
        self, projects: Sequence[Project], with_application: bool = True, with_record: bool = True
    ) -> None:
        """Write many projects in one statement (executemany), each only if its stored version is
        still the one read; bump them. If any moved, raise ConcurrentChange for the first one
        found (the caller's transaction then writes nothing)."""
        if not projects:
            return
        t = ProjectRow.__table__
        values = {
            "version": bindparam("b_new"),
            "state": bindparam("b_state"),
            "municipal_result": bindparam("b_result"),
            "review_method": bindparam("b_method"),
            "updated_at": bindparam("b_updated", type_=t.c.updated_at.type),
            "reopened_to": bindparam("b_reopened"),
        }
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
                "b_result": p.municipal_result,
                "b_method": p.review_method,
                **({"b_application": p.application} if with_application else {}),
                **({"b_record": p.record} if with_record else {}),
                "b_updated": p.updated_at,
                "b_reopened": p.reopened_to,
            }
            for p in projects
        ]
        savepoint = self.s.begin_nested()
        result = self.s.connection().execute(stmt, rows)
        if result.rowcount != len(rows):
            # some project moved: undo the batch and write one by one, which names the first moved
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
            ProjectRow,
            project,
            f"project {project.id}",
            state=project.state,
            municipal_result=project.municipal_result,
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
        t = ProjectRow.__table__
        where = [t.c.cycle_id == cycle_id]
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
        t, c = ProjectRow.__table__, CycleRow.__table__
        cycles = select(c.c.id).where(c.c.program_id == program_id)
        out: list[Project] = []
        names = sorted(set(units))
        for start in range(0, len(names), 500):
            out += self._project_rows(
                [t.c.cycle_id.in_(cycles), t.c.enterprise_name.in_(names[start : start + 500])], False
            )
        return sorted(out, key=lambda p: p.id or 0)

    def project_keys(self, cycle_id: str) -> dict[tuple[str, str], int]:
        """(applying unit, project name) -> project id, for every project of a cycle: how an import
        knows what was submitted already (three small columns, not whole projects)."""
        t = ProjectRow.__table__
        q = select(t.c.enterprise_name, t.c.project_name, t.c.id).where(t.c.cycle_id == cycle_id)
        return {(unit, name): pid for unit, name, pid in self.s.connection().execute(q)}

    def project_ids(self, cycle_id: str, states: Sequence[str]) -> list[int]:
        """The ids of a cycle's projects in ``states``, in id order."""
        t = ProjectRow.__table__
        q = select(t.c.id).where(t.c.cycle_id == cycle_id, t.c.state.in_(list(states))).order_by(t.c.id)
        return list(self.s.connection().execute(q).scalars())

    def project_names(self, cycle_id: str, states: Sequence[str]) -> dict[int, tuple[str, str, str]]:
        """project id -> (party, applying unit, project name) of a cycle's projects in ``states``:
        what a ranked list names, without whole projects (a tenth of their memory at 100k)."""
        t = ProjectRow.__table__
        q = select(t.c.id, t.c.city, t.c.enterprise_name, t.c.project_name).where(
            t.c.cycle_id == cycle_id, t.c.state.in_(list(states))
        )
        parties: dict[str, str] = {}  # one string per party, not one per project
        return {
            pid: (parties.setdefault(city, city), unit, name)
            for pid, city, unit, name in self.s.connection().execute(q)
        }

    def count_by_city_state(self, cycle_id: str) -> dict[tuple[str, str], int]:
        rows = self.s.execute(
            select(ProjectRow.city, ProjectRow.state, func.count())
            .where(ProjectRow.cycle_id == cycle_id)
            .group_by(ProjectRow.city, ProjectRow.state)
        )
        return {(city, state): n for city, state, n in rows}

    def count_municipal_results(self, cycle_id: str) -> dict[tuple[str, str], int]:
        rows = self.s.execute(
            select(ProjectRow.city, ProjectRow.municipal_result, func.count())
            .where(ProjectRow.cycle_id == cycle_id, ProjectRow.municipal_result.is_not(None))  # type: ignore[union-attr]
            .group_by(ProjectRow.city, ProjectRow.municipal_result)
        )
        return {(city, result): n for city, result, n in rows}

    # -- score sheets -----------------------------------------------------------------------
    def supersede_sheets(self, project_id: int) -> list[ScoreSheet]:
        """Mark every current sheet of a project as history (kept, no longer counted); return them."""
        old = [s for s in self.sheets_of(project_id) if s.current]
        if old:
            self.s.execute(
                update(ScoreSheetRow)
                .where(ScoreSheetRow.project_id == project_id, ScoreSheetRow.current.is_(True))  # type: ignore[attr-defined]
                .values(current=False)
            )
        return old

    def sheets_of(self, project_id: int) -> list[ScoreSheet]:
        rows = self.s.execute(
            select(ScoreSheetRow).where(ScoreSheetRow.project_id == project_id).order_by(ScoreSheetRow.id)
        ).scalars()
        return [_record(ScoreSheet, r) for r in rows]

    def put_sheets(self, sheets: Sequence[ScoreSheet], by_scorer: bool = False) -> dict[tuple[int, str], int]:
        """Store each sheet as its city's (``by_scorer``: its scorer's) current sheet of its
        project, in three statements; the sheets they replace stay as history. Returns
        {(project, city or scorer): the replaced total}."""
        keys = {(s.project_id, s.scorer if by_scorer else s.city) for s in sheets}
        old: dict[tuple[int, str], tuple[int, int]] = {}
        ids = sorted({pid for pid, _ in keys})
        t = ScoreSheetRow.__table__
        who_column = t.c.scorer if by_scorer else t.c.city
        # a batch is one scorer's (one city's): read only its sheets, not every party's
        whose = [who_column.in_(sorted({who for _, who in keys}))] if len({who for _, who in keys}) <= 50 else []
        for start in range(0, len(ids), 500):  # stay under SQL parameter limits
            rows = self.s.connection().execute(
                select(t.c.id, t.c.project_id, who_column, t.c.total).where(
                    t.c.project_id.in_(ids[start : start + 500]), t.c.current.is_(True), *whose
                )
            )
            for sid, pid, who, total in rows:
                if (pid, who) in keys:
                    old[(pid, who)] = (sid, total)
        stale = [sid for sid, _ in old.values()]
        for start in range(0, len(stale), 500):
            self.s.execute(
                update(ScoreSheetRow)
                .where(ScoreSheetRow.id.in_(stale[start : start + 500]))  # type: ignore[union-attr]
                .values(current=False)
            )
        self._insert_many(ScoreSheetRow, sheets)
        return {key: total for key, (_, total) in old.items()}

    def sheet_totals(self, cycle_id: str) -> list[tuple[int, int]]:
        """(project, total) of every current sheet of a cycle: what ranking needs, nothing more."""
        t = ScoreSheetRow.__table__
        q = select(t.c.project_id, t.c.total).where(t.c.cycle_id == cycle_id, t.c.current.is_(True))
        return [(pid, total) for pid, total in self.s.connection().execute(q)]

    def sheet_sums(self, cycle_id: str) -> list[tuple[int, int, int]]:
        """(project, sum of totals, number of sheets) over the current sheets of a cycle, added up
        by the database: a mean or a sum ranks from these without reading every sheet."""
        t = ScoreSheetRow.__table__
        q = (
            select(t.c.project_id, func.sum(t.c.total), func.count())
            .where(t.c.cycle_id == cycle_id, t.c.current.is_(True))
            .group_by(t.c.project_id)
        )
        return [(pid, int(total), n) for pid, total, n in self.s.connection().execute(q)]

    def sheets(self, cycle_id: str, project_id: int | None = None, current_only: bool = True) -> list[ScoreSheet]:
        q = select(ScoreSheetRow).where(ScoreSheetRow.cycle_id == cycle_id)
        if project_id is not None:
            q = q.where(ScoreSheetRow.project_id == project_id)
        if current_only:
            q = q.where(ScoreSheetRow.current.is_(True))  # type: ignore[attr-defined]
        return [
            _record(ScoreSheet, r)
            for r in self.s.execute(
                q.order_by(ScoreSheetRow.project_id, ScoreSheetRow.city, ScoreSheetRow.id)
            ).scalars()
        ]

    def count_sheets_by_scorer(self, cycle_id: str, key_states: Sequence[str]) -> dict[str, int]:
        """Current sheets per scorer, of the projects in ``key_states`` (a committee's votes)."""
        return self._count_current_sheets(cycle_id, key_states, "scorer")

    def count_sheets_by_city(self, cycle_id: str, key_states: Sequence[str]) -> dict[str, int]:
        """Current sheets per scoring city, of the projects in ``key_states``."""
        return self._count_current_sheets(cycle_id, key_states, "city")

    def _count_current_sheets(self, cycle_id: str, key_states: Sequence[str], column: str) -> dict[str, int]:
        """Current sheets by ``column``, of the projects in ``key_states``. The projects are named
        by a subquery (answered from the projects' covering index) rather than joined, which
        would read a project row per sheet: four times faster on 90,000 sheets."""
        s, p = ScoreSheetRow.__table__, ProjectRow.__table__
        keyed = select(p.c.id).where(p.c.cycle_id == cycle_id, p.c.state.in_(list(key_states)))
        rows = self.s.connection().execute(
            select(s.c[column], func.count())
            .where(s.c.cycle_id == cycle_id, s.c.current.is_(True), s.c.project_id.in_(keyed))
            .group_by(s.c[column])
        )
        return {who: n for who, n in rows}

    # -- lists ------------------------------------------------------------------------------
    def _lists(self, where: Sequence[Any], entries: bool, newest: bool = False) -> list[ListVersion]:
        """List versions in number order (only the newest with ``newest``), read with Core: no ORM
        row keeps a version's entries for the rest of the transaction. Without ``entries`` only
        their heads (number, status…); with them, each version's JSON text is read as text and
        made into records one entry at a time (see _entries), on every backend."""
        t = ListVersionRow.__table__
        names = [f.name for f in fields(ListVersion) if f.name != "entries"]
        columns = [t.c[n] for n in names] + ([cast(t.c.entries, Text)] if entries else [])
        q = select(*columns).where(*where).order_by(t.c.number.desc() if newest else t.c.number)
        out = []
        for row in self.s.connection().execute(q.limit(1) if newest else q):
            head = dict(zip(names, row, strict=False))
            out.append(ListVersion(**head, entries=_entries(row[-1]) if entries else []))
        return out

    def latest_list(self, cycle_id: str, entries: bool = True) -> ListVersion | None:
        """The newest list version of a cycle; without ``entries`` only its head (number, status…),
        for what needs no ranked entries (a cycle's status, its closing rules)."""
        found = self._lists([ListVersionRow.__table__.c.cycle_id == cycle_id], entries, newest=True)
        return found[0] if found else None

    def list_versions(self, cycle_id: str, statuses: Sequence[str] | None = None) -> list[ListVersion]:
        """A cycle's list versions with their entries, oldest first (only those in ``statuses``)."""
        t = ListVersionRow.__table__
        where = [t.c.cycle_id == cycle_id] + ([t.c.status.in_(list(statuses))] if statuses is not None else [])
        return self._lists(where, entries=True)

    def list_entries(self, list_id: int) -> list[ListEntry]:
        """The entries of one list version."""
        t = ListVersionRow.__table__
        stored = self.s.connection().execute(select(cast(t.c.entries, Text)).where(t.c.id == list_id)).scalar_one()
        return _entries(stored)

    def insert_list(self, lst: ListVersion) -> None:
        self._insert(ListVersionRow, lst)

    def save_list_status(self, lst: ListVersion) -> None:
        self._save_versioned(ListVersionRow, lst, f"list version {lst.number} of {lst.cycle_id}", status=lst.status)

    def confirmations(self, list_id: int) -> list[Confirmation]:
        rows = self.s.execute(
            select(ConfirmationRow).where(ConfirmationRow.list_id == list_id).order_by(ConfirmationRow.id)
        ).scalars()
        return [_record(Confirmation, r) for r in rows]

    def add_confirmation(self, c: Confirmation) -> None:
        self._insert(ConfirmationRow, c)

    # -- appeals ----------------------------------------------------------------------------
    def insert_appeal(self, appeal: Appeal) -> None:
        self._insert(AppealRow, appeal)

    def get_appeal(self, appeal_id: int) -> Appeal | None:
        row = self.s.get(AppealRow, appeal_id, populate_existing=True)
        return _record(Appeal, row) if row else None

    def save_appeal(self, appeal: Appeal) -> None:
        """Write the decision if the stored version is still ``appeal.version``; bump it."""
        self._save_versioned(
            AppealRow,
            appeal,
            f"appeal {appeal.id}",
            status=appeal.status,
            decided_by=appeal.decided_by,
            decided_at=appeal.decided_at,
            decision_reason=appeal.decision_reason,
            reopen_to=appeal.reopen_to,
        )

    def appeals(
        self, cycle_id: str | None = None, project_id: int | None = None, statuses: Sequence[str] | None = None
    ) -> list[Appeal]:
        q = select(AppealRow)
        if cycle_id is not None:
            q = q.where(AppealRow.cycle_id == cycle_id)
        if project_id is not None:
            q = q.where(AppealRow.project_id == project_id)
        if statuses is not None:
            q = q.where(AppealRow.status.in_(list(statuses)))  # type: ignore[attr-defined]
        return [_record(Appeal, r) for r in self.s.execute(q.order_by(AppealRow.id)).scalars()]

    def reopened_projects(self, cycle_id: str) -> list[Project]:
        q = select(ProjectRow).where(ProjectRow.cycle_id == cycle_id, ProjectRow.reopened_to.is_not(None))  # type: ignore[union-attr]
        return [_record(Project, r) for r in self.s.execute(q.order_by(ProjectRow.id)).scalars()]

    # -- reminders --------------------------------------------------------------------------
    def reminders(self, cycle_id: str | None = None, statuses: Sequence[str] | None = None) -> list[Reminder]:
        q = select(ReminderRow)
        if cycle_id is not None:
            q = q.where(ReminderRow.cycle_id == cycle_id)
        if statuses is not None:
            q = q.where(ReminderRow.status.in_(list(statuses)))  # type: ignore[attr-defined]
        rows = self.s.execute(q.order_by(ReminderRow.due_at, ReminderRow.id)).scalars()
        return [_record(Reminder, r) for r in rows]

    def replan_reminders(self, cycle_id: str, plan: Sequence[Reminder], unsent: Sequence[str]) -> tuple[int, int, int]:
        """Make the unsent reminders of a cycle match ``plan`` (matched by key); sent ones are kept.

        Returns (added, moved, removed)."""
        existing = {r.key: r for r in self.reminders(cycle_id)}
        wanted = {r.key for r in plan}
        added = moved = removed = 0
        for r in plan:
            old = existing.get(r.key)
            if old is None:
                self._insert(ReminderRow, r)
                added += 1
            elif old.status in unsent and old.due_at != r.due_at:
                self.s.execute(update(ReminderRow).where(ReminderRow.id == old.id).values(due_at=r.due_at))
                moved += 1
        stale = [r.id for k, r in existing.items() if k not in wanted and r.status in unsent]
        if stale:
            self.s.execute(delete(ReminderRow).where(ReminderRow.id.in_(stale)))  # type: ignore[union-attr]
            removed = len(stale)
        return added, moved, removed

    def claim_reminders(self, now: Any, stale_before: Any, limit: int = 500) -> list[Reminder]:
        """Mark due reminders 'sending' and return them; a 'sending' one claimed before
        ``stale_before`` was left by a crashed dispatcher and is claimed again (at-least-once)."""
        due = or_(
            (ReminderRow.status.in_(["planned", "retry"]))  # type: ignore[attr-defined]
            & (ReminderRow.due_at <= now)
            & (ReminderRow.next_attempt_at.is_(None) | (ReminderRow.next_attempt_at <= now)),  # type: ignore[union-attr,operator]
            (ReminderRow.status == "sending") & (ReminderRow.claimed_at < stale_before),  # type: ignore[operator]
        )
        rows = list(self.s.execute(select(ReminderRow).where(due).order_by(ReminderRow.due_at).limit(limit)).scalars())
        claimed = []
        for row in rows:
            result = self.s.execute(
                update(ReminderRow)
                .where(ReminderRow.id == row.id, ReminderRow.status == row.status)
                .values(status="sending", claimed_at=now)
            )
            if result.rowcount == 1:
                self.s.refresh(row)
                claimed.append(_record(Reminder, row))
        return claimed

    def save_reminder(self, r: Reminder) -> None:
        self.s.execute(
            update(ReminderRow)
            .where(ReminderRow.id == r.id)
            .values(
                status=r.status,
                attempts=r.attempts,
                next_attempt_at=r.next_attempt_at,
                claimed_at=r.claimed_at,
                sent_at=r.sent_at,
                channels_done=list(r.channels_done),
                message=r.message,
                last_error=r.last_error,
            )
        )

    def next_reminder_due(self) -> Any:
        """The earliest instant at which some reminder becomes due (or is retried)."""
        first = self.s.execute(select(func.min(ReminderRow.due_at)).where(ReminderRow.status == "planned")).scalar()
        retry = self.s.execute(
            select(func.min(ReminderRow.next_attempt_at)).where(ReminderRow.status == "retry")
        ).scalar()
        found = [x for x in (first, retry) if x is not None]
        if not found:
            return None
        return min(x if x.tzinfo else x.replace(tzinfo=UTC) for x in found)

    # -- the scheduler lease -----------------------------------------------------------------
    def acquire_lease(self, name: str, holder: str, now: Any, expires: Any) -> Lease:
        """Take or renew the lease ``name`` for ``holder``; return the lease as it now stands
        (held by someone else if they hold an unexpired one)."""
        row = self.s.get(LeaseRow, name)
        if row is None:
            try:
                with self.s.begin_nested():
                    self._insert(LeaseRow, Lease(name, holder, now, expires))
                return Lease(name, holder, now, expires)
            except IntegrityError:
                row = self.s.get(LeaseRow, name)
                assert row is not None
        current = _record(Lease, row)
        if current.holder != holder and current.expires_at > now:
            return current
        acquired = current.acquired_at if current.holder == holder else now
        result = self.s.execute(
            update(LeaseRow)
            .where(LeaseRow.name == name, LeaseRow.holder == current.holder, LeaseRow.expires_at == current.expires_at)
            .values(holder=holder, acquired_at=acquired, expires_at=expires)
        )
        if result.rowcount != 1:
            again = self.s.get(LeaseRow, name, populate_existing=True)
            return _record(Lease, again)
        return Lease(name, holder, acquired, expires)

    def release_lease(self, name: str, holder: str) -> None:
        self.s.execute(delete(LeaseRow).where(LeaseRow.name == name, LeaseRow.holder == holder))

    # -- audit ------------------------------------------------------------------------------
    def audit(self, entry: AuditEntry) -> None:
        """Append one audit entry, sealed into its chain."""
        self.audit_many([entry])

    def audit_many(self, entries: Sequence[AuditEntry]) -> None:
        """Append audit entries in one statement (in order), each sealed into its chain: the
        chains' heads are locked for the transaction, so two writers never both extend one."""
        if not entries:
            return
        chains = sorted({chain_of(e.cycle_id) for e in entries})
        heads = self._lock_heads(chains)
        seal(entries, heads)
        if len(entries) == 1:
            self._insert(AuditRow, entries[0])  # (its id written back)
        else:
            self._insert_many(AuditRow, entries)
        t, h = AuditRow.__table__, AuditHeadRow.__table__
        conn = self.s.connection()
        for chain in chains:
            newest = max(e.id or 0 for e in entries if chain_of(e.cycle_id) == chain)
            if not newest:  # inserted in one statement: the newest row of the chain is the batch's last
                where = t.c.cycle_id.is_(None) if chain == "-" else t.c.cycle_id == chain
                newest = conn.execute(select(func.max(t.c.id)).where(where)).scalar() or 0
            conn.execute(update(h).where(h.c.chain == chain).values(hash=heads[chain], entry_id=newest))

    def _lock_heads(self, chains: Sequence[str]) -> dict[str, str]:
        """The heads of ``chains``, locked (FOR UPDATE) until the transaction ends; a new chain's
        head row is made first, so that its first two writers queue like any others."""
        h = AuditHeadRow.__table__
        conn = self.s.connection()
        known = {c for (c,) in conn.execute(select(h.c.chain).where(h.c.chain.in_(list(chains))))}
        for chain in chains:
            if chain not in known:
                conn.execute(_insert_missing(conn.dialect.name, h, {"chain": chain, "hash": GENESIS, "entry_id": 0}))
        q = select(h.c.chain, h.c.hash).where(h.c.chain.in_(list(chains)))
        if conn.dialect.name != "sqlite":
            q = q.with_for_update()
        return {chain: value for chain, value in conn.execute(q)}

    def audit_heads(self) -> dict[str, str]:
        """Every chain's newest hash, as the database records it."""
        h = AuditHeadRow.__table__
        return {c: v for c, v in self.s.connection().execute(select(h.c.chain, h.c.hash)) if v != GENESIS}

    def audit_entries(self, cycle_id: str | None = None, chunk: int = 5000) -> Iterator[AuditEntry]:
        """Every audit entry (of one cycle's chain), in id order, read a chunk at a time."""
        t = AuditRow.__table__
        q = select(t).order_by(t.c.id)
        if cycle_id is not None:
            q = q.where(t.c.cycle_id == cycle_id)
        result = self.s.connection().execution_options(yield_per=chunk).execute(q)
        for row in result.mappings():
            yield AuditEntry(**row)

    def entered_from(self, cycle_id: str, state: str) -> dict[int, str]:
        """For each project of a cycle that entered ``state``, the state it last came from (one
        query, whatever the number of projects)."""
        t = AuditRow.__table__
        q = (
            select(t.c.subject_id, t.c.from_state)
            .where(t.c.cycle_id == cycle_id, t.c.subject == "project", t.c.to_state == state)
            .where(t.c.from_state.is_not(None), t.c.from_state != state)
            .order_by(t.c.id)
        )
        return {int(pid): before for pid, before in self.s.connection().execute(q)}

    def history(
        self, subject: str | None = None, subject_id: str | None = None, cycle_id: str | None = None
    ) -> list[AuditEntry]:
        q = select(AuditRow)
        if subject is not None:
            q = q.where(AuditRow.subject == subject)
        if subject_id is not None:
            q = q.where(AuditRow.subject_id == subject_id)
        if cycle_id is not None:
            q = q.where(AuditRow.cycle_id == cycle_id)
        return [_record(AuditEntry, r) for r in self.s.execute(q.order_by(AuditRow.id)).scalars()]


__all__ = ["SqlStore", "Tx", "database_url"]
