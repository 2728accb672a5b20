"""The SQL store: implements the engine's store port (workflow/ports.py) on SQLAlchemy Core
(tables: store/schema.py). This module opens the database and its transactions; what a
transaction reads and writes is in one module per kind of record (store/users.py, cycles.py,
projects.py, score_sheets.py, lists.py, audit.py, appeals.py, reminders.py, on store/rows.py),
composed here into Tx.

SQLite (the embedded default) runs in WAL mode with a busy timeout, and write transactions
start with BEGIN IMMEDIATE so that two writers queue instead of failing half-way.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DatabaseError, OperationalError

from i18n import Joined, Msg
from store import schema
from store.appeals import AppealRows
from store.attachments import AttachmentRows
from store.audit import AuditRows
from store.audit_checkpoints import CheckpointRows
from store.blobs import blob_store
from store.checkpoint import SAFETY_PAGES, Checkpointer
from store.counts import ProjectCounts
from store.cycles import CycleRows
from store.drafts import DraftRows
from store.guard import install_analyze, protect_audit, protect_checkpoints
from store.lists import ListRows
from store.pg_bulk import analyze_grown
from store.project_pages import ProjectPages
from store.projects import ProjectRows
from store.reminders import ReminderRows
from store.report_rows import ReportRows
from store.rows import Bound
from store.score_sheets import SheetRows
from store.tally import install_sheet_tally
from store.users import UserRows
from workflow.attachments import BlobStore
from workflow.audit import GENESIS
from workflow.errors import StoreUnavailable
from workflow.jsontext import compact
from workflow.ports import StoreTx

BUSY_TIMEOUT_MS = 10_000
# The page size of a new SQLite database: 16 KiB, not SQLite's 4 KiB. A project's row holds its
# application (about 2 KB), so a 4 KiB page held two, and a batch of 10,000 projects read and
# rewrote 5,000 pages; the B-trees of the audit rows and sheets are shallower too. A whole 10k
# cycle took 12-15 % less time (benchmarks/RESULTS.md). An existing database keeps its own.
PAGE_SIZE = 16_384
_CHECKPOINTS = Checkpointer(BUSY_TIMEOUT_MS)  # one thread for the process's SQLite databases
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FIRST = "0001"
HEAD = "0016"  # the newest revision in store/migrations/versions (a test keeps this true)


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


class SqlStore:
    """Opens transactions on one database."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        path = self.sqlite_path()
        # whose log _CHECKPOINTS checkpoints (absolute: the same file whatever the working folder later)
        self._log_path = str(path.absolute()) if path is not None else None
        self._blobs: BlobStore | None = None

    @property
    def blobs(self) -> BlobStore:
        """Where attached files' contents are kept (store/blobs.py chooses, once)."""
        if self._blobs is None:
            self._blobs = blob_store(self.sqlite_path())
        return self._blobs

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
            raise StoreUnavailable(
                Msg("Cannot create the database at {path}: there is no folder {folder}", path=path, folder=path.parent)
            )
        try:
            existed = inspect(self.engine).has_table("projects")
            if not existed:
                _create_tables(self.engine)
                self._alembic("stamp", HEAD)
            else:
                self.upgrade()
        except (OperationalError, DatabaseError) as exc:
            raise StoreUnavailable(
                Msg("Cannot create the database at {db}: {why}", db=self.describe(), why=_why(exc))
            ) from None
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
            raise StoreUnavailable(
                Msg("Cannot open the database at {db}: {why}", db=self.describe(), why=_why(exc)),
            ) from None

    def is_empty(self) -> bool:
        """Whether the database has no evalflow tables at all (never initialised)."""
        try:
            return not inspect(self.engine).has_table("projects")
        except (OperationalError, DatabaseError) as exc:
            raise StoreUnavailable(
                Msg("Cannot open the database at {db}: {why}", db=self.describe(), why=_why(exc)),
            ) from None

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
            raise StoreUnavailable(Msg("{db} is not a SQLite file", db=self.describe()))
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
            raise StoreUnavailable(
                Msg("Cannot back up the database at {path}: {why}", path=path, why=str(exc))
            ) from None
        if checked != ["ok"]:
            partial.unlink(missing_ok=True)
            raise StoreUnavailable(
                Msg(
                    "The copy of {path} does not hold ({checked}); nothing was written",
                    path=path,
                    checked=Joined(checked[:3], "; "),
                )
            )
        os.replace(partial, dest)
        return dest.stat().st_size, revision[0] if revision else None, {c: h for c, h in heads.items() if h != GENESIS}

    def check_ready(self) -> None:
        path = self.sqlite_path()
        if path is not None and not path.exists():
            raise StoreUnavailable(Msg("No database at {path}; run 'evalflow init' first (or pass --db)", path=path))
        try:  # the usual case in one query: the schema is there and current
            with self.engine.connect() as conn:
                if conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD:
                    return
        except (OperationalError, DatabaseError):
            pass  # no such table, or no database at all: found out below, with a clear message
        try:
            ready = inspect(self.engine).has_table("projects")
        except (OperationalError, DatabaseError) as exc:
            raise StoreUnavailable(
                Msg("Cannot open the database at {db}: {why}", db=self.describe(), why=_why(exc)),
            ) from None
        if not ready:
            raise StoreUnavailable(
                Msg("The database at {db} is not initialised; run 'evalflow init'", db=self.describe())
            )
        version = self.schema_version()
        if version != HEAD:
            raise StoreUnavailable(
                Msg(
                    "The database at {db} has schema {version}; this evalflow needs {head}: run 'evalflow db upgrade'"
                    " (back it up first)",
                    db=self.describe(),
                    version=version or Msg("from before migrations"),
                    head=HEAD,
                )
            )

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Tx]:
        """One database transaction; commits on success, rolls back on any exception."""
        try:
            with self.engine.connect() as conn:
                conn.info["write"] = write
                with conn.begin():
                    tx = Tx(Bound(conn), write)
                    yield tx
                if tx.grown:  # (PostgreSQL's batches: their tables analysed, after the commit)
                    analyze_grown(conn, tx.grown)
        except (OperationalError, DatabaseError) as exc:
            raise StoreUnavailable(
                Msg("The database at {db} failed: {why}", db=self.describe(), why=_why(exc)),
            ) from None
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


def _create_tables(engine: Engine) -> None:
    """A new database's tables, as store/schema.py declares them, with what the migrations add
    in the database itself: the audit trail and its checkpoints append-only, and on PostgreSQL
    the analyse function and the sheets' tally (store/guard.py, store/tally.py)."""
    schema.metadata.create_all(engine)
    with engine.begin() as conn:
        protect_audit(conn)
        protect_checkpoints(conn)
        install_analyze(conn)
        install_sheet_tally(conn, fill=False)


class Tx(
    UserRows,
    CycleRows,
    ProjectRows,
    ProjectCounts,  # (before ProjectPages, which it extends)
    ProjectPages,
    SheetRows,
    ReportRows,
    ListRows,
    AuditRows,
    CheckpointRows,
    AppealRows,
    ReminderRows,
    AttachmentRows,
    DraftRows,
):
    """Reads and writes inside one transaction, every kind of record (each kind's rows in a module of
    its own). Every write of a versioned record checks the version."""


# the type checker holds the store to the engine's port
_port: type[StoreTx] = Tx


__all__ = ["SqlStore", "Tx", "database_url"]
