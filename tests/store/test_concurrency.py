"""Two administrators acting at the same moment, with real threads and real processes, on SQLite
and on PostgreSQL: nothing is lost, nothing is applied twice, no raw driver error reaches a user.

Race 1, the same project from the same version: two hefei administrators accept one submitted
project, each having seen version 1 (`--expect-version 1`). Exactly one wins; the other gets
"changed by someone else" naming both versions; the audit trail has exactly one acceptance.

Race 2, the quota: Songjiang has 9 of its 10 municipal demonstration places taken; two Songjiang
administrators name two different projects demonstration at once. Exactly one wins; the other
is refused by municipal_quota ("has 10 of 10"). The winner is then set back to 'none' (freeing
the place) before the next trial.

Each race runs EVALFLOW_RACE_TRIALS trials (default 200) per database and per kind of worker.
A trial starts both workers together on a barrier. Raise the number to run it long.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.backends import BACKENDS, database
from tests.conftest import PROGRAM, YEAR, make_app, sh

TRIALS = int(os.environ.get("EVALFLOW_RACE_TRIALS", "200"))
KINDS = ("threads", "processes")


@dataclass
class Outcome:
    trial: int
    worker: str
    ok: bool
    kind: str  # "ok", or the error's class name
    message: str


def _engine(url: str, at: str) -> Any:
    from store.sql import SqlStore
    from workflow.engine import Engine

    instant = datetime.fromisoformat(at)
    return Engine(SqlStore(url), clock=lambda: instant)


def _act(engine: Any, user: str, action: str, pid: int) -> tuple[bool, str, str]:
    """One user action as the CLI runs it: an evalflow error is a refusal a user sees; anything
    else (a raw driver error, a deadlock) is reported as such, to fail the test."""
    from workflow.errors import EvalflowError

    try:
        if action == "accept":
            engine.fire(user, pid, "accept", expected_version=1)
        else:
            engine.fire(user, pid, "review", result="demonstration", method="site")
        return True, "ok", ""
    except EvalflowError as exc:
        return False, type(exc).__name__, str(exc)
    except Exception as exc:  # noqa: BLE001 - exactly what must never happen
        return False, f"RAW {type(exc).__name__}", str(exc)


def worker(url: str, at: str, user: str, action: str, pids: list[int], start: Any, out: Any) -> None:
    """Act on each trial's project as soon as every party reached the barrier."""
    from store import sql

    sql._ENGINES.clear()  # a forked or spawned worker opens its own connections
    engine = _engine(url, at)
    for trial, pid in enumerate(pids):
        start.wait(timeout=120)
        ok, kind, message = _act(engine, user, action, pid)
        out.put((trial, user, ok, kind, message))
    engine.store.dispose()


def _setup_accept_race(url: str) -> tuple[Any, list[int]]:
    engine = _engine(url, sh(1, 2).isoformat())
    engine.store.create()
    engine.add_user(None, "lead", "lead", "songjiang")
    engine.add_user("lead", "hefei-admin", "city-admin", "hefei")
    engine.add_user("lead", "hefei-admin2", "city-admin", "hefei")
    engine.open_cycle("lead", PROGRAM, YEAR)
    engine.clock = lambda: sh(1, 10)
    items = [(f"row {i}", make_app("hefei", i)) for i in range(1, TRIALS + 1)]
    created = engine.submit_batch("hefei-admin", items).created
    return engine, [p.id for p in created]


def _setup_quota_race(url: str) -> tuple[Any, list[tuple[int, int]]]:
    engine = _engine(url, sh(1, 2).isoformat())
    engine.store.create()
    engine.add_user(None, "lead", "lead", "songjiang")
    engine.add_user("lead", "songjiang-admin", "city-admin", "songjiang")
    engine.add_user("lead", "songjiang-admin2", "city-admin", "songjiang")
    engine.open_cycle("lead", PROGRAM, YEAR)
    engine.clock = lambda: sh(1, 10)
    items = [(f"row {i}", make_app("songjiang", i)) for i in range(1, 9 + 2 * TRIALS + 1)]
    ids = [p.id for p in engine.submit_batch("songjiang-admin", items).created]
    engine.clock = lambda: sh(2, 20)
    engine.fire("songjiang-admin", ids, "accept")
    engine.clock = lambda: sh(3, 1)
    engine.advance("lead")
    engine.clock = lambda: sh(3, 10)
    engine.fire("songjiang-admin", ids[:9], "review", result="demonstration", method="site")
    rest = ids[9:]
    return engine, [(rest[2 * i], rest[2 * i + 1]) for i in range(TRIALS)]


