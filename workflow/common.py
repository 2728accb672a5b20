"""Small pieces the engine and its appeal actions share."""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from policies.appeals import Override
from policies.base import Rejection
from policies.permissions import Actor
from workflow.ports import StoreTx
from workflow.program import Program
from workflow.records import AuditEntry, Cycle, User

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from policies.windows import Window
    from workflow.errors import RuleRefused
    from workflow.records import Project

F = TypeVar("F", bound=Callable[..., Any])
LIVE_LISTS = ("proposed", "confirmed")


class Store(Protocol):
    """The store as workflow/engine.py holds it: the port of workflow/ports.py, its transactions
    not yet typed, until engine.py's own calls are (then it is ports.Store). The action mixins
    open theirs typed as the port, with EngineCore._transaction."""

    def transaction(self, write: bool = True) -> AbstractContextManager[Any]: ...


if TYPE_CHECKING:

    class _EngineParts(Protocol):
        """What the engine's action mixins use of the engine they are mixed into, beside
        EngineCore's own: its store, clock, lookups, checks and moves. For the type checker only."""

        store: Store

        def now(self) -> datetime: ...
        def _user(self, tx: StoreTx, name: str | None) -> User: ...
        def _cycle(self, tx: StoreTx, cycle_id: str | None) -> Cycle: ...
        def _project(self, tx: StoreTx, project_id: int) -> Project: ...
        def program_of(self, cycle: Cycle) -> Program: ...
        def _permit(self, program: Program, action: str, user: User, city: str | None, subject: str) -> None: ...
        def window(self, program: Program, cycle: Cycle, stage_id: str) -> Window | None: ...
        def visible(self, user: User, project: Project, cycle: Cycle, program: Program) -> bool: ...
        def _refuse(
            self, verb: str, subject: str, rejections: Sequence[Rejection], state: str | None = None
        ) -> RuleRefused: ...
        def _move(
            self,
            tx: StoreTx,
            program: Program,
            cycle: Cycle,
            user: User,
            project: Project,
            trigger: str,
            request: Mapping[str, Any],
            now: datetime,
            reason: str = "",
            **data: Any,
        ) -> None: ...

else:
    _EngineParts = object


class EngineCore(_EngineParts):
    """What the engine shares with its action mixins (appeals, the audit trail, accounts): the
    audit entry an action writes. The rest they use as the engine has it (_EngineParts)."""

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


def overrides_of(cycle: Cycle) -> list[Override]:
    """The cycle's overrides (parsed once per settings: a batch asks for them per project)."""
    raw = cycle.settings.get("overrides", ())
    cached = getattr(cycle, "_overrides", None)
    if cached is None or cached[0] is not raw:
        cached = (raw, [Override.from_data(o) for o in raw])
        cycle._overrides = cached  # type: ignore[attr-defined]
    return cached[1]


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


def typed_value(text: str) -> Any:
    """A parameter as typed: true/false, a whole number, or text."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if text.lstrip("-").isdigit():
        return int(text)
    return text


# what Engine.fire takes for itself (its arguments, and the version check): an action's
# parameter cannot be called so; each has its own option where it can be given
FIRE_ARGUMENTS = frozenset({"self", "acting", "project_ids", "trigger", "reason", "expected_version"})


def taken_names(params: Iterable[str], taken: Iterable[str] = FIRE_ARGUMENTS) -> list[str]:
    """The parameter names among ``params`` that are the call's own (sorted; empty: none)."""
    return sorted(set(params) & set(taken))
