"""Prebuilt cycles at every stage, shared by the engine tests.

Driving a cycle through all six stages costs about a second (45 key-library projects, 405
score sheets), so it is done once per session: the database file is copied at each stage
(a *checkpoint*) and every test gets its own fresh copy of the checkpoint it needs. The
tests at the bottom check the checkpoints themselves.

The scenario: per city 6 eligible applications, all accepted; 5 named municipal
demonstration and 1 excellent; the 5 demonstration ones recommended (key library = 45); every
city scores the two ``high`` projects SHEET_HIGH, the three ``mid`` projects SHEET_MID and the
40 others SHEET_LOW; the cycle has 2 demonstration and 3 excellent places, so the list is
exact: no tie crosses a boundary.

The fixtures ``stage_templates`` and ``at_stage`` are registered in tests/workflow/conftest.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from store.sql import SqlStore
from tests.conftest import (
    CITIES,
    LEAD,
    PROGRAM,
    SHEET_HIGH,
    SHEET_LOW,
    SHEET_MID,
    YEAR,
    SettableClock,
    admin,
    applicant,
    make_app,
    scorer,
    sh,
)
from workflow.engine import Engine
from workflow.program import ProgramRegistry

PER_CITY = 6
DEMO_PER_CITY = 5
HEFEI_SHORT = 4  # at checkpoint hefei_short, hefei has scored only the first 4 key-library projects
CHECKPOINTS = (
    "collection",  # 54 submitted, 01-10
    "municipal_review",  # 54 in_library, stage municipal_review, 03-02
    "recommendation",  # 45 municipal_demonstration + 9 municipal_excellent, 05-02
    "joint_scoring",  # 45 recommended, no sheets, 05-11
    "hefei_short",  # every sheet in but hefei's last 41 (hefei has scored 4 of 45), 05-15
    "confirmation",  # all 405 sheets in, no list, 05-16
    "proposed",  # list v1 proposed, no confirmations, 05-20
    "confirmed",  # all nine confirmed, stage publication, list v1 confirmed, 06-10
    "published",  # list v1 published, projects placed, 06-12
)


@dataclass
class Staged:
    """A cycle at one checkpoint: its own database copy, engine and clock."""

    engine: Engine
    store: SqlStore
    clock: SettableClock
    ids: dict[str, list[int]]  # city -> every project id
    demos: dict[str, list[int]]  # city -> municipal demonstration ids
    excellent: dict[str, int]  # city -> the municipal excellent id
    high: list[int] = field(default_factory=list)
    mid: list[int] = field(default_factory=list)
    low: list[int] = field(default_factory=list)

    @property
    def shortlist(self) -> list[int]:
        return [pid for c in CITIES for pid in self.demos[c]]


@dataclass
class _Template:
    path: Path
    at: datetime


_CACHE: dict[str, tuple[dict[str, _Template], dict]] = {}


def _checkpoint(store: SqlStore, root: Path, name: str, at: datetime, out: dict[str, _Template]) -> None:
    store.dispose()  # closes every connection: SQLite checkpoints the WAL into the main file
    dest = root / f"{name}.db"
    main = store.sqlite_path()
    assert main is not None
    shutil.copyfile(main, dest)
    for suffix in ("-wal", "-shm"):
        extra = Path(f"{main}{suffix}")
        if extra.exists():
            shutil.copyfile(extra, Path(f"{dest}{suffix}"))
    out[name] = _Template(dest, at)


def build_templates(root: Path, programs: ProgramRegistry) -> tuple[dict[str, _Template], dict]:
    """Drive one cycle through every stage, copying the database at each checkpoint."""
    root.mkdir(parents=True, exist_ok=True)
    store = SqlStore(f"sqlite:///{root / 'build.db'}")
    store.create()
    clock = SettableClock(sh(1, 2))
    engine = Engine(store, programs, clock)
    out: dict[str, _Template] = {}

    engine.add_user(None, LEAD, "lead", "songjiang")
    for c in CITIES:
        engine.add_user(LEAD, admin(c), "city-admin", c)
        engine.add_user(LEAD, scorer(c), "scorer", c)
        engine.add_user(LEAD, applicant(c), "applicant", c)
    engine.open_cycle(LEAD, PROGRAM, YEAR, places={"demonstration": 2, "excellent": 3})

    clock.set(sh(1, 10))
    ids: dict[str, list[int]] = {}
    serial = 0
    for c in CITIES:
        for _ in range(PER_CITY):
            serial += 1
            ids.setdefault(c, []).append(engine.submit(applicant(c), make_app(c, serial)).id)
    _checkpoint(store, root, "collection", clock(), out)

    clock.set(sh(2, 20))
    for c in CITIES:
        engine.fire(admin(c), ids[c], "accept")
    clock.set(sh(3, 2))
    engine.advance(LEAD)
    _checkpoint(store, root, "municipal_review", clock(), out)

    clock.set(sh(3, 10))
    demos = {c: ids[c][:DEMO_PER_CITY] for c in CITIES}
    excellent = {c: ids[c][DEMO_PER_CITY] for c in CITIES}
    for c in CITIES:
        engine.fire(admin(c), demos[c], "review", result="demonstration", method="site")
        engine.fire(admin(c), excellent[c], "review", result="excellent", method="written")
    clock.set(sh(5, 2))
    engine.advance(LEAD)
    _checkpoint(store, root, "recommendation", clock(), out)

    clock.set(sh(5, 5))
    for c in CITIES:
        engine.fire(admin(c), demos[c], "recommend")
    clock.set(sh(5, 11))
    engine.advance(LEAD)
    _checkpoint(store, root, "joint_scoring", clock(), out)

    high = [demos["songjiang"][0], demos["hefei"][0]]
    mid = [demos["jiaxing"][0], demos["hangzhou"][0], demos["wuhu"][0]]
    low = [pid for c in CITIES for pid in demos[c] if pid not in high and pid not in mid]
    key = [pid for c in CITIES for pid in demos[c]]

    def score(city: str, chosen: list[int]) -> None:
        for group, sheet in ((high, SHEET_HIGH), (mid, SHEET_MID), (low, SHEET_LOW)):
            ids_ = [pid for pid in group if pid in chosen]
            if ids_:
                engine.fire(scorer(city), ids_, "score", scores=sheet, completion="基本完成")

    clock.set(sh(5, 15))
    for c in CITIES:
        score(c, key if c != "hefei" else key[:HEFEI_SHORT])
    _checkpoint(store, root, "hefei_short", clock(), out)

    score("hefei", key[HEFEI_SHORT:])
    clock.set(sh(5, 16))
    engine.advance(LEAD)
    _checkpoint(store, root, "confirmation", clock(), out)

    clock.set(sh(5, 20))
    engine.propose_list(LEAD)
    _checkpoint(store, root, "proposed", clock(), out)

    clock.set(sh(6, 1))
    for c in CITIES:
        engine.confirm_list(admin(c))
    clock.set(sh(6, 10))
    engine.advance(LEAD)
    _checkpoint(store, root, "confirmed", clock(), out)

    clock.set(sh(6, 12))
    engine.publish(LEAD)
    _checkpoint(store, root, "published", clock(), out)
    store.dispose()

    meta = {"ids": ids, "demos": demos, "excellent": excellent, "high": high, "mid": mid, "low": low}
    return out, meta


@pytest.fixture(scope="session")
def stage_templates(tmp_path_factory: pytest.TempPathFactory, programs: ProgramRegistry):
    """Every checkpoint's database file, built once per test session."""
    if "built" not in _CACHE:
        _CACHE["built"] = build_templates(tmp_path_factory.mktemp("engine-stages"), programs)
    return _CACHE["built"]


