"""The applicant's operations in the JSON API: their draft of a cycle's application (read, keep,
remove), their applications, and the change of a submitted application. Each call acts as the
token's user through the engine (workflow/engine/portal.py), as the console's pages do."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from i18n import Msg
from web.api import ERRORS, Eng, Id, Me, Strict, Text, Version, _plain, project_summary
from workflow.engine.portal import withdrawal_of
from workflow.errors import InvalidInput, NotFound

router = APIRouter(prefix="/api", tags=["applicant"], responses=ERRORS)


class DraftBody(Strict):
    data: dict[str, Any] = Field(
        description="What has been typed of the application so far, laid out as the program's form (any part of it)"
    )


class Application(Strict):
    application: dict[str, Any] = Field(
        description="The whole application (the program's form), replacing the one held"
    )
    expected_version: Version = None


def _draft(engine: Any, user: str, cycle_id: str) -> dict[str, Any]:
    d = engine.draft(user, cycle_id)
    if d is None:
        raise NotFound("draft", cycle_id)
    return {"cycle": d.cycle_id, "owner": d.owner, "updated_at": _plain(d)["updated_at"], "data": d.data}


@router.get("/cycles/{cycle_id}/draft", summary="Your draft of an application for the cycle (only you see it)")
def get_draft(cycle_id: str, user: Me, engine: Eng) -> dict[str, Any]:
    return _draft(engine, user.name, cycle_id)


@router.put("/cycles/{cycle_id}/draft", summary="Keep your draft of an application for the cycle (replacing it)")
def put_draft(cycle_id: str, body: DraftBody, user: Me, engine: Eng) -> dict[str, Any]:
    engine.save_draft(user.name, cycle_id, body.data)
    return _draft(engine, user.name, cycle_id)


@router.delete("/cycles/{cycle_id}/draft", summary="Remove your draft of an application for the cycle", status_code=204)
def delete_draft(cycle_id: str, user: Me, engine: Eng) -> None:
    if not engine.delete_draft(user.name, cycle_id):
        raise NotFound("draft", cycle_id)


@router.post(
    "/cycles/{cycle_id}/draft/submit",
    summary="Submit your draft as the application (every rule of a submission); the draft is then removed",
    status_code=201,
)
def submit_draft(cycle_id: str, user: Me, engine: Eng) -> dict[str, Any]:
    d = engine.draft(user.name, cycle_id)
    if d is None:
        raise NotFound("draft", cycle_id)
    p = engine.submit_application(user.name, cycle_id, d.data)
    return project_summary(engine.program_of(engine.get_cycle(p.cycle_id)), p)


@router.put(
    "/projects/{project_id}/application",
    summary="Replace a submitted application, while the program lets its applicant change it",
)
def edit_application(project_id: Id, body: Application, user: Me, engine: Eng) -> dict[str, Any]:
    p = engine.edit_application(user.name, project_id, body.application, body.expected_version)
    return project_summary(engine.program_of(engine.get_cycle(p.cycle_id)), p)


class Withdrawal(Strict):
    reason: Text = ""
    expected_version: Version = None


@router.post(
    "/projects/{project_id}/withdrawal",
    summary="Withdraw your application, where the program lets its applicant (its declared withdrawal action)",
)
def withdraw_application(project_id: Id, body: Withdrawal, user: Me, engine: Eng) -> dict[str, Any]:
    p, _, _ = engine.project(user.name, project_id)
    trigger = withdrawal_of(engine.program_of(engine.get_cycle(p.cycle_id)))
    if trigger is None:
        raise InvalidInput("request", [Msg("this program does not let an applicant withdraw an application")])
    request = {} if body.expected_version is None else {"expected_version": body.expected_version}
    (done,) = engine.fire(user.name, project_id, trigger, reason=body.reason, **request)
    return project_summary(engine.program_of(engine.get_cycle(done.cycle_id)), done)


@router.get("/me/applications", summary="Your own applications in every cycle, with their states")
def my_applications(user: Me, engine: Eng) -> dict[str, Any]:
    out: list[dict[str, Any]] = []
    for cycle in engine.cycles():
        program = engine.program_of(cycle)
        out.extend(project_summary(program, p) for p in engine.own_projects(user.name, cycle.id))
    return {"projects": out, "drafts": [d.cycle_id for d in engine.my_drafts(user.name)]}
