"""Two administrators acting at the same moment, with real threads and real processes, on SQLite
and on PostgreSQL: nothing is lost, nothing is applied twice, no raw driver error reaches a user.

Race 1, the same project from the same version: two hefei administrators accept one submitted
project, each having seen version 1 (`--expect-version 1`). Exactly one wins; the other gets
"changed by someone else" naming both versions; the audit trail has exactly one acceptance.

Race 2, the quota: Songjiang has 9 of its 10 municipal demonstration places taken; two Songjiang
administrators name two different projects demonstration at once. Exactly one wins; the other
is refused by municipal_quota ("has 10 of 10"). The winner is then set back to 'none' (freeing
the place) before the next trial.

Each race runs EVALFLOW_RACE_TRIALS trials (50 in the suite; `make soak` runs 200) per database and per
kind of worker.
A trial starts both workers together on a barrier. Raise the number to run it long.

Race 3, nine cities confirming the list at once (issue 24): the lead proposes a version, then
the nine cities' administrators confirm it at the same moment, each in a thread with an engine
and connections of its own, none naming the cycle or a version (as `evalflow list confirm` does).
All nine succeed, every time, and each is recorded once. CONFIRM_TRIALS trials (10) run in the
suite; the soak variant (`make soak`) runs SOAK_TRIALS (200) per database.

Race 4, the cycle's own version: nine overrides at once (one per city), no cycle named: all
nine are kept, none lost, none refused.

A version conflict is only ever raised against a version the user named: one who names an old
version (`--expect-version`) still gets exit 6 naming both versions, and nothing changes.
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
from click.testing import CliRunner

from cli import main
from tests.backends import BACKENDS, database
from tests.conftest import CITIES, LEAD, PROGRAM, YEAR, admin, make_app, sh, snapshot

TRIALS = int(os.environ.get("EVALFLOW_RACE_TRIALS", "50"))
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


def _setup_accept_race(url: str, count: int = TRIALS) -> tuple[Any, list[int]]:
    engine = _engine(url, sh(1, 2).isoformat())
    engine.store.create()
    engine.add_user(None, "lead", "lead", "songjiang")
    engine.add_user("lead", "hefei-admin", "city-admin", "hefei")
    engine.add_user("lead", "hefei-admin2", "city-admin", "hefei")
    engine.open_cycle("lead", PROGRAM, YEAR)
    engine.clock = lambda: sh(1, 10)
    items = [(f"row {i}", make_app("hefei", i)) for i in range(1, count + 1)]
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


# ------------------------------------------------------------------ nine cities at the same moment
CONFIRM_TRIALS = int(os.environ.get("EVALFLOW_CONFIRM_TRIALS", "10"))  # in the suite: seconds
SOAK_TRIALS = 200  # the count, per database (make soak)
CONFIRMING = sh(5, 20)  # in the confirmation stage's window


def _own_engine(url: str, at: str) -> Any:
    """An engine with a connection pool of its own, as another process would have (the store
    shares one pool per URL in a process otherwise)."""
    from store import sql

    engine = _engine(url, at)
    engine.store.engine = sql._new_engine(url)
    return engine


def _at_confirmation(url: str) -> Any:
    """A G60 cycle in its confirmation stage, the shortest way there: the lead and the nine
    administrators, no project (the rules that would need some are overridden), so a new list
    version costs little. Returns the lead's engine."""
    engine = _engine(url, sh(1, 2).isoformat())
    engine.store.create()
    engine.add_user(None, LEAD, "lead", "songjiang")
    for c in CITIES:
        engine.add_user(LEAD, admin(c), "city-admin", c)
    engine.open_cycle(LEAD, PROGRAM, YEAR)
    for rule in ("min_recommendations", "all_sheets_in"):
        engine.override(LEAD, rule, "并发测试：本周期无项目")
    for month, day in ((3, 2), (5, 2), (5, 11), (5, 16)):
        engine.clock = lambda m=month, d=day: sh(m, d)
        engine.advance(LEAD)
    engine.clock = lambda: CONFIRMING
    return engine