def copy_checkpoint(template: _Template, meta: dict, programs: ProgramRegistry, dest: Path) -> Staged:
    """A private copy of one checkpoint's database at ``dest`` (with its write-ahead log), served
    by its own engine on a clock set to the checkpoint's time."""
    shutil.copyfile(template.path, dest)
    for suffix in ("-wal", "-shm"):
        extra = Path(f"{template.path}{suffix}")
        if extra.exists():
            shutil.copyfile(extra, Path(f"{dest}{suffix}"))
    store = SqlStore(f"sqlite:///{dest}")
    store.check_ready()
    clock = SettableClock(template.at)
    return Staged(
        engine=Engine(store, programs, clock),
        store=store,
        clock=clock,
        ids={c: list(v) for c, v in meta["ids"].items()},
        demos={c: list(v) for c, v in meta["demos"].items()},
        excellent=dict(meta["excellent"]),
        high=list(meta["high"]),
        mid=list(meta["mid"]),
        low=list(meta["low"]),
    )


@pytest.fixture
def at_stage(stage_templates, tmp_path: Path, programs: ProgramRegistry) -> Callable[[str], Staged]:
    """A factory: ``at_stage("joint_scoring")`` gives a private copy of that checkpoint."""
    templates, meta = stage_templates
    opened: list[SqlStore] = []

    def load(name: str) -> Staged:
        s = copy_checkpoint(templates[name], meta, programs, tmp_path / f"{name}-{len(opened)}.db")
        opened.append(s.store)
        return s

    yield load
    for store in opened:
        store.dispose()
