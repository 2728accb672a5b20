"""The store's contract, on SQLite and on PostgreSQL alike (see tests/backends.py).

Every test here runs once per backend: creating the schema, each kind of write the engine makes
(versioned saves, batched inserts, score sheets, appeals, reminder claims, the scheduler lease),
instants stored as UTC, the cycle row lock that serialises writers, and a small engine flow.
Waiting is measured with events and generous timeouts, never with tight wall-clock bounds.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import insert as core_insert
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import StatementError

from cli import main
from store import schema
from store.sql import HEAD, SqlStore
from tests.backends import BACKENDS, database
from tests.conftest import (
    LEAD,
    SHANGHAI,
    TABLES,
    WEB_TABLES,
    SettableClock,
    admin,
    applicant,
    make_app,
    refused,
    sh,
    snapshot,
)
from workflow.audit import link
from workflow.engine import Engine
from workflow.errors import ConcurrentChange, StoreUnavailable
from workflow.records import Appeal, AuditEntry, Cycle, ListEntry, ListVersion, Project, Reminder, ScoreSheet, User

CYCLE = "g60-2027"
T0 = datetime(2027, 1, 2, 9, 30, 15, 123456, tzinfo=SHANGHAI)
WAIT = 30.0  # seconds: the most a test waits for something that must happen
HOLD = 1.5  # seconds: how long a test shows that something does *not* happen (it is blocked)


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend."""
    with database(request.param, tmp_path) as u:
        yield u


@pytest.fixture
def store(url: str) -> Iterator[SqlStore]:
    """An initialised store (it also drives conftest's ``engine`` and ``cycle`` fixtures)."""
    s = SqlStore(url)
    s.create()
    try:
        yield s
    finally:
        s.dispose()


def seed(store: SqlStore) -> Cycle:
    """A lead and a cycle, written straight through the store."""
    cycle = Cycle(
        id=CYCLE,
        program_id="g60-deep-integration",
        program_version=1,
        program_digest="0123456789abcdef",
        year=2027,
        stage="collection",
        settings={"places": {"demonstration": 2, "excellent": 3}, "quotas": {}},
        opened_at=T0,
        opened_by=LEAD,
    )
    with store.transaction() as tx:
        tx.add_user(User(LEAD, "lead", "songjiang"), T0)
        tx.insert_cycle(cycle)
    return cycle


def project(n: int, city: str = "hefei", at: datetime = T0) -> Project:
    return Project(
        id=None,
        cycle_id=CYCLE,
        city=city,
        applicant=applicant(city),
        unit_name=f"enterprise {n}",
        project_name=f"project {n}",
        application={"n": n, "名称": f"项目{n}"},
        state="submitted",
        submitted_at=at,
        updated_at=at,
    )


def insert(store: SqlStore, *projects: Project) -> list[int]:
    with store.transaction() as tx:
        tx.insert_projects(list(projects))
    return [p.id for p in projects]  # type: ignore[misc]


def sheet(pid: int, city: str, total: int, at: datetime = T0) -> ScoreSheet:
    return ScoreSheet(CYCLE, pid, city, f"{city}-scorer", {"value": total}, {"value": "A"}, total, "", True, at)


def in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, threading.Event, dict[str, Any]]:
    """Run ``target`` in a thread; the event is set when it returned or raised (see the dict)."""
    done = threading.Event()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = target()
        except BaseException as exc:  # reported to the test, not lost in the thread
            outcome["error"] = exc
        finally:
            done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, done, outcome


# ------------------------------------------------------------------------------------ creating
def test_create_makes_the_tables_and_stamps_the_newest_schema(url: str) -> None:
    s = SqlStore(url)
    try:
        with pytest.raises(StoreUnavailable, match="run 'evalflow init'"):  # nothing there yet: not ready
            s.check_ready()
        assert s.create() is True
        # (PostgreSQL also keeps a tally of the sheets: store/tally.py)
        tally = {"sheet_tallies"} if s.engine.dialect.name == "postgresql" else set()
        assert set(inspect(s.engine).get_table_names()) == {*TABLES, *WEB_TABLES, "alembic_version", *tally}
        assert HEAD == "0016"
        assert s.schema_version() == HEAD
        s.check_ready()  # passes
        assert s.create() is False  # nothing changed the second time
        assert s.schema_version() == HEAD
        with s.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD]
        s.check_ready()
    finally:
        s.dispose()


def test_init_twice_says_created_then_already_initialised(url: str) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["--db", url, "init"])
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("Created ") and first.stdout.rstrip().endswith(f"(schema {HEAD})")
    again = runner.invoke(main, ["--db", url, "init"])
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("Already initialised: ") and again.stdout.rstrip().endswith(f"(schema {HEAD})")
    assert ":evalflow@" not in first.stdout + again.stdout  # the password is never shown
    current = runner.invoke(main, ["--db", url, "db", "current"])
    assert current.exit_code == 0 and current.stdout.rstrip().endswith(f"schema {HEAD} (up to date)")
    SqlStore(url).dispose()


# ------------------------------------------------------------------------------------ projects
def test_insert_projects_writes_back_ids_in_order(store: SqlStore) -> None:
    seed(store)
    first = [project(n) for n in range(5)]
    ids = insert(store, *first)
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert all(p.version == 1 for p in first)
    # a batch larger than one statement's page (and than get_projects' chunk of 500)
    many = [project(n, "jiaxing" if n % 2 else "hefei") for n in range(5, 1206)]
    more = insert(store, *many)
    assert more == sorted(more) and more[0] > ids[-1]
    with store.transaction(write=False) as tx:
        found = tx.get_projects([*reversed(more), ids[2], ids[2], 10**9])
    assert set(found) == {*more, ids[2]}  # an unknown id is simply absent; a repeated one once
    for p in [first[2], *many]:
        got = found[p.id]  # type: ignore[index]
        assert (got.unit_name, got.city, got.version) == (p.unit_name, p.city, 1)
        assert got.application == p.application
    with store.transaction(write=False) as tx:
        assert [p.project_name for p in tx.find_projects(CYCLE, cities=["hefei"])][:3] == [
            "project 0",
            "project 1",
            "project 2",
        ]
        assert tx.get_projects([]) == {}


