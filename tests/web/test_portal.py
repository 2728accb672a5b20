"""The applicant portal (web/portal.py, web/api_portal.py): the form made from the program's
[form], drafts, a submission and a refused one, an edit allowed and refused by state, the
applicant's own applications, and every new route denied to another city and a wrong role."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import text

from tests.conftest import LEAD, admin, applicant, make_app, scorer, sh, snapshot
from tests.web.conftest import csrf_of

CYCLE = "g60-2027"
REFERER = {"referer": "http://testserver/apply/g60-2027"}


def drafts(s) -> list[tuple]:
    with s.store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT * FROM drafts ORDER BY 1"))]


def whole(s) -> dict:
    return {**snapshot(s.store), "drafts": drafts(s)}


def words(html: str) -> str:
    """A page's text, as its reader reads it."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def posted(app: dict, do: str = "submit", rows: int = 3) -> dict:
    """An application as the form posts it: f:PATH for each field, g:ROW:NAME for the team."""
    out: dict = {"do": do, "rows": str(rows)}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        elif isinstance(value, bool):
            out[f"f:{prefix}"] = "true" if value else "false"
        elif isinstance(value, list):
            out[f"f:{prefix}"] = list(value)
        else:
            out[f"f:{prefix}"] = str(value)

    for key, value in app.items():
        if key == "team":
            for i, member in enumerate(value):
                for name, v in member.items():
                    if isinstance(v, bool):
                        if v:
                            out[f"g:{i}:{name}"] = "true"
                    else:
                        out[f"g:{i}:{name}"] = str(v)
        elif key != "cycle":
            walk(key, value)
    out["rows"] = str(max(rows, len(app.get("team", []))))
    return out


def form_of(client, path: str = f"/apply/{CYCLE}"):
    r = client.get(path)
    assert r.status_code == 200, r.text
    return r, csrf_of(r.text)


# ------------------------------------------------------------------------------------------ the form
def test_the_form_is_made_from_the_programs_declaration(web):
    w = web("collection")
    r, _ = form_of(w.browser(applicant("hefei")))
    html = r.text
    # sections as fieldsets with their headings, the notes, dates as date inputs
    assert "<legend>企业情况</legend>" in html and "<legend>主要团队成员</legend>" in html
    assert "项目负责人和主要研发人员应为中共党员或中共预备党员；" in html
    assert 'type="date" name="f:project.started"' in html
    # a yes/no question starts unselected, the list's choices are boxes to tick
    assert not re.search(r'name="f:enterprise.registered_in_city" value="(true|false)" checked', html)
    assert 'type="checkbox" name="f:project.evidence" value="high_tech_enterprise"' in html
    # the city is the applicant's own, not a field to type
    assert '<output class="fixed" id="party">合肥市</output>' in html
    assert 'name="f:enterprise.city"' not in html
    # the team: empty rows without JavaScript, and a button for more
    assert html.count('class="member"') == 3 and 'value="more"' in html


def test_more_rows_come_back_with_everything_typed(web):
    w = web("collection")
    b = w.browser(applicant("hefei"))
    _, csrf = form_of(b)
    data = posted({"project": {"name": "在建项目"}, "team": [{"name": "张三", "lead": True}]}, do="more")
    r = b.post(f"/apply/{CYCLE}", data={"csrf": csrf, **data})
    assert r.status_code == 200
    assert r.text.count('class="member"') == 6
    assert 'value="在建项目"' in r.text and 'name="g:0:name" maxlength="2000" value="张三"' in r.text
    assert 'name="g:0:lead" value="true" checked' in r.text