def _race(
    url: str,
    at: str,
    acts: dict[str, Callable[[Any, int], Any]],
    trials: int,
    before: Callable[[int], None],
    after: Callable[[int, list[Outcome]], None],
) -> list[Outcome]:
    """One thread per act (its name → what it does with its own engine in a trial), each with an engine
    and connections of its own, made and used once before the first trial (the program read,
    a connection open) so that a trial's acts really start together. Trial by trial: ``before``
    (on the caller's engine), release every act on a barrier, collect the outcomes, ``after``."""
    from workflow.errors import EvalflowError

    start = threading.Barrier(len(acts) + 1)
    out: queue.Queue[tuple[int, str, bool, str, str]] = queue.Queue()

    def run(name: str, act: Callable[[Any, int], Any]) -> None:
        engine = _own_engine(url, at)
        engine.program_of(engine.get_cycle(None))  # (warm: the program and a connection)
        try:
            for trial in range(trials):
                try:
                    start.wait(timeout=120)
                except threading.BrokenBarrierError:
                    return  # (the caller's trial failed: no more trials)
                try:
                    act(engine, trial)
                    out.put((trial, name, True, "ok", ""))
                except EvalflowError as exc:
                    out.put((trial, name, False, type(exc).__name__, str(exc)))
                except Exception as exc:  # noqa: BLE001 - exactly what must never happen
                    out.put((trial, name, False, f"RAW {type(exc).__name__}", str(exc)))
        finally:
            engine.store.dispose()

    runners = [threading.Thread(target=run, args=item, daemon=True) for item in acts.items()]
    for r in runners:
        r.start()
    outcomes: list[Outcome] = []
    try:
        for trial in range(trials):
            before(trial)
            start.wait(timeout=120)
            got = [Outcome(*out.get(timeout=120)) for _ in acts]
            assert {o.trial for o in got} == {trial}
            outcomes += got
            after(trial, got)
    finally:
        start.abort()  # (a failed trial: the acts waiting for the next one stop)
        for r in runners:
            r.join(timeout=60)
    return outcomes


def _nine_confirming(backend: str, tmp_path: Path, trials: int) -> None:
    with database(backend, tmp_path) as url:
        lead = _at_confirmation(url)
        numbers: list[int] = []

        def propose(trial: int) -> None:
            numbers.append(lead.propose_list(LEAD).number)  # (the previous version is superseded)

        def check(trial: int, got: list[Outcome]) -> None:
            refused = [o for o in got if not o.ok]
            assert not refused, f"trial {trial}: {len(refused)} of 9 refused: {refused}"
            with lead.store.transaction(write=False) as tx:
                lst = tx.latest_list(f"g60-{YEAR}", entries=False)
                assert lst is not None and lst.id is not None and lst.number == numbers[-1]
                confirmed = [c.city for c in tx.confirmations(lst.id)]
                logged = [e for e in tx.history("list", str(lst.number)) if e.action == "confirm"]
            assert sorted(confirmed) == sorted(CITIES)  # each once: nothing lost, nothing doubled
            assert sorted(e.data["city"] for e in logged) == sorted(CITIES)
            assert (lst.status, lst.version) == ("proposed", 1 + 9)  # one after the other

        acts = {c: (lambda engine, _, c=c: engine.confirm_list(admin(c))) for c in CITIES}
        outcomes = _race(url, CONFIRMING.isoformat(), acts, trials, propose, check)
        assert len(outcomes) == 9 * trials
        print(f"\n{backend}: {trials} trials of nine confirmations at once, every one confirmed")
        lead.store.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_nine_cities_confirming_the_list_at_once(backend: str, tmp_path: Path) -> None:
    _nine_confirming(backend, tmp_path, CONFIRM_TRIALS)


@pytest.mark.soak
@pytest.mark.parametrize("backend", BACKENDS)
def test_nine_cities_confirming_the_list_at_once_soak(backend: str, tmp_path: Path) -> None:
    _nine_confirming(backend, tmp_path, SOAK_TRIALS)