def varied(n: int) -> Project:
    """A project with a little of everything a row holds: nested JSON, text, unset columns."""
    p = project(n, "jiaxing" if n % 3 else "hefei", at=T0 + timedelta(microseconds=n % 2))
    p.application = {"n": n, "名称": f"项目{n}", "team": [{"lead": n % 2 == 0, "age": 30 + n}], "x": None, "y": 1.5}
    if n % 4 == 0:
        p.review_result, p.review_method, p.reopened_to = "demonstration", "site", "review"
        p.record = {"progress": [{"at": "2027-01-02T09:30:00", "by": LEAD, "note": "第一次"}]}
    return p


def test_insert_projects_stores_the_rows_and_ids_a_core_insert_stores(
    store: SqlStore, url: str, tmp_path: Path
) -> None:
    """On SQLite insert_projects binds the values itself, one statement per row: what it stores,
    ids among them, is what the Core insert with RETURNING stores in a second database."""
    backend = make_url(url).get_backend_name()
    seed(store)
    (tmp_path / "core").mkdir()
    with database(backend, tmp_path / "core") as other_url:
        other = SqlStore(other_url)
        other.create()
        try:
            seed(other)
            for batch in ([varied(n) for n in range(3)], [varied(n) for n in range(3, 1210)]):
                insert(store, *batch)
                copies = [dataclasses.replace(p) for p in batch]
                with other.transaction() as tx:
                    rows = []
                    for p in copies:
                        p.version = 1
                        rows.append({f.name: getattr(p, f.name) for f in dataclasses.fields(p) if f.name != "id"})
                    t = schema.projects
                    stmt = core_insert(t).returning(t.c.id, sort_by_parameter_order=True)
                    ids = tx.s.connection().execute(stmt, rows).scalars().all()
                assert [p.id for p in batch] == ids
                assert [p.version for p in batch] == [1] * len(batch)
            assert snapshot(store)["projects"] == snapshot(other)["projects"]
        finally:
            other.dispose()


def test_a_naive_instant_in_a_new_project_is_refused_and_nothing_is_written(store: SqlStore) -> None:
    seed(store)
    before = snapshot(store)
    naive = project(2, at=datetime(2027, 3, 1, 9, 0))
    with pytest.raises(StatementError, match="naive datetime"), store.transaction() as tx:
        tx.insert_projects([project(1), naive])
    assert snapshot(store) == before


def test_save_project_with_a_stale_version_names_both_versions_and_writes_nothing(store: SqlStore) -> None:
    seed(store)
    (pid,) = insert(store, project(1))
    with store.transaction(write=False) as tx:
        mine = tx.get_project(pid)
        theirs = tx.get_project(pid)
    assert mine is not None and theirs is not None and mine.version == theirs.version == 1
    theirs.state = "in_library"
    with store.transaction() as tx:
        tx.save_project(theirs)
    assert theirs.version == 2
    before = snapshot(store)
    mine.state = "rejected"
    with pytest.raises(ConcurrentChange) as err, store.transaction() as tx:
        tx.audit(AuditEntry(T0, CYCLE, "project", str(pid), "x", "reject"))  # rolled back with the rest
        tx.save_project(mine)
    assert err.value.exit_code == 6
    message = str(err.value)
    assert f"project {pid} was changed by someone else" in message
    assert "you acted on version 1" in message and "it is now at version 2" in message
    assert mine.version == 1  # not bumped by a failed save
    assert snapshot(store) == before
    with store.transaction(write=False) as tx:
        stored = tx.get_project(pid)
    assert stored is not None and (stored.state, stored.version) == ("in_library", 2)
    gone = project(2)
    gone.id, gone.version = 10**6, 1
    with pytest.raises(ConcurrentChange, match="it no longer exists"), store.transaction() as tx:
        tx.save_project(gone)


def test_save_project_with_the_current_version_bumps_it(store: SqlStore) -> None:
    seed(store)
    (pid,) = insert(store, project(1))
    with store.transaction() as tx:
        p = tx.get_project(pid)
        assert p is not None
        p.state, p.review_result, p.reopened_to = "municipal_excellent", "excellent", "review"
        p.updated_at = T0 + timedelta(days=3)
        tx.save_project(p)
        tx.save_project(p)  # twice in one transaction: the record follows the stored version
    with store.transaction(write=False) as tx:
        stored = tx.get_project(pid)
    assert stored is not None
    assert (stored.state, stored.review_result, stored.reopened_to, stored.version) == (
        "municipal_excellent",
        "excellent",
        "review",
        3,
    )
    assert stored.updated_at == T0 + timedelta(days=3)


def _stored_rows(store: SqlStore, ids: list[int]) -> list[tuple]:
    """The rows of ``ids`` as stored (JSON and instants as the database holds them), without their ids."""
    with store.engine.connect() as conn:
        rows = {r[0]: tuple(r[1:]) for r in conn.execute(text("SELECT * FROM projects ORDER BY id"))}
    return [rows[pid] for pid in ids]