def test_a_draft_is_saved_and_shown_again_to_its_owner_only(web):
    w = web("collection")
    b = w.browser(applicant("hefei"))
    _, csrf = form_of(b)
    data = posted({"project": {"name": "草稿中的项目", "evidence": ["specialized_new"]}}, do="save")
    r = b.post(f"/apply/{CYCLE}", data={"csrf": csrf, **data}, headers=REFERER)
    assert r.status_code == 303 and r.headers["location"] == f"/apply/{CYCLE}"
    assert snapshot(w.s.store)["projects"] == snapshot(w.s.store)["projects"]  # (no project made)
    assert len(w.s.engine.projects(LEAD, CYCLE)) == 54
    r, _ = form_of(b)
    assert 'value="草稿中的项目"' in r.text and 'value="specialized_new" checked' in r.text
    assert 'id="saved"' in r.text
    # another city's applicant, and the city's own administrator, each see an empty form
    for other in (applicant("jiaxing"), admin("hefei")):
        r, _ = form_of(w.browser(other))
        assert "草稿中的项目" not in r.text
    # it is listed among the owner's drafts
    assert 'id="drafts"' in b.get("/mine").text


def test_submitting_an_incomplete_form_lists_every_problem_in_chinese_and_keeps_it(web):
    w = web("collection")
    user = applicant("hefei")
    w.s.engine.set_language(user, "zh_CN")
    b = w.browser(user)
    _, csrf = form_of(b)
    app = make_app("hefei", 70)
    del app["filler"]
    app["party_organization"]["members"] = "很多"
    before = whole(w.s)
    r = b.post(f"/apply/{CYCLE}", data={"csrf": csrf, **posted(app)})
    assert r.status_code == 400
    said = words(r.text)
    assert "请完善申报表：以下 2 项需要填写或更正" in said
    assert "填表人：请填写" in said and "党员数：请填写不小于0的整数" in said
    assert 'value="很多"' in r.text and f'value="{app["project"]["name"]}"' in r.text
    assert whole(w.s) == before


def test_a_submission_refused_by_a_rule_shows_the_rule_and_keeps_the_form(web):
    w = web("collection")
    user = applicant("hefei")
    w.s.engine.set_language(user, "zh_CN")
    b = w.browser(user)
    _, csrf = form_of(b)
    app = make_app("hefei", 71)
    w.s.clock.set(sh(3, 1, 0, 0, 0))  # the collection window has closed
    before = whole(w.s)
    r = b.post(f"/apply/{CYCLE}", data={"csrf": csrf, **posted(app)})
    assert r.status_code == 422
    said = words(r.text)
    assert "未提交" in said and "阶段时间" in said and "2027-03-01 00:00:00" in said
    assert f'value="{app["project"]["name"]}"' in r.text
    assert whole(w.s) == before


def test_a_submission_lands_on_the_project_and_removes_the_draft(web):
    w = web("collection")
    user = applicant("hefei")
    b = w.browser(user)
    _, csrf = form_of(b)
    app = make_app("hefei", 72)
    b.post(f"/apply/{CYCLE}", data={"csrf": csrf, **posted(app, do="save")}, headers=REFERER)
    assert len(drafts(w.s)) == 1
    r = b.post(f"/apply/{CYCLE}", data={"csrf": csrf, **posted(app)}, headers=REFERER)
    assert r.status_code == 303, r.text
    pid = int(r.headers["location"].rsplit("/", 1)[1])
    p, _, _ = w.s.engine.project(LEAD, pid)
    assert p.state == "submitted" and p.applicant == user and p.city == "hefei"
    kept = [{k: v for k, v in m.items() if v is not False} for m in p.application["team"]]
    assert kept == [{k: v for k, v in m.items() if v is not False} for m in app["team"]]
    assert p.application["project"]["evidence"] == app["project"]["evidence"]
    assert drafts(w.s) == []
    page = b.get("/mine").text
    assert f'id="p-{pid}"' in page and app["project"]["name"] in page


