"""The per-city count of current score sheets on PostgreSQL tables never analysed: the plan of
schema 0012 against today's, on the same rows, in one run (benchmarks/RESULTS.md, "Per-cycle
queries that cannot collapse").

A throwaway database of the local cluster (``--url``: a server URL whose role may create
databases; default EVALFLOW_TEST_PG_URL) gets today's tables, autovacuum off, and four cycles of
``--projects`` projects each (tests/store/query_plans.py). The count is run (EXPLAIN ANALYZE,
BUFFERS) with today's indexes, then with the index 0013 added dropped (the plan 0012 made), then
after ANALYZE for scale. The database is dropped at the end."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # (run as a script: the project's packages, and its tests' loader)

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from store import schema  # noqa: E402
from tests.store.query_plans import BIG, CYCLE, KEY_STATES, forget_statistics, load  # noqa: E402

COUNT = (
    "SELECT score_sheets.city, count(*) FROM score_sheets WHERE score_sheets.cycle_id = %(cycle)s"
    " AND score_sheets.current IS true AND score_sheets.project_id IN (SELECT projects.id FROM projects"
    " WHERE projects.cycle_id = %(cycle)s AND projects.state = ANY(%(states)s)) GROUP BY score_sheets.city"
)


def measure(engine: Any, label: str) -> float:
    """Run the count once with EXPLAIN (ANALYZE, BUFFERS), print its plan; its time in seconds."""
    params = {"cycle": CYCLE, "states": list(KEY_STATES)}
    with engine.connect() as conn:
        analysed = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_stats WHERE tablename IN ('projects', 'score_sheets')"
        ).scalar()
        started = time.perf_counter()
        plan = [row[0] for row in conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {COUNT}", params)]
        took = time.perf_counter() - started
    print(f"== {label} (rows in pg_stats: {analysed}): {took * 1000:.1f} ms")
    print("\n".join(plan), end="\n\n", flush=True)
    return took


def main() -> None:
    """Parse the arguments, load, measure, print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("EVALFLOW_TEST_PG_URL"), help="a PostgreSQL server URL")
    parser.add_argument("--projects", type=int, default=10_000, help="projects per cycle (four cycles)")
    args = parser.parse_args()
    if not args.url:
        parser.error("give --url or set EVALFLOW_TEST_PG_URL")
    name = f"evalflow_plans_bench_{os.getpid()}"
    admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(make_url(args.url).set(database=name))
    try:
        schema.metadata.create_all(engine)
        with engine.begin() as conn:
            forget_statistics(conn, BIG)
            load(conn, args.projects)
        new = measure(engine, "today's indexes, never analysed")
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP INDEX ix_sheets_cycle_project")
        old = measure(engine, "schema 0012's indexes, never analysed")
        with engine.begin() as conn:
            for table in ("projects", "score_sheets"):
                conn.exec_driver_sql(f"ANALYZE {table}")
        measure(engine, "schema 0012's indexes, after ANALYZE")
        print(f"without statistics, 0012 / today: {old / new:.0f} ×")
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
