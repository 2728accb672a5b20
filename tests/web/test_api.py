"""The JSON API, endpoint by endpoint: each call succeeds in a realistic flow and changes the
engine's state as the command line would; each of the engine's errors comes back as its HTTP
status (400 invalid input, 401 no valid token, 403 not permitted, 404 not found or not
visible, 409 changed concurrently, 422 refused by a rule) with the command line's own words,
and a refused call changes nothing."""

from __future__ import annotations

import csv
import inspect
import io
import re
import zipfile

import openpyxl
import pytest
from fastapi.encoders import jsonable_encoder

from tests.conftest import (
    CITIES,
    LEAD,
    SHEET_MID,
    admin,
    applicant,
    make_app,
    refused,
    scorer,
    sh,
    snapshot,
)
from web import api as api_module
from workflow.engine import Engine
from workflow.errors import EvalflowError

CYCLE = "g60-2027"
PROGRAM_ID = "g60-deep-integration"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _state(w, pid: int) -> str:
    return w.s.engine.project(LEAD, pid)[0].state


def _engine_error(call, *args, **kwargs) -> EvalflowError:
    """What the engine itself raises for the same call (the words the command line prints)."""
    with pytest.raises(EvalflowError) as err:
        call(*args, **kwargs)
    return err.value


def _workbook(content: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(content))


def _column(ws, header: str) -> list:
    rows = list(ws.iter_rows(values_only=True))
    index = rows[0].index(header)
    return [r[index] for r in rows[1:]]


# ------------------------------------------------------------------------------------------ reads


@pytest.mark.parametrize(
    ("user", "role", "city"),
    [
        (LEAD, "lead", "songjiang"),
        (admin("hefei"), "city-admin", "hefei"),
        (scorer("jiaxing"), "scorer", "jiaxing"),
        (applicant("wuhu"), "applicant", "wuhu"),
    ],
)
def test_me_is_the_tokens_user(web, user, role, city):
    w = web("collection")
    r = w.api(user).get("/api/me")
    assert r.status_code == 200
    assert r.json() == {"name": user, "role": role, "city": city}


def test_cycles_lists_every_cycle_with_its_stage(web):
    w = web("municipal_review")
    r = w.api(applicant("hefei")).get("/api/cycles")
    assert r.status_code == 200
    [cycle] = r.json()
    assert (cycle["id"], cycle["program_id"], cycle["year"], cycle["stage"]) == (
        CYCLE,
        PROGRAM_ID,
        2027,
        "municipal_review",
    )
    assert cycle["settings"]["places"] == {"demonstration": 2, "excellent": 3}


def test_status_is_the_engines_status(web):
    w = web("recommendation")
    w.s.clock.set(sh(5, 5))
    r = w.api(admin("jiaxing")).get(f"/api/cycles/{CYCLE}/status")
    assert r.status_code == 200
    body = r.json()
    assert body == jsonable_encoder(w.s.engine.status(admin("jiaxing"), CYCLE))
    assert (body["stage"], body["stage_number"], body["list"]) == ("recommendation", 3, None)
    assert [c["city"] for c in body["cities"]] == list(CITIES)
    assert {c["city"]: (c["demonstration"], c["excellent"]) for c in body["cities"]} == {c: (5, 1) for c in CITIES}


def test_projects_lists_the_cycle_with_every_filter(web):
    w = web("recommendation")
    api = w.api(LEAD)
    everything = api.get(f"/api/cycles/{CYCLE}/projects")
    assert everything.status_code == 200
    assert sorted(p["id"] for p in everything.json()) == sorted(pid for c in CITIES for pid in w.s.ids[c])

    hefei = api.get(f"/api/cycles/{CYCLE}/projects", params={"city": "hefei"}).json()
    assert [p["id"] for p in hefei] == w.s.ids["hefei"]
    assert {p["city"] for p in hefei} == {"hefei"}
    first = hefei[0]
    assert first["state"] == "municipal_demonstration" and first["state_name"] == "市级示范"
    assert first["version"] == w.s.engine.project(LEAD, first["id"])[0].version

    excellent = api.get(f"/api/cycles/{CYCLE}/projects", params={"state": "municipal_excellent"}).json()
    assert sorted(p["id"] for p in excellent) == sorted(w.s.excellent.values())


def test_projects_filtered_by_their_place_on_the_published_list(web):
    w = web("published")
    api = w.api(admin("jiaxing"))
    top = api.get(f"/api/cycles/{CYCLE}/projects", params={"category": "demonstration"}).json()
    assert sorted(p["id"] for p in top) == sorted(w.s.high)
    both = api.get(f"/api/cycles/{CYCLE}/projects", params={"city": "wuhu", "category": "excellent"}).json()
    assert [(p["id"], p["city"]) for p in both] == [(w.s.mid[2], "wuhu")]


