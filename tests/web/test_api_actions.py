"""The API's actions are made from the program's declarations: it lists them with their JSON
Schema, takes a parameter or a choice by its label, and answers a value the declaration refuses
as a malformed request (400, each problem named) that changes nothing."""

from __future__ import annotations

from tests.conftest import LEAD, admin, sh, snapshot


def test_a_program_s_actions_with_their_labels_and_schema(web):
    w = web("collection")
    r = w.api(admin("hefei")).get("/api/programs/g60-deep-integration/actions")
    assert r.status_code == 200
    actions = {a["id"]: a for a in r.json()}
    review = actions["review"]
    assert (review["zh"], review["en"], review["button"]["zh"]) == ("市级评审", "Municipal review", "保存评审结果")
    assert review["schema"]["required"] == ["result"]
    assert review["schema"]["properties"]["result"]["enum"] == ["demonstration", "excellent", "none"]
    assert review["schema"]["properties"]["method"]["x-labels"]["onsite"] == {"zh": "实地走访", "en": "on-site visit"}
    assert actions["score"]["uses"] == "sheet"
    missing = w.api(admin("hefei")).get("/api/programs/no-such-program/actions")
    assert missing.status_code == 404


def test_an_action_by_its_labels(web):
    w = web("municipal_review")
    w.s.clock.set(sh(3, 10))
    pid = w.s.ids["hefei"][0]
    params = {"评审结果": "优秀项目", "评审方式": "书面评审"}
    r = w.api(admin("hefei")).post(f"/api/projects/{pid}/actions/review", json={"params": params})
    assert r.status_code == 200, r.text
    stored, _, history = w.s.engine.project(LEAD, pid)
    assert (stored.state, stored.review_method) == ("municipal_excellent", "written")
    [reviewed] = [e for e in history if e.action == "review"]
    assert (reviewed.data["result"], reviewed.data["method"]) == ("excellent", "written")  # kept by their ids


def test_a_value_the_declaration_refuses_is_400_and_changes_nothing(web):
    w = web("municipal_review")
    w.s.clock.set(sh(3, 10))
    pid = w.s.ids["hefei"][0]
    api = w.api(admin("hefei"))
    before = snapshot(w.s.store)
    for path, body, other in (
        (f"/api/projects/{pid}/actions/review", {"params": {"result": "gold", "grade": "A"}}, "grade: not a parameter"),
        (
            f"/api/projects/{pid}/review",
            {"result": "gold", "method": "by phone"},
            "method: 'by phone': expected one of",
        ),
    ):
        r = api.post(path, json=body)
        assert r.status_code == 400, r.text
        problems = r.json()["problems"]
        assert (
            "result: 'gold': expected one of demonstration (示范项目), excellent (优秀项目), none (未入选)" in problems
        )
        assert any(p.startswith(other) for p in problems), problems
    # a reason the declaration requires (a rejection's)
    r = api.post(f"/api/projects/{pid}/actions/reject", json={"params": {}})
    assert r.status_code == 400 and r.json()["problems"] == ["reason: required (退回理由)"]
    assert snapshot(w.s.store) == before
    assert w.s.engine.project(LEAD, pid)[0].state == "in_library"
