"""Appeals and overrides: the engine's actions that reopen a project's state, and the lead's
overrides of rules the program marks overridable.

An appeal is filed against a project's current result (a rejection, its review result, its
place on the list). Whoever made that result decides it: dismissed, nothing changes; upheld,
the project is reopened to an earlier stage through the engine's one door (the ``reopen``
trigger of the program's machine). What it had gained since that stage — its review result,
its score sheets, its list place — is superseded, never deleted, and every guard applies again
on its way forward. A list that held it gets a new version; a published list a corrected
publication.

These methods are mixed into :class:`workflow.engine.Engine`; they use its action context and door.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from policies.appeals import Override
from policies.base import Rejection
from policies.permissions import permission_problem
from workflow.common import ActionContext, EngineCore, actor_of, overrides_of
from workflow.errors import InvalidInput, NotFound, NotPermitted
from workflow.log import get_logger
from workflow.ports import StoreTx
from workflow.program import REOPEN, Program, Stage
from workflow.records import LIVE_LISTS, MADE_LISTS, Appeal, Correction, Cycle, ListStatus, Project, User

log = get_logger("evalflow.appeals")

DECISIONS = ("uphold", "dismiss")


def _local(instant: datetime, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


class AppealActions(EngineCore):
    """Filing, deciding and reading appeals; adding, revoking and reading overrides."""

    # -------------------------------------------------------------------------- when and against what
    def _on_live_list(self, tx: StoreTx, cycle: Cycle, project: Project) -> int | None:
        """The number of the proposed or confirmed list version holding ``project``, if any."""
        lst = tx.latest_list(cycle.id)
        program = self.program_of(cycle)
        if lst is None or lst.status not in LIVE_LISTS or project.state not in program.listable_states:
            return None
        return lst.number if any(e.project_id == project.id for e in lst.entries) else None

    def appeal_closes(self, program: Program, cycle: Cycle, stage: Stage) -> datetime | None:
        """When appeals against ``stage``'s results close: the program's time after its window
        closes, and at the latest the time after publication (None: not yet known)."""
        rules = program.appeals
        assert rules is not None
        candidates: list[datetime] = []
        published = cycle.config.published_at
        if published is not None:
            candidates.append(published + rules.after_publication)
        within = rules.within.get(stage.id)
        window = self.window(program, cycle, stage.id)
        if within is not None and window is not None and window.closes is not None:
            candidates.append(window.closes + within)
        return min(candidates) if candidates else None

    def _reopen_targets(self, tx: StoreTx, program: Program, project: Project, against: str) -> list[Stage]:
        """The stages ``project`` may be reopened to: up to the stage that made the contested
        result, and only those whose waiting state the project once reached."""
        reached = {e.to_state for e in tx.history("project", str(project.id))} | {project.state}
        limit = program.stage_index(against)
        return [
            s for s in program.reopenable if program.stage_index(s.id) <= limit and program.reopen_state(s) in reached
        ]

    # -------------------------------------------------------------------------- filing
    def file_appeal(self, acting: str | None, project_id: int, reason: str) -> Appeal:
        """File an appeal against a project's current result (its applicant or its city's admin)."""
        if not reason.strip():
            raise InvalidInput("appeal", ["an appeal needs --reason"])
        # the project's cycle first (locking it), then the project as it is now
        with self._acting(acting, locate=lambda tx: self._project(tx, project_id).cycle_id) as act:
            tx, user, cycle, program, now = act.tx, act.user, act.cycle, act.program, act.now
            project: Project = self._project(tx, project_id)
            if not self.visible(user, project, cycle, program):
                raise NotFound("project", project_id)
            subject = f"project {project.id}"
            if program.appeals is None:
                raise self._refuse("appeal", subject, [Rejection("appeals", f"program {program.id} takes no appeals")])
            self._permit(act, "appeal", project.city, subject)
            if user.role == "applicant" and project.applicant != user.name:
                raise NotPermitted("appeal", subject, f"{user.name} is not the applicant of project {project.id}")
            list_version = self._on_live_list(tx, cycle, project)
            stage = program.result_stage(project.state, list_version is not None)
            rejections: list[Rejection] = []
            if stage is None:
                rejections.append(
                    Rejection("appealable", f"project {project.id} is '{project.state}'; it holds no result to appeal")
                )
            else:
                closes = self.appeal_closes(program, cycle, stage)
                if closes is not None and now >= closes:
                    rejections.append(
                        Rejection(
                            "appeal_window",
                            f"appeals against results of stage '{stage.id}' closed at "
                            f"{_local(closes, program.timezone)} {program.timezone}; "
                            f"it is now {_local(now, program.timezone)}",
                        )
                    )
            for other in tx.appeals(project_id=project.id, statuses=("open",)):
                rejections.append(
                    Rejection(
                        "one_open_appeal",
                        f"project {project.id} already has appeal {other.id} open "
                        f"(filed by {other.filed_by} on {_local(other.filed_at, program.timezone)})",
                    )
                )
            if rejections:
                raise self._refuse("appeal", subject, rejections, project.state)
            assert stage is not None and project.id is not None
            appeal = Appeal(
                cycle_id=cycle.id,
                project_id=project.id,
                city=project.city,
                filed_by=user.name,
                filed_at=now,
                against_state=project.state,
                against_stage=stage.id,
                reason=reason.strip(),
                list_version=list_version,
            )
            tx.insert_appeal(appeal)
            act.log(
                "project",
                project.id,
                "appeal",
                reason=appeal.reason,
                appeal=appeal.id,
                against=project.state,
                against_stage=stage.id,
                list_version=list_version,
            )
        log.info("appeal_filed", appeal=appeal.id, project=project.id, against=stage.id, actor=user.name)
        return appeal

    # -------------------------------------------------------------------------- deciding
    def decide_appeal(
        self,
        acting: str | None,
        appeal_id: int,
        decision: str,
        reopen_to: str | None = None,
        reason: str = "",
    ) -> tuple[Appeal, Project]:
        """Uphold (reopening the project to ``reopen_to``) or dismiss an appeal, by whoever made the
        contested result. Returns the decided appeal and the project as it is afterwards."""
        if decision not in DECISIONS:
            raise InvalidInput("decision", [f"{decision!r} is not one of {', '.join(DECISIONS)}"])
        if decision == "dismiss" and not reason.strip():
            raise InvalidInput("decision", ["dismissing an appeal needs --reason"])
        if decision == "uphold" and not reopen_to:
            raise InvalidInput("decision", ["upholding an appeal needs --reopen-to STAGE"])

        def locate(tx: StoreTx) -> str:
            found = tx.get_appeal(appeal_id)
            if found is None:
                raise NotFound("appeal", appeal_id)
            return str(found.cycle_id)

        with self._acting(acting, locate=locate) as act:  # (locks the appeal's cycle)
            tx, user, cycle, program, now = act.tx, act.user, act.cycle, act.program, act.now
            appeal = tx.get_appeal(appeal_id)  # as they are now
            assert appeal is not None  # (locate found it; appeals are never deleted)
            project: Project = self._project(tx, appeal.project_id)
            subject = f"appeal {appeal.id}"
            if not self.visible(user, project, cycle, program):
                raise NotFound("appeal", appeal_id)
            assert program.appeals is not None
            perm = program.appeals.decided_by.get(appeal.against_stage)
            what = f"deciding appeals against results of '{appeal.against_stage}'"
            problem = permission_problem(what, perm, actor_of(user), project.city)
            if problem:
                log.info("not_permitted", action="decide", actor=user.name, subject=subject, why=problem)
                raise NotPermitted("decide", subject, problem)
            rejections: list[Rejection] = []
            if appeal.status != "open":
                when = _local(appeal.decided_at, program.timezone) if appeal.decided_at else "?"
                rejections.append(
                    Rejection(
                        "appeal_open",
                        f"appeal {appeal.id} was already {appeal.status} by {appeal.decided_by} on {when}",
                    )
                )
            elif decision == "uphold" and project.state != appeal.against_state:
                # the contested result was overtaken (recommended, awarded…): the appeal can only be
                # dismissed, and a new one filed against the result the project holds now
                rejections.append(
                    Rejection(
                        "appeal_current",
                        f"project {project.id} is now '{project.state}'; appeal {appeal.id} was filed against "
                        f"'{appeal.against_state}' (dismiss it, and appeal the present result)",
                    )
                )
            if decision == "uphold" and not rejections:
                rejections += self._target_problems(tx, program, project, appeal, reopen_to or "")
            if rejections:
                raise self._refuse(decision, subject, rejections)
            appeal.status = "upheld" if decision == "uphold" else "dismissed"
            appeal.decided_by = user.name
            appeal.decided_at = now
            appeal.decision_reason = reason.strip()
            appeal.reopen_to = reopen_to if decision == "uphold" else None
            tx.save_appeal(appeal)
            act.log(
                "project",
                project.id,
                "appeal_" + appeal.status,
                reason=appeal.decision_reason,
                appeal=appeal.id,
                reopen_to=appeal.reopen_to,
            )
            if decision == "uphold":
                effect = self._reopen_list(act, project, appeal)
                self._move(
                    act,
                    project,
                    REOPEN,
                    {"to": reopen_to},
                    appeal.decision_reason or appeal.reason,
                    appeal=appeal.id,
                    **effect,
                )
        log.info("appeal_" + appeal.status, appeal=appeal.id, project=project.id, reopen_to=appeal.reopen_to)
        return appeal, project

    def _target_problems(
        self, tx: StoreTx, program: Program, project: Project, appeal: Appeal, reopen_to: str
    ) -> list[Rejection]:
        targets = self._reopen_targets(tx, program, project, appeal.against_stage)
        choices = ", ".join(s.id for s in targets) or "none"
        if reopen_to in {s.id for s in targets}:
            return []
        if reopen_to not in {s.id for s in program.stages}:
            why = f"'{reopen_to}' is not a stage of {program.id}"
        elif reopen_to not in {s.id for s in program.reopenable}:
            why = f"no project can be reopened to '{reopen_to}'"
        elif program.stage_index(reopen_to) > program.stage_index(appeal.against_stage):
            why = f"'{reopen_to}' comes after '{appeal.against_stage}', the stage that made the contested result"
        else:
            state = program.reopen_state(program.stage(reopen_to))
            why = f"project {project.id} never reached '{state}', where '{reopen_to}' starts"
        return [Rejection("reopen_target", f"{why}; project {project.id} can be reopened to: {choices}")]

    def _reopen_list(self, act: ActionContext, project: Project, appeal: Appeal) -> dict[str, Any]:
        """What reopening does to the list: a proposed version is superseded (the lead proposes a
        new one, to be confirmed again); a confirmed or published one opens a correction. Returns
        what the project's audit row should say about it."""
        program, cycle = act.program, act.cycle
        stage = program.list_stage
        lst = act.tx.latest_list(cycle.id)
        assert appeal.reopen_to is not None  # (an upheld appeal names the stage it reopens to)
        target = program.stage_index(appeal.reopen_to)
        if stage is None or lst is None or target > program.stage_index(stage.id):
            return {}
        entry = next((e for e in lst.entries if e.project_id == project.id), None)
        out: dict[str, Any] = {
            "list": {
                "version": lst.number,
                "status": lst.status,
                "place": asdict(entry) if entry else None,
            }
        }
        if lst.status not in MADE_LISTS:
            return out  # objected or superseded already: the lead proposes a new version anyway
        why = f"appeal {appeal.id} reopened project {project.id}"
        # The list is reopened: until a list is published again, the list actions run whatever the
        # cycle's stage and the windows (the project may come back after the joint window closed).
        assert appeal.id is not None
        correction = cycle.config.correction or Correction(stage.id, lst.number)
        correction = replace(
            correction, appeals=(*correction.appeals, appeal.id), opened_at=correction.opened_at or act.now.isoformat()
        )
        if lst.status in LIVE_LISTS:
            self._list_to(act, lst, ListStatus.SUPERSEDED, reason=why)
        self._cycle_to(
            act,
            "correction",
            config=replace(cycle.config, correction=correction),
            reason=why,
            list_version=lst.number,
            appeals=list(correction.appeals),
        )
        return out

    # -------------------------------------------------------------------------- reading
    def appeals(
        self, acting: str | None, cycle_id: str | None = None, status: str | None = None
    ) -> tuple[Cycle, list[Appeal]]:
        """The appeals of a cycle the user may see (the lead all; a city admin their city's;
        an applicant those they filed)."""
        with self._acting(acting, cycle_id, write=False) as act:
            found = act.tx.appeals(act.cycle.id, statuses=(status,) if status else None)
            return act.cycle, [a for a in found if may_read_appeal(act.user, a)]

    def appeal(self, acting: str | None, appeal_id: int) -> tuple[Appeal, Project]:
        """An appeal the user may read, with its project."""
        with self._as_user(acting, write=False) as act:
            appeal = act.tx.get_appeal(appeal_id)
            if appeal is None or not may_read_appeal(act.user, appeal):
                raise NotFound("appeal", appeal_id)
            project = act.tx.get_project(appeal.project_id)
            assert project is not None  # (an appeal's project is stored before it)
            return appeal, project

    def publication_appeals(self, acting: str | None, cycle_id: str, number: int) -> list[Appeal]:
        """The appeals a (corrected) publication of list version ``number`` answered."""
        with self._as_user(acting, write=False) as act:
            tx = act.tx
            rows = [
                e
                for e in tx.history("list", str(number), cycle_id=cycle_id)
                if e.action == "publish" and e.data.get("appeals")
            ]
            ids = [w["appeal"] for w in rows[-1].data["appeals"]] if rows else []
            return [a for a in (tx.get_appeal(i) for i in ids) if a is not None]

    # -------------------------------------------------------------------------- overrides
    def override(
        self,
        acting: str | None,
        rule: str,
        reason: str,
        city: str | None = None,
        project_id: int | None = None,
        cycle_id: str | None = None,
    ) -> Override:
        """The lead lifts a rule the program marks overridable, for one city, one project or
        everyone in the cycle, with a reason. Shown in status and in the history."""
        if not reason.strip():
            raise InvalidInput("override", ["an override needs --reason"])
        with self._acting(acting, cycle_id) as act:
            tx, user, cycle, program = act.tx, act.user, act.cycle, act.program
            subject = f"rule {rule} in cycle {cycle.id}"
            self._permit(act, "override", None, subject)
            if city is not None:
                program.party(city)
            if project_id is not None:
                project = self._project(tx, project_id)
                if project.cycle_id != cycle.id:
                    raise NotFound("project", project_id, f"it is not in cycle {cycle.id}")
                if city is not None and project.city != city:
                    raise InvalidInput("override", [f"project {project_id} belongs to {project.city}, not {city}"])
                if rule in program.overridable and rule not in program.project_rules:
                    raise InvalidInput(
                        "override",
                        [f"{rule} is checked for a whole stage or list, not for one project's action; use --city"],
                    )
            if rule not in program.overridable:
                allowed = ", ".join(program.overridable) or "none"
                raise self._refuse(
                    "override",
                    subject,
                    [
                        Rejection(
                            "overridable", f"{rule} may not be overridden in {program.id} (overridable: {allowed})"
                        )
                    ],
                )
            existing = overrides_of(cycle)
            o = Override(
                id=max((x.id for x in existing), default=0) + 1,
                rule=rule,
                reason=reason.strip(),
                by=user.name,
                at=act.now.isoformat(),
                city=city,
                project=project_id,
            )
            self._cycle_to(
                act,
                "override",
                config=replace(cycle.config, overrides=(*existing, o)),
                subject=("project", project_id) if project_id is not None else None,
                reason=o.reason,
                override=asdict(o),
            )
        log.info("override_added", cycle=cycle.id, rule=rule, city=city, project=project_id, id=o.id)
        return o

    def revoke_override(
        self, acting: str | None, override_id: int, reason: str, cycle_id: str | None = None
    ) -> Override:
        """Withdraw an override: the rule applies again from now on (what went through stays)."""
        if not reason.strip():
            raise InvalidInput("override", ["revoking an override needs --reason"])
        with self._acting(acting, cycle_id) as act:
            user, cycle, program = act.user, act.cycle, act.program
            problem = permission_problem("override", program.permissions.get("override"), actor_of(user), None)
            if problem:
                raise NotPermitted("revoke", f"override {override_id}", problem)
            found = next((x for x in cycle.config.overrides if x.id == override_id), None)
            if found is None:
                raise NotFound("override", override_id)
            if found.revoked:
                raise InvalidInput("override", [f"override {override_id} was already revoked"])
            o = replace(found, revoked={"by": user.name, "at": act.now.isoformat(), "reason": reason.strip()})
            overrides = tuple(o if x.id == override_id else x for x in cycle.config.overrides)
            self._cycle_to(
                act,
                "revoke_override",
                config=replace(cycle.config, overrides=overrides),
                subject=("project", o.project) if o.project is not None else None,
                reason=reason.strip(),
                override=asdict(o),
            )
        log.info("override_revoked", cycle=cycle.id, id=override_id)
        return o

    def overrides(self, acting: str | None, cycle_id: str | None = None) -> tuple[Cycle, list[Override]]:
        with self._acting(acting, cycle_id, write=False) as act:
            return act.cycle, list(overrides_of(act.cycle))


def may_read_appeal(user: User, appeal: Appeal) -> bool:
    """Whether ``user`` may read ``appeal``: the lead all; a city admin their city's; an applicant their own."""
    if user.role == "lead":
        return True
    if user.role == "applicant":
        return appeal.filed_by == user.name
    return user.role == "city-admin" and appeal.city == user.city
