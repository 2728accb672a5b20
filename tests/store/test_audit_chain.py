"""The audit trail is tamper-evident: every entry is chained; editing, deleting, reordering or
inserting any entry directly in the database is caught by `audit verify` (200 random trials);
a cut-off tail is caught against the head kept elsewhere; the database refuses UPDATE and DELETE
of audit rows; `audit replay` rebuilds every stored state from the trail."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from store.sql import SqlStore
from tests.conftest import LEAD, SettableClock, admin, sh, snapshot, submit_many
from workflow.audit import GENESIS, data_text, link
from workflow.engine import Engine
from workflow.errors import NotPermitted
from workflow.records import AuditEntry

COLUMNS = ("at", "cycle_id", "subject", "subject_id", "actor", "action", "from_state", "to_state", "reason", "data")


@pytest.fixture(scope="module")
def trail(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database whose trail has two chains: users (no cycle) and a G60 cycle's ~70 entries."""
    path = tmp_path_factory.mktemp("trail") / "trail.db"
    store = SqlStore(f"sqlite:///{path}")
    store.create()
    clock = SettableClock(sh(1, 2))
    engine = Engine(store, clock=clock)
    from tests.conftest import CITIES, PROGRAM, applicant, scorer

    clock.set(sh(1, 2))
    engine.add_user(None, LEAD, "lead", "songjiang")
    for c in CITIES[:3]:
        engine.add_user(LEAD, admin(c), "city-admin", c)
        engine.add_user(LEAD, scorer(c), "scorer", c)
        engine.add_user(LEAD, applicant(c), "applicant", c)
    engine.open_cycle(LEAD, PROGRAM, 2027, places={"demonstration": 2, "excellent": 3})
    ids = submit_many(engine, clock, per_city=8, cities=CITIES[:3])
    clock.set(sh(2, 20))
    for c, pids in ids.items():
        engine.fire(admin(c), pids[:6], "accept")
        engine.fire(admin(c), pids[6], "reject", reason="不符合条件")
    store.dispose()
    return path


def engine_on(path: Path) -> Engine:
    return Engine(SqlStore(f"sqlite:///{path}"), clock=SettableClock(sh(3, 1)))


def rows(con: sqlite3.Connection) -> list[tuple]:
    return con.execute(f"SELECT id, {', '.join(COLUMNS)}, prev_hash, hash FROM audit ORDER BY id").fetchall()


def test_every_entry_is_chained_and_the_trail_holds(trail: Path) -> None:
    engine = engine_on(trail)
    report = engine.audit_verify(LEAD)
    assert report.ok and report.entries > 50 and set(report.chains) == {"-", "g60-2027"}
    con = sqlite3.connect(trail)
    chained = con.execute("SELECT count(*) FROM audit WHERE prev_hash IS NULL OR hash IS NULL").fetchone()[0]
    first = con.execute("SELECT prev_hash FROM audit WHERE cycle_id = 'g60-2027' ORDER BY id LIMIT 1").fetchone()[0]
    con.close()
    assert chained == 0 and first == GENESIS
    assert engine.audit_replay(LEAD).ok
    engine.store.dispose()


def test_each_entry_stores_its_data_as_the_text_its_hash_is_made_over(trail: Path) -> None:
    """The data column holds the data's canonical text (keys sorted, no spaces, Chinese as it is),
    encoded once for the row and its hash; the rows written by the older encoding (keys in their
    order, spaces, \\u escapes) hold too, as their data reads back to the same text."""
    con = sqlite3.connect(trail)
    stored = con.execute("SELECT data FROM audit ORDER BY id").fetchall()
    con.close()
    assert stored and all(text == data_text(json.loads(text)) for (text,) in stored)
    assert any(not text.isascii() for (text,) in stored) and not any("\\u" in text for (text,) in stored)
    older = json.dumps({"reason": "不符合条件", "city": "hefei"})  # as rows were once written
    assert data_text(json.loads(older)) == '{"city":"hefei","reason":"不符合条件"}'


