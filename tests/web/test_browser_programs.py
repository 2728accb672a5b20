"""Every action of every sister program, taken in a real browser through the form its program
file declares.

For each of `kechuang-zhongyuan`, `industry-alliance` and `pioneer-brand` one whole cycle is
carried through the console: the database, users, passwords and the cycle are prepared through
the command line, the applications are submitted with `evalflow project submit` (a 科创中原 cycle
with no command line after `init` is tests/web/test_journey_sister.py), and then every declared
project action is taken at least once on the project's page through its form `#act-TRIGGER` — a
choice selected by its Chinese label, a date typed into a date input, a yes/no ticked, a reason
typed — together with the cycle's actions the console has (the dashboard's advance button, the
list page's propose / object / confirm / publish, the bulk award of the project list). After
each action the page says it was done, the project's state is shown by its Chinese name, and the
history (and the record) show the parameters by their labels (考核等级：优秀, never grade=excellent).
Each program has a refusal shown on the page in the rule's own words, with the typed form kept
and the database unchanged.

The stage windows are dated, so the server runs with `--now` and is restarted as the story moves
on; the sessions live in the database, so the browsers stay signed in. Screenshots of a project
page with its declared forms, 1366 and 390 pixels wide, go to the artifacts folder.
"""

from __future__ import annotations

import pytest

from tests.web.browser import REASON, Story, act, acted, advance, bulk_award, expect, ok, refused, ticked_shown_as_yes

# tests/web/test_journey_sister.py carries each of these cycles through the console alone (no
# command line after the first user), so these older stories run on demand: `make soak`
pytestmark = pytest.mark.soak

# ------------------------------------------------------------------------------------------ 科创中原


def kechuang_application(i: int) -> dict:
    kinds = ("one_city_one_product", "one_industry_one_report", "one_enterprise_one_match")
    return {
        "applicant": {
            "name": f"河南省第{i}学会",
            "kind": "provincial_society",
            "contact": "王敏",
            "phone": "0371-6000000",
        },
        "project": {
            "name": f"科技经济融合项目{i}",
            "type": kinds[i % len(kinds)],
            "summary": "围绕主导产业开展科技服务",
            "against_criteria": "逐条对照评审内容说明",
        },
    }