def test_project_shows_application_history_and_the_users_actions(web):
    w = web("recommendation")
    w.s.clock.set(sh(5, 5))
    pid = w.s.demos["hefei"][0]
    r = w.api(admin("hefei")).get(f"/api/projects/{pid}")
    assert r.status_code == 200
    body = r.json()
    stored = w.s.engine.project(LEAD, pid)[0]
    assert (body["id"], body["city"], body["state"], body["applicant"]) == (
        pid,
        "hefei",
        "municipal_demonstration",
        applicant("hefei"),
    )
    assert (body["review_result"], body["review_method"], body["version"]) == (
        "demonstration",
        "site",
        stored.version,
    )
    assert body["application"]["enterprise"]["name"] == stored.unit_name
    assert [h["action"] for h in body["history"]] == ["submit", "accept", "review"]
    assert body["sheets"] == []
    assert body["actions"] == ["recommend"]


def test_project_sheets_are_the_users_citys_only(web):
    w = web("confirmation")
    pid = w.s.high[1]
    lead = w.api(LEAD).get(f"/api/projects/{pid}").json()
    assert sorted(s["city"] for s in lead["sheets"]) == sorted(CITIES)
    assert {s["total"] for s in lead["sheets"]} == {94}
    wuhu = w.api(scorer("wuhu")).get(f"/api/projects/{pid}").json()
    assert [(s["city"], s["total"]) for s in wuhu["sheets"]] == [("wuhu", 94)]


def test_list_versions_with_their_confirmations(web):
    w = web("proposed")
    w.s.clock.set(sh(6, 1))
    w.s.engine.confirm_list(admin("hefei"))
    r = w.api(admin("jiaxing")).get(f"/api/cycles/{CYCLE}/list")
    assert r.status_code == 200
    body = r.json()
    assert body["cycle"] == CYCLE
    [v1] = body["versions"]
    assert (v1["number"], v1["status"], len(v1["entries"])) == (1, "proposed", 45)
    assert [e["project_id"] for e in v1["entries"][:2]] == w.s.high
    assert [(c["city"], c["decision"]) for c in v1["confirmations"]] == [("hefei", "confirm")]


def test_appeals_are_listed_by_status(web):
    w = web("recommendation")
    w.s.clock.set(sh(5, 5))
    dismissed = w.s.engine.file_appeal(applicant("hefei"), w.s.excellent["hefei"], "评审遗漏材料")
    w.s.engine.decide_appeal(admin("hefei"), dismissed.id, "dismiss", reason="材料已审")
    still_open = w.s.engine.file_appeal(admin("wuhu"), w.s.excellent["wuhu"], "复核")
    api = w.api(LEAD)
    every = api.get(f"/api/cycles/{CYCLE}/appeals")
    assert every.status_code == 200
    assert [(a["id"], a["status"]) for a in every.json()] == [(dismissed.id, "dismissed"), (still_open.id, "open")]
    opened = api.get(f"/api/cycles/{CYCLE}/appeals", params={"status": "open"}).json()
    assert [(a["project_id"], a["filed_by"], a["against_stage"]) for a in opened] == [
        (w.s.excellent["wuhu"], admin("wuhu"), "municipal_review")
    ]
    # the applicant reads only what they filed
    mine = w.api(applicant("hefei")).get(f"/api/cycles/{CYCLE}/appeals").json()
    assert [a["id"] for a in mine] == [dismissed.id]


# ------------------------------------------------------------------------------------------ actions


def test_submit_creates_a_project(web):
    w = web("collection")
    w.s.clock.set(sh(1, 20))
    app = make_app("hefei", 901)
    r = w.api(applicant("hefei")).post(f"/api/cycles/{CYCLE}/projects", json={"application": app})
    assert r.status_code == 201
    body = r.json()
    assert (body["cycle"], body["city"], body["state"], body["version"]) == (CYCLE, "hefei", "submitted", 1)
    assert body["unit_name"] == app["enterprise"]["name"]
    stored = w.s.engine.project(LEAD, body["id"])[0]
    assert (stored.state, stored.applicant, stored.project_name) == (
        "submitted",
        applicant("hefei"),
        app["project"]["name"],
    )


def test_submit_after_collection_is_refused_by_its_rule(web):
    w = web("municipal_review")
    w.s.clock.set(sh(3, 10))
    app = make_app("hefei", 902)
    api = w.api(applicant("hefei"))
    before = snapshot(w.s.store)
    r = api.post(f"/api/cycles/{CYCLE}/projects", json={"application": app})
    assert r.status_code == 422, r.text
    assert snapshot(w.s.store) == before
    err = refused(w.s.store, w.s.engine.submit, applicant("hefei"), app)
    assert (r.json()["message"], r.json()["rules"]) == (str(err), err.rules)
    assert "stage_window" in r.json()["rules"]


def test_accept_with_the_current_version(web):
    w = web("collection")
    w.s.clock.set(sh(1, 20))
    pid = w.s.ids["hefei"][0]
    version = w.s.engine.project(LEAD, pid)[0].version
    r = w.api(admin("hefei")).post(
        f"/api/projects/{pid}/accept", json={"opinion": "材料齐全", "expected_version": version}
    )
    assert r.status_code == 200
    [done] = r.json()["projects"]
    assert (done["id"], done["state"], done["version"]) == (pid, "in_library", version + 1)
    assert _state(w, pid) == "in_library"
    last = w.s.engine.project(LEAD, pid)[2][-1]
    assert (last.action, last.actor) == ("accept", admin("hefei"))