def _tamper(path: Path, rng: random.Random) -> str:
    """One random tampering, made directly in the database file as an intruder would (the
    triggers dropped first); returns what was done."""
    con = sqlite3.connect(path)
    con.execute("DROP TRIGGER audit_no_update")
    con.execute("DROP TRIGGER audit_no_delete")
    all_rows = rows(con)
    ids = [r[0] for r in all_rows]
    how = rng.choice(["edit", "delete", "reorder", "insert"])
    victim = rng.choice(ids)
    if how == "edit":
        column = rng.choice(["reason", "actor", "to_state", "from_state", "data", "at", "action", "subject_id"])
        value = {
            "reason": "rewritten",
            "actor": "intruder",
            "to_state": "awarded",
            "from_state": "submitted2",
            "data": '{"city": "elsewhere"}',
            "at": "2027-01-01 00:00:00.000000",
            "action": "award",
            "subject_id": "999",
        }[column]
        con.execute(f"UPDATE audit SET {column} = ? WHERE id = ?", (value, victim))
        done = f"edit {column} of {victim}"
    elif how == "delete":
        con.execute("DELETE FROM audit WHERE id = ?", (victim,))
        done = f"delete {victim}"
    elif how == "reorder":
        other = rng.choice([i for i in ids if i != victim])
        a = next(r for r in all_rows if r[0] == victim)
        b = next(r for r in all_rows if r[0] == other)
        names = ", ".join(f"{c} = ?" for c in (*COLUMNS, "prev_hash", "hash"))
        con.execute(f"UPDATE audit SET {names} WHERE id = ?", (*b[1:], victim))
        con.execute(f"UPDATE audit SET {names} WHERE id = ?", (*a[1:], other))
        done = f"swap {victim} and {other}"
    else:  # a forged entry, correctly hashed onto the one before it, slipped in at any position
        position = rng.choice([*ids, max(ids) + 1])
        before = [r for r in all_rows if r[0] < position]
        chain_rows = [r for r in before if r[2] == "g60-2027"]
        previous = chain_rows[-1][-1] if chain_rows else GENESIS
        forged = AuditEntry(
            sh(2, 21), "g60-2027", "project", "1", "intruder", "award", "in_library", "awarded", "forged", {}
        )
        forged_hash = link(previous, forged)
        for i in sorted((i for i in ids if i >= position), reverse=True):
            con.execute("UPDATE audit SET id = id + 1 WHERE id = ?", (i,))
        con.execute(
            f"INSERT INTO audit (id, {', '.join(COLUMNS)}, prev_hash, hash) VALUES ({', '.join('?' * 13)})",
            (
                position,
                "2027-02-21 01:00:00.000000",
                "g60-2027",
                "project",
                "1",
                "intruder",
                "award",
                "in_library",
                "awarded",
                "forged",
                "{}",
                previous,
                forged_hash,
            ),
        )
        done = f"insert at {position}"
    con.commit()
    con.close()
    return done


def test_any_edit_deletion_reordering_or_insertion_is_caught_in_200_random_trials(trail: Path, tmp_path: Path) -> None:
    rng = random.Random(20270101)
    missed: list[str] = []
    kinds: dict[str, int] = {}
    for trial in range(200):
        copy = tmp_path / f"t{trial}.db"
        shutil.copy(trail, copy)
        done = _tamper(copy, rng)
        kinds[done.split()[0]] = kinds.get(done.split()[0], 0) + 1
        engine = engine_on(copy)
        report = engine.audit_verify(LEAD)
        engine.store.dispose()
        if report.ok:
            missed.append(done)
        copy.unlink()
    assert missed == []
    assert set(kinds) == {"edit", "delete", "swap", "insert"} and min(kinds.values()) >= 30


