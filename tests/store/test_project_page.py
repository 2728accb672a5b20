"""A page of the project list in SQL (store/project_pages.py), on SQLite and PostgreSQL: each kind
of term, the search, the orders, the window and the count, and that no application is read."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from tests.conftest import applicant
from tests.store.test_backends import CYCLE, insert, project, seed, store, url  # noqa: F401  (fixtures)
from workflow.page_query import Match, PageQuery, SortKey


@pytest.fixture
def seeded(store):  # noqa: F811
    """Twelve projects: hefei 1-6, wuhu 7-12, in three states; some reviewed, reopened, recorded."""
    seed(store)
    made = [project(n, "hefei" if n <= 6 else "wuhu") for n in range(1, 13)]
    for p in made:
        n = int(p.project_name.split()[1])
        p.state = ("submitted", "in_library", "municipal_demonstration")[n % 3]
        p.review_result = "demonstration" if n % 3 == 2 else None
        p.reopened_to = "municipal_review" if n in (5, 11) else None
        p.record = {"progress": [{"at": "x"}]} if n in (3, 4) else {"progress": []} if n == 6 else {}
    made[0].project_name = "100%_done"  # (a LIKE wildcard in a name)
    insert(store, *made)
    return store


def page(store, query: PageQuery):  # noqa: F811
    with store.transaction(write=False) as tx:
        return tx.project_page(CYCLE, query)


def ids_of(store, query: PageQuery) -> list[int]:  # noqa: F811
    return [p.id for p in page(store, query)[0]]


def test_terms_select_what_they_say(seeded):
    assert ids_of(seeded, PageQuery([[Match(cities=("wuhu",))]])) == list(range(7, 13))
    assert ids_of(seeded, PageQuery([[Match(states=("in_library",))]])) == [1, 4, 7, 10]
    # a disjunction, and two of them (both hold)
    either = [Match(cities=("hefei",), states=("submitted",)), Match(ids=(8, 9))]
    assert ids_of(seeded, PageQuery([either])) == [3, 6, 8, 9]
    assert ids_of(seeded, PageQuery([either, [Match(cities=("wuhu",))]])) == [8, 9]
    assert ids_of(seeded, PageQuery([[]])) == []  # (no term: nothing)
    assert ids_of(seeded, PageQuery([[Match(applicant=applicant("wuhu"))]])) == list(range(7, 13))
    assert ids_of(seeded, PageQuery([[Match(reopened_to=(None,), cities=("hefei",))]])) == [1, 2, 3, 4, 6]
    assert ids_of(seeded, PageQuery([[Match(reopened_to=("municipal_review",))]])) == [5, 11]
    assert ids_of(seeded, PageQuery([[Match(review_results=("demonstration",))]])) == [2, 5, 8, 11]
    assert ids_of(seeded, PageQuery([[Match(cities=("hefei",), not_ids=(1, 2))]])) == [3, 4, 5, 6]
    assert ids_of(seeded, PageQuery([[Match(ids=())]])) == []
    # a record's list: filled (3, 4), empty or missing (the others)
    assert ids_of(seeded, PageQuery([[Match(record_has=("progress",))]])) == [3, 4]
    assert ids_of(seeded, PageQuery([[Match(cities=("hefei",), record_lacks=("progress",))]])) == [1, 2, 5, 6]


def test_search_by_name_unit_or_id_with_wildcards_taken_literally(seeded):
    assert ids_of(seeded, PageQuery(search="project 1")) == [10, 11, 12]  # (project 10, 11, 12)
    assert ids_of(seeded, PageQuery(search="ENTERPRISE 12")) == [12]  # (the unit, either case)
    assert ids_of(seeded, PageQuery(search="7")) == [7]  # the id 7 (no name holds a 7 but project 7)
    assert ids_of(seeded, PageQuery(search="#9")) == [9]
    assert ids_of(seeded, PageQuery(search="%")) == [1]  # only the name with a per cent sign
    assert ids_of(seeded, PageQuery(search="0%_")) == [1]
    assert ids_of(seeded, PageQuery(search="_")) == [1]
    assert ids_of(seeded, PageQuery(search="nothing like it")) == []
    # a digit that is no decimal number ('²': str.isdigit holds, int() refuses) is searched as text;
    # full-width digits, as a Chinese keyboard types them, are the id they read as
    assert ids_of(seeded, PageQuery(search="²")) == []
    assert ids_of(seeded, PageQuery(search="#\uff19")) == [9]


def test_orders_windows_and_counts(seeded):
    by_city = SortKey("city", False, (("wuhu", 0), ("hefei", 1)))  # (the program's order, not the id's)
    rows, total = page(seeded, PageQuery(sort=[by_city], limit=4, offset=4))
    assert total == 12 and [p.id for p in rows] == [11, 12, 1, 2]  # (then by id)
    rows, total = page(seeded, PageQuery([[Match(cities=("hefei",))]], sort=[SortKey("id", True)], limit=4))
    assert total == 6 and [p.id for p in rows] == [6, 5, 4, 3]
    names = ids_of(seeded, PageQuery(sort=[SortKey("project_name", True)]))
    assert names[0] == 9 and names[-1] == 1  # "project 9" … "100%_done"
    states = (("municipal_demonstration", 0), ("in_library", 1))  # (submitted: after them)
    ordered = ids_of(seeded, PageQuery(sort=[SortKey("state", False, states)]))
    assert ordered == [2, 5, 8, 11, 1, 4, 7, 10, 3, 6, 9, 12]
    rows, total = page(seeded, PageQuery(limit=5, offset=10))
    assert total == 12 and [p.id for p in rows] == [11, 12]
    with seeded.transaction(write=False) as tx:
        assert tx.project_page_ids(CYCLE, PageQuery(sort=[SortKey("id", True)], limit=1)) == list(range(12, 0, -1))
        assert [p.id for p in tx.projects_by_ids([9, 2, 5])] == [9, 2, 5]


def test_a_page_reads_no_application_nor_record(seeded):
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(seeded.engine, "before_cursor_execute", seen)
    try:
        rows, total = page(seeded, PageQuery(limit=3))
    finally:
        event.remove(seeded.engine, "before_cursor_execute", seen)
    assert total == 12 and all(p.application == {} and p.record == {} for p in rows)
    assert [p.unit_name for p in rows] == ["enterprise 1", "enterprise 2", "enterprise 3"]
    reads = [s for s in statements if "FROM projects" in s]
    assert len(reads) == 2  # the count and the page
    assert not any("application" in s or "record" in s.split("WHERE")[0] for s in reads)
    assert any("LIMIT" in s for s in reads)


def test_a_view_of_cities_and_states_counts_the_same_from_the_count_by_city_and_state(seeded):
    """A reader's scope and filters that ask only a project's city and state are counted from the
    cycle's count by city and state (workflow/page_query.py ``within_city_state``), never a count
    of the rows: the same number SQL counts, for each of these views; a term asking anything else
    is not counted so."""
    import random

    from workflow.page_query import city_state_only, within_city_state

    with seeded.transaction(write=False) as tx:
        tally = tx.count_by_city_state(CYCLE)
    cities, states = ("hefei", "wuhu", "suzhou"), ("submitted", "in_library", "municipal_demonstration", "awarded")
    rng = random.Random(25)

    def term() -> Match:
        return Match(
            cities=None if rng.random() < 0.4 else tuple(rng.sample(cities, rng.randint(0, 2))),
            states=None if rng.random() < 0.3 else tuple(rng.sample(states, rng.randint(0, 3))),
        )

    views = [[], [[]], [[Match()]]] + [
        [[term() for _ in range(rng.randint(1, 3))] for _ in range(rng.randint(1, 3))] for _ in range(60)
    ]
    for all_of in views:
        assert city_state_only(all_of)
        assert sum(within_city_state(all_of, tally).values()) == page(seeded, PageQuery(all_of))[1], all_of
    assert not city_state_only([[Match(cities=("hefei",)), Match(applicant="x")]])
    assert not city_state_only([[Match(states=("submitted",), reopened_to=(None,))]])
    assert not city_state_only([[Match(ids=(1,))]])
