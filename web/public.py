"""The public pages (公开, ``/public``), read without signing in: each program's published lists
and the versions they corrected, the notice's period and the time left in it, the list as a
bundle anyone checks with `evalflow verify`; a program without a list, the projects its results
named. Nothing unpublished is reachable here: the engine's public reads
(workflow/engine/documents.py: PublicReads) give only what was published, and a cycle with
nothing published is not found, as one that does not exist."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from web import views
from web.downloads import content_disposition
from web.pages import engine_of, render

router = APIRouter(include_in_schema=False)


def _left(ends: datetime | None, now: datetime) -> tuple[int, int] | None:
    """The notice's days and hours left (None: over, or none)."""
    if ends is None or now >= ends:
        return None
    seconds = int((ends - now).total_seconds())
    return seconds // 86400, (seconds % 86400 + 3599) // 3600


@router.get("/public", response_class=HTMLResponse)
def public_index(request: Request) -> Response:
    engine = engine_of(request)
    return render(request, "public.html", None, shown=engine.public_cycles())


@router.get("/public/{cycle_id}", response_class=HTMLResponse)
def public_cycle(request: Request, cycle_id: str) -> Response:
    engine = engine_of(request)
    p = engine.public_cycle(cycle_id)
    return render(
        request,
        "public_cycle.html",
        None,
        p=p,
        left=_left(p.notice_ends, engine.now()),
        local=lambda t: views.local_time(t, p.program),
    )


@router.get("/public/{cycle_id}/bundle.json")
def public_bundle(request: Request, cycle_id: str) -> Response:
    name, data = engine_of(request).public_bundle(cycle_id)
    headers = {"Content-Disposition": content_disposition(name), "X-Content-Type-Options": "nosniff"}
    return Response(content=data, media_type="application/json", headers=headers)
