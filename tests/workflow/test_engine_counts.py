"""Cycle-wide counts are loaded only for guards that read them; actions still behave the same."""

from __future__ import annotations

from pathlib import Path

from store.sql import SqlStore
from tests.conftest import LEAD, PROGRAM, YEAR, SettableClock, admin, applicant, make_app, sh
from workflow.engine import Engine
from workflow.program import ProgramRegistry, default_program_dirs


def test_a_program_without_quota_guard_reviews_in_batches(tmp_path: Path) -> None:
    """A program whose review has no counting guard still re-reviews a batch (nothing counted, no crash)."""
    shipped = next(d for d in default_program_dirs() if (d / f"{PROGRAM}.toml").exists()) / f"{PROGRAM}.toml"
    text = shipped.read_text(encoding="utf-8").replace('review = ["municipal_quota"]\n', "")
    assert 'review = ["municipal_quota"]' not in text
    (tmp_path / "programs").mkdir()
    (tmp_path / "programs" / f"{PROGRAM}.toml").write_text(text, encoding="utf-8")
    store = SqlStore(f"sqlite:///{tmp_path / 'x.db'}")
    store.create()
    clock = SettableClock(sh(1, 2))
    engine = Engine(store, ProgramRegistry([tmp_path / "programs"]), clock)
    engine.add_user(None, LEAD, "lead", "songjiang")
    engine.add_user(LEAD, admin("songjiang"), "city-admin", "songjiang")
    engine.add_user(LEAD, applicant("songjiang"), "applicant", "songjiang")
    engine.open_cycle(LEAD, PROGRAM, YEAR)
    clock.set(sh(1, 10))
    ids = [engine.submit(applicant("songjiang"), make_app("songjiang", n)).id for n in range(1, 13)]
    engine.fire(admin("songjiang"), ids, "accept")
    clock.set(sh(3, 1))
    engine.advance(LEAD)
    clock.set(sh(3, 2))
    engine.fire(admin("songjiang"), ids, "review", result="excellent", method="written")
    done = engine.fire(admin("songjiang"), ids, "review", result="demonstration", method="site")
    # without the quota guard, Songjiang may name more than 10
    assert [p.state for p in done] == ["municipal_demonstration"] * 12
    store.dispose()
