"""`evalflow scheduler run` as real processes sharing one database (PostgreSQL above all, where
several machines may point at one server; SQLite too, for the same contract).

One scheduler per database: the first takes the lease and runs; a second exits with code 10 and
one line naming the holder; after SIGTERM the first gives the lease back and a new one starts.
A scheduler killed outright keeps its lease until it expires. Every process is killed in the end.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text, update

from cli import main
from store.sql import SqlStore
from store.tables import LeaseRow
from tests.backends import BACKENDS, database

START = 60.0  # seconds a scheduler may take to start (generous: a loaded CI machine)
STOP = 60.0
NOW = "2027-01-05T09:00"  # in collection, before any reminder falls due: the passes send nothing
REFUSAL = "Error: Another scheduler is already running on this database ("


def evalflow() -> list[str]:
    """The installed `evalflow` script next to this Python (as in production), else `python -m cli`."""
    script = Path(sys.executable).parent / "evalflow"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]


class Scheduler:
    """One `evalflow scheduler run` process; its output is read by threads (never blocks a test)."""

    def __init__(self, url: str, cwd: Path):
        env = {**os.environ, "EVALFLOW_NOW": NOW, "PYTHONUNBUFFERED": "1"}
        env.pop("EVALFLOW_DATABASE_URL", None)
        env.pop("EVALFLOW_CONFIG", None)
        self.proc = subprocess.Popen(
            [*evalflow(), "--db", url, "--as", "lead", "scheduler", "run", "--poll", "1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=cwd,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.stdout, True), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr, False), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, into: list[str], announce: bool) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))
            if announce:
                self.lines.put(line.rstrip("\n"))

    def wait_for(self, prefix: str, timeout: float = START) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            if line.startswith(prefix):
                return line
        self.finish(0)
        raise AssertionError(f"no line {prefix!r}; exit {self.proc.returncode}; out {self.stdout}; err {self.stderr}")

    def finish(self, timeout: float = STOP) -> int:
        """Wait for the process to end (and its output to be read); its exit code."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        if self.proc.poll() is not None:
            for reader in self._readers:
                reader.join(10)
        return self.proc.returncode  # type: ignore[return-value]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.finish(10)

    @property
    def holder(self) -> str:
        return f"{socket.gethostname()}:{self.proc.pid}"


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An initialised database: the lead, a hefei administrator and an open G60 cycle."""
    with database(request.param, tmp_path) as u:
        runner = CliRunner()
        for argv in (
            ["init"],
            ["user", "add", "lead", "--role", "lead", "--city", "songjiang"],
            ["--as", "lead", "user", "add", "hf", "--role", "city-admin", "--city", "hefei"],
            ["--as", "lead", "cycle", "open", "g60-deep-integration", "--year", "2027"],
        ):
            result = runner.invoke(main, ["--db", u, "--now", "2027-01-03T09:00", *argv])
            assert result.exit_code == 0, (argv, result.output)
        try:
            yield u
        finally:
            SqlStore(u).dispose()


@pytest.fixture
def schedulers() -> Iterator[list[Scheduler]]:
    """Every process a test starts; all killed at the end, whatever happened."""
    started: list[Scheduler] = []
    try:
        yield started
    finally:
        for s in started:
            s.kill()


def lease_rows(url: str) -> list[tuple]:
    with SqlStore(url).engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT name, holder FROM leases"))]


def test_one_scheduler_per_database_and_a_new_one_after_sigterm(
    url: str, tmp_path: Path, schedulers: list[Scheduler]
) -> None:
    first = Scheduler(url, tmp_path)
    schedulers.append(first)
    assert first.wait_for("Scheduler running as ") == f"Scheduler running as {first.holder}; Ctrl-C to stop"
    assert lease_rows(url) == [("scheduler", first.holder)]

    second = Scheduler(url, tmp_path)
    schedulers.append(second)
    assert second.finish() == 10, (second.stdout, second.stderr)
    errors = [x for x in second.stderr if x.strip()]
    assert len(errors) == 1, second.stderr
    assert errors[0].startswith(f"{REFUSAL}{first.holder}); its lease runs until "), errors[0]
    assert "Stop it first, or wait for the lease to expire if it crashed" in errors[0]
    assert not any(x.startswith("Scheduler running") for x in second.stdout)
    assert first.proc.poll() is None  # the first one runs on, still holding the lease
    assert lease_rows(url) == [("scheduler", first.holder)]

    first.proc.send_signal(signal.SIGTERM)
    assert first.finish() == 0, (first.stdout, first.stderr)
    assert first.stdout[-1] == "Scheduler stopped"
    assert lease_rows(url) == []  # given back

    third = Scheduler(url, tmp_path)
    schedulers.append(third)
    assert third.wait_for("Scheduler running as ") == f"Scheduler running as {third.holder}; Ctrl-C to stop"
    assert third.holder != first.holder
    assert lease_rows(url) == [("scheduler", third.holder)]
    third.proc.send_signal(signal.SIGINT)  # Ctrl-C stops it the same way
    assert third.finish() == 0, (third.stdout, third.stderr)
    assert third.stdout[-1] == "Scheduler stopped"
    assert lease_rows(url) == []


def test_a_killed_scheduler_keeps_its_lease_until_it_expires(
    url: str, tmp_path: Path, schedulers: list[Scheduler]
) -> None:
    first = Scheduler(url, tmp_path)
    schedulers.append(first)
    first.wait_for("Scheduler running as ")
    first.proc.kill()  # a crash: no chance to give the lease back
    assert first.finish() == -signal.SIGKILL
    assert lease_rows(url) == [("scheduler", first.holder)]

    second = Scheduler(url, tmp_path)
    schedulers.append(second)
    assert second.finish() == 10, (second.stdout, second.stderr)
    (error,) = [x for x in second.stderr if x.strip()]
    assert error.startswith(f"{REFUSAL}{first.holder})")

    # the lease runs out (made to, rather than waiting its 90 seconds): the next one takes over
    past = datetime.now(UTC) - timedelta(seconds=1)
    with SqlStore(url).engine.begin() as conn:  # through the table's type: UTC on either backend
        conn.execute(update(LeaseRow).values(expires_at=past))
    third = Scheduler(url, tmp_path)
    schedulers.append(third)
    third.wait_for("Scheduler running as ")
    assert lease_rows(url) == [("scheduler", third.holder)]
    third.proc.send_signal(signal.SIGTERM)
    assert third.finish() == 0, (third.stdout, third.stderr)
    assert lease_rows(url) == []


def test_two_schedulers_started_together_one_runs(url: str, tmp_path: Path, schedulers: list[Scheduler]) -> None:
    a, b = Scheduler(url, tmp_path), Scheduler(url, tmp_path)
    schedulers += [a, b]
    deadline = time.monotonic() + START
    while time.monotonic() < deadline and a.proc.poll() is None and b.proc.poll() is None:
        time.sleep(0.2)
    loser = a if a.proc.poll() is not None else b
    winner = b if loser is a else a
    assert loser.finish() == 10, (loser.stdout, loser.stderr)
    (error,) = [x for x in loser.stderr if x.strip()]
    assert error.startswith(f"{REFUSAL}{winner.holder})"), error
    assert winner.wait_for("Scheduler running as ") == f"Scheduler running as {winner.holder}; Ctrl-C to stop"
    assert lease_rows(url) == [("scheduler", winner.holder)]
    winner.proc.send_signal(signal.SIGTERM)
    assert winner.finish() == 0, (winner.stdout, winner.stderr)
    assert lease_rows(url) == []
