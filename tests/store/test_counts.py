"""The dashboard's and the queue's counts in SQL (store/counts.py), on SQLite and PostgreSQL: the
grouped count of a cycle's projects and a party's unscored projects, each compared with the same
figures worked out from the projects and sheets read whole, and that no application is read."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import event

from tests.store.test_backends import CYCLE, insert, project, seed, sheet, store, url  # noqa: F401  (fixtures)
from workflow.page_query import Match

LISTABLE = ("municipal_demonstration", "recommended")


@pytest.fixture
def seeded(store):  # noqa: F811
    """Eighteen projects of hefei and wuhu in four states, some reopened, some with a record
    filled; current sheets of hefei on some, a superseded one of wuhu's."""
    seed(store)
    made = [project(n, "hefei" if n <= 9 else "wuhu") for n in range(1, 19)]
    for n, p in enumerate(made, start=1):
        p.state = ("submitted", "in_library", "municipal_demonstration", "recommended")[n % 4]
        p.reopened_to = "municipal_review" if n in (5, 14) else None
        p.record = {"progress": [{"at": "x"}]} if n % 5 == 0 else {"progress": []} if n == 6 else {}
    ids = insert(store, *made)
    with store.transaction() as tx:
        tx.put_sheets([sheet(pid, "hefei", 80) for pid in ids[::3]])
        tx.put_sheets([sheet(ids[2], "wuhu", 70)])
        tx.supersede_sheets(ids[2])  # (wuhu's and hefei's sheets on it are no longer current)
    return store


def _whole(store):  # noqa: F811
    with store.transaction(write=False) as tx:
        return tx.find_projects(CYCLE, with_application=False), tx.sheet_keys(CYCLE)


@pytest.mark.parametrize("readable", [None, [Match(cities=("wuhu",))], [Match(states=("recommended",))], []])
def test_groups_count_what_the_projects_hold(seeded, readable):
    projects, _ = _whole(seeded)
    terms = readable

    def keep(p) -> bool:
        if terms is None:
            return True
        return any(
            (m.cities is None or p.city in m.cities) and (m.states is None or p.state in m.states) for m in terms
        )

    want = Counter(
        (p.city, p.state, p.reopened_to, frozenset(k for k in ("progress",) if p.record.get(k)))
        for p in projects
        if keep(p)
    )
    with seeded.transaction(write=False) as tx:
        got = {
            (g.city, g.state, g.reopened_to, g.filled): g.count
            for g in tx.project_groups(CYCLE, readable, ["progress"])
        }
        plain = {(g.city, g.state, g.reopened_to): g.count for g in tx.project_groups(CYCLE, readable)}
    assert got == dict(want)
    # without record keys: from the indexes, the reopened projects counted apart
    assert plain == dict(Counter((p.city, p.state, p.reopened_to) for p in projects if keep(p)))


@pytest.mark.parametrize("party", ["hefei", "wuhu", "jiaxing", None])
def test_unscored_are_the_shortlist_less_the_partys_current_sheets(seeded, party):
    projects, keys = _whole(seeded)
    done = {pid for who, pid in keys if who == party}
    want = sorted(p.id for p in projects if p.state in LISTABLE and (party is None or p.id not in done))
    with seeded.transaction(write=False) as tx:
        every, n = tx.unscored(CYCLE, None, LISTABLE, party)
        first, n2 = tx.unscored(CYCLE, None, LISTABLE, party, limit=2)
        none, n3 = tx.unscored(CYCLE, None, LISTABLE, party, limit=0)
        wuhu, _ = tx.unscored(CYCLE, [Match(cities=("wuhu",))], LISTABLE, party)
    assert [p.id for p in every] == want and n == n2 == n3 == len(want)
    assert [p.id for p in first] == want[:2] and none == []
    if party is not None:
        with seeded.transaction(write=False) as tx:
            assert tx.unscored_ids(CYCLE, None, LISTABLE, [party], 2) == {party: want[:2]}
    assert [p.id for p in wuhu] == [p.id for p in every if p.city == "wuhu"]
    assert all(p.application == {} for p in every)


