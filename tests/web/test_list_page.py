"""The list page: each list action shown only when the engine says it can be taken now (by
role, stage and the list's status), one line saying why when none can, the list's true status
(确认中 3/9, every party's confirmation before the stage closes), and what changed between
versions, with the cause, by names not ids."""

from __future__ import annotations

import re

import pytest

import i18n
from tests.conftest import CITIES, LEAD, admin, applicant, scorer, sh, snapshot
from tests.web.conftest import csrf_of

CYCLE = "g60-2027"
SHEET_TOP = {"value": 20, "organization": 30, "effectiveness": 30, "mechanism": 20}  # 100

FORMS = {
    "propose": f'action="/cycles/{CYCLE}/list/propose"',
    "confirm": f'action="/cycles/{CYCLE}/list/confirm"',
    "object": f'action="/cycles/{CYCLE}/list/object"',
    "publish": f'action="/cycles/{CYCLE}/list/publish"',
    "advance": f'action="/cycles/{CYCLE}/advance"',
}


def shown(html: str) -> set[str]:
    """The list actions whose forms the page shows."""
    return {name for name, mark in FORMS.items() if mark in html}


def waiting(html: str) -> str:
    found = re.search(r'<p class="hint" id="list-waiting">(.*?)</p>', html, re.S)
    return found.group(1).strip() if found else ""


def status_line(html: str) -> str:
    found = re.search(r'<p id="list-status">(.*?)</p>', html, re.S)
    return found.group(1).strip() if found else ""


@pytest.mark.parametrize(
    ("checkpoint", "user", "expected"),
    [
        ("joint_scoring", LEAD, set()),
        ("joint_scoring", admin("hefei"), set()),
        ("proposed", LEAD, {"propose"}),  # a new version supersedes the proposed one
        ("proposed", admin("hefei"), {"confirm", "object"}),
        ("published", scorer("hefei"), set()),  # (before publication they read no list: below)
        ("published", applicant("hefei"), set()),
        ("confirmed", LEAD, {"publish"}),
        ("confirmed", admin("hefei"), set()),
        ("published", LEAD, set()),
        ("published", admin("wuhu"), set()),
    ],
    ids=lambda v: v if isinstance(v, str) else ",".join(sorted(v)) or "none",
)
def test_each_list_action_is_shown_only_when_it_can_be_taken(web, checkpoint, user, expected):
    w = web(checkpoint)
    page = w.browser(user).get(f"/list?cycle={CYCLE}")
    assert page.status_code == 200
    assert shown(page.text) == expected
    opened = w.s.engine.list_actions(user, CYCLE)
    assert set(opened.open) == expected - {"advance"}
    assert bool(waiting(page.text)) == (not expected)


@pytest.mark.parametrize("user", [scorer("hefei"), applicant("hefei")])
def test_before_publication_a_scorer_or_applicant_is_refused_the_list_page(web, user):
    """The program's read_unpublished_list (G60: the lead and the cities' administrators)."""
    w = web("proposed")
    page = w.browser(user).get(f"/list?cycle={CYCLE}")
    assert page.status_code == 403
    # (the console reads Chinese: the rule by its Chinese name, not its id)
    assert "名单查阅范围" in page.text and "94.0000" not in page.text


def test_the_line_says_why_nothing_can_be_done_in_chinese(web):
    w = web("joint_scoring")
    page = w.browser(LEAD).get(f"/list?cycle={CYCLE}")
    assert waiting(page.text) == "名单尚未提出；由松江区在“确认”阶段提出。"
    w = web("confirmed")
    page = w.browser(admin("hefei")).get(f"/list?cycle={CYCLE}")
    assert waiting(page.text) == "名单第 1 版已确认；由松江区在“公布与授牌”阶段公布。"
    w = web("published")
    page = w.browser(admin("hefei")).get(f"/list?cycle={CYCLE}")
    assert waiting(page.text) == "名单第 1 版已公布。"
    assert status_line(page.text) == "当前第 1 版：已公布"