def test_kechuang_review_in_a_browser(story_of) -> None:
    s: Story = story_of("kechuang")
    cli, base = s.cli, s.base
    s.users(
        "2027-03-01T09:00",
        ("lead", "kexie"),
        ("office", "city-admin", "kexie"),
        *((m, "scorer", "kexie") for m in ("m1", "m2", "m3")),
        ("ap", "applicant", "kexie"),
        signed=("lead", "office", "m1"),
    )
    cli("lead", "2027-03-01T09:00", "cycle", "open", "kechuang-zhongyuan", "--year", "2027", "--places", "selected=2")
    ids = [s.submit("ap", "2027-03-05T09:00", kechuang_application(i)) for i in (1, 2, 3, 4)]
    assert ids == [1, 2, 3, 4]

    # === 申报与审阅 (Mar 10): the office accepts three and does not accept the fourth
    s.server.start("2027-03-10T10:00")
    office = s.page("office")
    office.goto(f"{base}/projects/1")
    expect(office.locator("#state")).to_have_text("已申报")
    expect(office.locator("#act-accept")).to_contain_text("说明")
    expect(office.locator("#act-reject")).to_contain_text("不予受理理由")
    s.shoot(office, "project-kechuang")
    act(office, base, 1, "accept", reason="材料齐全，予以受理")
    acted(office, 1, "受理", "已受理（评审中）", "材料齐全，予以受理")
    for pid in (2, 3):
        act(office, base, pid, "accept")
        acted(office, pid, "受理", "已受理（评审中）")
    act(office, base, 4, "reject", reason="申报材料不全")
    acted(office, 4, "不予受理", "未受理", "申报材料不全")

    # === 评委会投票 (Apr 2): the lead advances; a member votes on the page, the others by the CLI
    s.server.start("2027-04-02T10:00")
    lead = s.page("lead")
    advance(lead, base, "申报与审阅", "评委会投票")
    m1 = s.page("m1")
    m1.goto(f"{base}/projects/1")
    vote = m1.locator("#score-form")
    vote.get_by_label("赞成", exact=True).check()
    vote.get_by_role("button", name="投票").click()
    ok(m1, "项目 1 投票已保存：赞成")
    expect(m1.locator("#sheets")).to_contain_text("m1")
    # project 2 has three votes, projects 1 and 3 two each: tied across the second (last) place
    cli("m1", "2027-04-03T09:00", "vote", "2", "--for")
    cli("m1", "2027-04-03T09:00", "vote", "3", "--against")
    cli("m2", "2027-04-03T09:00", "vote", "1", "2", "3", "--for")
    cli("m3", "2027-04-03T09:00", "vote", "2", "3", "--for")
    cli("m3", "2027-04-03T09:00", "vote", "1", "--against")

    # === 计票排序与党组审议 (May 2): a tie refused, settled; objected to, proposed again, approved
    s.server.start("2027-05-02T10:00")
    advance(lead, base, "评委会投票", "计票排序与党组审议")
    lead.goto(f"{base}/list")

    def propose_unsettled() -> None:
        lead.get_by_label("同分排序").fill("2")
        lead.get_by_role("button", name="提出拟入选名单").click()

    refused(
        s,
        lead,
        "名次分界处并列已处理：项目 1、3 以 2.0000 分并列，跨越入选项目（第 2 名）与未入选之间的分界",
        action=propose_unsettled,
    )
    lead.get_by_label("同分排序").fill("3,1")
    lead.get_by_role("button", name="提出拟入选名单").click()
    ok(lead, "名单第 1 版已提出（3 个项目）")
    expect(lead.locator("#version-1")).to_contain_text("第 1 版 · 已提出")
    office.goto(f"{base}/list")
    office.locator("#version-1").get_by_label("异议理由").fill("并列名次应以项目1优先")
    office.locator("#version-1").get_by_role("button", name="提出异议").click()
    ok(office, "名单第 1 版：已提出异议")
    expect(office.locator("#version-1")).to_contain_text("河南省科协 异议：并列名次应以项目1优先")
    lead.goto(f"{base}/list")
    lead.get_by_label("同分排序").fill("1,3")
    lead.get_by_role("button", name="提出拟入选名单").click()
    ok(lead, "名单第 2 版已提出（3 个项目）")
    office.goto(f"{base}/list")
    office.locator("#version-2").get_by_role("button", name="审议通过名单").click()
    ok(office, "名单第 2 版：已确认")
    expect(office.locator("#version-2")).to_contain_text("河南省科协 确认")

    # === 公示与发文公布 (May 16): on notice; the announcement waits for the notice to end
    s.server.start("2027-05-16T09:00")
    advance(lead, base, "计票排序与党组审议", "公示与发文公布")
    lead.goto(f"{base}/list")
    lead.get_by_role("button", name="公示名单").click()
    ok(lead, "名单第 2 版已公布")
    lead.goto(f"{base}/projects/1")
    expect(lead.locator("#state")).to_have_text("拟入选（公示中）")
    refused(
        s,
        lead,
        "公示期已满：3 天公示期至 2027-05-19",
        action=lambda: act(lead, base, 1, "award"),
    )
    expect(lead.locator("#state")).to_have_text("拟入选（公示中）")

    # (May 20) after the notice: one announced from its page, the other from the list
    s.server.start("2027-05-20T10:00")
    act(lead, base, 1, "award")
    acted(lead, 1, "发文公布", "入选（已发文公布）")
    expect(lead.locator("#act-award")).to_have_count(0)
    bulk_award(lead, base, [2], "发文公布", "入选（已发文公布）")
    s.server.stop()

    assert s.states("lead", "2027-05-21T09:00") == {1: "granted", 2: "granted", 3: "not_listed", 4: "rejected"}


# ------------------------------------------------------------------------------------------ 产业联盟