def test_a_batch_save_leaves_the_columns_no_project_changed_as_they_are_stored(store: SqlStore) -> None:
    """``untouched`` columns are left out of the UPDATE (their indexes are not rewritten): what
    is stored there stays, while every other column and the version are written."""
    seed(store)
    ids = insert(store, *(project(n) for n in range(3)))
    with store.transaction(write=False) as tx:
        found = [tx.get_projects(ids)[pid] for pid in ids]
    for p in found:
        p.state, p.review_result, p.review_method, p.reopened_to = "municipal_excellent", "excellent", "onsite", "x"
    with store.transaction() as tx:
        tx.save_projects(found, untouched=["review_result", "reopened_to"])
    with store.transaction(write=False) as tx:
        stored = tx.get_projects(ids)
    for pid in ids:
        got = stored[pid]
        assert (got.state, got.review_method, got.version) == ("municipal_excellent", "onsite", 2)
        assert (got.review_result, got.reopened_to) == (None, None)


@pytest.mark.parametrize(("with_application", "with_record"), [(True, True), (False, False), (True, False)])
def test_save_projects_writes_what_save_project_writes(
    store: SqlStore, with_application: bool, with_record: bool
) -> None:
    """A batch save (SQLite's own statement) stores each project exactly as saving it alone
    does, leaving its application and record as they were unless told to write them."""
    seed(store)
    made = [project(n) for n in range(4)]
    for p in made:
        p.unit_name, p.project_name = "enterprise", "project"  # pairs alike but for their ids
        p.application = {"名称": "项目", "n": 1}
    ids = insert(store, *made)
    with store.transaction(write=False) as tx:
        found = tx.get_projects(ids)
    changed = [found[pid] for pid in ids]
    for p in changed:
        p.state, p.review_result, p.review_method, p.reopened_to = "municipal_excellent", "excellent", "onsite", None
        p.updated_at = T0 + timedelta(days=3, microseconds=7)
        p.application = {**p.application, "附件": [1, 2.5, None, True]}
        p.record = {"deadline": [{"at": "2027-02-01", "by": LEAD}]}
    with store.transaction() as tx:
        tx.save_projects(changed[:2], with_application=with_application, with_record=with_record)
    for p in changed[2:]:  # saved alone, with what the batch left out as it was
        if not with_application:
            p.application = {"名称": "项目", "n": 1}
        if not with_record:
            p.record = {}
    with store.transaction() as tx:
        for p in changed[2:]:
            tx.save_project(p)
    assert [p.version for p in changed] == [2, 2, 2, 2]
    batch, alone = _stored_rows(store, ids[:2]), _stored_rows(store, ids[2:])
    assert batch == alone
    with store.transaction(write=False) as tx:
        stored = tx.get_project(ids[0])
    assert stored is not None and (stored.state, stored.version, stored.updated_at) == (
        "municipal_excellent",
        2,
        T0 + timedelta(days=3, microseconds=7),
    )
    assert stored.application == (
        {"名称": "项目", "n": 1, "附件": [1, 2.5, None, True]} if with_application else made[0].application
    )


def test_save_projects_with_one_stale_version_names_it_and_writes_nothing(store: SqlStore) -> None:
    seed(store)
    ids = insert(store, project(1), project(2), project(3))
    with store.transaction(write=False) as tx:
        mine = tx.get_projects(ids)
        theirs = tx.get_project(ids[1])
    assert theirs is not None
    theirs.state = "in_library"
    with store.transaction() as tx:
        tx.save_project(theirs)
    before = snapshot(store)
    batch = [mine[pid] for pid in ids]
    for p in batch:
        p.state = "rejected"
    with pytest.raises(ConcurrentChange) as err, store.transaction() as tx:
        tx.save_projects(batch)
    assert str(err.value).startswith(f"project {ids[1]} was changed by someone else: you acted on version 1")
    assert snapshot(store) == before


# ------------------------------------------------------------------------------------ audit
def test_audit_many_keeps_the_order_it_was_given(store: SqlStore) -> None:
    seed(store)
    entries = [
        AuditEntry(
            at=T0 + timedelta(seconds=(7 * i) % 5),  # not in time order: the order given is kept
            cycle_id=CYCLE,
            subject="project" if i % 3 else "cycle",
            subject_id=str(100 - i),
            actor=LEAD,
            action=f"step-{i}",
            from_state=None if i == 0 else f"s{i - 1}",
            to_state=f"s{i}",
            reason="理由" * (i % 2),
            data={"i": i, "nested": {"list": [i, "x"]}},
        )
        for i in range(25)
    ]
    with store.transaction() as tx:
        tx.audit_many(entries)
        tx.audit_many([])
    with store.transaction(write=False) as tx:
        history = tx.history(cycle_id=CYCLE)
    assert [e.action for e in history] == [f"step-{i}" for i in range(25)]
    assert [e.id for e in history] == sorted(e.id for e in history)  # type: ignore[type-var]
    for got, want in zip(history, entries, strict=True):
        assert (got.at, got.subject, got.subject_id, got.from_state, got.to_state, got.reason, got.data) == (
            want.at,
            want.subject,
            want.subject_id,
            want.from_state,
            want.to_state,
            want.reason,
            want.data,
        )
    with store.transaction(write=False) as tx:
        assert [e.action for e in tx.history("cycle")] == [f"step-{i}" for i in range(0, 25, 3)]


