"""The SQL store: implements the engine's store port on SQLAlchemy Core (tables: store/schema.py).

SQLite (the embedded default) runs in WAL mode with a busy timeout, and write transactions
start with BEGIN IMMEDIATE so that two writers queue instead of failing half-way.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields, is_dataclass
from datetime import UTC
from operator import attrgetter
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Text,
    bindparam,
    cast,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DatabaseError, DBAPIError, IntegrityError, OperationalError

from store import schema
from store.checkpoint import SAFETY_PAGES, Checkpointer
from store.guard import protect_audit
from store.schema import UTCDateTime
from workflow.audit import GENESIS, Item, chain_of, runs, seal_batch
from workflow.errors import ConcurrentChange, StoreUnavailable
from workflow.jsontext import compact
from workflow.records import (
    ApiToken,
    Appeal,
    AuditEntry,
    Confirmation,
    Credential,
    Cycle,
    Lease,
    ListEntry,
    ListVersion,
    Project,
    Reminder,
    ScoreSheet,
    User,
    WebSession,
)

BUSY_TIMEOUT_MS = 10_000
# The page size of a new SQLite database: 16 KiB, not SQLite's 4 KiB. A project's row holds its
# application (about 2 KB), so a 4 KiB page held two, and a batch of 10,000 projects read and
# rewrote 5,000 pages; the B-trees of the audit rows and sheets are shallower too. A whole 10k
# cycle took 12-15 % less time (benchmarks/RESULTS.md). An existing database keeps its own.
PAGE_SIZE = 16_384
_CHECKPOINTS = Checkpointer(BUSY_TIMEOUT_MS)  # one thread for the process's SQLite databases
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FIRST = "0001"
HEAD = "0006"  # the newest revision in store/migrations/versions (a test keeps this true)
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
            json_serializer=stored_json,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # a new database's pages (an existing one keeps its own; set before the log's mode,
            # which fixes the page size): see PAGE_SIZE
            cur.execute(f"PRAGMA page_size={PAGE_SIZE}")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            # the log is checkpointed beside the writer (store/checkpoint.py); its own checkpoint
            # only from SAFETY_PAGES pages of log on
            cur.execute(f"PRAGMA wal_autocheckpoint={SAFETY_PAGES}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write", True) else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=stored_json)


def _fields(value: Any) -> dict[str, Any]:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# The JSON text of a column's value: no spaces, and text as it is (UTF-8, as the database stores
# it), not escaped: an application's Chinese is a third of the bytes of its \uXXXX escapes, and the
# rows read and written are that much smaller. A record inside it (a list version's entry) is
# written as its fields, the same text as a dict of them, each made only while it is written: a
# list of 100,000 entries is not first copied into 100,000 dicts. One encoder for every value,
# made once, by orjson where it writes what json does (workflow/jsontext.py).
_encode = compact(_fields)


def stored_json(value: Any) -> str:
    # a module function, not the encoder's closure itself: psycopg warns of a leak for a closure
    # given to it as its dumps function (on every connection)
    return _encode(value)


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
        path = self.sqlite_path()
        # whose log _CHECKPOINTS checkpoints (absolute: the same file whatever the working folder later)
        self._log_path = str(path.absolute()) if path is not None else None

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
        if fresh and path is not None and not path.parent.is_dir():  # (SQLite says only "unable to open")
            raise StoreUnavailable(f"Cannot create the database at {path}: there is no folder {path.parent}")
        try:
            existed = inspect(self.engine).has_table("projects")
            if not existed:
                _create_tables(self.engine)
                with self.engine.begin() as conn:
                    protect_audit(conn)
                self._alembic("stamp", HEAD)
            else:
                self.upgrade()
        except (OperationalError, DatabaseError) as exc:
            raise StoreUnavailable(f"Cannot create the database at {self.describe()}: {_why(exc)}") from None
        if fresh and path is not None and path.exists():
            path.chmod(0o600)
        self._written()
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
                _create_tables(self.engine)
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

    def backup(self, dest: Path) -> tuple[int, str | None, dict[str, str]]:
        """Copy this SQLite database to ``dest``, consistent as of one instant, while others go on
        reading and writing it: SQLite's online backup, in one step under one read snapshot (a
        writer's commits after it are not in the copy; none waits for it). The copy is made
        beside ``dest`` (``DEST.partial``; one left by an interrupted backup is replaced) and
        checked (quick_check) before it takes that name, so ``dest`` is never a half-made copy.
        Returns the copy's size in bytes, its schema revision and its audit chains' heads. Only
        a file the caller has found there is opened (never created)."""
        path = self.sqlite_path()
        if path is None:
            raise StoreUnavailable(f"{self.describe()} is not a SQLite file")
        partial = dest.with_name(dest.name + ".partial")
        partial.unlink(missing_ok=True)
        try:
            source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                target = sqlite3.connect(partial)
                try:
                    source.backup(target)
                    checked = [row[0] for row in target.execute("PRAGMA quick_check")]
                    tables = {name for (name,) in target.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                    revision = (
                        target.execute("SELECT version_num FROM alembic_version").fetchone()
                        if "alembic_version" in tables
                        else None
                    )
                    heads = (
                        dict(target.execute("SELECT chain, hash FROM audit_heads").fetchall())
                        if "audit_heads" in tables
                        else {}
                    )
                finally:
                    target.close()
            finally:
                source.close()
        except sqlite3.Error as exc:
            partial.unlink(missing_ok=True)
            raise StoreUnavailable(f"Cannot back up the database at {path}: {exc}") from None
        if checked != ["ok"]:
            partial.unlink(missing_ok=True)
            raise StoreUnavailable(f"The copy of {path} does not hold ({'; '.join(checked[:3])}); nothing was written")
        os.replace(partial, dest)
        return dest.stat().st_size, revision[0] if revision else None, {c: h for c, h in heads.items() if h != GENESIS}

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
                    yield Tx(_Bound(conn), write)
        except (OperationalError, DatabaseError) as exc:
            raise StoreUnavailable(f"The database at {self.describe()} failed: {_why(exc)}") from None
        if write:
            self._written()

    def _written(self) -> None:
        """After a commit: the log is checkpointed beside this thread (store/checkpoint.py)."""
        if self._log_path is not None:
            _CHECKPOINTS.ask(self._log_path)

    def settle(self) -> None:
        """Wait for the checkpoints of this database's log asked for so far (see store/checkpoint.py)."""
        if self._log_path is not None:
            _CHECKPOINTS.settle(self._log_path)

    def dispose(self) -> None:
        """Close the store's connections, once its log's checkpoints are done."""
        self.settle()
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