ALL_MATERIALS = ["filing_form", "charter", "member_forms", "structure", "council", "summary"]


def alliance(i: int, members: int = 12, materials: list[str] | None = None, kinds=("enterprise", "university")) -> dict:
    return {
        # founded more than a year before the 2027 year-end assessment
        "alliance": {"name": f"长三角G60科创走廊第{i}产业联盟", "industry": "ai", "founded": "2026-03-01"},
        "chair": {"name": f"理事长单位{i}", "city": "hefei", "kind": "legal_entity"},
        "secretariat": {"address": "合肥市高新区", "staff": 3, "contact": "李四 0551-1234567"},
        "materials": ALL_MATERIALS if materials is None else materials,
        "members": [
            {"name": f"成员单位{i}-{k}", "city": "合肥市" if k < 10 else "南京市", "kind": kinds[k % len(kinds)]}
            for k in range(members)
        ],
    }


def test_alliance_filing_and_assessment_in_a_browser(story_of) -> None:
    s: Story = story_of("alliance")
    cli, base = s.cli, s.base
    s.users(
        "2027-03-01T09:00",
        ("lead", "office"),
        ("chair", "applicant", "hefei"),
        ("expert", "scorer", "office"),
        signed=("lead", "chair"),
    )
    cli("lead", "2027-03-01T09:00", "cycle", "open", "industry-alliance", "--year", "2027")
    bad = alliance(2, members=8, materials=["filing_form", "member_forms"], kinds=("enterprise",))
    for i, app in ((1, alliance(1)), (2, bad), (3, alliance(3)), (4, alliance(4))):
        assert s.submit("chair", "2027-03-05T09:00", app) == i

    # === 备案申请与初审 (Mar 10): a pre-review refused for every unmet requirement, typed note kept
    s.server.start("2027-03-10T10:00")
    lead = s.page("lead")
    error = refused(
        s,
        lead,
        "申报材料齐全：6 项必备材料中缺少 4 项：联盟章程、人员机构设置及运行管理制度",
        "成员单位不少于10家：联盟有 8 家成员单位，至少需要 10 家",
        "成员单位包括企业及高校或科研院所：",
        action=lambda: act(lead, base, 2, "accept", reason="材料初审"),
    )
    expect(error).to_contain_text("无法执行“初审通过”（项目 2")
    expect(lead.locator("#act-accept").get_by_label("说明")).to_have_value("材料初审")
    expect(lead.locator("#state")).to_have_text("已申请备案")
    act(lead, base, 2, "reject", reason="不符合备案条件")
    acted(lead, 2, "初审不通过", "初审未通过", "不符合备案条件")
    act(lead, base, 1, "accept", reason="材料齐全")
    acted(lead, 1, "初审通过", "初审通过", "材料齐全")
    s.server.stop()
    cli("lead", "2027-03-10T09:00", "project", "accept", "3")
    cli("lead", "2027-03-10T09:00", "project", "accept", "4")

    # === 联席办主任办公会 (Jul 10): the meeting's decision, chosen by its Chinese label
    s.server.start("2027-07-10T10:00")
    advance(lead, base, "备案申请与初审", "联席办主任办公会")
    act(lead, base, 1, "decide", choose={"审议结果": "同意备案"})
    acted(lead, 1, "办公会审议", "办公会通过", "审议结果：同意备案", record=("审议结果：同意备案",))
    assert "approve" not in lead.locator("#history").inner_text()
    act(lead, base, 4, "decide", choose={"审议结果": "不同意备案"}, reason="暂缓备案")
    acted(lead, 4, "办公会审议", "办公会未通过", "暂缓备案；审议结果：不同意备案")
    s.server.stop()
    cli("lead", "2027-07-10T09:00", "project", "act", "decide", "3", "-p", "result=approve")

    # === 公布备案与年度考核 (Aug 2): filed, one from its page and one from the list
    s.server.start("2027-08-02T10:00")
    advance(lead, base, "联席办主任办公会", "公布备案与年度考核")
    act(lead, base, 1, "award")
    acted(lead, 1, "公布备案", "已备案")
    bulk_award(lead, base, [3], "公布备案", "已备案")

    # === the year-end assessment (Dec 5): the chair's report, the expert's visit, the grades
    s.server.start("2027-12-05T10:00")
    chair = s.page("chair")
    act(chair, base, 1, "self_assess", fill={"自评报告": "全年开展活动12次，新增会员单位3家"})
    acted(chair, 1, "提交年度自评报告", "已备案", record=("自评报告：全年开展活动12次，新增会员单位3家",))
    # the visit is the lead's here: an expert (a scorer of the office) may visit, but the console
    # does not show them a Hefei alliance ("No project 1."), so the expert's visit is the CLI's
    act(lead, base, 1, "visit", fill={"考察记录": "秘书处运转正常"})
    acted(lead, 1, "专家实地考察", "已备案", record=("考察记录：秘书处运转正常",))
    s.server.stop()
    cli("chair", "2027-12-05T09:00", "project", "act", "self_assess", "3", "-p", "report=自评报告")
    cli("expert", "2027-12-05T09:00", "project", "act", "visit", "3", "-p", "notes=实地考察")
    s.server.start("2027-12-06T10:00")

    lead.goto(f"{base}/projects/1")
    for form in ("visit", "assess", "order_rectification", "remove"):
        expect(lead.locator(f"#act-{form}")).to_be_visible()
    s.shoot(lead, "project-alliance")
    act(lead, base, 1, "assess", choose={"考核等级": "优秀"})
    acted(lead, 1, "年度考核评定", "已备案", "考核等级：优秀", record=("考核等级：优秀",))
    assert "excellent" not in lead.locator("main").inner_text()
    act(lead, base, 3, "assess", choose={"考核等级": "不合格"}, reason="会员单位活动不足")
    acted(lead, 3, "年度考核评定", "考核不合格", "考核等级：不合格")

    # an order to rectify by a day already past: refused, the typed date and reason kept
    def order_past() -> None:
        act(lead, base, 3, "order_rectification", fill={"整改期限": "2027-12-01"}, reason="约谈理事长单位")

    refused(s, lead, "限期整改须明确期限：整改期限 2027-12-01 不晚于今天（2027-12-06）", action=order_past)
    form = lead.locator("#act-order_rectification")
    expect(form.get_by_label("整改期限")).to_have_value("2027-12-01")
    expect(form.get_by_label(REASON)).to_have_value("约谈理事长单位")
    expect(lead.locator("#state")).to_have_text("考核不合格")
    act(lead, base, 3, "order_rectification", fill={"整改期限": "2028-03-31"}, reason="约谈理事长单位，限期整改")
    acted(lead, 3, "责令限期整改", "限期整改中", "整改期限：2028-03-31", record=("整改期限：2028-03-31",))

    # (Mar 20) rectified and restored; the other revoked at once for major problems
    s.server.start("2028-03-20T10:00")
    act(lead, base, 3, "restore", reason="整改到位")
    acted(lead, 3, "整改到位，恢复", "已备案", "整改到位")
    act(lead, base, 1, "remove", tick=("存在重大问题",), reason="发现重大违规")
    acted(lead, 1, "撤销备案", "已撤销", "发现重大违规；存在重大问题：")
    ticked_shown_as_yes(lead, "存在重大问题")
    s.server.stop()

    assert s.states("lead", "2028-03-21T09:00") == {1: "removed", 2: "rejected", 3: "awarded", 4: "declined"}