def test_the_first_broken_entry_is_named(trail: Path, tmp_path: Path) -> None:
    copy = tmp_path / "t.db"
    shutil.copy(trail, copy)
    con = sqlite3.connect(copy)
    con.execute("DROP TRIGGER audit_no_update")
    (victim,) = con.execute("SELECT id FROM audit WHERE cycle_id = 'g60-2027' ORDER BY id LIMIT 1 OFFSET 5").fetchone()
    con.execute("UPDATE audit SET reason = 'softened' WHERE id = ?", (victim,))
    con.commit()
    con.close()
    report = engine_on(copy).audit_verify(LEAD)
    assert [str(b) for b in report.breaks] == [
        f"chain g60-2027: entry {victim}: its content does not match its hash (it was changed)"
    ]


def test_a_cut_off_tail_is_caught_against_the_head_kept_elsewhere(trail: Path, tmp_path: Path) -> None:
    copy = tmp_path / "t.db"
    shutil.copy(trail, copy)
    engine = engine_on(copy)
    kept = engine.audit_head(LEAD)
    kept_cycle = engine.audit_head(LEAD, "g60-2027")
    assert engine.audit_verify(LEAD, head=kept).ok and engine.audit_verify(LEAD, "g60-2027", kept_cycle).ok
    engine.store.dispose()
    # an intruder deletes the newest three entries and rewrites the heads table to match
    con = sqlite3.connect(copy)
    con.execute("DROP TRIGGER audit_no_delete")
    newest = [r[0] for r in con.execute("SELECT id FROM audit WHERE cycle_id = 'g60-2027' ORDER BY id DESC LIMIT 4")]
    con.execute(f"DELETE FROM audit WHERE id IN ({newest[0]}, {newest[1]}, {newest[2]})")
    (new_head,) = con.execute("SELECT hash FROM audit WHERE id = ?", (newest[3],)).fetchone()
    con.execute("UPDATE audit_heads SET hash = ?, entry_id = ? WHERE chain = 'g60-2027'", (new_head, newest[3]))
    con.commit()
    con.close()
    engine = engine_on(copy)
    assert engine.audit_verify(LEAD).ok  # consistent in itself …
    report = engine.audit_verify(LEAD, head=kept)  # … but not with the head kept outside
    assert not report.ok and "not at the head you kept" in str(report.breaks[0])
    assert not engine.audit_verify(LEAD, "g60-2027", kept_cycle).ok
    engine.store.dispose()


def test_the_database_refuses_to_change_or_delete_audit_rows(trail: Path, tmp_path: Path) -> None:
    copy = tmp_path / "t.db"
    shutil.copy(trail, copy)
    store = SqlStore(f"sqlite:///{copy}")
    before = snapshot(store)
    for statement in ("UPDATE audit SET reason = 'x' WHERE id = 3", "DELETE FROM audit WHERE id = 3"):
        with pytest.raises(Exception, match="audit entries are append-only"):
            with store.engine.begin() as conn:
                conn.execute(text(statement))
    assert snapshot(store) == before
    store.dispose()


def test_replay_names_a_project_whose_stored_state_the_trail_does_not_give(trail: Path, tmp_path: Path) -> None:
    copy = tmp_path / "t.db"
    shutil.copy(trail, copy)
    con = sqlite3.connect(copy)
    con.execute("UPDATE projects SET state = 'recommended' WHERE id = 2")  # a state changed without its entry
    con.commit()
    con.close()
    report = engine_on(copy).audit_replay(LEAD)
    assert [str(d) for d in report.differences] == ["project 2: stored 'recommended', the trail gives 'in_library'"]


def test_only_the_lead_checks_the_trail(trail: Path) -> None:
    engine = engine_on(trail)
    for check in (engine.audit_verify, engine.audit_replay, engine.audit_head):
        with pytest.raises(NotPermitted):
            check(admin("songjiang"))
    engine.store.dispose()
