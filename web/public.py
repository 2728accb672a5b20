"""The public pages (公开, ``/public``), read without signing in: each program's published lists
and the versions they corrected, the notice's period and the time left in it, the list as a
bundle anyone checks with `evalflow verify`; a program without a list, the projects its results
named. Nothing unpublished is reachable here: the engine's public reads
(workflow/engine/documents.py: PublicReads) give only what was published, and a cycle with
nothing published is not found, as one that does not exist."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from i18n import Msg
from web import views
from web.auth import client_address, new_login_token, tokens_match
from web.downloads import content_disposition
from web.ids import whole
from web.pages import engine_of, render
from workflow.appeals import OBJECTION_MAX, OBJECTOR_CONTACT_MAX, OBJECTOR_NAME_MAX
from workflow.errors import InvalidInput

# objections from one address: a few an hour, counted by each server process (a person objects
# to a project or two; a script sending many waits)
OBJECTIONS_PER_ADDRESS = "5 per hour"
FORM_COOKIE = "evalflow_public_csrf"
_LIMITER: Any = None

router = APIRouter(include_in_schema=False)


def _left(ends: datetime | None, now: datetime) -> tuple[int, int] | None:
    """The notice's days and hours left (None: over, or none)."""
    if ends is None or now >= ends:
        return None
    hours = (int((ends - now).total_seconds()) + 3599) // 3600  # (an hour begun counts whole)
    return hours // 24, hours % 24


@router.get("/public", response_class=HTMLResponse)
def public_index(request: Request) -> Response:
    engine = engine_of(request)
    return render(request, "public.html", None, shown=engine.public_cycles())


@router.get("/public/{cycle_id}", response_class=HTMLResponse)
def public_cycle(request: Request, cycle_id: str) -> Response:
    engine = engine_of(request)
    p = engine.public_cycle(cycle_id)
    left = _left(p.notice_ends, engine.now())
    token = new_login_token()
    response = render(
        request,
        "public_cycle.html",
        None,
        p=p,
        left=left,
        local=lambda t: views.local_time(t, p.program),
        objecting=bool(left and p.versions and p.program.appeals is not None),
        token=token,
        most={"name": OBJECTOR_NAME_MAX, "contact": OBJECTOR_CONTACT_MAX, "reason": OBJECTION_MAX},
    )
    # (the objection form's token, in a cookie of its own: it has no session, and the sign-in
    # form's token, kept in another, stays as a sign-in page opened earlier left it)
    response.set_cookie(FORM_COOKIE, token, httponly=True, samesite="strict", secure=request.app.state.secure_cookies)
    return response


def _limited(request: Request) -> bool:
    """Whether this address has sent its objections for the hour (counted as it sends one)."""
    global _LIMITER
    from limits import parse
    from limits.storage import MemoryStorage
    from limits.strategies import MovingWindowRateLimiter

    if _LIMITER is None:
        _LIMITER = MovingWindowRateLimiter(MemoryStorage())
    return not _LIMITER.hit(parse(OBJECTIONS_PER_ADDRESS), "objection", client_address(request) or "local")


@router.post("/public/{cycle_id}/objection", response_class=HTMLResponse)
def public_objection(
    request: Request,
    cycle_id: str,
    project: Annotated[str, Form(max_length=20)] = "",
    name: Annotated[str, Form(max_length=500)] = "",
    contact: Annotated[str, Form(max_length=500)] = "",
    reason: Annotated[str, Form(max_length=20000)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    engine = engine_of(request)
    p = engine.public_cycle(cycle_id)  # (nothing published: not found, as for no cycle)
    if not tokens_match(csrf, request.cookies.get(FORM_COOKIE, "")):
        raise InvalidInput(Msg("objection"), [Msg("the form has expired; open the page again and send it from there")])
    chosen = whole(project)  # (an id the database holds: a longer number is no project either)
    if chosen is None:
        raise InvalidInput(Msg("objection"), [Msg("choose the project you object to")])
    if _limited(request):
        said = Msg("this address has sent {limit} objections; wait an hour before sending another", limit=5)
        raise InvalidInput(Msg("objection"), [said])
    appeal = engine.file_objection(cycle_id, chosen, name, contact, reason)
    named = next((e for _, _, rows in p.versions[:1] for e in rows if e.project_id == appeal.project_id), None)
    return render(request, "public_objection.html", None, p=p, appeal=appeal, named=named)


@router.get("/public/{cycle_id}/bundle.json")
def public_bundle(request: Request, cycle_id: str) -> Response:
    name, data = engine_of(request).public_bundle(cycle_id)
    headers = {"Content-Disposition": content_disposition(name), "X-Content-Type-Options": "nosniff"}
    return Response(content=data, media_type="application/json", headers=headers)
