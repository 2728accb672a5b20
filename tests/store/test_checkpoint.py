"""The write-ahead log is checkpointed beside the writer (store/checkpoint.py): a commit does not
copy its pages back into the database file itself; the store's checkpoint thread does, soon after;
closing a store waits for it; and a checkpoint that fails neither loses data nor stops the thread."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

import store.sql as sql
from store.checkpoint import Checkpointer
from store.sql import SqlStore
from workflow.records import AuditEntry

BIG = 40_000  # audit rows: over 1,000 pages of log (of 16 KiB, store.sql.PAGE_SIZE)


def _write(store: SqlStore, n: int = 2000) -> None:
    """One write transaction of ``n`` audit rows (2,000: about a megabyte of log)."""
    at = datetime(2027, 5, 10, 1, tzinfo=UTC)
    with store.transaction() as tx:
        tx.audit_many(
            [AuditEntry(at, None, "user", f"u{i}", "lead", "note", data={"text": "记录" * 40}) for i in range(n)]
        )


def _pages_in_file(db: Path) -> int:
    return db.stat().st_size // sql.PAGE_SIZE


def _rows_in_file_alone(db: Path, tmp_path: Path) -> int:
    """The audit rows the database file holds by itself, without its log."""
    alone = tmp_path / "alone.db"
    alone.write_bytes(db.read_bytes())
    con = sqlite3.connect(alone)
    try:
        return con.execute("SELECT count(*) FROM audit").fetchone()[0]
    finally:
        con.close()


@pytest.fixture
def store(tmp_path: Path):
    s = SqlStore(f"sqlite:///{tmp_path / 'e.db'}")
    s.create()
    s.settle()
    yield s
    s.dispose()


def test_a_commit_leaves_its_pages_to_the_checkpoint_thread(store: SqlStore, tmp_path: Path, monkeypatch) -> None:
    db = tmp_path / "e.db"
    before = _pages_in_file(db)
    asked: list[str] = []
    monkeypatch.setattr(sql._CHECKPOINTS, "ask", asked.append)  # the thread not asked: the commit alone
    _write(store, BIG)  # (past the 1,000 pages of log at which a commit would checkpoint by default)
    assert asked == [str(db)]
    assert _pages_in_file(db) == before  # committed to the log only
    assert _rows_in_file_alone(db, tmp_path) == 0
    monkeypatch.undo()
    _write(store, 10)  # the next commit asks the thread, which checkpoints all the log
    store.settle()
    assert _pages_in_file(db) > before + 1000  # (the pages SQLite's own checkpoint would have waited for)
    assert _rows_in_file_alone(db, tmp_path) == BIG + 10
    # and the log is reused from its start by the next writer, not grown
    wal = Path(f"{db}-wal")
    size = wal.stat().st_size
    _write(store)
    store.settle()
    assert wal.stat().st_size <= size * 1.1


def test_a_reader_holding_its_snapshot_does_not_hold_up_settle(store: SqlStore, tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    reader = sqlite3.connect(db, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM audit").fetchone()  # a snapshot from before the write
    try:
        _write(store)
        done = threading.Event()
        threading.Thread(target=lambda: (store.settle(), done.set()), daemon=True).start()
        assert done.wait(30), "settle waited for a reader"
        assert reader.execute("SELECT count(*) FROM audit").fetchone()[0] == 0  # its snapshot intact
    finally:
        reader.execute("COMMIT")
        reader.close()
    _write(store, 1)
    store.settle()
    assert _rows_in_file_alone(db, tmp_path) == 2001


def test_a_failed_checkpoint_is_dropped_and_the_thread_goes_on(tmp_path: Path, store: SqlStore) -> None:
    checkpoints = Checkpointer(busy_timeout_ms=1000)
    junk = tmp_path / "notes.db"
    junk.write_text("meeting notes, not a database " * 300, encoding="utf-8")
    checkpoints.ask(str(junk))
    checkpoints.settle(str(junk))
    assert checkpoints.failures == 1
    assert junk.read_text(encoding="utf-8").startswith("meeting notes")  # left as it was
    gone = tmp_path / "gone.db"
    checkpoints.ask(str(gone))  # removed since: nothing made, nothing failed
    checkpoints.settle(str(gone))
    assert not gone.exists() and checkpoints.failures == 1
    db = tmp_path / "e.db"
    _write(store)
    store.settle()  # (the store's own thread)
    pages = _pages_in_file(db)
    _write(store)
    checkpoints.ask(str(db))  # the thread that failed still serves
    checkpoints.settle(str(db))
    store.settle()
    assert _pages_in_file(db) > pages
    assert _rows_in_file_alone(db, tmp_path) == 4000


def test_a_forked_process_checkpoints_with_a_thread_of_its_own(store: SqlStore, tmp_path: Path) -> None:
    """A server's worker forked after the store wrote: its checkpoints still run (the parent's
    thread is not in the child), and the parent's go on."""
    db = tmp_path / "e.db"
    _write(store)
    store.settle()  # (the parent's checkpoint done: a PASSIVE one in the child would pass over the log it holds)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:  # as the checkpoint thread holds the lock, for a moment, now and then
        with sql._CHECKPOINTS._changed:
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(30)
    pid = -1
    try:
        pid = os.fork()
        if pid == 0:  # the child: write, settle, report by its exit status
            code = 1
            try:
                (tmp_path / "child").mkdir()
                child = SqlStore(f"sqlite:///{db}")
                _write(child, 500)
                child.settle()
                child.dispose()
                code = 0 if _rows_in_file_alone(db, tmp_path / "child") == 2500 else 2
            finally:
                os._exit(code)
    finally:
        if pid != 0:
            release.set()
            holder.join()
    deadline = time.monotonic() + 30
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if done[0] == 0:  # (a child stuck on a lock the fork copied held)
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the forked process's checkpoint never ran")
    assert os.waitstatus_to_exitcode(done[1]) == 0
    _write(store, 1)
    store.settle()
    assert _rows_in_file_alone(db, tmp_path) == 2501


def test_a_checkpoint_failing_otherwise_than_in_sqlite_does_not_stop_the_thread(tmp_path: Path, monkeypatch) -> None:
    """Whatever a checkpoint raises (here an OSError), it is dropped: the thread goes on, and
    ``settle`` (which closing a store waits on) returns."""
    checkpoints = Checkpointer(busy_timeout_ms=1000)
    real = checkpoints._checkpoint
    raised: list[str] = []

    def broken(path: str) -> None:
        if not raised:
            raised.append(path)
            raise OSError("disk went away")
        real(path)

    monkeypatch.setattr(checkpoints, "_checkpoint", broken)
    first = tmp_path / "first.db"
    checkpoints.ask(str(first))
    done = threading.Event()
    threading.Thread(target=lambda: (checkpoints.settle(str(first)), done.set()), daemon=True).start()
    assert done.wait(30), "settle waited for a thread that had ended"
    assert checkpoints.failures == 1 and raised == [str(first)]
    store = SqlStore(f"sqlite:///{tmp_path / 'e.db'}")
    store.create()
    _write(store)
    checkpoints.ask(str(tmp_path / "e.db"))
    checkpoints.settle(str(tmp_path / "e.db"))
    store.dispose()
    assert checkpoints.failures == 1
    assert _rows_in_file_alone(tmp_path / "e.db", tmp_path) == 2000