# ------------------------------------------------------------------------------------------ edits
def test_an_applicant_changes_their_application_while_it_waits_for_the_city(web):
    w = web("collection")
    b = w.browser(applicant("hefei"))
    pid = w.s.ids["hefei"][0]
    r, csrf = form_of(b, f"/projects/{pid}/application")
    p, _, _ = w.s.engine.project(LEAD, pid)
    assert f'value="{p.project_name}"' in r.text  # pre-filled
    app = {**p.application, "contact": "0551-87654321"}
    data = {"csrf": csrf, "expected_version": str(p.version), **posted(app)}
    r = b.post(f"/projects/{pid}/application", data=data, headers=REFERER)
    assert r.status_code == 303 and r.headers["location"] == f"/projects/{pid}"
    after, _, history = w.s.engine.project(LEAD, pid)
    assert after.application["contact"] == "0551-87654321" and after.state == "submitted"
    assert history[-1].action == "edit_application" and history[-1].data["changed"] == ["contact"]
    w.s.engine.set_language(applicant("hefei"), "zh_CN")
    assert "申报单位修改申报表" in b.get(f"/projects/{pid}").text


def test_a_superscript_digit_for_a_number_is_no_server_error(web):
    # "²" is a digit to str.isdigit but not to int(): the numbers a form posts are read as decimals
    w = web("collection")
    b = w.browser(applicant("hefei"))
    _, csrf = form_of(b)
    data = {**posted({"project": {"name": "在建项目"}}, do="more"), "rows": "²"}
    r = b.post(f"/apply/{CYCLE}", data={"csrf": csrf, **data})
    assert r.status_code == 200 and r.text.count('class="member"') == 3 + 3
    pid = w.s.ids["hefei"][0]
    _, csrf = form_of(b, f"/projects/{pid}/application")
    p, _, _ = w.s.engine.project(LEAD, pid)
    data = {"csrf": csrf, "expected_version": "²", **posted({**p.application, "contact": "0551-87654321"})}
    r = b.post(f"/projects/{pid}/application", data=data, headers=REFERER)
    assert r.status_code == 303 and w.s.engine.project(LEAD, pid)[0].application["contact"] == "0551-87654321"


def test_no_change_once_the_city_has_decided(web):
    w = web("municipal_review")
    b = w.browser(applicant("hefei"))
    pid = w.s.ids["hefei"][0]
    before = whole(w.s)
    r = b.get(f"/projects/{pid}/application")
    assert r.status_code == 403
    assert f"无权执行“修改申报表”（项目 {pid}）：项目已是“入城市项目库”状态，不能再修改。" in r.text
    # posted all the same: refused by the engine's rule, nothing changed
    p, _, _ = w.s.engine.project(LEAD, pid)
    csrf = csrf_of(b.get("/mine").text)
    r = b.post(f"/projects/{pid}/application", data={"csrf": csrf, **posted(p.application)})
    assert r.status_code == 403
    assert whole(w.s) == before
    assert f"/projects/{pid}/application" not in b.get("/mine").text


def test_the_project_page_shows_the_decision_of_an_appeal(web):
    w = web("recommendation")
    s = w.s
    pid = s.excellent["hefei"]
    s.clock.set(sh(5, 5))
    a = s.engine.file_appeal(applicant("hefei"), pid, "评审遗漏了专利材料")
    s.engine.decide_appeal(admin("hefei"), a.id, "dismiss", None, "专利材料已在评审时核对")
    b = w.browser(applicant("hefei"))
    page = b.get(f"/projects/{pid}").text
    block = words(page.split(f'id="appeal-decision-{a.id}"', 1)[1].split("</li>", 1)[0])
    assert "已驳回" in block and f"{admin('hefei')} 于 2027-05-05 09:00 作出处理决定：专利材料已在评审时核对" in block
    mine = words(b.get("/mine").text)
    assert f"申诉 {a.id} · 已驳回" in mine


# ------------------------------------------------------------------------------------------ the API
def test_the_api_keeps_submits_and_removes_a_draft(web):
    w = web("collection")
    api = w.api(applicant("hefei"))
    assert api.get(f"/api/cycles/{CYCLE}/draft").status_code == 404
    app = make_app("hefei", 80)
    r = api.put(f"/api/cycles/{CYCLE}/draft", json={"data": app})
    assert r.status_code == 200 and r.json()["data"]["project"]["name"] == app["project"]["name"]
    assert api.get(f"/api/cycles/{CYCLE}/draft").json()["owner"] == applicant("hefei")
    assert w.api(applicant("jiaxing")).get(f"/api/cycles/{CYCLE}/draft").status_code == 404
    r = api.post(f"/api/cycles/{CYCLE}/draft/submit")
    assert r.status_code == 201 and r.json()["state"] == "submitted"
    assert api.get(f"/api/cycles/{CYCLE}/draft").status_code == 404
    mine = api.get("/api/me/applications").json()
    assert r.json()["id"] in [p["id"] for p in mine["projects"]] and mine["drafts"] == []
    api.put(f"/api/cycles/{CYCLE}/draft", json={"data": {"x": 1}})
    assert api.delete(f"/api/cycles/{CYCLE}/draft").status_code == 204
    assert api.delete(f"/api/cycles/{CYCLE}/draft").status_code == 404


