"""Small pieces the engine and its action mixins share: the action context, the audit entry,
the guards' verdict."""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from i18n import Msg, Text
from policies.appeals import Override
from policies.base import Rejection, party_words
from policies.permissions import Actor
from workflow.ports import Store, StoreTx
from workflow.program import Program, ProgramRegistry
from workflow.records import AuditEntry, Cycle, User

if TYPE_CHECKING:
    from collections.abc import Mapping
    from contextlib import AbstractContextManager
    from datetime import datetime

    from policies.windows import Window
    from workflow.errors import RuleRefused
    from workflow.records import CycleSettings, ListStatus, ListVersion, Project

F = TypeVar("F", bound=Callable[..., Any])


class UserContext:
    """What an action works with, made once when it starts, inside its one transaction: the
    transaction, the acting user and the instant it acts at (Engine._as_user)."""

    def __init__(self, tx: StoreTx, user: User, now: datetime) -> None:
        self.tx = tx
        self.user = user
        self.now = now

    def audit(
        self,
        cycle: Cycle | None,
        subject: str,
        subject_id: Any,
        action: str,
        from_state: str | None = None,
        to_state: str | None = None,
        reason: str = "",
        **data: Any,
    ) -> None:
        """Seal the audit entry of a change this action made (the last step of the door)."""
        self.tx.audit(
            AuditEntry(
                at=self.now,
                cycle_id=cycle.id if cycle else None,
                subject=subject,
                subject_id=str(subject_id),
                actor=self.user.name,
                action=action,
                from_state=from_state,
                to_state=to_state,
                reason=reason,
                data=data,
            )
        )


class ActionContext(UserContext):
    """A cycle's action context (Engine._acting): the transaction, the acting user, the instant,
    the cycle (read, and so locked, first) and its program (looked up when first asked: reading
    the cycle's history needs no program file)."""

    def __init__(self, tx: StoreTx, user: User, now: datetime, cycle: Cycle, programs: ProgramRegistry) -> None:
        super().__init__(tx, user, now)
        self.cycle = cycle
        self._programs = programs

    @functools.cached_property
    def program(self) -> Program:
        # (kept on the instance once asked: a batch reads it per project at the price of an attribute)
        return self._programs.get(self.cycle.program_id)

    @functools.cached_property
    def audit_heads(self) -> tuple[tuple[str, str], ...]:
        """Every audit chain's newest hash as the transaction first read them, in chain order: the
        key a read-only action keeps its counts under (Reads._kept), read once per action."""
        return tuple(sorted(self.tx.audit_heads().items()))

    def log(
        self,
        subject: str,
        subject_id: Any,
        action: str,
        from_state: str | None = None,
        to_state: str | None = None,
        reason: str = "",
        **data: Any,
    ) -> None:
        """Seal the audit entry of a change to this cycle or something of it."""
        self.audit(self.cycle, subject, subject_id, action, from_state, to_state, reason, **data)


if TYPE_CHECKING:

    class _EngineParts(Protocol):
        """What the engine's action mixins use of the engine they are mixed into, beside
        EngineCore's own: its store, clock, context, lookups, checks and the door. For the type
        checker only."""

        store: Store
        programs: ProgramRegistry

        def now(self) -> datetime: ...
        def _acting(
            self,
            acting: str | None,
            cycle_id: str | None = None,
            *,
            write: bool = True,
            locate: Callable[[StoreTx], str | None] | None = None,
        ) -> AbstractContextManager[ActionContext]: ...
        def _as_user(self, acting: str | None, write: bool = True) -> AbstractContextManager[UserContext]: ...
        def _user(self, tx: StoreTx, name: str | None) -> User: ...
        def _cycle(self, tx: StoreTx, cycle_id: str | None) -> Cycle: ...
        def _project(self, tx: StoreTx, project_id: int) -> Project: ...
        def program_of(self, cycle: Cycle) -> Program: ...
        def _permit(self, act: ActionContext, action: str, city: str | None, subject: Any) -> None: ...
        def window(self, program: Program, cycle: Cycle, stage_id: str) -> Window | None: ...
        def visible(self, user: User, project: Project, cycle: Cycle, program: Program) -> bool: ...
        def _refuse(
            self, verb: Any, subject: Any, rejections: Sequence[Rejection], state: Any = None
        ) -> RuleRefused: ...
        def _move(
            self,
            act: ActionContext,
            project: Project,
            trigger: str,
            request: Mapping[str, Any],
            reason: str = "",
            **data: Any,
        ) -> None: ...
        def _list_to(
            self,
            act: ActionContext,
            lst: ListVersion,
            status: ListStatus,
            reason: str = "",
            action: str | None = None,
            **data: Any,
        ) -> None: ...
        def _sign_checkpoint(self, tx: StoreTx, why: str, now: datetime) -> Any: ...
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
        ) -> None: ...

