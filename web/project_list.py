"""The console's project list: search, sort, filters shown as removable chips, page size and
page numbers, select-all for the bulk actions, a score column once there are scores, and the
export of the current view (XLSX, CSV). A page reads only itself: the engine's ``project_page``
has the database filter, count, order and window the projects, applications left out, within
what the reader may read."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

import i18n
from i18n import Msg
from web import pages, views
from web.auth import Me
from workflow.errors import InvalidInput
from workflow.page_query import Match, PageQuery, SortKey, enumerate_matches
from workflow.program import Program
from workflow.records import Cycle, Project, User

router = APIRouter(include_in_schema=False)

PAGE_SIZES = (20, 50, 100, 200)
# the list's sortable columns: the query's name -> the store's column (score and category apart)
SORTS = {
    "id": "id",
    "city": "city",
    "unit": "unit_name",
    "project": "project_name",
    "state": "state",
    "category": "category",
    "score": "score",
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADINGS = {
    "id": Msg("No."),
    "city": Msg("City"),
    "unit": Msg("Unit"),
    "project": Msg("Project"),
    "state": Msg("State"),
    "category": Msg("Category"),
    "score": Msg("Score"),
}


@dataclass
class View:
    """What a view of the list is: its filters, search, order and window, as its link says."""

    cycle: str
    city: str = ""
    state: str = ""
    category: str = ""
    action: str = ""
    q: str = ""
    sort: str = ""
    dir: str = ""
    size: int = 0  # 0: the default page size
    page: int = 1

    def url(self, path: str = "/projects", **changes: Any) -> str:
        """The link of this view with ``changes`` (the filters first, as the list always linked them)."""
        v = {**self.__dict__, **changes}
        params: list[tuple[str, Any]] = [("cycle", v["cycle"])]
        params += [(k, v[k]) for k in ("city", "state", "category", "action")]
        if v["page"] != 1 or "page" in changes:
            params.append(("page", v["page"]))
        params += [(k, v[k]) for k in ("q", "sort", "dir") if v[k]]
        if v["size"]:
            params.append(("size", v["size"]))
        params += [(k, value) for k, value in changes.items() if k not in self.__dict__]  # (select, format)
        return path + "?" + urlencode(params, quote_via=quote)


def _placed_states(program: Program) -> dict[str, str]:
    """State -> the list category ``place`` leads there with (as ``views.placed_category`` reads it)."""
    out: dict[str, str | None] = {}
    for spec in program.transition_specs:
        if spec.trigger == "place" and spec.dest is not None and spec.dest not in out:
            out[spec.dest] = spec.when.get("category")
    return {s: c for s, c in out.items() if c is not None}


def category_terms(program: Program, key: str, listed: dict[int, str]) -> list[Match]:
    """``views.category_key(project) == key`` as SQL terms: the states ``place`` leads to with
    that category, an awarded project by its published category, else a review result of a
    project not on the list."""
    placed = _placed_states(program)
    awarded = "awarded" not in placed  # (placed_category reads an award from the published list)
    on_list = tuple(pid for pid, cat in listed.items() if cat not in (None, "none"))
    if key.startswith("result:"):
        result = key.removeprefix("result:")
        if result in ("", "none"):
            return []
        rest = tuple(s for s in program.states if s not in placed and s != "awarded")
        terms = [Match(states=rest, review_results=(result,))]
        if awarded:
            terms.append(Match(states=("awarded",), review_results=(result,), not_ids=on_list))
        return terms
    terms = [Match(states=tuple(s for s, c in placed.items() if c == key))]
    if awarded:
        terms.append(Match(states=("awarded",), ids=tuple(pid for pid, c in listed.items() if c == key)))
    return terms


def action_terms(program: Program, wanted: str, user: User, cycle: Cycle) -> list[Match]:
    """The to-do filter (``views.action_matches``) as SQL terms, asked of each party, state,
    reopened stage and taken record (what it reads of a project)."""

    def keep(p: Project) -> bool:
        return views.action_matches(program, wanted, user, p, cycle, views.actions_for(user, p, cycle, program))

    stay = {s.trigger for s in program.transition_specs if s.dest is None}
    keys = [k for t, k in program.record_keys.items() if t in stay]
    reopened = (None, *(s.id for s in program.stages))
    return enumerate_matches(keep, [p.id for p in program.parties], program.states, reopened, None, keys)


def published_categories(engine: Any, user: User, cycle: Cycle) -> dict[int, str]:
    """Each project's category on the published list (empty before one is published)."""
    _, versions, _ = engine.list_versions(user.name, cycle.id)
    published = [v for v in versions if v.status == "published"]
    return {e.project_id: e.category for e in published[-1].entries} if published else {}


