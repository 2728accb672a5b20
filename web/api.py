"""The JSON API under /api/: the console's reads and actions for scripts, with token auth.

Each call acts as the token's user through the engine's one door; errors are the engine's,
as HTTP statuses (see web.app.STATUS): 400 invalid input, 401 no valid token, 403 not
permitted, 404 not found or not visible, 409 changed concurrently, 422 refused by a rule.
"""

from __future__ import annotations

import dataclasses
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask

from i18n import Msg
from web import views
from web.auth import api_user
from web.ids import Id
from web.project_views import View, page_query
from workflow.common import FIRE_ARGUMENTS, taken_names
from workflow.errors import InvalidInput, NotFound
from workflow.records import Project, User

Text = Annotated[str, Field(max_length=2000)]
Version = Annotated[int | None, Field(default=None, ge=0, le=2**31 - 1)]


class Error(BaseModel):
    error: str = Field(description="The error's kind: invalid_input, not_signed_in, not_permitted, not_found, …")
    message: str = Field(description="One line, the same as the command line prints.")
    rules: list[str] | None = None
    reasons: list[dict[str, Any]] | None = None
    problems: list[str] | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Error, "description": "Invalid input"},
    401: {"model": Error, "description": "No valid token"},
    403: {"model": Error, "description": "Not permitted for this user"},
    404: {"model": Error, "description": "Not found, or not visible to this user"},
    409: {"model": Error, "description": "Changed concurrently: reload and retry"},
    422: {"model": Error, "description": "Refused by a rule: every failed rule with its numbers"},
}

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)


Me = Annotated[User, Depends(api_user)]


def engine_of(request: Request) -> Any:
    return request.app.state.engine


Eng = Annotated[Any, Depends(engine_of)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# every instant the API gives is in UTC, whichever clock made it (a rehearsal's is the program's zone)
_UTC = {datetime: lambda d: d.astimezone(UTC).isoformat() if d.tzinfo else d.isoformat()}


def _plain(value: Any) -> Any:
    return jsonable_encoder(
        # (the engine's records are dataclass instances, never dataclass classes)
        dataclasses.asdict(cast(Any, value)) if dataclasses.is_dataclass(value) else value,
        custom_encoder=_UTC,
    )


def project_summary(program: Any, p: Project, listed: dict[int, str] | None = None) -> dict[str, Any]:
    return {
        "id": p.id,
        "cycle": p.cycle_id,
        "city": p.city,
        "unit_name": p.unit_name,
        "project_name": p.project_name,
        "state": p.state,
        "state_name": program.state_names.get(p.state, ""),
        "review_result": p.review_result,
        "category": views.placed_category(program, p, listed),
        "version": p.version,
    }


def _done(engine: Any, user: User, projects: list[Project]) -> dict[str, Any]:
    if not projects:
        return {"projects": []}
    cycle = engine.get_cycle(projects[0].cycle_id)
    program = engine.program_of(cycle)
    listed = views.listed_categories(engine, user, cycle, projects)
    return {"projects": [project_summary(program, p, listed) for p in projects]}


# ------------------------------------------------------------------------------------------ reads
@router.get("/me", summary="The token's user")
def me(user: Me) -> dict[str, Any]:
    return {"name": user.name, "role": user.role, "city": user.city}


@router.get(
    "/programs/{program_id}/actions",
    summary="Every action of a program: its labels, its parameters and their JSON Schema",
)
def program_actions(program_id: Annotated[str, Field(max_length=100)], user: Me, engine: Eng) -> list[dict[str, Any]]:
    program = engine.programs.get(program_id)
    return [{**a.as_dict(), "schema": a.schema()} for a in program.actions.values()]


@router.get("/cycles", summary="Every cycle")
def cycles(user: Me, engine: Eng) -> list[dict[str, Any]]:
    return [_plain(c) for c in engine.cycles()]


@router.get("/cycles/{cycle_id}/status", summary="Stage, window, per-city progress against quotas and minimums")
def status(cycle_id: str, user: Me, engine: Eng) -> dict[str, Any]:
    return jsonable_encoder(engine.status(user.name, cycle_id))


@router.get("/cycles/{cycle_id}/projects", summary="The projects of a cycle the user may read")
def projects(
    cycle_id: str,
    user: Me,
    engine: Eng,
    response: Response,
    city: str | None = None,
    state: str | None = None,
    category: Annotated[
        str | None,
        Query(description="A list category once placed, or result:RESULT before"),
    ] = None,
    q: Annotated[str, Query(max_length=200, description="Search the project's name, its unit's name, or its id")] = "",
    sort: Annotated[Literal["id", "city", "unit", "project", "state", "category", "score"] | None, Query()] = None,
    dir: Annotated[Literal["asc", "desc"] | None, Query(description="The order's direction")] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000, description="At most this many (all by default)")] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[dict[str, Any]]:
    cycle = engine.get_cycle(cycle_id)
    program = engine.program_of(cycle)
    view = View(cycle.id, city or "", state or "", category or "", "", q.strip(), sort or "", dir or "")
    query, by_score = page_query(engine, user, cycle, program, view)
    query.limit, query.offset = limit, offset
    found = engine.project_page(user.name, cycle.id, query, by_score)  # (the database filters and counts)
    response.headers["X-Total-Count"] = str(found.total)
    listed = views.listed_categories(engine, user, cycle, found.projects)
    return [project_summary(program, p, listed) for p in found.projects]