def _bound_rows(conn: Any, table: Any, records: Sequence[Any]) -> tuple[str, list[tuple[Any, ...]]]:
    """The INSERT of records (dataclasses, at least one) as rows of ``table``, their generated id
    left out, and each record's values bound as its column type binds them (instants to UTC,
    JSON), in the driver's own terms."""
    names = tuple(f.name for f in fields(records[0]) if f.name != "id")
    sql, procs = _insert_sql(conn.dialect, table, names)
    processed = _binders(procs)
    values = attrgetter(*names)
    rows = []
    for r in records:
        row = list(values(r))
        for i, p in processed:
            row[i] = p(row[i])
        rows.append(tuple(row))
    return sql, rows


def _binders(procs: Sequence[tuple[Any, Any]]) -> list[tuple[int, Any]]:
    """(position, bind processor) of the columns whose type processes the value (instants, JSON),
    the others left as they are; an instant's remembers its last value (a batch's rows share one)."""
    return [(i, _same_once(p) if isinstance(c.type, UTCDateTime) else p) for i, (p, c) in enumerate(procs) if p]


def _same_once(process: Any) -> Any:
    """``process`` remembering its last value: a batch's rows share one instant."""
    last: list[Any] = [object(), None]

    def remembered(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, process(value)
        return last[1]

    return remembered


_PROJECT_FIELDS = tuple(f.name for f in fields(Project))
# an audit row's columns, in the order audit_batch writes them
_AUDIT_COLUMNS = (
    "at",
    "cycle_id",
    "subject",
    "subject_id",
    "actor",
    "action",
    "from_state",
    "to_state",
    "reason",
    "data",
    "prev_hash",
    "hash",
)
# what save_projects writes of a project, besides its new version (application and record only
# when an effect changed them)
_SAVED = ("state", "municipal_result", "review_method", "application", "updated_at", "reopened_to", "record")
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


def _insert_missing(dialect: str, table: Any, values: dict[str, Any]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING, in the dialect's own words."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).values(**values).on_conflict_do_nothing()
    from sqlalchemy.dialects.postgresql import insert as postgresql_insert

    return postgresql_insert(table).values(**values).on_conflict_do_nothing()


def _create_tables(engine: Engine) -> None:
    """A new database's tables, from the SQLModel tables of store/tables.py."""
    from sqlmodel import SQLModel

    import store.tables  # noqa: F401  (registers the tables)

    SQLModel.metadata.create_all(engine)


class _Bound:
    """What a Tx asks of its transaction: the connection it runs on, and savepoints on it. (The
    store reads and writes with Core only: no ORM session, whose import alone cost every command
    about 75 ms.)"""

    __slots__ = ("_conn",)

    def __init__(self, conn: Any):
        self._conn = conn

    def connection(self) -> Any:
        return self._conn

    def begin_nested(self) -> Any:
        return self._conn.begin_nested()


class Tx:
    """Reads and writes inside one transaction. Every write of a versioned record checks the version."""

    def __init__(self, bound: _Bound, write: bool = True):
        self.s = bound
        self.write = write

    def _insert(self, table: Any, record: Any, **extra: Any) -> None:
        """Insert ``record`` as a row of ``table``; a generated id is written back to the record."""
        # shallow: JSON values are written as they are (asdict would deep-copy every one); nested
        # records (a list version's entries) are written as their fields by stored_json
        data = {**{f.name: getattr(record, f.name) for f in fields(record)}, **extra}
        if data.get("id", ...) is None:
            data.pop("id")
        result = self.s.connection().execute(insert(table).values(**data))
        if hasattr(record, "id"):
            record.id = result.inserted_primary_key[0]

    def _insert_many(self, table: Any, records: Sequence[Any]) -> None:
        """Insert records (dataclasses) as rows of ``table`` in one DB-API executemany: each value
        goes through its column type's own bind processing (instants to UTC, JSON), without the
        per-row compilation of an ORM or Core bulk insert, which costs more than the database."""
        if not records:
            return
        conn = self.s.connection()
        sql, rows = _bound_rows(conn, table, records)
        conn.exec_driver_sql(sql, rows)

    def _save_versioned(self, table: Any, item: Any, subject: str, /, **values: Any) -> None:
        """Write ``values`` only if the stored version is still ``item.version``; bump it.

        A concurrent writer moved the version: raise ConcurrentChange with both versions."""
        conn = self.s.connection()
        result = conn.execute(
            update(table)
            .where(table.c.id == item.id, table.c.version == item.version)
            .values(version=item.version + 1, **values)
        )
        if result.rowcount != 1:
            found = conn.execute(select(table.c.version).where(table.c.id == item.id)).scalar()
            raise ConcurrentChange(subject, item.version, found)
        item.version += 1

    def _records(
        self,
        cls: type[R],
        table: Any,
        *where: Any,
        order_by: Sequence[Any] = (),
        lock: bool = False,
        limit: int | None = None,
    ) -> list[R]:
        """Records of ``cls`` from the rows of ``table`` matching ``where`` (same names as the
        record's fields), read with Core: a command that only reads sets up no ORM mapping, and
        every read is fresh from the database."""
        names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
        q = select(*(table.c[n] for n in names)).where(*where).order_by(*order_by).limit(limit)
        if lock:
            q = q.with_for_update()
        return [cls(**dict(zip(names, row, strict=True))) for row in self.s.connection().execute(q)]

    # -- users ------------------------------------------------------------------------------
    def get_user(self, name: str) -> User | None:
        found = self._records(User, schema.users, schema.users.c.name == name)
        return found[0] if found else None

    def count_users(self) -> int:
        return self.s.connection().execute(select(func.count()).select_from(schema.users)).scalar_one()

    def add_user(self, user: User, at: Any) -> None:
        self._insert(schema.users, user, created_at=at)

    def list_users(self) -> list[User]:
        t = schema.users
        return self._records(User, t, order_by=(t.c.role, t.c.city, t.c.name))

    # -- cycles -----------------------------------------------------------------------------
    def get_cycle(self, cycle_id: str) -> Cycle | None:
        """The cycle; in a write transaction its row is locked until the transaction ends, so that
        every change to one cycle is made one after the other (on PostgreSQL: SELECT … FOR UPDATE;
        SQLite's BEGIN IMMEDIATE already serialises writers). Guards that count across the cycle
        (quotas, minimums) then see every change committed before theirs."""
        found = self._records(Cycle, schema.cycles, schema.cycles.c.id == cycle_id, lock=self.write)
        return found[0] if found else None

    def list_cycles(self) -> list[Cycle]:
        return self._records(Cycle, schema.cycles, order_by=(schema.cycles.c.opened_at.desc(),))

    def insert_cycle(self, cycle: Cycle) -> None:
        self._insert(schema.cycles, cycle)

    def save_cycle(self, cycle: Cycle) -> None:
        """Write stage and settings if the stored version is still ``cycle.version``; bump it."""
        self._save_versioned(schema.cycles, cycle, f"cycle {cycle.id}", stage=cycle.stage, settings=cycle.settings)

    # -- projects ---------------------------------------------------------------------------
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
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            found = (
                _sqlite_projects(conn, part, with_application)
                if conn.dialect.name == "sqlite"
                else self._project_rows([t.c.id.in_(part)], with_application)
            )
            for p in found:
                out[p.id] = p  # type: ignore[index]
        return out

    def insert_projects(self, projects: Sequence[Project]) -> None:
        """Insert new projects; their generated ids are written back, in order.

        On SQLite, which cannot tell which row of a many-row INSERT … RETURNING got which id,
        a Core insert runs one statement per row anyway, with a compiled statement's parameters
        and a result to make for each: there the values are bound as _insert_many binds them and
        the rows written in one executemany with the ids SQLite would give them. Elsewhere one
        Core insert with RETURNING in parameter order."""
        for p in projects:
            p.version = 1
        t = schema.projects
        conn = self.s.connection()
        bound = None
        if conn.dialect.name == "sqlite" and projects:
            try:
                bound = _bound_rows(conn, t, projects)
            except Exception:
                # a value its column refuses (a naive instant): left to the Core insert below,
                # which refuses it as it always did, before it writes anything
                bound = None
        if bound is not None:
            _, rows = bound
            # the ids SQLite itself gives new rows of a table without AUTOINCREMENT, max(id) + 1
            # onwards: the transaction holds the write lock (BEGIN IMMEDIATE), so no other writer
            # takes one; written with them in one executemany, not one statement per row
            names = tuple(f.name for f in fields(projects[0]) if f.name != "id")
            sql = _insert_sql(conn.dialect, t, ("id", *names))[0]
            first = (conn.exec_driver_sql("SELECT max(id) FROM projects").scalar() or 0) + 1
            ids = list(range(first, first + len(rows)))
            conn.exec_driver_sql(sql, [(pid, *row) for pid, row in zip(ids, rows, strict=True)])
        else:
            values = [{f.name: getattr(p, f.name) for f in fields(p) if f.name != "id"} for p in projects]
            stmt = insert(t).returning(t.c.id, sort_by_parameter_order=True)  # Core: no ORM bookkeeping per row
            ids = conn.execute(stmt, values).scalars().all()
        for p, pid in zip(projects, ids, strict=True):
            p.id = pid

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
        municipal_result, review_method and reopened_to that no project of the batch changed,
        left out of the UPDATE (the database then leaves their indexes alone)."""
        if not projects:
            return
        if self.s.connection().dialect.name == "sqlite":
            self._sqlite_save_projects(projects, with_application, with_record, untouched)
            return
        t = schema.projects
        values = {
            "version": bindparam("b_new"),
            "state": bindparam("b_state"),
            "municipal_result": bindparam("b_result"),
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
                "b_result": p.municipal_result,
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
        processed = _binders(procs)
        values = attrgetter(*names)
        rows = []
        for p in projects:
            row = [p.version + 1, *values(p), p.id, p.version]
            for i, process in processed:
                row[i + 1] = process(row[i + 1])
            rows.append(tuple(row))
        self._save_checked(projects, lambda: self.s.connection().exec_driver_sql(sql, rows))

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
        t = schema.projects
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
        t, c = schema.projects, schema.cycles
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
        t = schema.projects
        q = select(t.c.enterprise_name, t.c.project_name, t.c.id).where(t.c.cycle_id == cycle_id)
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
        q = select(t.c.id, t.c.city, t.c.enterprise_name, t.c.project_name).where(
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

    def count_municipal_results(self, cycle_id: str) -> dict[tuple[str, str], int]:
        t = schema.projects
        q = (
            select(t.c.city, t.c.municipal_result, func.count())
            .where(t.c.cycle_id == cycle_id, t.c.municipal_result.is_not(None))
            .group_by(t.c.city, t.c.municipal_result)
        )
        return {(city, result): n for city, result, n in self.s.connection().execute(q)}

    # -- score sheets -----------------------------------------------------------------------
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
        for start in range(0, len(ids), 500):  # 500 projects to a select: under SQL parameter limits
            part = ids[start : start + 500]
            where = f"{sql} AND {quote('project_id')} IN ({', '.join([mark] * len(part))})"
            for sid, pid, who, total in conn.exec_driver_sql(where, (True, *cycles, *whose, *part)):
                if (pid, who) in keys:
                    old[(pid, who)] = (sid, total)
        stale = [sid for sid, _ in old.values()]
        for start in range(0, len(stale), 500):
            self.s.connection().execute(
                update(schema.score_sheets)
                .where(schema.score_sheets.c.id.in_(stale[start : start + 500]))
                .values(current=False)
            )
        self._insert_many(schema.score_sheets, sheets)
        return {key: total for key, (_, total) in old.items()}

    def sheet_totals(self, cycle_id: str) -> list[tuple[int, int]]:
        """(project, total) of every current sheet of a cycle: what ranking needs, nothing more."""
        t = schema.score_sheets
        q = select(t.c.project_id, t.c.total).where(t.c.cycle_id == cycle_id, t.c.current.is_(True))
        return [(pid, total) for pid, total in self.s.connection().execute(q)]

    def sheet_sums(self, cycle_id: str) -> list[tuple[int, int, int]]:
        """(project, sum of totals, number of sheets) over the current sheets of a cycle, added up
        by the database: a mean or a sum ranks from these without reading every sheet."""
        t = schema.score_sheets
        q = (
            select(t.c.project_id, func.sum(t.c.total), func.count())
            .where(t.c.cycle_id == cycle_id, t.c.current.is_(True))
            .group_by(t.c.project_id)
        )
        return [(pid, int(total), n) for pid, total, n in self.s.connection().execute(q)]

    def sheets(self, cycle_id: str, project_id: int | None = None, current_only: bool = True) -> list[ScoreSheet]:
        t = schema.score_sheets
        where = [t.c.cycle_id == cycle_id]
        if project_id is not None:
            where.append(t.c.project_id == project_id)
        if current_only:
            where.append(t.c.current.is_(True))
        return self._records(ScoreSheet, schema.score_sheets, *where, order_by=(t.c.project_id, t.c.city, t.c.id))

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
        s, p = schema.score_sheets, schema.projects
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
        t = schema.list_versions
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
        found = self._lists([schema.list_versions.c.cycle_id == cycle_id], entries, newest=True)
        return found[0] if found else None

    def list_versions(self, cycle_id: str, statuses: Sequence[str] | None = None) -> list[ListVersion]:
        """A cycle's list versions with their entries, oldest first (only those in ``statuses``)."""
        t = schema.list_versions
        where = [t.c.cycle_id == cycle_id] + ([t.c.status.in_(list(statuses))] if statuses is not None else [])
        return self._lists(where, entries=True)

    def list_entries(self, list_id: int) -> list[ListEntry]:
        """The entries of one list version."""
        t = schema.list_versions
        stored = self.s.connection().execute(select(cast(t.c.entries, Text)).where(t.c.id == list_id)).scalar_one()
        return _entries(stored)

    def insert_list(self, lst: ListVersion) -> None:
        self._insert(schema.list_versions, lst)

    def save_list_status(self, lst: ListVersion) -> None:
        self._save_versioned(
            schema.list_versions, lst, f"list version {lst.number} of {lst.cycle_id}", status=lst.status
        )

    def confirmations(self, list_id: int) -> list[Confirmation]:
        t = schema.confirmations
        return self._records(Confirmation, t, t.c.list_id == list_id, order_by=(t.c.id,))

    def add_confirmation(self, c: Confirmation) -> None:
        self._insert(schema.confirmations, c)

    # -- appeals ----------------------------------------------------------------------------
    def insert_appeal(self, appeal: Appeal) -> None:
        self._insert(schema.appeals, appeal)

    def get_appeal(self, appeal_id: int) -> Appeal | None:
        found = self._records(Appeal, schema.appeals, schema.appeals.c.id == appeal_id)
        return found[0] if found else None

    def save_appeal(self, appeal: Appeal) -> None:
        """Write the decision if the stored version is still ``appeal.version``; bump it."""
        self._save_versioned(
            schema.appeals,
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
        t = schema.appeals
        where = []
        if cycle_id is not None:
            where.append(t.c.cycle_id == cycle_id)
        if project_id is not None:
            where.append(t.c.project_id == project_id)
        if statuses is not None:
            where.append(t.c.status.in_(list(statuses)))
        return self._records(Appeal, schema.appeals, *where, order_by=(t.c.id,))

    def reopened_projects(self, cycle_id: str) -> list[Project]:
        t = schema.projects
        return self._project_rows([t.c.cycle_id == cycle_id, t.c.reopened_to.is_not(None)], with_application=True)

    # -- reminders --------------------------------------------------------------------------
    def reminders(self, cycle_id: str | None = None, statuses: Sequence[str] | None = None) -> list[Reminder]:
        t = schema.reminders
        where = []
        if cycle_id is not None:
            where.append(t.c.cycle_id == cycle_id)
        if statuses is not None:
            where.append(t.c.status.in_(list(statuses)))
        return self._records(Reminder, t, *where, order_by=(t.c.due_at, t.c.id))

    def replan_reminders(self, cycle_id: str, plan: Sequence[Reminder], unsent: Sequence[str]) -> tuple[int, int, int]:
        """Make the unsent reminders of a cycle match ``plan`` (matched by key); sent ones are kept.

        Returns (added, moved, removed)."""
        existing = {r.key: r for r in self.reminders(cycle_id)}
        wanted = {r.key for r in plan}
        added = moved = removed = 0
        for r in plan:
            old = existing.get(r.key)
            if old is None:
                self._insert(schema.reminders, r)
                added += 1
            elif old.status in unsent and old.due_at != r.due_at:
                self.s.connection().execute(
                    update(schema.reminders).where(schema.reminders.c.id == old.id).values(due_at=r.due_at)
                )
                moved += 1
        stale = [r.id for k, r in existing.items() if k not in wanted and r.status in unsent]
        if stale:
            self.s.connection().execute(delete(schema.reminders).where(schema.reminders.c.id.in_(stale)))
            removed = len(stale)
        return added, moved, removed

    def claim_reminders(self, now: Any, stale_before: Any, limit: int = 500) -> list[Reminder]:
        """Mark due reminders 'sending' and return them; a 'sending' one claimed before
        ``stale_before`` was left by a crashed dispatcher and is claimed again (at-least-once)."""
        due = or_(
            (schema.reminders.c.status.in_(["planned", "retry"]))
            & (schema.reminders.c.due_at <= now)
            & (schema.reminders.c.next_attempt_at.is_(None) | (schema.reminders.c.next_attempt_at <= now)),
            (schema.reminders.c.status == "sending") & (schema.reminders.c.claimed_at < stale_before),
        )
        t = schema.reminders
        claimed = []
        for r in self._records(Reminder, t, due, order_by=(t.c.due_at,), limit=limit):
            result = self.s.connection().execute(
                update(t).where(t.c.id == r.id, t.c.status == r.status).values(status="sending", claimed_at=now)
            )
            if result.rowcount == 1:
                claimed += self._records(Reminder, t, t.c.id == r.id)  # as it now stands
        return claimed

    def save_reminder(self, r: Reminder) -> None:
        self.s.connection().execute(
            update(schema.reminders)
            .where(schema.reminders.c.id == r.id)
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
        first = (
            self.s.connection()
            .execute(select(func.min(schema.reminders.c.due_at)).where(schema.reminders.c.status == "planned"))
            .scalar()
        )
        retry = (
            self.s.connection()
            .execute(select(func.min(schema.reminders.c.next_attempt_at)).where(schema.reminders.c.status == "retry"))
            .scalar()
        )
        found = [x for x in (first, retry) if x is not None]
        if not found:
            return None
        return min(x if x.tzinfo else x.replace(tzinfo=UTC) for x in found)

    # -- the scheduler lease -----------------------------------------------------------------
    def acquire_lease(self, name: str, holder: str, now: Any, expires: Any) -> Lease:
        """Take or renew the lease ``name`` for ``holder``; return the lease as it now stands
        (held by someone else if they hold an unexpired one)."""
        t = schema.leases

        def stored() -> Lease | None:
            found = self._records(Lease, t, t.c.name == name)
            return found[0] if found else None

        current = stored()
        if current is None:
            try:
                with self.s.begin_nested():
                    self._insert(t, Lease(name, holder, now, expires))
                return Lease(name, holder, now, expires)
            except IntegrityError:
                current = stored()
                assert current is not None
        if current.holder != holder and current.expires_at > now:
            return current
        acquired = current.acquired_at if current.holder == holder else now
        result = self.s.connection().execute(
            update(schema.leases)
            .where(
                schema.leases.c.name == name,
                schema.leases.c.holder == current.holder,
                schema.leases.c.expires_at == current.expires_at,
            )
            .values(holder=holder, acquired_at=acquired, expires_at=expires)
        )
        if result.rowcount != 1:
            return stored()  # type: ignore[return-value]
        return Lease(name, holder, acquired, expires)

    def release_lease(self, name: str, holder: str) -> None:
        self.s.connection().execute(
            delete(schema.leases).where(schema.leases.c.name == name, schema.leases.c.holder == holder)
        )

    # -- the web console: passwords, sessions, tokens --------------------------------------
    def get_credential(self, user: str) -> Credential | None:
        t = schema.credentials
        found = self._records(Credential, t, t.c.user_name == user)
        return found[0] if found else None

    def save_credential(self, credential: Credential) -> None:
        """Insert or replace a user's credential (a new password, a failure counted, a lock)."""
        t = schema.credentials
        values = {f.name: getattr(credential, f.name) for f in fields(credential)}
        done = self.s.connection().execute(update(t).where(t.c.user_name == credential.user_name).values(**values))
        if done.rowcount == 0:
            self._insert(t, credential)

    def add_session(self, session: WebSession) -> None:
        self._insert(schema.web_sessions, session)

    def get_session(self, session_id: str) -> WebSession | None:
        t = schema.web_sessions
        found = self._records(WebSession, t, t.c.id == session_id)
        return found[0] if found else None

    def touch_session(self, session_id: str, seen_at: Any, flash: list[Any] | None = None) -> None:
        t = schema.web_sessions
        values: dict[str, Any] = {"seen_at": seen_at}
        if flash is not None:
            values["flash"] = flash
        self.s.connection().execute(update(t).where(t.c.id == session_id).values(**values))

    def end_sessions(self, session_id: str | None = None, user: str | None = None, idle_before: Any = None) -> int:
        """Delete one session, every session of a user, or every session idle since before a time."""
        t = schema.web_sessions
        query = delete(t)
        if session_id is not None:
            query = query.where(t.c.id == session_id)
        if user is not None:
            query = query.where(t.c.user_name == user)
        if idle_before is not None:
            query = query.where(t.c.seen_at < idle_before)
        return self.s.connection().execute(query).rowcount

    def add_token(self, token: ApiToken) -> None:
        self._insert(schema.api_tokens, token)

    def find_token(self, token_hash: str) -> ApiToken | None:
        t = schema.api_tokens
        found = self._records(ApiToken, t, t.c.token_hash == token_hash)
        return found[0] if found else None

    def get_token(self, token_id: int) -> ApiToken | None:
        t = schema.api_tokens
        found = self._records(ApiToken, t, t.c.id == token_id)
        return found[0] if found else None

    def tokens(self, user: str | None = None) -> list[ApiToken]:
        t = schema.api_tokens
        where = (t.c.user_name == user,) if user is not None else ()
        return self._records(ApiToken, t, *where, order_by=(t.c.id,))

    def mark_token(self, token_id: int, **values: Any) -> int:
        """Set a token's ``last_used`` or ``revoked_at``."""
        t = schema.api_tokens
        return self.s.connection().execute(update(t).where(t.c.id == token_id).values(**values)).rowcount

    # -- audit ------------------------------------------------------------------------------
    def audit(self, entry: AuditEntry) -> None:
        """Append one audit entry, sealed into its chain."""
        self.audit_many([entry])

    def audit_many(self, entries: Sequence[AuditEntry]) -> None:
        """Append audit entries (in order), each sealed into its chain: the chains' heads are
        locked for the transaction, so two writers never both extend one. Each run of alike
        entries (one action, actor and instant) is written as one batch (see audit_batch)."""
        if not entries:
            return
        heads = self._lock_heads(sorted({chain_of(e.cycle_id) for e in entries}))
        for template, items in runs(entries):
            self._append(template, items, heads)

    def audit_batch(self, template: AuditEntry, items: Sequence[Item]) -> None:
        """Append one audit entry per item, each ``template`` with the item's subject id, states
        and data (a batch's transitions), in one statement, sealed into the template's chain
        (see audit_many), without making each entry as a record."""
        if items:
            self._append(template, items, self._lock_heads([chain_of(template.cycle_id)]))

    def _append(self, template: AuditEntry, items: Sequence[Item], heads: dict[str, str]) -> None:
        """Seal and write the entries of ``items`` (see audit_batch), their chain's head locked and
        in ``heads``; the data is stored as the very text its hash was made over, encoded once."""
        chain = chain_of(template.cycle_id)
        sealed = seal_batch(template, items, heads)
        conn = self.s.connection()
        sql, procs = _insert_sql(conn.dialect, schema.audit, _AUDIT_COLUMNS)
        bind_at = procs[0][0]  # (the one column whose value is bound: the other ones are text)
        at = bind_at(template.at) if bind_at else template.at
        t = template
        rows = [
            (at, t.cycle_id, t.subject, sid, t.actor, t.action, from_state, to_state, t.reason, text, previous, digest)
            for sid, from_state, to_state, text, previous, digest in sealed
        ]
        if len(rows) > 1:
            conn.exec_driver_sql(sql, rows)
            newest = 0  # (_advance_head reads it: the chain's last row)
        elif conn.dialect.name == "sqlite":
            newest = conn.exec_driver_sql(sql, rows[0]).lastrowid
        else:
            newest = conn.exec_driver_sql(f"{sql} RETURNING id", rows[0]).scalar_one()
        self._advance_head(chain, heads[chain], newest)

    def _advance_head(self, chain: str, head: str, newest: int) -> None:
        """Record ``chain``'s new head: its hash and its newest entry (0: the chain's last row,
        the newest of a batch written in one statement)."""
        t, h = schema.audit, schema.audit_heads
        conn = self.s.connection()
        if not newest:
            where = t.c.cycle_id.is_(None) if chain == "-" else t.c.cycle_id == chain
            newest = conn.execute(select(func.max(t.c.id)).where(where)).scalar() or 0
        conn.execute(update(h).where(h.c.chain == chain).values(hash=head, entry_id=newest))

    def _lock_heads(self, chains: Sequence[str]) -> dict[str, str]:
        """The heads of ``chains``, locked (FOR UPDATE) until the transaction ends; a new chain's
        head row is made first, so that its first two writers queue like any others."""
        h = schema.audit_heads
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
        h = schema.audit_heads
        return {c: v for c, v in self.s.connection().execute(select(h.c.chain, h.c.hash)) if v != GENESIS}

    def audit_entries(self, cycle_id: str | None = None, chunk: int = 5000) -> Iterator[AuditEntry]:
        """Every audit entry (of one cycle's chain), in id order, read a chunk at a time."""
        t = schema.audit
        q = select(t).order_by(t.c.id)
        if cycle_id is not None:
            q = q.where(t.c.cycle_id == cycle_id)
        result = self.s.connection().execution_options(yield_per=chunk).execute(q)
        for row in result.mappings():
            yield AuditEntry(**row)

    def entered_from(self, cycle_id: str, state: str) -> dict[int, str]:
        """For each project of a cycle that entered ``state``, the state it last came from (one
        query, whatever the number of projects)."""
        t = schema.audit
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
        t = schema.audit
        where = []
        if subject is not None:
            where.append(t.c.subject == subject)
        if subject_id is not None:
            where.append(t.c.subject_id == subject_id)
        if cycle_id is not None:
            where.append(t.c.cycle_id == cycle_id)
        return self._records(AuditEntry, schema.audit, *where, order_by=(t.c.id,))


__all__ = ["SqlStore", "Tx", "database_url"]
