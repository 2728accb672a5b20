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

The two other sister programs go the same way, each to its last act. 产业联盟 (industry-alliance):
the office opens the year's filing and adds a Hefei chair unit and an expert; the chair files four
alliances on /apply with their member units as the form's rows and uploads the required
documents; the office's pre-review (a thin one refused in the rule's words, then not passed),
the meeting's decision, the filing published from a page and from the list, the chair's
self-assessments, the expert's visits, the grades, an order to rectify, the restoration and a
revocation for major problems. 先锋号 (pioneer-brand): the bureau adds its working group and an
applicant; a joint application naming no liaison is refused with its rows kept, then one joint and
three single applications; the March round, the party group's decisions, the plaques, progress on
a target, rectification and restoration, a plaque removed.

Screenshots at 1366 and 390 pixels wide of the cycle form, the users page, the application forms
and project pages go to the artifacts folder; nothing is wider than a phone.
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


def first_lead(s: Story, when: str, party: str) -> None:
    """The database and its first lead, with a password, from the command line: until then there
    is no one who could sign in to the console and add anybody."""
    s.cli(None, when, "init")
    s.cli(None, when, "user", "add", "lead", "--role", "lead", "--city", party)
    s.cli("lead", when, "user", "passwd", "lead", "--password-stdin", stdin=PASSWORD + "\n")


def open_cycle(page: Any, base: str, program: str, year: str, places: dict[str, str] | None = None) -> None:
    """The lead opens the program's cycle of ``year`` on the cycles page (``places`` typed per
    list category); the shots of the form are ``s``'s to take before the click."""
    page.goto(f"{base}/admin/cycles")
    form = page.locator("#open-cycle")
    form.locator(f'input[name="program"][value="{program}"]').check()
    form.get_by_label("年度").fill(year)
    for category, n in (places or {}).items():
        form.locator(f'input[name="{program}.places.{category}"]').fill(n)


def add_user(
    page: Any,
    base: str,
    name: str,
    role: str,
    again: str = PASSWORD,
    party: str = PARTY,
    party_name: str = "河南省科协",
) -> None:
    """The lead adds ``name`` of ``party`` with the role named ``role`` and the console's password
    (typed ``again`` the second time), on the users page."""
    page.goto(f"{base}/admin/users")
    form = page.locator("#add-user")
    form.get_by_label("用户名（登录用）").fill(name)
    form.get_by_label("角色").select_option(label=role)
    form.get_by_label("所属城市").select_option(value=party)
    form.get_by_label("自行输入（两次）").check()
    form.locator('input[name="password"]').fill(PASSWORD)
    form.locator('input[name="password_again"]').fill(again)
    form.get_by_role("button", name="添加用户").click()
    if again != PASSWORD:
        return
    ok(page, name)
    expect(page.locator(f"#user-{name}")).to_contain_text(party_name)


def fill_in(
    page: Any,
    text: dict[str, str],
    choose: dict[str, str] | None = None,
    tick: tuple[str, ...] = (),
    rows: list[dict[str, str]] | None = None,
) -> None:
    """The application form on /apply filled in: ``text`` typed and ``choose`` selected by its
    Chinese label (by field path), the list's ``tick`` ticked (path=code), and the repeated group's
    ``rows`` (a column of choices selected by its label), "add a member" clicked for more rows."""
    for path, value in text.items():
        page.locator(f'[name="f:{path}"]').fill(value)
    for path, label in (choose or {}).items():
        page.locator(f'[name="f:{path}"]').select_option(label=label)
    for item in tick:
        path, code = item.split("=")
        page.locator(f'input[name="f:{path}"][value="{code}"]').check()
    for i, row in enumerate(rows or []):
        while page.locator("#group-rows .member").count() <= i:
            page.locator("#more-rows").click()
        for column, value in row.items():
            cell = page.locator(f'[name="g:{i}:{column}"]')
            if cell.evaluate("e => e.tagName") == "SELECT":
                cell.select_option(label=value)
            else:
                cell.fill(value)


def send(page: Any, base: str, **form: Any) -> None:
    """The applicant opens the form from their page, fills it in (as ``fill_in``) and submits it."""
    page.goto(f"{base}/mine")
    page.get_by_role("link", name="填写申报表").click()
    page.wait_for_url(f"{base}/apply**")
    fill_in(page, **form)
    page.get_by_role("button", name="提交申报").click()