@router.get("/projects/{project_id}", summary="A project: its application, score sheets, history and your actions")
def project(project_id: Id, user: Me, engine: Eng) -> dict[str, Any]:
    p, sheets, history = engine.project(user.name, project_id)
    cycle = engine.get_cycle(p.cycle_id)
    program = engine.program_of(cycle)
    return {
        **project_summary(program, p, views.listed_categories(engine, user, cycle, [p])),
        "applicant": p.applicant,
        "review_method": p.review_method,
        "reopened_to": p.reopened_to,
        "application": jsonable_encoder(p.application),
        "record": jsonable_encoder(p.record),
        "sheets": [_plain(s) for s in sheets],
        "history": [_plain(e) for e in history],
        "actions": views.actions_for(user, p, cycle, program),
    }


@router.get(
    "/cycles/{cycle_id}/list",
    summary="Every version of the cycle's list the user may read, with its confirmations",
    description="Before its publication a version is read only by the roles of the program's"
    " `read_unpublished_list` (403 while no version is published); an objection's reason only by"
    " `read_objection_reasons`: for the others it is empty and `reason_withheld` is true.",
)
def list_versions(cycle_id: str, user: Me, engine: Eng) -> dict[str, Any]:
    cycle, versions, confirmations = engine.list_versions(user.name, cycle_id)
    return {
        "cycle": cycle.id,
        "versions": [
            {
                **_plain(v),
                "confirmations": [
                    {**_plain(c), "reason_withheld": c.decision == "object" and not c.reason}
                    for c in confirmations[v.id]
                ],
            }
            for v in versions
        ],
    }


@router.get("/cycles/{cycle_id}/appeals", summary="The appeals the user may read")
def appeals(
    cycle_id: str, user: Me, engine: Eng, status: Literal["open", "upheld", "dismissed"] | None = None
) -> list[dict[str, Any]]:
    _, items = engine.appeals(user.name, cycle_id, status)
    return [_plain(a) for a in items]


# ------------------------------------------------------------------------------------------ actions
class Submit(Strict):
    application: dict[str, Any] = Field(
        description="The application (the program's form), as `evalflow template application` lays it out"
    )


@router.post("/cycles/{cycle_id}/projects", summary="Submit an application (the program's form)", status_code=201)
def submit(cycle_id: str, body: Submit, user: Me, engine: Eng) -> dict[str, Any]:
    p = engine.submit(user.name, body.application, cycle_id)
    return project_summary(engine.program_of(engine.get_cycle(p.cycle_id)), p)


class Accept(Strict):
    opinion: Text = ""
    expected_version: Version = None


