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

from i18n import Joined, Msg, Text
from policies.base import Rejection, party_words
from policies.permissions import permission_problem
from workflow.actions import Action
from workflow.common import actor_of
from workflow.errors import InvalidInput, NotFound, NotPermitted
from workflow.form import shown
from workflow.program import Program
from workflow.records import Cycle, Project, User

ROLE_NAMES = {
    "lead": Msg("Lead unit"),
    "city-admin": Msg("City administrator"),
    "scorer": Msg("Scorer"),
    "applicant": Msg("Applicant unit"),
}

LIST_STATUS = {
    "proposed": Msg("Proposed"),
    "objected": Msg("Objected to"),
    "confirmed": Msg("Confirmed"),
    "published": Msg("Published"),
    "superseded": Msg("Superseded by a newer version"),
}
APPEAL_STATUS = {"open": Msg("Awaiting a decision"), "upheld": Msg("Upheld"), "dismissed": Msg("Dismissed")}

# the engine's own steps, which no program declares (a program's actions are named in its file)
ACTION_NAMES = {
    "create": Msg("Application filed"),
    "place": Msg("Placed on the list"),
    "reopen": Msg("Reopened"),
    "appeal_upheld": Msg("Appeal upheld"),
    "appeal_dismissed": Msg("Appeal dismissed"),
    "revoke_override": Msg("Override revoked"),
    "attach": Msg("Document attached"),
    "remove_attachment": Msg("Document removed"),
    "edit_application": Msg("Application changed by its applicant"),
}

# the time zones readers know by a name of their own (any other is read by its id)
ZONE_NAMES = {"Asia/Shanghai": Text("Asia/Shanghai", "北京时间")}

# how many missing score sheets a to-do item names before it counts the rest
MISSING_SHOWN = 20

# the separator of a to-do's alternatives ("to accept or reject"), translated like Joined's
_OR = Msg(" or ")


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
    return published_categories(engine, user, cycle)


def published_categories(engine: Any, user: User, cycle: Cycle) -> dict[int, str]:
    """Each project's category on the published list (empty before one is published)."""
    try:
        _, versions, _ = engine.list_versions(user.name, cycle.id)
    except NotPermitted:  # (a reader of published lists only, while none is published)
        return {}
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


def category_choices(program: Program) -> dict[str, Any]:
    """The project list's category filter: the list's categories, then the review's results,
    named as the review's form names them (评审结果：示范)."""
    out: dict[str, Any] = {c.id: Text(c.id, c.name) for c in program.categories}
    action = program.actions.get(program.result_trigger or "")
    param = action.param("result") if action is not None else None
    for key, name in program.results.items():
        if key != "none":
            result = _result_text(program, key, name)
            out[f"result:{key}"] = (
                Msg("{label}: {result}", label=Text(param.en or param.id, param.zh), result=result)
                if param is not None
                else result
            )
    return out


def _result_text(program: Program, key: str, name: str) -> Text:
    """A review result by the names its choice declares."""
    action = program.actions.get(program.result_trigger or "")
    param = action.param("result") if action is not None else None
    choice = next((c for c in param.choices if c.value == key), None) if param is not None else None
    return Text(choice.en if choice is not None and choice.en else key, name)


def category_label(program: Program, project: Project, listed: dict[int, str] | None = None) -> Any:
    """What a reader is shown: the list category's name once placed, else the review result's
    (a review's 示范 is not yet a place on the program's list, though both may share an id)."""
    placed = placed_category(program, project, listed)
    if placed == "none" and program.categories:
        return Text("none", "未入选")  # (placed below every category: its English stays the id)
    if placed is not None:
        return Text(placed, program.category_name(placed)) if program.categories else placed
    result = project.review_result
    if result in (None, "none"):
        return ""
    return _result_text(program, result, program.results.get(result, result))


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


def may_score(user: User, program: Program) -> bool:
    """Whether the program lets ``user`` enter a score sheet (for their own city)."""
    trigger = program.sheet_trigger
    if not trigger:
        return False
    return may(user, program, trigger, user.city)


@dataclass
class Todo:
    """One line of the signed-in user's to-do list on the dashboard: its words, the page that
    lists its projects, and for missing score sheets the projects themselves (the first
    ``MISSING_SHOWN``) with how many more there are."""

    text: Any
    link: str = ""
    rule: str = ""
    projects: list[int] = field(default_factory=list)
    more: int = 0