def _run(
    kind: str, url: str, at: str, plans: list[tuple[str, str, list[int]]], after: Callable[[int, list[Outcome]], None]
) -> list[Outcome]:
    """Start one worker per plan (user, action, pids), then trial by trial: release them together,
    collect both outcomes, and let ``after`` check (and reset) before the next trial."""
    if kind == "threads":
        start: Any = threading.Barrier(len(plans) + 1)
        out: Any = queue.Queue()
        runners = [
            threading.Thread(target=worker, args=(url, at, u, a, p, start, out), daemon=True) for u, a, p in plans
        ]
    else:
        ctx = multiprocessing.get_context("spawn")
        start = ctx.Barrier(len(plans) + 1)
        out = ctx.Queue()
        runners = [ctx.Process(target=worker, args=(url, at, u, a, p, start, out), daemon=True) for u, a, p in plans]
    for r in runners:
        r.start()
    outcomes: list[Outcome] = []
    try:
        for trial in range(TRIALS):
            start.wait(timeout=120)
            got = [Outcome(*out.get(timeout=120)) for _ in plans]
            assert {o.trial for o in got} == {trial}
            outcomes += got
            after(trial, got)
    finally:
        for r in runners:
            r.join(timeout=60)
    return outcomes


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_two_admins_accepting_one_project_from_the_same_version(backend: str, kind: str, tmp_path: Path) -> None:
    with database(backend, tmp_path) as url:
        engine, pids = _setup_accept_race(url)
        at = sh(1, 20).isoformat()
        engine.clock = lambda: datetime.fromisoformat(at)

        def check(trial: int, got: list[Outcome]) -> None:
            winners = [o for o in got if o.ok]
            losers = [o for o in got if not o.ok]
            assert len(winners) == 1, got
            assert [o.kind for o in losers] == ["ConcurrentChange"], got
            assert (
                f"project {pids[trial]} was changed by someone else: you acted on version 1, it is now at version 2"
                in (losers[0].message)
            )

        outcomes = _run(kind, url, at, [("hefei-admin", "accept", pids), ("hefei-admin2", "accept", pids)], check)
        assert len(outcomes) == 2 * TRIALS
        assert not [o for o in outcomes if o.kind.startswith("RAW")]
        with engine.store.transaction(write=False) as tx:
            accepted = [e for e in tx.history(cycle_id=f"g60-{YEAR}") if e.action == "accept"]
            projects = tx.get_projects(pids)
        assert sorted(int(e.subject_id) for e in accepted) == sorted(pids)  # exactly one each
        assert {(p.state, p.version) for p in projects.values()} == {("in_library", 2)}
        winners = {o.worker for o in outcomes if o.ok}
        print(f"\n{backend}/{kind}: {TRIALS} trials, winners {sorted(winners)}, 0 lost, 0 doubled")
        engine.store.dispose()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_two_admins_racing_for_the_last_quota_place(backend: str, kind: str, tmp_path: Path) -> None:
    with database(backend, tmp_path) as url:
        engine, pairs = _setup_quota_race(url)
        at = sh(3, 20).isoformat()
        engine.clock = lambda: datetime.fromisoformat(at)
        firsts = [a for a, _ in pairs]
        seconds = [b for _, b in pairs]

        def demonstrations() -> int:
            return engine.status("lead")["cities"][0]["demonstration"]

        def check_and_reset(trial: int, got: list[Outcome]) -> None:
            winners = [o for o in got if o.ok]
            losers = [o for o in got if not o.ok]
            assert len(winners) == 1, got
            assert [o.kind for o in losers] == ["RuleRefused"], got
            assert "[municipal_quota] 松江区 (songjiang) has 10 of 10 municipal demonstration projects" in (
                losers[0].message
            )
            assert demonstrations() == 10
            won = pairs[trial][0] if winners[0].worker == "songjiang-admin" else pairs[trial][1]
            engine.fire("songjiang-admin", won, "review", result="none", method="site")
            assert demonstrations() == 9

        outcomes = _run(
            kind,
            url,
            at,
            [("songjiang-admin", "review", firsts), ("songjiang-admin2", "review", seconds)],
            check_and_reset,
        )
        assert len(outcomes) == 2 * TRIALS
        assert not [o for o in outcomes if o.kind.startswith("RAW")]
        with engine.store.transaction(write=False) as tx:
            reviews = [e for e in tx.history(cycle_id=f"g60-{YEAR}") if e.action == "review"]
        # 9 at set-up, then per trial one winning review and its reset: nothing lost or doubled
        assert len(reviews) == 9 + 2 * TRIALS
        print(f"\n{backend}/{kind}: {TRIALS} trials, the quota held every time")
        engine.store.dispose()