def test_the_status_counts_confirmations_and_after_all_nine_is_not_proposed(web):
    w = web("proposed")
    lead = w.browser(LEAD)
    assert status_line(lead.get(f"/list?cycle={CYCLE}").text) == "当前第 1 版：已提出"
    w.s.clock.set(sh(6, 1))
    for n, city in enumerate(CITIES, start=1):
        w.s.engine.confirm_list(admin(city))
        if n == 3:
            assert status_line(lead.get(f"/list?cycle={CYCLE}").text) == "当前第 1 版：确认中 3/9"
            mine = w.browser(admin(city)).get(f"/list?cycle={CYCLE}").text
            assert shown(mine) == set()  # confirmed once: neither again nor an objection
            assert waiting(mine) == "您已确认名单第 1 版；其他各方正在确认（3/9）。"
    page = lead.get(f"/list?cycle={CYCLE}").text
    assert status_line(page) == "当前第 1 版：各方均已确认（9/9）"
    assert "已提出" not in status_line(page)
    assert shown(page) == {"propose", "advance"}  # the lead closes the stage from here
    other = w.browser(admin("hefei")).get(f"/list?cycle={CYCLE}").text
    assert waiting(other) == "各方均已确认名单第 1 版；由松江区关闭“确认”阶段，然后公布。"
    # the dashboard says the same
    assert "各方均已确认（9/9）" in lead.get(f"/?cycle={CYCLE}").text
    # closing the stage from the list page confirms it
    r = lead.post(
        f"/cycles/{CYCLE}/advance",
        data={"csrf": csrf_of(page)},
        headers={"referer": f"http://testserver/list?cycle={CYCLE}"},
    )
    assert r.status_code == 303
    page = lead.get(f"/list?cycle={CYCLE}").text
    assert status_line(page) == "当前第 1 版：已确认"
    assert shown(page) == {"publish"}


def test_in_english_the_status_and_the_line_read_english(web):
    w = web("proposed")
    w.s.clock.set(sh(6, 1))
    w.s.engine.confirm_list(admin("hefei"))
    with i18n.using("en"):
        w.s.engine.set_language(admin("hefei"), "en")
        page = w.browser(admin("hefei")).get(f"/list?cycle={CYCLE}").text
    assert status_line(page) == "Current version 1: Being confirmed 1/9"
    assert waiting(page) == "You have confirmed list version 1; the others are confirming (1/9)."


def test_a_second_version_after_an_upheld_appeal_says_what_changed_and_why(web):
    w = web("proposed")
    s = w.s
    pid = s.mid[0]  # jiaxing's, rank 3, excellent
    a = s.engine.file_appeal(applicant("jiaxing"), pid, "两张评分表填反了")
    s.engine.decide_appeal(LEAD, a.id, "uphold", reopen_to="joint_scoring", reason="评分表填反，重新评分")
    s.clock.set(sh(5, 21))
    for c in CITIES:
        s.engine.score(scorer(c), pid, SHEET_TOP, completion="基本完成")
    s.engine.propose_list(LEAD, tie_order=s.high)
    page = w.browser(LEAD).get(f"/list?cycle={CYCLE}").text
    table = re.search(r'<table class="grid changes" id="changes-2">(.*?)</table>', page, re.S)
    assert table, page[:3000]
    rows = [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
        if "<td>" in row
    ]
    _, versions, _ = s.engine.list_versions(LEAD, CYCLE)
    names = {e.project_id: e.project_name for e in versions[0].entries}
    program = s.engine.program_of(s.engine.get_cycle(CYCLE))
    demo, excellent = program.category_name("demonstration"), program.category_name("excellent")
    cause = f"申诉 {a.id} 获支持：评分表填反，重新评分"
    assert rows[0] == [names[pid], "嘉兴市", "名次或类别变化", f"第 3 名 · {excellent}", f"第 1 名 · {demo}", cause]
    assert [r[0] for r in rows] == [names[pid], names[s.high[0]], names[s.high[1]]]
    assert rows[2][3:5] == [f"第 2 名 · {demo}", f"第 3 名 · {excellent}"]
    assert rows[2][5] == "申诉获支持后更正"
    assert str(pid) not in {r[0] for r in rows}  # names, not ids