# ------------------------------------------------------------------------------------------ 先锋号


def pioneer_application(unit: str) -> dict:
    return {
        "unit": {"name": unit, "kind": "enterprise"},
        "mode": "alone",
        "pioneer": {"name": "赵先锋", "role": "leader"},
        "plan": {"name": f"{unit}先锋号共建", "targets": "“五个一”目标清单"},
        "contact": "张三 0773-1234567",
        "partners": [],
    }


def test_pioneer_co_building_in_a_browser(story_of) -> None:
    s: Story = story_of("pioneer")
    cli, base = s.cli, s.base
    s.users(
        "2027-01-05T09:00",
        ("lead", "bureau"),
        ("wg", "city-admin", "bureau"),
        ("ap", "applicant", "bureau"),
        signed=("lead", "wg"),
    )
    cli("lead", "2027-01-05T09:00", "cycle", "open", "pioneer-brand", "--year", "2027")
    for i, unit in enumerate(("甲科技公司党支部", "乙大学党委", "丙研究所党支部"), start=1):
        assert s.submit("ap", "2027-01-10T09:00", pioneer_application(unit)) == i

    # === February: the working group evaluates only in March and September; the choice is kept
    s.server.start("2027-02-10T10:00")
    wg = s.page("wg")

    def evaluate_in_february() -> None:
        act(wg, base, 1, "evaluate", choose={"评审结果": "通过"}, reason="材料完整")

    refused(s, wg, "在规定月份办理：此事项在3月、9月办理（今天是 2027-02-10）", action=evaluate_in_february)
    form = wg.locator("#act-evaluate")
    expect(form.get_by_label("评审结果")).to_have_value("pass")
    expect(form.get_by_label("评审结果").locator("option:checked")).to_have_text("通过")
    expect(form.get_by_label(REASON)).to_have_value("材料完整")
    expect(wg.locator("#state")).to_have_text("已申报（待集中评审）")

    # === the March round
    s.server.start("2027-03-10T10:00")
    act(wg, base, 1, "evaluate", choose={"评审结果": "通过"}, reason="材料完整")
    acted(wg, 1, "集中评审", "评审通过（待党组研究）", "材料完整；评审结果：通过", record=("评审结果：通过",))
    act(wg, base, 3, "evaluate", choose={"评审结果": "不通过"})
    acted(wg, 3, "集中评审", "评审未通过", "评审结果：不通过")
    lead = s.page("lead")
    act(lead, base, 1, "decide", choose={"研究结果": "同意"})
    acted(lead, 1, "党组研究", "党组研究通过", "研究结果：同意", record=("研究结果：同意",))
    s.server.stop()
    cli("wg", "2027-03-10T09:00", "project", "act", "evaluate", "2", "-p", "result=pass")
    cli("lead", "2027-03-10T09:00", "project", "act", "decide", "2", "-p", "result=approve")
    s.server.start("2027-03-11T10:00")
    act(lead, base, 1, "award")
    acted(lead, 1, "授牌", "已授牌", record=("授牌",))
    bulk_award(lead, base, [2], "授牌", "已授牌")

    # progress on a target, chosen by its label; the record shows it by its label
    act(wg, base, 1, "progress", choose={"共建目标": "打造一个党建阵地"}, fill={"完成情况": "党建阵地建成"})
    acted(
        wg,
        1,
        "记录共建进展",
        "已授牌",
        "共建目标：打造一个党建阵地；完成情况：党建阵地建成",
        record=("共建目标：打造一个党建阵地", "完成情况：党建阵地建成"),
    )
    assert "venue" not in wg.locator("main").inner_text()

    # rectification by a deadline, restoration, and a plaque removed for major problems
    lead.goto(f"{base}/projects/1")
    for form_id in ("order_rectification", "remove"):
        expect(lead.locator(f"#act-{form_id}")).to_be_visible()
    s.shoot(lead, "project-pioneer")
    act(lead, base, 1, "order_rectification", fill={"整改期限": "2027-06-30"}, reason="阵地活动不足")
    acted(lead, 1, "责令限期整改", "限期整改中", "阵地活动不足；整改期限：2027-06-30", record=("整改期限：2027-06-30",))
    act(lead, base, 1, "restore")
    acted(lead, 1, "整改到位，恢复", "已授牌")
    act(lead, base, 2, "remove", tick=("存在重大问题",), reason="出现重大问题")
    acted(lead, 2, "摘牌", "已摘牌", "出现重大问题；存在重大问题：")
    s.server.stop()

    assert s.states("lead", "2027-03-12T09:00") == {1: "awarded", 2: "removed", 3: "not_passed"}
    ticked_shown_as_yes(lead, "存在重大问题")