def test_an_audit_batch_writes_the_entries_audit_many_would_write(store: SqlStore) -> None:
    """audit_batch (a batch's transitions: one template, an item a project) writes what
    audit_many of the same entries writes: the same fields, data, hashes (each the general
    encoding's after the one before) and chain head, whether the batch holds one entry or many."""
    seed(store)
    template = AuditEntry(T0, CYCLE, "project", "", LEAD, "score", reason="理由")
    items = [
        (str(100 + i), "recommended" if i % 3 else None, "recommended", {"i": i, "bands": {"value": "较好"}, "x": 0.5})
        for i in range(12)
    ]
    with store.transaction() as tx:
        tx.audit(AuditEntry(T0, CYCLE, "cycle", CYCLE, LEAD, "open"))
        tx.audit_batch(template, items)
        tx.audit_batch(template, [("7", "a", "b", {})])  # one entry: its id is the head's
        tx.audit_batch(template, [])
    with store.transaction(write=False) as tx:
        history = tx.history(cycle_id=CYCLE)
        heads = tx.audit_heads()
        conn = tx.s.connection()
        head_id = conn.execute(text("SELECT entry_id FROM audit_heads WHERE chain = :c"), {"c": CYCLE}).scalar()
    wanted = [dataclasses.replace(template, subject_id=i[0], from_state=i[1], to_state=i[2], data=i[3]) for i in items]
    wanted.append(dataclasses.replace(template, subject_id="7", from_state="a", to_state="b", data={}))
    previous = history[0].hash
    assert [e.action for e in history] == ["open"] + ["score"] * 13
    for got, want in zip(history[1:], wanted, strict=True):
        assert (got.at, got.cycle_id, got.subject, got.subject_id, got.actor, got.reason) == (
            T0,
            CYCLE,
            "project",
            want.subject_id,
            LEAD,
            "理由",
        )
        assert (got.from_state, got.to_state, got.data) == (want.from_state, want.to_state, want.data)
        assert (got.prev_hash, got.hash) == (previous, link(previous, want))
        previous = got.hash
    assert heads[CYCLE] == previous and head_id == history[-1].id


# ------------------------------------------------------------------------------------ score sheets
def test_put_sheets_replaces_a_citys_current_sheet_and_keeps_the_old_one(store: SqlStore) -> None:
    seed(store)
    p1, p2 = insert(store, project(1), project(2))
    with store.transaction() as tx:
        assert tx.put_sheets([sheet(p1, "hefei", 80), sheet(p1, "jiaxing", 70), sheet(p2, "hefei", 60)]) == {}
    with store.transaction() as tx:
        replaced = tx.put_sheets([sheet(p1, "hefei", 85), sheet(p2, "suzhou", 90)])
    assert replaced == {(p1, "hefei"): 80}  # only the sheet it replaced; suzhou had none
    with store.transaction() as tx:
        assert tx.put_sheets([sheet(p1, "hefei", 88)]) == {(p1, "hefei"): 85}
    with store.transaction(write=False) as tx:
        current = [(s.project_id, s.city, s.total) for s in tx.sheets(CYCLE)]
        everything = [(s.city, s.total, s.current) for s in tx.sheets_of(p1)]
        history = [(s.city, s.total, s.current) for s in tx.sheets(CYCLE, p1, current_only=False)]
    assert current == [(p1, "hefei", 88), (p1, "jiaxing", 70), (p2, "hefei", 60), (p2, "suzhou", 90)]
    assert everything == [("hefei", 80, False), ("jiaxing", 70, True), ("hefei", 85, False), ("hefei", 88, True)]
    assert sorted(history) == sorted(everything)


def test_supersede_sheets_makes_every_current_sheet_history(store: SqlStore) -> None:
    seed(store)
    p1, p2 = insert(store, project(1), project(2))
    with store.transaction() as tx:
        tx.put_sheets([sheet(p1, "hefei", 80), sheet(p1, "jiaxing", 70), sheet(p2, "hefei", 60)])
        tx.put_sheets([sheet(p1, "hefei", 82)])
    with store.transaction() as tx:
        old = tx.supersede_sheets(p1)
    assert sorted((s.city, s.total) for s in old) == [("hefei", 82), ("jiaxing", 70)]
    assert all(s.current for s in old)  # as they were before
    with store.transaction() as tx:
        assert tx.supersede_sheets(p1) == []  # nothing current is left
    with store.transaction(write=False) as tx:
        assert [(s.project_id, s.total) for s in tx.sheets(CYCLE)] == [(p2, 60)]
        assert len(tx.sheets_of(p1)) == 3 and not any(s.current for s in tx.sheets_of(p1))
    with store.transaction() as tx:  # a new sheet after supersession replaces nothing
        assert tx.put_sheets([sheet(p1, "hefei", 90)]) == {}


def test_put_sheets_in_bulk_beyond_one_statements_parameters(store: SqlStore) -> None:
    """A large batch finds the sheets it replaces 500 projects to a select: its city's, not
    another city's, and only of the batch's projects."""
    seed(store)
    ids = insert(store, *(project(n) for n in range(620)))
    with store.transaction() as tx:
        assert tx.put_sheets([sheet(pid, "hefei", 50 + i % 40) for i, pid in enumerate(ids)]) == {}
        assert tx.put_sheets([sheet(pid, "jiaxing", 70) for pid in ids[:300]]) == {}
    with store.transaction() as tx:
        replaced = tx.put_sheets([sheet(pid, "hefei", 95) for pid in ids[:600]])
    assert replaced == {(pid, "hefei"): 50 + i % 40 for i, pid in enumerate(ids[:600])}
    with store.transaction(write=False) as tx:
        current = {(s.project_id, s.city): s.total for s in tx.sheets(CYCLE)}
        assert current == {
            **{(pid, "hefei"): 95 if i < 600 else 50 + i % 40 for i, pid in enumerate(ids)},
            **{(pid, "jiaxing"): 70 for pid in ids[:300]},
        }
        assert len(tx.sheets(CYCLE, current_only=False)) == 620 + 300 + 600