@dataclass
class Dashboard:
    status: dict[str, Any]
    todo: list[Todo] = field(default_factory=list)
    days_left: int | None = None
    closes_local: str = ""
    opens_local: str = ""
    zone: Any = ""
    columns: list[Text] = field(default_factory=list)  # the progress table's headings
    advance_refused: list[Rejection] = field(default_factory=list)


def zone_name(timezone: str) -> Any:
    """A time zone as readers know it: the program's Asia/Shanghai is 北京时间 in Chinese."""
    return ZONE_NAMES.get(timezone, timezone)


def closing_rejections(status: dict[str, Any]) -> list[Rejection]:
    """The status's failed closing rules as rejections again, so that each reads with its rule's
    name in the reader's language (the status rendered their messages in it already)."""
    return [Rejection(c["rule"], c["message"], tuple(c["parties"])) for c in status.get("closing", [])]


def dashboard(engine: Any, user: User, cycle: Cycle) -> Dashboard:
    """The dashboard of ``user``: the stage's window in local time, and the to-do list, which
    counts what is left to do: each project once, by the decision it waits for; never an action
    that undoes one (``undoes``) nor one already taken (``done``); the missing score sheets by
    project; the open appeals the user decides."""
    program = engine.program_of(cycle)
    status = engine.status(user.name, cycle.id)
    board = Dashboard(status, zone=zone_name(program.timezone))
    board.columns = [Text(c["en"], c["zh"]) for c in status.get("columns", [])]
    zone = ZoneInfo(program.timezone)
    if status.get("opens"):
        board.opens_local = datetime.fromisoformat(status["opens"]).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if status.get("closes"):
        closes = datetime.fromisoformat(status["closes"])
        board.closes_local = closes.astimezone(ZoneInfo(program.timezone)).strftime("%Y-%m-%d %H:%M")
        left = status.get("seconds_left")
        board.days_left = int(left // 86400) if left is not None and left > 0 else (0 if left is not None else None)
    sheet_rules = _sheet_rules(program)
    unscored: tuple[dict[str, int], int, dict[str, list[int]]] | None = None  # (read once, for every sheets rule)
    # the closing rules that name the user's city (the lead sees every one)
    for r in closing_rejections(status):
        if not (user.role == "lead" or (user.city and user.city in r.parties)):
            continue
        if r.rule in sheet_rules and r.parties:
            if unscored is None:
                unscored = engine.unscored_counts(user.name, cycle.id, first=MISSING_SHOWN)
            board.todo.extend(_missing_sheets(user, program, cycle, r, unscored[0], unscored[2]))
        else:
            board.todo.append(Todo(r, rule=r.rule))
    # the projects waiting for the user, each counted once, by the decision it waits for: counted
    # by the database in groups of projects alike in all that decides it (todo_groups)
    groups = todo_groups(engine, user, cycle, program)
    order = {t: i for i, t in enumerate(program.actions)}
    for key, n in sorted(groups.items(), key=lambda kv: [order.get(t, len(order)) for t in kv[0]]):
        board.todo.append(
            Todo(
                Msg("{n} projects to {actions}", n=n, actions=action_name(program, ",".join(key))),
                link=f"/projects?cycle={cycle.id}&action={','.join(key)}",
            )
        )
    # the open appeals the user decides
    deciding = [a for a in status.get("open_appeals", []) if _decides(user, program, a)]
    if deciding:
        board.todo.append(
            Todo(Msg("{n} appeals to decide", n=len(deciding)), link=f"/appeals?cycle={cycle.id}", rule="appeals")
        )
    if user.role == "lead":
        board.advance_refused = closing_rejections(status)
    return board


def _decides(user: User, program: Program, appeal: dict[str, Any]) -> bool:
    """Whether ``user`` decides an open appeal (the status's summary of it)."""
    rules = program.appeals
    perm = rules.decided_by.get(appeal["against"]) if rules is not None else None
    if perm is None:
        return False
    return permission_problem("decide", perm, actor_of(user), appeal["city"]) is None


def _sheet_rules(program: Program) -> set[str]:
    """The closing rules measured in score sheets (a status column of the sheets kind names its
    own rule; joint scoring's is all_sheets_in)."""
    found = {c.policy or "all_sheets_in" for c in program.status_columns if c.kind == "sheets"}
    return found | {"all_sheets_in"}


def todo_record_keys(program: Program) -> list[str]:
    """The record lists that tell whether an action that keeps its project where it is was taken
    (``done``): all a to-do reads of a project's record."""
    stay = {s.trigger for s in program.transition_specs if s.dest is None}
    return [k for t, k in program.record_keys.items() if t in stay]


def todo_groups(engine: Any, user: User, cycle: Cycle, program: Program) -> dict[tuple[str, ...], int]:
    """How many of the projects ``user`` reads wait for each decision of theirs (``todo_actions``),
    from the database's count of the projects by city, state, reopened stage and taken records:
    a to-do reads nothing else of a project, so each group is judged once, as one of its projects."""
    keys = todo_record_keys(program)
    out: dict[tuple[str, ...], int] = {}
    for g in engine.project_groups(user.name, cycle.id, keys):
        record: dict[str, Any] = {k: [{}] for k in g.filled}
        alike = Project(None, cycle.id, g.city, "", "", "", {}, state=g.state, reopened_to=g.reopened_to, record=record)
        key = tuple(todo_actions(user, alike, cycle, program))
        if key:
            out[key] = out.get(key, 0) + g.count
    return out


def _missing_sheets(
    user: User, program: Program, cycle: Cycle, r: Rejection, left: dict[str, int], first: dict[str, list[int]]
) -> list[Todo]:
    """A to-do item per party short of score sheets: the first projects it has not scored yet
    (``first``) and how many more (``left``), as engine.unscored_counts read them."""
    out = []
    for party in r.parties:
        if user.role != "lead" and party != user.city:
            continue
        n = left.get(party, 0)
        if not n:
            out.append(Todo(r, rule=r.rule))
            continue
        out.append(
            Todo(
                Msg("{party} has not scored:", party=party_words(program.parties, party)),
                link=f"/queue?cycle={cycle.id}" + (f"&city={party}" if user.role == "lead" else ""),
                rule=r.rule,
                projects=first.get(party, []),
                more=max(0, n - MISSING_SHOWN),
            )
        )
    return out


def scored_here(
    engine: Any, user: User, cycle: Cycle, program: Program, project_ids: Sequence[int] | None = None
) -> set[int]:
    """The projects the user's city (or the user, when the program scores per scorer) has a
    current sheet on (of ``project_ids`` only, when given: one page's), from one read: the
    project list does not offer them as still to score."""
    trigger = program.sheet_trigger
    if not trigger or not user.city or program.stage_of_action.get(trigger) != cycle.stage:
        return set()
    per_scorer = program.sheets_per == "scorer"
    done = engine.scored(user.name, cycle.id, by_scorer=per_scorer, project_ids=project_ids)
    return done.get(user.name if per_scorer else user.city, set())


def state_text(program: Program, state: str) -> Text:
    """A state by its declared names."""
    return Text(program.state_name(state, "en"), program.state_name(state))


def stage_text(program: Program, stage_id: str) -> Text:
    """A stage by its name (its id in English, as the command line names it)."""
    return Text(stage_id, program.stage(stage_id).name)


def todo_actions(user: User, project: Project, cycle: Cycle, program: Program) -> list[str]:
    """The actions left for ``user`` to do on ``project``: those it may take now, less the score
    sheet (the closing rule names the missing ones), those that undo, and those already taken."""
    return [
        t
        for t in actions_for(user, project, cycle, program)
        if t != program.sheet_trigger and not undoes(program, t) and not done(program, project, t)
    ]


def undoes(program: Program, trigger: str) -> bool:
    """Whether an action only undoes another: it takes the project back towards where it came
    from (every destination is nearer the program's start than every source) and the program
    asks no reason for it (``reason = "none"``: nothing is decided, a step is taken back).
    Withdrawing a recommendation is such an action; restoring a project after rectification also
    goes back but is decided with a reason, so it stays a to-do."""
    action = program.actions.get(trigger)
    if action is None or action.reason != "none":
        return False
    depth = _depths(program)
    specs = [s for s in program.transition_specs if s.trigger == trigger]
    far = len(depth) + 1
    return bool(specs) and all(
        s.dest is not None and all(depth.get(s.dest, far) < depth.get(src, far) for src in s.source) for s in specs
    )


def _depths(program: Program) -> dict[str, int]:
    """Each state's distance from the start by the program's forward steps (a reopening is not one)."""
    depth = {"new": 0}
    frontier = ["new"]
    while frontier:
        nxt = []
        for state in frontier:
            for s in program.transition_specs:
                if s.trigger != "reopen" and state in s.source and s.dest is not None and s.dest not in depth:
                    depth[s.dest] = depth[state] + 1
                    nxt.append(s.dest)
        frontier = nxt
    return depth


def done(program: Program, project: Project, trigger: str) -> bool:
    """Whether an action was already taken on ``project``: it stands in one of the action's
    destinations (a review result already given), or the action keeps the project where it is
    and its record holds it."""
    specs = [s for s in program.transition_specs if s.trigger == trigger]
    if project.state in {s.dest for s in specs}:
        return True
    if any(s.dest is None for s in specs):
        key = program.record_keys.get(trigger)
        return bool(key and project.record.get(key))
    return False


def action_matches(
    program: Program, wanted: str, user: User, project: Project, cycle: Cycle, actions: list[str]
) -> bool:
    """The project list's ``action=`` filter: the projects whose to-do is exactly the actions
    named (comma-separated, as the dashboard's to-do links them); an action never on a to-do (an
    undo) filters by whether it may be taken."""
    want = [a for a in wanted.split(",") if a]
    if len(want) == 1 and want[0] in actions and (undoes(program, want[0]) or want[0] == program.sheet_trigger):
        return True
    return set(want) == set(todo_actions(user, project, cycle, program))


def action_name(program: Program, trigger: str) -> Any:
    """An action's name in the reader's language: its declaration's, else the engine's own
    words for it; several (comma-separated) read as alternatives ("accept or reject")."""
    if "," in trigger:
        return Joined([action_name(program, t) for t in trigger.split(",") if t], _OR.id)
    action = program.actions.get(trigger)
    if action is not None:
        return Text(action.en or action.id, action.zh)
    if trigger in ACTION_NAMES:
        return ACTION_NAMES[trigger]
    if trigger in program.state_names:
        return state_text(program, trigger)
    return trigger


def application_rows(program: Program, project: Project) -> list[tuple[Any, Any]]:
    """The form's fields of a project as (label, value) pairs, as a reader sees them."""
    form = program.form
    if form is None:
        return []
    app = project.application
    names = {party.id: party.name for party in program.parties}
    # (a party field holds the party's id; its reader knows the city by its name)
    rows: list[tuple[Any, Any]] = [
        (
            f.zh,
            Text(value, names.get(value, value)) if f.kind == "party" and isinstance(value, str) else shown(f, value),
        )
        for f in form.fields
        for value in (f.get(app),)
    ]
    if form.group is not None:
        g = form.group
        for m in app.get(g.key, []):
            marks = " ".join(flag.zh for flag in g.flags if m.get(flag.name))
            values = " ".join(shown(f, m.get(f.name)) for f in g.fields)
            rows.append((g.zh, values + (f"（{marks}）" if marks else "")))
    if program.review_criteria_field:
        kind = form.field(program.review_criteria_field).get(app)
        for n, item in enumerate(program.review_criteria.get(kind, ()), start=1):
            rows.append((Msg("Review item {n}", n=n), item))
    return rows


def local_time(instant: datetime | None, program: Program) -> str:
    if instant is None:
        return "—"
    return instant.astimezone(ZoneInfo(program.timezone)).strftime("%Y-%m-%d %H:%M")


def button_label(program: Program, action_id: str) -> Any:
    """The words on an action's button: its declared button text, else its name."""
    action = program.actions.get(action_id)
    if action is None:
        return action_name(program, action_id)
    if action.button_zh:
        return Text(action.button_en or action.en or action.id, action.button_zh)
    return action_name(program, action_id)


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
    if action is None and trigger in ("attach", "remove_attachment") and data.get("file_name"):
        return [(str(Msg("Attached file")), str(data["file_name"]))]  # (the file, by the name it was uploaded under)
    return action.shown(data) if action is not None else []


def record_rows(program: Program, project: Project) -> list[tuple[Any, str, str, list[tuple[Any, str]]]]:
    """A project's record as a reader sees it: each entry's action, when (local time), by whom,
    and its declared parameters by their labels."""
    by_key = {key: trigger for trigger, key in program.record_keys.items()}
    rows = []
    for key, entries in project.record.items():
        trigger = by_key.get(key, key)
        action = program.actions.get(trigger)
        for e in entries:
            if action is not None:
                shown = action.shown(e) + ([(Msg("Reason"), str(e["reason"]))] if e.get("reason") else [])
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


# ------------------------------------------------------------------------------------------ the list
def list_status_words(status: str | None, confirmed: int, parties: int) -> Any:
    """A list version's status as it truly stands: a proposed version counts its confirmations
    (确认中 3/9; every party's: confirmed, waiting for the stage to close), else its status."""
    if status == "proposed" and confirmed:
        if confirmed >= parties:
            return Msg("Confirmed by all {total} ({n}/{total})", n=confirmed, total=parties)
        return Msg("Being confirmed {n}/{total}", n=confirmed, total=parties)
    return LIST_STATUS.get(status or "", status or "")


def doer(program: Program, action: str) -> Any:
    """Who takes an action, as a reader names them: the lead party by its name, else the roles."""
    perm = program.permissions.get(action)
    roles = perm.roles if perm is not None else ()
    if roles == ("lead",):
        return party_words(program.parties, program.lead)
    return Joined([ROLE_NAMES.get(r, r) for r in roles], _OR.id)


def stage_words(program: Program, action: str) -> Text:
    """The stage an action belongs to, by its name (its id in English)."""
    stage_id = program.stage_of_action.get(action, "")
    return stage_text(program, stage_id) if stage_id else Text("", "")


def list_waiting(program: Program, opened: Any) -> Any:
    """One line saying why no list action is open to the reader now, and who acts next."""
    n, status = opened.version, opened.status
    if n is None:
        return Msg(
            "No list has been proposed yet; {who} proposes it in stage “{stage}”.",
            who=doer(program, "propose"),
            stage=stage_words(program, "propose"),
        )
    if status == "proposed":
        done, total = len(opened.confirmed), len(opened.parties)
        if done >= total:
            return Msg(
                "Every party has confirmed list version {n}; {who} closes stage “{stage}”, then publishes it.",
                n=n,
                who=doer(program, "advance"),
                stage=stage_words(program, "confirm"),
            )
        if any(r.rule == "confirm_once" for r in opened.refused.get("confirm", ())):
            return Msg(
                "You have confirmed list version {n}; the others are confirming ({done}/{total}).",
                n=n,
                done=done,
                total=total,
            )
        return Msg(
            "List version {n} is being confirmed ({done}/{total}); each party confirms or objects in stage “{stage}”.",
            n=n,
            done=done,
            total=total,
            stage=stage_words(program, "confirm"),
        )
    if status == "objected":
        return Msg("List version {n} was objected to; {who} proposes a new version.", n=n, who=doer(program, "propose"))
    if status == "confirmed":
        return Msg(
            "List version {n} is confirmed; {who} publishes it in stage “{stage}”.",
            n=n,
            who=doer(program, "publish"),
            stage=stage_words(program, "publish"),
        )
    return Msg("List version {n} is published.", n=n)


@dataclass
class Change:
    """One project's change between a list version and the one before it."""

    project: int
    city: str
    name: str
    change: Any  # entered, left, moved
    before: Any
    after: Any
    cause: Any


def _place_words(program: Program, place: dict[str, Any] | None) -> Any:
    if place is None:
        return "—"
    return Msg("place {rank} · {category}", rank=place["rank"], category=program.category_words(place["category"]))


def version_changes(
    program: Program, versions: Sequence[Any], confirmations: dict[int, list[Any]], appeals: Sequence[Any]
) -> dict[int, list[Change]]:
    """Each version's changes against the one before it (versions oldest first), project by
    project, with their cause where the engine records one: an appeal upheld on the project
    between the two versions, the objections to the version before, else a re-proposal."""
    from workflow.ranking import list_changes

    out: dict[int, list[Change]] = {}
    for prev, v in zip(versions, versions[1:], strict=False):
        upheld = {
            a.project_id: a
            for a in appeals
            if a.status == "upheld" and a.decided_at is not None and prev.at <= a.decided_at <= v.at
        }
        objections = [c for c in confirmations.get(prev.id, []) if c.decision == "object"]
        if objections:
            general: Any = Joined(
                [
                    Msg("objection of {city}: {reason}", city=party_words(program.parties, c.city), reason=c.reason)
                    if c.reason
                    else Msg("objection of {city}", city=party_words(program.parties, c.city))  # (reasons withheld)
                    for c in objections
                ],
                "; ",
            )
        elif upheld:
            general = Msg("correction after an upheld appeal")
        else:
            general = Msg("proposed again")
        rows = []
        for c in list_changes(prev.entries, v.entries):
            a = upheld.get(c["project"])
            kind = {"added": Msg("entered"), "removed": Msg("left")}.get(c["change"], Msg("moved"))
            rows.append(
                Change(
                    project=c["project"],
                    city=c["city"],
                    name=c["project_name"],
                    change=kind,
                    before=_place_words(program, c["before"]),
                    after=_place_words(program, c["after"]),
                    cause=Msg("appeal {id} upheld: {reason}", id=a.id, reason=a.decision_reason) if a else general,
                )
            )
        out[v.number] = rows
    return out
