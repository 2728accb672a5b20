"""A large batch is written in chunks inside its one transaction: the result is the same as one
chunk, and a conflict found in a later chunk undoes the earlier chunks too."""

from __future__ import annotations

import pytest

import workflow.engine.door as door_module
from store.sql import SqlStore
from tests.conftest import admin, sh, snapshot, submit_many
from workflow.errors import ConcurrentChange


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(door_module, "MOVE_CHUNK", 4)


def test_a_batch_of_several_chunks_moves_every_project_with_one_audit_row_each(
    engine, cycle, clock, store: SqlStore, small_chunks
) -> None:
    ids = submit_many(engine, clock, per_city=11, cities=["hefei"])["hefei"]
    clock.set(sh(2, 20))
    done = engine.fire(admin("hefei"), ids, "accept")
    assert [p.state for p in done] == ["in_library"] * 11
    with store.transaction(write=False) as tx:
        rows = [e for e in tx.history(cycle_id=cycle.id) if e.action == "accept"]
        stored = tx.get_projects(ids)
    assert [int(e.subject_id) for e in rows] == ids  # in the batch's order, once each
    assert {p.state for p in stored.values()} == {"in_library"} and {p.version for p in stored.values()} == {2}


def test_a_conflict_in_a_later_chunk_undoes_the_earlier_chunks(
    engine, cycle, clock, store: SqlStore, small_chunks, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = submit_many(engine, clock, per_city=11, cities=["hefei"])["hefei"]
    clock.set(sh(2, 20))
    before = snapshot(store)
    real = door_module.Door._move_chunk
    calls = []

    def moved_meanwhile(self, act, moves, *rest):
        calls.append(len(moves))
        if len(calls) == 3:  # someone changed the last chunk's first project since it was read
            moves[0][0].version -= 1
        return real(self, act, moves, *rest)

    monkeypatch.setattr(door_module.Door, "_move_chunk", moved_meanwhile)
    with pytest.raises(ConcurrentChange):
        engine.fire(admin("hefei"), ids, "accept")
    assert calls == [4, 4, 3]
    assert snapshot(store) == before