# ------------------------------------------------------------------------------------ appeals
def test_appeals_are_inserted_read_and_saved_with_a_version_check(store: SqlStore) -> None:
    seed(store)
    p1, p2 = insert(store, project(1), project(2))
    filed = datetime(2027, 3, 5, 10, 0, 0, 654321, tzinfo=SHANGHAI)
    a = Appeal(CYCLE, p1, "hefei", applicant("hefei"), filed, "rejected", "collection", "材料齐全")
    b = Appeal(CYCLE, p2, "hefei", applicant("hefei"), filed, "municipal_none", "review", "second", list_version=2)
    with store.transaction() as tx:
        tx.insert_appeal(a)
        tx.insert_appeal(b)
    assert a.id is not None and b.id is not None and a.id < b.id
    with store.transaction(write=False) as tx:
        got = tx.get_appeal(a.id)
        stale = tx.get_appeal(a.id)  # a second reader of the same version
        assert tx.get_appeal(10**6) is None
    assert got == a and stale == a and got is not None and stale is not None
    got.status, got.decided_by, got.decision_reason, got.reopen_to = "upheld", LEAD, "ok", "collection"
    got.decided_at = filed + timedelta(days=2)
    with store.transaction() as tx:
        tx.save_appeal(got)
    assert got.version == 2
    stale.status, stale.decided_by, stale.decided_at = "dismissed", LEAD, filed + timedelta(days=3)
    with pytest.raises(ConcurrentChange) as err, store.transaction() as tx:
        tx.save_appeal(stale)
    assert str(err.value).startswith(f"appeal {a.id} was changed by someone else: you acted on version 1, ")
    assert "it is now at version 2" in str(err.value)
    with store.transaction(write=False) as tx:
        stored = tx.get_appeal(a.id)
        assert [x.id for x in tx.appeals(CYCLE, statuses=["open"])] == [b.id]
        assert [x.id for x in tx.appeals(project_id=p1)] == [a.id]
        assert [x.id for x in tx.appeals()] == [a.id, b.id]
    assert stored is not None
    assert (stored.status, stored.decided_by, stored.reopen_to, stored.version) == ("upheld", LEAD, "collection", 2)
    assert stored.decided_at == filed + timedelta(days=2) and stored.decided_at.tzinfo == UTC


def test_list_versions_keep_their_entries_as_a_json_list_of_objects(store: SqlStore, url: str) -> None:
    seed(store)
    entries = [
        ListEntry(1, 7, "hefei", "合肥某公司", "项目甲", "91.5000", "demonstration"),
        ListEntry(2, 3, "wuhu", "enterprise 3", "project 3", "88.2500", "none"),
    ]
    first = ListVersion(CYCLE, 1, "published", "mean", entries, LEAD, T0, [3, 7])
    second = ListVersion(CYCLE, 2, "proposed", "mean", entries[::-1], LEAD, T0)
    with store.transaction() as tx:
        tx.insert_list(first)
        tx.insert_list(second)
    # what is stored is the same JSON as before: one object per entry, named by its fields
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT entries FROM list_versions WHERE number = 1")).scalar()
    if isinstance(stored, str):  # SQLite hands back the text, PostgreSQL the parsed JSON
        stored = json.loads(stored)
    assert stored == [dataclasses.asdict(e) for e in entries]
    with store.transaction(write=False) as tx:
        newest, head = tx.latest_list(CYCLE), tx.latest_list(CYCLE, entries=False)
        assert [v.number for v in tx.list_versions(CYCLE)] == [1, 2]
        (published,) = tx.list_versions(CYCLE, statuses=("published",))
        assert tx.list_entries(first.id) == entries  # type: ignore[arg-type]
        assert tx.project_ids(CYCLE, ["submitted"]) == []
    assert newest == second and head is not None and (head.number, head.entries, head.id) == (2, [], second.id)
    assert published == first and published.tie_order == [3, 7]


def test_project_ids_and_names_are_those_of_the_states_asked(store: SqlStore) -> None:
    seed(store)
    done = project(2, "wuhu")
    done.state = "in_library"
    ids = insert(store, project(1), done, project(3))
    with store.transaction(write=False) as tx:
        assert tx.project_ids(CYCLE, ["submitted"]) == [ids[0], ids[2]]
        assert tx.project_names(CYCLE, ["in_library"]) == {ids[1]: ("wuhu", "enterprise 2", "project 2")}


# ------------------------------------------------------------------------------------ reminders
def reminders(n: int, due: datetime) -> list[Reminder]:
    return [Reminder(CYCLE, "collection", "7d", f"city-{i}", due + timedelta(minutes=i), f"k-{i}") for i in range(n)]


def test_claim_reminders_claims_each_due_reminder_once(store: SqlStore) -> None:
    seed(store)
    due = datetime(2027, 2, 21, 0, 0, tzinfo=UTC)
    with store.transaction() as tx:
        assert tx.replan_reminders(CYCLE, reminders(6, due), ["planned", "retry"]) == (6, 0, 0)
    now = due + timedelta(minutes=3, seconds=30)  # k-0 … k-3 are due, k-4 and k-5 not yet
    with store.transaction() as tx:
        first = tx.claim_reminders(now, now - timedelta(minutes=10))
    assert [r.key for r in first] == ["k-0", "k-1", "k-2", "k-3"]
    assert all(r.status == "sending" and r.claimed_at == now for r in first)
    with store.transaction() as tx:
        assert tx.claim_reminders(now + timedelta(seconds=20), now - timedelta(minutes=9)) == []  # not twice
    # a claim older than the timeout was left by a crashed dispatcher: claimed again (at least once)
    later = now + timedelta(minutes=11)
    with store.transaction() as tx:
        again = tx.claim_reminders(later, later - timedelta(minutes=10))
    assert [r.key for r in again] == ["k-0", "k-1", "k-2", "k-3", "k-4", "k-5"]


