"""Checkpoints of a SQLite database's write-ahead log, made beside the writer, not inside its commit.

In WAL mode a committed transaction is appended to the database's ``-wal`` file; a checkpoint
copies those pages back into the database file. By default the connection that commits makes the
checkpoint itself, inside its commit, once the log has passed 1,000 pages: a city's batch of
10,000 score sheets then waits some 40 ms for pages it has already written safely. SQLite's own
advice for short commits is to checkpoint from another thread; evalflow does so.

After a write transaction commits, the store asks this module's one thread (per process) to
checkpoint that database. Its checkpoints are PASSIVE: they never wait for or block a reader or a
writer, and copy back what no reader still needs, so the log is reused from its start again by a
later writer. A connection's own checkpoint stays as a safety net, from SAFETY_PAGES pages of log
on (about 200 MB: above what one large batch writes, such as a city's 100,000 score sheets, some
30,000 pages), should the thread fall behind. A checkpoint that fails is logged and dropped: the
committed data is safe in the log either way, and the next commit asks again. ``settle`` waits for
a database's checkpoints (a store being closed, a file about to be copied).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from urllib.parse import quote

from workflow.log import get_logger

SAFETY_PAGES = 50_000  # a connection's own checkpoint (about 200 MB of log), should the thread fall behind

log = get_logger("evalflow.store")


class Checkpointer:
    """One thread that checkpoints the databases it is asked to, one at a time, in the order asked
    (a database asked again while it waits is checkpointed once). Started when first asked."""

    def __init__(self, busy_timeout_ms: int) -> None:
        self._busy_timeout_ms = busy_timeout_ms
        self.failures = 0
        self._start_afresh()
        # a process forked from this one (a server's worker) has none of its threads, and may have
        # been forked while the thread held the lock: it starts afresh, with its own thread
        os.register_at_fork(after_in_child=self._start_afresh)

    def _start_afresh(self) -> None:
        self._changed = threading.Condition()
        self._waiting: dict[str, None] = {}  # the databases asked for, in order (a set that keeps it)
        self._running: str | None = None
        self._thread: threading.Thread | None = None

    def ask(self, path: str) -> None:
        """Checkpoint the database at ``path`` soon; returns at once."""
        with self._changed:
            self._waiting[path] = None
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="evalflow-checkpoints", daemon=True)
                self._thread.start()
            self._changed.notify_all()

    def settle(self, path: str) -> None:
        """Return once no checkpoint of ``path`` is waiting or running."""
        with self._changed:
            while path in self._waiting or self._running == path:
                self._changed.wait()

    def _serve(self) -> None:
        while True:
            with self._changed:
                while not self._waiting:
                    self._changed.wait()
                path = next(iter(self._waiting))
                del self._waiting[path]
                self._running = path
            try:
                self._checkpoint(path)
            except Exception as exc:  # whatever it is, dropped: a thread that ended would leave settle waiting
                self.failures += 1
                log.warning("checkpoint_failed", db=path, error=str(exc))
            finally:
                with self._changed:
                    self._running = None
                    self._changed.notify_all()

    def _checkpoint(self, path: str) -> None:
        if not Path(path).exists():  # removed since (a finished demo's, a test's database): nothing to do
            return
        # mode=rw: never make a database file that is not there
        con = sqlite3.connect(
            f"file:{quote(path)}?mode=rw", uri=True, timeout=self._busy_timeout_ms / 1000, isolation_level=None
        )
        try:
            con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            con.close()
