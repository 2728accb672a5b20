"""The console's pages: server-rendered, in the reader's language (Chinese unless they switch
to English in the header; see web/language.py). Every form posts its session's CSRF
token; every action goes through the engine as the signed-in user; a refusal comes back to the
page it was made from, in the same words as the command line."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

import i18n
from i18n import Joined, Msg, Text
from policies.base import RULE_NAMES
from web import views
from web.auth import (
    Me,
    Posted,
    Signed,
    client_address,
    end_session,
    keep_login_token,
    login_token_ok,
    new_login_token,
    session_of,
    start_session,
)
from web.ids import Id, whole
from workflow.accounts import LOCKOUT, MAX_FAILURES
from workflow.errors import EvalflowError, InvalidInput, NotSignedIn
from workflow.records import Project

router = APIRouter(include_in_schema=False)

KIND_NAMES = {
    "refused": Msg("Refused by a rule"),
    "not_permitted": Msg("Not permitted"),
    "not_found": Msg("Not found"),
    "conflict": Msg("Changed by someone else"),
    "invalid_input": Msg("Invalid input"),
    "not_signed_in": Msg("Not signed in"),
}
ERROR = Msg("Error")
DONE = Msg("Done")


PAGE_SIZE = 200  # projects per page of the project list (web/project_list.py), unless the reader chooses


def engine_of(request: Request) -> Any:
    return request.app.state.engine


def flash_words(message: Any) -> dict[str, str]:
    """A flash's words in every language: it is kept with the session until the next page,
    which may be read in the other language (the reader switches in between)."""
    return {lang: str(i18n.rendered(message, lang)) for lang in i18n.LANGUAGES}


def _in_language(words: Any) -> Any:
    """A flash's words as its reader reads them (a flash kept before flashes had every
    language is shown as it was kept)."""
    if isinstance(words, dict):
        return words.get(i18n.current()) or words.get(i18n.DEFAULT, "")
    return words


def _city_names(engine: Any, program: Any, me: Signed | None) -> dict[str, str]:
    """The parties' names by id: the page's program's, else (a page of no program, an error
    page) those of the programs that have the reader's city, so the header names it."""
    if program is not None:
        return {p.id: p.name for p in program.parties}
    city = me.user.city if me is not None else None
    if not city or i18n.current() == "en":  # (the English header keeps the id, as before)
        return {}
    for program_id in engine.programs.ids():
        parties = engine.programs.get(program_id).parties
        if any(p.id == city for p in parties):
            return {p.id: p.name for p in parties}
    return {}


def render(request: Request, template: str, me: Signed | None, status: int = 200, **context: Any) -> HTMLResponse:
    engine = engine_of(request)
    kept = engine.flash(me.session) if me is not None and me.session.flash else []  # taken once
    flashes = [{**f, "title": _in_language(f.get("title")), "text": _in_language(f.get("text"))} for f in kept]
    refill: dict[str, str] = {}
    for f in flashes:
        refill.update(f.get("form") or {})
    context.setdefault("refill", refill)
    program = context.get("program")
    context.setdefault("city_names", _city_names(engine, program, me))
    # the program's words (its actions, parameters, states) in the reader's language
    lang = "en" if i18n.current() == "en" else "zh"
    context.setdefault("lang", lang)
    if program is not None:
        context.setdefault("state_name", lambda st: program.state_name(st, lang) if st else "")
    return request.app.state.templates.TemplateResponse(
        request,
        template,
        {
            "me": me.user if me else None,
            "csrf": me.session.csrf if me else "",
            "role_name": views.ROLE_NAMES,
            "rule_name": lambda rule: RULE_NAMES.get(rule, rule),
            "list_status": views.LIST_STATUS,
            "appeal_status": views.APPEAL_STATUS,
            "flashes": flashes,
            **context,
        },
        status_code=status,
    )


def error_page(request: Request, exc: EvalflowError, status: int) -> Response:
    """A refused action goes back to its page with the message; anything else is a page of its own."""
    me = session_of(request)
    back = _back(request)
    if request.method == "POST" and me is not None and back:
        kept = getattr(request.state, "form", {})
        engine_of(request).flash(
            me.session,
            {
                "kind": "error",
                "title": flash_words(KIND_NAMES.get(exc.kind, ERROR)),
                "text": flash_words(exc),
                "form": kept,
            },
        )
        return RedirectResponse(back, status_code=303)
    return render(
        request,
        "error.html",
        me,
        status=status,
        title=str(KIND_NAMES.get(exc.kind, ERROR)),
        message=str(exc),
        kind=exc.kind,
    )