def test_two_claims_at_once_never_hand_out_the_same_reminder(store: SqlStore) -> None:
    seed(store)
    due = datetime(2027, 2, 21, 0, 0, tzinfo=UTC)
    with store.transaction() as tx:
        tx.replan_reminders(CYCLE, reminders(5, due), ["planned", "retry"])
    now = due + timedelta(hours=1)

    def claim() -> list[str]:
        with store.transaction() as tx:
            return [r.key for r in tx.claim_reminders(now, now - timedelta(minutes=10))]

    with store.transaction() as tx:
        mine = [r.key for r in tx.claim_reminders(now, now - timedelta(minutes=10))]
        thread, done, outcome = in_thread(claim)  # starts while the first claim is not committed
        done.wait(HOLD)
    assert done.wait(WAIT)
    thread.join(WAIT)
    assert "error" not in outcome, outcome
    assert mine == [f"k-{i}" for i in range(5)]
    assert outcome["value"] == []


def test_many_concurrent_claims_share_the_reminders_without_duplicates(store: SqlStore) -> None:
    seed(store)
    due = datetime(2027, 2, 21, 0, 0, tzinfo=UTC)
    with store.transaction() as tx:
        tx.replan_reminders(CYCLE, reminders(24, due), ["planned", "retry"])
    now = due + timedelta(hours=1)
    start = threading.Barrier(4)

    def worker() -> list[str]:
        start.wait(WAIT)
        got: list[str] = []
        for _ in range(8):
            with store.transaction() as tx:
                got += [r.key for r in tx.claim_reminders(now, now - timedelta(minutes=10), limit=2)]
        return got

    runs = [in_thread(worker) for _ in range(4)]
    for thread, done, _ in runs:
        assert done.wait(WAIT * 2)
        thread.join(WAIT)
    claimed: list[str] = []
    for _, _, outcome in runs:
        assert "error" not in outcome, outcome
        claimed += outcome["value"]
    with store.transaction() as tx:  # whatever the workers left
        claimed += [r.key for r in tx.claim_reminders(now, now - timedelta(minutes=10))]
    assert sorted(claimed) == sorted(f"k-{i}" for i in range(24))  # each exactly once


# ------------------------------------------------------------------------------------ instants
ZONES = (UTC, SHANGHAI, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=45)))


def test_instants_come_back_as_aware_utc_equal_to_what_was_written(store: SqlStore) -> None:
    seed(store)
    written = [datetime(2027, 3, 1, 8, 59, 59, 999999 - i, tzinfo=z) for i, z in enumerate(ZONES)]
    written.append(datetime(2027, 3, 1, 0, 0, 0, 1, tzinfo=UTC))
    written.append(datetime(2027, 3, 1, 0, 0, 0, 0, tzinfo=SHANGHAI))
    with store.transaction() as tx:
        for i, at in enumerate(written):
            tx.audit(AuditEntry(at, CYCLE, "cycle", CYCLE, LEAD, f"a{i}"))
        p = project(1, at=written[1])
        tx.insert_projects([p])
        tx.replan_reminders(CYCLE, [Reminder(CYCLE, "collection", "0d", "hefei", written[2], "k")], ["planned"])
    with store.transaction(write=False) as tx:
        read = [e.at for e in tx.history(cycle_id=CYCLE)]
        stored = tx.get_project(p.id)  # type: ignore[arg-type]
        (reminder,) = tx.reminders(CYCLE)
        cycle = tx.get_cycle(CYCLE)
    assert read == written
    for got, want in zip(read, written, strict=True):
        assert got.tzinfo is not None and got.utcoffset() == timedelta(0)
        assert got.microsecond == want.astimezone(UTC).microsecond  # both backends keep microseconds
    assert stored is not None and stored.submitted_at == written[1] and stored.submitted_at.tzinfo == UTC
    assert reminder.due_at == written[2] and reminder.due_at.tzinfo == UTC
    assert cycle is not None and cycle.opened_at == T0 and cycle.opened_at.tzinfo == UTC


def test_instants_compare_by_the_instant_not_the_wall_clock(store: SqlStore) -> None:
    """09:00 in Shanghai is 01:00 UTC: stored as UTC, it sorts and falls due before 08:00 UTC."""
    seed(store)
    plan = [
        Reminder(CYCLE, "collection", "0d", "utc-8", datetime(2027, 3, 1, 8, 0, tzinfo=UTC), "late"),
        Reminder(CYCLE, "collection", "0d", "sh-9", datetime(2027, 3, 1, 9, 0, tzinfo=SHANGHAI), "early"),
    ]
    with store.transaction() as tx:
        tx.replan_reminders(CYCLE, plan, ["planned"])
    with store.transaction(write=False) as tx:
        assert [r.key for r in tx.reminders(CYCLE)] == ["early", "late"]
        nxt = tx.next_reminder_due()
    assert nxt == datetime(2027, 3, 1, 1, 0, tzinfo=UTC) and nxt.tzinfo == UTC
    now = datetime(2027, 2, 28, 21, 30, tzinfo=timezone(timedelta(hours=-5)))  # 02:30 UTC
    with store.transaction() as tx:
        assert [r.key for r in tx.claim_reminders(now, now - timedelta(minutes=10))] == ["early"]


def test_a_naive_instant_is_refused_and_nothing_is_written(store: SqlStore) -> None:
    seed(store)
    before = snapshot(store)
    with pytest.raises((StatementError, ValueError), match="naive datetime"), store.transaction() as tx:
        tx.audit(AuditEntry(T0, CYCLE, "cycle", CYCLE, LEAD, "fine"))
        tx.audit(AuditEntry(datetime(2027, 3, 1, 9, 0), CYCLE, "cycle", CYCLE, LEAD, "naive"))
    assert snapshot(store) == before


