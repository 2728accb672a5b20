"""The lead's administration in the console: open a cycle, overrides, users and their tokens,
the audit trail; and everyone's reminders. Each page asks the engine first whether the reader
administers (the lead), and each form is the engine's own action as the signed-in user, as the
command line does it (commands/cycles.py, overrides.py, users.py, reminders.py, audit.py): the
rules, permissions and messages are the engine's, never this module's.
"""

from __future__ import annotations

import secrets
from collections import Counter
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

import i18n
from i18n import Msg, Text
from policies.base import RULE_NAMES
from web import views
from web.auth import Me, Posted, Signed
from web.ids import Id
from web.pages import done, engine_of, render
from workflow import story
from workflow.common import role_of
from workflow.errors import InvalidInput
from workflow.program import ROLES
from workflow.reminders import STATUS_NAMES

router = APIRouter(include_in_schema=False)

HISTORY_PAGE = 50  # audit entries per page of the cycle's history
MOST = 1_000_000  # the largest place count or quota a form takes (the API's Count)


def parties(engine: Any) -> list[tuple[str, str]]:
    """Every city of the loaded programs as (id, name), once each, in the programs' order."""
    seen: dict[str, str] = {}
    for pid in engine.programs.ids():
        for p in engine.programs.get(pid).parties:
            seen.setdefault(p.id, p.name)
    return list(seen.items())


def whole(
    form: dict[str, str], key: str, what: Any, problems: list[Any], least: int = 0, most: int = MOST
) -> int | None:
    """A form's whole number ≥ 0, None when left empty; a problem when it is not one (ASCII digits
    only: int() refuses '²', which str.isdigit() takes) or lies outside least..most (the bounds the
    API's fields keep, so no number reaches the database too large for its column)."""
    raw = form.get(key, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()):
        problems.append(Msg("{what}: a whole number ≥ 0 is needed, got {raw!r}", what=what, raw=raw))
        return None
    if not least <= int(raw) <= most:
        said = Msg(
            "{what}: a whole number from {least} to {most} is needed, got {raw}",
            what=what,
            least=least,
            most=most,
            raw=raw,
        )
        problems.append(said)
        return None
    return int(raw)


def beijing(instant: Any) -> str:
    """An instant of no program (a token's) in 北京时间, to the minute."""
    from zoneinfo import ZoneInfo

    return instant.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M") if instant else "—"


# ------------------------------------------------------------------------------------------ index
@router.get("/admin", response_class=HTMLResponse)
def admin_index(request: Request, me: Me) -> Response:
    engine_of(request).administrator(me.user.name)
    return render(request, "admin.html", me, section="")


# ------------------------------------------------------------------------------------------ cycles
def _program_forms(engine: Any, lang: str) -> list[dict[str, Any]]:
    """For each loaded program the fields its cycle is opened with: its list categories with
    their default places, and a quota per city and review result (the program's defaults shown)."""
    out = []
    for pid in engine.programs.ids():
        program = engine.programs.get(pid)
        out.append(
            {
                "id": pid,
                "name": program.name_en if lang == "en" and program.name_en else program.name,
                "categories": [(c.id, program.category_name(c.id, lang), c.places) for c in program.categories],
                "results": [(r, zh if lang != "en" else r) for r, zh in program.results.items()],
                "parties": [(p.id, p.name, program.quotas.get(p.id, {})) for p in program.parties],
                # what a city does on its own projects, for a program with score sheets and
                # cities to score each other's (one party's own is every project)
                "own_party": program.own_party if program.sheet_trigger and len(program.parties) > 1 else None,
            }
        )
    return out


@router.get("/admin/cycles", response_class=HTMLResponse)
def admin_cycles(request: Request, me: Me) -> Response:
    engine = engine_of(request)
    engine.administrator(me.user.name)
    lang = "en" if i18n.current() == "en" else "zh"
    programs = {pid: engine.programs.get(pid) for pid in engine.programs.ids()}
    return render(
        request,
        "admin_cycles.html",
        me,
        section="cycles",
        forms=_program_forms(engine, lang),
        cycles=engine.cycles(),
        stage_name=lambda c: programs[c.program_id].stage(c.stage).name if c.program_id in programs else c.stage,
        program_name=lambda c: programs[c.program_id].name if c.program_id in programs else c.program_id,
    )


