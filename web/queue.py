"""The scorer's queue, 待评分: the projects their city (or they, when the program scores per
scorer) has not yet scored in the cycle's scoring stage, each a link to its sheet, from one read
of the cycle's sheets. The lead sees every party's count and each party's queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from i18n import Msg
from policies.base import party_words
from web import views
from web.auth import Me
from web.pages import engine_of, render
from workflow.errors import NotPermitted
from workflow.records import Cycle, Project, User

router = APIRouter(include_in_schema=False)

# the projects a queue's page lists, from the first: each one scored leaves the list, so the next
# are always among them (a city at 10,000 projects would otherwise get a page of 10,000 rows)
SHOWN = 200


@dataclass
class Queue:
    """What is left to score: for one party (or scorer), or for the lead every party's count."""

    scoring: bool  # whether the cycle is in its scoring stage
    party: str | None = None  # whose queue (a party id), None for the lead's overview
    projects: list[Project] = field(default_factory=list)  # the first SHOWN of those left
    counts: list[tuple[str, Any, int]] = field(default_factory=list)  # the lead's (party, name, left)
    total: int = 0  # the projects every party scores
    left: int = 0  # how many are left to the party (``projects`` holds the first of them)


def may_see(user: User, program: Any) -> bool:
    """The lead, a city's administrator, and whoever the program lets enter a score sheet."""
    if user.role in ("lead", "city-admin"):
        return True
    return views.may_score(user, program)


def build(engine: Any, user: User, cycle: Cycle, city: str | None = None) -> Queue:
    """The queue of ``user`` (a lead names the ``city``; without one, every party's count)."""
    program = engine.program_of(cycle)
    if not may_see(user, program):
        role = views.ROLE_NAMES.get(user.role, user.role)
        why = Msg("{name} is {role}", name=user.name, role=role)
        raise NotPermitted(Msg("read"), Msg("the projects left to score"), why)
    if city is not None and user.role != "lead" and city != user.city:
        why = Msg("{name} acts for {city}", name=user.name, city=party_words(program.parties, user.city or ""))
        raise NotPermitted(Msg("read"), Msg("the projects left to score"), why)
    if city is not None:
        program.party(city)  # an unknown city is not found
    trigger = program.sheet_trigger
    scoring = bool(trigger) and program.stage_of_action.get(trigger) == cycle.stage
    if not scoring:
        return Queue(False, city or user.city)
    per_scorer = program.sheets_per == "scorer" and user.role not in ("lead", "city-admin")
    # counted and read by the database: the projects left, never the whole cycle and its sheets
    if user.role == "lead" and city is None:
        left_by, total, _ = engine.unscored_counts(user.name, cycle.id)
        counts = [(p.id, p.name, left_by.get(p.id, 0)) for p in program.parties]
        return Queue(True, None, counts=counts, total=total)
    total = engine.unscored(user.name, cycle.id, None, limit=0)[1]  # (the shortlist the user reads)
    party = city or user.city or ""
    whose = user.name if per_scorer else party
    first, left = engine.unscored(user.name, cycle.id, whose, by_scorer=per_scorer, limit=SHOWN)
    return Queue(True, party, projects=first, total=total, left=left)


@router.get("/queue", response_class=HTMLResponse)
def queue_page(request: Request, me: Me, cycle: str | None = None, city: str | None = None) -> Response:
    engine = engine_of(request)
    chosen = views.choose_cycle(engine, cycle)
    program = engine.program_of(chosen)
    q = build(engine, me.user, chosen, city or None)
    return render(
        request,
        "queue.html",
        me,
        cycle=chosen,
        program=program,
        waiting=q,
        may_upload=views.may_score(me.user, program),
    )


@router.get("/queue/next")
def queue_next(request: Request, me: Me, cycle: str | None = None, after: int = 0) -> Response:
    """The next project of the queue after ``after`` (from the start again at its end), among
    the first SHOWN left: each one scored leaves them."""
    engine = engine_of(request)
    chosen = views.choose_cycle(engine, cycle)
    q = build(engine, me.user, chosen)
    ids = [p.id for p in q.projects if p.id is not None and p.id != after]
    if not ids:
        # (the queue's page says that every project is scored: a read keeps no flash to write)
        return RedirectResponse(f"/queue?cycle={chosen.id}", status_code=303)
    target = next((pid for pid in ids if pid > after), ids[0])
    return RedirectResponse(f"/projects/{target}#score-form", status_code=303)
