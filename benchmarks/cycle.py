"""The engine's run: a synthetic G60 cycle of N projects driven through every stage with the
engine's public API, and the engine's parts timed apart (one city's score batch, loading the
projects into records, the `transitions` machine alone)."""

from __future__ import annotations

import random
import shutil
import sqlite3
import time
from pathlib import Path

from demo.g60 import DemoClock, id_of
from demo.synthetic import application
from store.sql import SqlStore
from workflow.engine import Engine
from workflow.errors import RuleRefused

PROGRAM = "g60-deep-integration"
CYCLE = "g60-2027"  # the cycle id the engine's run gets


def sheet(pid: int, city: int) -> dict[str, int]:
    """Scores inside the bands that differ from project to project (few ties)."""
    return {
        "value": 12 + (pid * 7 + city) % 9,
        "organization": 16 + (pid * 11 + 3 * city) % 15,
        "effectiveness": 16 + (pid * 13 + 5 * city) % 15,
        "mechanism": 12 + (pid * 5 + 7 * city) % 9,
    }


class Applications:
    """N synthetic applications spread over the cities, made one city at a time when asked (the
    same ones every time), so that the benchmark holds only one city's batch in memory."""

    def __init__(self, n: int, cities: list):
        self.n, self.cities = n, cities

    def __getitem__(self, city_id: str) -> list[tuple[str, dict]]:
        k = next(i for i, c in enumerate(self.cities) if c.id == city_id)
        rng = random.Random(f"{self.n}-{city_id}")
        name = self.cities[k].name
        return [(f"row {i}", application(rng, city_id, name, 2027, i)) for i in range(k, self.n, len(self.cities))]

    def values(self):
        return (self[c.id] for c in self.cities)