def cycle_settings(
    engine: Any, form: dict[str, str]
) -> tuple[str, int, dict[str, int], dict[str, dict[str, int]], str | None]:
    """The program, year, places, quotas and what a city does on its own projects an open-cycle
    form asks for (the engine checks them against the program; here only that each number is a
    number)."""
    problems: list[Any] = []
    program_id = form.get("program", "")
    if not program_id:
        problems.append(Msg("choose the program"))
    year = whole(form, "year", Msg("year"), problems, least=2000, most=2200)  # (the API's OpenCycle.year)
    if year is None and not any("year" in str(p) for p in problems):
        problems.append(Msg("year: give the year of the cycle"))
    places: dict[str, int] = {}
    quotas: dict[str, dict[str, int]] = {}
    if program_id in engine.programs.ids():
        program = engine.programs.get(program_id)
        for c in program.categories:
            n = whole(form, f"{program_id}.places.{c.id}", c.name, problems)
            if n is not None:
                places[c.id] = n
        for p in program.parties:
            for r, zh in program.results.items():
                n = whole(
                    form, f"{program_id}.quota.{p.id}.{r}", Msg("{city} {result}", city=p.name, result=zh), problems
                )
                if n is not None:
                    quotas.setdefault(p.id, {})[r] = n
    own_party = form.get(f"{program_id}.own_party") or None  # (the engine names a wrong word)
    if problems:
        raise InvalidInput(Msg("cycle settings"), problems)
    return program_id, year or 0, places, quotas, own_party


@router.post("/admin/cycles")
def admin_open_cycle(request: Request, me: Me, form: Posted) -> Response:
    engine = engine_of(request)
    program_id, year, places, quotas, own_party = cycle_settings(engine, form)
    c = engine.open_cycle(me.user.name, program_id, year, places, quotas, own_party)
    program = engine.program_of(c)
    said = Msg(
        "Opened cycle {cycle} ({program} v{version}); stage {stage}",
        cycle=c.id,
        program=program_id,
        version=c.program_version,
        stage=Text(c.stage, program.stage(c.stage).name),
    )
    return done(request, me, said, to=f"/?cycle={quote(c.id)}")


# ------------------------------------------------------------------------------------------ overrides
def scope_words(o: Any, program: Any) -> Any:
    """What an override lifts a rule for, by name: a project, a city, or every city."""
    from policies.base import party_words

    if o.project is not None:
        return Msg("project {id}", id=o.project)
    return party_words(program.parties, o.city) if o.city else Msg("every city")


def rule_words(rule: str) -> Text:
    """A rule by its id in English and its Chinese name in Chinese."""
    return Text(rule, RULE_NAMES.get(rule, rule))


@router.get("/admin/overrides", response_class=HTMLResponse)
def admin_overrides(request: Request, me: Me, cycle: str | None = None) -> Response:
    engine = engine_of(request)
    engine.administrator(me.user.name)
    chosen = views.choose_cycle(engine, cycle)
    program = engine.program_of(chosen)
    _, items = engine.overrides(me.user.name, chosen.id)
    return render(
        request,
        "admin_overrides.html",
        me,
        section="overrides",
        cycle=chosen,
        cycles=engine.cycles(),
        program=program,
        overrides=list(reversed(items)),
        rules=[(r, RULE_NAMES.get(r, r)) for r in program.overridable],
        local=lambda t: views.local_time(_instant(t), program),
    )


def _instant(iso: str | None) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(iso) if iso else None


