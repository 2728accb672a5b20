"""Shared fixtures: a fresh SQLite store, an engine on a settable clock, a seeded G60 cycle."""

from __future__ import annotations

import os

# The tests read evalflow's words in English, as scripts do (`--lang en`); a test of the Chinese
# says so itself. Set before evalflow's catalog is first imported.
os.environ["EVALFLOW_LANG"] = "en"

import random  # noqa: E402
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from demo.synthetic import application
from store.sql import SqlStore
from workflow.engine import Engine
from workflow.program import ProgramRegistry

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROGRAM = "g60-deep-integration"
FORM = ProgramRegistry().get(PROGRAM).form  # the G60 附件1 form
YEAR = 2027
CITIES = ("songjiang", "jiaxing", "hangzhou", "jinhua", "suzhou", "huzhou", "xuancheng", "wuhu", "hefei")
CITY_NAMES = {
    "songjiang": "松江区",
    "jiaxing": "嘉兴市",
    "hangzhou": "杭州市",
    "jinhua": "金华市",
    "suzhou": "苏州市",
    "huzhou": "湖州市",
    "xuancheng": "宣城市",
    "wuhu": "芜湖市",
    "hefei": "合肥市",
}
LEAD = "lead"
TABLES = (
    "users",
    "cycles",
    "projects",
    "score_sheets",
    "list_versions",
    "confirmations",
    "audit",
    "appeals",
    "reminders",
    "leases",
    "audit_heads",
    "attachments",  # (migration 0009: a project's files, and their contents kept in the database)
    "blobs",
    "audit_checkpoints",  # (migration 0012: the audit trail's signed checkpoints)
)
# the web console's sign-ins (migration 0005): kept apart from TABLES, because a page or API
# call writes a session's last-seen time or a token's last use even when it changes nothing else
WEB_TABLES = ("credentials", "web_sessions", "api_tokens", "drafts")  # (drafts: migration 0010, the applicant portal)


def sh(month: int, day: int, hour: int = 9, minute: int = 0, second: int = 0, year: int = YEAR) -> datetime:
    """An instant in Asia/Shanghai."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


class SettableClock:
    def __init__(self, instant: datetime):
        self.instant = instant

    def __call__(self) -> datetime:
        return self.instant

    def set(self, instant: datetime) -> None:
        self.instant = instant


@pytest.fixture(scope="session")
def programs() -> ProgramRegistry:
    return ProgramRegistry()


@pytest.fixture
def store(tmp_path: Path) -> SqlStore:
    s = SqlStore(f"sqlite:///{tmp_path / 'test.db'}")
    s.create()
    yield s
    s.dispose()


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(sh(1, 2))


@pytest.fixture
def engine(store: SqlStore, clock: SettableClock, programs: ProgramRegistry) -> Engine:
    return Engine(store, programs, clock)


def admin(city: str) -> str:
    return f"{city}-admin"


def scorer(city: str) -> str:
    return f"{city}-scorer"


def applicant(city: str) -> str:
    return f"{city}-applicant"


@pytest.fixture
def cycle(engine: Engine, clock: SettableClock):
    """Users for every role of every city, and an open G60 cycle of YEAR (stage collection)."""
    clock.set(sh(1, 2))
    engine.add_user(None, LEAD, "lead", "songjiang")
    for c in CITIES:
        engine.add_user(LEAD, admin(c), "city-admin", c)
        engine.add_user(LEAD, scorer(c), "scorer", c)
        engine.add_user(LEAD, applicant(c), "applicant", c)
    return engine.open_cycle(LEAD, PROGRAM, YEAR, places={"demonstration": 2, "excellent": 3})


def make_app(city: str = "hefei", serial: int = 1, flaw: str | None = None, seed: int = 1) -> dict:
    """A complete, eligible (unless ``flaw``) application for ``city``."""
    return application(random.Random(seed * 1000 + serial), city, CITY_NAMES[city], YEAR, serial, flaw)


def snapshot(store: SqlStore) -> dict[str, list[tuple]]:
    """Every row of every table, to prove a refusal changed nothing."""
    with store.engine.connect() as conn:
        return {t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY 1"))] for t in TABLES}


def refused(store: SqlStore, action, *args, **kwargs):
    """Run ``action`` expecting a RuleRefused (exit code 3), and prove the database did not change."""
    from workflow.errors import RuleRefused

    before = snapshot(store)
    with pytest.raises(RuleRefused) as err:
        action(*args, **kwargs)
    assert err.value.exit_code == 3
    assert snapshot(store) == before
    return err.value


def submit_many(engine: Engine, clock: SettableClock, per_city: int = 6, cities=CITIES) -> dict[str, list[int]]:
    """Submit ``per_city`` eligible applications per city during collection."""
    clock.set(sh(1, 10))
    ids: dict[str, list[int]] = {}
    serial = 0
    for c in cities:
        for _ in range(per_city):
            serial += 1
            ids.setdefault(c, []).append(engine.submit(applicant(c), make_app(c, serial)).id)
    return ids


def to_recommendation(engine: Engine, clock: SettableClock, per_city: int = 6, demo_per_city: int = 5):
    """Drive a cycle to the recommendation stage: every city accepts all, names ``demo_per_city``
    demonstration projects and the rest excellent. Returns {city: [demonstration ids]}."""
    ids = submit_many(engine, clock, per_city)
    clock.set(sh(2, 20))
    for c, pids in ids.items():
        engine.fire(admin(c), pids, "accept")
    clock.set(sh(3, 1))
    engine.advance(LEAD)
    clock.set(sh(3, 10))
    demos: dict[str, list[int]] = {}
    for c, pids in ids.items():
        for i, pid in enumerate(pids):
            result = "demonstration" if i < demo_per_city else "excellent"
            engine.fire(admin(c), pid, "review", result=result, method="site")
        demos[c] = pids[:demo_per_city]
    clock.set(sh(5, 1))
    engine.advance(LEAD)
    clock.set(sh(5, 5))
    return demos


SHEET_HIGH = {"value": 19, "organization": 28, "effectiveness": 28, "mechanism": 19}
SHEET_MID = {"value": 16, "organization": 23, "effectiveness": 23, "mechanism": 16}
SHEET_LOW = {"value": 13, "organization": 18, "effectiveness": 18, "mechanism": 13}


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 (aiosmtpd), collecting what it receives."""
    from tests.servers import SmtpServer

    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def robot_server():
    """A real HTTP endpoint that answers like a DingTalk / WeCom group robot."""
    from tests.servers import RobotServer

    server = RobotServer().start()
    yield server
    server.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test has a name of its own: `make test` runs the suite over several processes
    (pytest-xdist), which runs one test of each name, so two tests of one name would leave one
    of them silently unrun."""
    seen: set[str] = set()
    twice = sorted({item.nodeid for item in items if item.nodeid in seen or seen.add(item.nodeid)})
    if twice:
        raise pytest.UsageError(f"tests named alike (give each an id of its own): {', '.join(twice[:5])}")
