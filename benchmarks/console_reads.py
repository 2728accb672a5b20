"""What one console read costs at N projects, single client: the dashboard, the project list, the
queue, a project page and the API's status and list, for the lead and a city administrator, at
joint scoring with five of the nine cities' sheets in. Each figure is the median of ``--reps``
requests, beside its ratio to a floor measured in the same run: a signed-in request that reads
nothing of the cycle (``/api/me``). Run the same script on two checkouts to compare, e.g.

    .venv/bin/python benchmarks/console_reads.py --n 3000
    PYTHONPATH=/path/to/other/checkout .venv/bin/python benchmarks/console_reads.py --n 3000

On PostgreSQL (``--db URL``, a throwaway database) the SQLite cycle is copied in first, if it is
empty.
The cycle is made once and kept in ``--work`` (made through the engine: benchmarks/cycle.py)."""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, insert, select, text

from benchmarks.cycle import PROGRAM, Applications, engine_run, sheet
from demo.g60 import DemoClock
from store import schema
from store.sql import SqlStore
from web.app import create_app
from web.auth import SESSION_COOKIE
from workflow.engine import Engine
from workflow.program import ProgramRegistry

SCORED = 5  # cities whose sheets are in (the others' are missing: the dashboard names them)
PATHS = (
    "/",
    "/projects",
    "/queue",
    "/projects/{pid}",
    "/api/cycles/g60-2027/status",
    "/api/cycles/g60-2027/projects?limit=200",
)
FLOOR = "/api/me"


def scored_cycle(n: int, work: Path) -> Path:
    """A SQLite cycle of ``n`` projects at joint scoring, ``SCORED`` cities' sheets in (made once)."""
    db = work / f"console-{n}.db"
    if db.exists():
        return db
    cities = list(ProgramRegistry().get(PROGRAM).parties)
    before = work / f"engine-{n}-before-scoring.db"
    if not before.exists():
        engine_run(n, work, Applications(n, cities), before_scoring=True)
    shutil.copy(before, db)
    store = SqlStore(f"sqlite:///{db}")
    clock = DemoClock(2027)
    clock.set(5, 10)
    engine = Engine(store, clock=clock)
    every = [p.id for p in engine.projects("lead", with_application=False) if p.id is not None]
    for k, c in enumerate(cities[:SCORED]):
        engine.fire_each(f"{c.id}-scorer", [(pid, {"scores": sheet(pid, k)}) for pid in every], "score")
    store.dispose()
    return db


def copied_to(db: Path, url: str) -> None:
    """The SQLite cycle's rows copied into an empty PostgreSQL database, then analysed."""
    source = SqlStore(f"sqlite:///{db}")
    target = SqlStore(url)
    target.create()
    with source.engine.connect() as s, target.engine.begin() as d:
        for table in schema.metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = [dict(r._mapping) for r in s.execute(select(table))]
            d.execute(table.delete())  # (create() starts the audit chain's heads)
            for start in range(0, len(rows), 2000):
                d.execute(insert(table), rows[start : start + 2000])
            if rows and "id" in table.c and isinstance(rows[0].get("id"), int):
                d.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), {max(r['id'] for r in rows)})")
                )
        d.execute(text("ANALYZE"))
    source.dispose()
    target.dispose()


def _filled(url: str) -> bool:
    from sqlalchemy import create_engine

    probe = create_engine(url)
    try:
        with probe.connect() as conn:
            if conn.execute(text("SELECT to_regclass('projects')")).scalar() is None:
                return False
            return bool(conn.execute(text("SELECT count(*) FROM projects")).scalar())
    finally:
        probe.dispose()


def measure(url: str, reps: int) -> list[tuple[str, str, float, float, int]]:
    """(user, path, median ms, ratio to the floor, statements per request) for every read."""
    store = SqlStore(url)
    clock = DemoClock(2027)
    clock.set(5, 10)
    engine = Engine(store, clock=clock)
    app = create_app(engine)
    issued = [0]

    def count(*args: Any) -> None:
        issued[0] += 1

    event.listen(store.engine, "before_cursor_execute", count)
    pid = engine.project_page("lead", "g60-2027", _first()).projects[0].id
    out = []
    for user in ("lead", "hefei-admin"):
        client = TestClient(app, base_url="http://testserver")
        who = next(u for u in engine.users() if u.name == user)
        client.cookies.set(SESSION_COOKIE, engine.open_session(who)[0])
        token = engine.new_token("lead", user, "bench")[0]
        api = {"Authorization": f"Bearer {token}"}
        floor_ms = _median(client, FLOOR, api, reps, issued)[0]
        for path in PATHS:
            path = path.format(pid=pid)
            ms, statements = _median(client, path, api if path.startswith("/api/") else {}, reps, issued)
            out.append((user, path, ms, ms / floor_ms, statements))
        out.append((user, FLOOR, floor_ms, 1.0, 0))
    store.dispose()
    return out


def _first() -> Any:
    from workflow.page_query import PageQuery

    query = PageQuery()
    query.limit = 1
    return query


def _median(client: TestClient, path: str, headers: dict[str, str], reps: int, issued: list[int]) -> tuple[float, int]:
    client.get(path, headers=headers)  # (warm: the first request of a path compiles its statements)
    times = []
    issued[0] = 0
    for _ in range(reps):
        start = time.perf_counter()
        r = client.get(path, headers=headers)
        times.append(time.perf_counter() - start)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return statistics.median(times) * 1000, issued[0] // reps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--db", help="an empty PostgreSQL database to copy the cycle into (default: SQLite)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "evalflow-console-bench")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    db = scored_cycle(args.n, args.work)
    if args.db:
        if not _filled(args.db):  # (a database filled by an earlier run is measured as it is)
            copied_to(db, args.db)
        url = args.db
    else:
        copy = args.work / f"console-{args.n}-run.db"
        shutil.copy(db, copy)
        url = f"sqlite:///{copy}"
    backend = "postgresql" if args.db else "sqlite"
    print(f"console reads, {args.n} projects, {backend}, median of {args.reps}; floor: {FLOOR}")
    for user, path, ms, ratio, statements in measure(url, args.reps):
        print(f"{user:12} {path:42} {ms:8.1f} ms  {ratio:6.2f} × floor  {statements:3d} statements")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