@router.post("/admin/overrides")
def admin_add_override(request: Request, me: Me, form: Posted, cycle: str | None = None) -> Response:
    engine = engine_of(request)
    problems: list[Any] = []
    rule = form.get("rule", "")
    if not rule:
        problems.append(Msg("choose the rule to lift"))
    project = whole(form, "project", Msg("project number"), problems, most=2**31 - 1)  # (web.ids.Id)
    if not form.get("reason", "").strip():
        problems.append(Msg("give the reason for lifting the rule"))
    if problems:
        raise InvalidInput("override", problems)
    c = form.get("cycle") or cycle
    o = engine.override(me.user.name, rule, form.get("reason", ""), form.get("city") or None, project, c)
    program = engine.program_of(engine.get_cycle(c))
    scope = scope_words(o, program)
    said = Msg("Override {id}: {rule} no longer holds back {scope}", id=o.id, rule=rule_words(o.rule), scope=scope)
    return done(request, me, said)


@router.post("/admin/overrides/{override_id}/revoke")
def admin_revoke_override(request: Request, me: Me, form: Posted, override_id: Id) -> Response:
    engine = engine_of(request)
    if not form.get("reason", "").strip():
        raise InvalidInput("override", [Msg("give the reason for revoking the override")])
    o = engine.revoke_override(me.user.name, override_id, form.get("reason", ""), form.get("cycle") or None)
    said = Msg(
        "Revoked override {id}: {rule} applies again to {scope}", id=o.id, rule=rule_words(o.rule), scope=o.scope()
    )
    return done(request, me, said)


# ------------------------------------------------------------------------------------------ users
@router.get("/admin/users", response_class=HTMLResponse)
def admin_users(request: Request, me: Me) -> Response:
    engine = engine_of(request)
    users = engine.user_accounts(me.user.name)
    cities = parties(engine)
    return render(
        request,
        "admin_users.html",
        me,
        section="users",
        users=users,
        roles=ROLES,
        cities=cities,
        city_names=dict(cities),
    )


def _password_of(form: dict[str, str], prefix: str = "") -> tuple[str, bool]:
    """The password a form sets: typed twice (they must match), or generated when asked."""
    how = form.get(f"{prefix}how", "")
    if how == "generate":
        return secrets.token_urlsafe(12), True
    if how != "type":
        raise InvalidInput(Msg("password"), [Msg("choose whether to type a password or to generate one")])
    typed, again = form.get(f"{prefix}password", ""), form.get(f"{prefix}password_again", "")
    if typed != again:
        raise InvalidInput(Msg("password"), [Msg("the two passwords differ")])
    return typed, False


def shown_once(request: Request, me: Signed, title: Any, text: Any, secret: str, hint: Any, back: str) -> Response:
    """A secret (a password, a token) shown on this one answer only: never kept in a flash or a
    page the browser may reload from the server."""
    return render(
        request, "admin_secret.html", me, section="", title=title, text=text, secret=secret, hint=hint, back=back
    )


@router.post("/admin/users")
def admin_add_user(request: Request, me: Me, form: Posted) -> Response:
    engine = engine_of(request)
    engine.administrator(me.user.name)
    name = form.get("name", "").strip()
    role = form.get("role", "")
    if not name or not role:
        missing = [m for m, ok in ((Msg("give the user's name"), name), (Msg("choose the role"), role)) if not ok]
        raise InvalidInput("user", missing)
    if role in ("city-admin", "scorer") and not form.get("city"):  # (the engine's words name a flag)
        raise InvalidInput("user", [Msg("choose the city of a {role}", role=role_of(role))])
    password, generated = _password_of(form)
    from workflow.accounts import password_problems

    problems = password_problems(name, password)
    if problems:  # (before the user is added: a refused password adds no one)
        raise InvalidInput("password", problems)
    u = engine.add_user(me.user.name, name, role, form.get("city") or None)
    engine.set_password(me.user.name, u.name, password)
    said = Msg("Added {name} ({role})", name=u.name, role=role_of(u.role))
    if generated:
        hint = Msg("Give it to {name} in person; they change it on their account page.", name=u.name)
        return shown_once(
            request, me, said, Msg("The password of {name}:", name=u.name), password, hint, "/admin/users"
        )
    return done(request, me, said)


@router.post("/admin/users/{name}/role")
def admin_change_user(request: Request, me: Me, form: Posted, name: str) -> Response:
    engine = engine_of(request)
    u = engine.change_user(me.user.name, name, form.get("role", ""), form.get("city") or None)
    city = dict(parties(engine)).get(u.city, u.city) if u.city else Msg("no city")
    return done(request, me, Msg("{name} is now {role} ({city})", name=u.name, role=role_of(u.role), city=city))