def test_reject_with_a_reason(web):
    w = web("collection")
    w.s.clock.set(sh(1, 20))
    pid = w.s.ids["hefei"][1]
    r = w.api(admin("hefei")).post(f"/api/projects/{pid}/reject", json={"reason": "材料不全"})
    assert r.status_code == 200
    assert r.json()["projects"][0]["state"] == "rejected"
    assert _state(w, pid) == "rejected"
    assert w.s.engine.project(LEAD, pid)[2][-1].reason == "材料不全"


def test_review_records_the_result_and_method(web):
    w = web("municipal_review")
    w.s.clock.set(sh(3, 10))
    pid = w.s.ids["hefei"][0]
    r = w.api(admin("hefei")).post(f"/api/projects/{pid}/review", json={"result": "demonstration", "method": "onsite"})
    assert r.status_code == 200
    assert r.json()["projects"][0]["review_result"] == "demonstration"
    stored = w.s.engine.project(LEAD, pid)[0]
    assert (stored.state, stored.review_result, stored.review_method) == (
        "municipal_demonstration",
        "demonstration",
        "onsite",
    )


def test_recommend_then_withdraw(web):
    w = web("recommendation")
    w.s.clock.set(sh(5, 5))
    pid = w.s.demos["hefei"][0]
    api = w.api(admin("hefei"))
    r = api.post(f"/api/projects/{pid}/recommend", json={})
    assert r.status_code == 200
    assert r.json()["projects"][0]["state"] == "recommended"
    assert _state(w, pid) == "recommended"
    r = api.post(f"/api/projects/{pid}/withdraw", json={"expected_version": r.json()["projects"][0]["version"]})
    assert r.status_code == 200
    assert _state(w, pid) == "municipal_demonstration"


def test_recommend_several_at_once(web):
    w = web("recommendation")
    w.s.clock.set(sh(5, 5))
    ids = w.s.demos["hefei"]
    r = w.api(admin("hefei")).post(f"/api/cycles/{CYCLE}/recommend", json={"project_ids": ids})
    assert r.status_code == 200
    assert [(p["id"], p["state"]) for p in r.json()["projects"]] == [(pid, "recommended") for pid in ids]
    assert [_state(w, pid) for pid in ids] == ["recommended"] * 5
    assert w.s.engine.status(LEAD)["cities"][CITIES.index("hefei")]["recommended"] == 5


def test_recommend_several_is_all_or_nothing(web):
    w = web("recommendation")
    w.s.clock.set(sh(5, 5))
    ids = [*w.s.demos["hefei"], w.s.excellent["hefei"]]  # an excellent project cannot be recommended
    api = w.api(admin("hefei"))
    before = snapshot(w.s.store)
    r = api.post(f"/api/cycles/{CYCLE}/recommend", json={"project_ids": ids})
    assert r.status_code == 422
    assert snapshot(w.s.store) == before
    assert r.json()["message"] == str(refused(w.s.store, w.s.engine.fire, admin("hefei"), ids, "recommend"))


def test_a_batch_names_the_cycle_of_its_projects(web):
    w = web("recommendation")
    w.s.clock.set(sh(5, 5))
    api = w.api(admin("hefei"))
    r = api.post("/api/cycles/g60-2099/recommend", json={"project_ids": w.s.demos["hefei"]})
    assert (r.status_code, r.json()["message"]) == (404, "No cycle 'g60-2099'.")
    assert [_state(w, pid) for pid in w.s.demos["hefei"]] == ["municipal_demonstration"] * 5


def test_score_enters_the_citys_sheet(web):
    w = web("joint_scoring")
    w.s.clock.set(sh(5, 12))
    pid = w.s.demos["hefei"][0]
    r = w.api(scorer("jiaxing")).post(
        f"/api/projects/{pid}/score", json={"scores": SHEET_MID, "completion": "基本完成"}
    )
    assert r.status_code == 200
    assert r.json()["projects"][0]["id"] == pid
    sheets = w.s.engine.project(LEAD, pid)[1]
    assert [(s.city, s.total, s.completion) for s in sheets] == [("jiaxing", 78, "基本完成")]


def test_any_other_action_by_its_trigger_with_params_and_reason(web):
    w = web("municipal_review")
    w.s.clock.set(sh(3, 10))
    pid = w.s.ids["hefei"][0]
    api = w.api(admin("hefei"))
    r = api.post(f"/api/projects/{pid}/actions/review", json={"params": {"result": "excellent", "method": "written"}})
    assert r.status_code == 200
    stored = w.s.engine.project(LEAD, pid)[0]
    assert (stored.state, stored.review_result, stored.review_method) == (
        "municipal_excellent",
        "excellent",
        "written",
    )