def test_a_second_version_after_an_objection_names_the_objection(web):
    w = web("proposed")
    s = w.s
    s.clock.set(sh(6, 1))
    s.engine.confirm_list(admin("wuhu"), decision="object", reason="第 5 名得分有误")
    assert shown(w.browser(LEAD).get(f"/list?cycle={CYCLE}").text) == {"propose"}
    assert (
        waiting(w.browser(admin("hefei")).get(f"/list?cycle={CYCLE}").text) == "名单第 1 版有异议；由松江区提出新版本。"
    )
    s.engine.propose_list(LEAD)
    page = w.browser(LEAD).get(f"/list?cycle={CYCLE}").text
    assert "无项目进入、退出或变动。" in page


def test_a_refused_list_action_changes_nothing_and_keeps_the_reason(web):
    w = web("proposed")
    w.s.clock.set(sh(6, 1))
    client = w.browser(admin("hefei"))
    page = client.get(f"/list?cycle={CYCLE}").text
    w.s.engine.confirm_list(admin("hefei"))  # confirmed meanwhile, in another tab
    before = snapshot(w.s.store)
    r = client.post(
        f"/cycles/{CYCLE}/list/object",
        data={"csrf": csrf_of(page), "reason": "第 5 名得分有误"},
        headers={"referer": f"http://testserver/list?cycle={CYCLE}"},
    )
    assert r.status_code == 303
    assert snapshot(w.s.store) == before
    back = client.get(r.headers["location"]).text
    assert "合肥市已确认名单第 1 版" in back  # the rule, with its numbers


# ------------------------------------------------------------------------------------------ the API and who may
def test_the_api_reads_the_open_list_actions(web):
    w = web("proposed")
    body = w.api(admin("hefei")).get(f"/api/cycles/{CYCLE}/list/actions").json()
    assert (body["version"], body["status"], body["open"], body["parties"]) == (1, "proposed", ["confirm", "object"], 9)
    assert body["refused"] == {}
    w = web("joint_scoring")
    body = w.api(LEAD).get(f"/api/cycles/{CYCLE}/list/actions").json()
    assert body["open"] == [] and body["version"] is None
    assert [r["rule"] for r in body["refused"]["propose"]] == ["stage_window"]
    assert [r["rule"] for r in body["refused"]["publish"]] == ["stage_window", "list_exists"]
    doc = w.anonymous().get("/api/openapi.json").json()
    assert doc["paths"]["/api/cycles/{cycle_id}/list/actions"]["get"]["summary"]


@pytest.mark.parametrize("user", [scorer("hefei"), applicant("wuhu")])
def test_a_role_that_takes_no_list_action_is_told_of_none(web, user):
    w = web("proposed")
    body = w.api(user).get(f"/api/cycles/{CYCLE}/list/actions").json()
    assert (body["open"], body["refused"]) == ([], {})


def test_the_read_needs_a_token_and_a_cycle(web):
    w = web("proposed")
    assert w.anonymous().get(f"/api/cycles/{CYCLE}/list/actions").status_code == 401
    assert w.api(LEAD).get("/api/cycles/g60-1999/list/actions").status_code == 404
    for page in ("/list", "/appeals", "/"):
        r = w.anonymous().get(f"{page}?cycle={CYCLE}")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


@pytest.mark.parametrize(
    ("user", "decision"),
    [(scorer("hefei"), "confirm"), (applicant("hefei"), "object"), (LEAD, "confirm"), (admin("wuhu"), "publish")],
)
def test_a_wrong_role_posting_a_list_action_is_refused_and_nothing_changes(web, user, decision):
    w = web("proposed")
    w.s.clock.set(sh(6, 1))
    client = w.browser(user)
    page = client.get(f"/list?cycle={CYCLE}").text
    before = snapshot(w.s.store)
    r = client.post(
        f"/cycles/{CYCLE}/list/{decision}",
        data={"csrf": csrf_of(page), "reason": "异议"},
        headers={"referer": f"http://testserver/list?cycle={CYCLE}"},
    )
    assert r.status_code == 303
    assert snapshot(w.s.store) == before
    flash = re.search(
        r'<div class="flash error" role="alert"><strong>(.*?)</strong>', client.get(r.headers["location"]).text
    )
    assert flash and flash.group(1) == "无权操作", flash


