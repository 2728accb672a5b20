"""The applicant's pages: the program's application form online (a draft kept, then submitted
inside the window), the change of a submitted application while the program allows it, and the
applicant's own applications with their status, result and appeals.

The form is made from the program's ``[form]`` declaration (workflow/form.py): a fieldset a
section, the repeated group as rows (a fixed number of empty rows and a "more rows" button
without JavaScript; web/static/portal.js adds rows live), the party fixed to the applicant's own
city. Every action is the engine's, as the signed-in user: a draft (save_draft), a submission
(submit_application: the engine's submit, every rule of it), an edit (edit_application). A
refused form is answered with the same page, everything typed in it, and the problems listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

import i18n
from i18n import Msg
from web import views
from web.auth import Me, Posted, Signed
from web.ids import Id
from web.pages import done, engine_of, render
from workflow.engine.portal import editable
from workflow.errors import EvalflowError, InvalidInput, NotPermitted
from workflow.form import Form, FormField, _accepts, _blank
from workflow.program import Program
from workflow.records import Cycle, Project

router = APIRouter(include_in_schema=False)

EMPTY_ROWS = 3  # the group's rows a form shows at least (a "more rows" button adds MORE_ROWS)
MORE_ROWS = 3
MAX_ROWS = 200  # a posted form's rows read at most (a team, a list of member units)


async def posted_fields(request: Request) -> FormData:
    """The whole posted form, every value of a repeated name (a list's ticked choices); the CSRF
    token is checked by ``Posted`` first."""
    return await request.form()


Fields = Annotated[FormData, Depends(posted_fields)]


# ------------------------------------------------------------------------------------------ the form
def read_form(form: Form, posted: FormData, city: str | None) -> tuple[dict[str, Any], int]:
    """The application as typed on the page (an answer that is not of its field's kind is kept as
    typed, for the engine's check to name and the page to show again), and how many of the
    group's rows the page had. The party field is the applicant's own city, whatever was posted."""
    data: dict[str, Any] = {}
    for f in form.fields:
        if f.kind == "party":
            value: Any = city or ""
        else:
            value = _typed(f, posted.getlist(f"f:{f.path}"))
        if value is None:
            continue
        holder = data
        *sections, name = f.parts
        for part in sections:
            holder = holder.setdefault(part, {})
        holder[name] = value
    shown = _number(str(posted.get("rows", "")), EMPTY_ROWS)
    g = form.group
    if g is not None:
        rows = []
        for i in range(min(shown, MAX_ROWS)):
            row = {f.name: _typed(f, posted.getlist(f"g:{i}:{f.name}")) for f in g.fields}
            row = {k: v for k, v in row.items() if v is not None}
            if not row:  # an empty row of the page is no member
                continue
            for flag in g.flags:
                row[flag.name] = posted.get(f"g:{i}:{flag.name}") == "true"
            rows.append(row)
        data[g.key] = rows
    return data, shown


def _number(raw: str, least: int) -> int:
    return max(least, min(int(raw), MAX_ROWS)) if raw.isdecimal() else least


def _typed(f: FormField, values: list[Any]) -> Any:
    """One field's posted values as the application holds them (None: left empty)."""
    texts = [str(v).strip() for v in values if isinstance(v, str)]
    if f.kind == "list":
        return [t for t in texts if t] if values or f.required else None
    raw = texts[0] if texts else ""
    if not raw:
        return None
    if f.kind == "bool":
        return {"true": True, "false": False}.get(raw, raw)
    if f.kind == "int" and raw.isdecimal():
        return int(raw)
    if f.kind == "number":
        try:
            number = float(raw)
        except ValueError:
            return raw
        return int(number) if number.is_integer() else number
    return raw


def problems_of(form: Form, data: Mapping[str, Any]) -> list[Msg]:
    """Every field the applicant still has to fill in or correct, by its label: the same test of
    each kind as the engine's check of a submission (workflow/form.py), said for the page."""
    out: list[Msg] = []
    for f in form.fields:
        if f.kind != "party":
            out += _field_problems(f, f.get(data), f.zh)
    g = form.group
    if g is not None:
        rows = data.get(g.key) or []
        if len(rows) < g.min_rows:
            n = len(rows)
            out.append(Msg("{group}: at least {least} filled in, {have} given", group=g.zh, least=g.min_rows, have=n))
        for i, row in enumerate(rows, start=1):
            for f in g.fields:
                where = Msg("{group}, row {row}: {label}", group=g.zh, row=i, label=f.zh)
                out += _field_problems(f, row.get(f.name), where)
    return out


# what a field's answer still needs, by its kind
_NEEDS = {
    "date": Msg("{label}: enter a date (YYYY-MM-DD)").id,
    "int": Msg("{label}: enter a whole number, 0 or more").id,
    "number": Msg("{label}: enter a number, 0 or more").id,
    "bool": Msg("{label}: choose yes or no").id,
    "choice": Msg("{label}: choose one of the choices").id,
    "list": Msg("{label}: tick the choices that apply").id,
}


def _field_problems(f: FormField, value: Any, label: Any) -> list[Msg]:
    accepts, required, choices = _accepts(f)
    if accepts(value, choices) or (not required and _blank(value)):
        return []
    if _blank(value) and f.kind not in ("bool", "choice"):
        return [Msg("{label}: please fill this in", label=label)]
    return [Msg(_NEEDS.get(f.kind, "{label}: please fill this in"), label=label)]


def form_sections(form: Form) -> list[tuple[str, list[FormField]]]:
    """The form's fields by section, in the order of their first field."""
    out: dict[str, list[FormField]] = {}
    for f in form.fields:
        out.setdefault(f.parts[0] if len(f.parts) > 1 else "", []).append(f)
    return list(out.items())


def _program_form(program: Program) -> Form:
    if program.form is None:
        raise InvalidInput("application", [Msg("program {id} has no application form ([form])", id=program.id)])
    return program.form


def open_cycles(engine: Any, me: Signed, cycles: list[Cycle] | None = None) -> list[Cycle]:
    """The cycles (of ``cycles``, else every one) in their submission stage whose program lets the
    user submit for their city."""
    out = []
    for c in engine.cycles() if cycles is None else cycles:
        program = engine.program_of(c)
        stage = program.stage_of_action.get("submit")
        if program.form is not None and c.stage == stage and views.may(me.user, program, "submit", me.user.city):
            out.append(c)
    return out


def _form_page(
    request: Request,
    me: Signed,
    cycle: Cycle,
    program: Program,
    data: Mapping[str, Any],
    rows: int,
    *,
    project: Project | None = None,
    problems: list[Any] | None = None,
    refusal: Any = None,
    status: int = 200,
    saved_at: Any = None,
) -> Response:
    form = _program_form(program)
    g = form.group
    have = len(data.get(g.key) or []) if g is not None else 0
    window = program.window(program.stage_of_action["submit"], cycle.year)
    return render(
        request,
        "apply.html",
        me,
        status=status,
        cycle=cycle,
        program=program,
        form=form,
        sections=form_sections(form),
        data=data,
        rows=max(rows, have, g.min_rows if g is not None else 0, EMPTY_ROWS),
        project=project,
        problems=problems or [],
        refusal=refusal,
        saved_at=views.local_time(saved_at, program) if saved_at else "",
        closes=views.local_time(window.closes, program) if window is not None and window.closes else "",
        city_name=next((p.name for p in program.parties if p.id == me.user.city), me.user.city or ""),
        action_url=f"/projects/{project.id}/application" if project is not None else f"/apply/{cycle.id}",
    )


# ------------------------------------------------------------------------------------------ pages
@router.get("/apply", response_class=HTMLResponse)
def apply_start(request: Request, me: Me) -> Response:
    """The cycles open for applications: straight to the form when there is one."""
    engine = engine_of(request)
    _applies(engine, me)
    cycles = open_cycles(engine, me)
    if len(cycles) == 1:
        return RedirectResponse(f"/apply/{cycles[0].id}", status_code=303)
    names = {c.id: _cycle_name(engine.program_of(c), c) for c in cycles}
    return render(request, "apply_pick.html", me, cycles=cycles, names=names)


def _may_apply(me: Signed, program: Program) -> None:
    """The form is for a user who may submit for their city (the engine checks it again on each
    action; this says so in the reader's words before the form is shown)."""
    if not views.may(me.user, program, "submit", me.user.city):
        raise NotPermitted(Msg("fill in"), Msg("the application form"), Msg("your role does not submit applications"))


def _applies(engine: Any, me: Signed) -> None:
    """Only a user whose role submits applications in some program has these pages."""
    if not any(views.may(me.user, engine.programs.get(p), "submit", me.user.city) for p in engine.programs.ids()):
        raise NotPermitted(Msg("read"), Msg("my applications"), Msg("your role does not submit applications"))


def _cycle_name(program: Program, cycle: Cycle) -> Any:
    return Msg("{year} {program}", year=cycle.year, program=program.name)


@router.get("/apply/{cycle_id}", response_class=HTMLResponse)
def apply_page(request: Request, me: Me, cycle_id: str) -> Response:
    """The application form, with the applicant's draft when they saved one."""
    engine = engine_of(request)
    cycle = engine.get_cycle(cycle_id)
    program = engine.program_of(cycle)
    _may_apply(me, program)
    draft = engine.draft(me.user.name, cycle.id)
    data = draft.data if draft is not None else {}
    return _form_page(request, me, cycle, program, data, 0, saved_at=draft.updated_at if draft else None)


@router.post("/apply/{cycle_id}")
def apply_post(request: Request, me: Me, form: Posted, posted: Fields, cycle_id: str) -> Response:
    """Save the draft, show more rows, remove the draft, or submit."""
    engine = engine_of(request)
    cycle = engine.get_cycle(cycle_id)
    program = engine.program_of(cycle)
    _may_apply(me, program)
    data, rows = read_form(_program_form(program), posted, me.user.city)
    do = form.get("do", "")
    try:
        if do == "more":
            return _form_page(request, me, cycle, program, data, rows + MORE_ROWS)
        if do == "save":
            engine.save_draft(me.user.name, cycle.id, data)
            return done(request, me, Msg("Draft saved; nobody else sees it until you submit."), f"/apply/{cycle.id}")
        if do == "discard":
            engine.delete_draft(me.user.name, cycle.id)
            return done(request, me, Msg("Draft removed."), "/mine")
        if do != "submit":
            raise InvalidInput("request", [Msg("{do!r} is not an action of this form", do=do)])
        problems = problems_of(_program_form(program), data)
        if problems:
            return _form_page(request, me, cycle, program, data, rows, problems=problems, status=400)
        p = engine.submit_application(me.user.name, cycle.id, data)
    except EvalflowError as exc:
        if exc.kind in ("not_permitted", "not_found", "not_signed_in"):
            raise
        return _form_page(request, me, cycle, program, data, rows, refusal=exc, status=_status(exc))
    return done(request, me, Msg("Application submitted: project {id}", id=p.id), f"/projects/{p.id}")


@router.get("/projects/{project_id}/application", response_class=HTMLResponse)
def edit_page(request: Request, me: Me, project_id: Id) -> Response:
    """The form, filled in with the project's application, while its applicant may change it."""
    engine = engine_of(request)
    p, _, _ = engine.project(me.user.name, project_id)
    cycle = engine.get_cycle(p.cycle_id)
    program = engine.program_of(cycle)
    _may_edit(me, program, p)
    return _form_page(request, me, cycle, program, p.application, 0, project=p)


def _may_edit(me: Signed, program: Program, p: Project) -> None:
    """A page of no use is not shown: the user may not submit for the project's city, or the
    program lets nobody change it in its state (the engine judges the edit itself again)."""
    if not views.may(me.user, program, "submit", p.city):
        raise NotPermitted(Msg("edit the application of"), Msg("project {id}", id=p.id), Msg("not your city's"))
    if not editable(program, p):
        raise NotPermitted(
            Msg("edit the application of"),
            Msg("project {id}", id=p.id),
            Msg("it can no longer be changed: it is {state}", state=views.state_text(program, p.state)),
        )


@router.post("/projects/{project_id}/application")
def edit_post(request: Request, me: Me, form: Posted, posted: Fields, project_id: Id) -> Response:
    """Show more rows, or replace the application (the engine's edit_application)."""
    engine = engine_of(request)
    p, _, _ = engine.project(me.user.name, project_id)
    cycle = engine.get_cycle(p.cycle_id)
    program = engine.program_of(cycle)
    data, rows = read_form(_program_form(program), posted, p.city)
    seen = form.get("expected_version", "")
    try:
        _may_edit(me, program, p)
        if form.get("do") == "more":
            return _form_page(request, me, cycle, program, data, rows + MORE_ROWS, project=p)
        problems = problems_of(_program_form(program), data)
        if problems:
            return _form_page(request, me, cycle, program, data, rows, project=p, problems=problems, status=400)
        engine.edit_application(me.user.name, p.id, data, int(seen) if seen.isdecimal() else None)
    except EvalflowError as exc:
        if exc.kind in ("not_permitted", "not_found", "not_signed_in"):
            raise
        return _form_page(request, me, cycle, program, data, rows, project=p, refusal=exc, status=_status(exc))
    return done(request, me, Msg("Application of project {id} saved", id=p.id), f"/projects/{p.id}")


@router.get("/mine", response_class=HTMLResponse)
def my_applications(request: Request, me: Me) -> Response:
    """The user's own applications in every cycle: status, result, appeals; and their drafts."""
    engine = engine_of(request)
    _applies(engine, me)
    items = []
    cycles = engine.cycles()
    for cycle in cycles:
        program = engine.program_of(cycle)
        mine = engine.own_projects(me.user.name, cycle.id)  # (theirs only, by the database)
        if not mine:
            continue
        _, appeals = engine.appeals(me.user.name, cycle.id)
        listed = views.listed_categories(engine, me.user, cycle, mine)
        for p in mine:
            category = views.placed_category(program, p, listed)
            items.append(
                {
                    "p": p,
                    "cycle": _cycle_name(program, cycle),
                    "state": views.state_text(program, p.state),
                    "result": program.results.get(p.review_result, p.review_result) if p.review_result else "",
                    "category": program.category_name(category, _lang()) if category and category != "none" else "",
                    "appeals": [a for a in appeals if a.project_id == p.id],
                    "editable": editable(program, p) and views.may(me.user, program, "submit", p.city),
                    "local": views.local_time(p.submitted_at, program),
                }
            )
    drafts = []
    by_id = {c.id: c for c in cycles}
    for d in engine.my_drafts(me.user.name):
        c = by_id.get(d.cycle_id) or engine.get_cycle(d.cycle_id)
        program = engine.program_of(c)
        drafts.append({"d": d, "cycle": _cycle_name(program, c), "at": views.local_time(d.updated_at, program)})
    return render(
        request,
        "mine.html",
        me,
        items=items,
        drafts=drafts,
        may_apply=bool(open_cycles(engine, me, cycles)),
    )


# the status of a form answered again after a refusal, by the refusal's kind (as web.app's STATUS;
# the others are answered by its error pages)
_STATUS = {"refused": 422, "conflict": 409, "invalid_input": 400}


def _status(exc: EvalflowError) -> int:
    return _STATUS.get(exc.kind, 400)


def _lang() -> str:
    return "en" if i18n.current() == "en" else "zh"
