"""What one page of the console's project list costs at 3,000 projects (applications of the
usual size): the lead's first page and a city administrator's, each request timed, and the
project reads the page made, each against a floor measured in the same run (the whole cycle read
once with its applications, which every page used to cost). Run it on a checkout to compare, e.g.

    .venv/bin/python benchmarks/project_page.py   (also run by make bench)

(the same script on main and on this branch: the page's route is /projects in both)."""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import event

from demo.synthetic import application
from store.sql import SqlStore
from web.app import create_app
from web.auth import SESSION_COOKIE
from workflow.engine import Engine
from workflow.program import ProgramRegistry
from workflow.records import Project

N = 3000
AT = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)


def build(folder: Path) -> tuple[Engine, SqlStore]:
    store = SqlStore(f"sqlite:///{folder / 'bench.db'}")
    store.create()
    engine = Engine(store, ProgramRegistry(), lambda: AT)
    engine.add_user(None, "lead", "lead", "songjiang")
    engine.add_user("lead", "hefei-admin", "city-admin", "hefei")
    cycle = engine.open_cycle("lead", "g60-deep-integration", 2027)
    program = engine.program_of(cycle)
    names = {p.id: p.name for p in program.parties}
    made = []
    for n in range(N):
        city = program.parties[n % len(program.parties)].id
        app = application(random.Random(n), city, names[city], 2027, n + 1, None)
        made.append(
            Project(
                None,
                cycle.id,
                city,
                f"{city}-applicant",
                f"单位{n:05d}",
                f"项目{n:05d}",
                app,
                "submitted",
                submitted_at=AT,
                updated_at=AT,
            )
        )
    with store.transaction() as tx:
        tx.insert_projects(made)
    return engine, store


def timed(client: TestClient, path: str, store: SqlStore) -> tuple[float, int]:
    read = [0]

    def count(conn, cursor, statement, params, context, executemany):  # noqa: ARG001
        if "FROM projects" in statement:
            read[0] += 1

    event.listen(store.engine, "before_cursor_execute", count)
    times = []
    try:
        for _ in range(5):
            start = time.perf_counter()
            r = client.get(path)
            times.append(time.perf_counter() - start)
            assert r.status_code == 200, r.text[:500]
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    return statistics.median(times), read[0] // 5


def floor(engine: Engine) -> float:
    """The floor of the same run: one read of the whole cycle with its applications, what every
    page of the list read before it read only its page (median of five)."""
    times = []
    for _ in range(5):
        start = time.perf_counter()
        engine.projects("lead", "g60-2027")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine, store = build(Path(folder))
        app = create_app(engine)
        whole = floor(engine)
        print(f"floor: the whole cycle read once ({N} projects with applications) {whole * 1000:8.1f} ms")
        for user in ("lead", "hefei-admin"):
            client = TestClient(app, base_url="http://testserver")
            who = next(u for u in engine.users() if u.name == user)
            client.cookies.set(SESSION_COOKIE, engine.open_session(who)[0])
            for path in ("/projects", "/projects?page=2", "/projects?state=submitted"):
                seconds, reads = timed(client, path, store)
                print(
                    f"{user:12} {path:28} {seconds * 1000:8.1f} ms  ({reads} project reads)"
                    f"  {seconds / whole:5.2f} × the floor"
                )
        store.dispose()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