def test_another_city_cannot_decide_a_city_s_appeal(web):
    w = web("municipal_review")
    w.s.clock.set(sh(3, 10))
    pid = w.s.ids["hefei"][0]
    w.s.engine.fire(admin("hefei"), [pid], "review", result="excellent", method="written")
    a = w.s.engine.file_appeal(applicant("hefei"), pid, "评审遗漏材料")
    wuhu = w.browser(admin("wuhu"))
    page = wuhu.get(f"/appeals?cycle={CYCLE}").text
    assert f'id="decide-{a.id}"' not in page
    before = snapshot(w.s.store)
    r = wuhu.post(
        f"/appeals/{a.id}/decide",
        data={"csrf": csrf_of(page), "decision": "dismiss", "reason": "不予支持"},
        headers={"referer": f"http://testserver/appeals?cycle={CYCLE}"},
    )
    assert r.status_code == 303 and snapshot(w.s.store) == before
    flash = re.search(
        r'<div class="flash error" role="alert"><strong>(.*?)</strong> (.*?)</div>',
        wuhu.get(r.headers["location"]).text,
    )
    assert flash and flash.group(1) == "未找到", flash


# ------------------------------------------------------------------------------------------ the dashboard's close
CLOSE = f'action="/cycles/{CYCLE}/advance"'


@pytest.mark.parametrize(
    ("checkpoint", "offered"),
    [("hefei_short", False), ("confirmation", False), ("proposed", False), ("published", False)],
)
def test_the_dashboard_offers_the_close_only_when_it_can_be_taken(web, checkpoint, offered):
    w = web(checkpoint)
    page = w.browser(LEAD).get(f"/?cycle={CYCLE}").text
    assert (CLOSE in page) == offered
    if checkpoint != "published":  # (the last stage has no close at all)
        assert '<ul class="rules">' in page  # the rules that stop it are named
    else:
        assert 'id="advance"' not in page


def test_the_dashboard_offers_the_close_once_every_rule_is_met_and_never_to_a_city(web):
    w = web("proposed")
    w.s.clock.set(sh(6, 1))
    for c in CITIES:
        w.s.engine.confirm_list(admin(c))
    assert CLOSE in w.browser(LEAD).get(f"/?cycle={CYCLE}").text
    assert CLOSE not in w.browser(admin("hefei")).get(f"/?cycle={CYCLE}").text


# ------------------------------------------------------------------------------------------ reads per request
def _reads(w, url: str) -> list[str]:
    """The SQL statements one GET of ``url`` by the lead runs (after a first GET has signed in)."""
    from sqlalchemy import event

    client = w.browser(LEAD)
    client.get(url)
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    from workflow.engine import reads

    reads._KEPT.clear()  # (counted afresh, as after any change: what one count costs, not the kept one)
    event.listen(w.s.store.engine, "before_cursor_execute", seen)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(w.s.store.engine, "before_cursor_execute", seen)
    return statements


def test_the_list_page_reads_the_versions_and_their_confirmations_once(web):
    w = web("proposed")
    reads = _reads(w, f"/list?cycle={CYCLE}")
    assert sum("FROM list_versions" in s for s in reads) == 1  # list_actions judges the version read
    assert sum("FROM confirmations" in s for s in reads) == 1  # (one version)


def test_the_dashboard_judges_the_closing_rules_once(web):
    w = web("proposed")
    reads = _reads(w, f"/?cycle={CYCLE}")
    # the status's count, no dry run: one count of the cycle's current sheets by city, and one of
    # the sheets of projects in other states taken off it (store/score_sheets.py current_sheet_counts)
    assert sum("FROM score_sheets" in s and "count" in s for s in reads) == 2


def test_the_dashboard_reads_the_score_sheets_once_for_every_city_short_of_them(web):
    w = web("joint_scoring")  # every city is short of sheets: a closing rule each
    reads = _reads(w, f"/?cycle={CYCLE}")
    # no read of the sheets whole: for each city short of sheets, the first projects it has left,
    # a bounded branch each (the dashboard shows a few of them), all nine in one statement
    shown = [s for s in reads if "FROM score_sheets" in s and "count" not in s]
    assert len(shown) == 1, shown
    assert shown[0].count("LIMIT") == 9 and shown[0].count("FROM score_sheets") == 9, shown
