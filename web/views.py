"""What the console's pages and the API both read: the chosen cycle, a user's actions on a
project, the dashboard's to-do list, a project laid out for reading. Every read goes through
the engine's own scoped reads (``projects``, ``project``, ``status``…); nothing here opens the
store for itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from policies.permissions import permission_problem
from workflow.actions import Action
from workflow.common import actor_of
from workflow.errors import InvalidInput, NotFound
from workflow.form import shown
from workflow.program import Program
from workflow.records import Cycle, Project, User

ROLE_NAMES = {"lead": "牵头单位", "city-admin": "城市管理员", "scorer": "评分人", "applicant": "申报单位"}

LIST_STATUS = {
    "proposed": "已提出",
    "objected": "有异议",
    "confirmed": "已确认",
    "published": "已公布",
    "superseded": "已被新版本取代",
}
APPEAL_STATUS = {"open": "待决定", "upheld": "已支持", "dismissed": "已驳回"}

# the engine's own steps, which no program declares (a program's actions are named in its file)
ACTION_NAMES = {
    "create": "申报",
    "place": "列入名单",
    "reopen": "重新打开",
    "appeal_upheld": "申诉获支持",
    "appeal_dismissed": "申诉被驳回",
    "revoke_override": "撤销豁免",
}


def choose_cycle(engine: Any, cycle_id: str | None) -> Cycle:
    """The cycle named, else the newest one."""
    if cycle_id:
        return engine.get_cycle(cycle_id)
    cycles = engine.cycles()
    if not cycles:
        raise NotFound("cycle", "(any)", "the lead opens one with 'evalflow cycle open PROGRAM --year YEAR'")
    return max(cycles, key=lambda c: (c.opened_at or datetime.min.replace(tzinfo=ZoneInfo("UTC")), c.id))


def listed_categories(engine: Any, user: User, cycle: Cycle, projects: list[Project]) -> dict[int, str]:
    """Each awarded project's category on the cycle's published list (a corrected publication
    places an awarded project again when its category changed, so this is what it was awarded
    as). The list is read only when one of ``projects`` is awarded: every other project's
    category is its state's."""
    if not any(p.state == "awarded" for p in projects):
        return {}
    _, versions, _ = engine.list_versions(user.name, cycle.id)
    published = [v for v in versions if v.status == "published"]
    return {e.project_id: e.category for e in published[-1].entries} if published else {}


def placed_category(program: Program, project: Project, listed: dict[int, str] | None = None) -> str | None:
    """The list category a placed project holds; an awarded one's is read from ``listed``
    (``listed_categories``). None for a project not on the list."""
    state = project.state
    for spec in program.transition_specs:
        if spec.trigger == "place" and spec.dest == state:
            return spec.when.get("category")
    if state == "awarded" and listed and project.id is not None and listed.get(project.id) not in (None, "none"):
        return listed[project.id]
    return None


def category_key(program: Program, project: Project, listed: dict[int, str] | None = None) -> str | None:
    """What the project list filters by: the list category once placed, else ``result:RESULT``
    (a review's 示范 is not a place on the program's list, though both may share an id)."""
    placed = placed_category(program, project, listed)
    if placed is not None:
        return placed
    result = project.review_result
    return f"result:{result}" if result not in (None, "none") else None


def category_choices(program: Program) -> dict[str, str]:
    """The project list's category filter: the list's categories, then the review's results,
    named as the review's form names them (评审结果：示范)."""
    out = {c.id: c.name for c in program.categories}
    action = program.actions.get(program.result_trigger or "")
    param = action.param("result") if action is not None else None
    for key, name in program.results.items():
        if key != "none":
            out[f"result:{key}"] = f"{param.zh}：{name}" if param is not None else name
    return out


def category_label(program: Program, project: Project, listed: dict[int, str] | None = None) -> str:
    """What a reader is shown: the list category's name once placed, else the review result's
    (a review's 示范 is not yet a place on the program's list, though both may share an id)."""
    placed = placed_category(program, project, listed)
    if placed is not None:
        return program.category_name(placed) if program.categories else placed
    result = project.review_result
    return program.results.get(result, result) if result not in (None, "none") else ""


