"""The project list in Debian's chromium, at 1366 and at 390 pixels: the lead searches, sorts by
score, pages and exports; a city administrator reaches the list from the dashboard's to-do, ticks
the page with the header box and clears the to-do's filter. Screenshots of each width go to the
artifacts folder; nothing is wider than a phone at 390."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import LEAD, admin
from tests.web.browser import PASSWORD, TIMEOUT_MS, Cli, Server, expect, sign_in

HEFEI = admin("hefei")


def _shoot(page, artifacts: Path, name: str) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    page.screenshot(path=str(artifacts / f"{name}-1366.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / f"{name}-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "nothing overflows a phone's width"
    page.set_viewport_size({"width": 1366, "height": 900})


def test_the_project_list_at_both_widths(chromium, artifacts: Path, at_stage, tmp_path: Path) -> None:
    s = at_stage("proposed")
    db = s.store.sqlite_path()
    assert db is not None
    now = s.clock().isoformat()
    s.store.dispose()
    cli = Cli(db)
    for name in (LEAD, HEFEI):
        cli(LEAD, now, "user", "passwd", name, "--password-stdin", stdin=PASSWORD + "\n")
    server = Server(db, tmp_path / "serve.log")
    server.start(now)
    contexts = []
    try:
        ctx = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        lead = ctx.new_page()
        sign_in(lead, server.base, LEAD)
        lead.goto(f"{server.base}/projects?size=20")
        expect(lead.locator("#count")).to_contain_text("个项目，第 1–20 个")
        lead.get_by_role("link", name="得分").click()  # sorted by score, best first
        expect(lead.locator("#projects thead")).to_contain_text("得分 ▼")
        lead.locator("#filters select[name=city]").select_option("hefei")
        lead.locator("#filters button[type=submit]").click()
        expect(lead.locator("#chips")).to_contain_text("城市：合肥市")
        _shoot(lead, artifacts, "plist-lead-score")
        lead.get_by_label("搜索").fill("合肥")
        lead.locator("#filters button[type=submit]").click()
        expect(lead.locator("#chips")).to_contain_text("搜索：合肥")
        with lead.expect_download() as download:
            lead.locator("#export-xlsx").click()
        assert download.value.suggested_filename.endswith(".xlsx")
        lead.get_by_role("link", name="清除全部筛选").click()
        expect(lead.locator("#chips")).to_have_count(0)
        lead.goto(f"{server.base}/projects?size=20&page=3")
        _shoot(lead, artifacts, "plist-lead-pages")

    finally:
        for c in contexts:
            c.close()
        server.stop()


def test_a_city_reaches_the_list_from_its_todo_and_ticks_the_page(
    chromium, artifacts: Path, at_stage, tmp_path: Path
) -> None:
    s = at_stage("recommendation")
    db = s.store.sqlite_path()
    assert db is not None
    now = s.clock().isoformat()
    s.store.dispose()
    Cli(db)(LEAD, now, "user", "passwd", HEFEI, "--password-stdin", stdin=PASSWORD + "\n")
    server = Server(db, tmp_path / "serve.log")
    server.start(now)
    ctx = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        city = ctx.new_page()
        sign_in(city, server.base, HEFEI)
        city.locator("#todo a[href*='action=']").first.click()
        expect(city.locator("#chips")).to_be_visible()
        boxes = city.locator("#projects input[name=ids]")
        expect(boxes.first).to_be_visible()
        city.locator("#select-all").check()  # the header box (JavaScript) ticks the page
        assert all(b.is_checked() for b in boxes.all())
        _shoot(city, artifacts, "plist-city-todo")
        city.locator("#chips a.remove").first.click()  # the to-do's filter is cleared
        expect(city.locator("#chips")).to_have_count(0)
        expect(city.locator("#count")).to_contain_text("个项目")
    finally:
        ctx.close()
        server.stop()
