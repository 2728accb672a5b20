"""What a view of the project list is and reads, for the console's page, its export and the
API alike: its link (``View``), the engine's query for it (the to-do and category filters as SQL
terms), and its export as XLSX or CSV. (No page rendering here: web/project_list.py.)"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from fastapi.responses import Response

import i18n
from i18n import Msg
from web import views
from web.downloads import content_disposition
from workflow.errors import InvalidInput
from workflow.page_query import Match, PageQuery, SortKey, enumerate_matches
from workflow.program import Program
from workflow.records import Cycle, Project, User

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


def page_query(engine: Any, user: User, cycle: Cycle, program: Program, view: View) -> tuple[PageQuery, str | None]:
    """The engine's query for a view (every row: the caller sets its window) and its score order."""
    query = PageQuery(search=view.q)
    if view.city:
        query.all_of.append([Match(cities=(view.city,))])
    if view.state:
        query.all_of.append([Match(states=(view.state,))])
    if view.category:
        query.all_of.append(category_terms(program, view.category, views.published_categories(engine, user, cycle)))
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
    disposition = {"Content-Disposition": content_disposition(name)}
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
