"""Crash safety: a process killed (SIGKILL) at any moment of a batch transition of 5,000 projects
leaves the whole batch or none of it, never a state changed without its audit entry; the trail
verifies and replays after every kill, and running the batch again completes it without
duplicates. 10 kills at random moments in the suite, 30 in `make soak`."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from store.sql import SqlStore
from tests.conftest import LEAD, PROGRAM, SettableClock, admin, make_app, sh
from workflow.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
N = 5000
BATCH = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import structlog
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
from datetime import datetime
from zoneinfo import ZoneInfo
from store.sql import SqlStore
from workflow.engine import Engine
store = SqlStore("sqlite:///" + sys.argv[1])
engine = Engine(store, clock=lambda: datetime(2027, 2, 20, 9, tzinfo=ZoneInfo("Asia/Shanghai")))
with store.transaction(write=False) as tx:
    ids = [p.id for p in tx.find_projects("g60-2027", states=["submitted"], with_application=False)]
if ids:
    engine.fire("hefei-admin", ids, "accept")
print("done", len(ids), flush=True)
"""


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cycle with 5,000 of Hefei's applications waiting to be accepted."""
    path = tmp_path_factory.mktemp("kill") / "template.db"
    store = SqlStore(f"sqlite:///{path}")
    store.create()
    clock = SettableClock(sh(1, 2))
    engine = Engine(store, clock=clock)
    engine.add_user(None, LEAD, "lead", "songjiang")
    engine.add_user(LEAD, admin("hefei"), "city-admin", "hefei")
    engine.open_cycle(LEAD, PROGRAM, 2027)
    clock.set(sh(1, 10))
    one = make_app("hefei", 1)
    items = []
    for i in range(N):
        app = {**one, "project": {**one["project"], "name": f"{one['project']['name']} {i}"}}
        items.append((f"row {i}", app))
    engine.submit_batch(admin("hefei"), items)
    store.dispose()
    return path


def run_batch(db: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", BATCH, str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def counts(db: Path) -> tuple[int, int]:
    con = sqlite3.connect(db)
    accepted = con.execute("SELECT count(*) FROM projects WHERE state = 'in_library'").fetchone()[0]
    entries = con.execute("SELECT count(*) FROM audit WHERE action = 'accept'").fetchone()[0]
    con.close()
    return accepted, entries


def check_trail(db: Path) -> None:
    engine = Engine(SqlStore(f"sqlite:///{db}"), clock=SettableClock(sh(2, 21)))
    verified = engine.audit_verify(LEAD)
    replayed = engine.audit_replay(LEAD)
    engine.store.dispose()
    assert verified.ok, verified.breaks
    assert replayed.ok, replayed.differences[:3]


def test_kills_at_random_moments_of_a_5000_project_batch(template: Path, tmp_path: Path) -> None:
    _kills(template, tmp_path, 6)  # (about 25 s: the suite's share; make soak runs thirty)


@pytest.mark.soak
def test_thirty_kills_at_random_moments_of_a_5000_project_batch(template: Path, tmp_path: Path) -> None:
    _kills(template, tmp_path, 30)


def _kills(template: Path, tmp_path: Path, trials: int) -> None:
    """Kill the batch ``trials`` times at random moments; each time it left all or nothing, and
    running it again completes it."""
    # how long the batch takes here, so that the kills fall all over it
    whole = tmp_path / "whole.db"
    shutil.copy(template, whole)
    started = time.perf_counter()
    out, err = run_batch(whole).communicate(timeout=120)
    duration = time.perf_counter() - started
    assert out.strip() == f"done {N}", err
    assert counts(whole) == (N, N)

    rng = random.Random(30)
    outcomes = {"none": 0, "all": 0}
    for trial in range(trials):
        db = tmp_path / f"k{trial}.db"
        shutil.copy(template, db)
        process = run_batch(db)
        time.sleep(rng.uniform(0.05, duration * 1.05))
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        accepted, entries = counts(db)
        assert (accepted, entries) in ((0, 0), (N, N)), f"trial {trial}: {accepted} accepted, {entries} entries"
        outcomes["all" if accepted else "none"] += 1
        check_trail(db)
        # running the batch again completes it, without a second entry for any project
        out, err = run_batch(db).communicate(timeout=120)
        assert out.strip() == f"done {N - accepted}", err
        assert counts(db) == (N, N)
        check_trail(db)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    assert outcomes["none"] > 0  # most kills land inside the batch