def actions_for(user: User, project: Project, cycle: Cycle, program: Program) -> list[str]:
    """The project triggers ``user`` may take on ``project`` now: its state is a source of the
    trigger, the user's role and city are permitted, and the trigger belongs to the cycle's stage
    (or to a stage the project was reopened to). The engine still judges every rule when it fires."""
    stage_index = program.stage_index(cycle.stage)
    reopened = program.stage_index(project.reopened_to) if project.reopened_to else stage_index
    found: list[str] = []
    actor = actor_of(user)
    for t in program.triggers_from.get(project.state, ()):
        if t in ("create", "reopen"):
            continue
        stage = program.stage_of_action.get(t)
        if stage is None or not (reopened <= program.stage_index(stage) <= stage_index):
            continue
        if permission_problem(t, program.permissions.get(t), actor, project.city) is None:
            found.append(t)
    return found


def may(user: User, program: Program, action: str, city: str | None = None) -> bool:
    return permission_problem(action, program.permissions.get(action), actor_of(user), city) is None


@dataclass
class Todo:
    """One line of the signed-in user's to-do list on the dashboard."""

    text: str
    link: str = ""
    rule: str = ""


@dataclass
class Dashboard:
    status: dict[str, Any]
    todo: list[Todo] = field(default_factory=list)
    days_left: int | None = None
    closes_local: str = ""
    opens_local: str = ""
    advance_refused: list[str] = field(default_factory=list)


