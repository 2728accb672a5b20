"""An applicant attaches two documents on their project page, in Debian's chromium: a renamed
program is refused on the page in Chinese, a PDF licence and a PNG certificate are stored; the
page with its 证明材料 is kept as screenshots at 1366 and 390 px wide (no sideways scrolling)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import LEAD, applicant
from tests.web.browser import PASSWORD, Cli, Pages, Server, expect, ok, sign_in
from tests.workflow.files_samples import EXE, PDF, PNG

NOW = "2027-01-12T10:00"


def _upload(page, document: str, path: Path) -> None:
    form = page.locator(f'form.upload:has(input[name="document"][value="{document}"])')
    form.locator('input[type="file"]').set_input_files(str(path))
    form.get_by_role("button", name="上传", exact=True).click()


def test_an_applicant_attaches_two_documents(chromium, artifacts: Path, at_stage, tmp_path: Path) -> None:
    s = at_stage("collection")
    pid = s.ids["hefei"][0]
    db = s.store.sqlite_path()
    s.store.dispose()
    who = applicant("hefei")
    Cli(db)(LEAD, NOW, "user", "passwd", who, "--password-stdin", stdin=PASSWORD + "\n")
    for name, data in (("营业执照.pdf", PDF), ("高新技术企业证书.png", PNG), ("执照扫描.pdf", EXE)):
        (tmp_path / name).write_bytes(data)
    server = Server(db, tmp_path / "server.log", process=True)  # (the real `evalflow serve` command)
    pages = Pages(chromium, artifacts, width=1366)
    try:
        server.start(NOW)
        page = pages.new()
        sign_in(page, server.base, who)
        page.goto(f"{server.base}/projects/{pid}")
        section = page.locator("#attachments")
        expect(section).to_contain_text("证明材料")
        expect(page.locator("#missing-documents")).to_contain_text("营业执照")

        _upload(page, "business_license", tmp_path / "执照扫描.pdf")  # a program renamed .pdf
        expect(page.locator(".flash.error")).to_contain_text("执照扫描.pdf是程序，不是文件，不予接受")
        expect(section).not_to_contain_text("执照扫描.pdf")

        _upload(page, "business_license", tmp_path / "营业执照.pdf")
        ok(page, "已上传营业执照.pdf")
        _upload(page, "high_tech_certificate", tmp_path / "高新技术企业证书.png")
        ok(page, "已上传高新技术企业证书.png")
        expect(section.get_by_role("link", name="营业执照.pdf")).to_be_visible()
        expect(section.get_by_role("link", name="高新技术企业证书.png")).to_be_visible()
        expect(page.locator("#missing-documents")).to_have_count(0)

        for width in (1366, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{server.base}/projects/{pid}#attachments")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"
            page.screenshot(path=str(artifacts / f"project-attachments-{width}.png"), full_page=True)
            section.screenshot(path=str(artifacts / f"project-attachments-section-{width}.png"))
    except Exception:
        pages.failed("files-failure")
        raise
    finally:
        pages.close()
        server.stop()
