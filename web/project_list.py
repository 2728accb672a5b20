"""The console's project list: search, sort, filters shown as removable chips, page size and
page numbers, select-all for the bulk actions, a score column once there are scores, and the
export of the current view (XLSX, CSV). A page reads only itself: the engine's ``project_page``
has the database filter, count, order and window the projects, applications left out, within
what the reader may read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from i18n import Msg
from web import pages, views
from web.auth import Me
from web.project_views import HEADINGS, View, export_response, page_query
from workflow.errors import InvalidInput
from workflow.program import Program

router = APIRouter(include_in_schema=False)

PAGE_SIZES = (20, 50, 100, 200)


def _size(view: View) -> int:
    if view.size and view.size not in PAGE_SIZES:
        sizes = ", ".join(str(n) for n in PAGE_SIZES)
        raise InvalidInput(Msg("page size"), [Msg("{size} is not one of {sizes}", size=view.size, sizes=sizes)])
    return view.size or pages.PAGE_SIZE


def chips(program: Program, view: View, categories: dict[str, Any]) -> list[tuple[Any, str]]:
    """Each active filter in words, with the link of the view without it."""
    out: list[tuple[Any, str]] = []
    if view.q:
        out.append((Msg("Search: {text}", text=view.q), view.url(q="", page=1)))
    if view.city:
        names = {p.id: p.name for p in program.parties}
        out.append((Msg("City: {city}", city=names.get(view.city, view.city)), view.url(city="", page=1)))
    if view.state:
        state = views.state_text(program, view.state)
        out.append((Msg("State: {state}", state=state), view.url(state="", page=1)))
    if view.category:
        name = categories.get(view.category, view.category)
        out.append((Msg("Category: {category}", category=name), view.url(category="", page=1)))
    if view.action:
        action = pages.action_words(program, view.action) if "," not in view.action else None
        name = action if action is not None else views.action_name(program, view.action)
        out.append((Msg("Open to: {action}", action=name), view.url(action="", page=1)))
    return out


def page_numbers(page: int, pages_: int) -> list[int]:
    """The page numbers the pager links: the first, the last and two either side of ``page``."""
    return sorted({1, pages_, *range(max(1, page - 2), min(pages_, page + 2) + 1)})


@router.get("/projects", response_class=HTMLResponse)
def project_list(
    request: Request,
    me: Me,
    cycle: str | None = None,
    city: str | None = None,
    state: str | None = None,
    category: str | None = None,
    action: str | None = None,
    q: Annotated[str, Query(max_length=200)] = "",
    sort: Annotated[str, Query(max_length=20)] = "",
    dir: Annotated[str, Query(max_length=4)] = "",
    size: Annotated[int, Query(ge=0, le=200)] = 0,
    select: Annotated[str, Query(max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    engine = pages.engine_of(request)
    chosen = views.choose_cycle(engine, cycle)
    program = engine.program_of(chosen)
    view = View(chosen.id, city or "", state or "", category or "", action or "", q.strip(), sort, dir, size, page)
    per_page = _size(view)
    query, by_score = page_query(engine, me.user, chosen, program, view)
    query.limit, query.offset = per_page, (page - 1) * per_page
    found = engine.project_page(me.user.name, chosen.id, query, by_score)
    pages_ = max(1, -(-found.total // per_page))
    if page > pages_:  # (past the end: the last page)
        page = view.page = pages_
        query.offset = (page - 1) * per_page
        found = engine.project_page(me.user.name, chosen.id, query, by_score)
    listed = views.listed_categories(engine, me.user, chosen, found.projects)
    # (a project the reader's city has already scored is not offered as still to score)
    sheeted = views.scored_here(engine, me.user, chosen, program, [p.id for p in found.projects if p.id is not None])
    rows = [
        (
            p,
            views.category_key(program, p, listed),
            [
                t
                for t in views.actions_for(me.user, p, chosen, program)
                if not (t == program.sheet_trigger and p.id in sheeted)
            ],
        )
        for p in found.projects
    ]
    bulk = [t for t in views.bulk_actions(program) if any(t in acts for _, _, acts in rows)]
    categories = views.category_choices(program)
    return pages.render(
        request,
        "projects.html",
        me,
        cycle=chosen,
        program=program,
        rows=rows,
        labels={p.id: views.category_label(program, p, listed) for p, _, _ in rows},
        scores=found.scores,
        scored=found.scored,
        bulk=bulk,
        filters={"city": view.city, "state": view.state, "category": view.category, "action": view.action},
        view=view,
        chips=chips(program, view, categories),
        selected=select == "page",
        total=found.total,
        page=page,
        pages=pages_,
        numbers=page_numbers(page, pages_),
        per_page=per_page,
        sizes=PAGE_SIZES,
        first=(page - 1) * per_page + 1,
        categories=categories,
        headings=HEADINGS,
        action_name=lambda t: pages.action_words(program, t),
    )


@router.get("/projects/export")
def project_export(
    request: Request,
    me: Me,
    cycle: str | None = None,
    city: str | None = None,
    state: str | None = None,
    category: str | None = None,
    action: str | None = None,
    q: Annotated[str, Query(max_length=200)] = "",
    sort: Annotated[str, Query(max_length=20)] = "",
    dir: Annotated[str, Query(max_length=4)] = "",
    format: Annotated[str, Query(max_length=4)] = "xlsx",
) -> Response:
    """The current view of the list, every page of it, as a workbook or a CSV file."""
    engine = pages.engine_of(request)
    chosen = views.choose_cycle(engine, cycle)
    view = View(chosen.id, city or "", state or "", category or "", action or "", q.strip(), sort, dir)
    return export_response(engine, me.user, chosen, view, format)