def submit(page: Any, base: str, state: str, **form: Any) -> int:
    """The applicant opens the form from their page, fills it in and submits it; the new
    project's id (its page says it is in ``state``)."""
    send(page, base, **form)
    ok(page, "申报已提交：项目")
    expect(page.locator("#state")).to_have_text(state)
    return int(page.url.rsplit("/", 1)[1])


def apply(page: Any, base: str, i: int, kind: str) -> int:
    """The applicant fills in the 申报书 on /apply and submits it; the new project's id."""
    text = {
        "applicant.name": f"河南省第{i}学会",
        "applicant.contact": "王敏",
        "applicant.phone": "0371-6000000",
        "project.name": f"科技经济融合项目{i}",
        "project.summary": "围绕主导产业开展科技服务",
        "project.against_criteria": "逐条对照评审内容说明",
    }
    return submit(page, base, "已申报", text=text, choose={"applicant.kind": "全省学会", "project.type": kind})


def attach(s: Story, page: Any, pid: int, document: str, name: str) -> None:
    """The applicant uploads a PDF as the project's ``document`` on its page; the page lists it."""
    (s.tmp / name).write_bytes(PDF)
    page.goto(f"{s.base}/projects/{pid}")
    upload = page.locator(f'form.upload:has(input[name="document"][value="{document}"])')
    upload.locator('input[type="file"]').set_input_files(str(s.tmp / name))
    upload.get_by_role("button", name="上传", exact=True).click()
    ok(page, f"已上传{name}")
    expect(page.locator("#attachments").get_by_role("link", name=name)).to_be_visible()


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

    # Only the database and its first lead (with a password) come from the command line
    first_lead(s, "2027-03-01T09:00", PARTY)

    # === Mar 1: the lead opens the cycle (one place) and adds the office, three members, the applicant
    s.server.start("2027-03-01T09:00")
    lead = s.page("lead")
    open_cycle(lead, base, PROGRAM, "2027", {"selected": "1"})
    shoot(s, lead, "cycle")
    lead.locator("#open-cycle").get_by_role("button", name="开启评选").click()
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
    attach(s, ap, 1, "sealed_application", "盖章申报书.pdf")

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


# ------------------------------------------------------------------------------------------ 产业联盟

ALL_MATERIALS = ("filing_form", "charter", "member_forms", "structure", "council", "summary")


def alliance(page: Any, base: str, i: int, members: int = 10, materials: tuple[str, ...] = ALL_MATERIALS) -> int:
    """The chair unit files alliance ``i`` on /apply with ``members`` member units (the last of ten
    registered outside Hefei, enterprises and universities by turns); the new project's id."""
    text = {
        "alliance.name": f"长三角G60科创走廊第{i}产业联盟",
        "alliance.founded": "2026-03-01",  # more than a year before the 2027 year-end assessment
        "chair.name": f"理事长单位{i}",
        "secretariat.address": "合肥市高新区",
        "secretariat.staff": "3",
        "secretariat.contact": "李四 0551-1234567",
    }
    rows = [
        {"name": f"成员单位{i}-{k}", "city": "合肥市" if k < 9 else "南京市", "kind": ("企业", "高校")[k % 2]}
        for k in range(members)
    ]
    choose = {"alliance.industry": "人工智能", "chair.kind": "独立法人单位"}
    tick = tuple(f"materials={m}" for m in materials)
    return submit(page, base, "已申请备案", text=text, choose=choose, tick=tick, rows=rows)