def test_any_other_action_carries_its_reason_and_version(web):
    w = web("recommendation")
    w.s.clock.set(sh(5, 5))
    pid = w.s.demos["hefei"][0]
    version = w.s.engine.fire(admin("hefei"), pid, "recommend")[0].version
    r = w.api(admin("hefei")).post(
        f"/api/projects/{pid}/actions/withdraw", json={"reason": "重新遴选", "expected_version": version}
    )
    assert r.status_code == 200
    assert r.json()["projects"][0]["version"] == version + 1
    assert _state(w, pid) == "municipal_demonstration"
    last = w.s.engine.project(LEAD, pid)[2][-1]
    assert (last.action, last.reason) == ("withdraw", "重新遴选")


def test_an_unknown_trigger_is_invalid_and_an_internal_one_not_permitted(web):
    w = web("confirmed")
    pid = w.s.high[0]
    api = w.api(LEAD)
    before = snapshot(w.s.store)
    r = api.post(f"/api/projects/{pid}/actions/nonsense", json={})
    assert (r.status_code, r.json()["error"]) == (400, "invalid_input")
    assert r.json()["message"] == "Invalid action: 'nonsense' is not an action of program g60-deep-integration."
    r = api.post(f"/api/projects/{pid}/actions/place", json={"params": {"category": "demonstration"}})
    assert r.status_code == 403
    assert r.json()["message"] == f"Not permitted to place project {pid}: place is not an action of this program."
    assert snapshot(w.s.store) == before


def test_propose_the_list(web):
    w = web("confirmation")
    w.s.clock.set(sh(5, 20))
    r = w.api(LEAD).post(f"/api/cycles/{CYCLE}/list/propose", json={})
    assert r.status_code == 200
    assert r.json() == {"version": 1, "status": "proposed", "entries": 45}
    assert w.s.engine.status(LEAD)["list"] == {"version": 1, "status": "proposed"}


def test_confirm_the_list_for_a_city(web):
    w = web("proposed")
    w.s.clock.set(sh(6, 1))
    r = w.api(admin("hefei")).post(f"/api/cycles/{CYCLE}/list/confirm")
    assert r.status_code == 200
    assert r.json() == {"version": 1, "status": "proposed"}
    confirmed = {c["city"]: c["confirmed"] for c in w.s.engine.status(LEAD)["cities"]}
    assert confirmed == {c: c == "hefei" for c in CITIES}


def test_object_to_the_list(web):
    w = web("proposed")
    w.s.clock.set(sh(6, 1))
    r = w.api(admin("jiaxing")).post(f"/api/cycles/{CYCLE}/list/object", json={"reason": "得分汇总有误"})
    assert r.status_code == 200
    assert r.json() == {"version": 1, "status": "objected"}
    assert w.s.engine.status(LEAD)["list"] == {"version": 1, "status": "objected"}


def test_advance_dry_run_lists_what_stops_it_and_changes_nothing(web):
    w = web("proposed")
    w.s.clock.set(sh(6, 1))
    for c in CITIES[:-1]:
        w.s.engine.confirm_list(admin(c))
    api = w.api(LEAD)
    before = snapshot(w.s.store)
    r = api.post(f"/api/cycles/{CYCLE}/advance", json={"dry_run": True})
    assert r.status_code == 200
    assert r.json() == {
        "cycle": CYCLE,
        "from_stage": "confirmation",
        "to_stage": "publication",
        "dry_run": True,
        "rejections": [
            {
                "rule": "all_parties_confirmed",
                "message": "list version 1 has 8 of 9 confirmations; waiting for hefei",
                "parties": ["hefei"],
            }
        ],
        "overridden": [],
    }
    assert snapshot(w.s.store) == before


def test_advance_closes_the_stage(web):
    w = web("proposed")
    w.s.clock.set(sh(6, 10))
    for c in CITIES:
        w.s.engine.confirm_list(admin(c))
    r = w.api(LEAD).post(f"/api/cycles/{CYCLE}/advance", json={})
    assert r.status_code == 200
    assert (r.json()["from_stage"], r.json()["to_stage"], r.json()["dry_run"], r.json()["rejections"]) == (
        "confirmation",
        "publication",
        False,
        [],
    )
    assert w.s.engine.get_cycle(CYCLE).stage == "publication"
    assert w.s.engine.status(LEAD)["list"] == {"version": 1, "status": "confirmed"}


def test_publish_the_confirmed_list(web):
    w = web("confirmed")
    w.s.clock.set(sh(6, 12))
    r = w.api(LEAD).post(f"/api/cycles/{CYCLE}/publish")
    assert r.status_code == 200
    assert r.json() == {"version": 1, "status": "published"}
    assert w.s.engine.status(LEAD)["list"] == {"version": 1, "status": "published"}
    assert _state(w, w.s.high[0]) != "recommended"  # placed by the publication


def test_award_plaques(web):
    w = web("published")
    w.s.clock.set(sh(6, 20))
    r = w.api(LEAD).post(f"/api/cycles/{CYCLE}/award", json={"project_ids": w.s.high})
    assert r.status_code == 200
    assert [(p["id"], p["state"], p["category"]) for p in r.json()["projects"]] == [
        (pid, "awarded", "demonstration") for pid in w.s.high
    ]
    assert [_state(w, pid) for pid in w.s.high] == ["awarded", "awarded"]


