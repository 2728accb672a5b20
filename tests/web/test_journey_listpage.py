"""A short journey through the dashboard, the list page and the appeals page in Debian's
chromium, at 1366 and 390 pixels wide: the lead and a city administrator on a proposed list,
an appeal waiting for the lead's decision, then the confirmed list. Each page is saved as a
screenshot at both widths, and nothing is wider than the phone."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import CITIES, LEAD, admin, applicant, sh
from tests.web.browser import PASSWORD, Pages, Server, expect, ok, sign_in

CYCLE = "g60-2027"


def _shoot(page, artifacts: Path, name: str) -> None:
    """The page at 1366 and at 390 pixels wide; at 390 nothing overflows the page."""
    page.set_viewport_size({"width": 1366, "height": 900})
    page.screenshot(path=str(artifacts / f"{name}-1366.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / f"{name}-390.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{name}: the page is {width} px wide at 390"
    page.set_viewport_size({"width": 1366, "height": 900})


def test_dashboard_list_and_appeals_at_both_widths(at_stage, chromium, artifacts, tmp_path):
    s = at_stage("proposed")
    s.clock.set(sh(5, 21))
    for user in (LEAD, admin("hefei")):
        s.engine.set_password(LEAD, user, PASSWORD)
    s.engine.file_appeal(applicant("hefei"), s.demos["hefei"][1], "评分表漏记了两项专利，请复核名次")
    db = s.store.sqlite_path()
    assert db is not None
    s.store.dispose()
    server = Server(db, tmp_path / "serve.log")
    pages = Pages(chromium, artifacts, width=1366)
    try:
        server.start("2027-05-21T10:00")
        base = server.base
        lead = pages.new()
        sign_in(lead, base, LEAD)
        _shoot(lead, artifacts, "listpage-dashboard-lead")
        lead.goto(f"{base}/list?cycle={CYCLE}")
        expect(lead.locator("#list-status")).to_contain_text("已提出")
        _shoot(lead, artifacts, "listpage-list-proposed-lead")
        lead.goto(f"{base}/appeals?cycle={CYCLE}")
        _shoot(lead, artifacts, "listpage-appeals-lead")
        # no decision is chosen for the lead: the browser asks for one before anything is sent
        # (the server refuses one left out too: tests/web/test_refill.py)
        assert lead.locator('input[name="decision"]:checked').count() == 0
        lead.get_by_label("理由").fill("专利材料已核实")
        lead.get_by_role("button", name="作出决定").click()
        assert lead.locator('input[name="decision"]').first.evaluate("e => !e.validity.valid")
        expect(lead.locator(".appeal h2")).to_contain_text("待决定")
        expect(lead.get_by_label("理由")).to_have_value("专利材料已核实")

        hefei = pages.new()
        sign_in(hefei, base, admin("hefei"))
        _shoot(hefei, artifacts, "listpage-dashboard-city-admin")
        hefei.goto(f"{base}/list?cycle={CYCLE}")
        _shoot(hefei, artifacts, "listpage-list-proposed-city-admin")
        hefei.locator("#list-confirm").get_by_role("button", name="确认名单").click()
        ok(hefei, "确认")
        expect(hefei.locator("#list-status")).to_contain_text("确认中 1/9")
        expect(hefei.locator("#list-confirm")).to_have_count(0)

        # every other city confirms (the engine, beside the server) and the lead closes the stage
        others = engine_on(db, s)
        for c in CITIES:
            if c != "hefei":
                others.confirm_list(admin(c))
        others.store.dispose()
        lead.goto(f"{base}/list?cycle={CYCLE}")
        expect(lead.locator("#list-status")).to_contain_text("各方均已确认（9/9）")
        lead.locator("#list-advance").get_by_role("button").click()
        ok(lead, "确认")
        lead.goto(f"{base}/list?cycle={CYCLE}")
        expect(lead.locator("#list-status")).to_contain_text("已确认")
        expect(lead.locator("#list-publish")).to_be_visible()
        _shoot(lead, artifacts, "listpage-list-confirmed-lead")
    finally:
        pages.close()
        server.stop()


def engine_on(db: Path, s):
    """An engine on the journey's database file, at the server's time."""
    from store.sql import SqlStore
    from tests.conftest import SettableClock
    from workflow.engine import Engine

    return Engine(SqlStore(f"sqlite:///{db}"), s.engine.programs, SettableClock(sh(5, 21, 10)))
