"""An applicant's whole way in a real browser (Debian's chromium under Playwright, `evalflow
serve`): from the G60 checkpoint where applications are open, hefei's applicant fills in the 附件1
form on /apply (its sections and three team members), saves a draft, submits, attaches a PDF
licence and a PNG certificate on the project page and sees both listed. The cycle then runs to
the published list through the engine on the same SQLite file while the server is stopped (the
other cities' and the scorers' work is not this journey's); the project is recommended but not
placed. Its applicant files an appeal on the project page, the lead dismisses it with a reason on
the appeals page, and the applicant reads the decision on the project page.

Screenshots at 1366 and 390 pixels wide of the form, the project page with its attachments and
the project page with the appeal's decision go to the artifacts folder; nothing is wider than a
phone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import CITIES, LEAD, SHEET_HIGH, SHEET_LOW, SHEET_MID, admin, applicant, make_app, scorer, sh
from tests.web.browser import PASSWORD, Cli, Pages, Server, expect, ok, sign_in
from tests.web.test_journey_portal import fill
from tests.workflow.checkpoints import Staged
from tests.workflow.files_samples import PDF, PNG

APPLICANT = applicant("hefei")
OPEN = "2027-01-12T10:00"  # applications are open
AFTER = "2027-06-13T10:00"  # the list was published the day before: appeals are still accepted


def shoot(artifacts: Path, page: Any, name: str) -> None:
    """The page at 1366 and at 390 pixels wide; at 390 nothing overflows the phone's width."""
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900 if width > 390 else 844})
        page.screenshot(path=str(artifacts / f"{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px at {width}px"
    page.set_viewport_size({"width": 1366, "height": 900})


def upload(page: Any, document: str, path: Path) -> None:
    """Attach ``path`` as ``document`` through the project page's upload form."""
    form = page.locator(f'form.upload:has(input[name="document"][value="{document}"])')
    form.locator('input[type="file"]').set_input_files(str(path))
    form.get_by_role("button", name="上传", exact=True).click()


def to_publication(s: Staged, new: int) -> None:
    """The rest of the cycle through the engine, as the checkpoints drive it, with ``new`` among
    hefei's five municipal demonstration projects and scored low by every city (recommended, not
    placed); hefei's sixth original application is its municipal excellent one."""
    engine, clock, hefei = s.engine, s.clock, s.ids["hefei"]
    demos = {c: list(s.demos[c]) for c in CITIES}
    demos["hefei"] = [*hefei[:4], new]
    excellent = {c: [s.excellent[c]] for c in CITIES}
    excellent["hefei"] = hefei[4:6]
    clock.set(sh(2, 20))
    for c in CITIES:
        engine.fire(admin(c), [*demos[c], *excellent[c]], "accept")
    clock.set(sh(3, 2))
    engine.advance(LEAD)
    clock.set(sh(3, 10))
    for c in CITIES:
        engine.fire(admin(c), demos[c], "review", result="demonstration", method="site")
        engine.fire(admin(c), excellent[c], "review", result="excellent", method="written")
    clock.set(sh(5, 2))
    engine.advance(LEAD)
    clock.set(sh(5, 5))
    for c in CITIES:
        engine.fire(admin(c), demos[c], "recommend")
    clock.set(sh(5, 11))
    engine.advance(LEAD)
    key = [pid for c in CITIES for pid in demos[c]]
    clock.set(sh(5, 15))
    for c in CITIES:
        for group, sheet in ((s.high, SHEET_HIGH), (s.mid, SHEET_MID)):
            engine.fire(scorer(c), group, "score", scores=sheet, completion="基本完成")
        low = [pid for pid in key if pid not in s.high and pid not in s.mid]
        engine.fire(scorer(c), low, "score", scores=SHEET_LOW, completion="基本完成")
    clock.set(sh(5, 16))
    engine.advance(LEAD)
    clock.set(sh(5, 20))
    engine.propose_list(LEAD)
    clock.set(sh(6, 1))
    for c in CITIES:
        engine.confirm_list(admin(c))
    clock.set(sh(6, 10))
    engine.advance(LEAD)
    clock.set(sh(6, 12))
    engine.publish(LEAD)
    s.store.dispose()


def test_an_applicant_submits_with_two_attachments_then_appeals(chromium, artifacts: Path, at_stage, tmp_path):
    s = at_stage("collection")
    db = s.store.sqlite_path()
    assert db is not None
    s.store.dispose()
    cli = Cli(db)
    for who in (APPLICANT, LEAD):
        cli(LEAD, OPEN, "user", "passwd", who, "--password-stdin", stdin=PASSWORD + "\n")
    (tmp_path / "营业执照.pdf").write_bytes(PDF)
    (tmp_path / "高新技术企业证书.png").write_bytes(PNG)
    server = Server(db, tmp_path / "server.log")
    pages = Pages(chromium, artifacts, width=1366)
    base = server.base
    try:
        server.start(OPEN)
        page = pages.new()
        sign_in(page, base, APPLICANT)

        # the form: part of it saved as a draft, then the rest typed, three team members in all
        page.get_by_role("link", name="我的申报").click()
        page.get_by_role("link", name="填写申报表").click()
        page.wait_for_url(f"{base}/apply/g60-2027")
        app = make_app("hefei", 90)
        page.locator('[name="f:project.name"]').fill(app["project"]["name"])
        page.get_by_role("button", name="保存草稿").click()
        ok(page, "草稿已保存")
        expect(page.locator('[name="f:project.name"]')).to_have_value(app["project"]["name"])
        members = page.locator(".member").count()
        assert members >= 2 and len(app["team"]) >= 2, (members, len(app["team"]))
        fill(page, app, members=min(members, len(app["team"])))
        shoot(artifacts, page, "journey-applicant-form")
        page.get_by_role("button", name="提交申报").click()
        ok(page, "申报已提交：项目")
        pid = int(page.url.rsplit("/", 1)[1])
        expect(page.locator("#state")).to_have_text("已申报")
        expect(page.get_by_label("申诉理由")).to_have_count(0)  # (no result yet: nothing to appeal)

        # two documents attached on the project page, both listed, none missing any more
        section = page.locator("#attachments")
        upload(page, "business_license", tmp_path / "营业执照.pdf")
        ok(page, "已上传营业执照.pdf")
        upload(page, "high_tech_certificate", tmp_path / "高新技术企业证书.png")
        ok(page, "已上传高新技术企业证书.png")
        expect(section.get_by_role("link", name="营业执照.pdf")).to_be_visible()
        expect(section.get_by_role("link", name="高新技术企业证书.png")).to_be_visible()
        expect(page.locator("#missing-documents")).to_have_count(0)
        shoot(artifacts, page, "journey-applicant-attachments")
        server.stop()

        # --- months later: the cycle runs to the published list (the engine, server stopped)
        to_publication(s, pid)
        server.start(AFTER)

        # the applicant appeals the result on the project page
        page.goto(f"{base}/projects/{pid}")
        page.get_by_label("申诉理由").fill("本项目年产值增长显著，评分偏低")
        page.get_by_role("button", name="提出申诉").click()
        ok(page, f"（项目 {pid}）")
        appeal = page.locator("[id^=appeal-decision-]")
        expect(appeal).to_have_count(1)
        aid = int((appeal.get_attribute("id") or "").rsplit("-", 1)[1])

        # the lead decides it on the appeals page: no decision chosen for them; dismissed with a reason
        lead = pages.new()
        sign_in(lead, base, LEAD)
        lead.goto(f"{base}/appeals")
        form = lead.locator(f"#decide-{aid}")
        expect(form.locator('input[name="decision"]:checked')).to_have_count(0)
        form.get_by_role("radio", name="驳回").check()
        form.get_by_label("理由", exact=True).fill("评分依据附件2评分表，复核无误")
        form.get_by_role("button", name="作出决定").click()
        ok(lead, f"申诉 {aid}")
        expect(lead.locator(f"#appeal-{aid}")).to_contain_text("评分依据附件2评分表，复核无误")

        # the applicant reads the decision on the project page
        page.goto(f"{base}/projects/{pid}")
        decided = page.locator(f"#appeal-decision-{aid}")
        expect(decided).to_contain_text("驳回")
        expect(decided).to_contain_text(f"{LEAD} 于")
        expect(decided).to_contain_text("评分依据附件2评分表，复核无误")
        expect(page.locator("#attachments").get_by_role("link", name="营业执照.pdf")).to_be_visible()
        shoot(artifacts, page, "journey-applicant-appeal")
    except Exception:
        pages.failed("journey-applicant-failure")
        raise
    finally:
        pages.close()
        server.stop()
