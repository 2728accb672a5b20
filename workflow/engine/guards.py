"""The door's second step: every guard — the stage window and the program's policies — run on
what the action context has loaded, collecting *all* rejections, less what the lead overrode."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from i18n import Joined, Msg, Text
from policies import REGISTRY
from policies.appeals import split_overridden
from policies.base import NEEDS_COUNTS, CycleCounts, GuardContext, ProjectView, Rejection, name_rule
from policies.windows import stage_window
from workflow.common import (
    ActionContext,
    Verdict,
    appeal_decided_by_city,
    overrides_of,
    party_of,
    reopened_allows,
    state_of,
    verb_of,
)
from workflow.engine.context import ContextSteps
from workflow.ports import SheetTotals
from workflow.program import Program
from workflow.records import MADE_LISTS, ListStatus, ListVersion, Project, User

# rules on a project's action that read the cycle beyond the counts (see GuardSteps._request)
_CYCLE_RULES = {"notice_over", "appeals_decided", "appeals_settled"}
name_rule("own_project_recused", "本地项目回避评分")
_NOTHING = Verdict([], [])  # (never changed: a verdict with rejections is a new one)


class GuardSteps(ContextSteps):
    """Counts, guard contexts and verdicts, for one subject or a whole batch."""

    def _counts(
        self,
        act: ActionContext,
        list_version: ListVersion | None = None,
        policies: Iterable[str] | None = None,
        sheets: bool = True,
        by_city_state: Mapping[tuple[str, str], int] | None = None,
        totals: Callable[[bool], SheetTotals] | None = None,
    ) -> CycleCounts:
        """The cycle-wide counts guards read: a few grouped queries, run only when one of ``policies``
        (all when None) reads them, so actions guarded by per-project rules stay cheap. Without
        ``sheets`` no count of sheets (for a reader that shows none: a report). A reader passes
        what it keeps of the cycle (see Reads._tallies): the projects by city and state, and
        ``totals(by_scorer)``, the cycle's current sheets by city or by scorer."""
        if policies is not None and NEEDS_COUNTS.isdisjoint(policies):
            return CycleCounts()
        tx, program, cycle = act.tx, act.program, act.cycle
        if by_city_state is None:
            by_city_state = tx.count_by_city_state(cycle.id)
        confirmations: frozenset[str] = frozenset()
        if list_version is not None and list_version.id is not None:
            confirmations = frozenset(c.city for c in tx.confirmations(list_version.id) if c.decision == "confirm")
        by_scorer: dict[str, int] = {}
        scorers: tuple[str, ...] = ()
        by_state: dict[str, int] = {}  # (the sheet counts choose their side by it: not counted again)
        for (_, state), n in by_city_state.items():
            by_state[state] = by_state.get(state, 0) + n
        key_states = program.listable_states + program.placed_states
        members: list[User] = []
        if program.sheets_per == "scorer" and sheets:
            by_scorer = tx.count_current_sheets(cycle.id, key_states, True, by_state, totals and totals(True))
            members = [u for u in tx.list_users() if u.role == "scorer"]
            scorers = tuple(u.name for u in members)
        shortlist = sum(n for (_, s), n in by_city_state.items() if s in key_states)
        needed: dict[str, int] = {}
        votes_needed: dict[str, int] = {}
        if program.own_party_in(cycle.config) == "recused":  # (none awaited on a party's own)
            for party in program.parties:
                own = sum(by_city_state.get((party.id, s), 0) for s in key_states)
                if own:
                    needed[party.id] = shortlist - own
            # (a member of a committee is recused from the projects of their own city)
            votes_needed = {u.name: needed[u.city] for u in members if u.city in needed}
        return CycleCounts(
            needed=needed,
            sheets_by_scorer=by_scorer,
            scorers=scorers,
            votes_needed=votes_needed,
            by_city_state=by_city_state,
            results=tx.count_review_results(cycle.id),
            sheets_by_city=tx.count_current_sheets(cycle.id, key_states, False, by_state, totals and totals(False))
            if sheets
            else {},
            confirmations=confirmations,
            shortlist=shortlist,
        )

    def _context(
        self,
        act: ActionContext,
        counts: CycleCounts,
        project: Project | None = None,
        request: Mapping[str, Any] | None = None,
        now: datetime | None = None,
        stage_closes: datetime | None = None,
        quotas: Mapping[str, Mapping[str, int]] | None = None,
    ) -> GuardContext:
        """What the policies see: the action context's cycle and program, the counts, the subject."""
        program, cycle = act.program, act.cycle
        view = None if project is None else self._view(project)
        return GuardContext(
            now=now or act.now,
            cycle_id=cycle.id,
            cycle_year=cycle.year,
            parties=program.parties,
            quotas=program.cycle_quotas(cycle.id, cycle.config.quotas) if quotas is None else quotas,
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
            project.id,
            project.city,
            project.state,
            project.application,
            project.review_result,
            project.record,
            project.submitted_at,
        )

    def _run(self, program: Program, names: Iterable[str], ctx: GuardContext) -> list[Rejection]:
        out: list[Rejection] = []
        for name in names:
            params = program.policy_params.get(name) or {}
            out.extend(REGISTRY[name](ctx.with_params(params) if params or ctx.params else ctx))
        return out

    def _judge(
        self, act: ActionContext, rejections: Iterable[Rejection], project: ProjectView | None = None
    ) -> Verdict:
        """Lift the rejections the lead has overridden for this cycle (kept as notes for the audit)."""
        kept, lifted = split_overridden(rejections, overrides_of(act.cycle), project)
        # (the audit keeps the English, as it always has: a reader in either language reads it later)
        notes = [f"{r.render('en')} — overridden by override {o.id} ({o.by}: {o.reason})" for r, o in lifted]
        return Verdict(kept, notes)

    def _closing(self, act: ActionContext, names: Iterable[str], ctx: GuardContext) -> Verdict:
        return self._judge(act, self._run(act.program, names, ctx))

    def _guards(
        self,
        act: ActionContext,
        action: str,
        ctx: GuardContext,
        reopened: str | None = None,
        window: list[Rejection] | None = None,
    ) -> Verdict:
        """The stage window and the action's policies, less what the lead overrode. ``reopened``:
        the stage an appeal reopened the subject to; it may act there and up to the cycle's
        stage whatever their windows. ``window``: the window's verdict at ``ctx.now``, when a
        batch has already asked it."""
        program = act.program
        if window is not None and not reopened_allows(program, act.cycle, program.stage_of_action[action], reopened):
            rejections = list(window)
        else:
            rejections = self._window_refused(act, action, ctx.now, reopened)
        rejections += self._run(program, program.guards.get(action, ()), ctx)
        if not rejections:
            return Verdict([], [])  # nothing for an override to lift
        return self._judge(act, rejections, ctx.project)

    def _window_refused(
        self, act: ActionContext, action: str, now: datetime, reopened: str | None = None
    ) -> list[Rejection]:
        """The door's stage-window check of ``action`` at ``now`` (none while ``reopened``, the
        stage an appeal reopened the subject to, lets it act). Also read on its own, to say which
        actions are open (ListActions.list_actions)."""
        program, cycle = act.program, act.cycle
        stage_id = program.stage_of_action[action]
        if reopened_allows(program, cycle, stage_id, reopened):
            return []
        return stage_window(
            action, stage_id, cycle.stage, self.window(program, cycle, stage_id), now, **window_words(program, action)
        )

    def _request(self, act: ActionContext, lst: ListVersion | None, names: Iterable[str]) -> dict[str, Any]:
        """What the list and appeal rules among ``names`` need to know beyond the counts."""
        tx, program, cycle = act.tx, act.program, act.cycle
        names = set(names)
        request = _list_request(lst)
        if "notice_over" in names:
            published = cycle.config.published_at
            request["published_at"] = published.isoformat() if published else None
        if "appeals_settled" in names:
            waiting = set(program.undecided_states)
            # the appeal that reopened each project: its latest upheld one (one query for all)
            # (typed with the records' optional ids: only looked up, by the ids of projects read from the store)
            upheld: dict[int | None, int | None] = {
                a.project_id: a.id for a in tx.appeals(cycle.id, statuses=("upheld",))
            }
            stages = {s.id: s.name for s in program.stages}
            request["reopened_waiting"] = [
                {
                    "project": p.id,
                    "city": p.city,
                    "state": p.state,
                    "stage": p.reopened_to,
                    "appeal": upheld.get(p.id),
                    # (their names, for readers of Chinese)
                    "state_name": Text(p.state, program.state_name(p.state)),
                    "stage_name": Text(p.reopened_to or "", stages.get(p.reopened_to or "", p.reopened_to or "")),
                }
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

    def _check_moves(
        self,
        act: ActionContext,
        trigger: str,
        projects: Sequence[Project],
        requests: Mapping[int | None, Mapping[str, Any]],
        decided: dict[Any, str | None],
        *,
        internal: bool = False,
        progress: Callable[[int], None] | None = None,
        typed_in: Mapping[int | None, list[Rejection]] | None = None,
    ) -> dict[int | None, Verdict]:
        """The door's permission and guards for ``trigger`` on each of ``projects`` (with its
        request), all rejections of all projects collected, refused at once; returns each
        project's verdict (what its overrides lifted goes in its audit entry). ``internal``: a
        trigger the engine fires inside another action (publication's ``place``): that action's
        permission and window stand for it, the trigger's own policies still apply, and the
        machine itself refuses a project in no state it leaves by the trigger.
        ``decided``: the batch's memo of the machine's answers (see Program.fire). ``typed_in``:
        each project's parameters that its action's declaration refuses, judged with its rules."""
        program = act.program
        guards = program.guards.get(trigger, ())
        counts = self._counts(act, policies=guards)
        # what cycle-wide rules among the guards read (open appeals, the notice), once per batch
        shared = self._request(act, None, guards) if _CYCLE_RULES & set(guards) else {}
        counted = not NEEDS_COUNTS.isdisjoint(guards)
        rejections: list[Rejection] = []
        verdicts: dict[int | None, Verdict] = {}
        sources = program.sources_of(trigger)
        if internal:
            window: list[Rejection] = []
        else:
            stage_id = program.stage_of_action[trigger]
            window = stage_window(
                trigger,
                stage_id,
                act.cycle.stage,
                self.window(program, act.cycle, stage_id),
                act.now,
                **window_words(program, trigger),
            )
        # what every project's context shares, made once; each project's is this with its own
        # project and request (GuardContext.for_project)
        quotas = program.cycle_quotas(act.cycle.id, act.cycle.config.quotas)
        batch = self._context(act, counts, None, None, act.now, quotas=quotas)
        permitted: dict[str | None, bool] = {city: True for city in ((p.city for p in projects) if internal else ())}
        unguarded = internal and not guards  # (nothing to ask but the source state)
        # a cycle whose parties are recused from their own projects: the sheet of one is refused
        recused = (
            act.user.city
            if trigger == program.sheet_trigger and program.own_party_in(act.cycle.config) == "recused"
            else None
        )
        for n, project in enumerate(projects, start=1):
            request = requests[project.id]
            if not permitted.get(project.city):
                self._permit(act, trigger, project.city, Msg("project {id}", id=project.id))
                permitted[project.city] = True
            if unguarded:
                verdict = _NOTHING
                found: list[Rejection] = []
            else:
                # (with the counts as they stand: later projects see the earlier ones counted)
                ctx = batch.for_project(self._view(project), {**shared, **request} if shared else dict(request), counts)
                verdict = self._guards(act, trigger, ctx, project.reopened_to, window)
                found = verdict.refused
            if typed_in and project.id in typed_in:
                found = [*typed_in[project.id], *found]
            if recused is not None and project.city == recused:
                said = Msg(
                    "{party} may not score project {id}, its own: in this cycle a city is recused from its own",
                    party=party_of(program, recused),
                    id=project.id,
                )
                found = [Rejection("own_project_recused", said), *found]
            verdicts[project.id] = verdict
            if not found and not internal and project.state not in sources:  # (internal: the machine says)
                needs = Msg(
                    "project {id} is '{state}'; {trigger} needs {states}",
                    id=project.id,
                    state=state_of(program, project.state),
                    trigger=verb_of(program, trigger),
                    states=Joined([state_of(program, s) for s in sources], " or "),
                )
                found = [Rejection("state", needs)]
            if found and len(projects) > 1:
                found = [
                    Rejection(r.rule, Msg(_ONE, id=project.id, message=r.message))
                    if f"project {project.id}" not in _english(r.message)
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
            ids = [p.id for p in projects]
            subject: Msg
            if len(ids) == 1:
                subject = Msg("project {id}", id=ids[0])
            elif len(ids) <= 10:
                subject = Msg("projects {ids}", ids=Joined(ids, ", "))
            else:
                subject = Msg("{count} projects", count=len(ids))
            state = state_of(program, projects[0].state) if len(ids) == 1 else None
            raise self._refuse(verb_of(program, trigger), subject, rejections, state)
        return verdicts


def window_words(program: Program, action: str) -> dict[str, Any]:
    """What the stage-window rule names for a reader of Chinese: the action's declared label and
    the stages' names (English keeps the ids)."""
    declared = program.actions.get(action)
    return {
        "action_name": Text(action, declared.zh) if declared is not None else action,
        "stage_names": {s.id: s.name for s in program.stages},
    }


def lifted(verdict: Verdict) -> dict[str, Any]:
    """An action's audit data naming the rejections the lead's overrides lifted, if any."""
    return {"overridden": verdict.lifted} if verdict.lifted else {}


def _list_request(lst: ListVersion | None) -> dict[str, Any]:
    """What the list rules need to know of the latest list version."""
    return {
        "list_version": lst.number if lst and lst.status in MADE_LISTS else None,
        "objected_version": lst.number if lst and lst.status == ListStatus.OBJECTED else None,
    }


# a rejection of one project of a batch, and of several for one reason
_ONE = Msg("project {id}: {message}").id
_SEVERAL = Msg("projects {ids}{more}: {message}")
_MORE = Msg(" and {count} more")


def _english(message: str | Msg) -> str:
    return message.render("en") if isinstance(message, Msg) else message


def _same_reason_once(rejections: Sequence[Rejection], shown: int = 3) -> list[Rejection]:
    """A batch refused for one reason (say, scoring has closed) says it once, naming the first
    few projects and how many more, instead of once per project."""
    by_reason: dict[tuple[str, str], tuple[Rejection, str | Msg, list[object]]] = {}
    for r in rejections:
        message: str | Msg = r.message
        project: object = None
        if isinstance(message, Msg) and message.id == _ONE:
            project, message = message.params["id"], message.params["message"]
        elif isinstance(message, str):
            head, sep, rest = message.partition(": ")
            if sep and head.startswith("project "):
                project, message = head.removeprefix("project "), rest
        key = (r.rule, _english(message))
        by_reason.setdefault(key, (r, message, []))[2].append(project)
    out = []
    for (rule, _), (first, message, projects) in by_reason.items():
        named = [p for p in projects if p is not None]
        if len(named) <= 1:
            out.append(first)  # (as it was given)
            continue
        more = Msg(_MORE.id, count=len(named) - shown) if len(named) > shown else ""
        out.append(Rejection(rule, Msg(_SEVERAL.id, ids=Joined(named[:shown], ", "), more=more, message=message)))
    return out


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
        if project.review_result:
            results[(project.city, project.review_result)] = results.get((project.city, project.review_result), 1) - 1
        results[(project.city, request["result"])] = results.get((project.city, request["result"]), 0) + 1
    return counts.moved(by_state, results)
