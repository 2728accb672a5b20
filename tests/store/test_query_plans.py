"""Every per-cycle read has an index that fits it, on PostgreSQL, whether or not the planner has
statistics of the tables.

A schema of its own gets today's tables and four cycles of 10,000 projects each, with 81,000
current score sheets and 30,000 audit entries per cycle (tests/store/query_plans.py).
Each read the engine and the console make of one cycle (a cycle's status, the dashboard, the
project list and page, advance, propose, confirm, publish, scoring, the status API, the audit
trail) is run as the store runs it and its statements EXPLAINed (FORMAT JSON): first with the
tables never analysed and autovacuum off (as on a server where autovacuum has not yet come
round after a batch: the case that once made a 100 ms count run for 46 s), then vacuumed and
analysed, as autovacuum leaves them.
A plan fails that scans projects, score sheets or the audit trail beyond what is asked: a
sequential scan, an index read whole, or a scan repeated for every row of another.

The SQLite half asks EXPLAIN QUERY PLAN of the same reads: none scans projects or score_sheets
without an index.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from store import schema
from store.sql import SqlStore
from tests.backends import pg_schema
from tests.store.query_plans import BIG, forget_statistics, index_columns, load, problems, statements_of


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A schema of its own in the test database, dropped afterwards. (Not a database of its own:
    dropping one makes the server checkpoint, 5 s here of a test meant to take seconds; in a
    schema, with autovacuum off for its tables, the statistics are as much its own.)"""
    with pg_schema() as url:
        yield url


@pytest.fixture(scope="module")
def loaded(pg_url: str) -> Iterator[SqlStore]:
    """Today's tables (indexes first, as a running server has them), filled, never analysed."""
    store = SqlStore(pg_url)
    schema.metadata.create_all(store.engine)
    with store.engine.begin() as conn:
        forget_statistics(conn, BIG + ("appeals", "reminders", "attachments", "list_versions", "confirmations"))
        load(conn)
    yield store
    store.dispose()


@pytest.fixture(scope="module")
def statements() -> Iterator[dict[str, list[tuple[str, Any]]]]:
    """Each per-cycle read's statements, run on an empty schema of the test database (cheap:
    the reads' own cost on the loaded one is what a bad plan makes long)."""
    with pg_schema() as url:
        store = SqlStore(url)
        store.create()
        try:
            yield statements_of(store)
        finally:
            store.dispose()


def _failures(store: SqlStore, statements: dict[str, list[tuple[str, Any]]]) -> list[str]:
    """Each per-cycle statement's plan on ``store``, and what in it reads beyond the cycle."""
    failures = []
    with store.engine.connect() as conn:
        indexes = index_columns(conn)
        for name, run in statements.items():
            assert run, f"{name} ran no SELECT"
            for sql, params in run:
                explained = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}", params).scalar_one()
                plan = (explained if isinstance(explained, list) else json.loads(explained))[0]["Plan"]
                for problem in problems(plan, indexes):
                    failures.append(f"{name}: {problem}\n    {' '.join(sql.split())[:300]}")
    return failures


def _statistics(store: SqlStore) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() AND tablename = ANY(:t)"),
                {"t": list(BIG)},
            ).scalar_one()
        )


def test_no_per_cycle_read_scans_beyond_its_cycle_without_statistics(loaded: SqlStore, statements: Any) -> None:
    assert _statistics(loaded) == 0, "the tables were analysed: this is not the case of missing statistics"
    failures = _failures(loaded, statements)
    assert not failures, "\n".join(failures)


def test_no_per_cycle_read_scans_beyond_its_cycle_with_fresh_statistics(loaded: SqlStore, statements: Any) -> None:
    # as autovacuum leaves them: analysed, and vacuumed (the pages all-visible, so that an index
    # holding every column a read needs is read without the rows)
    # (VACUUM marks a page all-visible only once no open transaction of the database can still
    # see its rows: another test process's transaction in the same test database holds that back
    # for as long as it is open, so the tables are vacuumed again until their pages are, a bounded
    # number of times, and the visibility is said with any failure)
    visible = 0.0
    with loaded.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for _ in range(40):
            for table in BIG:
                conn.exec_driver_sql(f"VACUUM (ANALYZE) {table}")
            visible = _all_visible(conn)
            if visible >= 0.99:
                break
            time.sleep(0.5)
    assert _statistics(loaded) > 0
    failures = _failures(loaded, statements)
    assert not failures, f"(pages all-visible after VACUUM: {visible:.0%})\n" + "\n".join(failures)


def _all_visible(conn: Any) -> float:
    """The share of the big tables' pages VACUUM has marked all-visible."""
    pages, visible = conn.execute(
        text(
            "SELECT sum(relpages), sum(relallvisible) FROM pg_class"
            " WHERE relnamespace = current_schema()::regnamespace AND relname = ANY(:t)"
        ),
        {"t": list(BIG)},
    ).one()
    return float(visible or 0) / float(pages) if pages else 1.0


# -- SQLite ---------------------------------------------------------------------------------------
_SCAN = re.compile(r"^SCAN (projects|score_sheets|audit)\b(?! USING (COVERING )?INDEX)")


def test_no_per_cycle_read_scans_a_big_table_on_sqlite(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'plans.db'}")
    store.create()
    failures = []
    try:
        run = statements_of(store)
        with store.engine.connect() as conn:
            for name, found in run.items():
                assert found, f"{name} ran no SELECT"
                for sql, params in found:
                    for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params):
                        if _SCAN.match(row[-1]):
                            failures.append(f"{name}: {row[-1]}\n    {' '.join(sql.split())[:300]}")
    finally:
        store.dispose()
    assert not failures, "\n".join(failures)
