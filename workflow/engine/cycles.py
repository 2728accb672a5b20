"""The cycle's actions: users, opening a cycle, advancing its stages, planning its reminders and
saying what is left to do before a close."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from i18n import Joined, Msg, Text
from policies.base import Rejection, name_rule, parse_date
from workflow.accounts import check_role
from workflow.appeals import PUBLIC
from workflow.common import ActionContext, party_of, role_of
from workflow.engine.door import Door
from workflow.engine.guards import lifted
from workflow.errors import InvalidInput, NotPermitted
from workflow.log import get_logger
from workflow.program import Program
from workflow.program.scoring import OWN_PARTY
from workflow.records import Cycle, CycleSettings, ListStatus, Reminder, User
from workflow.reminders import NOTICE_KEY, UNSENT, PendingWork

log = get_logger("evalflow.engine")

name_rule("last_stage", "最后阶段")
name_rule("rectification_due", "整改期限")  # (a reminder of an order to rectify, not a guard)


@dataclass
class AdvanceResult:
    cycle: Cycle
    from_stage: str
    to_stage: str | None
    dry_run: bool
    rejections: list[Rejection] = field(default_factory=list)
    overridden: list[str] = field(default_factory=list)


class CycleActions(Door):
    """Users; a cycle's opening, stages and reminders."""

    # ------------------------------------------------------------------------------ users
    def add_user(self, acting: str | None, name: str, role: str, city: str | None) -> User:
        """Add a user. The very first user must be the lead (bootstrap); later only the lead adds users."""
        check_role(self.programs, role, city, Msg("a {role} needs --city", role=role))
        now = self.now()
        # (not through _as_user: the first user is added before anyone can act)
        with self.store.transaction() as tx:
            if tx.count_users() == 0:
                if role != "lead":
                    raise NotPermitted(Msg("add user"), name, Msg("the first user must be the lead (--role lead)"))
                actor = name
            else:
                user = self._user(tx, acting)
                if user.role != "lead":
                    why = Msg("{name} is {role}; users are added by the lead", name=user.name, role=role_of(user.role))
                    raise NotPermitted(Msg("add user"), name, why)
                actor = user.name
            if tx.get_user(name) is not None:
                raise InvalidInput("user", [Msg("a user named {name} already exists", name=repr(name))])
            if name == PUBLIC:  # (the public's objections are filed under it: nobody signs in as it)
                raise InvalidInput(
                    "user", [Msg("the name {name} is kept for the public's objections", name=repr(name))]
                )
            new = User(name, role, city)
            tx.add_user(new, now)
            self._audit(tx, now, None, "user", name, actor, "add_user", to_state=role, city=city)
        log.info("user_added", name=name, role=role, city=city)
        return new

    def users(self) -> list[User]:
        """Every user."""
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
        own_party: str | None = None,
    ) -> Cycle:
        """Open a program's cycle for ``year`` (the lead), with its list places and quotas, and
        what a party does on its own projects (``own_party``; by default as the program says)."""
        program = self.programs.get(program_id)
        cycle_id = f"{program.cycle_prefix}-{year}"
        bad: list[Msg] = []
        if own_party is not None and own_party not in OWN_PARTY:
            bad.append(Msg("own party = {value} must be scores, recused or excluded", value=repr(own_party)))
        elif own_party not in (None, "scores") and len(program.parties) < 2:  # (its own is every project)
            bad.append(
                Msg(
                    "own party = {value} needs two parties or more: every project of {program} is {party}'s own",
                    value=repr(own_party),
                    program=Text(program.id, program.name),
                    party=party_of(program, program.parties[0].id) if program.parties else "",
                )
            )
        for city, values in (quotas or {}).items():
            program.party(city)
            for key, value in values.items():
                if key not in program.results or not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    bad.append(
                        Msg(
                            "quota {city}:{key}={value} must name a result and be a whole number ≥ 0",
                            city=city,
                            key=key,
                            value=repr(value),
                        )
                    )
        bad += places_problems(program, places or {})
        if bad:
            raise InvalidInput(Msg("cycle settings"), bad)
        config = CycleSettings(
            places={**{c.id: c.places for c in program.categories}, **{k: int(v) for k, v in (places or {}).items()}},
            quotas={c: dict(q) for c, q in (quotas or {}).items()},
            own_party=own_party or program.own_party,  # (recorded: a later edit of the file leaves it)
        )
        settings = config.to_data({})
        now = self.now()
        with self.store.transaction() as tx:
            user = self._user(tx, acting)
            if user.role != "lead":
                why = Msg("{name} is {role}; cycles are opened by the lead", name=user.name, role=role_of(user.role))
                raise NotPermitted(Msg("open"), Msg("cycle {id}", id=cycle_id), why)
            if tx.get_cycle(cycle_id) is not None:
                raise InvalidInput("cycle", [Msg("cycle {id} is already open", id=cycle_id)])
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
            act = ActionContext(tx, user, now, cycle, self.programs)  # (the cycle exists from here)
            added, _, _ = tx.replan_reminders(cycle.id, self._plan(act), UNSENT)
            act.log(
                "cycle",
                cycle_id,
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
        with self._acting(acting, cycle_id) as act:
            cycle, user = act.cycle, act.user
            if user.role != "lead":
                raise NotPermitted(
                    Msg("re-plan"),
                    Msg("the reminders of {cycle}", cycle=cycle.id),
                    Msg("{name} is {role}; the lead does", name=user.name, role=role_of(user.role)),
                )
            added, moved, removed = act.tx.replan_reminders(cycle.id, self._plan(act), UNSENT)
            act.log(
                "cycle",
                cycle.id,
                "replan_reminders",
                added=added,
                moved=moved,
                removed=removed,
                digest=act.program.digest,
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
            # (the dispatcher asks, not a user: the context's actor is nobody)
            act = ActionContext(tx, User("", ""), self.now(), cycle, self.programs)
            program = act.program
            stage = program.stage(stage_id)
            window = self.window(program, cycle, stage_id)
            if window is None or window.closes is None:
                return None
            lst = tx.latest_list(cycle.id, entries=False)  # its head is enough
            counts = self._counts(act, lst, stage.close_when)
            # judged as at the close, so that rules about time (the window must end) are not work
            at = max(act.now, window.closes)
            request = self._request(act, lst, stage.close_when)
            ctx = self._context(act, counts, request=request, now=at, stage_closes=window.closes)
            return PendingWork(
                stage_name=stage.name,
                closes=window.closes,
                timezone=program.timezone,
                rejections=self._closing(act, stage.close_when, ctx).refused,
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
                message = Msg(
                    "project {id} {unit} 《{title}》 must rectify by {due}{why}",
                    id=project.id,
                    unit=project.unit_name,
                    title=project.project_name,
                    due=str(due),
                    why=Msg(": {why}", why=why) if why else "",
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
                published = cycle.config.published_at
                if published is None or program.notice_days is None:
                    return None
                ends = published + timedelta(days=program.notice_days)
                waiting = tx.find_projects(cycle.id, states=program.sources_of("award"), with_application=False)
                if not waiting:
                    return None
                local = ends.astimezone(zone).strftime("%Y-%m-%d %H:%M")
                message = Msg(
                    "the public notice ended {at}; {count} selected projects wait to be announced",
                    at=local,
                    count=len(waiting),
                )
                return PendingWork(
                    "公示期满 end of the public notice",
                    ends,
                    program.timezone,
                    [Rejection("notice_over", message)],
                    names,
                )
            year, month = (int(x) for x in subject.removeprefix("round/").split("-"))
            sources = {st for t in program.round_triggers for st in program.sources_of(t)}
            counts = tx.count_by_city_state(cycle.id)
            items = []
            for party in program.parties:
                n = sum(counts.get((party.id, st), 0) for st in sources)
                if n:
                    items.append(
                        Rejection(
                            "in_months",
                            Msg(
                                "{party} has {count} projects for the {month}月 round",
                                party=party.words,
                                count=n,
                                month=month,
                            ),
                            (party.id,),
                        )
                    )
            if not items:
                return None
            ends = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
            return PendingWork(f"{month}月集中办理 the {month}月 round", ends, program.timezone, items, names)

    def cycles(self) -> list[Cycle]:
        """Every cycle."""
        with self.store.transaction(write=False) as tx:
            return tx.list_cycles()

    def get_cycle(self, cycle_id: str | None) -> Cycle:
        """A cycle (the only one, when ``cycle_id`` is None)."""
        with self.store.transaction(write=False) as tx:
            return self._cycle(tx, cycle_id)

    def advance(self, acting: str | None, cycle_id: str | None = None, dry_run: bool = False) -> AdvanceResult:
        """Close the current stage and open the next. Refused, with every failing rule, unless the
        stage's closing rules hold; with ``dry_run`` report the same without changing anything."""
        with self._acting(acting, cycle_id, write=not dry_run) as act:
            cycle, program, now = act.cycle, act.program, act.now
            named = Text(cycle.stage, program.stage(cycle.stage).name)
            subject = Msg("stage '{stage}' of cycle {cycle}", stage=named, cycle=cycle.id)
            self._permit(act, "advance", None, subject)
            stage = program.stage(cycle.stage)
            nxt = program.next_stage(stage.id)
            rejections: list[Rejection] = []
            if nxt is None:
                last = Msg("'{stage}' is the last stage of {program}", stage=named, program=program.id)
                rejections.append(Rejection("last_stage", last))
            lst = act.tx.latest_list(cycle.id, entries=False)  # its head is enough
            counts = self._counts(act, lst)
            window = self.window(program, cycle, stage.id)
            closes = window.closes if window else None
            request = self._request(act, lst, stage.close_when)
            ctx = self._context(act, counts, request=request, now=now, stage_closes=closes)
            verdict = self._closing(act, stage.close_when, ctx)
            rejections += verdict.refused
            result = AdvanceResult(cycle, stage.id, nxt.id if nxt else None, dry_run, rejections, verdict.lifted)
            if dry_run:
                return result
            if rejections:
                raise self._refuse(Msg("close"), subject, rejections)
            assert nxt is not None  # (the last stage was refused above)
            early = window is not None and window.closes is not None and now < window.closes
            if lst is not None and lst.status == ListStatus.PROPOSED and stage.kind.confirms_list_on_close:
                self._list_to(act, lst, ListStatus.CONFIRMED)
            self._cycle_to(act, "advance", stage=nxt.id, early=early, **lifted(verdict))
        log.info("stage_advanced", cycle=cycle.id, from_stage=stage.id, to_stage=cycle.stage, early=early)
        return result


def places_problems(program: Program, places: Mapping[str, Any]) -> list[Msg]:
    """What is wrong with a cycle's list places (a category the program lacks, a number that is
    no whole number ≥ 0): as a cycle is opened with them, or a what-if asks of them."""
    bad: list[Msg] = []
    known = [c.id for c in program.categories]
    for key, value in places.items():
        if key not in known:
            categories = Joined(known, ", ") if known else Msg("it has none")
            bad.append(
                Msg(
                    "{key} is not a list category of {program} ({categories})",
                    key=repr(key),
                    program=program.id,
                    categories=categories,
                )
            )
        elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
            said = Msg(
                "{key} places = {value} must be a whole number ≥ 0", key=program.category_words(key), value=repr(value)
            )
            bad.append(said)
    return bad
