"""A whole 科创中原 (kechuang-zhongyuan) cycle in a real browser, with no command line after
`init`: the lead opens the cycle on the administration page and adds the office, the committee
members and the applicant with their passwords; the applicant submits three applications through
/apply and attaches the sealed application of one; the office accepts two and does not accept
the third; the members vote on the project pages; the lead advances each stage from the
dashboard and proposes the list, the office approves it, the lead puts it on notice and, once the
notice is over, announces the selected project from the project list. Every step is a page a
person uses (Debian's chromium under Playwright, against `evalflow serve`); the server is
restarted with a later `--now` as the dated windows go by, and the sessions, kept in the
database, stay signed in.

Screenshots at 1366 and 390 pixels wide of the cycle form, the users page, the application form
and a project page go to the artifacts folder; nothing is wider than a phone.
"""

from __future__ import annotations

from typing import Any

from tests.web.browser import PASSWORD, Story, act, acted, advance, bulk_award, expect, ok, refused
from tests.workflow.files_samples import PDF

PROGRAM = "kechuang-zhongyuan"
PARTY = "kexie"


def shoot(s: Story, page: Any, name: str) -> None:
    """The page at 1366 and at 390 pixels wide; at 390 nothing overflows the phone's width."""
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900 if width > 390 else 844})
        page.screenshot(path=str(s.artifacts / f"journey-sister-{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px at {width}px"
    page.set_viewport_size({"width": 1366, "height": 900})


def add_user(page: Any, base: str, name: str, role: str, again: str = PASSWORD) -> None:
    """The lead adds ``name`` of the provincial association with the role named ``role`` and the
    console's password (typed ``again`` the second time), on the users page."""
    page.goto(f"{base}/admin/users")
    form = page.locator("#add-user")
    form.get_by_label("用户名（登录用）").fill(name)
    form.get_by_label("角色").select_option(label=role)
    form.get_by_label("所属城市").select_option(value=PARTY)
    form.get_by_label("自行输入（两次）").check()
    form.locator('input[name="password"]').fill(PASSWORD)
    form.locator('input[name="password_again"]').fill(again)
    form.get_by_role("button", name="添加用户").click()
    if again != PASSWORD:
        return
    ok(page, name)
    expect(page.locator(f"#user-{name}")).to_contain_text("河南省科协")


def apply(page: Any, base: str, i: int, kind: str) -> int:
    """The applicant fills in the 申报书 on /apply and submits it; the new project's id."""
    page.goto(f"{base}/mine")
    page.get_by_role("link", name="填写申报表").click()
    page.wait_for_url(f"{base}/apply/**")
    page.locator('[name="f:applicant.name"]').fill(f"河南省第{i}学会")
    page.locator('[name="f:applicant.kind"]').select_option(label="全省学会")
    page.locator('[name="f:applicant.contact"]').fill("王敏")
    page.locator('[name="f:applicant.phone"]').fill("0371-6000000")
    page.locator('[name="f:project.name"]').fill(f"科技经济融合项目{i}")
    page.locator('[name="f:project.type"]').select_option(label=kind)
    page.locator('[name="f:project.summary"]').fill("围绕主导产业开展科技服务")
    page.locator('[name="f:project.against_criteria"]').fill("逐条对照评审内容说明")
    page.get_by_role("button", name="提交申报").click()
    ok(page, "申报已提交：项目")
    expect(page.locator("#state")).to_have_text("已申报")
    return int(page.url.rsplit("/", 1)[1])


def vote(page: Any, base: str, pid: int, choice: str) -> None:
    """A committee member votes on the project's page."""
    page.goto(f"{base}/projects/{pid}")
    form = page.locator("#score-form")
    form.get_by_label(choice, exact=True).check()
    form.get_by_role("button", name="投票").click()
    ok(page, f"项目 {pid} 投票已保存：{choice}")


def test_a_kechuang_cycle_with_no_command_line_after_init(story_of) -> None:
    s: Story = story_of("sister")
    base = s.base

    # Only the database and its first lead (with a password) come from the command line: until
    # then there is no one who could sign in to the console and add anybody.
    s.cli(None, "2027-03-01T09:00", "init")
    s.cli(None, "2027-03-01T09:00", "user", "add", "lead", "--role", "lead", "--city", PARTY)
    s.cli("lead", "2027-03-01T09:00", "user", "passwd", "lead", "--password-stdin", stdin=PASSWORD + "\n")

    # === Mar 1: the lead opens the cycle (one place) and adds the office, three members, the applicant
    s.server.start("2027-03-01T09:00")
    lead = s.page("lead")
    lead.goto(f"{base}/admin/cycles")
    form = lead.locator("#open-cycle")
    form.locator(f'input[name="program"][value="{PROGRAM}"]').check()
    form.get_by_label("年度").fill("2027")
    form.locator(f'input[name="{PROGRAM}.places.selected"]').fill("1")
    shoot(s, lead, "cycle")
    form.get_by_role("button", name="开启评选").click()
    ok(lead)
    add_user(lead, base, "office", "城市管理员")
    for member in ("m1", "m2", "m3"):
        add_user(lead, base, member, "评分人")
    # a mistyped password adds no one; the name, role and organization typed are kept
    refused(s, lead, "两次输入的密码不一致", action=lambda: add_user(lead, base, "ap", "申报单位", again="mistyped"))
    form = lead.locator("#add-user")
    expect(form.get_by_label("用户名（登录用）")).to_have_value("ap")
    expect(form.get_by_label("角色").locator("option:checked")).to_have_text("申报单位")
    expect(form.get_by_label("所属城市").locator("option:checked")).to_have_text("河南省科协")
    add_user(lead, base, "ap", "申报单位")
    shoot(s, lead, "users")

    # === Mar 5: the applicant submits three applications through the form
    s.server.start("2027-03-05T09:00")
    ap = s.page("ap")
    ap.goto(f"{base}/mine")
    ap.get_by_role("link", name="填写申报表").click()
    shoot(s, ap, "apply")
    kinds = ("一市一品", "一业一研报", "一企一对接")
    ids = [apply(ap, base, i, kind) for i, kind in enumerate(kinds, start=1)]
    assert ids == [1, 2, 3]
    # the first one's sealed application attached on its page (the third goes without)
    (s.tmp / "盖章申报书.pdf").write_bytes(PDF)
    ap.goto(f"{base}/projects/1")
    upload = ap.locator('form.upload:has(input[name="document"][value="sealed_application"])')
    upload.locator('input[type="file"]').set_input_files(str(s.tmp / "盖章申报书.pdf"))
    upload.get_by_role("button", name="上传", exact=True).click()
    ok(ap, "已上传盖章申报书.pdf")
    expect(ap.locator("#attachments").get_by_role("link", name="盖章申报书.pdf")).to_be_visible()

    # === Mar 10 (申报与审阅): the office accepts two and does not accept the third
    s.server.start("2027-03-10T10:00")
    office = s.page("office")
    act(office, base, 1, "accept", reason="材料齐全，予以受理")
    acted(office, 1, "受理", "已受理（评审中）", "材料齐全，予以受理")
    act(office, base, 2, "accept")
    acted(office, 2, "受理", "已受理（评审中）")
    act(office, base, 3, "reject", reason="申报材料不全")
    acted(office, 3, "不予受理", "未受理", "申报材料不全")

    # === Apr 2 (评委会投票): the lead advances; the three members vote on the project pages
    s.server.start("2027-04-02T10:00")
    advance(lead, base, "申报与审阅", "评委会投票")
    for member, votes in (("m1", ("赞成", "赞成")), ("m2", ("赞成", "不赞成")), ("m3", ("赞成", "不赞成"))):
        page = s.page(member)
        for pid, choice in zip((1, 2), votes, strict=True):
            vote(page, base, pid, choice)
    expect(page.locator("#sheets")).to_contain_text("m3")

    # === May 2 (计票排序与党组审议): the lead proposes the list, the office approves it
    s.server.start("2027-05-02T10:00")
    advance(lead, base, "评委会投票", "计票排序与党组审议")
    lead.goto(f"{base}/list")
    lead.get_by_role("button", name="提出拟入选名单").click()
    ok(lead, "名单第 1 版已提出（2 个项目）")
    office.goto(f"{base}/list")
    office.locator("#version-1").get_by_role("button", name="审议通过名单").click()
    ok(office, "名单第 1 版：已确认")
    expect(office.locator("#version-1")).to_contain_text("河南省科协 确认")

    # === May 16 (公示与发文公布): on notice; May 20, after the notice, the selected one announced
    s.server.start("2027-05-16T09:00")
    advance(lead, base, "计票排序与党组审议", "公示与发文公布")
    lead.goto(f"{base}/list")
    lead.get_by_role("button", name="公示名单").click()
    ok(lead, "名单第 1 版已公布")
    s.server.start("2027-05-20T10:00")
    bulk_award(lead, base, [1], "发文公布", "入选（已发文公布）")

    # each project's end, as its applicant reads it on its page
    for pid, state in ((1, "入选（已发文公布）"), (3, "未受理"), (2, "未入选")):
        ap.goto(f"{base}/projects/{pid}")
        expect(ap.locator("#state")).to_have_text(state)
    expect(ap.get_by_label("申诉理由")).to_be_visible()  # (a result its applicant may appeal)
    shoot(s, ap, "project")
