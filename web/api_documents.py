"""The results' documents through the API, as the console and `evalflow document` make them: the
notice and the official list of a published cycle, a project's decision letter and certificate,
and every document at once as a zip (the lead; a city's administrator, their city's). Each is a
file in the format asked (pdf, docx); before a publication the API answers 422, naming the rule."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from sheets.documents import bundle, file_name, render
from web.api import ERRORS, Eng, Me
from web.documents_page import document_response
from web.downloads import content_disposition
from web.ids import Id

router = APIRouter(prefix="/api", tags=["documents"], responses=ERRORS)

Format = Annotated[Literal["pdf", "docx"], Query(description="pdf (to print), or docx (to edit in Word or WPS)")]
FILE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}, "application/octet-stream": {}}, "description": "The document"}
}


@router.get(
    "/cycles/{cycle_id}/documents/{kind}",
    summary="The notice (公示) or the official list (正式名单) of a published cycle",
    response_class=Response,
    responses=FILE,
)
def cycle_document(
    cycle_id: str, kind: Literal["notice", "list"], user: Me, engine: Eng, format: Format = "pdf"
) -> Any:  # noqa: A002
    outcome = engine.outcome(user.name, cycle_id)
    return document_response(file_name(kind, format, outcome), format, render(kind, format, outcome))


@router.get(
    "/projects/{project_id}/documents/{kind}",
    summary="A project's decision letter (评审结果通知书) or a named project's certificate (命名授牌证书)",
    response_class=Response,
    responses=FILE,
)
def project_document(
    project_id: Id,
    kind: Literal["letter", "certificate"],
    user: Me,
    engine: Eng,
    format: Format = "pdf",  # noqa: A002
) -> Any:
    project, _, _ = engine.project(user.name, project_id)
    outcome = engine.outcome(user.name, project.cycle_id)
    placed = outcome.of(project_id)
    return document_response(file_name(kind, format, outcome, placed), format, render(kind, format, outcome, placed))


@router.get(
    "/cycles/{cycle_id}/documents",
    summary="Every document of a published cycle at once, as a zip (the lead; a city's administrator, their city's)",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "The documents"}},
)
def all_documents(
    cycle_id: str,
    user: Me,
    engine: Eng,
    format: Annotated[list[Literal["pdf", "docx"]], Query(description="pdf, docx, or both (given twice)")] = ["pdf"],  # noqa: A002, B006
) -> Any:
    outcome = engine.outcome_for_all(user.name, cycle_id)
    data, _ = bundle(outcome, tuple(dict.fromkeys(format)))
    headers = {"Content-Disposition": content_disposition(f"{outcome.cycle.id}-文书.zip")}
    return Response(content=data, media_type="application/zip", headers=headers)


@router.get(
    "/cycles/{cycle_id}/list/bundle",
    summary="The published list as a bundle anyone checks with `evalflow verify`, without the database",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}, "description": "The bundle (RFC 8785 canonical JSON)"}},
)
def list_bundle(cycle_id: str, user: Me, engine: Eng) -> Any:
    name, data = engine.publication_bundle(user.name, cycle_id)
    return Response(
        content=data, media_type="application/json", headers={"Content-Disposition": content_disposition(name)}
    )