else:
    _EngineParts = object


class EngineCore(_EngineParts):
    """What the engine shares with its action mixins (appeals, the audit trail, accounts): the
    audit entry of an action without a context. The rest they use as the engine has it
    (_EngineParts)."""

    def _transaction(self, write: bool = True) -> AbstractContextManager[StoreTx]:
        """One transaction of the engine's store, typed as the port (see Store)."""
        return self.store.transaction(write)

    def _audit(
        self,
        tx: StoreTx,
        now: datetime,
        cycle: Cycle | None,
        subject: str,
        subject_id: Any,
        actor: str,
        action: str,
        from_state: str | None = None,
        to_state: str | None = None,
        reason: str = "",
        **data: Any,
    ) -> None:
        tx.audit(
            AuditEntry(
                at=now,
                cycle_id=cycle.id if cycle else None,
                subject=subject,
                subject_id=str(subject_id),
                actor=actor,
                action=action,
                from_state=from_state,
                to_state=to_state,
                reason=reason,
                data=data,
            )
        )


@dataclass
class Verdict:
    """What the guards decided: the rejections that stand, and those the lead's overrides lifted
    (as notes for the audit row of the action that went through thanks to them)."""

    refused: list[Rejection]
    lifted: list[str] = field(default_factory=list)


def overrides_of(cycle: Cycle) -> Sequence[Override]:
    """The cycle's overrides (its settings are parsed once: a batch asks for them per project)."""
    return cycle.config.overrides


def reopened_allows(program: Program, cycle: Cycle, stage_id: str, reopened: str | None) -> bool:
    """Whether a subject reopened to ``reopened`` may act in ``stage_id``: from the reopened stage
    up to the cycle's current one, whatever their windows."""
    if reopened is None:
        return False
    return program.stage_index(reopened) <= program.stage_index(stage_id) <= program.stage_index(cycle.stage)


def appeal_decided_by_city(program: Program, stage_id: str) -> bool:
    rules = program.appeals
    perm = rules.decided_by.get(stage_id) if rules else None
    return perm is not None and perm.own_city


def verb_of(program: Program, trigger: str) -> Text | str:
    """An action as a refusal names it: its id in English (what scripts read), its declared label
    in Chinese."""
    action = program.actions.get(trigger)
    return Text(trigger, action.zh) if action is not None else trigger


def state_of(program: Program, state: str) -> Text:
    """A state as a message names it: its id in English, its name in the program's Chinese."""
    return Text(state, program.state_name(state))


def party_of(program: Program, party_id: str) -> Text:
    """A city of ``program`` as a message names it: its id in English, its name in Chinese."""
    return party_words(program.parties, party_id)


# a user's role as a reader of Chinese reads it (its id in English)
_ROLE_ZH = {"lead": "牵头单位", "city-admin": "城市管理员", "scorer": "评分人", "applicant": "申报单位"}


def role_of(role: str) -> Text:
    """A user's role as a message names it."""
    return Text(role, _ROLE_ZH.get(role, role))


# a list version's status as a reader of Chinese reads it (its id in English)
_LIST_STATUS_ZH = {
    "proposed": "已提出",
    "objected": "有异议",
    "confirmed": "已确认",
    "published": "已公布",
    "superseded": "已被新版本取代",
    "corrected": "已被更正版本取代",
}


def list_status_of(status: str) -> Text:
    """A list version's status as a message names it."""
    return Text(str(status), _LIST_STATUS_ZH.get(str(status), str(status)))


def english(value: Any) -> Any:
    """A piece of a message as the log keeps it: in English, whatever the reader's language."""
    if isinstance(value, Msg | Text):
        return value.render("en")
    return value


def actor_of(user: User) -> Actor:
    return Actor(user.name, user.role, user.city)


def batch_work(method: F) -> F:
    """Run ``method`` (an action over a whole batch) with Python's cyclic garbage collector
    paused: a batch allocates many records, none in cycles, and collections triggered by them
    rescan every live object, so their cost would grow with the size of the cycle. Collection
    resumes when the batch ends, however it ends."""

    @functools.wraps(method)
    def paused(*args: Any, **kwargs: Any) -> Any:
        was = gc.isenabled()
        gc.disable()
        try:
            return method(*args, **kwargs)
        finally:
            if was:
                gc.enable()

    return paused  # type: ignore[return-value]


# what Engine.fire takes for itself (its arguments, and the version check): an action's
# parameter cannot be called so; each has its own option where it can be given
FIRE_ARGUMENTS = frozenset({"self", "acting", "project_ids", "trigger", "reason", "expected_version"})


def taken_names(params: Iterable[str], taken: Iterable[str] = FIRE_ARGUMENTS) -> list[str]:
    """The parameter names among ``params`` that are the call's own (sorted; empty: none)."""
    return sorted(set(params) & set(taken))
