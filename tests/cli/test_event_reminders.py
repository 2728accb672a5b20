"""The sister programs' deadlines use the reminder machinery of the stage windows: a rectification
deadline (its unit's party and the lead, 7 d / 1 d / at the deadline), the end of a public notice
(the lead), and the periodic rounds (every party and the lead, before the round's month)."""

from __future__ import annotations

from pathlib import Path

from store.sql import SqlStore
from tests.cli.test_alliance_cli import Office, opened, unqualified
from tests.cli.test_full_cycle import Cli
from tests.cli.test_kechuang_cli import Review
from tests.cli.test_pioneer_cli import Bureau
from tests.cli.test_pioneer_cli import application as pioneer_application


def planned(cli: Cli, now: str) -> dict[str, str]:
    """key -> due instant (UTC ISO) of every unsent reminder."""
    rows = cli.json("lead", now, "remind", "list", "--status", "planned")
    return {r["key"]: r["due_at"] for r in rows}


def filed_alliance(tmp_path: Path) -> Office:
    o = opened(tmp_path)
    unqualified(o)
    return o


def test_a_rectification_deadline_is_reminded_and_the_reminders_go_when_it_is_met(tmp_path: Path) -> None:
    o = filed_alliance(tmp_path)
    assert not [k for k in planned(o.cli, "2028-12-07T10:00") if "/deadline/" in k]
    o(
        "lead",
        "2028-12-08T09:00",
        "project",
        "act",
        "order_rectification",
        "1",
        "-p",
        "deadline=2029-03-31",
        "--reason",
        "约谈后限期整改",
    )
    due = {k: v for k, v in planned(o.cli, "2028-12-08T10:00").items() if "/deadline/" in k}
    assert sorted(due) == sorted(
        f"alliance-2027/deadline/1/0/{offset}/{who}" for offset in ("7d", "1d", "0d") for who in ("hefei", "lead")
    )
    assert due["alliance-2027/deadline/1/0/0d/hefei"].startswith("2029-03-31T16:00")  # 24:00 Asia/Shanghai
    out = o(None, "2029-03-25T00:05", "remind", "due")  # 7 days before 24:00 of the deadline, local time
    assert (
        "→ hefei:" in out
        and "project 1 理事长单位1 《长三角G60科创走廊第1产业联盟》 must rectify by 2029-03-31: 约谈后限期整改" in out
    )
    # rectified: the deadline's later reminders are dropped
    o("lead", "2029-03-25T09:00", "project", "act", "restore", "1", "--reason", "整改到位")
    assert not [k for k in planned(o.cli, "2029-03-25T10:00") if "/deadline/" in k]
    assert "0 sent" in o(None, "2029-04-01T09:00", "remind", "due")
    o.store.dispose()


def test_the_end_of_the_public_notice_is_reminded_to_the_lead(tmp_path: Path) -> None:
    r = Review(tmp_path)
    when = "2027-03-01T09:00"
    r(None, when, "init")
    r(None, when, "user", "add", "lead", "--role", "lead", "--city", "kexie")
    r("lead", when, "user", "add", "office", "--role", "city-admin", "--city", "kexie")
    r("lead", when, "user", "add", "m1", "--role", "scorer", "--city", "kexie")
    r("lead", when, "user", "add", "ap", "--role", "applicant", "--city", "kexie")
    r("lead", when, "cycle", "open", "kechuang-zhongyuan", "--year", "2027", "--places", "selected=1")
    for i in (1, 2):
        r.submit(i)
        r("office", "2027-03-10T09:00", "project", "accept", str(i))
    r("lead", "2027-04-01T09:00", "cycle", "advance")
    r("m1", "2027-04-02T09:00", "vote", "1", "--for")
    r("m1", "2027-04-02T09:00", "vote", "2", "--against")
    r("lead", "2027-05-01T09:00", "cycle", "advance")
    r("lead", "2027-05-02T09:00", "list", "propose")
    r("office", "2027-05-03T09:00", "list", "confirm")
    r("lead", "2027-05-16T09:00", "cycle", "advance")
    assert "kczy-2027/notice/0d/lead" not in planned(r.cli, "2027-05-16T09:30")
    r("lead", "2027-05-16T10:00", "publish")
    assert planned(r.cli, "2027-05-16T10:30")["kczy-2027/notice/0d/lead"].startswith("2027-05-19T02:00")
    out = r(None, "2027-05-19T10:01", "remind", "due")
    assert "the public notice ended 2027-05-19 10:00; 1 selected projects wait to be announced" in out
    r.store.dispose()


def test_the_rounds_are_reminded_before_their_month_with_what_waits(tmp_path: Path) -> None:
    b = Bureau(tmp_path)
    b(None, "2027-01-05T09:00", "init")
    b(None, "2027-01-05T09:00", "user", "add", "lead", "--role", "lead", "--city", "bureau")
    b("lead", "2027-01-05T09:00", "user", "add", "ap", "--role", "applicant", "--city", "bureau")
    b("lead", "2027-01-05T09:00", "cycle", "open", "pioneer-brand", "--year", "2027")
    keys = planned(b.cli, "2027-01-05T10:00")
    assert keys["pioneer-2027/round/2027-03/7d/bureau"].startswith("2027-02-21T16:00")
    assert keys["pioneer-2027/round/2027-09/0d/lead"].startswith("2027-08-31T16:00")
    # nothing waits: the reminder has nothing to say
    assert "0 sent" in b(None, "2027-02-22T00:05", "remind", "due")
    b.submit("2027-02-25T09:00", pioneer_application("甲科技公司党支部"))
    out = b(None, "2027-03-01T00:05", "remind", "due")
    assert "bureau has 1 projects for the 3月 round" in out
    store = SqlStore(b.cli.url)
    store.dispose()
    b.store.dispose()