def engine_run(
    n: int,
    work: Path,
    apps: Applications,
    before_scoring: bool = False,
    at_review: Path | None = None,
    url: str | None = None,
) -> tuple[dict[str, float], int, int, Path]:
    """The whole cycle through the engine; returns seconds per stage, transitions, sheets, db.
    ``before_scoring``: stop when joint scoring is about to begin (the database as it is then).
    ``at_review``: keep a copy of the database there as it is when municipal review opens (for
    the latency of one `evalflow review`); made between stages, not timed (SQLite only).
    ``url``: run on this (empty) database instead of a new SQLite file in ``work`` (PostgreSQL:
    benchmarks/pg.py makes it)."""
    db = work / f"engine-{n}{'-before-scoring' if before_scoring else ''}.db"
    store = SqlStore(url or f"sqlite:///{db}")
    store.create()
    clock = DemoClock(2027)
    clock.set(1, 10)
    engine = Engine(store, clock=clock)
    program = engine.programs.get(PROGRAM)
    cities = list(program.parties)
    engine.add_user(None, "lead", "lead", program.lead)
    for c in cities:
        engine.add_user("lead", f"{c.id}-admin", "city-admin", c.id)
        engine.add_user("lead", f"{c.id}-scorer", "scorer", c.id)
    quotas = {c.id: {"demonstration": 10**9, "excellent": 10**9} for c in cities}
    engine.open_cycle("lead", PROGRAM, 2027, quotas=quotas, places={"demonstration": n // 10, "excellent": n // 5})
    stages: dict[str, float] = {}
    ids: dict[str, list[int]] = {}
    transitions = sheets = 0

    def each(calls) -> None:
        """Make each call, keeping none of the results (a caller done with a batch drops it)."""
        for _ in calls:
            pass

    def timed(name: str, func) -> None:
        start = time.perf_counter()
        func()
        stages[name] = stages.get(name, 0.0) + time.perf_counter() - start

    clock.set(1, 20)
    for c in cities:  # each city imports its file; making the file is not timed
        rows = apps[c.id]
        timed(
            "1 submit",
            lambda c=c, rows=rows: ids.update(
                {c.id: [p.id for p in engine.submit_batch(f"{c.id}-admin", rows).created]}
            ),
        )
        del rows
    clock.set(2, 20)
    timed("1 accept", lambda: each(engine.fire(f"{c.id}-admin", ids[c.id], "accept") for c in cities))
    clock.set(3, 1)
    timed("advance", lambda: engine.advance("lead"))
    if at_review is not None and url is None:
        store.settle()
        source, copy = sqlite3.connect(db), sqlite3.connect(at_review)
        source.backup(copy)  # (SQLite's online copy, its log included)
        copy.close()
        source.close()
    clock.set(3, 10)
    timed(
        "2 review",
        lambda: each(
            engine.fire(f"{c.id}-admin", ids[c.id], "review", result="demonstration", method="site") for c in cities
        ),
    )
    clock.set(5, 1)
    timed("advance", lambda: engine.advance("lead"))
    clock.set(5, 2)
    timed("3 recommend", lambda: each(engine.fire(f"{c.id}-admin", ids[c.id], "recommend") for c in cities))
    clock.set(5, 3)
    timed("advance", lambda: engine.advance("lead"))
    every = [pid for c in cities for pid in ids[c.id]]
    if before_scoring:
        store.dispose()
        return stages, 0, 0, db
    clock.set(5, 10)
    for k, c in enumerate(cities):  # each city imports its sheets; making its file is not timed
        sheets_in = [(pid, {"scores": sheet(pid, k)}) for pid in every]
        timed("4 score", lambda c=c, sheets_in=sheets_in: engine.fire_each(f"{c.id}-scorer", sheets_in, "score"))
        del sheets_in
    clock.set(5, 20)
    timed("advance", lambda: engine.advance("lead"))
    clock.set(5, 25)
    tie: list[int] = []

    def propose() -> None:
        try:
            engine.propose_list("lead")
        except RuleRefused as exc:  # every project scored alike: the lead settles the tie, as in the demo
            tie.extend(int(x) for r in exc.rejections for x in r.english.split(" are tied")[0][9:].split(", "))
            engine.propose_list("lead", tie_order=tie)

    timed("5 propose", propose)
    timed("5 confirm", lambda: each(engine.confirm_list(f"{c.id}-admin") for c in cities))
    clock.set(6, 1)
    timed("advance", lambda: engine.advance("lead"))
    clock.set(6, 2)
    timed("6 publish", lambda: engine.publish("lead"))
    listed = [  # (their ids: reading 30,000 applications at 100k would be the benchmark's, not the engine's)
        id_of(p)
        for st in ("listed_demonstration", "listed_excellent")
        for p in engine.projects("lead", state=st, with_application=False)
    ]
    timed("6 award", lambda: engine.fire("lead", listed, "award"))
    transitions = n * 5 + n * len(cities) + len(listed)  # submit accept review recommend place, sheets, awards
    sheets = n * len(cities)
    # closing waits for the checkpoints of the log still running beside the last stage, and makes
    # SQLite's own last one (store/checkpoint.py): the engine's work, timed
    timed("7 close", store.dispose)
    return stages, transitions, sheets, db


def load_projects(db: Path) -> tuple[float, float]:
    """Loading every project of the cycle into the engine's records: as ranking and publication
    do (without the applications), and whole (with every 附件1 field)."""
    store = SqlStore(f"sqlite:///{db}")
    out = []
    for with_application in (False, True):
        start = time.perf_counter()
        with store.transaction(write=False) as tx:
            found = tx.find_projects("g60-2027", with_application=with_application)
        out.append(time.perf_counter() - start)
        assert found
    store.dispose()
    return out[0], out[1]


def score_batch(n: int, work: Path, runs: int) -> list[float]:
    """One city's score batch (N sheets, as the benchmark's score stage imports them) on a fresh
    copy of an N-project database taken when joint scoring begins, ``runs`` times: seconds each.
    The database is made once in ``work`` and kept there for later runs."""
    from workflow.program import ProgramRegistry

    cities = list(ProgramRegistry().get(PROGRAM).parties)
    before = work / f"engine-{n}-before-scoring.db"
    if not before.exists():
        engine_run(n, work, Applications(n, cities), before_scoring=True)
    con = sqlite3.connect(before)
    every = [pid for (pid,) in con.execute("SELECT id FROM projects ORDER BY id")]  # city by city, as made
    con.close()
    times = []
    for _ in range(runs):
        db = work / f"score-batch-{n}.db"
        for old in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            old.unlink(missing_ok=True)
        shutil.copy(before, db)
        store = SqlStore(f"sqlite:///{db}")
        clock = DemoClock(2027)
        clock.set(5, 10)
        engine = Engine(store, clock=clock)
        sheets_in = [(pid, {"scores": sheet(pid, 0)}) for pid in every]
        start = time.perf_counter()
        engine.fire_each(f"{cities[0].id}-scorer", sheets_in, "score")
        store.settle()  # its log checkpointed (store/checkpoint.py), as a commit of its own would have
        times.append(time.perf_counter() - start)
        store.dispose()
        del sheets_in, engine
    return times


def machine_overhead(k: int = 20000) -> float:
    """The `transitions` machine alone: seconds per fired trigger on a plain record."""
    from workflow.program import ProgramRegistry
    from workflow.records import Project

    program = ProgramRegistry().get(PROGRAM)
    records = [Project(None, "c", "hefei", "u", "e", "p", {}, state="submitted") for _ in range(k)]
    start = time.perf_counter()
    for r in records:
        program.fire(r, "accept", {})
    return (time.perf_counter() - start) / k
