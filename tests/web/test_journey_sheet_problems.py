"""A refused 附件1 workbook in a real browser (Debian's chromium under Playwright, `evalflow serve`):
hefei-admin uploads a workbook with a formula, a date that is not one and a repeated 申报序号; the
page lists each problem in Chinese, each row named 第N行. Screenshots at 1366 and 390 px; the page
never scrolls sideways."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from sheets.applications import application_columns, flat_row
from tests.conftest import FORM, LEAD, admin, make_app
from tests.web.browser import PASSWORD, Cli, Pages, Server, expect, sign_in
from tests.web.test_uploads import hefei_apps, workbook

WIDTHS = (1366, 390)


def test_a_refused_workbook_lists_its_problems_in_chinese(chromium, artifacts: Path, tmp_path: Path, at_stage) -> None:
    columns = application_columns(FORM)
    book = workbook(
        tmp_path / "附件1.xlsx",
        hefei_apps(2),
        change={1: (columns.index("项目启动时间"), "明年"), 2: (columns.index("党员数"), "=1+1")},
    )
    wb = openpyxl.load_workbook(book)
    wb["申报表"].append(flat_row(FORM, make_app("hefei", 1900), 1))
    wb.save(book)
    s = at_stage("collection")
    db = s.store.sqlite_path()
    s.store.dispose()
    Cli(db)(LEAD, "2027-01-20T09:00", "user", "passwd", admin("hefei"), "--password-stdin", stdin=PASSWORD + "\n")
    server = Server(db, tmp_path / "server.log")
    server.start("2027-01-20T09:00")
    pages = Pages(chromium, artifacts, width=1366)
    try:
        page = pages.new()
        sign_in(page, server.base, admin("hefei"))
        page.get_by_role("link", name="导入", exact=True).click()
        page.set_input_files("input[name=file]", str(book))
        page.get_by_role("button", name="试导入（预览，不写入）").click()
        refused = page.locator("#refused")
        expect(refused).to_contain_text("含有公式（=1+1），请直接填写数值本身", timeout=30_000)
        expect(refused).to_contain_text("[申报表 第2行 项目启动时间] “明年”不是有效日期（日期格式 YYYY-MM-DD）")
        expect(refused).to_contain_text("[申报表 第4行] 申报序号 1 重复使用（第2行和第4行）")
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"the refused workbook at {width}px is {overflow}px too wide"
            page.screenshot(path=str(artifacts / f"sheets-refused-{width}.png"), full_page=True)
    except BaseException:
        pages.failed("sheets-refused-failure")
        raise
    finally:
        pages.close()
        server.stop()
