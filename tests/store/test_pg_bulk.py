"""PostgreSQL's batch paths (store/pg_bulk.py): a batch that grows a table analyses it after the
commit, a small one does not; a batch's UPDATE still refuses a project moved under it; a batch's
rows read back as they were written. Skipped without EVALFLOW_TEST_PG_URL (tests/backends.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from benchmarks.cycle import PROGRAM, Applications, sheet
from demo.g60 import DemoClock
from store.pg_bulk import ANALYZE_ROWS
from store.sql import SqlStore
from tests.backends import pg_schema
from workflow.engine import Engine
from workflow.errors import ConcurrentChange
from workflow.records import ScoreSheet


@pytest.fixture
def pg() -> Iterator[tuple[Engine, SqlStore, str]]:
    """An engine on a fresh PostgreSQL schema, a G60 cycle open for submissions, hefei's users."""
    with pg_schema() as url:
        store = SqlStore(url)
        store.create()
        clock = DemoClock(2027)
        clock.set(1, 10)
        engine = Engine(store, clock=clock)
        program = engine.programs.get(PROGRAM)
        engine.add_user(None, "lead", "lead", program.lead)
        engine.add_user("lead", "hefei-admin", "city-admin", "hefei")
        engine.add_user("lead", "hefei-scorer", "scorer", "hefei")
        engine.open_cycle("lead", PROGRAM, 2027)
        clock.set(1, 20)
        try:
            yield engine, store, url
        finally:
            store.dispose()


def _analysed(url: str) -> dict[str, Any]:
    """table -> when it was last analysed by hand (None: never), as the server's statistics say."""
    probe = create_engine(url)
    try:
        with probe.connect() as conn:
            rows = conn.execute(
                text("SELECT relname, last_analyze FROM pg_stat_user_tables WHERE schemaname = current_schema()")
            )
            return {name: when for name, when in rows}
    finally:
        probe.dispose()


def _applications(n: int) -> list[tuple[str, dict]]:
    """``n`` synthetic applications of hefei (the benchmark's)."""
    from workflow.program import ProgramRegistry

    cities = list(ProgramRegistry().get(PROGRAM).parties)
    return Applications(n * len(cities), cities)["hefei"][:n]


def test_a_batch_that_grows_a_table_analyses_it_and_a_small_one_does_not(pg: tuple[Engine, SqlStore, str]) -> None:
    engine, store, url = pg
    apps = _applications(ANALYZE_ROWS + 100)
    engine.submit_batch("hefei-admin", apps[:100])
    before = _analysed(url)
    assert before["projects"] is None, before  # 100 rows: left to autovacuum
    created = engine.submit_batch("hefei-admin", apps[100:]).created
    after = _analysed(url)
    assert after["projects"] is not None, after
    assert after["score_sheets"] is None and after["audit"] is None, after  # (see ANALYZED)
    # a score batch (as the engine's fire_each writes it) grows the sheets: they are analysed
    at = datetime(2027, 5, 10, 1, tzinfo=UTC)
    with store.transaction() as tx:
        tx.put_sheets(
            [
                ScoreSheet(p.cycle_id, p.id, "hefei", "hefei-scorer", s, {}, sum(s.values()), at=at)
                for p in created
                if p.id is not None and (s := sheet(p.id, 0))
            ]
        )
    assert _analysed(url)["score_sheets"] is not None


def test_a_batch_update_refuses_a_project_moved_under_it(pg: tuple[Engine, SqlStore, str]) -> None:
    """The batch's one UPDATE writes nothing if a project's stored version moved since it was
    read; the batch then names it (ConcurrentChange), and the transaction writes nothing."""
    engine, store, _ = pg
    created = engine.submit_batch("hefei-admin", _applications(60)).created
    ids = [p.id for p in created if p.id is not None]
    with store.transaction() as tx:
        moved = tx.get_project(ids[30])
        assert moved is not None
        moved.state = "in_library"
        tx.save_project(moved)  # version 2 now
    with pytest.raises(ConcurrentChange), store.transaction() as tx:
        found = tx.get_projects(ids)
        projects = list(found.values())
        projects[30].version = 1  # as read before the move
        for p in projects:
            p.state = "withdrawn"
        tx.save_projects(projects)
    with store.transaction(write=False) as tx:
        states = {p.state for p in tx.get_projects(ids).values()}
    assert states == {"submitted", "in_library"}, states


def test_a_batch_reads_back_what_it_wrote(pg: tuple[Engine, SqlStore, str]) -> None:
    """Projects written by COPY and saved by the array UPDATE read back alike by the batch read
    and by the one-project read (Core): applications, records, instants in UTC."""
    engine, store, _ = pg
    created = engine.submit_batch("hefei-admin", _applications(60)).created
    ids = [p.id for p in created if p.id is not None]
    with store.transaction() as tx:
        projects = list(tx.get_projects(ids).values())
        for p in projects:
            p.record = {"notes": [{"at": "2027-01-20", "by": "hefei-admin"}]}
            p.review_result = "demonstration"
        tx.save_projects(projects)
    with store.transaction(write=False) as tx:
        batch = tx.get_projects(ids)
        for pid in ids:
            one = tx.get_project(pid)
            assert one == batch[pid]
            assert one is not None and one.version == 2 and one.updated_at.tzinfo is not None
            assert one.record == {"notes": [{"at": "2027-01-20", "by": "hefei-admin"}]}
    assert [p.application for p in created] == [batch[pid].application for pid in ids]