@pytest.mark.parametrize("backend", BACKENDS)
def test_nine_overrides_at_once_change_the_cycle_one_after_the_other(backend: str, tmp_path: Path) -> None:
    """The cycle's own row (its settings) is saved with its version: nine changes at once, none
    naming the cycle, are all kept."""
    trials = 3
    with database(backend, tmp_path) as url:
        lead = _at_confirmation(url)
        at = lead.now().isoformat()
        first = lead.get_cycle(None).version

        def check(trial: int, got: list[Outcome]) -> None:
            refused = [o for o in got if not o.ok]
            assert not refused, f"trial {trial}: {len(refused)} of 9 refused: {refused}"
            cycle = lead.get_cycle(None)
            kept = [o for o in cycle.config.overrides if o.rule == "min_recommendations" and o.city]
            assert len(kept) == 9 * (trial + 1)
            assert sorted(o.id for o in cycle.config.overrides) == list(range(1, 2 + 9 * (trial + 1) + 1))
            assert cycle.version == first + 9 * (trial + 1)

        acts = {
            c: (lambda engine, _, c=c: engine.override(LEAD, "min_recommendations", f"{c} 并发", city=c))
            for c in CITIES
        }
        _race(url, at, acts, trials, lambda trial: None, check)
        lead.store.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_admins_accepting_one_project_naming_no_version(backend: str, tmp_path: Path) -> None:
    """Without a version named, the second acceptance is judged on the project as the first
    left it: refused by its rules (no longer waiting for a decision), never a version conflict."""
    trials = 3
    with database(backend, tmp_path) as url:
        engine, pids = _setup_accept_race(url, count=trials)
        at = sh(1, 20).isoformat()

        def check(trial: int, got: list[Outcome]) -> None:
            assert sorted(o.kind for o in got) == ["RuleRefused", "ok"], got
            loser = next(o for o in got if not o.ok)
            assert (
                f"Cannot accept project {pids[trial]} (in state 'in_library'): [state] project {pids[trial]} is"
                " 'in_library'; accept needs submitted." in loser.message
            ), loser.message

        def accept(user: str) -> Callable[[Any, int], Any]:
            return lambda engine, trial: engine.fire(user, pids[trial], "accept", opinion="材料齐全")

        acts = {user: accept(user) for user in ("hefei-admin", "hefei-admin2")}
        _race(url, at, acts, trials, lambda trial: None, check)
        engine.store.dispose()


def test_every_way_to_a_cycle_locks_it_before_reading_its_records(tmp_path: Path) -> None:
    """However an action finds its cycle (named, the only one, through a project), its write
    transaction locks the cycle's row (SELECT … FOR UPDATE) before it reads or writes anything
    of the cycle; only the acting user and what finds the cycle come before."""
    from sqlalchemy import event

    with database("postgresql", tmp_path) as url:
        engine, pids = _setup_accept_race(url, count=1)
        engine.clock = lambda: sh(1, 20)
        seen: list[str] = []
        event.listen(engine.store.engine, "before_cursor_execute", lambda *a: seen.append(" ".join(a[2].split())))
        before_lock = {
            "no cycle named": ("FROM users", "FROM cycles ORDER BY"),
            "cycle named": ("FROM users",),
            "through a project": ("FROM users", "FROM projects WHERE projects.id ="),
        }
        acts = {
            "no cycle named": lambda: engine.override(LEAD, "min_recommendations", "x", city="hefei"),
            "cycle named": lambda: engine.override(
                LEAD, "min_recommendations", "x", city="wuhu", cycle_id=f"g60-{YEAR}"
            ),
            "through a project": lambda: engine.fire("hefei-admin", pids[0], "accept"),
        }
        for way, act in acts.items():
            seen.clear()
            act()
            locks = [i for i, q in enumerate(seen) if "FROM cycles WHERE cycles.id =" in q and q.endswith("FOR UPDATE")]
            assert locks, f"{way}: the cycle is never locked: {seen}"
            early = [q for q in seen[: locks[0]] if not any(part in q for part in before_lock[way])]
            assert not early, f"{way}: read before the cycle's lock: {early}"
        engine.store.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_named_old_version_is_still_a_conflict_naming_both(backend: str, tmp_path: Path) -> None:
    """The version check the user asked for stays: acting on version 1 of a project now at
    version 2 is exit 6, one line naming both versions, and the database is unchanged."""
    with database(backend, tmp_path) as url:
        engine, pids = _setup_accept_race(url, count=1)
        engine.clock = lambda: sh(1, 20)
        engine.fire("hefei-admin", pids[0], "accept")  # version 1 → 2
        before = snapshot(engine.store)
        argv = ["--db", url, "--now", "2027-01-20T10:00", "--as", "hefei-admin2"]
        args = ["project", "reject", str(pids[0]), "--reason", "材料不全", "--expect-version", "1"]
        result = CliRunner().invoke(main, [*argv, *args])
        assert result.exit_code == 6, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert (
            f"project {pids[0]} was changed by someone else: you acted on version 1, it is now at version 2; "
            "reload and try again"
        ) in lines[0]
        assert snapshot(engine.store) == before
        engine.store.dispose()