@router.post("/admin/users/{name}/active")
def admin_set_active(request: Request, me: Me, form: Posted, name: str) -> Response:
    active = form.get("active", "")
    if active not in ("0", "1"):
        raise InvalidInput("request", [Msg("active: 0 or 1")])
    engine_of(request).set_active(me.user.name, name, active == "1")
    if active == "1":
        return done(request, me, Msg("{name} is active again", name=name))
    return done(request, me, Msg("{name} is deactivated; their sessions and tokens no longer work", name=name))


@router.post("/admin/users/{name}/unlock")
def admin_unlock(request: Request, me: Me, form: Posted, name: str) -> Response:
    engine_of(request).unlock(me.user.name, name)
    return done(request, me, Msg("{name} may sign in again from every address", name=name))


@router.post("/admin/users/{name}/password")
def admin_reset_password(request: Request, me: Me, form: Posted, name: str) -> Response:
    engine = engine_of(request)
    engine.administrator(me.user.name)
    password, generated = _password_of(form)
    engine.set_password(me.user.name, name, password)
    said = Msg("Password set for {name}; their sessions have ended", name=name)
    if generated:
        hint = Msg("Give it to {name} in person; they change it on their account page.", name=name)
        return shown_once(request, me, said, Msg("The password of {name}:", name=name), password, hint, "/admin/users")
    return done(request, me, said)


# ------------------------------------------------------------------------------------------ tokens
@router.get("/admin/users/{name}/tokens", response_class=HTMLResponse)
def admin_tokens(request: Request, me: Me, name: str) -> Response:
    engine = engine_of(request)
    engine.administrator(me.user.name)
    tokens = engine.tokens(me.user.name, name)
    return render(
        request,
        "admin_tokens.html",
        me,
        section="users",
        owner=name,
        tokens=tokens,
        base=f"/admin/users/{quote(name)}/tokens",
        local=beijing,
    )


def issue_token(request: Request, me: Signed, form: dict[str, str], name: str, back: str) -> Response:
    """Issue a token for ``name`` and show its secret this once (the engine says who may)."""
    label = form.get("label", "").strip()
    if not label:
        raise InvalidInput("token", [Msg("say what the token is for")])
    secret, token = engine_of(request).new_token(me.user.name, name, label)
    title = Msg("Token {id} for {name} ({label})", id=token.id, name=name, label=label)
    hint = Msg(
        "Keep it secret: it is shown only this once. A script sends it as 'Authorization: Bearer' and the token."
    )
    return shown_once(request, me, title, Msg("The token:"), secret, hint, back)


@router.post("/admin/users/{name}/tokens")
def admin_issue_token(request: Request, me: Me, form: Posted, name: str) -> Response:
    engine_of(request).administrator(me.user.name)
    return issue_token(request, me, form, name, f"/admin/users/{quote(name)}/tokens")


@router.post("/tokens/{token_id}/revoke")
def revoke_token(request: Request, me: Me, form: Posted, token_id: Id) -> Response:
    """Revoke a token: the lead any, a user their own (the engine's rule)."""
    token = engine_of(request).revoke_token(me.user.name, token_id)
    return done(request, me, Msg("Token {id} of {user} is revoked", id=token.id, user=token.user_name))


# ------------------------------------------------------------------------------------------ reminders
@router.get("/reminders", response_class=HTMLResponse)
def reminders_page(request: Request, me: Me, cycle: str | None = None, status: str | None = None) -> Response:
    """A cycle's reminders: the lead every city's, a city's users their own (the engine's scope),
    all or those of one status (the command line's ``--status``)."""
    engine = engine_of(request)
    chosen = views.choose_cycle(engine, cycle)
    program = engine.program_of(chosen)
    every = engine.reminders(me.user.name, chosen.id)
    counts = Counter(r.status for r in every)
    status = status if status in STATUS_NAMES else None
    items = [r for r in every if status is None or r.status == status]
    stages = {s.id: s.name for s in program.stages}
    return render(
        request,
        "admin_reminders.html",
        me,
        section="reminders",
        cycle=chosen,
        cycles=engine.cycles(),
        program=program,
        reminders=items,
        counts=sorted(counts.items()),
        chosen_status=status or "",
        status_name=lambda s: STATUS_NAMES.get(s, s),
        stage_name=lambda st: stages.get(st, reminder_subject(st)),
        local=lambda t: views.local_time(t, program),
    )