def test_an_alliance_cycle_with_no_command_line_after_init(story_of) -> None:
    s: Story = story_of("sister-alliance")
    base = s.base
    first_lead(s, "2027-03-01T09:00", "office")

    # === Mar 1: the office opens the year's filing and adds the chair unit of Hefei and an expert
    s.server.start("2027-03-01T09:00")
    lead = s.page("lead")
    open_cycle(lead, base, "industry-alliance", "2027")
    lead.locator("#open-cycle").get_by_role("button", name="开启评选").click()
    ok(lead)
    add_user(lead, base, "chair", "申报单位", party="hefei", party_name="合肥市")
    add_user(lead, base, "expert", "评分人", party="office", party_name="G60联席办")

    # === Mar 5: the chair files four alliances through the form, member units as its rows
    s.server.start("2027-03-05T09:00")
    chair = s.page("chair")
    chair.goto(f"{base}/apply")
    shoot(s, chair, "alliance-apply")
    ids = [alliance(chair, base, i) for i in (1, 2, 3)]
    ids.append(alliance(chair, base, 4, members=2, materials=("filing_form",)))
    assert ids == [1, 2, 3, 4]
    attach(s, chair, 1, "charter", "联盟章程.pdf")
    attach(s, chair, 1, "member_forms", "会员单位申请表.pdf")
    expect(chair.locator("main")).to_contain_text("成员单位1-9")

    # === Mar 10 (备案申请与初审): three pass the pre-review, the thin one does not (refused first)
    s.server.start("2027-03-10T10:00")
    refused(
        s,
        lead,
        "成员单位不少于10家：联盟有 2 家成员单位，至少需要 10 家",
        action=lambda: act(lead, base, 4, "accept", reason="材料初审"),
    )
    expect(lead.locator("#act-accept").get_by_label("说明")).to_have_value("材料初审")
    for pid in (1, 2, 3):
        act(lead, base, pid, "accept", reason="材料齐全")
        acted(lead, pid, "初审通过", "初审通过")
    act(lead, base, 4, "reject", reason="成员单位不足")
    acted(lead, 4, "初审不通过", "初审未通过", "成员单位不足")

    # === Jul 10 (联席办主任办公会): two approved, one not
    s.server.start("2027-07-10T10:00")
    advance(lead, base, "备案申请与初审", "联席办主任办公会")
    for pid in (1, 2):
        act(lead, base, pid, "decide", choose={"审议结果": "同意备案"})
        acted(lead, pid, "办公会审议", "办公会通过", "审议结果：同意备案")
    act(lead, base, 3, "decide", choose={"审议结果": "不同意备案"}, reason="暂缓备案")
    acted(lead, 3, "办公会审议", "办公会未通过", "暂缓备案；审议结果：不同意备案")

    # === Aug 2 (公布备案与年度考核): filed, one from its page and one from the list
    s.server.start("2027-08-02T10:00")
    advance(lead, base, "联席办主任办公会", "公布备案与年度考核")
    act(lead, base, 1, "award")
    acted(lead, 1, "公布备案", "已备案")
    bulk_award(lead, base, [2], "公布备案", "已备案")

    # === Dec 5, the year-end assessment: the chair's reports, the site visits, the grades
    s.server.start("2027-12-05T10:00")
    for pid in (1, 2):
        act(chair, base, pid, "self_assess", fill={"自评报告": "全年开展活动12次"})
        acted(chair, pid, "提交年度自评报告", "已备案", record=("自评报告：全年开展活动12次",))
    expert = s.page("expert")
    for pid in (1, 2):
        act(expert, base, pid, "visit", fill={"考察记录": "秘书处运转正常"})
        acted(expert, pid, "专家实地考察", "已备案", record=("考察记录：秘书处运转正常",))
    act(lead, base, 1, "assess", choose={"考核等级": "优秀"})
    acted(lead, 1, "年度考核评定", "已备案", "考核等级：优秀")
    act(lead, base, 2, "assess", choose={"考核等级": "不合格"}, reason="会员单位活动不足")
    acted(lead, 2, "年度考核评定", "考核不合格", "考核等级：不合格")
    act(lead, base, 2, "order_rectification", fill={"整改期限": "2028-03-31"}, reason="限期整改")
    acted(lead, 2, "责令限期整改", "限期整改中", "整改期限：2028-03-31")
    shoot(s, lead, "alliance-project")

    # === 2028, Mar 20: one rectified and restored, the other revoked for major problems
    s.server.start("2028-03-20T10:00")
    act(lead, base, 2, "restore", reason="整改到位")
    acted(lead, 2, "整改到位，恢复", "已备案", "整改到位")
    act(lead, base, 1, "remove", tick=("存在重大问题",), reason="发现重大违规")
    acted(lead, 1, "撤销备案", "已撤销", "发现重大违规；存在重大问题：是")

    # each alliance's end, as its chair reads it
    for pid, state in ((1, "已撤销"), (2, "已备案"), (3, "办公会未通过"), (4, "初审未通过")):
        chair.goto(f"{base}/projects/{pid}")
        expect(chair.locator("#state")).to_have_text(state)


# ------------------------------------------------------------------------------------------ 先锋号


def pioneer_form(unit: str, partners: tuple[str, ...] = (), liaisons: bool = True) -> dict[str, Any]:
    """The application of ``unit``, alone or jointly with ``partners`` (each with a liaison unless
    not ``liaisons``) as the form's rows."""
    text = {
        "unit.name": unit,
        "pioneer.name": "赵先锋",
        "plan.name": f"{unit}先锋号共建",
        "plan.targets": "“五个一”目标清单",
        "contact": "张三 0773-1234567",
    }
    choose = {"unit.kind": "科技企业", "mode": "联合申报" if partners else "独立申报", "pioneer.role": "学科技术带头人"}
    rows = [{"name": p, "liaison": f"{p}联络员"} if liaisons else {"name": p} for p in partners]
    return {"text": text, "choose": choose, "rows": rows}


