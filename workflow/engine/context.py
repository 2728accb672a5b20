"""The action context: what every action needs, made once when it starts — the transaction, the
acting user, the cycle and its program, the instant — and the lookups and checks made with it
(who is acting, which cycle, may they, may they read)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from i18n import Joined, Msg
from policies.base import Rejection
from policies.permissions import can_read, permission_problem
from policies.windows import Window
from workflow.clock import Clock, utc_now
from workflow.common import ActionContext, EngineCore, UserContext, actor_of, english, verb_of
from workflow.errors import InvalidInput, NotFound, NotPermitted, RuleRefused
from workflow.log import get_logger
from workflow.ports import Store, StoreTx
from workflow.program import Program, ProgramRegistry
from workflow.records import Cycle, Project, User

log = get_logger("evalflow.engine")


class ContextSteps(EngineCore):
    """The engine's store, programs and clock, and the action context made from them."""

    def __init__(self, store: Store, programs: ProgramRegistry | None = None, clock: Clock = utc_now):
        self.store = store
        self.programs = programs or ProgramRegistry()
        self.clock = clock

    def now(self) -> datetime:
        """The engine's clock's instant (a rehearsal's clock may be set)."""
        return self.clock()

    @contextmanager
    def _acting(
        self,
        acting: str | None,
        cycle_id: str | None = None,
        *,
        write: bool = True,
        locate: Callable[[StoreTx], str | None] | None = None,
    ) -> Iterator[ActionContext]:
        """Open the action's one transaction and make its context: the acting user first, then
        the cycle (``cycle_id``, or what ``locate`` finds with the transaction, say a project's
        cycle; the only cycle when neither names one), read and so locked for the transaction.

        The lock is what serialises the changes to one cycle: in a write transaction the cycle
        is always read by its id with ``tx.get_cycle`` (SELECT … FOR UPDATE on PostgreSQL;
        SQLite's BEGIN IMMEDIATE already holds the database), however it was found. Whatever the
        action reads after that is as the previous holder of the lock left it (PostgreSQL's
        READ COMMITTED reads each statement afresh), so the version a record is saved with is
        the version it is at, and the store's version check cannot fail for work done by another
        action on the same cycle. ``locate`` runs before the lock: it may only name the cycle
        (a project's or an appeal's cycle never changes); the action reads the record again."""
        now = self.now()
        with self.store.transaction(write=write) as tx:
            # (a user is not a record of a cycle: no change to one takes the cycle's lock, so it
            # is read first, for the message a missing user gets before a missing cycle)
            user = self._user(tx, acting)
            cycle = self._cycle(tx, locate(tx) if locate is not None else cycle_id)
            yield ActionContext(tx, user, now, cycle, self.programs)

    @contextmanager
    def _as_user(self, acting: str | None, write: bool = True) -> Iterator[UserContext]:
        """The context of an action of no cycle (a user's password, a token): transaction, user, instant."""
        now = self.now()
        with self.store.transaction(write=write) as tx:
            yield UserContext(tx, self._user(tx, acting), now)

    def _user(self, tx: StoreTx, name: str | None) -> User:
        if not name:
            raise NotPermitted(
                Msg("act"), Msg("in evalflow"), Msg("no acting user; pass --as NAME or set EVALFLOW_USER")
            )
        user = tx.get_user(name)
        if user is None:
            raise NotFound("user", name, Msg("add users with 'evalflow user add'"))
        return user

    def _cycle(self, tx: StoreTx, cycle_id: str | None) -> Cycle:
        """The cycle ``cycle_id`` (the only one when None), locked in a write transaction."""
        cycle_id = cycle_id or self._only_cycle(tx).id
        cycle = tx.get_cycle(cycle_id)  # (by its id: the read that locks; see _acting)
        if cycle is None:
            raise NotFound("cycle", cycle_id)
        return cycle

    def _only_cycle(self, tx: StoreTx) -> Cycle:
        """The one cycle there is, as listed (not locked: _cycle reads it again by its id)."""
        cycles = tx.list_cycles()
        if not cycles:
            raise NotFound("cycle", Msg("'(any)'"), Msg("open one with 'evalflow cycle open PROGRAM --year YEAR'"))
        if len(cycles) > 1:
            names = Joined([c.id for c in cycles], ", ")
            raise InvalidInput(Msg("cycle choice"), [Msg("several cycles exist ({names}); name one", names=names)])
        return cycles[0]

    def _project(self, tx: StoreTx, project_id: int) -> Project:
        project = tx.get_project(project_id)
        if project is None:
            raise NotFound("project", project_id)
        return project

    def program_of(self, cycle: Cycle) -> Program:
        """The program a cycle runs (its file as it is now)."""
        return self.programs.get(cycle.program_id)

    def window(self, program: Program, cycle: Cycle, stage_id: str) -> Window | None:
        """A stage's window in the cycle's year."""
        return program.window(stage_id, cycle.year)

    # -------------------------------------------------------------------------- may they
    def _permit(self, act: ActionContext, action: str, city: str | None, subject: Any) -> None:
        """The first step of the door: may the acting user do ``action`` (for ``city``)."""
        problem = permission_problem(action, act.program.permissions.get(action), actor_of(act.user), city)
        if problem:
            log.info(
                "not_permitted", action=action, actor=act.user.name, subject=english(subject), why=english(problem)
            )
            raise NotPermitted(verb_of(act.program, action), subject, problem)

    def _reason_given(self, act: ActionContext, action: str, reason: str) -> None:
        """Refuse ``action`` when its declaration requires a reason (``reason = "required"``) and
        none, or only whitespace, is given: a malformed request, refused before any rule is judged
        and for a batch once, whoever the caller (the console, the API, the command line, Python)."""
        declared = act.program.actions.get(action)
        problems = declared.check_reason(reason) if declared is not None else []
        if problems:
            raise InvalidInput("action", problems)

    def _refuse(self, verb: Any, subject: Any, rejections: Sequence[Rejection], state: Any = None) -> RuleRefused:
        """The refusal naming every rejection, logged (the caller raises it)."""
        err = RuleRefused(verb, subject, rejections, state)
        log.info(
            "refused",
            action=english(verb),
            subject=english(subject),
            state=english(state),
            rules=err.rules,
            message=err.render("en"),
        )
        return err

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
        # a project the user may act on in the cycle's stage (an expert visiting an alliance) is
        # theirs to read, as the engine lets them act on it (an applicant reads only their own)
        acting: dict[str, list[str]] = {}
        for state, triggers in program.triggers_from.items() if user.role != "applicant" else ():
            for t in triggers:
                perm = program.permissions.get(t)
                if program.stage_of_action.get(t) == cycle.stage and perm is not None and user.role in perm.roles:
                    acting.setdefault(state, []).append(t)

        def may_act(project: Project) -> bool:
            return any(
                permission_problem(t, program.permissions.get(t), actor, project.city) is None
                for t in acting.get(project.state, ())
            )

        return lambda project: (
            can_read(actor, project.city, project.applicant, project.state in key, joint)
            or (bool(acting) and may_act(project))
        )


def kept_in(kept: dict[tuple[Any, ...], Any], most: int, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
    """``kept[key]``, made by ``make()`` the first time; a process's caches stay bounded by
    starting afresh once ``most`` keys are held (the newest keys are the ones asked again)."""
    found = kept.get(key)
    if found is None:
        found = make()
        if len(kept) >= most:
            kept.clear()
        kept[key] = found
    return found
