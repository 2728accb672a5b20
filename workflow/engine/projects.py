"""The projects' actions: submitting an application (one, or a file of them) and firing a
trigger on projects (one, a batch, a batch each with its own request)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from i18n import Joined, Msg
from policies.base import JUDGES_PARTY, NEEDS_APPLICATION, NEEDS_UNIT, CycleCounts, Rejection, name_rule
from policies.permissions import permission_problem
from policies.windows import stage_window
from workflow.actions import Action
from workflow.application import as_submitted, validate_application, written_paths
from workflow.common import ActionContext, Verdict, actor_of, batch_work, reopened_allows, verb_of
from workflow.engine.door import Door, Move
from workflow.engine.guards import lifted, window_words
from workflow.errors import ConcurrentChange, InvalidInput, NotFound
from workflow.form import Form
from workflow.log import get_logger
from workflow.program import INITIAL_STATE, Program
from workflow.records import Project

log = get_logger("evalflow.engine")

name_rule("parameters", "参数")


@dataclass
class ImportResult:
    """What an import did (or, with dry_run, would do)."""

    cycle_id: str
    dry_run: bool
    created: list[Project] = field(default_factory=list)
    unchanged: list[tuple[str, int]] = field(default_factory=list)  # (label, the project it already is)


class ImportRefused(InvalidInput):
    """An import refused row by row: the message groups the rows that share a problem (legible on
    one line), ``labelled`` keeps every (row label, problem) so that a page can give each row its
    own verdict, and ``unchanged`` the rows already imported as they are."""

    def __init__(self, what: Any, labelled: Sequence[tuple[str, Any]], unchanged: Sequence[str] = ()):
        super().__init__(what, _grouped(labelled))
        self.labelled = tuple(labelled)
        self.unchanged = tuple(unchanged)


class ProjectActions(Door):
    """Submitting applications; firing triggers on projects."""

    def submit(self, acting: str | None, application: Mapping[str, Any], cycle_id: str | None = None) -> Project:
        """Create a project from a complete application (the program's form)."""
        with self._acting(acting, cycle_id or application.get("cycle")) as act:
            program, cycle = act.program, act.cycle
            form = _form(program)
            app = validate_application(application, form, written_paths(program.application_params))
            city = form.party_of(app)
            project = _new_project(act, city, form.unit_of(app), form.title_of(app), app)
            subject = Msg("application '{name}'", name=project.project_name)
            self._permit(act, "submit", _own_city(program, city), subject)
            units = self._unit_projects(act, [project.unit_name])
            request = {"unit_projects": units.get(project.unit_name, [])} if units is not None else {}
            ctx = self._context(act, CycleCounts(), project, request, now=act.now)
            verdict = self._guards(act, "submit", ctx)
            if verdict.refused:
                raise self._refuse(verb_of(program, "submit"), subject, verdict.refused)
            self._move(
                act,
                project,
                "submit",
                {},
                city=city,
                enterprise=project.unit_name,
                project_name=project.project_name,
                **lifted(verdict),
            )
        log.info("project_submitted", project=project.id, city=city, cycle=cycle.id)
        return project

    def fire(
        self,
        acting: str | None,
        project_ids: int | Sequence[int],
        trigger: str,
        reason: str = "",
        **request: Any,
    ) -> list[Project]:
        """Fire ``trigger`` on one or more projects, all or nothing, in one transaction.

        Every project is checked before any is changed; a refusal lists every failing rule of
        every project and changes nothing.
        """
        ids = [project_ids] if isinstance(project_ids, int) else list(project_ids)
        expected = request.pop("expected_version", None)
        versions = {ids[0]: expected} if expected is not None and len(ids) == 1 else None
        return self.fire_each(acting, [(pid, request) for pid in ids], trigger, reason, expected=versions)

    @batch_work
    def fire_each(
        self,
        acting: str | None,
        items: Sequence[tuple[int, Mapping[str, Any]]],
        trigger: str,
        reason: str = "",
        progress: Callable[[int], None] | None = None,
        expected: Mapping[int, int] | None = None,
    ) -> list[Project]:
        """Fire ``trigger`` on several projects, each with its own request (a score import: each
        project its own sheet), all or nothing, in one transaction. ``expected`` maps a project to
        the version its user saw: if someone changed it since, nothing is done (ConcurrentChange,
        with both versions)."""
        ids = [pid for pid, _ in items]
        if not ids:
            raise InvalidInput("request", [Msg("no project ids given")])
        repeated = sorted(pid for pid, n in Counter(ids).items() if n > 1)
        if repeated:
            raise InvalidInput("request", [Msg("project {id} is named more than once", id=pid) for pid in repeated])
        requests: dict[int | None, Mapping[str, Any]] = {pid: dict(req) for pid, req in items}
        done: list[Project] = []
        # the cycle first (locked for the transaction), then its projects as they are now; their
        # (large) applications only when a guard reads them or the trigger writes them
        with self._acting(acting, locate=lambda tx: self._project(tx, ids[0]).cycle_id) as act:
            program, cycle, user = act.program, act.cycle, act.user
            guarded = program.guards.get(trigger, ())
            reads = not NEEDS_APPLICATION.isdisjoint(guarded) or trigger in program.application_params
            found = act.tx.get_projects(ids, with_application=reads)
            missing = [pid for pid in ids if pid not in found]
            if missing:
                raise NotFound("project", missing[0])
            projects = [found[pid] for pid in ids]
            if any(p.cycle_id != cycle.id for p in projects):
                raise InvalidInput("request", [Msg("the projects belong to different cycles")])
            stage_of = program.stage_of_action.get(trigger)
            readable = self._reader(user, cycle, program)
            for project in projects:
                # a project the user may not even read is not there for them, before its version,
                # its permission or its rules could tell that it exists (or its state) — unless
                # the program lets the user act on it now without reading it (the action is of the
                # cycle's stage, or of one the project was reopened to, and the user's role may do it)
                if not readable(project) and not (
                    stage_of is not None
                    and (stage_of == cycle.stage or reopened_allows(program, cycle, stage_of, project.reopened_to))
                    and permission_problem(trigger, program.permissions.get(trigger), actor_of(user), project.city)
                    is None
                ):
                    raise NotFound("project", project.id)
            for project in projects:
                assert project.id is not None  # (read from the store)
                seen = (expected or {}).get(project.id)
                if seen is not None and seen != project.version:
                    raise ConcurrentChange(Msg("project {id}", id=project.id), seen, project.version)
            if trigger not in program.stage_of_action:
                raise InvalidInput(
                    "action",
                    [Msg("{trigger} is not an action of program {program}", trigger=repr(trigger), program=program.id)],
                )
            # a reason the action's declaration requires: once for the whole batch, before its rules
            self._reason_given(act, trigger, reason)
            # the machine's answers for this batch (Program.fire): asked once per source state and
            # request values, by the counts of later projects and by the moves alike
            decided: dict[Any, str | None] = {}
            requests, typed_in = _declared(program.actions.get(trigger), requests)
            verdicts = self._check_moves(
                act, trigger, projects, requests, decided, progress=progress, typed_in=typed_in
            )
            moves: list[Move] = [(p, requests[p.id], lifted(verdicts[p.id])) for p in projects]
            held = {p.state for p in projects} & set(program.deadline_states)
            self._move_all(act, moves, trigger, reason, decided)
            if trigger in program.deadline_triggers or held:  # a deadline given, or no longer waited on
                self._replan(act)
            done = list(projects)
        if len(done) == 1:
            log.info("transition", project=done[0].id, trigger=trigger, state=done[0].state, actor=acting)
        else:  # one line for a batch (its audit rows name every project)
            shown = {"ids": [p.id for p in done]} if len(done) <= 20 else {"first": done[0].id, "last": done[-1].id}
            log.info("transitions", projects=len(done), trigger=trigger, actor=acting, **shown)
        return done

    @batch_work
    def submit_batch(
        self,
        acting: str | None,
        items: Sequence[tuple[str, Mapping[str, Any]]],
        cycle_id: str | None = None,
        dry_run: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> ImportResult:
        """Submit many applications (an import), all or nothing, in one transaction. Each item is
        (a label naming where it came from, e.g. "row 5", the application). An application already
        submitted with the same content is left alone, so importing a file again adds nothing;
        every problem of every item is reported at once, labelled, and nothing is imported."""
        with self._acting(acting, cycle_id, write=not dry_run) as act:
            program, cycle, user, tx = act.program, act.cycle, act.user, act.tx
            subject = Msg("applications into cycle {cycle}", cycle=cycle.id)
            stage_id = program.stage_of_action["submit"]
            closed = stage_window(
                "submit",
                stage_id,
                cycle.stage,
                self.window(program, cycle, stage_id),
                act.now,
                **window_words(program, "submit"),
            )
            closed = self._judge(act, closed).refused
            if closed:
                raise self._refuse(Msg("import"), subject, closed)
            # the cycle's projects by (enterprise, project), without their applications: only one
            # submitted again has its application read, to compare
            form = _form(program)
            units = [_unit_name(form, data) for _, data in items]
            existing = tx.project_keys(cycle.id)  # (unit, project name) -> id: what was submitted already
            seen: dict[tuple[str, str], str] = {}
            problems: list[tuple[str, Any] | None] = []  # (label, message); None: decided below
            again: list[tuple[int, str, Mapping[str, Any], int]] = []
            result = ImportResult(cycle.id, dry_run)
            planned: list[tuple[Project, Verdict]] = []
            names = program.guards.get("submit", ())
            held = self._unit_projects(act, units)
            for n, (label, data) in enumerate(items, start=1):
                if progress is not None:
                    progress(n)
                try:
                    app = validate_application(data, form, written_paths(program.application_params))
                except InvalidInput as exc:
                    problems += [(label, p) for p in exc.problems]
                    continue
                city = form.party_of(app)
                key = (form.unit_of(app), form.title_of(app))
                if key in seen:
                    same = Msg(
                        "the same project as {other}: 《{title}》 of {unit}", other=seen[key], title=key[1], unit=key[0]
                    )
                    problems.append((label, same))
                    continue
                seen[key] = label
                why = permission_problem(
                    "submit", program.permissions.get("submit"), actor_of(user), _own_city(program, city)
                )
                if why:
                    problems.append((label, Msg("not permitted: {why}", why=why)))
                    continue
                known = existing.get(key)
                if known is not None:  # compared below, once the applications are read (one query)
                    again.append((len(problems), label, app, known))
                    problems.append(None)
                    continue
                project = _new_project(act, city, key[0], key[1], app)
                request = {"unit_projects": held.get(project.unit_name, [])} if held is not None else {}
                ctx = self._context(act, CycleCounts(), project, request, now=act.now)
                verdict = self._judge(act, self._run(program, names, ctx), ctx.project)
                problems += [(label, r) for r in verdict.refused]
                planned.append((project, verdict))
            stored = tx.get_projects([pid for *_, pid in again]) if again else {}
            for at, label, submitted, pid in again:
                old = stored[pid]
                if _same_application(program, old.application, submitted):
                    result.unchanged.append((label, pid))
                else:
                    problems[at] = (
                        label,
                        Msg(
                            "{unit} already submitted 《{title}》 as project {id}, with other content",
                            unit=old.unit_name,
                            title=old.project_name,
                            id=pid,
                        ),
                    )
            found = [p for p in problems if p is not None]
            if found:
                raise ImportRefused(
                    Msg("{subject} (nothing was imported)", subject=subject),
                    found,
                    [label for label, _ in result.unchanged],
                )
            if dry_run:
                result.created = [p for p, _ in planned]
                return result
            moves: list[Move] = [
                (
                    project,
                    {},
                    {
                        "city": project.city,
                        "enterprise": project.unit_name,
                        "project_name": project.project_name,
                        "imported": True,
                        **lifted(verdict),
                    },
                )
                for project, verdict in planned
            ]
            self._move_all(act, moves, "submit")
            result.created = [p for p, _ in planned]
        log.info("applications_imported", cycle=cycle.id, created=len(result.created), unchanged=len(result.unchanged))
        return result

    def _unit_projects(self, act: ActionContext, units: Sequence[str]) -> dict[str, list[dict[str, Any]]] | None:
        """The applying units' projects in every cycle of the program, for the guards on submit
        that read a unit's standing across years (None: no such guard, nothing read)."""
        program = act.program
        if NEEDS_UNIT.isdisjoint(program.guards.get("submit", ())):
            return None
        out: dict[str, list[dict[str, Any]]] = {}
        for p in act.tx.unit_projects(program.id, [u for u in units if u]):
            out.setdefault(p.unit_name, []).append(
                {"unit": p.unit_name, "cycle": p.cycle_id, "project": p.id, "state": p.state}
            )
        return out


def _new_project(act: ActionContext, city: str, unit: str, title: str, application: dict[str, Any]) -> Project:
    """A project not yet submitted: the machine's ``submit`` creates it (Door._move_all)."""
    return Project(
        id=None,
        cycle_id=act.cycle.id,
        city=city,
        applicant=act.user.name,
        unit_name=unit,
        project_name=title,
        application=application,
        state=INITIAL_STATE,
        submitted_at=act.now,
        updated_at=act.now,
    )


def _own_city(program: Program, city: str) -> str | None:
    """The city a submitter must act for: the application's, unless it is none of the program's
    parties and a rule on submission judges that (JUDGES_PARTY). No user acts for such a city,
    so that rule refuses the application, naming the program's parties (the role is still checked)."""
    if city in program.party_ids or JUDGES_PARTY.isdisjoint(program.guards.get("submit", ())):
        return city
    return None


def _unit_name(form: Form, data: Mapping[str, Any]) -> str:
    """The applying unit named by an application not yet checked (empty when it names none)."""
    try:
        return str(form.unit_of(data) or "")
    except (AttributeError, TypeError):
        return ""


def _form(program: Program) -> Form:
    if program.form is None:
        raise InvalidInput("application", [Msg("program {id} has no application form ([form])", id=program.id)])
    return program.form


def _grouped(problems: Sequence[tuple[str, Any]], shown: int = 3) -> list[Msg]:
    """Problems as (label, message), read '[label] message': one message shared by many labels is
    said once, with the first few labels and how many more (a whole file refused for one reason
    stays legible)."""
    labels: dict[str, tuple[Any, list[str]]] = {}
    for label, message in problems:
        # (the same words are the same problem, whichever way they were made)
        key = message.render("en") if hasattr(message, "render") else str(message)
        labels.setdefault(key, (message, []))[1].append(label)
    out = []
    for message, where in labels.values():
        more = Msg(" and {count} more", count=len(where) - shown) if len(where) > shown else ""
        out.append(Msg("[{labels}{more}] {message}", labels=Joined(where[:shown], "; "), more=more, message=message))
    return out


def _same_application(program: Program, stored: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether a stored application is the one submitted again (what actions wrote on it since,
    such as the city's opinion on acceptance, is not part of what the applicant sent)."""
    paths = tuple(keys for writes in program.application_params.values() for _, keys in writes)
    return as_submitted(stored, paths) == as_submitted(new, paths)


def _declared(
    action: Action | None, requests: Mapping[int | None, Mapping[str, Any]]
) -> tuple[dict[int | None, Mapping[str, Any]], dict[int | None, list[Rejection]]]:
    """Each project's request as its action's declaration keeps it (a parameter or a choice named
    by its label becomes its id, values typed by their kind), and what is wrong with each: a
    rejection of the rule ``parameters`` per problem, judged with the action's other rules. A
    request with problems is kept as given, so the rules see what was typed. An action that takes
    its input from a form or a score sheet has its own checks."""
    if action is None or action.uses:
        return dict(requests), {}
    out: dict[int | None, Mapping[str, Any]] = {}
    problems: dict[int | None, list[Rejection]] = {}
    seen: dict[Any, tuple[Mapping[str, Any], list[Rejection]]] = {}  # a batch often asks the same
    for pid, request in requests.items():
        try:
            key: Any = frozenset(request.items())
        except TypeError:  # (a value that is not hashable: checked on its own)
            key = object()
        if key not in seen:
            clean, found = action.check(request)
            seen[key] = (request, [Rejection("parameters", p) for p in found]) if found else (clean, [])
        out[pid], refused = seen[key]
        if refused:
            problems[pid] = refused
    return out, problems