def reminder_subject(subject: str) -> Any:
    """What a reminder not of a stage is about (a project's deadline, a round, the public notice)."""
    if subject.startswith("deadline/"):
        return Msg("rectification deadline of project {id}", id=subject.split("/")[1])
    if subject.startswith("round/"):
        return Msg("the round of {month}", month=subject.removeprefix("round/"))
    return Msg("end of the public notice")


@router.post("/reminders/plan")
def reminders_plan(request: Request, me: Me, form: Posted) -> Response:
    c, added, moved, removed = engine_of(request).replan_reminders(me.user.name, form.get("cycle") or None)
    said = Msg(
        "Re-planned reminders of {cycle}: {added} added, {moved} moved, {removed} removed",
        cycle=c.id,
        added=added,
        moved=moved,
        removed=removed,
    )
    return done(request, me, said)


# ------------------------------------------------------------------------------------------ audit
@router.get("/admin/audit", response_class=HTMLResponse)
def admin_audit(
    request: Request, me: Me, cycle: str | None = None, page: Annotated[int, Query(ge=1, le=100000)] = 1
) -> Response:
    engine = engine_of(request)
    engine.administrator(me.user.name)
    chosen = views.choose_cycle(engine, cycle)
    program = engine.program_of(chosen)
    report = engine.audit_verify(me.user.name)
    head = engine.audit_head(me.user.name)
    entries = list(reversed(engine.history(me.user.name, chosen.id)))  # newest first
    pages = max(1, -(-len(entries) // HISTORY_PAGE))
    page = min(page, pages)
    shown = entries[(page - 1) * HISTORY_PAGE : page * HISTORY_PAGE]
    return render(
        request,
        "admin_audit.html",
        me,
        section="audit",
        cycle=chosen,
        cycles=engine.cycles(),
        program=program,
        report=report,
        broken=[*(b.words() for b in report.breaks), *report.checkpoints.problems],
        head=head,
        entries=shown,
        page=page,
        pages=pages,
        total=len(entries),
        move=lambda e: move_words(e, program),
        action=lambda e: action_words(e, program),
        subject=lambda e: subject_words(e, program),
        local=lambda t: views.local_time(t, program),
    )


def move_words(e: Any, program: Any) -> Any:
    """The change an entry records, by names: a project's states and a stage as the program names
    them, a list's status as the console names it (the history's ids only in English)."""
    if e.subject == "project":
        return story.move(e, program)
    if not (e.from_state or e.to_state):
        return ""
    if e.subject == "cycle":
        names = story.Names(program)
        name: Any = lambda v: names.stage(v) if v in {s.id for s in program.stages} else v  # noqa: E731
    elif e.subject == "list":
        name = lambda v: views.LIST_STATUS.get(v, v)  # noqa: E731
    else:
        return Msg("{before} → {after}", before=e.from_state or "", after=e.to_state or "")
    before = name(e.from_state) if e.from_state else ""
    return Msg("{before} → {after}", before=before, after=name(e.to_state) if e.to_state else "")


def action_words(e: Any, program: Any) -> Any:
    """An entry's action by its name (a list moved to a status by the engine: the status's name)."""
    if e.subject == "list" and e.action in views.LIST_STATUS:
        return views.LIST_STATUS[e.action]
    return story.action(e, program)


def subject_words(e: Any, program: Any) -> Any:
    """What an audit entry is about, by name: a project by its number, a list by its version."""
    if e.subject == "project":
        return Msg("project {id}", id=e.subject_id)
    if e.subject == "list":
        return Msg("list version {n}", n=e.subject_id)
    if e.subject == "cycle":
        return Msg("cycle {id}", id=e.subject_id)
    return Msg("user {name}", name=e.subject_id)
