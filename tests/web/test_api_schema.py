"""The API against its own OpenAPI document (schemathesis): every operation, with generated paths,
queries and bodies, sent with the lead's token and with a city administrator's, at a mid-cycle
checkpoint. No call may end in a server error, and every answer must match the document.

Each generated case is sent twice per token: as generated (mostly unknown ids and cycles), and
with its ids pointed at things that exist (the cycle, a project, an appeal, the program), so
that the engine's own checks are reached rather than only its 'not found'.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

import web as web_package
from tests.conftest import LEAD, admin, applicant, sh
from web.app import create_app

CYCLE = "g60-2027"
PROGRAM_ID = "g60-deep-integration"
USERS = (LEAD, admin("hefei"))


@pytest.fixture
def served(web):
    """joint_scoring (05-12): the key library recommended, no sheets yet; one appeal open."""
    w = web("joint_scoring")
    w.s.clock.set(sh(5, 12))
    w.s.engine.file_appeal(applicant("hefei"), w.s.excellent["hefei"], "评审遗漏了专利材料")
    tokens = {}
    for user in USERS:
        secret, _ = w.s.engine.new_token(LEAD, user, "schema")
        tokens[user] = f"Bearer {secret}"
    return w, tokens


# the document does not depend on the data: it is read from an app without an engine, and each
# operation's test then runs against its own fresh checkpoint (``served``)
schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(None))


def _pointed(case, w) -> None:
    """Point the case's path at things that exist."""
    params = case.path_parameters or {}
    if "cycle_id" in params:
        params["cycle_id"] = CYCLE
    if "project_id" in params:
        every = sorted(pid for ids in w.s.ids.values() for pid in ids)
        given = params["project_id"]
        params["project_id"] = every[(given if isinstance(given, int) else len(str(given))) % len(every)]
    if "appeal_id" in params:
        params["appeal_id"] = 1
    if "program_id" in params:
        params["program_id"] = PROGRAM_ID


# one test per operation, named by it (``GET /api/me``…): each its own item, so that a run over
# several processes (pytest-xdist) runs every one of them
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_no_server_error_and_every_answer_matches_the_document(operation, served):
    w, tokens = served

    @given(case=operation.as_strategy())
    @settings(
        max_examples=10,  # (each of some eighty operations; CI's time is bounded)
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        for pointed in (False, True):
            if pointed:
                _pointed(case, w)
            for user in USERS:
                response = case.call(app=w.app, headers={"Authorization": tokens[user]})
                assert response.status_code < 500, (user, case.method, case.formatted_path, response.text)
                case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    check()


def test_the_document_lists_every_api_route(web):
    """Every route of the API's router is in the document the fuzzing is driven by."""
    w = web("collection")
    doc = w.anonymous().get("/api/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    # (every API router's routes: the API's own and those of its other modules, web/api_*.py)
    routers = [
        importlib.import_module(f"web.{m.name}").router
        for m in pkgutil.iter_modules(web_package.__path__)
        if m.name == "api" or m.name.startswith("api_")
    ]
    routes = {(m, r.path) for router in routers for r in router.routes for m in r.methods}
    assert len(routes) >= 25
    assert routes == documented