def page_query(engine: Any, user: User, cycle: Cycle, program: Program, view: View) -> tuple[PageQuery, str | None]:
    """The engine's query for a view (every row: the caller sets its window) and its score order."""
    query = PageQuery(search=view.q)
    if view.city:
        query.all_of.append([Match(cities=(view.city,))])
    if view.state:
        query.all_of.append([Match(states=(view.state,))])
    if view.category:
        query.all_of.append(category_terms(program, view.category, published_categories(engine, user, cycle)))
    if view.action:
        query.all_of.append(action_terms(program, view.action, user, cycle))
    if view.sort and view.sort not in SORTS:
        raise InvalidInput(Msg("sort"), [Msg("{sort!r} is not a column of the list", sort=view.sort)])
    if view.dir not in ("", "asc", "desc"):
        raise InvalidInput(Msg("sort"), [Msg("{dir!r} is neither asc nor desc", dir=view.dir)])
    descending = view.dir == "desc"
    if view.sort == "score":
        return query, ("asc" if view.dir == "asc" else "desc")  # (best first unless asked)
    column = SORTS.get(view.sort or "id", "id")
    if column == "city":
        order = {p.id: n for n, p in enumerate(program.parties)}
        query.sort = [SortKey("city", descending, tuple(order.items()))]
    elif column in ("state", "category"):
        # the program's order of its states (a category: the placed state, then the result)
        order = {s: n for n, s in enumerate(program.states)}
        query.sort = [SortKey("state", descending, tuple(order.items()))]
        if column == "category":
            results = {r: n for n, r in enumerate(program.results)}
            query.sort.append(SortKey("review_result", descending, tuple(results.items())))
    else:
        query.sort = [SortKey(column, descending)]
    return query, None


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
    rows = [
        (p, views.category_key(program, p, listed), views.actions_for(me.user, p, chosen, program))
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


def export_rows(engine: Any, user: User, cycle: Cycle, view: View) -> list[list[Any]]:
    """The view's rows as the export writes them, its headings first, in the reader's language:
    parties and states by name, never by id."""
    program = engine.program_of(cycle)
    query, by_score = page_query(engine, user, cycle, program, view)
    found = engine.project_page(user.name, cycle.id, query, by_score)
    listed = views.listed_categories(engine, user, cycle, found.projects)
    names = {p.id: p.name for p in program.parties}
    lang = "en" if i18n.current() == "en" else "zh"
    keys = [k for k in HEADINGS if k != "score" or found.scored]
    out: list[list[Any]] = [[str(HEADINGS[k]) for k in keys]]
    for p in found.projects:
        row = [
            p.id,
            names.get(p.city, p.city),
            p.unit_name,
            p.project_name,
            program.state_name(p.state, lang),
            str(i18n.rendered(views.category_label(program, p, listed), i18n.current()) or ""),
        ]
        if found.scored:
            row.append(found.scores.get(p.id or 0, ""))
        out.append(row)
    return out


def export_response(engine: Any, user: User, cycle: Cycle, view: View, fmt: str) -> Response:
    """The export of ``view`` as ``fmt`` (xlsx or csv), named after the cycle."""
    if fmt not in ("xlsx", "csv"):
        raise InvalidInput(Msg("format"), [Msg("{format!r} is not one of xlsx, csv", format=fmt)])
    rows = export_rows(engine, user, cycle, view)
    name = f"projects-{cycle.id}.{fmt}"
    disposition = {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}
    if fmt == "csv":
        text = io.StringIO()
        csv.writer(text).writerows(rows)
        # with a byte-order mark: Excel and WPS then read the Chinese as UTF-8
        body = ("\ufeff" + text.getvalue()).encode()
        return Response(body, media_type="text/csv; charset=utf-8", headers=disposition)
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(Msg("Projects")))
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    return Response(data.getvalue(), media_type=XLSX, headers=disposition)
