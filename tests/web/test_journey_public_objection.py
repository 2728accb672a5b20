"""A 科创中原 notice in Debian's chromium: a member of the public, not signed in, objects on the public
page to a project on the published list; the office (the lead) reads who objected, upholds it
and reopens the project to the committee's vote; the committee votes again, the corrected list is
confirmed and published; the public page shows the corrected list and the version it corrected.
Screens at 1366 and 390 pixels wide."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from store.sql import SqlStore
from tests.cli.test_kechuang_cli import application
from tests.conftest import SettableClock
from tests.web.browser import PASSWORD, Pages, Server, expect, sign_in
from workflow.engine import Engine

PROGRAM, CYCLE = "kechuang-zhongyuan", "kczy-2027"
MEMBERS = ("m1", "m2", "m3")
FOR, AGAINST = {"vote": 1}, {"vote": 0}


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2027, month, day, hour, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


STAGES = ("collection", "voting", "approval", "published")


def published(db: Path, stop: str = "published") -> tuple[SqlStore, Engine, SettableClock]:
    """Three projects voted on, two selected (2 and 3) and published on 05-16; the notice runs to
    05-19 (``stop``: the cycle as it stands at the end of that stage, one of STAGES)."""
    store = SqlStore(f"sqlite:///{db}")
    store.create()
    clock = SettableClock(at(3, 1))
    e = Engine(store, clock=clock)
    e.add_user(None, "lead", "lead", "kexie")
    e.add_user("lead", "office", "city-admin", "kexie")
    e.add_user("lead", "ap", "applicant", "kexie")
    for m in MEMBERS:
        e.add_user("lead", m, "scorer", "kexie")
    e.set_password("lead", "lead", PASSWORD)
    e.open_cycle("lead", PROGRAM, 2027, places={"selected": 2})
    clock.set(at(3, 5))
    ids = [e.submit("ap", application(i)).id for i in (1, 2, 3)]
    clock.set(at(3, 10))
    e.fire("office", ids, "accept")
    if stop == "collection":
        return store, e, clock
    clock.set(at(4, 1))
    e.advance("lead")
    clock.set(at(4, 2))
    votes = {"m1": (FOR, FOR, FOR), "m2": (AGAINST, FOR, FOR), "m3": (AGAINST, FOR, FOR)}
    for m, sheet in votes.items():
        for pid, vote in zip(ids, sheet, strict=True):
            e.fire(m, pid, "vote", scores=vote)
    if stop == "voting":
        return store, e, clock
    clock.set(at(5, 1))
    e.advance("lead")
    clock.set(at(5, 2))
    e.propose_list("lead")
    clock.set(at(5, 3))
    e.confirm_list("office")
    if stop == "approval":
        return store, e, clock
    clock.set(at(5, 16))
    e.advance("lead")
    clock.set(at(5, 16, 10))
    e.publish("lead")
    return store, e, clock


def shows(page: Any, *texts: str) -> None:
    for t in texts:
        expect(page.locator("main")).to_contain_text(t)


def shoot(page: Any, artifacts: Path, name: str) -> None:
    for w, h in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": w, "height": h})
        page.screenshot(path=str(artifacts / f"{name}-{w}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= w
    page.set_viewport_size({"width": 1366, "height": 900})


def test_a_public_objection_corrects_the_list(chromium, artifacts, tmp_path) -> None:
    db = tmp_path / "kczy.db"
    store, e, clock = published(db)
    store.dispose()
    server = Server(db, tmp_path / "serve.log")
    pages = Pages(chromium, artifacts, width=1366)
    try:
        server.start("2027-05-17T11:00")
        base = server.base
        public = pages.new()
        public.goto(f"{base}/public/{CYCLE}")
        shows(public, "第 1 版名单", "公示期至 2027-05-19 10:00", "对名单提出异议")
        shoot(public, artifacts, "public-objection-form")
        public.select_option("#objection select[name=project]", label="科技经济融合项目3（河南省第3学会）")
        public.fill("#objection input[name=name]", "李明")
        public.fill("#objection input[name=contact]", "13912345678")
        public.fill("#objection textarea[name=reason]", "投票统计有误，请复核")
        public.click("#objection button[type=submit]")
        shows(public, "异议已收到", "科技经济融合项目3")
        shoot(public, artifacts, "public-objection-received")

        lead = pages.new()
        sign_in(lead, base, "lead")
        lead.goto(f"{base}/appeals?cycle={CYCLE}")
        shows(lead, "公众（李明，13912345678）", "投票统计有误，请复核")
        shoot(lead, artifacts, "appeals-public-objection")
        form = lead.locator("form.action").first
        form.locator("input[value=uphold]").check()
        form.locator("select[name=reopen_to]").select_option("voting")
        form.locator("textarea[name=reason]").fill("复核属实")
        form.locator("button[type=submit]").click()
        expect(lead.locator("body")).to_contain_text("复核属实")
    finally:
        pages.close()
        server.stop()

    # the committee votes on project 3 again (against, this time); the list is proposed anew,
    # confirmed and published as a correction
    store = SqlStore(f"sqlite:///{db}")
    e = Engine(store, clock=clock)
    clock.set(at(5, 18, 13))
    for m in MEMBERS:
        e.fire(m, 3, "vote", scores=AGAINST)
    clock.set(at(5, 18, 14))
    e.propose_list("lead", tie_order=[1, 3])
    clock.set(at(5, 18, 15))
    e.confirm_list("office")
    clock.set(at(5, 18, 16))
    e.publish("lead")
    store.dispose()

    server = Server(db, tmp_path / "serve2.log")
    pages = Pages(chromium, artifacts, width=1366)
    try:
        server.start("2027-05-18T17:00")
        public = pages.new()
        public.goto(f"{server.base}/public/{CYCLE}")
        shows(public, "第 2 版名单", "第 1 版名单（已被后一版更正）")
        shows(
            public,
            "本版更正第 1 版：",
            "“科技经济融合项目3”：入选项目 → 未入选",
            "“科技经济融合项目1”：未入选 → 入选项目",
        )
        shows(public, "依据发文单位的处理决定：复核属实")
        table = public.locator("#version-2 table").inner_text()
        assert "科技经济融合项目3" not in table and "科技经济融合项目1" in table
        shoot(public, artifacts, "public-corrected-list")
    finally:
        pages.close()
        server.stop()


def test_the_objection_form_fits_a_phone_with_long_names(at_stage, chromium, artifacts, tmp_path) -> None:
    """G60's units and projects have long names: the form's project choice stays within a 390 px
    page (it took its longest option's width and the page scrolled sideways to 586 px)."""
    from tests.conftest import sh

    s = at_stage("published")
    s.clock.set(sh(6, 13))
    db = s.store.sqlite_path()
    s.store.dispose()
    server = Server(db, tmp_path / "serve.log")
    pages = Pages(chromium, artifacts, width=1366)
    try:
        server.start("2027-06-13T10:00")
        page = pages.new()
        page.goto(f"{server.base}/public/g60-2027")
        shows(page, "对名单提出异议")
        shoot(page, artifacts, "public-objection-form-g60")
    finally:
        pages.close()
        server.stop()