def dashboard(engine: Any, user: User, cycle: Cycle) -> Dashboard:
    program = engine.program_of(cycle)
    status = engine.status(user.name, cycle.id)
    board = Dashboard(status)
    zone = ZoneInfo(program.timezone)
    if status.get("opens"):
        board.opens_local = datetime.fromisoformat(status["opens"]).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if status.get("closes"):
        closes = datetime.fromisoformat(status["closes"])
        board.closes_local = closes.astimezone(ZoneInfo(program.timezone)).strftime("%Y-%m-%d %H:%M")
        left = status.get("seconds_left")
        board.days_left = int(left // 86400) if left is not None and left > 0 else (0 if left is not None else None)
    # the closing rules that name the user's city (the lead sees every one)
    for item in status.get("closing", []):
        if user.role == "lead" or (user.city and user.city in item["parties"]):
            board.todo.append(Todo(f"[{item['rule']}] {item['message']}", rule=item["rule"]))
    # the actions waiting for the user, counted by action
    waiting: dict[str, int] = {}
    for p in engine.projects(user.name, cycle.id):
        for t in actions_for(user, p, cycle, program):
            if t == program.sheet_trigger:
                continue  # a sheet may be replaced: the closing rule above says which are missing
            waiting[t] = waiting.get(t, 0) + 1
    for t, n in waiting.items():
        board.todo.append(Todo(f"{n} 个项目可{action_name(program, t)}", link=f"/projects?cycle={cycle.id}&action={t}"))
    if user.role == "lead":
        board.advance_refused = list(status.get("closing_rules", []))
    return board


def action_name(program: Program, trigger: str) -> str:
    """An action's Chinese name: its declaration's, else the engine's own words for it."""
    action = program.actions.get(trigger)
    if action is not None:
        return action.zh
    return ACTION_NAMES.get(trigger) or program.state_names.get(trigger) or trigger


def application_rows(program: Program, project: Project) -> list[tuple[str, str]]:
    """The form's fields of a project as (label, value) pairs, as a reader sees them."""
    form = program.form
    if form is None:
        return []
    app = project.application
    rows = [(f.zh, shown(f, f.get(app))) for f in form.fields]
    if form.group is not None:
        g = form.group
        for m in app.get(g.key, []):
            marks = " ".join(flag.zh for flag in g.flags if m.get(flag.name))
            values = " ".join(shown(f, m.get(f.name)) for f in g.fields)
            rows.append((g.zh, values + (f"（{marks}）" if marks else "")))
    if program.review_criteria_field:
        kind = form.field(program.review_criteria_field).get(app)
        for n, item in enumerate(program.review_criteria.get(kind, ()), start=1):
            rows.append((f"评审内容 {n}", item))
    return rows


def local_time(instant: datetime | None, program: Program) -> str:
    if instant is None:
        return "—"
    return instant.astimezone(ZoneInfo(program.timezone)).strftime("%Y-%m-%d %H:%M")


def button_label(program: Program, action_id: str) -> str:
    """The words on an action's button: its declared button text, else its name."""
    action = program.actions.get(action_id)
    return (action.button_zh or action.zh) if action is not None else action_name(program, action_id)


def bulk_actions(program: Program) -> list[str]:
    """The project actions the project list takes on ticked projects at once, as the program
    declares them (``bulk = true``: a recommendation, an award)."""
    return [a.id for a in program.actions.values() if a.bulk]


def declared_forms(program: Program, actions: list[str]) -> list[str]:
    """The actions among ``actions`` that the page offers as their declared forms (the score
    sheet and the vote have forms of their own)."""
    return [t for t in actions if t in program.actions and not program.actions[t].uses]


def declared_action(program: Program, trigger: str) -> Action:
    """The declaration of an action posted from a project's page."""
    action = program.actions.get(trigger)
    if action is None or action.uses or action.scope != "project":
        raise InvalidInput("action", [f"{trigger!r} is not an action of a project in {program.id}"])
    return action


def form_params(action: Action, form: dict[str, str]) -> dict[str, Any]:
    """An action's parameters as its form posted them: every declared field typed in (an unticked
    yes/no is not given); the engine types and checks each against its declaration."""
    return {p.id: form[p.id] for p in action.params if form.get(p.id, "").strip()}


def declared_data(program: Program, trigger: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    """What an action was given, by its declared labels (a grade by its label and its choice's name, not grade=ID)."""
    action = program.actions.get(trigger)
    return action.shown(data) if action is not None else []


def record_rows(program: Program, project: Project) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """A project's record as a reader sees it: each entry's action, when (local time), by whom,
    and its declared parameters by their labels."""
    by_key = {key: trigger for trigger, key in program.record_keys.items()}
    rows = []
    for key, entries in project.record.items():
        trigger = by_key.get(key, key)
        action = program.actions.get(trigger)
        for e in entries:
            if action is not None:
                shown = action.shown(e) + ([("说明", str(e["reason"]))] if e.get("reason") else [])
            else:
                shown = [(k, str(v)) for k, v in e.items() if k not in ("at", "by")]
            at = e.get("at", "")
            when = local_time(datetime.fromisoformat(at), program) if at else ""
            rows.append((action_name(program, trigger), when, str(e.get("by", "")), shown))
    return rows


# the closing rule a status column is measured for, by the column's kind (a minimum names its own)
_COLUMN_RULES = {"sheets": "all_sheets_in", "confirmed": "all_parties_confirmed"}


def status_cell(col: dict[str, Any], row: dict[str, Any], closing: Sequence[dict[str, Any]] = ()) -> tuple[str, bool]:
    """A status cell as the dashboard shows it, and whether it holds the stage back: a closing
    rule of the current stage measured by this column fails for this row's city."""
    v, kind, key = row[col["id"]], col["kind"], col["id"]
    rule = col.get("policy") or _COLUMN_RULES.get(kind)
    short = any(c["rule"] == rule and row["city"] in c["parties"] for c in closing) if rule else False
    if kind == "result":
        quota = row.get(f"{key}_quota")
        return (f"{v}/{quota}" if quota is not None else str(v)), False
    if kind == "minimum":
        return f"{v}/{row[f'{key}_minimum']}", short
    if kind == "sheets":
        return f"{v}/{row[f'{key}_needed']}", short
    if kind == "confirmed":
        return ("✓" if v else "—"), short
    if kind == "funding":
        return f"{v:,}", False
    return str(v), False