def test_the_api_edits_an_application_and_refuses_after_the_citys_decision(web):
    w = web("collection")
    api = w.api(applicant("hefei"))
    pid = w.s.ids["hefei"][0]
    p, _, _ = w.s.engine.project(LEAD, pid)
    r = api.put(f"/api/projects/{pid}/application", json={"application": {**p.application, "contact": "123"}})
    assert r.status_code == 200 and r.json()["version"] == p.version + 1
    w.s.engine.fire(admin("hefei"), pid, "accept")
    before = whole(w.s)
    r = api.put(f"/api/projects/{pid}/application", json={"application": p.application})
    assert r.status_code == 422 and r.json()["rules"] == ["editable"]
    assert whole(w.s) == before


def test_an_applicant_withdraws_from_the_project_page_and_through_the_api(web):
    w = web("collection")
    user = applicant("hefei")
    b = w.browser(user)
    first, second = w.s.ids["hefei"][:2]
    page = b.get(f"/projects/{first}").text
    assert 'id="act-withdraw_application"' in page and "撤回本项目的申报" in page
    r = b.post(
        f"/projects/{first}/act/withdraw_application",
        data={"csrf": csrf_of(page), "reason": "企业调整申报计划"},
        headers={"referer": f"http://testserver/projects/{first}"},
    )
    assert r.status_code == 303
    assert w.s.engine.project(LEAD, first)[0].state == "withdrawn"
    assert "已撤回申报" in words(b.get("/mine").text)
    r = w.api(user).post(f"/api/projects/{second}/withdrawal", json={"reason": "重复申报"})
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"
    # once the city has decided, no withdrawal: refused by the rule, nothing changed
    w2 = web("municipal_review")
    pid = w2.s.ids["hefei"][0]
    api = w2.api(user)
    before = whole(w2.s)
    r = api.post(f"/api/projects/{pid}/withdrawal", json={})
    assert r.status_code == 422 and whole(w2.s) == before
    assert 'id="act-withdraw_application"' not in w2.browser(user).get(f"/projects/{pid}").text


def test_the_new_routes_are_in_the_openapi_document(web):
    doc = web("collection").anonymous().get("/api/openapi.json").json()
    paths = doc["paths"]
    assert {"get", "put", "delete"} <= set(paths["/api/cycles/{cycle_id}/draft"])
    assert "put" in paths["/api/projects/{project_id}/application"]
    assert "post" in paths["/api/cycles/{cycle_id}/draft/submit"]


# ------------------------------------------------------------------------------------------ scoping
# every new route, as the hefei applicant's own thing (its draft, its first project), called by
# another city's applicant and administrator and by a wrong role: denied (403, or 404 as for a
# missing thing), nothing changed, nothing of hefei's shown
OTHERS = [applicant("jiaxing"), admin("jiaxing"), scorer("hefei"), scorer("jiaxing"), LEAD]
SECRET = "合肥的草稿项目"


def _prepared(web):
    w = web("collection")
    w.s.engine.save_draft(applicant("hefei"), CYCLE, {"project": {"name": SECRET}})
    return w, w.s.ids["hefei"][0]


