"""PostgreSQL's tally of each cycle's current sheets by city and scorer (store/tally.py, schema
0016): after every way sheets are written — a batch by COPY, a batch that replaces sheets, a
project's sheets made history, a sheet deleted, a change that leaves `current` alone, a TRUNCATE —
the tally holds what counting the sheets holds, cycle by cycle; and a read of a cycle's counts
takes no count of its sheets. Skipped without EVALFLOW_TEST_PG_URL (tests/backends.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import event, text

from store.sql import SqlStore
from store.tally import install_sheet_tally
from tests.backends import pg_schema
from tests.store.test_backends import CYCLE, T0, insert, project, seed, sheet
from workflow.records import Cycle


@pytest.fixture
def pg() -> Iterator[SqlStore]:
    with pg_schema() as url:
        store = SqlStore(url)
        store.create()
        try:
            yield store
        finally:
            store.dispose()


def _counted(store: SqlStore) -> dict[tuple[str, str, str], int]:
    """The current sheets counted from the sheets themselves."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT cycle_id, city, scorer, count(*) FROM score_sheets WHERE current GROUP BY 1, 2, 3")
        )
        return {(c, city, scorer): n for c, city, scorer, n in rows}


def _tallied(store: SqlStore) -> dict[tuple[str, str, str], int]:
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT cycle_id, city, scorer, sheets FROM sheet_tallies WHERE sheets <> 0"))
        return {(c, city, scorer): n for c, city, scorer, n in rows}


def test_the_tally_holds_the_current_sheets_after_every_kind_of_write(pg: SqlStore) -> None:
    seed(pg)
    other = Cycle(
        id="g60-2028",
        program_id="g60-deep-integration",
        program_version=1,
        program_digest="0123456789abcdef",
        year=2028,
        stage="collection",
        settings={"places": {}, "quotas": {}},
        opened_at=T0,
        opened_by="lead",
    )
    with pg.transaction() as tx:
        tx.insert_cycle(other)
    ids = insert(pg, *(project(n, "hefei" if n % 2 else "wuhu") for n in range(1, 41)))
    later = [replace(project(100 + n), cycle_id=other.id) for n in range(5)]
    later_ids = insert(pg, *later)

    def check(what: str) -> None:
        assert _tallied(pg) == _counted(pg), what

    check("no sheets")
    with pg.transaction() as tx:  # a batch of each city's sheets (COPY), and one on the other cycle
        tx.put_sheets([sheet(pid, city, 70 + pid % 9) for pid in ids for city in ("hefei", "wuhu", "suzhou")])
        tx.put_sheets([replace(sheet(pid, "hefei", 80), cycle_id=other.id) for pid in later_ids])
    check("first sheets")
    assert _tallied(pg)[(CYCLE, "hefei", "hefei-scorer")] == 40
    with pg.transaction() as tx:  # hefei scores ten again: ten replaced, ten new, no change in count
        tx.put_sheets([sheet(pid, "hefei", 90) for pid in ids[:10]])
    check("rescored")
    with pg.transaction() as tx:  # a project reopened: every sheet of it made history
        tx.supersede_sheets(ids[0])
    check("made history")
    assert _tallied(pg)[(CYCLE, "wuhu", "wuhu-scorer")] == 39
    with pg.engine.begin() as conn:  # a sheet deleted, history deleted, a total changed in place
        conn.execute(text("DELETE FROM score_sheets WHERE project_id = :p AND city = 'suzhou'"), {"p": ids[5]})
        conn.execute(text("DELETE FROM score_sheets WHERE NOT current AND project_id = :p"), {"p": ids[1]})
        conn.execute(text("UPDATE score_sheets SET total = total + 1 WHERE project_id = :p"), {"p": ids[7]})
    check("deleted and changed")
    assert _tallied(pg)[(CYCLE, "suzhou", "suzhou-scorer")] == 38
    before = _tallied(pg)
    with pytest.raises(RuntimeError), pg.transaction() as tx:  # a write undone leaves the tally as it was
        tx.put_sheets([sheet(pid, "wuhu", 60) for pid in ids[20:30]])
        raise RuntimeError("undone")
    assert _tallied(pg) == before == _counted(pg)
    with pg.engine.begin() as conn:  # counted again from the sheets, as the migration does
        install_sheet_tally(conn)
    check("recounted")
    with pg.engine.begin() as conn:
        conn.execute(text("TRUNCATE score_sheets"))
    assert _tallied(pg) == {} == _counted(pg)


def test_a_cycles_counts_read_the_tally_not_the_sheets(pg: SqlStore) -> None:
    """The status's and the dashboard's sheet counts of a cycle scored by city come from the
    tally: no statement of them reads score_sheets."""
    from tests.conftest import LEAD
    from workflow.engine import Engine, reads
    from workflow.program import ProgramRegistry

    program = ProgramRegistry().get("g60-deep-integration")
    engine = Engine(pg)
    engine.add_user(None, LEAD, "lead", program.lead)
    engine.open_cycle(LEAD, program.id, 2027)
    # (joint scoring: most of the cycle's projects shortlisted, each city's sheets in on some)
    ids = insert(pg, *(replace(project(n, "hefei" if n % 2 else "wuhu"), state="recommended") for n in range(12)))
    with pg.transaction() as tx:
        tx.put_sheets([sheet(pid, city, 75) for pid in ids[:8] for city in ("hefei", "suzhou")])
    reads._KEPT.clear()
    seen: list[str] = []
    listen = lambda conn, cursor, statement, *rest: seen.append(statement)  # noqa: E731
    event.listen(pg.engine, "before_cursor_execute", listen)
    try:
        status = engine.status(LEAD, None)
        left, total, first = engine.unscored_counts(LEAD, None, first=3)
    finally:
        event.remove(pg.engine, "before_cursor_execute", listen)
    assert any("sheet_tallies" in x for x in seen)
    by_city = {c["city"]: c for c in status["cities"]}
    assert by_city["suzhou"]["sheets"] == 8 and by_city["hefei"]["sheets"] == 8, by_city["suzhou"]
    assert total == 12 and left["suzhou"] == left["hefei"] == 4 and left["wuhu"] == 12
    assert first["suzhou"] == ids[8:11]
    assert not [x for x in seen if "score_sheets" in x and "count(" in x.lower()], seen
