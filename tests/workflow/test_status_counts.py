"""The counts kept by each process (workflow/engine/reads.py, ``Reads._kept``): the status's and
the dashboard's missing sheets. Asked again with nothing changed, no sheet or project is counted;
after a change made by another engine on the same database (another worker of the server), the
counts are the new ones, as counted afresh; and the counts kept are the ones counted without the
keeping."""

from __future__ import annotations

from sqlalchemy import event

from store.sql import SqlStore
from tests.conftest import LEAD, SHEET_MID, admin, scorer
from workflow.engine import Engine, reads

CYCLE = "g60-2027"


def _counting(store: SqlStore) -> list[str]:
    seen: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda conn, cursor, sql, *a: seen.append(sql))
    return seen


def _fresh(engine: Engine, name: str) -> dict:
    reads._KEPT.clear()
    return engine.status(name, CYCLE)


def test_a_status_asked_again_counts_nothing_and_another_workers_change_is_seen(at_stage, programs):
    s = at_stage("hefei_short")  # every city has scored all 45, hefei only the first 4
    other = Engine(SqlStore(str(s.store.engine.url)), programs, s.clock)  # (a second worker)
    try:
        first = other.status(LEAD, CYCLE)
        left = other.unscored_counts(admin("hefei"), CYCLE, first=3)
        assert left == other.unscored_counts(admin("hefei"), CYCLE, first=3) == ({"hefei": 41}, 45, left[2])
        assert first == _fresh(other, LEAD)
        seen = _counting(other.store)
        assert other.status(admin("hefei"), CYCLE) == _fresh(other, admin("hefei"))
        other.status(LEAD, CYCLE)
        seen.clear()
        assert other.status(LEAD, CYCLE) == first
        assert not any("score_sheets" in sql or "FROM projects" in sql for sql in seen), seen
        # hefei's scorer enters a sheet through the first worker: the second one sees it at once
        s.engine.score(scorer("hefei"), s.shortlist[4], SHEET_MID)
        after = other.status(LEAD, CYCLE)
        assert after != first and after == _fresh(other, LEAD)
        assert other.unscored_counts(admin("hefei"), CYCLE, first=3)[:2] == ({"hefei": 40}, 45)
        reads._KEPT.clear()
        assert other.unscored_counts(admin("hefei"), CYCLE, first=3)[:2] == ({"hefei": 40}, 45)
        assert after["closing_rules"] == ["[all_sheets_in] hefei has scored 5 of 45 key-library projects"]
    finally:
        other.store.dispose()
