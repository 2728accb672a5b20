"""Stage kinds as data: the states a stage adds, its triggers, and where they lead.

A program file lists its stages by kind; the engine builds one `transitions` machine for the
program from the kinds' tables (the dict-table style of the transitions README, typed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TransitionSpec:
    """One edge of the project machine. ``when`` selects the edge by request parameters
    (e.g. ``{"result": "demonstration"}``); ``dest=None`` is an internal transition (the action
    is recorded but the state does not change, e.g. a score sheet)."""

    trigger: str
    source: tuple[str, ...]
    dest: str | None
    when: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"trigger": self.trigger, "source": list(self.source), "dest": self.dest}


@dataclass(frozen=True)
class StageKind:
    """What a kind of stage is: the project states it adds, the project triggers it allows,
    and the cycle-level actions (on the list, say) that belong to it."""

    id: str
    description: str
    states: tuple[str, ...] = ()
    transitions: tuple[TransitionSpec, ...] = ()
    cycle_actions: tuple[str, ...] = ()
    # project triggers that create a project (no source state)
    creates: tuple[str, ...] = ()
    # the state a project waits in when an upheld appeal reopens it to this stage (None: a
    # project cannot be reopened into it)
    reopen_state: str | None = None
    # the states that are results a party decided in this stage, and so may be appealed
    appealable: tuple[str, ...] = ()
    # a project's place on this stage's list is a result that may be appealed
    decides_list: bool = False
    # closing this stage confirms a list still proposed: every party had until the close to object
    confirms_list_on_close: bool = False
    # the state this stage's award leads a placed project to: it holds the list category of the
    # state it was awarded from (found in the audit), so a corrected publication leaves it there
    award_state: str | None = None
    # every project waiting in ``reopen_state`` must be decided (accepted, reviewed…) before the
    # stage can close; a reopened project waiting there holds up the next list
    must_decide: bool = False
    # the trigger of this stage that records a score sheet (a party's scores, a member's vote)
    sheet_trigger: str | None = None
    # whose sheet replaces whose: one current sheet per project and "party" (a city scores), or
    # per project and "scorer" (each committee member votes)
    sheets_per: str = "party"
    # the trigger of this stage that gives a project its review result (request "result", with an
    # optional "method"), counted against the program's quotas
    result_trigger: str | None = None
    # how the history tells each of this kind's triggers: trigger -> (entry, its data, the program's
    # names: workflow.story.Names) -> a message of the catalog
    story: dict[str, Any] = field(default_factory=dict)
    # triggers that order something by a deadline (request "deadline"): a project they lead to
    # is reminded of its deadline
    deadline_triggers: tuple[str, ...] = ()
    # triggers that add an entry (who, when, and the request: a deadline, a grade, a note) to a
    # list of the project's record, by trigger: the key of that list
    records: dict[str, str] = field(default_factory=dict)

    @property
    def triggers(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for t in self.transitions:
            seen.setdefault(t.trigger, None)
        for c in self.creates:
            seen.setdefault(c, None)
        return tuple(seen)


KINDS: dict[str, StageKind] = {}


def stage_kind(kind: StageKind) -> StageKind:
    if kind.id in KINDS:
        raise ValueError(f"stage kind {kind.id!r} defined twice")
    KINDS[kind.id] = kind
    return kind