def test_counting_reads_no_application(seeded):
    seen: list[str] = []

    def before(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        seen.append(statement)

    event.listen(seeded.engine, "before_cursor_execute", before)
    try:
        with seeded.transaction(write=False) as tx:
            tx.project_groups(CYCLE, None, ["progress"])
            tx.unscored(CYCLE, None, LISTABLE, "hefei", limit=20)
    finally:
        event.remove(seeded.engine, "before_cursor_execute", before)
    assert seen and not any("application" in s for s in seen)


def test_scored_counts_are_each_partys_current_sheets_on_the_shortlist(seeded):
    projects, keys = _whole(seeded)
    listable = {p.id for p in projects if p.state in LISTABLE}
    wuhu = {p.id for p in projects if p.city == "wuhu"}
    want = Counter(who for who, pid in set(keys) if pid in listable)
    with seeded.transaction(write=False) as tx:
        assert tx.scored_counts(CYCLE, None, LISTABLE) == dict(want)
        narrowed = tx.scored_counts(CYCLE, [Match(cities=("wuhu",))], LISTABLE)
    assert narrowed == dict(Counter(who for who, pid in set(keys) if pid in listable & wuhu))


# the key states few (the key projects named) and many (every sheet less the other states' ones)
@pytest.mark.parametrize("key", [("recommended",), ("in_library", "municipal_demonstration", "recommended")])
def test_sheet_counts_read_from_either_side_of_the_states(seeded, key):
    projects, keys = _whole(seeded)
    keyed = {p.id for p in projects if p.state in key}
    with seeded.transaction(write=False) as tx:
        sheets = tx.sheets(CYCLE)
        by_city = tx.count_current_sheets(CYCLE, key)
        by_scorer = tx.count_current_sheets(CYCLE, key, by_scorer=True)
        scored = tx.scored_counts(CYCLE, None, key)
        # a reader who reads every project in those states (and some others): the same counts
        scoped = tx.scored_counts(CYCLE, [Match(cities=("wuhu",)), Match(states=(*key, "submitted"))], key)
        total = tx.unscored(CYCLE, [Match(cities=("wuhu",)), Match(states=key)], key, None, limit=0)[1]
    assert by_city == dict(Counter(s.city for s in sheets if s.project_id in keyed))
    assert by_scorer == dict(Counter(s.scorer for s in sheets if s.project_id in keyed))
    assert scored == scoped == dict(Counter(who for who, pid in set(keys) if pid in keyed))
    assert total == len(keyed)


def test_each_partys_first_unscored_ids_in_one_read(seeded):
    """The dashboard's first few projects each city has left, in one statement for all of them."""
    projects, keys = _whole(seeded)
    parties = ["hefei", "wuhu", "jiaxing"]
    want = {
        party: sorted(p.id for p in projects if p.state in LISTABLE and (party, p.id) not in set(keys))[:3]
        for party in parties
    }
    statements: list[str] = []
    listen = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    event.listen(seeded.engine, "before_cursor_execute", listen)
    try:
        with seeded.transaction(write=False) as tx:
            got = tx.unscored_ids(CYCLE, None, LISTABLE, parties, 3)
            wuhu_only = tx.unscored_ids(CYCLE, [Match(cities=("wuhu",))], LISTABLE, parties, 3)
            assert tx.unscored_ids(CYCLE, None, LISTABLE, [], 3) == {}
    finally:
        event.remove(seeded.engine, "before_cursor_execute", listen)
    assert got == want and any(got.values())
    assert wuhu_only == {
        party: [
            i
            for i in sorted(
                p.id for p in projects if p.city == "wuhu" and p.state in LISTABLE and (party, p.id) not in set(keys)
            )
        ][:3]
        for party in parties
    }
    assert len([x for x in statements if x.lstrip().upper().startswith("SELECT")]) == 2
