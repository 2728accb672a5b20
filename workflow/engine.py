"""The engine: the one door through which every state change passes.

Each action runs in one database transaction: load the context → check permission → run every
guard (the stage window and the program's policies), collecting *all* rejections → fire the
trigger on the program's one machine → save with a version check → append the audit row. A
refusal raises :class:`RuleRefused`, is logged, and leaves the database unchanged.
"""

from __future__ import annotations

import builtins
import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from policies import REGISTRY
from policies.appeals import split_overridden
from policies.base import (
    NEEDS_APPLICATION,
    NEEDS_COUNTS,
    NEEDS_UNIT,
    CycleCounts,
    GuardContext,
    ProjectView,
    Rejection,
    parse_date,
)
from policies.permissions import can_read, permission_problem
from policies.windows import Window, stage_window
from workflow.accounts import AccountActions
from workflow.appeals import AppealActions
from workflow.application import validate_application
from workflow.clock import Clock, utc_now
from workflow.common import (
    Store,
    Verdict,
    actor_of,
    appeal_decided_by_city,
    batch_work,
    overrides_of,
    reopened_allows,
)
from workflow.errors import ConcurrentChange, InvalidInput, NotFound, NotPermitted, RuleRefused
from workflow.form import Form
from workflow.log import get_logger
from workflow.program import (
    INITIAL_STATE,
    REOPEN,
    ROLES,
    Program,
    ProgramRegistry,
    StatusColumn,
)
from workflow.ranking import list_changes, rank, rank_scores, show
from workflow.records import (
    AuditEntry,
    Confirmation,
    Cycle,
    ListEntry,
    ListVersion,
    Project,
    Reminder,
    ScoreSheet,
    User,
)
from workflow.reminders import NOTICE_KEY, UNSENT, Deadline, PendingWork, plan_for
from workflow.trail import TrailActions

log = get_logger("evalflow.engine")


@dataclass
class ImportResult:
    """What an import did (or, with dry_run, would do)."""

    cycle_id: str
    dry_run: bool
    created: list[Project] = field(default_factory=list)
    unchanged: list[tuple[str, int]] = field(default_factory=list)  # (label, the project it already is)


@dataclass
class ReportData:
    cycle: Cycle
    program: Program
    list: ListVersion | None
    projects: builtins.list[Project]  # (builtins: ``list`` is a field's name here)
    sheets: builtins.list[ScoreSheet]
    status: dict[str, Any]
    by_city_state: Mapping[tuple[str, str], int]
    awarded_as: Mapping[tuple[str, str], int]  # (city, category) -> awarded projects of that category


@dataclass
class AdvanceResult:
    cycle: Cycle
    from_stage: str
    to_stage: str | None
    dry_run: bool
    rejections: list[Rejection] = field(default_factory=list)
    overridden: list[str] = field(default_factory=list)


def _placed_category(program: Program, project: Project, awarded_from: Mapping[int, str]) -> str | None:
    """The list category a placed project holds: read from the state ``place`` put it in (for an
    awarded project, the state it was awarded from: ``tx.entered_from(cycle, "awarded")``)."""
    state = awarded_from.get(project.id, project.state) if project.state == "awarded" else project.state  # type: ignore[arg-type]
    for spec in program.transition_specs:
        if spec.trigger == "place" and spec.dest == state:
            return spec.when.get("category")
    return None


def _lifted(verdict: Verdict) -> dict[str, Any]:
    """An action's audit data naming the rejections the lead's overrides lifted, if any."""
    return {"overridden": verdict.lifted} if verdict.lifted else {}


