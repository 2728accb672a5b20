"""The lead's score analysis, 评分分析 (``/scores/analysis``): what the sheets say of the cities
before a list is proposed — each city's leniency and home bias with their intervals, the cities'
agreement, the outlier sheets, three charts — and a what-if of other places (the projects that
would change category; nothing saved). Never blocking: the lead reads it and decides."""

from __future__ import annotations

from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

import i18n
from i18n import Msg
from sheets import charts
from web import views
from web.auth import Me
from web.pages import engine_of, render
from workflow.engine.context import kept_in
from workflow.errors import InvalidInput
from workflow.inputs import whole_number
from workflow.ranking import show

router = APIRouter(include_in_schema=False)

# the charts drawn of the newest analyses (drawn)
_DRAWN: dict[tuple[Any, ...], Any] = {}


def _rater_name(program: Any, rater: str) -> str:
    if program.sheets_per == "scorer":
        return rater
    return next((p.name for p in program.parties if p.id == rater), rater)


def _places_asked(request: Request, program: Any) -> dict[str, int] | None:
    """The places of the what-if form (``places.CATEGORY=N``), or None when none was asked."""
    asked: dict[str, int] = {}
    bad: list[Msg] = []
    for c in program.categories:
        raw = request.query_params.get(f"places.{c.id}")
        if raw is None or raw == "":
            continue
        n = whole_number(raw)
        if n is None:
            said = Msg(
                "{key} places = {value} must be a whole number ≥ 0", key=program.category_words(c.id), value=repr(raw)
            )
            bad.append(said)
            continue
        asked[c.id] = n
    if bad:
        raise InvalidInput(Msg("list places"), bad)
    return asked or None


def drawn(data: Any) -> dict[str, str]:
    """``draw(data)``, kept by the process for the analysis's key and the reader's language (the
    newest four: a page read again draws nothing)."""
    if not data.key:
        return draw(data)
    return cast(dict[str, str], kept_in(_DRAWN, 4, (data.key, i18n.current()), lambda: draw(data)))


def draw(data: Any) -> dict[str, str]:
    """The analysis's three charts as SVG, in the current language: each city's leniency and home
    bias, the sheet totals by city, and the ranking's head with each project's spread (the page's,
    and docs/charts.py's of the demo's cycle)."""
    program, a = data.program, data.analysis
    shown = [r for r in a.raters if r.sheets]
    unit = Msg("points").render()
    pictures: dict[str, str] = {}
    if shown:
        pictures["offsets"] = charts.offsets(
            [(_rater_name(program, r.rater), r.leniency, r.home_bias) for r in shown],
            Msg("Leniency and home bias, with their intervals").render(),
            Msg("Leniency").render(),
            Msg("Home bias").render(),
            unit,
        )
        pictures["distributions"] = charts.distributions(
            [(_rater_name(program, r.rater), data.totals_by_rater.get(r.rater, [])) for r in shown],
            Msg("Sheet totals by city").render(),
            unit,
        )
    if data.ranked:
        edges, edge = [], 0
        for category, n in data.places:
            edge += n
            edges.append((edge, str(program.category_words(category))))
        rows = []
        for r in data.ranked:
            low, high = data.spread.get(r.project_id, (r.score, r.score))
            name = data.projects.get(r.project_id, ("", ""))[1]
            rows.append((f"{r.rank}. {name[:18]}", float(r.score), float(low), float(high)))
        title = Msg("The ranking's head, each score with the cities' lowest and highest").render()
        pictures["ranking"] = charts.ranking(rows, edges, title, unit)
    return pictures


@router.get("/scores/analysis", response_class=HTMLResponse)
def analysis_page(request: Request, me: Me, cycle: str | None = None) -> Response:
    engine = engine_of(request)
    chosen = views.choose_cycle(engine, cycle)
    program = engine.program_of(chosen)
    data = engine.score_analysis(me.user.name, chosen.id)  # (the lead's: anyone else is refused)
    a = data.analysis
    asked = _places_asked(request, program)
    what_if = engine.what_if(me.user.name, chosen.id, asked) if asked is not None else None
    name = lambda rater: _rater_name(program, rater)  # noqa: E731
    shown = [r for r in a.raters if r.sheets]
    pictures = drawn(data)
    criteria = {c.id: c.short or c.name for c in program.criteria}
    return render(
        request,
        "analysis.html",
        me,
        cycle=chosen,
        program=program,
        data=data,
        a=a,
        shown=shown,
        name=name,
        criteria=criteria,
        pictures=pictures,
        what_if=what_if,
        asked=asked or {},
        show=show,
        city_name=lambda city: next((p.name for p in program.parties if p.id == city), city),
    )