# ------------------------------------------------------------------------------------ the lease
def test_the_lease_has_one_holder_until_it_expires(store: SqlStore) -> None:
    now = datetime(2027, 3, 1, 8, 0, 0, 250000, tzinfo=UTC)
    ttl = timedelta(seconds=90)

    def acquire(holder: str, at: datetime):
        with store.transaction() as tx:
            return tx.acquire_lease("scheduler", holder, at, at + ttl)

    a = acquire("A", now)
    assert (a.holder, a.acquired_at, a.expires_at) == ("A", now, now + ttl)
    refused_b = acquire("B", now + timedelta(seconds=30))
    assert refused_b == a  # B is told who holds it, until when
    renewed = acquire("A", now + timedelta(seconds=30))
    assert (renewed.holder, renewed.acquired_at, renewed.expires_at) == ("A", now, now + timedelta(seconds=120))
    assert acquire("B", now + timedelta(seconds=100)).holder == "A"  # the renewal counts
    with store.transaction() as tx:
        tx.release_lease("scheduler", "B")  # not B's: nothing happens
    assert acquire("B", now + timedelta(seconds=101)) == renewed
    after = now + timedelta(seconds=121)  # A stopped renewing (crashed): B takes over
    b = acquire("B", after)
    assert (b.holder, b.acquired_at, b.expires_at) == ("B", after, after + ttl)
    assert acquire("A", after + timedelta(seconds=1)) == b
    with store.transaction() as tx:
        tx.release_lease("scheduler", "A")
    assert acquire("A", after + timedelta(seconds=2)) == b
    with store.transaction() as tx:
        tx.release_lease("scheduler", "B")
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM leases")).scalar() == 0
    c = acquire("A", after + timedelta(seconds=3))  # released: free at once, before B's would expire
    assert c.holder == "A" and c.acquired_at == after + timedelta(seconds=3)


def test_two_first_acquisitions_at_once_give_one_holder(store: SqlStore) -> None:
    now = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    until = now + timedelta(seconds=90)

    def acquire_b():
        with store.transaction() as tx:
            return tx.acquire_lease("scheduler", "B", now, until)

    with store.transaction() as tx:
        a = tx.acquire_lease("scheduler", "A", now, until)
        thread, done, outcome = in_thread(acquire_b)  # B tries while A's insert is uncommitted
        done.wait(HOLD)
    assert done.wait(WAIT)
    thread.join(WAIT)
    assert "error" not in outcome, outcome
    assert a.holder == "A" and outcome["value"].holder == "A"
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT holder FROM leases")).scalars().all() == ["A"]


def _acquire_together(store: SqlStore, start: threading.Barrier, holder: str, now: datetime) -> str:
    start.wait(WAIT)
    with store.transaction() as tx:
        return tx.acquire_lease("scheduler", holder, now, now + timedelta(seconds=90)).holder


def test_racing_acquisitions_always_leave_exactly_one_holder(store: SqlStore) -> None:
    """Three would-be holders at once, on a free lease and on an expired one, many times over."""
    for trial in range(30):
        now = datetime(2027, 3, 1, 8, 0, tzinfo=UTC) + timedelta(hours=trial)
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM leases"))
        if trial % 2:
            with store.transaction() as tx:  # a crashed scheduler's lease, long expired
                tx.acquire_lease("scheduler", "X", now - timedelta(seconds=200), now - timedelta(seconds=100))
        start = threading.Barrier(3)
        runs = [in_thread(partial(_acquire_together, store, start, h, now)) for h in "ABC"]
        for thread, done, _ in runs:
            assert done.wait(WAIT)
            thread.join(WAIT)
        answers = [outcome.get("value", outcome.get("error")) for _, _, outcome in runs]
        with store.engine.connect() as conn:
            stored = conn.execute(text("SELECT holder FROM leases")).scalars().all()
        assert len(set(answers)) == 1 and stored == [answers[0]] and answers[0] in "ABC", (trial, answers, stored)


# ------------------------------------------------------------------------------------ locking
def test_get_cycle_in_a_write_transaction_makes_a_second_writer_wait(store: SqlStore) -> None:
    """PostgreSQL: SELECT … FOR UPDATE; SQLite: BEGIN IMMEDIATE. Either way the second writer's
    get_cycle returns only after the first commits, and sees what it committed."""
    seed(store)
    entered = threading.Event()

    def second() -> tuple[int, str]:
        entered.set()
        with store.transaction() as tx:
            cycle = tx.get_cycle(CYCLE)
            assert cycle is not None
            return cycle.version, cycle.stage

    with store.transaction() as tx:
        cycle = tx.get_cycle(CYCLE)
        assert cycle is not None and cycle.version == 1
        thread, done, outcome = in_thread(second)
        assert entered.wait(WAIT)
        assert not done.wait(HOLD), f"the second writer did not wait: {outcome}"
        cycle.stage = "review"
        tx.save_cycle(cycle)
    assert done.wait(WAIT), "the second writer never went on after the first committed"
    thread.join(WAIT)
    assert "error" not in outcome, outcome
    assert outcome["value"] == (2, "review")