PAGE_ROUTES = [
    ("GET", "/apply"),
    ("GET", f"/apply/{CYCLE}"),
    ("POST", f"/apply/{CYCLE}"),
    ("GET", "/projects/{pid}/application"),
    ("POST", "/projects/{pid}/application"),
    ("GET", "/mine"),
]
API_ROUTES = [
    ("GET", f"/api/cycles/{CYCLE}/draft"),
    ("PUT", f"/api/cycles/{CYCLE}/draft"),
    ("DELETE", f"/api/cycles/{CYCLE}/draft"),
    ("POST", f"/api/cycles/{CYCLE}/draft/submit"),
    ("PUT", "/api/projects/{pid}/application"),
    ("POST", "/api/projects/{pid}/withdrawal"),
    ("GET", "/api/me/applications"),
]


@pytest.mark.parametrize("who", OTHERS, ids=str)
@pytest.mark.parametrize(("method", "path"), PAGE_ROUTES, ids=lambda x: str(x))
def test_pages_deny_another_city_and_a_wrong_role(web, who, method, path):
    w, pid = _prepared(web)
    path = path.format(pid=pid)
    b = w.browser(who)
    before = snapshot(w.s.store)
    theirs = drafts(w.s)
    if method == "GET":
        r = b.get(path)
    else:
        csrf = csrf_of(b.get("/").text)
        p, _, _ = w.s.engine.project(LEAD, pid)
        r = b.post(path, data={"csrf": csrf, **posted({**p.application, "contact": "x"}, do="save")})
    assert snapshot(w.s.store) == before
    assert w.s.engine.draft(applicant("hefei"), CYCLE).data == {"project": {"name": SECRET}}
    assert SECRET not in r.text
    if who.endswith("-applicant") or who.endswith("-admin"):
        # their own (empty) form, their own list, or the other city's project denied
        if "{pid}" in path or "/projects/" in path:
            assert r.status_code == 404 and f"没有项目 {pid}。" in r.text
        else:
            assert r.status_code in (200, 303, 400)
    else:
        assert drafts(w.s) == theirs  # a role that submits nothing keeps no draft either
        assert r.status_code in (403, 404), r.text
        assert r.status_code == 403 or f"没有项目 {pid}。" in r.text


@pytest.mark.parametrize("who", OTHERS, ids=str)
@pytest.mark.parametrize(("method", "path"), API_ROUTES, ids=lambda x: str(x))
def test_the_api_denies_another_city_and_a_wrong_role(web, who, method, path):
    w, pid = _prepared(web)
    path = path.format(pid=pid)
    p, _, _ = w.s.engine.project(LEAD, pid)
    body = {"data": {"x": 1}} if path.endswith("/draft") and method == "PUT" else None
    if path.endswith("/application"):
        body = {"application": {**p.application, "contact": "x"}}
    if path.endswith("/withdrawal"):
        body = {}
    api = w.api(who)
    before = whole(w.s)
    r = api.request(method, path, json=body)
    if method == "PUT" and path.endswith("/draft") and who in (applicant("jiaxing"), admin("jiaxing")):
        # their own draft, not hefei's: kept apart
        assert r.status_code == 200 and SECRET not in r.text
        assert w.s.engine.draft(applicant("hefei"), CYCLE).data == {"project": {"name": SECRET}}
        return
    assert whole(w.s) == before
    assert SECRET not in r.text
    if path == "/api/me/applications":
        assert r.status_code == 200 and pid not in [x["id"] for x in r.json()["projects"]]
        return
    assert r.status_code in (403, 404), r.text
    if r.status_code == 404 and "/projects/" in path:
        assert r.json()["message"] == f"No project {pid}."


def test_every_portal_form_is_refused_without_its_token(web):
    """The portal's forms check the session's CSRF token like every other form of the console."""
    from web import portal

    w = web("collection")
    b = w.browser(applicant("hefei"))
    before = whole(w.s)
    for path in [r.path for r in portal.router.routes if "POST" in r.methods]:
        url = path.format(cycle_id=CYCLE, project_id=w.s.ids["hefei"][0])
        r = b.post(url, data={"csrf": "forged", "do": "save", "f:project.name": "x"})
        assert r.status_code == 403 and "页面的安全令牌缺失或已过期" in r.text, path
    assert whole(w.s) == before