def test_award_of_an_unlisted_project_is_refused_whole(web):
    w = web("published")
    w.s.clock.set(sh(6, 20))
    unlisted = w.s.low[0]
    api = w.api(LEAD)
    before = snapshot(w.s.store)
    r = api.post(f"/api/cycles/{CYCLE}/award", json={"project_ids": [w.s.high[0], unlisted]})
    assert r.status_code == 422
    assert r.json()["rules"] == ["state"]
    assert f"[state] project {unlisted} is 'not_listed'; award needs listed_demonstration" in r.json()["message"]
    assert snapshot(w.s.store) == before
    assert _state(w, w.s.high[0]) != "awarded"
    err = refused(w.s.store, w.s.engine.fire, LEAD, [w.s.high[0], unlisted], "award")
    assert r.json()["message"] == str(err)


def test_file_an_appeal_and_dismiss_it(web):
    w = web("recommendation")
    w.s.clock.set(sh(5, 5))
    pid = w.s.excellent["hefei"]
    r = w.api(applicant("hefei")).post(f"/api/projects/{pid}/appeals", json={"reason": "评审遗漏了专利材料"})
    assert r.status_code == 201
    filed = r.json()
    assert (filed["project_id"], filed["city"], filed["filed_by"], filed["status"]) == (
        pid,
        "hefei",
        applicant("hefei"),
        "open",
    )
    assert (filed["against_state"], filed["against_stage"], filed["reason"]) == (
        "municipal_excellent",
        "municipal_review",
        "评审遗漏了专利材料",
    )
    assert [(a.id, a.status) for a in w.s.engine.appeals(LEAD)[1]] == [(filed["id"], "open")]

    r = w.api(admin("hefei")).post(
        f"/api/appeals/{filed['id']}/decide", json={"decision": "dismiss", "reason": "专利材料已审"}
    )
    assert r.status_code == 200
    body = r.json()
    assert (body["appeal"]["status"], body["appeal"]["decided_by"], body["appeal"]["decision_reason"]) == (
        "dismissed",
        admin("hefei"),
        "专利材料已审",
    )
    assert body["project"]["state"] == "municipal_excellent"
    assert [(a.id, a.status) for a in w.s.engine.appeals(LEAD)[1]] == [(filed["id"], "dismissed")]
    assert _state(w, pid) == "municipal_excellent"


def test_uphold_an_appeal_reopens_the_project(web):
    w = web("recommendation")
    w.s.clock.set(sh(5, 5))
    pid = w.s.excellent["hefei"]
    appeal = w.s.engine.file_appeal(applicant("hefei"), pid, "评审遗漏了专利材料")
    r = w.api(admin("hefei")).post(
        f"/api/appeals/{appeal.id}/decide",
        json={"decision": "uphold", "reopen_to": "municipal_review", "reason": "确有遗漏"},
    )
    assert r.status_code == 200
    assert (r.json()["appeal"]["status"], r.json()["appeal"]["reopen_to"]) == ("upheld", "municipal_review")
    assert (r.json()["project"]["state"], r.json()["project"]["review_result"]) == ("in_library", None)
    stored = w.s.engine.project(LEAD, pid)[0]
    assert (stored.state, stored.review_result, stored.reopened_to) == ("in_library", None, "municipal_review")


def test_dismissing_without_a_reason_is_invalid(web):
    w = web("recommendation")
    w.s.clock.set(sh(5, 5))
    appeal = w.s.engine.file_appeal(applicant("hefei"), w.s.excellent["hefei"], "复核")
    api = w.api(admin("hefei"))
    before = snapshot(w.s.store)
    r = api.post(f"/api/appeals/{appeal.id}/decide", json={"decision": "dismiss"})
    assert r.status_code == 400
    assert r.json()["problems"] == ["dismissing an appeal needs --reason"]
    assert snapshot(w.s.store) == before


# ------------------------------------------------------------------------------------------ downloads


def test_report_as_xlsx(web):
    w = web("published")
    r = w.api(LEAD).get(f"/api/cycles/{CYCLE}/report")
    assert r.status_code == 200
    assert r.headers["content-type"] == XLSX
    assert r.headers["content-disposition"] == 'attachment; filename="report-g60-2027.xlsx"'
    wb = _workbook(r.content)
    listed = [row for row in wb.worksheets[0].iter_rows(min_row=2, values_only=True) if row and row[1] is not None]
    assert [row[1] for row in listed[:5]] == [*w.s.high, *w.s.mid]


