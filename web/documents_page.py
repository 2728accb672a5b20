"""The results' documents on the console (文书, ``/documents``): the notice and the official list of
a published cycle, each project's decision letter and a named one's certificate, as PDF or DOCX,
and the whole set as a zip for the lead or a city's administrator (sheets/documents.py draws
them; the engine's ``outcome`` says who has which). Before a publication the page says so."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from i18n import Joined, Msg
from sheets.documents import bundle, documents_of, file_name
from sheets.documents import render as draw
from web import views
from web.auth import Me
from web.downloads import content_disposition
from web.ids import Id
from web.pages import engine_of, render
from workflow.errors import InvalidInput, RuleRefused
from workflow.program.documents import FORMATS, KIND_WORDS

router = APIRouter(include_in_schema=False)

SHOWN = 100  # the projects the page lists with their letters (the rest: their own pages, or the zip)
MEDIA = {"pdf": "application/pdf", "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def document_response(name: str, fmt: str, data: bytes) -> Response:
    """A document to save under its own name."""
    headers = {"Content-Disposition": content_disposition(name), "X-Content-Type-Options": "nosniff"}
    return Response(content=data, media_type=MEDIA[fmt], headers=headers)


def chosen_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InvalidInput("document", [_not_a_format(fmt)])
    return fmt


def _not_a_format(fmt: str) -> Any:
    return Msg("{value} is not a document format (pdf, docx)", value=repr(fmt))


@router.get("/documents", response_class=HTMLResponse)
def documents_page(request: Request, me: Me, cycle: str | None = None) -> Response:
    engine = engine_of(request)
    chosen = views.choose_cycle(engine, cycle)
    program = engine.program_of(chosen)
    try:
        outcome = engine.outcome(me.user.name, chosen.id)
        waiting = None
    except RuleRefused as refused:  # (nothing published yet: the page says why, not an error)
        outcome, waiting = None, refused.rejections[0]
    return render(
        request,
        "documents.html",
        me,
        cycle=chosen,
        program=program,
        outcome=outcome,
        waiting=waiting,
        kinds=KIND_WORDS,
        whole=me.user.role in ("lead", "city-admin"),
        count=len(documents_of(outcome)) if outcome is not None else 0,
        shown=SHOWN,
        local=lambda t: views.local_time(t, program),
    )


@router.get("/documents/{cycle_id}/bundle.json")
def list_bundle(request: Request, me: Me, cycle_id: str) -> Response:
    """The published list as a bundle anyone checks with `evalflow verify` (workflow/publication.py)."""
    name, data = engine_of(request).publication_bundle(me.user.name, cycle_id)
    headers = {"Content-Disposition": content_disposition(name), "X-Content-Type-Options": "nosniff"}
    return Response(content=data, media_type="application/json", headers=headers)


@router.get("/documents/{cycle_id}/all.zip")
def all_documents(request: Request, me: Me, cycle_id: str, format: str = "pdf") -> Response:  # noqa: A002
    """Every document the user may have of the cycle, in one format or both."""
    formats = ("pdf", "docx") if format == "both" else (chosen_format(format),)
    outcome = engine_of(request).outcome_for_all(me.user.name, cycle_id)
    data, _ = bundle(outcome, formats)
    name = f"{outcome.cycle.id}-文书.zip"
    headers = {"Content-Disposition": content_disposition(name)}
    return Response(content=data, media_type="application/zip", headers=headers)


# (after all.zip: a zip is not a document of its own)
@router.get("/documents/{cycle_id}/{kind}.{fmt}")
def cycle_document(request: Request, me: Me, cycle_id: str, kind: str, fmt: str) -> Response:
    """The notice or the official list."""
    fmt = chosen_format(fmt)
    if kind not in ("notice", "list"):
        raise InvalidInput("document", [_not_a_kind(kind, ("notice", "list"))])
    outcome = engine_of(request).outcome(me.user.name, cycle_id)
    return document_response(file_name(kind, fmt, outcome), fmt, draw(kind, fmt, outcome))


@router.get("/projects/{project_id}/documents/{kind}.{fmt}")
def project_document(request: Request, me: Me, project_id: Id, kind: str, fmt: str) -> Response:
    """A project's decision letter or certificate."""
    fmt = chosen_format(fmt)
    if kind not in ("letter", "certificate"):
        raise InvalidInput("document", [_not_a_kind(kind, ("letter", "certificate"))])
    engine = engine_of(request)
    project, _, _ = engine.project(me.user.name, project_id)
    outcome = engine.outcome(me.user.name, project.cycle_id)
    placed = outcome.of(project_id)
    return document_response(file_name(kind, fmt, outcome, placed), fmt, draw(kind, fmt, outcome, placed))


def _not_a_kind(kind: str, kinds: tuple[str, ...]) -> Any:
    return Msg("{value} is not one of these documents: {kinds}", value=repr(kind), kinds=Joined(kinds, ", "))
