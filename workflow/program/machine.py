"""A program's one `transitions` machine: built from its transitions, shared by every project
(never ``add_model``: a machine per project is the known slow path), fired on plain objects."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from typing import Any

from transitions import Machine, MachineError

from stages import TransitionSpec

_UNSEEN: Any = object()
# the request values a batch's memo of the machine's answers is keyed by (see fire): for these,
# values equal as keys are equal to exactly the same ``when`` values
_PLAIN_VALUES = frozenset({str, int, float, bool, type(None)})


class _Probe:
    """A stand-in model: the machine's answer for one source state."""

    def __init__(self, state: str):
        self.state = state


class ProgramMachine:
    """The machine of one program's states and transitions, and the questions asked of it."""

    def __init__(self, states: Iterable[str], specs: Iterable[TransitionSpec], initial: str):
        self.states = tuple(states)
        self.specs = tuple(specs)
        self.initial = initial

    @cached_property
    def machine(self) -> Machine:
        """The `transitions` machine itself, without a model; a ``when`` becomes a condition."""
        table = []
        for spec in self.specs:
            entry = spec.as_dict()
            if spec.when:
                entry["conditions"] = [_matches(spec.when)]
            table.append(entry)
        return Machine(
            model=None,
            states=list(self.states),
            transitions=table,
            initial=self.initial,
            auto_transitions=False,
            send_event=False,
        )

    @cached_property
    def when_keys(self) -> dict[str, tuple[str, ...]]:
        """Per trigger, the request keys its edges' ``when`` conditions read (empty: a plain
        trigger, whose destination depends only on the state it is fired from). The machine has
        no other callbacks, so where a trigger leads depends only on the state and these values."""
        keys: dict[str, dict[str, None]] = {}
        for spec in self.specs:
            seen = keys.setdefault(spec.trigger, {})
            for key in spec.when:
                seen.setdefault(key, None)
        return {trigger: tuple(seen) for trigger, seen in keys.items()}

    def _memo_key(self, state: str, trigger: str, request: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """What the machine's answer for ``trigger`` depends on: the state, and the values of the
        request keys its conditions read. None when a value is not of a plain type (text, number,
        bool, None), whose equality is not known to agree with the conditions' ``==``."""
        keys = self.when_keys.get(trigger)
        if not keys:
            return (trigger, state)
        values = tuple([request.get(key) for key in keys])
        for value in values:
            if type(value) not in _PLAIN_VALUES:
                return None
        return (trigger, state, values)

    def fire(
        self, model: Any, trigger: str, request: Mapping[str, Any], memo: dict[Any, str | None] | None = None
    ) -> bool:
        """Fire ``trigger`` on a plain model object (it has a ``state`` attribute).

        Returns False when the trigger is not allowed from the model's state (or no edge
        matches the request); the caller turns that into a refusal with a message. ``memo``
        (one per batch): the machine decides once per source state and values of the request
        keys the trigger's conditions read (see :attr:`when_keys`), and the other models of the
        batch with the same follow its answer.
        """
        if memo is not None:
            key = self._memo_key(model.state, trigger, request)
            if key is not None:
                dest = memo.get(key, _UNSEEN)
                if dest is _UNSEEN:
                    dest = memo[key] = self.leads_to(model.state, trigger, request)
                if dest is None:
                    return False
                model.state = dest
                return True
        event = self.machine.events.get(trigger)
        if event is None:
            return False
        try:
            return bool(event.trigger(model, **dict(request)))
        except MachineError:
            return False

    def leads_to(
        self, state: str, trigger: str, request: Mapping[str, Any], memo: dict[Any, str | None] | None = None
    ) -> str | None:
        """Where the machine takes a project in ``state`` on ``trigger`` with ``request`` (None:
        not allowed), asked without touching any project; ``memo`` as for :meth:`fire`."""
        probe = _Probe(state)
        return probe.state if self.fire(probe, trigger, request, memo) else None


def _matches(when: Mapping[str, Any]) -> Callable[..., bool]:
    """A machine condition: the request has each of ``when``'s values."""

    def condition(**request: Any) -> bool:
        return all(request.get(k) == v for k, v in when.items())

    condition.__name__ = "when_" + "_".join(f"{k}_{v}" for k, v in when.items())
    return condition