class Engine(AppealActions, TrailActions, AccountActions):
    """Runs programs' cycles on a store, with an injected clock."""

    def __init__(self, store: Store, programs: ProgramRegistry | None = None, clock: Clock = utc_now):
        self.store = store
        self.programs = programs or ProgramRegistry()
        self.clock = clock

    # ------------------------------------------------------------------------------ helpers
    def now(self) -> datetime:
        return self.clock()

    def _user(self, tx: Any, name: str | None) -> User:
        if not name:
            raise NotPermitted("act", "in evalflow", "no acting user; pass --as NAME or set EVALFLOW_USER")
        user = tx.get_user(name)
        if user is None:
            raise NotFound("user", name, "add users with 'evalflow user add'")
        return user

    def _cycle(self, tx: Any, cycle_id: str | None) -> Cycle:
        if cycle_id:
            cycle = tx.get_cycle(cycle_id)
            if cycle is None:
                raise NotFound("cycle", cycle_id)
            return cycle
        cycles = tx.list_cycles()
        if not cycles:
            raise NotFound("cycle", "(any)", "open one with 'evalflow cycle open PROGRAM --year YEAR'")
        if len(cycles) > 1:
            names = ", ".join(c.id for c in cycles)
            raise InvalidInput("cycle choice", [f"several cycles exist ({names}); name one"])
        return cycles[0]

    def _project(self, tx: Any, project_id: int) -> Project:
        project = tx.get_project(project_id)
        if project is None:
            raise NotFound("project", project_id)
        return project

    def program_of(self, cycle: Cycle) -> Program:
        return self.programs.get(cycle.program_id)

    def _permit(self, program: Program, action: str, user: User, city: str | None, subject: str) -> None:
        problem = permission_problem(action, program.permissions.get(action), actor_of(user), city)
        if problem:
            log.info("not_permitted", action=action, actor=user.name, subject=subject, why=problem)
            raise NotPermitted(action, subject, problem)

    def window(self, program: Program, cycle: Cycle, stage_id: str) -> Window | None:
        return program.window(stage_id, cycle.year)

    def _counts(
        self, tx: Any, cycle: Cycle, list_version: ListVersion | None = None, policies: Iterable[str] | None = None
    ) -> CycleCounts:
        """The cycle-wide counts guards read: a few grouped queries, run only when one of ``policies``
        (all when None) reads them, so actions guarded by per-project rules stay cheap."""
        if policies is not None and NEEDS_COUNTS.isdisjoint(policies):
            return CycleCounts()
        program = self.program_of(cycle)
        by_city_state = tx.count_by_city_state(cycle.id)
        confirmations: frozenset[str] = frozenset()
        if list_version is not None and list_version.id is not None:
            confirmations = frozenset(c.city for c in tx.confirmations(list_version.id) if c.decision == "confirm")
        by_scorer: dict[str, int] = {}
        scorers: tuple[str, ...] = ()
        if program.sheets_per == "scorer":
            by_scorer = tx.count_sheets_by_scorer(cycle.id, program.listable_states + program.placed_states)
            scorers = tuple(u.name for u in tx.list_users() if u.role == "scorer")
        return CycleCounts(
            sheets_by_scorer=by_scorer,
            scorers=scorers,
            by_city_state=by_city_state,
            results=tx.count_municipal_results(cycle.id),
            sheets_by_city=tx.count_sheets_by_city(cycle.id, program.listable_states + program.placed_states),
            confirmations=confirmations,
            key_library=sum(
                n for (_, s), n in by_city_state.items() if s in program.listable_states + program.placed_states
            ),
        )

    def _context(
        self,
        program: Program,
        cycle: Cycle,
        counts: CycleCounts,
        project: Project | None = None,
        request: Mapping[str, Any] | None = None,
        now: datetime | None = None,
        stage_closes: datetime | None = None,
        quotas: Mapping[str, Mapping[str, int]] | None = None,
    ) -> GuardContext:
        view = None if project is None else self._view(project)
        return GuardContext(
            now=now or self.now(),
            cycle_id=cycle.id,
            cycle_year=cycle.year,
            parties=program.parties,
            quotas=program.cycle_quotas(cycle.id, cycle.settings.get("quotas")) if quotas is None else quotas,
            criteria=program.criteria,
            params={},
            project=view,
            counts=counts,
            request=dict(request or {}),
            timezone=program.timezone,
            stage_closes=stage_closes,
        )

    @staticmethod
    def _view(project: Project) -> ProjectView:
        return ProjectView(
            project.id, project.city, project.state, project.application, project.municipal_result, project.record
        )

    def _run(self, program: Program, names: Iterable[str], ctx: GuardContext) -> list[Rejection]:
        out: list[Rejection] = []
        for name in names:
            params = program.policy_params.get(name) or {}
            out.extend(REGISTRY[name](ctx.with_params(params) if params or ctx.params else ctx))
        return out

    def _judge(self, cycle: Cycle, rejections: Iterable[Rejection], project: ProjectView | None = None) -> Verdict:
        """Lift the rejections the lead has overridden for this cycle (kept as notes for the audit)."""
        kept, lifted = split_overridden(rejections, overrides_of(cycle), project)
        return Verdict(kept, [f"{r} — overridden by override {o.id} ({o.by}: {o.reason})" for r, o in lifted])

    def _closing(self, program: Program, cycle: Cycle, names: Iterable[str], ctx: GuardContext) -> Verdict:
        return self._judge(cycle, self._run(program, names, ctx))

    def _guards(
        self,
        program: Program,
        cycle: Cycle,
        action: str,
        ctx: GuardContext,
        reopened: str | None = None,
        window: list[Rejection] | None = None,
    ) -> Verdict:
        """The stage window and the action's policies, less what the lead overrode. ``reopened``:
        the stage an appeal reopened the subject to; it may act there and up to the cycle's
        stage whatever their windows. ``window``: the window's verdict at ``ctx.now``, when a
        batch has already asked it."""
        stage_id = program.stage_of_action[action]
        if reopened_allows(program, cycle, stage_id, reopened):
            rejections: list[Rejection] = []
        elif window is not None:
            rejections = list(window)
        else:
            rejections = stage_window(action, stage_id, cycle.stage, self.window(program, cycle, stage_id), ctx.now)
        rejections += self._run(program, program.guards.get(action, ()), ctx)
        if not rejections:
            return Verdict([], [])  # nothing for an override to lift
        return self._judge(cycle, rejections, ctx.project)

    def _request(
        self, tx: Any, program: Program, cycle: Cycle, lst: ListVersion | None, names: Iterable[str]
    ) -> dict[str, Any]:
        """What the list and appeal rules among ``names`` need to know beyond the counts."""
        names = set(names)
        request = _list_request(lst)
        if "notice_over" in names:
            request["published_at"] = cycle.settings.get("published_at")
        if "appeals_settled" in names:
            waiting = set(program.undecided_states)
            # the appeal that reopened each project: its latest upheld one (one query for all)
            upheld = {a.project_id: a.id for a in tx.appeals(cycle.id, statuses=("upheld",))}
            request["reopened_waiting"] = [
                {"project": p.id, "city": p.city, "state": p.state, "stage": p.reopened_to, "appeal": upheld.get(p.id)}
                for p in tx.reopened_projects(cycle.id)
                if p.state in waiting
            ]
        if "appeals_decided" in names:
            request["open_appeals"] = [
                {
                    "appeal": a.id,
                    "project": a.project_id,
                    "city": a.city,
                    "decider": a.city if appeal_decided_by_city(program, a.against_stage) else None,
                }
                for a in tx.appeals(cycle.id, statuses=("open",))
            ]
        return request

    def _refuse(
        self, verb: str, subject: str, rejections: Sequence[Rejection], state: str | None = None
    ) -> RuleRefused:
        err = RuleRefused(verb, subject, rejections, state)
        log.info("refused", action=verb, subject=subject, state=state, rules=err.rules, message=str(err))
        return err

    # ------------------------------------------------------------------------------ users
    def add_user(self, acting: str | None, name: str, role: str, city: str | None) -> User:
        """Add a user. The very first user must be the lead (bootstrap); later only the lead adds users."""
        if role not in ROLES:
            raise InvalidInput("role", [f"{role!r} is not one of {', '.join(ROLES)}"])
        if role in ("city-admin", "scorer") and not city:
            raise InvalidInput("user", [f"a {role} needs --city"])
        known = {p.id for pid in self.programs.ids() for p in self.programs.get(pid).parties}
        if city and known and city not in known:
            raise NotFound("city", city, f"known cities: {', '.join(sorted(known))}")
        now = self.now()
        with self.store.transaction() as tx:
            if tx.count_users() == 0:
                if role != "lead":
                    raise NotPermitted("add user", name, "the first user must be the lead (--role lead)")
                actor = name
            else:
                user = self._user(tx, acting)
                if user.role != "lead":
                    raise NotPermitted("add user", name, f"{user.name} is {user.role}; users are added by the lead")
                actor = user.name
            if tx.get_user(name) is not None:
                raise InvalidInput("user", [f"a user named {name!r} already exists"])
            new = User(name, role, city)
            tx.add_user(new, now)
            self._audit(tx, now, None, "user", name, actor, "add_user", to_state=role, city=city)
        log.info("user_added", name=name, role=role, city=city)
        return new

    def users(self) -> list[User]:
        with self.store.transaction(write=False) as tx:
            return tx.list_users()

    # ------------------------------------------------------------------------------ cycles
    def open_cycle(
        self,
        acting: str | None,
        program_id: str,
        year: int,
        places: Mapping[str, int] | None = None,
        quotas: Mapping[str, Mapping[str, int]] | None = None,
    ) -> Cycle:
        program = self.programs.get(program_id)
        cycle_id = f"{program.cycle_prefix}-{year}"
        bad: list[str] = []
        for city, values in (quotas or {}).items():
            program.party(city)
            for key, value in values.items():
                if key not in program.results or not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    bad.append(f"quota {city}:{key}={value!r} must name a result and be a whole number ≥ 0")
        known = [c.id for c in program.categories]
        for key, value in (places or {}).items():
            if key not in known:
                bad.append(f"{key!r} is not a list category of {program.id} ({', '.join(known) or 'it has none'})")
            elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
                bad.append(f"{key} places = {value!r} must be a whole number ≥ 0")
        if bad:
            raise InvalidInput("cycle settings", bad)
        settings: dict[str, Any] = {
            "places": {
                **{c.id: c.places for c in program.categories},
                **{k: int(v) for k, v in (places or {}).items()},
            },
            "quotas": {c: dict(q) for c, q in (quotas or {}).items()},
        }
        now = self.now()
        with self.store.transaction() as tx:
            user = self._user(tx, acting)
            if user.role != "lead":
                raise NotPermitted(
                    "open", f"cycle {cycle_id}", f"{user.name} is {user.role}; cycles are opened by the lead"
                )
            if tx.get_cycle(cycle_id) is not None:
                raise InvalidInput("cycle", [f"cycle {cycle_id} is already open"])
            cycle = Cycle(
                id=cycle_id,
                program_id=program.id,
                program_version=program.version,
                program_digest=program.digest,
                year=year,
                stage=program.stages[0].id,
                settings=settings,
                opened_at=now,
                opened_by=user.name,
            )
            tx.insert_cycle(cycle)
            added, _, _ = tx.replan_reminders(cycle.id, self._plan(tx, program, cycle), UNSENT)
            self._audit(
                tx,
                now,
                cycle,
                "cycle",
                cycle_id,
                user.name,
                "open",
                to_state=cycle.stage,
                program=program.id,
                program_version=program.version,
                digest=program.digest,
                settings=settings,
                reminders=added,
            )
        log.info("cycle_opened", cycle=cycle_id, program=program.id, year=year)
        return cycle

    def replan_reminders(self, acting: str | None, cycle_id: str | None = None) -> tuple[Cycle, int, int, int]:
        """Re-plan a cycle's reminders from its program file as it is now: unsent reminders are
        added, moved or removed; sent ones are kept. Returns (cycle, added, moved, removed)."""
        now = self.now()
        with self.store.transaction() as tx:
            user = self._user(tx, acting)
            cycle = self._cycle(tx, cycle_id)
            if user.role != "lead":
                raise NotPermitted(
                    "re-plan", f"the reminders of {cycle.id}", f"{user.name} is {user.role}; the lead does"
                )
            program = self.program_of(cycle)
            added, moved, removed = tx.replan_reminders(cycle.id, self._plan(tx, program, cycle), UNSENT)
            self._audit(
                tx,
                now,
                cycle,
                "cycle",
                cycle.id,
                user.name,
                "replan_reminders",
                added=added,
                moved=moved,
                removed=removed,
                digest=program.digest,
            )
        log.info("reminders_replanned", cycle=cycle.id, added=added, moved=moved, removed=removed)
        return cycle, added, moved, removed

    def reminders(
        self, acting: str | None, cycle_id: str | None = None, statuses: Sequence[str] | None = None
    ) -> list[Reminder]:
        """Planned, sent, late, skipped and failed reminders; a city's users see their own city's."""
        with self.store.transaction(write=False) as tx:
            user = self._user(tx, acting)
            cycle = self._cycle(tx, cycle_id) if cycle_id else None
            found = tx.reminders(cycle.id if cycle else None, statuses)
            if user.role != "lead":
                found = [r for r in found if r.recipient == user.city]
            return found

    def _plan(self, tx: Any, program: Program, cycle: Cycle) -> list[Reminder]:
        """The cycle's reminders as they should be now: its stage windows, the deadlines its
        projects were given, its periodic rounds, the end of its public notice."""
        deadlines: list[Deadline] = []
        key = program.deadline_record
        if program.deadline_states and key:
            for p in tx.find_projects(cycle.id, states=program.deadline_states, with_application=False):
                orders = p.record.get(key, [])
                due = parse_date(orders[-1].get("deadline")) if orders else None
                if due is not None:
                    deadlines.append(Deadline(p.id, len(orders) - 1, p.city, due))
        published = cycle.settings.get("published_at")
        at = datetime.fromisoformat(published) if published else None
        return plan_for(program, cycle, deadlines, at, until_year=program.year_at(self.now()) + 1)

    def _replan(self, tx: Any, program: Program, cycle: Cycle) -> None:
        tx.replan_reminders(cycle.id, self._plan(tx, program, cycle), UNSENT)

    def pending_work(self, cycle_id: str, stage_id: str) -> PendingWork | None:
        """What is left to do in ``stage_id`` of a cycle, by its closing rules, or None when the
        cycle is not in that stage (a reminder for it then has nothing to say). ``stage_id`` may
        also name a deadline, a round or the public notice (see workflow/reminders.py)."""
        if stage_id.startswith(("deadline/", "round/")) or stage_id == NOTICE_KEY:
            return self._pending_event(cycle_id, stage_id)
        with self.store.transaction(write=False) as tx:
            cycle = tx.get_cycle(cycle_id)
            if cycle is None or cycle.stage != stage_id:
                return None
            program = self.program_of(cycle)
            stage = program.stage(stage_id)
            window = self.window(program, cycle, stage_id)
            if window is None or window.closes is None:
                return None
            lst = tx.latest_list(cycle.id, entries=False)  # its head is enough
            counts = self._counts(tx, cycle, lst, stage.close_when)
            # judged as at the close, so that rules about time (the window must end) are not work
            at = max(self.now(), window.closes)
            request = self._request(tx, program, cycle, lst, stage.close_when)
            ctx = self._context(program, cycle, counts, request=request, now=at, stage_closes=window.closes)
            return PendingWork(
                stage_name=stage.name,
                closes=window.closes,
                timezone=program.timezone,
                rejections=self._closing(program, cycle, stage.close_when, ctx).refused,
                party_names={p.id: p.name for p in program.parties},
            )

    def _pending_event(self, cycle_id: str, subject: str) -> PendingWork | None:
        """What is left to do before a deadline, at a round or at the end of a public notice (None:
        nothing, or the event is no longer current)."""
        with self.store.transaction(write=False) as tx:
            cycle = tx.get_cycle(cycle_id)
            if cycle is None:
                return None
            program = self.program_of(cycle)
            zone = ZoneInfo(program.timezone)
            names = {p.id: p.name for p in program.parties}
            if subject.startswith("deadline/"):
                _, pid, order = subject.split("/")
                project = tx.get_project(int(pid))
                key = program.deadline_record
                orders = project.record.get(key, []) if project and key else []
                if project is None or project.state not in program.deadline_states or len(orders) != int(order) + 1:
                    return None  # done (restored, removed) or ordered again: that order has its own reminders
                due = parse_date(orders[-1].get("deadline"))
                if due is None:
                    return None
                why = orders[-1].get("reason", "")
                message = (
                    f"project {project.id} {project.enterprise_name} 《{project.project_name}》 must rectify by {due}"
                    + (f": {why}" if why else "")
                )
                closes = datetime.combine(due + timedelta(days=1), time.min, zone)
                return PendingWork(
                    "整改期限 rectification deadline",
                    closes,
                    program.timezone,
                    [Rejection("rectification_due", message, (project.city,))],
                    names,
                )
            if subject == NOTICE_KEY:
                published = cycle.settings.get("published_at")
                if not published or program.notice_days is None:
                    return None
                ends = datetime.fromisoformat(published) + timedelta(days=program.notice_days)
                waiting = tx.find_projects(cycle.id, states=program.sources_of("award"), with_application=False)
                if not waiting:
                    return None
                local = ends.astimezone(zone).strftime("%Y-%m-%d %H:%M")
                message = f"the public notice ended {local}; {len(waiting)} selected projects wait to be announced"
                return PendingWork(
                    "公示期满 end of the public notice",
                    ends,
                    program.timezone,
                    [Rejection("notice_over", message)],
                    names,
                )
            year, month = (int(x) for x in subject.removeprefix("round/").split("-"))
            sources = {st for t in program.round_triggers for st in program.sources_of(t)}
            waiting = tx.count_by_city_state(cycle.id)
            items = []
            for party in program.parties:
                n = sum(waiting.get((party.id, st), 0) for st in sources)
                if n:
                    items.append(
                        Rejection("in_months", f"{party.id} has {n} projects for the {month}月 round", (party.id,))
                    )
            if not items:
                return None
            ends = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
            return PendingWork(f"{month}月集中办理 the {month}月 round", ends, program.timezone, items, names)

    def cycles(self) -> list[Cycle]:
        with self.store.transaction(write=False) as tx:
            return tx.list_cycles()

    def get_cycle(self, cycle_id: str | None) -> Cycle:
        with self.store.transaction(write=False) as tx:
            return self._cycle(tx, cycle_id)

    def advance(self, acting: str | None, cycle_id: str | None = None, dry_run: bool = False) -> AdvanceResult:
        """Close the current stage and open the next. Refused, with every failing rule, unless the
        stage's closing rules hold; with ``dry_run`` report the same without changing anything."""
        now = self.now()
        with self.store.transaction(write=not dry_run) as tx:
            user = self._user(tx, acting)
            cycle = self._cycle(tx, cycle_id)
            program = self.program_of(cycle)
            subject = f"stage '{cycle.stage}' of cycle {cycle.id}"
            self._permit(program, "advance", user, None, subject)
            stage = program.stage(cycle.stage)
            nxt = program.next_stage(stage.id)
            rejections: list[Rejection] = []
            if nxt is None:
                rejections.append(Rejection("last_stage", f"'{stage.id}' is the last stage of {program.id}"))
            lst = tx.latest_list(cycle.id, entries=False)  # its head is enough
            counts = self._counts(tx, cycle, lst)
            window = self.window(program, cycle, stage.id)
            closes = window.closes if window else None
            request = self._request(tx, program, cycle, lst, stage.close_when)
            ctx = self._context(program, cycle, counts, request=request, now=now, stage_closes=closes)
            verdict = self._closing(program, cycle, stage.close_when, ctx)
            rejections += verdict.refused
            result = AdvanceResult(cycle, stage.id, nxt.id if nxt else None, dry_run, rejections, verdict.lifted)
            if dry_run:
                return result
            if rejections:
                raise self._refuse("close", subject, rejections)
            cycle.stage = nxt.id  # type: ignore[union-attr]
            tx.save_cycle(cycle)
            if lst is not None and lst.status == "proposed" and stage.kind.id == "list_confirmation":
                lst.status = "confirmed"
                tx.save_list_status(lst)
                self._audit(tx, now, cycle, "list", lst.number, user.name, "confirmed", "proposed", "confirmed")
            early = window is not None and window.closes is not None and now < window.closes
            self._audit(
                tx,
                now,
                cycle,
                "cycle",
                cycle.id,
                user.name,
                "advance",
                stage.id,
                cycle.stage,
                early=early,
                **_lifted(verdict),
            )
        log.info("stage_advanced", cycle=cycle.id, from_stage=stage.id, to_stage=cycle.stage, early=early)
        return result

    # ------------------------------------------------------------------------------ projects
    def submit(self, acting: str | None, application: Mapping[str, Any], cycle_id: str | None = None) -> Project:
        """Create a project from a complete application (the program's form)."""
        now = self.now()
        with self.store.transaction() as tx:
            user = self._user(tx, acting)
            cycle = self._cycle(tx, cycle_id or application.get("cycle"))
            program = self.program_of(cycle)
            form = _form(program)
            app = validate_application(application, form)
            city = form.party_of(app)
            project = Project(
                id=None,
                cycle_id=cycle.id,
                city=city,
                applicant=user.name,
                enterprise_name=form.unit_of(app),
                project_name=form.title_of(app),
                application=app,
                state=INITIAL_STATE,
                submitted_at=now,
                updated_at=now,
            )
            subject = f"application '{project.project_name}'"
            self._permit(program, "submit", user, city, subject)
            units = self._unit_projects(tx, program, [project.enterprise_name])
            request = {"unit_projects": units.get(project.enterprise_name, [])} if units is not None else {}
            ctx = self._context(program, cycle, CycleCounts(), project, request, now=now)
            verdict = self._guards(program, cycle, "submit", ctx)
            if verdict.refused:
                raise self._refuse("submit", subject, verdict.refused)
            self._move(
                tx,
                program,
                cycle,
                user,
                project,
                "submit",
                {},
                now,
                city=city,
                enterprise=project.enterprise_name,
                project_name=project.project_name,
                **_lifted(verdict),
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
            raise InvalidInput("request", ["no project ids given"])
        repeated = sorted(pid for pid, n in Counter(ids).items() if n > 1)
        if repeated:
            raise InvalidInput("request", [f"project {pid} is named more than once" for pid in repeated])
        requests = {pid: dict(req) for pid, req in items}
        now = self.now()
        done: list[Project] = []
        with self.store.transaction() as tx:
            user = self._user(tx, acting)
            # the cycle first (locked for the transaction), then its projects as they are now; their
            # (large) applications only when a guard reads them or the trigger writes them
            cycle = self._cycle(tx, self._project(tx, ids[0]).cycle_id)
            program = self.program_of(cycle)
            reads = not NEEDS_APPLICATION.isdisjoint(program.guards.get(trigger, ())) or trigger in APPLICATION_TRIGGERS
            found = tx.get_projects(ids, with_application=reads)
            missing = [pid for pid in ids if pid not in found]
            if missing:
                raise NotFound("project", missing[0])
            projects = [found[pid] for pid in ids]
            if any(p.cycle_id != cycle.id for p in projects):
                raise InvalidInput("request", ["the projects belong to different cycles"])
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
                seen = (expected or {}).get(project.id)
                if seen is not None and seen != project.version:
                    raise ConcurrentChange(f"project {project.id}", seen, project.version)
            if trigger not in program.stage_of_action:
                raise InvalidInput("action", [f"{trigger!r} is not an action of program {program.id}"])
            guards = program.guards.get(trigger, ())
            counts = self._counts(tx, cycle, policies=guards)
            # what cycle-wide rules among the guards read (open appeals, the notice), once per batch
            shared = self._request(tx, program, cycle, None, guards) if _CYCLE_RULES & set(guards) else {}
            counted = not NEEDS_COUNTS.isdisjoint(guards)
            rejections: list[Rejection] = []
            verdicts: dict[int, Verdict] = {}  # (each project's: what its overrides lifted goes in its audit row)
            quotas = program.cycle_quotas(cycle.id, cycle.settings.get("quotas"))
            sources = program.sources_of(trigger)
            stage_id = program.stage_of_action[trigger]
            window = stage_window(trigger, stage_id, cycle.stage, self.window(program, cycle, stage_id), now)
            # what every project's context shares, made once; each project's is this with its own
            # project and request (GuardContext.for_project)
            batch = self._context(program, cycle, counts, None, None, now, quotas=quotas)
            permitted: dict[str | None, bool] = {}  # the user's permission per project city
            # the machine's answers for this batch (Program.fire): asked once per source state and
            # request values, by the counts of later projects and by the moves alike
            decided: dict[Any, str | None] = {}
            for n, project in enumerate(projects, start=1):
                request = requests[project.id]
                if not permitted.get(project.city):
                    self._permit(program, trigger, user, project.city, f"project {project.id}")
                    permitted[project.city] = True
                # (with the counts as they stand: later projects see the earlier ones counted)
                ctx = batch.for_project(self._view(project), {**shared, **request} if shared else dict(request), counts)
                verdict = self._guards(program, cycle, trigger, ctx, project.reopened_to, window)
                found = verdict.refused
                verdicts[project.id] = verdict
                if not found and project.state not in sources:
                    found.append(
                        Rejection(
                            "state",
                            f"project {project.id} is '{project.state}'; {trigger} needs {' or '.join(sources)}",
                        )
                    )
                if found and len(projects) > 1:
                    found = [
                        Rejection(r.rule, f"project {project.id}: {r.message}")
                        if f"project {project.id}" not in r.message
                        else r
                        for r in found
                    ]
                rejections += found
                # later projects in the same batch see the earlier ones counted
                if not found and counted:
                    counts = _count_after(counts, project, trigger, request, program, decided)
                if progress is not None:
                    progress(n)
            if rejections:
                rejections = _same_reason_once(rejections)
                if len(ids) == 1:
                    subject = f"project {ids[0]}"
                elif len(ids) <= 10:
                    subject = f"projects {', '.join(map(str, ids))}"
                else:
                    subject = f"{len(ids)} projects"
                raise self._refuse(trigger, subject, rejections, projects[0].state if len(ids) == 1 else None)
            moves = [
                (
                    project,
                    requests[project.id],
                    _lifted(verdicts[project.id]),
                )
                for project in projects
            ]
            held = {p.state for p in projects} & set(program.deadline_states)
            self._move_all(tx, program, cycle, user, moves, trigger, now, reason, decided)
            if trigger in program.deadline_triggers or held:  # a deadline given, or no longer waited on
                self._replan(tx, program, cycle)
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
        now = self.now()
        with self.store.transaction(write=not dry_run) as tx:
            user = self._user(tx, acting)
            cycle = self._cycle(tx, cycle_id)
            program = self.program_of(cycle)
            subject = f"applications into cycle {cycle.id}"
            stage_id = program.stage_of_action["submit"]
            closed = stage_window("submit", stage_id, cycle.stage, self.window(program, cycle, stage_id), now)
            closed = self._judge(cycle, closed).refused
            if closed:
                raise self._refuse("import", subject, closed)
            # the cycle's projects by (enterprise, project), without their applications: only one
            # submitted again has its application read, to compare
            form = _form(program)
            units = [_unit_name(form, data) for _, data in items]
            existing = tx.project_keys(cycle.id)  # (unit, project name) -> id: what was submitted already
            seen: dict[tuple[str, str], str] = {}
            problems: list[str] = []
            again: list[tuple[int, str, Mapping[str, Any], int]] = []
            result = ImportResult(cycle.id, dry_run)
            planned: list[tuple[Project, Verdict]] = []
            names = program.guards.get("submit", ())
            held = self._unit_projects(tx, program, units)
            for n, (label, data) in enumerate(items, start=1):
                if progress is not None:
                    progress(n)
                try:
                    app = validate_application(data, form)
                except InvalidInput as exc:
                    problems += [f"[{label}] {p}" for p in exc.problems]
                    continue
                city = form.party_of(app)
                key = (form.unit_of(app), form.title_of(app))
                if key in seen:
                    problems.append(f"[{label}] the same project as {seen[key]}: 《{key[1]}》 of {key[0]}")
                    continue
                seen[key] = label
                why = permission_problem("submit", program.permissions.get("submit"), actor_of(user), city)
                if why:
                    problems.append(f"[{label}] not permitted: {why}")
                    continue
                old = existing.get(key)
                if old is not None:  # compared below, once the applications are read (one query)
                    again.append((len(problems), label, app, old))
                    problems.append("")
                    continue
                project = Project(
                    id=None,
                    cycle_id=cycle.id,
                    city=city,
                    applicant=user.name,
                    enterprise_name=key[0],
                    project_name=key[1],
                    application=app,
                    state=INITIAL_STATE,
                    submitted_at=now,
                    updated_at=now,
                )
                request = {"unit_projects": held.get(project.enterprise_name, [])} if held is not None else {}
                ctx = self._context(program, cycle, CycleCounts(), project, request, now=now)
                verdict = self._judge(cycle, self._run(program, names, ctx), ctx.project)
                problems += [f"[{label}] {r}" for r in verdict.refused]
                planned.append((project, verdict))
            stored = tx.get_projects([pid for *_, pid in again]) if again else {}
            for at, label, submitted, pid in again:
                old = stored[pid]
                if _same_application(old.application, submitted):
                    result.unchanged.append((label, pid))
                else:
                    problems[at] = (
                        f"[{label}] {old.enterprise_name} already submitted 《{old.project_name}》 as project"
                        f" {pid}, with other content"
                    )
            problems = [p for p in problems if p]
            if problems:
                raise InvalidInput(f"{subject} (nothing was imported)", _grouped(problems))
            if dry_run:
                result.created = [p for p, _ in planned]
                return result
            moves: list[tuple[Project, Mapping[str, Any], Mapping[str, Any]]] = [
                (
                    project,
                    {},
                    {
                        "city": project.city,
                        "enterprise": project.enterprise_name,
                        "project_name": project.project_name,
                        "imported": True,
                        **_lifted(verdict),
                    },
                )
                for project, verdict in planned
            ]
            self._move_all(tx, program, cycle, user, moves, "submit", now)
            result.created = [p for p, _ in planned]
        log.info("applications_imported", cycle=cycle.id, created=len(result.created), unchanged=len(result.unchanged))
        return result

    def _unit_projects(self, tx: Any, program: Program, units: Sequence[str]) -> dict[str, list[dict[str, Any]]] | None:
        """The applying units' projects in every cycle of the program, for the guards on submit
        that read a unit's standing across years (None: no such guard, nothing read)."""
        if NEEDS_UNIT.isdisjoint(program.guards.get("submit", ())):
            return None
        out: dict[str, list[dict[str, Any]]] = {}
        for p in tx.unit_projects(program.id, [u for u in units if u]):
            out.setdefault(p.enterprise_name, []).append(
                {"unit": p.enterprise_name, "cycle": p.cycle_id, "project": p.id, "state": p.state}
            )
        return out

    def _move(
        self,
        tx: Any,
        program: Program,
        cycle: Cycle,
        user: User,
        project: Project,
        trigger: str,
        request: Mapping[str, Any],
        now: datetime,
        reason: str = "",
        **data: Any,
    ) -> None:
        """Change one project's state (see :meth:`_move_all`)."""
        self._move_all(tx, program, cycle, user, [(project, request, data)], trigger, now, reason)

    def _move_all(
        self,
        tx: Any,
        program: Program,
        cycle: Cycle,
        user: User,
        moves: Sequence[tuple[Project, Mapping[str, Any], Mapping[str, Any]]],
        trigger: str,
        now: datetime,
        reason: str = "",
        decided: dict[Any, str | None] | None = None,
    ) -> None:
        """Change projects' states: for each (project, request, audit data) fire the machine and
        record the trigger's effects; then save them with the version check (inserting the ones the
        trigger creates, in one statement) and append their audit rows (in one statement). Guards
        have run before; this is the only code that changes a project's state. A large batch is
        written in chunks of MOVE_CHUNK projects, all in the caller's one transaction, so that the
        rows of only one chunk are held in memory at a time. ``decided``: the batch's memo of the
        machine's answers (see Program.fire), when the caller has already asked it."""
        if decided is None:
            decided = {}
        for start in range(0, len(moves), MOVE_CHUNK):
            chunk = moves[start : start + MOVE_CHUNK]
            self._move_chunk(tx, program, cycle, user, chunk, trigger, now, reason, decided)

    def _move_chunk(
        self,
        tx: Any,
        program: Program,
        cycle: Cycle,
        user: User,
        moves: Sequence[tuple[Project, Mapping[str, Any], Mapping[str, Any]]],
        trigger: str,
        now: datetime,
        reason: str,
        decided: dict[Any, str | None],
    ) -> None:
        done: list[tuple[Project, str, Mapping[str, Any], dict[str, Any], Mapping[str, Any]]] = []
        sheets: list[ScoreSheet] = []
        kept_application: list[bool] = []
        kept_record: list[bool] = []
        unchanged: set[int] = set()
        changed: set[str] = set()  # the columns of _SAVED_STATE some project's move changed
        for project, request, data in moves:
            before = project.state
            application = project.application
            record = project.record
            stored = (project.state, project.municipal_result, project.review_method, project.reopened_to)
            if not program.fire(project, trigger, request, decided):
                raise self._refuse(
                    trigger,
                    f"project {project.id}",
                    [Rejection("state", f"no transition for {trigger} from '{before}' with {dict(request)}")],
                    before,
                )
            extra = self._effects(tx, program, user, project, trigger, request, now, sheets, reason)
            project.updated_at = now
            kept_application.append(project.application is application)  # effects replace, never mutate
            kept_record.append(project.record is record)
            now_is = (project.state, project.municipal_result, project.review_method, project.reopened_to)
            if now_is != stored:
                changed.update(name for name, old, new in zip(_SAVED_STATE, stored, now_is, strict=True) if old != new)
            elif project.id is not None and project.application is application and project.record is record:
                unchanged.add(id(project))  # an internal transition (a score sheet): the row stays as it is
            done.append((project, before, request, extra, data))
        if sheets:
            # the sheets they replace stay, no longer current
            replaced = tx.put_sheets(sheets, by_scorer=program.sheets_per == "scorer")
            for project, _, _, extra, _ in done:
                if "total" in extra:
                    who = user.name if program.sheets_per == "scorer" else extra["city"]
                    extra["replaces_total"] = replaced.get((project.id, who))
        created = [p for p, *_ in done if p.id is None]
        if created:
            tx.insert_projects(created)
        created_ids = {id(c) for c in created}
        tx.save_projects(
            [p for p, *_ in done if id(p) not in created_ids and id(p) not in unchanged],
            with_application=not all(kept_application),
            with_record=not all(kept_record),
            # (state is written whatever changed: a batch's saved projects moved)
            untouched=[name for name in _SAVED_STATE[1:] if name not in changed],
        )
        # one audit entry a project: alike but for the project, its states and the data
        template = AuditEntry(now, cycle.id, "project", "", user.name, trigger, reason=reason)
        tx.audit_batch(
            template,
            [
                (
                    str(project.id),
                    before,
                    project.state,
                    {**{k: v for k, v in request.items() if k != "scores"}, **extra, **data},
                )
                for project, before, request, extra, data in done
            ],
        )

    def _effects(
        self,
        tx: Any,
        program: Program,
        user: User,
        project: Project,
        trigger: str,
        request: Mapping[str, Any],
        now: datetime,
        sheets: list[ScoreSheet],
        reason: str = "",
    ) -> dict[str, Any]:
        """What a trigger records besides the state; returns extra audit data. Score sheets are
        appended to ``sheets`` for the caller to write."""
        if trigger == REOPEN:
            return {"superseded": self._supersede(tx, program, project, request["to"])}
        key = program.record_keys.get(trigger)
        if key is not None:  # an entry in the project's long-lived record (replaced, never mutated)
            entry = {"at": now.isoformat(), "by": user.name, **{k: v for k, v in request.items() if k != "scores"}}
            if reason:
                entry["reason"] = reason
            project.record = {**project.record, key: [*project.record.get(key, []), entry]}
            return {"record": key}
        if trigger == program.result_trigger:
            project.municipal_result = request["result"]
            project.review_method = request.get("method")
        elif trigger == "accept" and request.get("opinion"):
            project.application = {
                **project.application,
                "opinions": {
                    **project.application.get("opinions", {}),
                    "city_organization_department": request["opinion"],
                },
            }
        elif trigger == program.sheet_trigger:
            scores = dict(request["scores"])
            bands = {c.id: c.band_for(scores[c.id]).label for c in program.criteria}  # type: ignore[union-attr]
            assert project.id is not None  # (a project is scored once it is stored)
            sheet = ScoreSheet(
                cycle_id=project.cycle_id,
                project_id=project.id,
                city=user.city or "",
                scorer=user.name,
                scores=scores,
                bands=bands,
                total=sum(scores.values()),
                completion=request.get("completion", ""),
                at=now,
            )
            sheets.append(sheet)  # written by _move_all, all at once; it fills in replaces_total
            return {"scores": scores, "bands": bands, "total": sheet.total, "city": sheet.city}
        return {}

    def _supersede(self, tx: Any, program: Program, project: Project, stage_id: str) -> dict[str, Any]:
        """Undo, as history, what the project gained in ``stage_id`` and after: its review result,
        its score sheets (kept, no longer current). Returns what was superseded, for the audit."""
        target = program.stage_index(stage_id)
        out: dict[str, Any] = {}
        review = program.stage_of_action.get(program.result_trigger or "")
        if review and target <= program.stage_index(review) and project.municipal_result:
            out["municipal_result"] = project.municipal_result
            out["review_method"] = project.review_method
            project.municipal_result = project.review_method = None
        scoring = program.stage_of_action.get(program.sheet_trigger or "")
        if scoring and target <= program.stage_index(scoring):
            old = tx.supersede_sheets(project.id)
            if old:
                out["sheets"] = [{"city": s.city, "total": s.total} for s in old]
        project.reopened_to = stage_id
        return out

    def score(
        self,
        acting: str | None,
        project_id: int,
        scores: Mapping[str, int],
        completion: str = "",
    ) -> Project:
        return self.fire(acting, project_id, "score", scores=dict(scores), completion=completion)[0]

    # ------------------------------------------------------------------------------ the list
    def _ranking(
        self, tx: Any, program: Program, cycle: Cycle, tie_order: Sequence[int], names: bool = True
    ) -> tuple[Any, list[Any], list[Any], str]:
        """The ranked projects: (their names by id, or without ``names`` only the set of their ids;
        the ranking; unsettled ties; the method)."""
        # placed projects are ranked too: a corrected list ranks the whole key library again
        states = program.listable_states + program.placed_states
        projects = tx.project_names(cycle.id, states) if names else set(tx.project_ids(cycle.id, states))
        places = [
            *((c.id, int(cycle.settings["places"].get(c.id, c.places))) for c in program.categories),
        ]
        method = program.list_settings.get("aggregate", "mean")
        trim = int(program.list_settings.get("trim", 0))
        if method in ("mean", "sum"):  # the database adds up: one row per project, not per sheet
            scores = {
                pid: Fraction(total) if method == "sum" else Fraction(total, n)
                for pid, total, n in tx.sheet_sums(cycle.id)
                if pid in projects
            }
            ranked, ties = rank_scores(scores, places, tie_order) if scores else ([], [])
            return projects, ranked, ties, method
        totals: dict[int, list[int]] = {pid: [] for pid in projects}
        for pid, total in tx.sheet_totals(cycle.id):
            if pid in totals:
                totals[pid].append(total)
        totals = {pid: t for pid, t in totals.items() if t}
        ranked, ties = rank(totals, places, method, trim, tie_order) if totals else ([], [])
        return projects, ranked, ties, method

    def _stale(self, tx: Any, program: Program, cycle: Cycle, lst: ListVersion) -> list[Rejection]:
        """A list version no longer matching the current sheets (a reopened project re-scored after
        it was proposed) must not be published: name every project whose score moved."""
        _, ranked, _, _ = self._ranking(tx, program, cycle, lst.tie_order, names=False)
        now = {r.project_id: show(r.score) for r in ranked}
        then = {e.project_id: e.score for e in lst.entries}
        moved = [
            f"project {pid} {then.get(pid, 'absent')} → {now.get(pid, 'absent')}"
            for pid in sorted(then.keys() | now.keys())
            if then.get(pid) != now.get(pid)
        ]
        if not moved:
            return []
        return [
            Rejection(
                "list_current",
                f"the score sheets changed since list version {lst.number} was proposed ({'; '.join(moved)}); "
                "propose a new version",
            )
        ]

    def _list_reopened(self, program: Program, cycle: Cycle) -> str | None:
        """The list stage, while a correction opened by an upheld appeal lets the list actions run
        although the cycle has moved past that stage."""
        correction = cycle.settings.get("correction")
        return correction.get("stage") if correction else None

    @batch_work
    def propose_list(
        self, acting: str | None, cycle_id: str | None = None, tie_order: Sequence[int] = ()
    ) -> ListVersion:
        """Aggregate the sheets into a new proposed list version (the previous one is superseded)."""
        now = self.now()
        with self.store.transaction() as tx:
            user = self._user(tx, acting)
            cycle = self._cycle(tx, cycle_id)
            program = self.program_of(cycle)
            subject = f"the list of cycle {cycle.id}"
            self._permit(program, "propose", user, None, subject)
            projects, ranked, ties, method = self._ranking(tx, program, cycle, tie_order)
            previous = tx.latest_list(cycle.id, entries=False)  # its entries are read once the list is made
            names = program.guards.get("propose", ())
            counts = self._counts(tx, cycle, policies=names)
            request = {**self._request(tx, program, cycle, previous, names), "unsettled_ties": ties}
            ctx = self._context(program, cycle, counts, request=request, now=now)
            correction = self._list_reopened(program, cycle)
            verdict = self._guards(program, cycle, "propose", ctx, correction)
            rejections = verdict.refused
            if previous is not None and previous.status in ("confirmed", "published") and correction is None:
                rejections.append(
                    Rejection("list_open", f"list version {previous.number} is already {previous.status}")
                )
            if rejections:
                # a caller retrying while it handles the refusal holds this frame: not the ranking too
                del projects, ranked
                raise self._refuse("propose", subject, rejections)
            entries = [  # (mypy miscounts star-arguments between positional ones)
                ListEntry(r.rank, r.project_id, *projects[r.project_id], show(r.score), r.category)  # type: ignore[call-arg]
                for r in ranked
            ]
            del projects, ranked  # the entries hold what the list keeps
            if previous is not None and previous.status in ("proposed", "objected", "confirmed"):
                before = previous.status
                previous.status = "superseded"
                tx.save_list_status(previous)
                self._audit(tx, now, cycle, "list", previous.number, user.name, "supersede", before, "superseded")
            lst = ListVersion(
                cycle.id,
                (previous.number + 1) if previous else 1,
                "proposed",
                method,
                entries,
                user.name,
                now,
                list(tie_order),
            )
            tx.insert_list(lst)
            # the previous version's entries, read only now and dropped with the changes made
            changes = list_changes(tx.list_entries(previous.id), entries) if previous else []
            self._audit(
                tx,
                now,
                cycle,
                "list",
                lst.number,
                user.name,
                "propose",
                None,
                "proposed",
                method=method,
                tie_order=list(tie_order),
                places=cycle.settings["places"],
                entries=len(entries),
                changes=changes,
                correction=bool(correction),
                **_lifted(verdict),
            )
        log.info("list_proposed", cycle=cycle.id, version=lst.number, entries=len(entries))
        return lst

    def _current_list(self, tx: Any, cycle: Cycle, subject: str, *statuses: str, entries: bool = True) -> ListVersion:
        lst = tx.latest_list(cycle.id, entries=entries)
        if lst is None:
            raise self._refuse("act on", subject, [Rejection("list_exists", "no list has been proposed yet")])
        if statuses and lst.status not in statuses:
            raise self._refuse(
                "act on",
                subject,
                [
                    Rejection(
                        "list_status", f"list version {lst.number} is {lst.status}; this needs {' or '.join(statuses)}"
                    )
                ],
            )
        return lst

    def confirm_list(
        self, acting: str | None, cycle_id: str | None = None, decision: str = "confirm", reason: str = ""
    ) -> ListVersion:
        """A party confirms the current proposed list, or objects to it (sending it back for a new
        version). During a correction the list is confirmed as soon as every party has confirmed.
        Returns the list version's head: its entries are not read (a confirmation does not need them)."""
        if decision == "object" and not reason.strip():
            raise InvalidInput("objection", ["an objection needs --reason"])
        now = self.now()
        with self.store.transaction() as tx:
            user = self._user(tx, acting)
            cycle = self._cycle(tx, cycle_id)
            program = self.program_of(cycle)
            subject = f"the list of cycle {cycle.id}"
            self._permit(program, decision, user, None, subject)
            lst = self._current_list(tx, cycle, subject, "proposed", entries=False)
            ctx = self._context(program, cycle, CycleCounts(), now=now)
            correction = self._list_reopened(program, cycle)
            rejections = self._guards(program, cycle, decision, ctx, correction).refused
            done = {c.city for c in tx.confirmations(lst.id) if c.decision == "confirm"}
            if user.city in done:
                rejections.append(
                    Rejection("confirm_once", f"{user.city} has already confirmed list version {lst.number}")
                )
            if rejections:
                raise self._refuse(decision, f"list version {lst.number} of cycle {cycle.id}", rejections)
            tx.add_confirmation(Confirmation(lst.id, user.city or "", user.name, decision, reason, now))  # type: ignore[arg-type]
            before = lst.status
            if decision == "object":
                lst.status = "objected"
            elif correction is not None and set(program.party_ids) <= done | {user.city}:
                lst.status = "confirmed"
            tx.save_list_status(lst)  # bumps the version even on confirm: concurrent confirmations serialise
            self._audit(
                tx,
                now,
                cycle,
                "list",
                lst.number,
                user.name,
                decision,
                before,
                lst.status,
                reason=reason,
                city=user.city,
            )
        log.info("list_" + decision, cycle=cycle.id, version=lst.number, city=user.city)
        return lst

    @batch_work
    def publish(self, acting: str | None, cycle_id: str | None = None) -> ListVersion:
        """Publish the confirmed list: every key-library project is placed by its category. A
        corrected publication (after an upheld appeal) places again every project whose category
        changed, and says what changed against the published version and why."""
        now = self.now()
        with self.store.transaction() as tx:
            user = self._user(tx, acting)
            cycle = self._cycle(tx, cycle_id)
            program = self.program_of(cycle)
            subject = f"the list of cycle {cycle.id}"
            self._permit(program, "publish", user, None, subject)
            lst = self._current_list(tx, cycle, subject, "confirmed")
            names = program.guards.get("publish", ())
            counts = self._counts(tx, cycle, lst, names)
            ctx = self._context(program, cycle, counts, request=self._request(tx, program, cycle, lst, names), now=now)
            verdict = self._guards(program, cycle, "publish", ctx)
            verdict.refused += self._stale(tx, program, cycle, lst)
            if verdict.refused:
                raise self._refuse("publish", subject, verdict.refused)
            category = {e.project_id: e.category for e in lst.entries}
            published = tx.list_versions(cycle.id, statuses=("published",))
            correction = cycle.settings.get("correction")
            replaced = 0
            # (read only if some project is awarded: it reads the cycle's whole audit, 1.4 million
            # rows at 100,000 projects, for a first publication that finds none)
            by_city_state = counts.by_city_state or tx.count_by_city_state(cycle.id)  # (unless the guards read it)
            awarded = any(state == "awarded" for _, state in by_city_state)
            awarded_from = tx.entered_from(cycle.id, "awarded") if awarded else {}
            reason = f"corrected publication, list version {lst.number}" if published else ""
            requests = {cat: {"category": cat} for cat in {*category.values(), "none"}}  # shared, never changed
            data = {"list_version": lst.number}
            # the key library is read and placed a chunk at a time: only a chunk's projects are held
            ids = tx.project_ids(cycle.id, program.listable_states + program.placed_states)
            for start in range(0, len(ids), MOVE_CHUNK):
                moves = []
                found = tx.get_projects(ids[start : start + MOVE_CHUNK], with_application=False)
                for project in (found[pid] for pid in ids[start : start + MOVE_CHUNK]):
                    cat = category.get(project.id, "none")
                    if project.state in program.placed_states:
                        if _placed_category(program, project, awarded_from) == cat:
                            continue  # its place stands (an awarded project stays awarded)
                        replaced += 1
                    moves.append((project, requests[cat], data))
                self._move_all(tx, program, cycle, user, moves, "place", now, reason)
            changes: list[dict[str, Any]] = []
            for old in published:
                changes = list_changes(old.entries, lst.entries)
                old.status = "corrected"
                tx.save_list_status(old)
                self._audit(tx, now, cycle, "list", old.number, user.name, "correct", "published", "corrected")
            lst.status = "published"
            tx.save_list_status(lst)
            appeals = [tx.get_appeal(i) for i in (correction or {}).get("appeals", ())]
            why = [
                {"appeal": a.id, "project": a.project_id, "reason": a.reason, "decision": a.decision_reason}
                for a in appeals
                if a is not None
            ]
            reopened = tx.reopened_projects(cycle.id)
            for p in reopened:  # the publication closes every reopening (recorded in its audit row)
                p.reopened_to = None
                p.updated_at = now
                tx.save_project(p)
            cycle.settings = {
                **{k: v for k, v in cycle.settings.items() if k != "correction"},
                "published_at": now.isoformat(),
            }
            tx.save_cycle(cycle)
            if program.notice_days is not None:  # remind the lead when the notice ends
                self._replan(tx, program, cycle)
            self._audit(
                tx,
                now,
                cycle,
                "list",
                lst.number,
                user.name,
                "publish",
                "confirmed",
                "published",
                reason="; ".join(f"appeal {w['appeal']}: {w['reason']}" for w in why),
                **(
                    {"corrects": published[-1].number, "changes": changes, "appeals": why, "replaced": replaced}
                    if published
                    else {}
                ),
                **({"reopenings_closed": [p.id for p in reopened]} if reopened else {}),
            )
        log.info("list_published", cycle=cycle.id, version=lst.number, correction=bool(published))
        return lst

    # ------------------------------------------------------------------------------ reads
    def visible(self, user: User, project: Project, cycle: Cycle, program: Program) -> bool:
        """Whether ``user`` may read ``project`` (policies.permissions.can_read decides)."""
        return self._reader(user, cycle, program)(project)

    def _reader(self, user: User, cycle: Cycle, program: Program) -> Callable[[Project], bool]:
        """``visible`` for many projects of one cycle: what does not depend on the project is worked out once."""
        if user.role == "lead":
            return lambda project: True
        scoring = program.stage_of_action.get(program.sheet_trigger or "")
        joint = scoring is not None and program.stage_index(cycle.stage) >= program.stage_index(scoring)
        key = frozenset(program.listable_states + program.placed_states)
        actor = actor_of(user)
        return lambda project: can_read(actor, project.city, project.applicant, project.state in key, joint)

    def projects(
        self,
        acting: str | None,
        cycle_id: str | None = None,
        city: str | None = None,
        state: str | None = None,
        with_application: bool = True,
    ) -> list[Project]:
        """The projects ``acting`` may read; without ``with_application`` their applications are
        left out (empty), for a caller that needs only their ids, names or states."""
        with self.store.transaction(write=False) as tx:
            user = self._user(tx, acting)
            cycle = self._cycle(tx, cycle_id)
            program = self.program_of(cycle)
            found = tx.find_projects(
                cycle.id,
                cities=[city] if city else None,
                states=[state] if state else None,
                with_application=with_application,
            )
            readable = self._reader(user, cycle, program)
            return [p for p in found if readable(p)]

    def project(self, acting: str | None, project_id: int) -> tuple[Project, list[ScoreSheet], list[AuditEntry]]:
        with self.store.transaction(write=False) as tx:
            user = self._user(tx, acting)
            project = self._project(tx, project_id)
            cycle = self._cycle(tx, project.cycle_id)
            if not self.visible(user, project, cycle, self.program_of(cycle)):
                raise NotFound("project", project_id)
            sheets = tx.sheets(cycle.id, project_id, current_only=False)
            if user.role not in ("lead",):
                sheets = [s for s in sheets if s.city == user.city] if user.role != "applicant" else []
            history = tx.history("project", str(project_id))
            if user.role != "lead":
                readable = {a.id for a in tx.appeals(project_id=project.id) if self._may_read_appeal(user, a)}
                history = [e for e in (_scoped(e, user, readable) for e in history) if e is not None]
            return project, sheets, history

    def unit(self, acting: str | None, unit: str, program_id: str) -> list[tuple[Cycle, Project]]:
        """A unit's record across the years: its projects in every cycle of a program, oldest
        first, with their long-lived records (only those the user may read)."""
        program = self.programs.get(program_id)
        with self.store.transaction(write=False) as tx:
            user = self._user(tx, acting)
            cycles = {c.id: c for c in tx.list_cycles() if c.program_id == program.id}
            found = [
                (cycles[p.cycle_id], p)
                for p in tx.unit_projects(program.id, [unit])
                if p.cycle_id in cycles and self.visible(user, p, cycles[p.cycle_id], program)
            ]
            if not found:
                raise NotFound("unit", unit, f"it has no project in {program.id} that {user.name} may read")
            return found

    def list_versions(
        self, acting: str | None, cycle_id: str | None = None
    ) -> tuple[Cycle, list[ListVersion], dict[int, list[Confirmation]]]:
        with self.store.transaction(write=False) as tx:
            self._user(tx, acting)
            cycle = self._cycle(tx, cycle_id)
            versions = tx.list_versions(cycle.id)
            return cycle, versions, {v.id: tx.confirmations(v.id) for v in versions}

    def status(self, acting: str | None, cycle_id: str | None = None) -> dict[str, Any]:
        """Where the cycle stands: stage, window and time left, per-city progress, funding."""
        now = self.now()
        with self.store.transaction(write=False) as tx:
            user = self._user(tx, acting)
            cycle = self._cycle(tx, cycle_id)
            program = self.program_of(cycle)
            lst = tx.latest_list(cycle.id, entries=False)  # its head is enough
            counts = self._counts(tx, cycle, lst)
            stage = program.stage(cycle.stage)
            window = self.window(program, cycle, stage.id)
            quotas = program.cycle_quotas(cycle.id, cycle.settings.get("quotas"))
            closes = window.closes if window else None
            request = self._request(tx, program, cycle, lst, stage.close_when)
            ctx = self._context(program, cycle, counts, now=now, request=request, stage_closes=closes)
            closing = self._closing(program, cycle, stage.close_when, ctx)
            open_appeals = [a for a in tx.appeals(cycle.id, statuses=("open",)) if self._may_read_appeal(user, a)]
            cities = []
            for party in program.parties:
                row: dict[str, Any] = {"city": party.id, "name": party.name}
                for col in program.status_columns:
                    row.update(_status_cell(program, party.id, col, counts, quotas, minimum_of=program.policy_params))
                cities.append(row)
            return {
                "cycle": cycle.id,
                "program": program.id,
                "program_name": program.name,
                "year": cycle.year,
                "stage": stage.id,
                "stage_name": stage.name,
                "stage_number": program.stage_index(stage.id) + 1,
                "stages": len(program.stages),
                "window": window.describe() if window else "no window",
                "opens": window.opens.isoformat() if window and window.opens else None,
                "closes": window.closes.isoformat() if window and window.closes else None,
                "seconds_left": (window.closes - now).total_seconds() if window and window.closes else None,
                "now": now.isoformat(),
                "can_close": not closing.refused,
                "closing_rules": [str(r) for r in closing.refused],
                "closing": [
                    {"rule": r.rule, "message": r.message, "parties": list(r.parties)} for r in closing.refused
                ],
                "closing_overridden": closing.lifted,
                "overrides": [dataclasses.asdict(o) for o in overrides_of(cycle) if o.active],
                "open_appeals": [
                    {"appeal": a.id, "project": a.project_id, "city": a.city, "against": a.against_stage}
                    for a in open_appeals
                ],
                "correction": cycle.settings.get("correction"),
                "list": {"version": lst.number, "status": lst.status} if lst else None,
                "program_changed": None
                if program.digest == cycle.program_digest
                else (
                    f"the program file changed since the cycle opened (opened under v{cycle.program_version} "
                    f"{cycle.program_digest}, now v{program.version} {program.digest})"
                ),
                "columns": [
                    {"id": c.id, "zh": c.zh, "kind": c.kind, "policy": c.policy}
                    for c in program.status_columns
                    if c.show
                ],
                "cities": cities,
            }

    def report_data(self, acting: str | None, cycle_id: str | None = None) -> ReportData:
        """Everything `evalflow report` writes: the list (the published version, else the latest),
        the key-library projects with their current sheets, per-city progress (lead only)."""
        status = self.status(acting, cycle_id)
        with self.store.transaction(write=False) as tx:
            user = self._user(tx, acting)
            cycle = self._cycle(tx, cycle_id)
            program = self.program_of(cycle)
            if user.role != "lead":
                raise NotPermitted("report on", f"cycle {cycle.id}", "reports cover every city; the lead writes them")
            versions = tx.list_versions(cycle.id)
            published = [v for v in versions if v.status == "published"]
            lst = published[-1] if published else (versions[-1] if versions else None)
            projects = tx.find_projects(
                cycle.id, states=program.listable_states + program.placed_states, with_application=False
            )
            awarded_as: dict[tuple[str, str], int] = {}
            awarded = any(p.state == "awarded" for p in projects)  # (as publish reads it)
            awarded_from = tx.entered_from(cycle.id, "awarded") if awarded else {}
            for p in projects:
                if p.state == "awarded":
                    cat = _placed_category(program, p, awarded_from) or "none"
                    awarded_as[(p.city, cat)] = awarded_as.get((p.city, cat), 0) + 1
            return ReportData(
                cycle=cycle,
                program=program,
                list=lst,
                projects=projects,
                sheets=tx.sheets(cycle.id),
                status=status,
                by_city_state=tx.count_by_city_state(cycle.id),
                awarded_as=awarded_as,
            )

    def key_library(
        self, acting: str | None, cycle_id: str | None = None, city: str | None = None
    ) -> tuple[Cycle, Program, list[Project]]:
        """The projects every party scores, for ``city``'s score-sheet template: the lead's for any
        city, a scorer's or city admin's for their own; only the projects the user may read."""
        with self.store.transaction(write=False) as tx:
            user = self._user(tx, acting)
            cycle = self._cycle(tx, cycle_id)
            program = self.program_of(cycle)
            subject = f"the score sheet of {city or 'a city'}"
            if city is not None:
                program.party(city)  # an unknown city is not found, whoever asks
            if user.role not in ("lead", "scorer", "city-admin"):
                raise NotPermitted("write", subject, f"{user.name} is {user.role}; scorers and administrators do")
            if city is not None and user.role != "lead" and user.city != city:
                raise NotPermitted("write", subject, f"{user.name} acts for {user.city}")
            found = tx.find_projects(cycle.id, states=program.listable_states, with_application=False)
            return cycle, program, [p for p in found if self.visible(user, p, cycle, program)]

    def history(self, acting: str | None, cycle_id: str | None = None) -> list[AuditEntry]:
        with self.store.transaction(write=False) as tx:
            user = self._user(tx, acting)
            cycle = self._cycle(tx, cycle_id)
            if user.role != "lead":
                raise NotPermitted(
                    "read", f"the history of cycle {cycle.id}", "the cycle's history is read by the lead"
                )
            return tx.history(cycle_id=cycle.id)


_APPEAL_ACTIONS = ("appeal", "appeal_upheld", "appeal_dismissed")


def _scoped(entry: AuditEntry, user: User, appeals: set[int]) -> AuditEntry | None:
    """A project's audit entry as ``user`` (not the lead) may read it: another city's score sheet
    and an appeal the user may not read are left out; a reopening keeps its move but not the
    appeal's reasons or other cities' superseded sheets. The same scoping as ``project show``."""
    data = entry.data or {}
    if "scores" in data and (user.role == "applicant" or data.get("city") != user.city):
        return None
    if entry.action in _APPEAL_ACTIONS and data.get("appeal") not in appeals:
        return None
    if entry.action == REOPEN:
        gone = dict(data.get("superseded") or {})
        if "sheets" in gone:
            gone["sheets"] = [x for x in gone["sheets"] if x.get("city") == user.city]
        reason = entry.reason if data.get("appeal") in appeals else ""
        return dataclasses.replace(entry, reason=reason, data={**data, "superseded": gone})
    return entry


# triggers whose effects write the application (the city's opinion on acceptance)
APPLICATION_TRIGGERS = ("accept",)


def _unit_name(form: Form, data: Mapping[str, Any]) -> str:
    """The applying unit named by an application not yet checked (empty when it names none)."""
    try:
        return str(form.unit_of(data) or "")
    except (AttributeError, TypeError):
        return ""


def _form(program: Program) -> Form:
    if program.form is None:
        raise InvalidInput("application", [f"program {program.id} has no application form ([form])"])
    return program.form


def _status_cell(
    program: Program,
    party: str,
    col: StatusColumn,
    counts: CycleCounts,
    quotas: Mapping[str, Mapping[str, int]],
    minimum_of: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """One party's value of a status column, with what it is measured against."""
    states = tuple(st for st in program.states if st != INITIAL_STATE) if col.states == ("*",) else col.states
    if col.kind == "count":
        return {col.id: counts.count(party, *states)}
    if col.kind == "result":
        return {
            col.id: counts.results.get((party, col.result or col.id), 0),
            f"{col.id}_quota": quotas.get(party, {}).get(col.result or col.id),
        }
    if col.kind == "minimum":
        minimum = int(minimum_of.get(col.policy or "", {}).get("minimum", 0))
        return {col.id: counts.count(party, *states), f"{col.id}_minimum": minimum}
    if col.kind == "sheets":
        return {col.id: counts.sheets_by_city.get(party, 0), f"{col.id}_needed": counts.key_library}
    if col.kind == "confirmed":
        return {col.id: party in counts.confirmations}
    fund = program.funding.get(party, {})  # funding: support for each review result held
    return {col.id: sum(n * counts.results.get((party, result), 0) for result, n in fund.items())}


def _same_reason_once(rejections: Sequence[Rejection], shown: int = 3) -> list[Rejection]:
    """A batch refused for one reason (say, scoring has closed) says it once, naming the first
    few projects and how many more, instead of once per project."""
    by_reason: dict[tuple[str, str], list[str]] = {}
    for r in rejections:
        head, sep, rest = r.message.partition(": ")
        key = (r.rule, rest) if sep and head.startswith("project ") else (r.rule, r.message)
        by_reason.setdefault(key, []).append(head if sep and head.startswith("project ") else "")
    out = []
    for (rule, message), heads in by_reason.items():
        named = [h for h in heads if h]
        if len(named) <= 1:
            out.append(Rejection(rule, f"{named[0]}: {message}" if named else message))
            continue
        ids = ", ".join(h.removeprefix("project ") for h in named[:shown])
        more = f" and {len(named) - shown} more" if len(named) > shown else ""
        out.append(Rejection(rule, f"projects {ids}{more}: {message}"))
    return out


def _grouped(problems: Sequence[str], shown: int = 3) -> list[str]:
    """Problems of the form '[label] message': one message shared by many labels is said once,
    with the first few labels and how many more (a whole file refused for one reason stays legible)."""
    labels: dict[str, list[str]] = {}
    for p in problems:
        label, _, message = p.partition("] ")
        labels.setdefault(message, []).append(label.removeprefix("["))
    out = []
    for message, where in labels.items():
        more = f" and {len(where) - shown} more" if len(where) > shown else ""
        out.append(f"[{'; '.join(where[:shown])}{more}] {message}")
    return out


def _same_application(stored: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether a stored application is the one submitted again (the city's opinion, added on
    acceptance, is not part of what the applicant sent)."""

    def core(app: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(app)
        opinions = {k: v for k, v in dict(out.get("opinions") or {}).items() if k != "city_organization_department"}
        out["opinions"] = opinions
        return out

    return core(stored) == core(new)


# what a move may change of a project besides its application and record (see _move_chunk)
_SAVED_STATE = ("state", "municipal_result", "review_method", "reopened_to")
MOVE_CHUNK = 5000  # projects written per chunk of a batch (see Engine._move_all)
# rules on a project's action that read the cycle beyond the counts (see Engine._request)
_CYCLE_RULES = {"notice_over", "appeals_decided", "appeals_settled"}


def _list_request(lst: ListVersion | None) -> dict[str, Any]:
    """What the list rules need to know of the latest list version."""
    return {
        "list_version": lst.number if lst and lst.status in ("proposed", "confirmed", "published") else None,
        "objected_version": lst.number if lst and lst.status == "objected" else None,
    }


def _count_after(
    counts: CycleCounts,
    project: Project,
    trigger: str,
    request: Mapping[str, Any],
    program: Program,
    decided: dict[Any, str | None] | None = None,
) -> CycleCounts:
    """The counts as they will be once ``project`` has fired ``trigger`` (for batches);
    ``decided``: the batch's memo of the machine's answers (see Program.fire)."""
    dest = program.leads_to(project.state, trigger, request, decided)
    if dest is None:
        return counts
    by_state = dict(counts.by_city_state)
    by_state[(project.city, project.state)] = by_state.get((project.city, project.state), 0) - 1
    by_state[(project.city, dest)] = by_state.get((project.city, dest), 0) + 1
    results = dict(counts.results)
    if trigger == program.result_trigger:
        if project.municipal_result:
            results[(project.city, project.municipal_result)] = (
                results.get((project.city, project.municipal_result), 1) - 1
            )
        results[(project.city, request["result"])] = results.get((project.city, request["result"]), 0) + 1
    return counts.moved(by_state, results)