def test_get_cycle_in_a_read_transaction_does_not_wait_for_a_writer(store: SqlStore) -> None:
    seed(store)

    def reader() -> int:
        with store.transaction(write=False) as tx:
            cycle = tx.get_cycle(CYCLE)
            assert cycle is not None
            return cycle.version

    with store.transaction() as tx:
        cycle = tx.get_cycle(CYCLE)
        assert cycle is not None
        tx.save_cycle(cycle)
        thread, done, outcome = in_thread(reader)
        assert done.wait(WAIT), "a reader waited for the writer"
    thread.join(WAIT)
    assert outcome == {"value": 1}  # it saw the committed row, not the uncommitted change


def test_a_writer_that_fails_releases_the_cycle(store: SqlStore) -> None:
    seed(store)

    def second() -> int:
        with store.transaction() as tx:
            cycle = tx.get_cycle(CYCLE)
            assert cycle is not None
            return cycle.version

    with pytest.raises(RuntimeError, match="boom"), store.transaction() as tx:
        cycle = tx.get_cycle(CYCLE)
        assert cycle is not None
        tx.save_cycle(cycle)
        thread, done, outcome = in_thread(second)
        assert not done.wait(HOLD)
        raise RuntimeError("boom")
    assert done.wait(WAIT)
    thread.join(WAIT)
    assert outcome == {"value": 1}  # rolled back: the change is gone and the lock with it


# ------------------------------------------------------------------------------------ an engine flow
def test_a_small_engine_flow(store: SqlStore, engine: Engine, clock: SettableClock, cycle: Cycle) -> None:
    assert cycle.id == CYCLE and cycle.stage == "collection"
    clock.set(sh(1, 10))
    ok = engine.submit(applicant("hefei"), make_app("hefei", 1))
    ok2 = engine.submit(applicant("hefei"), make_app("hefei", 2))
    flawed = engine.submit(applicant("hefei"), make_app("hefei", 3, flaw="not_registered"))
    assert [p.state for p in (ok, ok2, flawed)] == ["submitted"] * 3
    clock.set(sh(2, 20))
    (accepted,) = engine.fire(admin("hefei"), ok.id, "accept")  # type: ignore[arg-type]
    assert (accepted.state, accepted.version) == ("in_library", 2)
    # all or nothing: the flawed project fails eligibility, so neither is accepted
    err = refused(store, engine.fire, admin("hefei"), [ok2.id, flawed.id], "accept")
    assert err.rules == ["registered_in_corridor"] and f"project {flawed.id}" in str(err)
    # acting on a version someone else moved on: exit 6, and nothing changes
    before = snapshot(store)
    with pytest.raises(ConcurrentChange, match="you acted on version 1, it is now at version 2"):
        engine.fire(admin("hefei"), ok.id, "reject", reason="x", expected_version=1)  # type: ignore[arg-type]
    assert snapshot(store) == before
    states = {p.id: p.state for p in engine.projects(LEAD)}
    assert states == {ok.id: "in_library", ok2.id: "submitted", flawed.id: "submitted"}
    bare = engine.projects(LEAD, state="submitted", with_application=False)
    assert [(p.id, p.application) for p in bare] == [(ok2.id, {}), (flawed.id, {})]
    assert all(p.application for p in engine.projects(LEAD, state="submitted"))
    project_, _, history = engine.project(LEAD, ok.id)  # type: ignore[arg-type]
    assert [e.action for e in history] == ["submit", "accept"]
    assert project_.updated_at == sh(2, 20)
    status = engine.status(LEAD)
    assert (status["cycle"], status["stage"], status["program_changed"]) == (CYCLE, "collection", None)
    hefei = next(c for c in status["cities"] if c["city"] == "hefei")
    assert (hefei["accepted"], hefei["waiting"]) == (1, 2)


# ------------------------------------------------------------------------------------ a server that fails
def _pg_refusals(tmp_path: Path) -> Iterator[str]:
    with database("postgresql", tmp_path) as good:  # skips (or fails, in CI) without a server
        parsed = make_url(good)
    yield parsed.set(password="s3cret-pw").render_as_string(hide_password=False)
    yield parsed.set(database="evalflow_no_such_db").render_as_string(hide_password=False)


def test_a_postgresql_server_that_refuses_us_is_one_line_with_exit_9(tmp_path: Path) -> None:
    for bad in _pg_refusals(tmp_path):
        for args in (["--as", LEAD, "cycle", "list"], ["init"], ["db", "current"], ["db", "upgrade"]):
            result = CliRunner().invoke(main, ["--db", bad, *args])
            assert result.exit_code == 9, (args, result.output)
            (line,) = result.stderr.splitlines()
            assert line.startswith("Error: Cannot open the database at postgresql+psycopg://"), line
            assert "s3cret-pw" not in result.output and "***" in line
            SqlStore(bad).dispose()


UNREACHABLE = "postgresql+psycopg://evalflow:s3cret-pw@127.0.0.1:1/evalflow_test"  # nothing listens on port 1


def test_an_unreachable_postgresql_server_exits_9_without_showing_the_password() -> None:
    result = CliRunner().invoke(main, ["--db", UNREACHABLE, "--as", LEAD, "cycle", "list"])
    assert result.exit_code == 9, result.output
    assert result.stderr.startswith("Error: Cannot open the database at postgresql+psycopg://evalflow:***@127.0.0.1:1/")
    assert "s3cret-pw" not in result.output and "Traceback" not in result.output
    SqlStore(UNREACHABLE).dispose()


@pytest.mark.parametrize("args", [["--as", LEAD, "cycle", "list"], ["init"], ["db", "current"], ["db", "upgrade"]])
def test_an_unreachable_postgresql_server_is_reported_in_one_line(args: list[str]) -> None:
    result = CliRunner().invoke(main, ["--db", UNREACHABLE, *args])
    assert result.exit_code == 9, result.output
    assert len(result.stderr.splitlines()) == 1, result.stderr
    SqlStore(UNREACHABLE).dispose()
