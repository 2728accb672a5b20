"""The one door: the only code that changes a project's state, a list version's status or a cycle.

Every change passes the same steps, in the action's one transaction and context (see
workflow/engine/context.py): a reason the action's declaration requires (``_reason_given``) →
permission (``_permit``) → every guard, all rejections collected and refused at once
(workflow/engine/guards.py; ``_check_moves`` for projects) → fire (the program's one machine for
projects; the declared LIST_CHANGES for a list version) → save with the version check (a safety
net: the context holds the cycle's lock, so no other change to the cycle moved it; a version the
user named is the action's own check) → seal the audit entry (its action and data as declared: the
trigger for a project, LIST_LOG for a list version, the action's name for a cycle).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from i18n import Msg
from policies.base import Rejection, name_rule, parse_date
from workflow.application import written
from workflow.common import ActionContext, list_status_of, state_of, verb_of
from workflow.engine.guards import GuardSteps
from workflow.errors import InvalidInput
from workflow.program import REOPEN
from workflow.records import (
    LIST_CHANGES,
    LIST_LOG,
    AuditEntry,
    CycleSettings,
    ListStatus,
    ListVersion,
    Project,
    Reminder,
    ScoreSheet,
)
from workflow.reminders import UNSENT, Deadline, plan_for

# what a move may change of a project besides its application and record (see Door._move_chunk)
_SAVED_STATE = ("state", "review_result", "review_method", "reopened_to")
MOVE_CHUNK = 5000  # projects written per chunk of a batch (see Door._move_all)

name_rule("state", "状态")

Move = tuple[Project, Mapping[str, Any], Mapping[str, Any]]  # (project, request, audit data)


class Door(GuardSteps):
    """Fire, save with the version check, seal the audit entry: for projects, list versions, cycles."""

    # -------------------------------------------------------------------------- projects
    def _move(
        self,
        act: ActionContext,
        project: Project,
        trigger: str,
        request: Mapping[str, Any],
        reason: str = "",
        **data: Any,
    ) -> None:
        """Change one project's state (see :meth:`_move_all`)."""
        self._move_all(act, [(project, request, data)], trigger, reason)

    def _move_all(
        self,
        act: ActionContext,
        moves: Sequence[Move],
        trigger: str,
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
            self._move_chunk(act, chunk, trigger, reason, decided)

    def _move_chunk(
        self,
        act: ActionContext,
        moves: Sequence[Move],
        trigger: str,
        reason: str,
        decided: dict[Any, str | None],
    ) -> None:
        tx, program = act.tx, act.program
        done: list[tuple[Project, str, Mapping[str, Any], dict[str, Any], Mapping[str, Any]]] = []
        sheets: list[ScoreSheet] = []
        kept_application: list[bool] = []
        kept_record: list[bool] = []
        unchanged: set[int] = set()
        changed: set[str] = set()  # the columns of _SAVED_STATE some project's move changed
        now = act.now
        for project, request, data in moves:
            before = project.state
            application = project.application
            record = project.record
            stored = (project.state, project.review_result, project.review_method, project.reopened_to)
            if not program.fire(project, trigger, request, decided):
                state = state_of(program, before)
                rejection = Msg(
                    "no transition for {trigger} from '{state}' with {request}",
                    trigger=verb_of(program, trigger),
                    state=state,
                    request=dict(request),
                )
                raise self._refuse(
                    verb_of(program, trigger),
                    Msg("project {id}", id=project.id),
                    [Rejection("state", rejection)],
                    state,
                )
            extra = self._effects(act, project, trigger, request, sheets, reason)
            project.updated_at = now
            kept_application.append(project.application is application)  # effects replace, never mutate
            kept_record.append(project.record is record)
            now_is = (project.state, project.review_result, project.review_method, project.reopened_to)
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
                    who = act.user.name if program.sheets_per == "scorer" else extra["city"]
                    assert project.id is not None  # (a project is scored once it is stored)
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
        template = AuditEntry(now, act.cycle.id, "project", "", act.user.name, trigger, reason=reason)
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
        act: ActionContext,
        project: Project,
        trigger: str,
        request: Mapping[str, Any],
        sheets: list[ScoreSheet],
        reason: str = "",
    ) -> dict[str, Any]:
        """What a trigger records besides the state; returns extra audit data. Score sheets are
        appended to ``sheets`` for the caller to write."""
        program, user = act.program, act.user
        if trigger == REOPEN:
            return {"superseded": self._supersede(act, project, request["to"])}
        key = program.record_keys.get(trigger)
        if key is not None:  # an entry in the project's long-lived record (replaced, never mutated)
            entry = {"at": act.now.isoformat(), "by": user.name, **{k: v for k, v in request.items() if k != "scores"}}
            if reason:
                entry["reason"] = reason
            project.record = {**project.record, key: [*project.record.get(key, []), entry]}
            return {"record": key}
        for param, keys in program.application_params.get(trigger, ()):
            if request.get(param) not in (None, ""):
                project.application = written(project.application, keys, request[param])
        if trigger == program.result_trigger:
            project.review_result = request["result"]
            project.review_method = request.get("method")
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
                at=act.now,
            )
            sheets.append(sheet)  # written by _move_chunk, all at once; it fills in replaces_total
            return {"scores": scores, "bands": bands, "total": sheet.total, "city": sheet.city}
        return {}

    def _supersede(self, act: ActionContext, project: Project, stage_id: str) -> dict[str, Any]:
        """Undo, as history, what the project gained in ``stage_id`` and after: its review result,
        its score sheets (kept, no longer current). Returns what was superseded, for the audit."""
        program = act.program
        target = program.stage_index(stage_id)
        out: dict[str, Any] = {}
        review = program.stage_of_action.get(program.result_trigger or "")
        if review and target <= program.stage_index(review) and project.review_result:
            out["review_result"] = project.review_result
            out["review_method"] = project.review_method
            project.review_result = project.review_method = None
        scoring = program.stage_of_action.get(program.sheet_trigger or "")
        if scoring and target <= program.stage_index(scoring):
            assert project.id is not None  # (a reopened project is stored)
            old = act.tx.supersede_sheets(project.id)
            if old:
                out["sheets"] = [{"city": s.city, "total": s.total} for s in old]
        project.reopened_to = stage_id
        return out

    def _close_reopenings(self, act: ActionContext, projects: Sequence[Project]) -> None:
        """End the reopenings of ``projects`` (a publication closes them; its audit entry names
        them): saved with the version check like every project change."""
        for p in projects:
            p.reopened_to = None
            p.updated_at = act.now
            act.tx.save_project(p)

    # -------------------------------------------------------------------------- reminders
    def _plan(self, act: ActionContext) -> list[Reminder]:
        """The cycle's reminders as they should be now: its stage windows, the deadlines its
        projects were given, its periodic rounds, the end of its public notice."""
        program, cycle = act.program, act.cycle
        deadlines: list[Deadline] = []
        key = program.deadline_record
        if program.deadline_states and key:
            for p in act.tx.find_projects(cycle.id, states=program.deadline_states, with_application=False):
                orders = p.record.get(key, [])
                due = parse_date(orders[-1].get("deadline")) if orders else None
                if due is not None:
                    assert p.id is not None  # (read from the store)
                    deadlines.append(Deadline(p.id, len(orders) - 1, p.city, due))
        at = cycle.config.published_at
        return plan_for(program, cycle, deadlines, at, until_year=program.year_at(self.now()) + 1)

    def _replan(self, act: ActionContext) -> None:
        act.tx.replan_reminders(act.cycle.id, self._plan(act), UNSENT)

    # -------------------------------------------------------------------------- list versions
    def _list_new(self, act: ActionContext, lst: ListVersion, reason: str = "", **data: Any) -> None:
        """Insert a proposed list version and seal its audit entry."""
        lst.status = ListStatus.PROPOSED.value
        act.tx.insert_list(lst)
        act.log("list", lst.number, LIST_LOG[ListStatus.PROPOSED], None, lst.status, reason, **data)

    def _list_to(
        self,
        act: ActionContext,
        lst: ListVersion,
        status: ListStatus,
        reason: str = "",
        action: str | None = None,
        **data: Any,
    ) -> None:
        """Change a list version's status along LIST_CHANGES (or keep it: a party's confirmation
        is recorded as a change of the version, its row's version counting every change), save it
        with the version check, and seal the audit entry: LIST_LOG's action for the new status,
        or ``action`` (the party's decision) when given."""
        before = ListStatus(lst.status)
        if status != before and status not in LIST_CHANGES[before]:
            cannot = Msg(
                "list version {number} cannot go from {before} to {status}",
                number=lst.number,
                before=list_status_of(before),
                status=list_status_of(status),
            )
            raise InvalidInput(Msg("list status"), [cannot])
        lst.status = status.value
        act.tx.save_list_status(lst)
        act.log("list", lst.number, action or LIST_LOG[status], before.value, status.value, reason, **data)

    # -------------------------------------------------------------------------- the cycle
    def _cycle_to(
        self,
        act: ActionContext,
        action: str,
        *,
        config: CycleSettings | None = None,
        stage: str | None = None,
        subject: tuple[str, Any] | None = None,
        reason: str = "",
        **data: Any,
    ) -> None:
        """Change the cycle (its stage, its settings), save it with the version check, and seal
        the audit entry of ``action`` (an advance records the stages it went between; the entry's
        subject is the cycle unless ``subject`` names one of its projects). An empty ``action``:
        the entry is the caller's (a publication's is the list's)."""
        cycle = act.cycle
        before = cycle.stage
        if config is not None:
            cycle.config = config
        if stage is not None:
            cycle.stage = stage
        act.tx.save_cycle(cycle)
        if not action:
            return
        kind, subject_id = subject or ("cycle", cycle.id)
        moved = stage is not None  # (an advance records the stages it went between)
        act.log(
            kind,
            subject_id,
            action,
            before if moved else None,
            cycle.stage if moved else None,
            reason,
            **data,
        )
