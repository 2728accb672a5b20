"""The API's OpenAPI document types each action's parameters from the programs' declarations: a
component per program and action, the generic route's `params` one of them and its `{trigger}`
one of the declared triggers; a program kept only in tests/ gets its own with no code of its own;
and a request the document forbids is one the server refuses (400, each problem named, nothing
changed)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from tests.conftest import LEAD, admin, sh, snapshot
from web.app import create_app
from workflow.program import ProgramRegistry

ROUTE = "/api/projects/{project_id}/actions/{trigger}"
TESTS_PROGRAMS = Path(__file__).resolve().parents[1] / "programs"
SHIPPED = Path(__file__).resolve().parents[2] / "programs"


def document(app) -> dict:
    answer = TestClient(app, base_url="http://testserver").get("/api/openapi.json")
    assert answer.status_code == 200, answer.text
    return answer.json()


def components(doc: dict) -> dict:
    return doc["components"]["schemas"]


def trigger_enum(doc: dict) -> list[str]:
    [trigger] = [p for p in doc["paths"][ROUTE]["post"]["parameters"] if p["name"] == "trigger"]
    return trigger["schema"]["enum"]


@pytest.fixture(scope="module")
def shipped() -> dict:
    """The document of a server on the shipped programs (the document reads only the engine's
    registry)."""
    return document(create_app(SimpleNamespace(programs=ProgramRegistry([SHIPPED]))))


def test_the_document_is_openapi_3_1_and_every_action_schema_is_json_schema(shipped) -> None:
    assert shipped["openapi"].startswith("3.1")
    # the OpenAPI 3.1 schema as schemathesis (installed for the fuzzing) carries it
    definitions = pytest.importorskip("schemathesis.specs.openapi.definitions")
    definitions.OPENAPI_31_VALIDATOR.validate(shipped)
    actions = {name: s for name, s in components(shipped).items() if name.startswith("Action_")}
    assert len(actions) >= 10
    for name, schema in actions.items():
        assert jsonschema_rs.meta.is_valid(schema), name
        assert schema["type"] == "object" and schema["additionalProperties"] is False, name
        assert schema["title"] and "description" in schema, name


def test_g60_review_has_result_required_and_method_optional(shipped) -> None:
    review = components(shipped)["Action_g60_deep_integration_review"]
    assert review["required"] == ["result"]
    result, method = review["properties"]["result"], review["properties"]["method"]
    assert result["type"] == "string" and result["enum"] == ["demonstration", "excellent", "none"]
    assert result["x-labels"]["excellent"] == {"zh": "优秀项目", "en": "excellent"}
    assert "评审结果 · Result" in result["description"] and "`excellent`: 优秀项目 · excellent" in result["description"]
    assert method["enum"] == ["onsite", "site", "written"] and "method" not in review["required"]
    assert review["title"] == "市级评审 · Municipal review (g60-deep-integration: review)"
    assert review["x-title-zh"] == "市级评审"


def test_the_generic_route_refers_to_the_components_and_lists_the_triggers(shipped) -> None:
    operation = shipped["paths"][ROUTE]["post"]
    assert {"review", "assess", "decide", "recommend", "reject"} <= set(trigger_enum(shipped))
    # a form's or a sheet's action has its own route, as an appeal has
    assert {"submit", "score", "appeal"}.isdisjoint(trigger_enum(shipped))
    params = components(shipped)["Act"]["properties"]["params"]
    refs = [r["$ref"].rsplit("/", 1)[-1] for r in params["anyOf"]]
    assert "Action_g60_deep_integration_review" in refs and refs[-1] == "Action_no_parameters"
    assert all(r in components(shipped) for r in refs)
    assert operation["x-actions"]["review"] == {
        "g60-deep-integration": {
            "params": {"$ref": "#/components/schemas/Action_g60_deep_integration_review"},
            "reason": "optional",
        }
    }
    assert operation["x-actions"]["reject"]["g60-deep-integration"] == {
        "params": {"$ref": "#/components/schemas/Action_no_parameters"},
        "reason": "required",
    }
    assert (
        "- `review` (市级评审 · Municipal review): g60-deep-integration → `Action_g60_deep_integration_review`"
        in (operation["description"])
    )


def test_the_alliance_s_grade(shipped) -> None:
    assess = components(shipped)["Action_industry_alliance_assess"]
    assert assess["required"] == ["grade"]
    grade = assess["properties"]["grade"]
    assert grade["enum"] == ["excellent", "qualified", "unqualified"]
    assert grade["x-labels"]["unqualified"] == {"zh": "不合格", "en": "unqualified"}
    deadline = components(shipped)["Action_industry_alliance_order_rectification"]["properties"]["deadline"]
    assert (deadline["type"], deadline["format"]) == ("string", "date")
    remove = components(shipped)["Action_industry_alliance_remove"]
    assert remove["properties"]["grave"]["type"] == "boolean" and remove["required"] == []
    assert "A reason is required" in remove["description"]


def test_a_program_kept_in_tests_gets_its_own_components(monkeypatch) -> None:
    registry = ProgramRegistry([TESTS_PROGRAMS, SHIPPED])  # as tests/programs/test_lab_grant.py loads it
    doc = document(create_app(SimpleNamespace(programs=registry)))
    decide = components(doc)["Action_lab_grant_decide"]
    assert decide["required"] == ["result"]
    props = decide["properties"]
    assert props["result"]["enum"] == ["approve", "decline"]
    assert (props["amount"]["type"], props["amount"]["minimum"], props["amount"]["maximum"]) == ("number", 0, 50)
    assert props["start"]["format"] == "date" and props["matched"]["type"] == "boolean"
    assert "所在单位承诺按1:1配套" in props["matched"]["description"]
    assert components(doc)["Action_lab_grant_accept"]["properties"]["track"]["enum"] == ["young", "open"]
    assert doc["paths"][ROUTE]["post"]["x-actions"]["decide"]["lab-grant"]["params"] == {
        "$ref": "#/components/schemas/Action_lab_grant_decide"
    }
    # the document says what the server checks: 80 is over the maximum, a typed request is not
    check = jsonschema_rs.validator_for(decide)
    assert not check.is_valid({"result": "approve", "amount": 80})
    assert check.is_valid({"result": "approve", "amount": 20, "start": "2027-07-01", "matched": True})
    # without the folder, the shipped programs' document does not know it
    monkeypatch.delenv("EVALFLOW_PROGRAMS", raising=False)
    assert "Action_lab_grant_decide" not in components(document(create_app(None)))


FORBIDDEN = (
    ({"result": "gold"}, "result: 'gold': expected one of demonstration (示范项目), excellent (优秀项目)"),
    ({"method": "written"}, "result: required (评审结果)"),
    ({"result": "excellent", "grade": "A"}, "grade: not a parameter of review"),
    ({"result": "excellent", "method": 3}, "method: 3: expected one of"),
)


def test_a_request_the_document_forbids_is_refused_and_changes_nothing(web) -> None:
    w = web("municipal_review")
    w.s.clock.set(sh(3, 10))
    pid = w.s.ids["hefei"][0]
    api = w.api(admin("hefei"))
    check = jsonschema_rs.validator_for(components(document(w.app))["Action_g60_deep_integration_review"])
    before = snapshot(w.s.store)
    for params, problem in FORBIDDEN:
        assert not check.is_valid(params), params
        r = api.post(f"/api/projects/{pid}/actions/review", json={"params": params})
        assert r.status_code == 400, r.text
        body = r.json()
        assert body["error"] == "invalid_input" and body["message"]
        assert any(p.startswith(problem) for p in body["problems"]), (params, body["problems"])
    assert snapshot(w.s.store) == before
    # and a request it allows is taken
    allowed = {"result": "excellent", "method": "written"}
    assert check.is_valid(allowed)
    r = api.post(f"/api/projects/{pid}/actions/review", json={"params": allowed})
    assert r.status_code == 200, r.text
    assert w.s.engine.project(LEAD, pid)[0].state == "municipal_excellent"
