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
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from i18n import Joined, Msg, Text
from policies.appeals import Override
from policies.base import RULE_NAMES, Rejection, name_rule
from policies.permissions import permission_problem
from workflow.common import ActionContext, EngineCore, actor_of, english, overrides_of, party_of, state_of, verb_of
from workflow.errors import InvalidInput, NotFound, NotPermitted
from workflow.log import get_logger
from workflow.ports import StoreTx
from workflow.program import REOPEN, Program, Stage
from workflow.records import LIVE_LISTS, MADE_LISTS, Appeal, Correction, Cycle, ListStatus, Project, User

log = get_logger("evalflow.appeals")

PUBLIC = "public"  # who files an objection from the public pages (no user: the audit names it so)
OBJECTOR_NAME_MAX, OBJECTOR_CONTACT_MAX, OBJECTION_MAX = 50, 100, 2000
_OBJECTION_WORDS = {"name": "姓名", "contact": "联系方式", "reason": "理由"}
name_rule("objection_window", "公示期内")

name_rule("appeals", "接受申诉")
name_rule("appealable", "可申诉的结果")
name_rule("appeal_window", "申诉期限")
name_rule("one_open_appeal", "每个项目一项待决申诉")
name_rule("appeal_open", "申诉待决定")
name_rule("appeal_current", "申诉针对当前结果")
name_rule("reopen_target", "重新打开的阶段")
name_rule("overridable", "可豁免的规则")

# an appeal's status as a decided appeal names it
_APPEAL_STATUS = {"upheld": Text("upheld", "支持"), "dismissed": Text("dismissed", "驳回")}


