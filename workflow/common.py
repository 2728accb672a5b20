"""Small pieces the engine and its appeal actions share."""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from policies.appeals import Override
from policies.base import Rejection
from policies.permissions import Actor
from workflow.program import Program
from workflow.records import Cycle, User

F = TypeVar("F", bound=Callable[..., Any])
LIVE_LISTS = ("proposed", "confirmed")


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