def test_report_as_markdown(web):
    w = web("published")
    r = w.api(LEAD).get(f"/api/cycles/{CYCLE}/report", params={"format": "md"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/markdown; charset=utf-8"
    text = r.text
    assert text.startswith("# 长三角G60科创走廊科技创新、党建创新深度融合项目评选 — g60-2027")
    assert "名单状态: 版本 1 (published)" in text
    top = w.s.engine.project(LEAD, w.s.high[0])[0]
    assert f"| 1 | {top.id} | {top.project_name} |" in text


def test_report_as_csv_files_in_a_zip(web):
    w = web("published")
    r = w.api(LEAD).get(f"/api/cycles/{CYCLE}/report", params={"format": "csv"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"] == 'attachment; filename="report-g60-2027.zip"'
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert sorted(archive.namelist()) == ["cities.csv", "funding.csv", "list.csv", "matrix.csv"]
    rows = list(csv.reader(io.StringIO(archive.read("list.csv").decode("utf-8-sig"))))
    assert [int(row[1]) for row in rows[1:6]] == [*w.s.high, *w.s.mid]


def test_report_of_an_unknown_format_is_invalid(web):
    w = web("published")
    r = w.api(LEAD).get(f"/api/cycles/{CYCLE}/report", params={"format": "pdf"})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_input"


def test_score_template_holds_the_shortlist(web):
    w = web("joint_scoring")
    r = w.api(scorer("hefei")).get(f"/api/cycles/{CYCLE}/templates/scores")
    assert r.status_code == 200
    assert r.headers["content-type"] == XLSX
    assert "hefei.xlsx" in r.headers["content-disposition"]
    ws = _workbook(r.content).worksheets[0]
    ids = [row[0] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert sorted(ids) == sorted(w.s.shortlist)
    assert {row[-1] for row in ws.iter_rows(min_row=2, values_only=True)} == {"hefei"}


def test_score_template_for_a_named_city_by_the_lead(web):
    w = web("joint_scoring")
    r = w.api(LEAD).get(f"/api/cycles/{CYCLE}/templates/scores", params={"city": "wuhu"})
    assert r.status_code == 200
    ws = _workbook(r.content).worksheets[0]
    assert {row[-1] for row in ws.iter_rows(min_row=2, values_only=True)} == {"wuhu"}
    r = w.api(LEAD).get(f"/api/cycles/{CYCLE}/templates/scores", params={"city": "atlantis"})
    assert r.status_code == 404


def test_application_template(web):
    w = web("collection")
    r = w.api(applicant("hefei")).get(f"/api/programs/{PROGRAM_ID}/templates/application")
    assert r.status_code == 200
    assert r.headers["content-type"] == XLSX
    assert "%E9%99%84%E4%BB%B61" in r.headers["content-disposition"]  # 附件1
    # its example row dated in the year of the console's clock (this rehearsal's: 2027)
    example = [c.value for c in _workbook(r.content).worksheets[0][2]]
    assert max(v[:4] for v in example if isinstance(v, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", v)) == "2027"
    r = w.api(applicant("hefei")).get("/api/programs/nope/templates/application")
    assert r.status_code == 404
    assert r.json()["message"].startswith("No program 'nope'")


# ------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-header"),
        pytest.param({"Authorization": "Basic bGVhZDpwYXNz"}, id="not-bearer"),
        pytest.param({"Authorization": "Bearer ef_not-a-token"}, id="unknown-token"),
        pytest.param({"Authorization": "Bearer "}, id="empty-token"),
    ],
)
def test_no_valid_token_is_401_and_changes_nothing(web, headers):
    w = web("collection")
    w.s.clock.set(sh(1, 20))
    pid = w.s.ids["hefei"][0]
    client = w.anonymous()
    before = snapshot(w.s.store)
    for method, path in (("GET", "/api/me"), ("GET", f"/api/projects/{pid}"), ("POST", f"/api/projects/{pid}/accept")):
        r = client.request(method, path, headers=headers, json={} if method == "POST" else None)
        assert r.status_code == 401, (method, path)
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json()["error"] == "not_signed_in"
        assert r.json()["message"].startswith("Not signed in: ")
    assert snapshot(w.s.store) == before
    assert _state(w, pid) == "submitted"


def test_a_revoked_token_is_401(web):
    w = web("collection")
    w.s.clock.set(sh(1, 20))
    api = w.api(admin("hefei"))
    assert api.get("/api/me").status_code == 200
    [token] = w.s.engine.tokens(LEAD, admin("hefei"))
    w.s.engine.revoke_token(LEAD, token.id)
    pid = w.s.ids["hefei"][0]
    r = api.post(f"/api/projects/{pid}/accept", json={})
    assert r.status_code == 401
    assert r.json() == {"error": "not_signed_in", "message": "Not signed in: the token is unknown or revoked."}
    assert _state(w, pid) == "submitted"


def test_not_permitted_is_403_with_the_engines_words(web):
    w = web("joint_scoring")
    w.s.clock.set(sh(5, 12))
    pid = w.s.demos["hefei"][0]
    api = w.api(admin("hefei"))
    before = snapshot(w.s.store)
    r = api.post(f"/api/projects/{pid}/score", json={"scores": SHEET_MID})
    assert r.status_code == 403
    assert snapshot(w.s.store) == before
    err = _engine_error(w.s.engine.score, admin("hefei"), pid, SHEET_MID)
    assert r.json() == {"error": "not_permitted", "message": str(err)}
    assert "hefei-admin is city-admin; score is done by scorer" in r.json()["message"]


@pytest.mark.parametrize(
    ("user", "path", "why"),
    [
        (admin("hefei"), f"/api/cycles/{CYCLE}/list/propose", "propose"),
        (LEAD, f"/api/cycles/{CYCLE}/list/confirm", "confirm"),
        (scorer("hefei"), f"/api/cycles/{CYCLE}/advance", "advance"),
        (admin("hefei"), f"/api/cycles/{CYCLE}/report", "report"),
        (applicant("hefei"), f"/api/cycles/{CYCLE}/templates/scores", "template"),
    ],
)
def test_lead_and_city_only_calls_are_403_for_the_other_roles(web, user, path, why):
    w = web("confirmation")
    w.s.clock.set(sh(5, 20))
    api = w.api(user)
    before = snapshot(w.s.store)
    r = api.get(path) if why in ("report", "template") else api.post(path, json={})
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "not_permitted"
    assert r.json()["message"].startswith("Not permitted to ")
    assert snapshot(w.s.store) == before


def test_unknown_things_are_404(web):
    w = web("recommendation")
    api = w.api(LEAD)
    before = snapshot(w.s.store)
    r = api.get("/api/projects/99999")
    assert (r.status_code, r.json()) == (404, {"error": "not_found", "message": "No project 99999."})
    r = api.post("/api/projects/99999/recommend", json={})
    assert (r.status_code, r.json()["message"]) == (404, "No project 99999.")
    r = api.get("/api/cycles/g60-1999/projects")
    assert (r.status_code, r.json()["message"]) == (404, "No cycle 'g60-1999'.")
    r = api.get("/api/cycles/g60-1999/status")
    assert r.status_code == 404
    r = api.post("/api/appeals/777/decide", json={"decision": "dismiss", "reason": "x"})
    assert (r.status_code, r.json()["message"]) == (404, "No appeal 777.")
    assert api.get("/api/no-such-endpoint").status_code == 404
    assert snapshot(w.s.store) == before


def test_a_stale_version_is_409_and_changes_nothing(web):
    w = web("collection")
    w.s.clock.set(sh(1, 20))
    pid = w.s.ids["hefei"][0]
    seen = w.s.engine.project(LEAD, pid)[0].version
    api = w.api(admin("hefei"))
    # someone else acts on the project after it was read
    w.s.engine.fire(admin("hefei"), pid, "reject", reason="材料不全")
    before = snapshot(w.s.store)
    r = api.post(f"/api/projects/{pid}/accept", json={"expected_version": seen})
    assert r.status_code == 409
    assert r.json() == {
        "error": "conflict",
        "message": (
            f"project {pid} was changed by someone else: you acted on version {seen}, "
            f"it is now at version {seen + 1}; reload and try again"
        ),
    }
    assert snapshot(w.s.store) == before
    assert _state(w, pid) == "rejected"


def test_an_out_of_band_score_is_422_with_the_rule_and_the_command_lines_words(web):
    w = web("joint_scoring")
    w.s.clock.set(sh(5, 12))
    pid = w.s.demos["hefei"][0]
    sheet = {**SHEET_MID, "value": 11}
    api = w.api(scorer("jiaxing"))
    before = snapshot(w.s.store)
    r = api.post(f"/api/projects/{pid}/score", json={"scores": sheet})
    assert r.status_code == 422
    assert snapshot(w.s.store) == before
    body = r.json()
    assert body["error"] == "refused"
    assert body["rules"] == ["score_in_bands"]
    assert body["reasons"] == [
        {
            "rule": "score_in_bands",
            "message": "value = 11 is outside every band of value (max 20; bands 18-20 or 15-17 or 12-14)",
            "parties": [],
        }
    ]
    err = refused(w.s.store, w.s.engine.score, scorer("jiaxing"), pid, sheet)
    assert body["message"] == str(err)
    assert "[score_in_bands] value = 11 is outside every band" in body["message"]  # as the command line prints
    assert w.s.engine.project(LEAD, pid)[1] == []


def test_an_action_out_of_its_stage_is_422(web):
    w = web("collection")
    w.s.clock.set(sh(1, 20))
    pid = w.s.ids["hefei"][0]
    api = w.api(admin("hefei"))
    before = snapshot(w.s.store)
    r = api.post(f"/api/projects/{pid}/review", json={"result": "demonstration", "method": "onsite"})
    assert r.status_code == 422
    assert "stage_window" in r.json()["rules"]
    assert snapshot(w.s.store) == before
    err = refused(w.s.store, w.s.engine.fire, admin("hefei"), pid, "review", result="demonstration", method="onsite")
    assert r.json()["message"] == str(err)


@pytest.mark.parametrize(
    ("path", "send", "problem"),
    [
        pytest.param(
            "accept", {"content": b"{not json", "headers": {"content-type": "application/json"}}, "", id="bad-json"
        ),
        pytest.param(
            "accept", {"json": {"opinion": "ok", "bogus": 1}}, "bogus: Extra inputs are not permitted", id="extra"
        ),
        pytest.param("accept", {"json": {"expected_version": -1}}, "expected_version:", id="negative-version"),
        pytest.param("accept", {"json": {"opinion": "x" * 2001}}, "opinion:", id="too-long"),
        pytest.param("reject", {"json": {}}, "reason: Field required", id="missing-reason"),
        pytest.param("reject", {"json": {"reason": ""}}, "reason:", id="empty-reason"),
        pytest.param("review", {"json": {"result": "gold", "method": "site"}}, "result:", id="bad-literal"),
        pytest.param("score", {"json": {"scores": {"value": "many"}}}, "scores.value:", id="score-not-a-number"),
        pytest.param("score", {"json": {"scores": {"value": 10**6}}}, "scores.value:", id="score-too-large"),
    ],
)
def test_a_malformed_body_is_400_and_changes_nothing(web, path, send, problem):
    w = web("collection")
    w.s.clock.set(sh(1, 20))
    pid = w.s.ids["hefei"][0]
    api = w.api(admin("hefei"))
    before = snapshot(w.s.store)
    r = api.post(f"/api/projects/{pid}/{path}", **send)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == "invalid_input"
    assert body["message"].startswith("Invalid request: ")
    assert any(p.startswith(problem) for p in body["problems"]), body["problems"]
    assert snapshot(w.s.store) == before


@pytest.mark.parametrize("bad", ["0", "-3", "abc", str(2**40)])
def test_a_malformed_project_id_is_400(web, bad):
    w = web("collection")
    r = w.api(LEAD).get(f"/api/projects/{bad}")
    assert r.status_code == 400
    assert r.json()["problems"][0].startswith("path.project_id:")


def test_an_empty_batch_is_400(web):
    w = web("published")
    r = w.api(LEAD).post(f"/api/cycles/{CYCLE}/award", json={"project_ids": []})
    assert r.status_code == 400
    assert r.json()["problems"][0].startswith("project_ids:")


def test_errors_are_described_in_the_openapi_document(web):
    w = web("collection")
    doc = w.anonymous().get("/api/openapi.json").json()
    score = doc["paths"]["/api/projects/{project_id}/score"]["post"]
    assert {"400", "401", "403", "404", "409", "422"} <= set(score["responses"])
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_an_unreadable_body_is_400_in_the_apis_error_shape(web):
    """Regression: a body that is not text at all was answered by the framework as
    {"detail": …}, outside the documented error shape (found by the schema tests)."""
    w = web("collection")
    w.s.clock.set(sh(1, 20))
    pid = w.s.ids["hefei"][0]
    api = w.api(admin("hefei"))
    before = snapshot(w.s.store)
    r = api.post(f"/api/projects/{pid}/accept", content=b"\xff\xfe\x00", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json() == {
        "error": "invalid_input",
        "message": "Invalid request: There was an error parsing the body.",
        "problems": ["There was an error parsing the body"],
    }
    assert snapshot(w.s.store) == before


def test_an_unknown_api_path_or_method_answers_in_the_apis_error_shape(web):
    w = web("collection")
    api = w.api(LEAD)
    r = api.get("/api/no-such-endpoint")
    assert (r.status_code, r.json()) == (404, {"error": "not_found", "message": "Not Found"})
    r = api.delete("/api/me")
    assert (r.status_code, r.json()) == (405, {"error": "not_allowed", "message": "Method Not Allowed"})
    assert r.headers["allow"] == "GET"


# the argument names of the calls an action's parameters are passed through
_CALL_ARGUMENTS = sorted(
    {*inspect.signature(api_module._fire).parameters, *inspect.signature(Engine.fire).parameters, "expected_version"}
    - {"request"}
)


@pytest.mark.parametrize("name", _CALL_ARGUMENTS)
def test_an_action_parameter_named_like_an_argument_is_400(web, name):
    """Regression: a parameter named like an argument of the call it is passed through (``ids``,
    ``trigger``, ``acting``…) was a server error (500)."""
    w = web("municipal_review")
    w.s.clock.set(sh(3, 10))
    pid = w.s.ids["hefei"][0]
    api = w.api(admin("hefei"))
    before = snapshot(w.s.store)
    params = {"result": "demonstration", "method": "site", name: 1}
    r = api.post(f"/api/projects/{pid}/actions/review", json={"params": params})
    assert r.status_code == 400
    assert r.json()["problems"] == [f"params.{name}: not a parameter of an action"]
    assert snapshot(w.s.store) == before
    assert _state(w, pid) == "in_library"


def test_an_instant_is_given_in_utc_whichever_clock_made_it(web):
    """A filed appeal's time (made by the rehearsal clock, in the program's zone) and the same
    appeal read back from the database are the same text."""
    w = web("recommendation")
    w.s.clock.set(sh(5, 5))
    api = w.api(applicant("hefei"))
    filed = api.post(f"/api/projects/{w.s.excellent['hefei']}/appeals", json={"reason": "复核"}).json()
    [listed] = api.get(f"/api/cycles/{CYCLE}/appeals").json()
    assert filed["filed_at"] == listed["filed_at"] == "2027-05-05T01:00:00+00:00"