def _rule(rule: str) -> Text:
    """A rule as a message names it: its id in English, its Chinese name."""
    return Text(rule, RULE_NAMES.get(rule, rule))


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
            raise InvalidInput("appeal", [Msg("an appeal needs --reason")])
        # the project's cycle first (locking it), then the project as it is now
        with self._acting(acting, locate=lambda tx: self._project(tx, project_id).cycle_id) as act:
            tx, user, cycle, program, now = act.tx, act.user, act.cycle, act.program, act.now
            project: Project = self._project(tx, project_id)
            if not self.visible(user, project, cycle, program):
                raise NotFound("project", project_id)
            subject = Msg("project {id}", id=project.id)
            verb = verb_of(program, "appeal")
            if program.appeals is None:
                none = Msg("program {program} takes no appeals", program=program.id)
                raise self._refuse(verb, subject, [Rejection("appeals", none)])
            self._permit(act, "appeal", project.city, subject)
            if user.role == "applicant" and project.applicant != user.name:
                why = Msg("{name} is not the applicant of project {id}", name=user.name, id=project.id)
                raise NotPermitted(verb, subject, why)
            list_version = self._on_live_list(tx, cycle, project)
            stage = program.result_stage(project.state, list_version is not None)
            rejections: list[Rejection] = []
            if stage is None:
                no_result = Msg(
                    "project {id} is '{state}'; it holds no result to appeal",
                    id=project.id,
                    state=state_of(program, project.state),
                )
                rejections.append(Rejection("appealable", no_result))
            else:
                closes = self.appeal_closes(program, cycle, stage)
                if closes is not None and now >= closes:
                    closed = Msg(
                        "appeals against results of stage '{stage}' closed at {closes} {zone}; it is now {now}",
                        stage=Text(stage.id, stage.name),
                        closes=_local(closes, program.timezone),
                        zone=program.timezone,
                        now=_local(now, program.timezone),
                    )
                    rejections.append(Rejection("appeal_window", closed))
            for other in tx.appeals(project_id=project.id, statuses=("open",)):
                already = Msg(
                    "project {id} already has appeal {appeal} open (filed by {by} on {on})",
                    id=project.id,
                    appeal=other.id,
                    by=other.filed_by,
                    on=_local(other.filed_at, program.timezone),
                )
                rejections.append(Rejection("one_open_appeal", already))
            if rejections:
                raise self._refuse(verb, subject, rejections, state_of(program, project.state))
            assert stage is not None and project.id is not None
            appeal = self._insert_appeal(tx, now, cycle, project, stage.id, reason, list_version, user.name)
        log.info("appeal_filed", appeal=appeal.id, project=project.id, against=stage.id, actor=user.name)
        return appeal

    def _insert_appeal(
        self,
        tx: StoreTx,
        now: datetime,
        cycle: Cycle,
        project: Project,
        stage_id: str,
        reason: str,
        list_version: int | None,
        filed_by: str,
        **extra: Any,
    ) -> Appeal:
        """Store an appeal against ``project``'s result of ``stage_id`` and seal its audit entry
        (an applicant's or a city's appeal, or the public's objection: ``extra`` in its data)."""
        assert project.id is not None
        appeal = Appeal(
            cycle_id=cycle.id,
            project_id=project.id,
            city=project.city,
            filed_by=filed_by,
            filed_at=now,
            against_state=project.state,
            against_stage=stage_id,
            reason=reason.strip(),
            list_version=list_version,
        )
        tx.insert_appeal(appeal)
        self._audit(
            tx,
            now,
            cycle,
            "project",
            project.id,
            filed_by,
            "appeal",
            reason=appeal.reason,
            appeal=appeal.id,
            against=project.state,
            against_stage=stage_id,
            list_version=list_version,
            **extra,
        )
        return appeal

    # -------------------------------------------------------------------------- the public
    def file_objection(self, cycle_id: str, project_id: int, name: str, contact: str, reason: str) -> Appeal:
        """An objection from the public (no user) to a project named on the cycle's published
        list, during its notice: filed as an appeal by ``public``, decided by the office as any
        appeal is. The objector's name and contact are kept in the audit entry, read by the lead
        alone; the reason as any appeal's. NotFound while the cycle has published nothing or the
        project is not named on its list (as for one that does not exist)."""
        fields = {
            "name": (name, OBJECTOR_NAME_MAX),
            "contact": (contact, OBJECTOR_CONTACT_MAX),
            "reason": (reason, OBJECTION_MAX),
        }
        bad = [
            Msg("{field} is needed, at most {most} characters", field=Text(f, _OBJECTION_WORDS[f]), most=most)
            for f, (value, most) in fields.items()
            if not value.strip() or len(value.strip()) > most
        ]
        if bad:
            raise InvalidInput(Msg("objection"), bad)
        now = self.now()
        with self._transaction() as tx:
            cycle = tx.get_cycle(cycle_id)  # (by its id: the lock, as every change of a cycle takes)
            if cycle is None:
                raise NotFound("cycle", cycle_id)
            program = self.program_of(cycle)
            published = tx.list_versions(cycle.id, statuses=(ListStatus.PUBLISHED.value,))
            named = {e.project_id for e in published[-1].entries if e.category != "none"} if published else set()
            at = cycle.config.published_at
            if at is None or project_id not in named:
                raise NotFound("project", project_id)
            project = self._project(tx, project_id)
            subject = Msg("project {id}", id=project.id)
            verb = verb_of(program, "appeal")
            days = program.notice_period_days
            ends = at + timedelta(days=days)
            rejections: list[Rejection] = []
            if program.appeals is None:
                rejections.append(Rejection("appeals", Msg("program {program} takes no appeals", program=program.id)))
            if now >= ends:
                over = Msg(
                    "the notice of cycle {cycle} ended at {ends} {zone}; it is now {now}",
                    cycle=cycle.id,
                    ends=_local(ends, program.timezone),
                    zone=program.timezone,
                    now=_local(now, program.timezone),
                )
                rejections.append(Rejection("objection_window", over))
            stage = program.result_stage(project.state, False)
            if stage is None and not rejections:
                no_result = Msg("project {id} holds no result to object to", id=project.id)
                rejections.append(Rejection("appealable", no_result))
            if tx.appeals(project_id=project.id, statuses=("open",)):
                already = Msg("project {id} already has an objection or appeal open", id=project.id)
                rejections.append(Rejection("one_open_appeal", already))
            if rejections:
                raise self._refuse(verb, subject, rejections, state_of(program, project.state))
            assert stage is not None and project.id is not None
            objector = {"name": name.strip(), "contact": contact.strip()}
            number = published[-1].number
            appeal = self._insert_appeal(tx, now, cycle, project, stage.id, reason, number, PUBLIC, objector=objector)
        log.info("objection_filed", appeal=appeal.id, project=project.id)
        return appeal

    def objectors(self, acting: str | None, appeals: list[Appeal]) -> dict[int, dict[str, str]]:
        """The name and contact of each objection from the public among ``appeals`` (the lead's
        alone; anyone else gets none): appeal id -> {name, contact}."""
        public = [a for a in appeals if a.filed_by == PUBLIC]
        if not public:
            return {}
        with self._transaction(write=False) as tx:
            if self._user(tx, acting).role != "lead":
                return {}
            out: dict[int, dict[str, str]] = {}
            for a in public:
                for e in tx.history("project", str(a.project_id), a.cycle_id):
                    if e.action == "appeal" and e.data.get("appeal") == a.id and "objector" in e.data:
                        out[a.id or 0] = dict(e.data["objector"])
            return out

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
            not_one = Msg(
                "{decision} is not one of {decisions}", decision=repr(decision), decisions=Joined(DECISIONS, ", ")
            )
            raise InvalidInput(Msg("decision"), [not_one])
        if decision == "dismiss" and not reason.strip():
            raise InvalidInput(Msg("decision"), [Msg("dismissing an appeal needs --reason")])
        if decision == "uphold" and not reopen_to:
            raise InvalidInput(Msg("decision"), [Msg("upholding an appeal needs --reopen-to STAGE")])

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
            subject = Msg("appeal {id}", id=appeal.id)
            if not self.visible(user, project, cycle, program):
                raise NotFound("appeal", appeal_id)
            assert program.appeals is not None
            perm = program.appeals.decided_by.get(appeal.against_stage)
            what = f"deciding appeals against results of '{appeal.against_stage}'"
            problem = permission_problem(what, perm, actor_of(user), project.city)
            if problem:
                log.info(
                    "not_permitted", action="decide", actor=user.name, subject=english(subject), why=english(problem)
                )
                raise NotPermitted(Msg("decide"), subject, problem)
            rejections: list[Rejection] = []
            if appeal.status != "open":
                when = _local(appeal.decided_at, program.timezone) if appeal.decided_at else "?"
                decided = Msg(
                    "appeal {id} was already {status} by {by} on {on}",
                    id=appeal.id,
                    status=_APPEAL_STATUS.get(appeal.status, appeal.status),
                    by=appeal.decided_by,
                    on=when,
                )
                rejections.append(Rejection("appeal_open", decided))
            elif decision == "uphold" and project.state != appeal.against_state:
                # the contested result was overtaken (recommended, awarded…): the appeal can only be
                # dismissed, and a new one filed against the result the project holds now
                overtaken = Msg(
                    "project {id} is now '{state}'; appeal {appeal} was filed against '{against}'"
                    " (dismiss it, and appeal the present result)",
                    id=project.id,
                    state=state_of(program, project.state),
                    appeal=appeal.id,
                    against=state_of(program, appeal.against_state),
                )
                rejections.append(Rejection("appeal_current", overtaken))
            if decision == "uphold" and not rejections:
                rejections += self._target_problems(tx, program, project, appeal, reopen_to or "")
            if rejections:
                raise self._refuse(verb_of(program, decision), subject, rejections)
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
        choices = Joined([Text(s.id, s.name) for s in targets], ", ") if targets else Msg("none")
        if reopen_to in {s.id for s in targets}:
            return []
        stages = {s.id: s for s in program.stages}
        target = Text(reopen_to, stages[reopen_to].name) if reopen_to in stages else reopen_to
        why: Msg
        if reopen_to not in stages:
            why = Msg("'{stage}' is not a stage of {program}", stage=target, program=program.id)
        elif reopen_to not in {s.id for s in program.reopenable}:
            why = Msg("no project can be reopened to '{stage}'", stage=target)
        elif program.stage_index(reopen_to) > program.stage_index(appeal.against_stage):
            against = Text(appeal.against_stage, stages[appeal.against_stage].name)
            why = Msg(
                "'{stage}' comes after '{against}', the stage that made the contested result",
                stage=target,
                against=against,
            )
        else:
            state = program.reopen_state(program.stage(reopen_to))
            why = Msg(
                "project {id} never reached '{state}', where '{stage}' starts",
                id=project.id,
                state=state_of(program, str(state)),
                stage=target,
            )
        message = Msg("{why}; project {id} can be reopened to: {choices}", why=why, id=project.id, choices=choices)
        return [Rejection("reopen_target", message)]

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
            raise InvalidInput("override", [Msg("an override needs --reason")])
        with self._acting(acting, cycle_id) as act:
            tx, user, cycle, program = act.tx, act.user, act.cycle, act.program
            subject = Msg("rule {rule} in cycle {cycle}", rule=Text(rule, RULE_NAMES.get(rule, rule)), cycle=cycle.id)
            self._permit(act, "override", None, subject)
            if city is not None:
                program.party(city)
            if project_id is not None:
                project = self._project(tx, project_id)
                if project.cycle_id != cycle.id:
                    raise NotFound("project", project_id, Msg("it is not in cycle {cycle}", cycle=cycle.id))
                if city is not None and project.city != city:
                    elsewhere = Msg(
                        "project {id} belongs to {city}, not {other}",
                        id=project_id,
                        city=party_of(program, project.city),
                        other=party_of(program, city),
                    )
                    raise InvalidInput("override", [elsewhere])
                if rule in program.overridable and rule not in program.project_rules:
                    whole = Msg(
                        "{rule} is checked for a whole stage or list, not for one project's action; use --city",
                        rule=_rule(rule),
                    )
                    raise InvalidInput("override", [whole])
            if rule not in program.overridable:
                allowed = Joined([_rule(r) for r in program.overridable], ", ") if program.overridable else Msg("none")
                refused = Msg(
                    "{rule} may not be overridden in {program} (overridable: {allowed})",
                    rule=_rule(rule),
                    program=program.id,
                    allowed=allowed,
                )
                raise self._refuse(verb_of(program, "override"), subject, [Rejection("overridable", refused)])
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
            raise InvalidInput("override", [Msg("revoking an override needs --reason")])
        with self._acting(acting, cycle_id) as act:
            user, cycle, program = act.user, act.cycle, act.program
            problem = permission_problem("override", program.permissions.get("override"), actor_of(user), None)
            if problem:
                raise NotPermitted(Msg("revoke"), Msg("override {id}", id=override_id), problem)
            found = next((x for x in cycle.config.overrides if x.id == override_id), None)
            if found is None:
                raise NotFound("override", override_id)
            if found.revoked:
                raise InvalidInput("override", [Msg("override {id} was already revoked", id=override_id)])
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
