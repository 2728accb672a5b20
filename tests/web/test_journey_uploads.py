"""Uploads and the queue in a real browser (Debian's chromium under Playwright, `evalflow serve`):

- hefei-admin uploads a 200-row 附件1 workbook: the dry run lists every row, then the import runs
  with its progress page and ends with the projects created;
- hefei-scorer downloads the city's 附件2 sheet, fills two rows, uploads and records it, then
  walks two projects of 待评分 with the sheet showing each band and the running total.

Screenshots at 1366 and 390 px of the dry-run table, the queue and the sheet form go to the
artifacts folder; at both widths the page never scrolls sideways.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import LEAD, SHEET_MID, admin, scorer
from tests.web.browser import PASSWORD, Cli, Pages, Server, expect, ok, sign_in
from tests.web.test_uploads import hefei_apps, workbook

CYCLE = "g60-2027"
WIDTHS = (1366, 390)


def _serve(s: Any, tmp_path: Path, name: str, now: str, users: tuple[str, ...]) -> Server:
    """The checkpoint's database served at ``now``, with passwords for ``users``."""
    db = s.store.sqlite_path()
    s.store.dispose()
    cli = Cli(db)
    for user in users:
        cli(LEAD, now, "user", "passwd", user, "--password-stdin", stdin=PASSWORD + "\n")
    server = Server(db, tmp_path / f"{name}.log")
    server.start(now)
    return server


def _shots(page: Any, artifacts: Path, name: str, whole: bool = True) -> None:
    """The page at each width (``whole``: all of it, else its first screen); it never scrolls sideways."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} at {width}px is {overflow}px too wide"
        page.screenshot(path=str(artifacts / f"uploads-{name}-{width}.png"), full_page=whole)
    page.set_viewport_size({"width": 1366, "height": 900})


def test_an_administrator_imports_and_a_scorer_works_through_the_queue(
    chromium, artifacts: Path, tmp_path: Path, at_stage
) -> None:
    pages = Pages(chromium, artifacts, width=1366)
    servers: list[Server] = []
    try:
        # --- hefei-admin: a 200-row workbook, dry run, then import
        s = at_stage("collection")
        before = len(s.engine.projects(LEAD, CYCLE, city="hefei", with_application=False))
        book = workbook(tmp_path / "合肥市申报.xlsx", hefei_apps(200))
        server = _serve(s, tmp_path, "collection", "2027-01-20T09:00", (admin("hefei"),))
        servers.append(server)
        page = pages.new()
        sign_in(page, server.base, admin("hefei"))
        page.get_by_role("link", name="导入", exact=True).click()
        page.set_input_files("input[name=file]", str(book))
        page.get_by_role("button", name="试导入（预览，不写入）").click()
        expect(page.locator("#verdicts")).to_contain_text("已检查 200 份申报：200 份将导入", timeout=60_000)
        assert page.locator("#rows tbody tr").count() == 200
        _shots(page, artifacts, "import-dry-run", whole=False)  # (200 rows: the first screen tells)
        page.get_by_role("button", name="全部导入（200 份申报）").click()
        expect(page.locator("#imported")).to_contain_text("已导入 200 份申报", timeout=60_000)
        _shots(page, artifacts, "import-done")
        server.stop()
        s.store.dispose()
        assert len(s.engine.projects(LEAD, CYCLE, city="hefei", with_application=False)) == before + 200

        # --- hefei-scorer: the city's sheet, filled and uploaded; then two projects of the queue
        from tests.sheets.test_score_import import fill, sheet_for

        j = at_stage("joint_scoring")
        server = _serve(j, tmp_path, "joint", "2027-05-11T10:00", (scorer("hefei"),))
        servers.append(server)
        page = pages.new()
        sign_in(page, server.base, scorer("hefei"))
        page.get_by_role("link", name="待评分", exact=True).click()
        total = len(j.shortlist)
        expect(page.locator("#count")).to_contain_text(f"还有 {total} 个项目待评分")
        page.get_by_role("link", name="上传附件2 评分表").click()
        with page.expect_download() as got:
            page.locator("#template").click()
        template = tmp_path / "template.xlsx"
        got.value.save_as(template)
        first, second = j.shortlist[:2]
        typed = {first: (sheet_for(1), None), second: (sheet_for(2), None)}
        filled = fill(j, template, tmp_path / "合肥市评分.xlsx", typed)
        page.set_input_files("input[name=file]", str(filled))
        page.get_by_role("button", name="检查评分表（预览，不录入）").click()
        expect(page.locator("#verdicts")).to_contain_text("将为合肥市录入 2 行评分")
        _shots(page, artifacts, "score-sheet-check")
        page.get_by_role("button", name="全部录入（2 份评分表）").click()
        ok(page, "已为合肥市录入 2 份评分表")
        expect(page.locator("#count")).to_contain_text(f"还有 {total - 2} 个项目待评分")
        _shots(page, artifacts, "queue")
        page.locator("#start").click()
        for n in range(2):
            form = page.locator("#score-form")
            expect(form).to_be_visible()
            values = {**SHEET_MID, "value": 19} if n == 0 else SHEET_MID
            for key, value in values.items():
                form.locator(f"input[name=score_{key}]").fill(str(value))
            expect(page.locator("#band_value")).to_have_text("非常重要" if n == 0 else "比较重要")
            expect(page.locator("#sheet-total")).to_contain_text(f"总分：{sum(values.values())}")
            if n == 0:
                _shots(page, artifacts, "sheet-form")
            form.get_by_role("button").first.click()
            ok(page, f"总分 {sum(values.values())}")
            page.locator("#next-unscored").click()
        page.get_by_role("link", name="待评分", exact=True).click()
        expect(page.locator("#count")).to_contain_text(f"还有 {total - 4} 个项目待评分")
    except BaseException:
        pages.failed("uploads-failure")
        raise
    finally:
        pages.close()
        for server in servers:
            server.stop()