class Reason(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    expected_version: Version = None


class Review(Strict):
    """The result and method are the program's: their values are its declared choices."""

    result: Annotated[str, Field(max_length=64)]
    method: Annotated[str, Field(max_length=64)] | None = None
    expected_version: Version = None


class Plain(Strict):
    expected_version: Version = None


class Score(Strict):
    scores: dict[Annotated[str, Field(max_length=64)], Annotated[int, Field(ge=-1000, le=1000)]]
    completion: Text = ""


class Act(Strict):
    params: dict[Annotated[str, Field(max_length=64)], str | bool | int | float] = Field(default_factory=dict)
    reason: Text = ""
    expected_version: Version = None


def _fire(engine: Any, user: User, ids: Any, trigger: str, reason: str = "", **request: Any) -> dict[str, Any]:
    if request.get("expected_version") is None:
        request.pop("expected_version", None)
    return _done(engine, user, engine.fire(user.name, ids, trigger, reason=reason, **request))


def _declared(
    engine: Any, user: User, project_id: int, trigger: str, params: dict[str, Any], reason: str = ""
) -> dict[str, Any]:
    """``params`` (and the reason) checked against the action's declaration in its program, as a
    malformed request is: 400, each problem named, before any rule is judged (the engine checks
    the parameters again, as the rule 'parameters', for every other caller). An action the program
    does not declare, or a project the user may not read, is the engine's to answer."""
    try:
        p, _, _ = engine.project(user.name, project_id)
    except NotFound:
        return params  # (the engine says whether the user may act on it all the same)
    action = engine.program_of(engine.get_cycle(p.cycle_id)).actions.get(trigger)
    if action is None or action.uses:
        return params
    clean, problems = action.check({k: v for k, v in params.items() if v is not None})
    problems += action.check_reason(reason)
    if problems:
        raise InvalidInput("request", problems)
    return clean


@router.post("/projects/{project_id}/accept", summary="Confirm an application into the city project library")
def accept(project_id: Id, body: Accept, user: Me, engine: Eng) -> dict[str, Any]:
    return _fire(engine, user, project_id, "accept", opinion=body.opinion, expected_version=body.expected_version)


@router.post("/projects/{project_id}/reject", summary="Reject an application, with a reason")
def reject(project_id: Id, body: Reason, user: Me, engine: Eng) -> dict[str, Any]:
    return _fire(engine, user, project_id, "reject", body.reason, expected_version=body.expected_version)


@router.post("/projects/{project_id}/review", summary="Record the review result")
def review(project_id: Id, body: Review, user: Me, engine: Eng) -> dict[str, Any]:
    params = _declared(engine, user, project_id, "review", {"result": body.result, "method": body.method})
    return _fire(engine, user, project_id, "review", expected_version=body.expected_version, **params)


@router.post("/projects/{project_id}/recommend", summary="Recommend a reviewed project onto the shortlist")
def recommend(project_id: Id, body: Plain, user: Me, engine: Eng) -> dict[str, Any]:
    return _fire(engine, user, project_id, "recommend", expected_version=body.expected_version)


@router.post("/projects/{project_id}/withdraw", summary="Withdraw a recommendation")
def withdraw(project_id: Id, body: Plain, user: Me, engine: Eng) -> dict[str, Any]:
    return _fire(engine, user, project_id, "withdraw", expected_version=body.expected_version)


@router.post("/projects/{project_id}/score", summary="Enter or replace your city's score sheet")
def score(project_id: Id, body: Score, user: Me, engine: Eng) -> dict[str, Any]:
    p = engine.score(user.name, project_id, body.scores, body.completion)
    return _done(engine, user, [p])


# the generic action route, whose body web.openapi types in the document by the programs' declarations
ACTIONS_PATH = "/projects/{project_id}/actions/{trigger}"


@router.post(ACTIONS_PATH, summary="Any other action of the program on a project")
def act(
    project_id: Id, trigger: Annotated[str, Field(max_length=64)], body: Act, user: Me, engine: Eng
) -> dict[str, Any]:
    taken = taken_names(body.params, _NOT_PARAMS)
    if taken:  # they would be taken for the call's own arguments
        raise InvalidInput("request", [Msg("params.{name}: not a parameter of an action", name=k) for k in taken])
    params = _declared(engine, user, project_id, trigger, body.params, body.reason)
    return _fire(engine, user, project_id, trigger, body.reason, expected_version=body.expected_version, **params)


# the names of the arguments of _fire and Engine.fire, which an action's parameters cannot take
_NOT_PARAMS = FIRE_ARGUMENTS | {"engine", "user", "ids"}


class Ids(Strict):
    project_ids: Annotated[list[Id], Field(min_length=1, max_length=10000)]


@router.post("/cycles/{cycle_id}/award", summary="Award plaques to published projects (all or none)")
def award(cycle_id: str, body: Ids, user: Me, engine: Eng) -> dict[str, Any]:
    _same_cycle(engine, user, cycle_id, body.project_ids)
    return _fire(engine, user, body.project_ids, "award")


@router.post("/cycles/{cycle_id}/recommend", summary="Recommend several projects at once (all or none)")
def recommend_many(cycle_id: str, body: Ids, user: Me, engine: Eng) -> dict[str, Any]:
    _same_cycle(engine, user, cycle_id, body.project_ids)
    return _fire(engine, user, body.project_ids, "recommend")


def _same_cycle(engine: Any, user: User, cycle_id: str, ids: list[int]) -> None:
    cycle = engine.get_cycle(cycle_id)
    first, _, _ = engine.project(user.name, ids[0])  # the engine checks that a batch is of one cycle
    if first.cycle_id != cycle.id:
        raise InvalidInput("request", [Msg("project {id} is not of cycle {cycle}", id=first.id, cycle=cycle.id)])


class Propose(Strict):
    tie_order: Annotated[list[Id], Field(max_length=1000)] = Field(default_factory=list)


@router.post("/cycles/{cycle_id}/list/propose", summary="Propose the list from the sheets (lead)")
def propose(cycle_id: str, body: Propose, user: Me, engine: Eng) -> dict[str, Any]:
    lst = engine.propose_list(user.name, cycle_id, body.tie_order)
    return {"version": lst.number, "status": lst.status, "entries": len(lst.entries)}


@router.post("/cycles/{cycle_id}/list/confirm", summary="Confirm the proposed list for your city")
def confirm(cycle_id: str, user: Me, engine: Eng) -> dict[str, Any]:
    lst = engine.confirm_list(user.name, cycle_id, "confirm")
    return {"version": lst.number, "status": lst.status}


class Objection(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


@router.post("/cycles/{cycle_id}/list/object", summary="Object to the proposed list, with a reason")
def object_(cycle_id: str, body: Objection, user: Me, engine: Eng) -> dict[str, Any]:
    lst = engine.confirm_list(user.name, cycle_id, "object", body.reason)
    return {"version": lst.number, "status": lst.status}


@router.post("/cycles/{cycle_id}/publish", summary="Publish the confirmed list (lead)")
def publish(cycle_id: str, user: Me, engine: Eng) -> dict[str, Any]:
    lst = engine.publish(user.name, cycle_id)
    return {"version": lst.number, "status": lst.status}


class Advance(Strict):
    dry_run: bool = False


@router.post(
    "/cycles/{cycle_id}/advance",
    summary="Close the current stage and open the next (lead); dry_run lists what stops it",
)
def advance(cycle_id: str, body: Advance, user: Me, engine: Eng) -> dict[str, Any]:
    r = engine.advance(user.name, cycle_id, body.dry_run)
    return {
        "cycle": r.cycle.id,
        "from_stage": r.from_stage,
        "to_stage": r.to_stage,
        "dry_run": r.dry_run,
        "rejections": [{"rule": x.rule, "message": x.text, "parties": list(x.parties)} for x in r.rejections],
        "overridden": r.overridden,
    }


class AppealFile(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


@router.post("/projects/{project_id}/appeals", summary="File an appeal against a project's result", status_code=201)
def file_appeal(project_id: Id, body: AppealFile, user: Me, engine: Eng) -> dict[str, Any]:
    return _plain(engine.file_appeal(user.name, project_id, body.reason))


class Decide(Strict):
    decision: Literal["uphold", "dismiss"]
    reopen_to: Annotated[str | None, Field(default=None, max_length=64)] = None
    reason: Text = ""


@router.post("/appeals/{appeal_id}/decide", summary="Uphold (reopening the project) or dismiss an appeal")
def decide_appeal(appeal_id: Id, body: Decide, user: Me, engine: Eng) -> dict[str, Any]:
    a, p = engine.decide_appeal(user.name, appeal_id, body.decision, body.reopen_to, body.reason)
    return {"appeal": _plain(a), "project": _done(engine, user, [p])["projects"][0]}


# ------------------------------------------------------------------------------------------ downloads
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILES = {"description": "The file", "content": {XLSX: {}, "text/markdown": {}, "application/zip": {}}}


def _send(path: Path, name: str, media: str, folder: str) -> FileResponse:
    import shutil

    return FileResponse(
        path, media_type=media, filename=name, background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True)
    )


def report_file(engine: Any, user: User, cycle_id: str, fmt: str) -> FileResponse:
    import shutil

    from sheets.report import counts_status_sheets, write

    # written to a file as it is read (never whole in memory), then sent from the file
    with engine.report(user.name, cycle_id, counts_status_sheets) as data:
        folder = tempfile.mkdtemp(prefix="evalflow-report-")
        out = Path(folder) / (f"report-{data.cycle.id}" + ("" if fmt == "csv" else f".{fmt}"))
        try:
            write(data, fmt, "zh", out, None)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    if fmt == "csv":
        archive = shutil.make_archive(str(out), "zip", out)
        return _send(Path(archive), f"report-{data.cycle.id}.zip", "application/zip", folder)
    media = XLSX if fmt == "xlsx" else "text/markdown; charset=utf-8"
    return _send(out, out.name, media, folder)


@router.get(
    "/cycles/{cycle_id}/report",
    summary="The report: list, score matrix, per-city statistics (lead)",
    responses={200: FILES},
)
def report(
    cycle_id: str, user: Me, engine: Eng, format: Annotated[Literal["xlsx", "csv", "md"], Query()] = "xlsx"
) -> FileResponse:
    return report_file(engine, user, cycle_id, format)


def scores_template(engine: Any, user: User, cycle_id: str, city: str | None) -> FileResponse:
    from sheets.scores import write_template

    city = city or user.city
    if city is None:
        raise InvalidInput("request", [Msg("name the scoring city (?city=…)")])
    cycle, program, found = engine.shortlist(user.name, cycle_id, city)
    folder = tempfile.mkdtemp(prefix="evalflow-template-")
    out = Path(folder) / f"{program.sheet_name.replace(' ', '-')}-{city}.xlsx"
    write_template(out, program.party(city), found, program.criteria, cycle.id, program.parties)
    return _send(out, out.name, XLSX, folder)


@router.get("/cycles/{cycle_id}/templates/scores", summary="A city's pre-filled score sheet", responses={200: FILES})
def score_template(cycle_id: str, user: Me, engine: Eng, city: str | None = None) -> FileResponse:
    return scores_template(engine, user, cycle_id, city)


def application_template(engine: Any, program_id: str) -> FileResponse:
    from sheets.applications import write_template
    from workflow.program_code import example_application

    program = engine.programs.get(program_id)
    folder = tempfile.mkdtemp(prefix="evalflow-template-")
    out = Path(folder) / f"{program.form.name.replace(' ', '-')}.xlsx"
    write_template(out, program.form, example_application(program, program.year_at(engine.now())))
    return _send(out, out.name, XLSX, folder)


@router.get(
    "/programs/{program_id}/templates/application",
    summary="The application template (the program's form)",
    responses={200: FILES},
)
def application_template_route(program_id: str, user: Me, engine: Eng) -> FileResponse:
    return application_template(engine, program_id)