def pioneer(page: Any, base: str, unit: str, partners: tuple[str, ...] = ()) -> int:
    """A party organization applies on /apply (``pioneer_form``); the new project's id."""
    return submit(page, base, "已申报（待集中评审）", **pioneer_form(unit, partners))


def test_a_pioneer_cycle_with_no_command_line_after_init(story_of) -> None:
    s: Story = story_of("sister-pioneer")
    base = s.base
    first_lead(s, "2027-01-05T09:00", "bureau")

    # === Jan 5: the bureau opens the year's co-building and adds the working group and an applicant
    s.server.start("2027-01-05T09:00")
    lead = s.page("lead")
    open_cycle(lead, base, "pioneer-brand", "2027")
    lead.locator("#open-cycle").get_by_role("button", name="开启评选").click()
    ok(lead)
    add_user(lead, base, "wg", "城市管理员", party="bureau", party_name="市科学技术局")
    add_user(lead, base, "ap", "申报单位", party="bureau", party_name="市科学技术局")

    # === Jan 10: four applications through the form, one jointly with two co-building units
    s.server.start("2027-01-10T09:00")
    ap = s.page("ap")
    # a joint application whose co-building unit names no liaison is refused, the rows kept
    refused(
        s,
        ap,
        "联合申报的共建单位及联络员：第 1 家共建单位（戊大学党委）未指定联络员",
        action=lambda: send(ap, base, **pioneer_form("丁科技公司党支部", ("戊大学党委",), liaisons=False)),
    )
    expect(ap.locator('[name="g:0:name"]')).to_have_value("戊大学党委")
    units = ("甲科技公司党支部", "乙科技公司党支部", "丙科技公司党支部")
    ids = [pioneer(ap, base, "丁科技公司党支部", partners=("戊大学党委", "己研究所党支部"))]
    ids += [pioneer(ap, base, unit) for unit in units]
    assert ids == [1, 2, 3, 4]
    attach(s, ap, 1, "co_building_plan", "共建方案.pdf")
    expect(ap.locator("main")).to_contain_text("己研究所党支部联络员")
    shoot(s, ap, "pioneer-applied")

    # === the March round: the working group evaluates, the party group decides, plaques awarded
    s.server.start("2027-03-10T10:00")
    wg = s.page("wg")
    for pid, result in ((1, "通过"), (2, "通过"), (3, "通过"), (4, "不通过")):
        act(wg, base, pid, "evaluate", choose={"评审结果": result})
    acted(wg, 4, "集中评审", "评审未通过", "评审结果：不通过")
    for pid, result in ((1, "同意"), (2, "同意"), (3, "不同意")):
        act(lead, base, pid, "decide", choose={"研究结果": result})
    acted(lead, 3, "党组研究", "党组研究未通过", "研究结果：不同意")
    act(lead, base, 1, "award")
    acted(lead, 1, "授牌", "已授牌")
    bulk_award(lead, base, [2], "授牌", "已授牌")

    # === Jun 10: progress on a target; one unit ordered to rectify, the other's plaque removed
    s.server.start("2027-06-10T10:00")
    act(wg, base, 1, "progress", choose={"共建目标": "打造一个党建阵地"}, fill={"完成情况": "党建阵地建成"})
    acted(wg, 1, "记录共建进展", "已授牌", "共建目标：打造一个党建阵地；完成情况：党建阵地建成")
    act(lead, base, 1, "order_rectification", fill={"整改期限": "2027-08-31"}, reason="阵地活动不足")
    acted(lead, 1, "责令限期整改", "限期整改中", "整改期限：2027-08-31")
    act(lead, base, 2, "remove", tick=("存在重大问题",), reason="出现重大问题")
    acted(lead, 2, "摘牌", "已摘牌", "出现重大问题；存在重大问题：是")
    shoot(s, lead, "pioneer-project")

    # === Aug 20: rectified in time, the plaque kept
    s.server.start("2027-08-20T10:00")
    act(lead, base, 1, "restore", reason="整改到位")
    acted(lead, 1, "整改到位，恢复", "已授牌", "整改到位")

    for pid, state in ((1, "已授牌"), (2, "已摘牌"), (3, "党组研究未通过"), (4, "评审未通过")):
        ap.goto(f"{base}/projects/{pid}")
        expect(ap.locator("#state")).to_have_text(state)