def _back(request: Request) -> str:
    """The page a form was posted from, if it is one of ours (never another site)."""
    ref = request.headers.get("referer", "")
    if not ref:
        return ""
    parsed = urlparse(ref)
    if parsed.netloc and parsed.netloc != request.url.netloc:
        return ""
    return parsed.path + (f"?{parsed.query}" if parsed.query else "")


def done(request: Request, me: Signed, text: Any, to: str | None = None) -> RedirectResponse:
    """Back to the page (or ``to``) with ``text`` (a message) shown once as done."""
    engine_of(request).flash(me.session, {"kind": "ok", "title": flash_words(DONE), "text": flash_words(text)})
    return RedirectResponse(to or _back(request) or "/", status_code=303)


# ------------------------------------------------------------------------------------------ signing in
def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    token = new_login_token()
    response = render(request, "login.html", None, next=_safe_next(next), login_csrf=token, error="")
    keep_login_token(request, response, token)
    return response


@router.post("/login")
def login(
    request: Request,
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    engine = engine_of(request)
    error = ""  # (rendered now: the page is answered in the reader's language)
    if not login_token_ok(request, csrf):
        error = str(Msg("The sign-in form is stale; sign in again."))
    else:
        try:
            user = engine.sign_in(name.strip(), password, client_address(request))
        except NotSignedIn as exc:
            error = str(exc)
        else:
            token, _ = engine.open_session(user, request.app.state.idle)
            response = RedirectResponse(_safe_next(next), status_code=303)
            start_session(request, response, token)
            return response
    token = new_login_token()
    # (the same page whether the name is unknown, the password wrong or this address must wait)
    waits = {"failures": MAX_FAILURES, "minutes": int(LOCKOUT.total_seconds() // 60)}
    page = render(
        request, "login.html", None, status=401, next=_safe_next(next), login_csrf=token, error=error, waits=waits
    )
    keep_login_token(request, page, token)
    return page


@router.post("/logout")
def logout(request: Request, me: Me, form: Posted) -> Response:
    response = RedirectResponse("/login", status_code=303)
    end_session(request, response)
    return response


@router.post("/language")
def switch_language(request: Request, me: Me, form: Posted) -> Response:
    """The header's 中文 / English: the signed-in user's language from now on, back to the page."""
    try:
        chosen = i18n.language(form.get("language", ""))
    except ValueError:
        raise InvalidInput(
            "request", [Msg("language: {given!r} is neither zh nor en", given=form.get("language", ""))]
        ) from None
    engine_of(request).set_language(me.user.name, chosen)
    return RedirectResponse(_back(request) or "/", status_code=303)


# ------------------------------------------------------------------------------------------ reading
@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, me: Me, cycle: str | None = None) -> Response:
    engine = engine_of(request)
    chosen = views.choose_cycle(engine, cycle)
    board = views.dashboard(engine, me.user, chosen)
    program = engine.program_of(chosen)
    # (the last stage has nothing to close into)
    may_advance = views.may(me.user, program, "advance") and program.next_stage(chosen.stage) is not None
    # the stage's close is offered only when the engine would take it now: the status judged the
    # same closing rules in the same way as the close's dry run would (no second judgement)
    close_refused = views.closing_rejections(board.status) if may_advance else []
    list_status = None
    if board.status.get("list"):
        opened = engine.list_actions(me.user.name, chosen.id)
        list_status = views.list_status_words(opened.status, len(opened.confirmed), len(opened.parties))
    return render(
        request,
        "dashboard.html",
        me,
        cycle=chosen,
        cycles=engine.cycles(),
        program=program,
        board=board,
        s=board.status,
        may_advance=may_advance,
        close_refused=close_refused,
        list_now=list_status,
        cell=views.status_cell,
    )


# (the project list, /projects, is web/project_list.py's)


@router.get("/projects/{project_id}", response_class=HTMLResponse)
def project_page(request: Request, me: Me, project_id: Id) -> Response:
    engine = engine_of(request)
    p, sheets, history = engine.project(me.user.name, project_id)
    cycle = engine.get_cycle(p.cycle_id)
    program = engine.program_of(cycle)
    actions = views.actions_for(me.user, p, cycle, program)
    _, appeals = engine.appeals(me.user.name, cycle.id)
    _, lifted = engine.overrides(me.user.name, cycle.id)
    return render(
        request,
        "project.html",
        me,
        overrides=[o for o in lifted if o.project == p.id or (o.project is None and o.city in (None, p.city))],
        p=p,
        cycle=cycle,
        program=program,
        fields=views.application_rows(program, p),
        records=views.record_rows(program, p),
        declared_data=lambda e: views.declared_data(program, e.action, e.data),
        sheets=sheets,
        history=history,
        appeals=[a for a in appeals if a.project_id == p.id],
        actions=actions,
        declared=views.declared_forms(program, actions),
        sheet_owner=me.user.name
        if program.sheets_per == "scorer"
        else next((party.name for party in program.parties if party.id == me.user.city), me.user.city or ""),
        sheet_button=_button_words(program, program.sheet_trigger) if program.sheet_trigger else "",
        action_name=lambda t: action_words(program, t),
        local=lambda t: views.local_time(t, program),
        # the appeal form only where there is a result to appeal (a listable state may hold a list
        # place), and not while an appeal of the project waits for its decision
        may_appeal=views.may(me.user, program, "appeal", p.city)
        and program.appeals is not None
        and program.result_stage(p.state, p.state in program.listable_states) is not None
        and not any(a.project_id == p.id and a.status == "open" for a in appeals),
        category=views.placed_category(program, p, views.listed_categories(engine, me.user, cycle, [p])),
        why_rank=_why_rank(engine, me, p, program, sheets),
        documents=_project_documents(me.user, p, cycle, program),
    )


def _project_documents(user: Any, p: Any, cycle: Any, program: Any) -> list[tuple[str, str]]:
    """The project's documents its reader may have, once its cycle's results are out: its
    decision letter, and a named project's certificate (the lead, its city's administrator, its
    applicant: as the engine's ``outcome`` gives them)."""
    from workflow.program.documents import KIND_WORDS

    named = p.state in program.named_states
    out = cycle.config.published_at is not None and p.state in program.placed_states if program.categories else named
    if not out or not (user.role == "lead" or (user.role in ("city-admin", "applicant") and user.city == p.city)):
        return []
    kinds = ["letter", "certificate"] if named else ["letter"]
    return [(kind, KIND_WORDS[kind].render()) for kind in kinds]


def _why_rank(engine: Any, me: Any, p: Any, program: Any, sheets: Any) -> list[str]:
    """The lead's lines of why a scored project holds its rank (`list explain`); none for anyone
    else, or for a project with no current sheet."""
    from workflow.engine.explain import explanation_lines

    ranked = program.listable_states + program.placed_states
    if me.user.role != "lead" or p.state not in ranked or not any(s.current for s in sheets):
        return []
    e = engine.explain_rank(me.user.name, p.id)
    return [
        line.render().strip() for line in explanation_lines(e, lambda status: views.LIST_STATUS.get(status, status))
    ]


@router.get("/list", response_class=HTMLResponse)
def list_page(request: Request, me: Me, cycle: str | None = None) -> Response:
    engine = engine_of(request)
    chosen = views.choose_cycle(engine, cycle)
    program = engine.program_of(chosen)
    _, versions, confirmations = engine.list_versions(me.user.name, chosen.id)
    # (the current version and its confirmations are the ones just read: not read again)
    current = (versions[-1], confirmations.get(versions[-1].id, [])) if versions else (None, [])
    opened = engine.list_actions(me.user.name, chosen.id, current=current)
    _, appeals = engine.appeals(me.user.name, chosen.id)
    parties = len(program.parties)
    # the lead closes the confirming stage from here once every party has confirmed
    closing = (
        opened.status == "proposed"
        and len(opened.confirmed) == parties
        and chosen.stage == program.stage_of_action.get("confirm")
        and views.may(me.user, program, "advance")
        and not engine.advance(me.user.name, chosen.id, dry_run=True).rejections
    )
    return render(
        request,
        "list.html",
        me,
        cycle=chosen,
        program=program,
        versions=list(reversed(versions)),
        confirmations=confirmations,
        opened=opened,
        closing=closing,
        waiting=views.list_waiting(program, opened),
        changes=views.version_changes(program, versions, confirmations, appeals),
        status_of=lambda v: views.list_status_words(
            v.status, sum(c.decision == "confirm" for c in confirmations.get(v.id, [])), parties
        ),
        stage_name=program.stage(chosen.stage).name,
        local=lambda t: views.local_time(t, program),
        button=lambda action: views.button_label(program, action),
    )


@router.get("/appeals", response_class=HTMLResponse)
def appeals_page(request: Request, me: Me, cycle: str | None = None) -> Response:
    engine = engine_of(request)
    chosen = views.choose_cycle(engine, cycle)
    program = engine.program_of(chosen)
    _, items = engine.appeals(me.user.name, chosen.id)
    return render(
        request,
        "appeals.html",
        me,
        cycle=chosen,
        program=program,
        appeals=items,
        objectors=engine.objectors(me.user.name, items),
        stages=program.reopenable,
        local=lambda t: views.local_time(t, program),
    )


# ------------------------------------------------------------------------------------------ actions
def _version(form: dict[str, str]) -> dict[str, Any]:
    v = whole(form.get("expected_version", ""))
    return {"expected_version": v} if v is not None else {}


def action_words(program: Any, trigger: str) -> Any:
    """An action's name in both languages (the program's declaration; else the console's own)."""
    action = program.actions.get(trigger)
    return Text(action.en, action.zh) if action is not None else views.action_name(program, trigger)


def _button_words(program: Any, trigger: str) -> Any:
    """The words on an action's button in both languages: its declared button text, else its name."""
    action = program.actions.get(trigger)
    if action is None:
        return views.button_label(program, trigger)
    return Text(action.button_en or action.en, action.button_zh or action.zh)


def state_words(program: Any, state: str) -> Text:
    """A state's name in both languages, as the program file gives them."""
    return Text(program.state_name(state, "en"), program.state_name(state))


def _fired(request: Request, me: Signed, done_list: list[Project], trigger: str) -> Response:
    program = engine_of(request).program_of(engine_of(request).get_cycle(done_list[0].cycle_id))
    verb = action_words(program, trigger)
    each = Joined(
        [
            Msg("project {id} {action}: now {state}", id=p.id, action=verb, state=state_words(program, p.state))
            for p in done_list[:20]
        ]
    )
    text = Msg("{done} ({count} in all)", done=each, count=len(done_list)) if len(done_list) > 20 else each
    return done(request, me, text)


@router.post("/projects/{project_id}/act/{trigger}")
def project_act(request: Request, me: Me, form: Posted, project_id: Id, trigger: str) -> Response:
    """An action on a project from its declared form; the engine checks the parameters against
    the declaration and judges every rule."""
    engine = engine_of(request)
    request_params: dict[str, Any] = _version(form)
    reason = form.get("reason", "")
    p, _, _ = engine.project(me.user.name, project_id)
    action = views.declared_action(engine.program_of(engine.get_cycle(p.cycle_id)), trigger)
    request_params.update(views.form_params(action, form))
    if action.reason == "none":
        reason = ""
    if action.check_reason(reason):
        raise InvalidInput("action", action.check_reason(reason))
    fired = engine.fire(me.user.name, project_id, trigger, reason=reason, **request_params)
    return _fired(request, me, fired, trigger)


@router.post("/projects/{project_id}/score")
def project_score(request: Request, me: Me, form: Posted, project_id: Id) -> Response:
    engine = engine_of(request)
    p, _, _ = engine.project(me.user.name, project_id)
    program = engine.program_of(engine.get_cycle(p.cycle_id))
    scores: dict[str, int] = {}
    problems = []
    for c in program.criteria:
        raw = form.get(f"score_{c.id}", "").strip()
        if not (raw.isascii() and raw.lstrip("-").isdigit()):
            problems.append(Msg("{criterion}: a whole number is needed, got {raw!r}", criterion=c.name, raw=raw))
        else:
            scores[c.id] = int(raw)
    if problems:
        raise InvalidInput("score sheet", problems)
    engine.score(me.user.name, project_id, scores, form.get("completion", ""))
    saved = action_words(program, program.sheet_trigger or "")
    if all(c.picks for c in program.criteria):  # a vote reads as the band picked, not a total
        picked = Joined([getattr(c.band_for(scores[c.id]), "label", scores[c.id]) for c in program.criteria], ", ")
        saved_as = Msg("project {id}: {action} saved: {picked}", id=project_id, action=saved, picked=picked)
        return done(request, me, saved_as)
    return done(
        request,
        me,
        Msg("project {id}: {action} saved: total {total}", id=project_id, action=saved, total=sum(scores.values())),
    )


@router.post("/bulk/{trigger}")
def bulk(request: Request, me: Me, form: Posted, trigger: str) -> Response:
    ids = [i for i in map(whole, request.state.ids) if i is not None]
    if not ids:
        raise InvalidInput(Msg("selection"), [Msg("tick at least one project")])
    engine = engine_of(request)
    program = engine.program_of(engine.get_cycle(engine.project(me.user.name, ids[0])[0].cycle_id))
    if trigger not in views.bulk_actions(program):
        raise InvalidInput("action", [Msg("{action!r} is not done in bulk here", action=trigger)])
    fired = engine.fire(me.user.name, ids, trigger)
    return _fired(request, me, fired, trigger)


@router.post("/projects/{project_id}/appeal")
def appeal_file(request: Request, me: Me, form: Posted, project_id: Id) -> Response:
    a = engine_of(request).file_appeal(me.user.name, project_id, form.get("reason", ""))
    return done(request, me, Msg("appeal {id} filed (project {project})", id=a.id, project=project_id))


@router.post("/appeals/{appeal_id}/decide")
def appeal_decide(request: Request, me: Me, form: Posted, appeal_id: Id) -> Response:
    decision = form.get("decision", "")
    # the form's own words for what it lacks (the engine's name the command line's options)
    if decision not in ("uphold", "dismiss"):  # (no decision is taken for the reader: no default)
        raise InvalidInput(Msg("decision"), [Msg("choose whether to uphold or dismiss the appeal")])
    if decision == "uphold" and not form.get("reopen_to"):
        raise InvalidInput(Msg("decision"), [Msg("choose the stage the project is reopened to")])
    if decision == "dismiss" and not form.get("reason", "").strip():
        raise InvalidInput(Msg("decision"), [Msg("give the reason for dismissing the appeal")])
    a, p = engine_of(request).decide_appeal(
        me.user.name, appeal_id, decision, form.get("reopen_to") or None, form.get("reason", "")
    )
    program = engine_of(request).program_of(engine_of(request).get_cycle(p.cycle_id))
    state = state_words(program, p.state)
    if a.status == "upheld":
        said = Msg(
            "appeal {id}: upheld (the project is reopened); project {project} is now {state}",
            id=a.id,
            project=p.id,
            state=state,
        )
    else:
        said = Msg("appeal {id}: dismissed; project {project} is now {state}", id=a.id, project=p.id, state=state)
    return done(request, me, said)


@router.post("/cycles/{cycle_id}/list/{decision}")
def list_action(request: Request, me: Me, form: Posted, cycle_id: str, decision: str) -> Response:
    engine = engine_of(request)
    if decision == "propose":
        order = [
            i for x in form.get("tie_order", "").replace("，", ",").split(",") if (i := whole(x.strip())) is not None
        ]
        lst = engine.propose_list(me.user.name, cycle_id, order)
        return done(
            request, me, Msg("list version {n} proposed ({count} projects)", n=lst.number, count=len(lst.entries))
        )
    if decision == "object" and not form.get("reason", "").strip():
        raise InvalidInput(Msg("objection"), [Msg("give the reason for the objection")])
    if decision in ("confirm", "object"):
        lst = engine.confirm_list(me.user.name, cycle_id, decision, form.get("reason", ""))
        if decision == "confirm":
            return done(request, me, Msg("list version {n}: confirmed", n=lst.number))
        return done(request, me, Msg("list version {n}: objected to", n=lst.number))
    if decision == "publish":
        lst = engine.publish(me.user.name, cycle_id)
        return done(request, me, Msg("list version {n} published", n=lst.number))
    raise InvalidInput("action", [Msg("{decision!r} is not an action on the list", decision=decision)])


@router.post("/cycles/{cycle_id}/advance")
def advance(request: Request, me: Me, form: Posted, cycle_id: str) -> Response:
    r = engine_of(request).advance(me.user.name, cycle_id)
    program = engine_of(request).program_of(r.cycle)
    to = views.stage_text(program, r.to_stage) if r.to_stage else Msg("the end")
    closed = Msg("closed '{closed}', now in '{stage}'", closed=views.stage_text(program, r.from_stage), stage=to)
    return done(request, me, closed, to=f"/?cycle={quote(cycle_id)}")


# ------------------------------------------------------------------------------------------ downloads
@router.get("/download/report")
def download_report(request: Request, me: Me, cycle: str | None = None, format: str = "xlsx") -> Response:
    from web.api import report_file

    if format not in ("xlsx", "csv", "md"):
        raise InvalidInput(Msg("format"), [Msg("{format!r} is not one of xlsx, csv, md", format=format)])
    chosen = views.choose_cycle(engine_of(request), cycle)
    return report_file(engine_of(request), me.user, chosen.id, format)


@router.get("/download/scores")
def download_scores(request: Request, me: Me, cycle: str | None = None, city: str | None = None) -> Response:
    from web.api import scores_template

    chosen = views.choose_cycle(engine_of(request), cycle)
    return scores_template(engine_of(request), me.user, chosen.id, city)


@router.get("/download/application")
def download_application(request: Request, me: Me, cycle: str | None = None) -> Response:
    from web.api import application_template

    chosen = views.choose_cycle(engine_of(request), cycle)
    return application_template(engine_of(request), chosen.program_id)
