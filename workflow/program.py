"""Programs are data: load a program file, validate all of it at once, build its one machine.

A program file (TOML) names its parties, windows, stages (by kind), guards, permissions,
quotas and score sheet. :func:`load_program` reports every problem it finds in one error.
"""

from __future__ import annotations

import calendar
import hashlib
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from transitions import Machine, MachineError

from policies import REGISTRY
from policies.base import Band, Criterion, Party
from policies.permissions import Permission
from policies.windows import Window
from stages import KINDS, StageKind, TransitionSpec
from workflow.errors import NotFound, ProgramInvalid
from workflow.form import Form, build_form

ROLES = ("lead", "city-admin", "scorer", "applicant")
INITIAL_STATE = "new"
# Cycle-level actions that are not stage specific.
CYCLE_WIDE_ACTIONS = ("advance",)


DEFAULT_REMINDERS = ("7d", "1d", "0d")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_offset(text: Any) -> timedelta:
    """'7d', '12h', '30m' or '0d': how long before a window closes a reminder is due."""
    if not isinstance(text, str) or len(text) < 2 or text[-1] not in _UNITS or not text[:-1].isdigit():
        raise ValueError(f"{text!r} is not a duration like '7d', '12h' or '30m'")
    return timedelta(**{_UNITS[text[-1]]: int(text[:-1])})


def describe_offset(offset: timedelta) -> str:
    if not offset:
        return "0d"
    if offset % timedelta(days=1) == timedelta(0):
        return f"{offset // timedelta(days=1)}d"
    if offset % timedelta(hours=1) == timedelta(0):
        return f"{offset // timedelta(hours=1)}h"
    return f"{offset // timedelta(minutes=1)}m"


@dataclass(frozen=True)
class MonthDay:
    month: int
    day: int

    @classmethod
    def parse(cls, text: Any) -> MonthDay:
        if not isinstance(text, str) or len(text.split("-")) != 2:
            raise ValueError(f"{text!r} is not a month-day like '03-01'")
        month, day = (int(x) for x in text.split("-"))
        if not 1 <= month <= 12 or not 1 <= day <= 31:
            raise ValueError(f"{text!r} is not a valid month-day")
        return cls(month, day)

    def in_year(self, year: int) -> date:
        """The date in ``year``; a day past the month's end means its last day (02-29 → 02-28)."""
        last = calendar.monthrange(year, self.month)[1]
        return date(year, self.month, min(self.day, last))

    def key(self) -> tuple[int, int]:
        return (self.month, self.day)


@dataclass(frozen=True)
class WindowSpec:
    id: str
    start: MonthDay
    end: MonthDay

    def for_year(self, year: int, zone: str) -> Window:
        tz = ZoneInfo(zone)
        opens = datetime.combine(self.start.in_year(year), datetime.min.time(), tz)
        closes = datetime.combine(self.end.in_year(year) + timedelta(days=1), datetime.min.time(), tz)
        return Window(opens.astimezone(UTC), closes.astimezone(UTC), zone)


@dataclass(frozen=True)
class Stage:
    id: str
    name: str
    kind: StageKind
    window: WindowSpec | None
    close_when: tuple[str, ...]
    # reminders before the window closes (0 = at the close); empty for stages without a window
    reminders: tuple[timedelta, ...] = ()


@dataclass(frozen=True)
class AppealRules:
    """When a stage's results may be appealed and who decides: the program's ``[appeals]``."""

    # appeals are accepted while the cycle runs and until this long after the list is published
    after_publication: timedelta
    # per stage: who decides an appeal against a result made in that stage
    decided_by: Mapping[str, Permission]
    # per stage (optional): appeals against its results close this long after its window closes
    within: Mapping[str, timedelta]


@dataclass(frozen=True)
class ListCategory:
    id: str
    name: str
    places: int


@dataclass(frozen=True)
class StatusColumn:
    """One column of ``cycle status`` (a row per party). ``kind``: count (projects in
    ``states``; "*" every state but new), result (projects holding a review result, with its
    quota), minimum (a count against a policy's minimum), sheets (sheets entered, against those
    needed), confirmed (the party confirmed the list), funding (support by results)."""

    id: str
    zh: str
    kind: str = "count"
    states: tuple[str, ...] = ()
    result: str | None = None
    policy: str | None = None
    show: bool = True


REOPEN = "reopen"  # the engine's own trigger: an upheld appeal moves a project back
_UNSEEN: Any = object()
# the request values a batch's memo of the machine's answers is keyed by (see Program.fire): for
# these, values equal as keys are equal to exactly the same ``when`` values
_PLAIN_VALUES = frozenset({str, int, float, bool, type(None)})


class _Probe:
    """A stand-in model: the machine's answer for one source state."""

    def __init__(self, state: str):
        self.state = state


@dataclass(frozen=True)
class Program:
    """A loaded, validated program. Immutable; one per program file version."""

    id: str
    cycle_prefix: str
    version: int
    digest: str
    name: str
    name_en: str
    timezone: str
    lead: str
    parties: tuple[Party, ...]
    stages: tuple[Stage, ...]
    guards: Mapping[str, tuple[str, ...]]
    permissions: Mapping[str, Permission]
    policy_params: Mapping[str, Mapping[str, Any]]
    quotas: Mapping[str, Mapping[str, int]]
    funding: Mapping[str, Mapping[str, int]]
    results: Mapping[str, str]
    review_methods: Mapping[str, str]
    list_settings: Mapping[str, Any]
    criteria: tuple[Criterion, ...]
    path: Path | None = None
    appeals: AppealRules | None = None
    # rules the lead may override with a reason (the program's ``[overrides] rules``)
    overridable: tuple[str, ...] = ()
    # the application form (the program's ``[form]``)
    form: Form | None = None
    # the list's categories, best first: (id, name, default places)
    categories: tuple[ListCategory, ...] = ()
    # reminders before a deadline a project was given, and before each periodic round opens
    deadline_reminders: tuple[timedelta, ...] = ()
    round_reminders: tuple[timedelta, ...] = ()
    # the columns of ``cycle status`` (the program's ``[[status.columns]]``)
    status_columns: tuple[StatusColumn, ...] = ()
    # states' Chinese names (the program's ``[state_names]``)
    state_names: Mapping[str, str] = field(default_factory=dict)
    # per value of a form field (a project type), the review content shown to its reviewers
    review_criteria_field: str | None = None
    review_criteria: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # code the file names as module:function, imported only when asked for (workflow.program_code):
    # ``run``, its demo; ``example``, its template's example application (the program's ``[demo]``)
    demo: Mapping[str, str] = field(default_factory=dict)

    def category_name(self, category: str, lang: str = "zh") -> str:
        """A category's name for readers (its id in English; "none": not listed)."""
        found = next((c for c in self.categories if c.id == category), None)
        return found.name if found and lang == "zh" else category

    # -- lookups ---------------------------------------------------------------------------
    def party(self, party_id: str) -> Party:
        for p in self.parties:
            if p.id == party_id:
                return p
        raise NotFound("city", party_id, f"the program's cities are {', '.join(self.party_ids)}")

    @property
    def party_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.parties)

    def stage(self, stage_id: str) -> Stage:
        for s in self.stages:
            if s.id == stage_id:
                return s
        raise NotFound("stage", stage_id)

    def stage_index(self, stage_id: str) -> int:
        return [s.id for s in self.stages].index(stage_id)

    def next_stage(self, stage_id: str) -> Stage | None:
        i = self.stage_index(stage_id)
        return self.stages[i + 1] if i + 1 < len(self.stages) else None

    @cached_property
    def stage_of_action(self) -> dict[str, str]:
        """Which stage each project trigger or cycle action belongs to."""
        out: dict[str, str] = {}
        for s in self.stages:
            for trigger in (*s.kind.triggers, *s.kind.cycle_actions):
                out.setdefault(trigger, s.id)
        return out

    def year_at(self, instant: datetime) -> int:
        """The year ``instant`` falls in where the program runs (in its time zone)."""
        return instant.astimezone(ZoneInfo(self.timezone)).year

    def window(self, stage_id: str, year: int) -> Window | None:
        """The stage's window in ``year`` (worked out once: a batch asks for it per project)."""
        windows = self._windows
        key = (stage_id, year)
        if key not in windows:
            spec = self.stage(stage_id).window
            windows[key] = spec.for_year(year, self.timezone) if spec else None
        return windows[key]

    # What is worked out once for this program, kept with it (not in a table of the module keyed by
    # the program's id(): a program loaded again, or another one, can take the id of one gone)
    @cached_property
    def _windows(self) -> dict[tuple[str, int], Window | None]:
        return {}

    def cycle_quotas(
        self, cycle_id: str, settings: Mapping[str, Mapping[str, int]] | None
    ) -> dict[str, dict[str, int]]:
        """A cycle's effective quotas: the program's, with the cycle's own ``settings`` over them;
        worked out once per cycle and settings (a batch asks per project)."""
        known = self._cycle_quotas.get(cycle_id)
        if known is None or known[0] != settings:
            known = self._cycle_quotas[cycle_id] = (settings, effective_quotas(self.quotas, settings))
        return known[1]

    @cached_property
    def _cycle_quotas(self) -> dict[str, tuple[Any, dict[str, dict[str, int]]]]:
        return {}

    @cached_property
    def states(self) -> tuple[str, ...]:
        seen: dict[str, None] = {INITIAL_STATE: None}
        for s in self.stages:
            for st in s.kind.states:
                seen.setdefault(st, None)
        return tuple(seen)

    @cached_property
    def transition_specs(self) -> tuple[TransitionSpec, ...]:
        specs: list[TransitionSpec] = []
        for s in self.stages:
            for c in s.kind.creates:
                specs.append(TransitionSpec(c, (INITIAL_STATE,), s.kind.states[0]))
            specs.extend(s.kind.transitions)
        # an upheld appeal reopens a project to a stage: from any state to the stage's waiting state
        after_new = tuple(st for st in self.states if st != INITIAL_STATE)
        for s in self.reopenable:
            specs.append(TransitionSpec(REOPEN, after_new, self.reopen_state(s), {"to": s.id}))
        return tuple(specs)

    @cached_property
    def sheet_trigger(self) -> str | None:
        """The trigger that records score sheets (a party's ``score``, a committee member's ``vote``), if any."""
        return next((s.kind.sheet_trigger for s in self.stages if s.kind.sheet_trigger), None)

    @cached_property
    def story(self) -> dict[str, Any]:
        """How the history tells each trigger of the program's stage kinds."""
        out: dict[str, Any] = {}
        for s in self.stages:
            out.update(s.kind.story)
        return out

    @cached_property
    def deadline_triggers(self) -> tuple[str, ...]:
        return tuple(t for s in self.stages for t in s.kind.deadline_triggers)

    @cached_property
    def deadline_record(self) -> str | None:
        """The list of a project's record its orders with a deadline go to (None: no such order)."""
        return next((self.record_keys[t] for t in self.deadline_triggers if t in self.record_keys), None)

    @cached_property
    def deadline_states(self) -> tuple[str, ...]:
        """The states a project waits in under an order with a deadline (a rectification)."""
        found = {spec.dest for spec in self.transition_specs if spec.trigger in self.deadline_triggers and spec.dest}
        return tuple(sorted(found))

    @cached_property
    def round_triggers(self) -> tuple[str, ...]:
        """Triggers held to months of the year (``in_months``): periodic rounds."""
        return tuple(t for t, names in self.guards.items() if "in_months" in names)

    @property
    def round_months(self) -> tuple[int, ...]:
        return (
            tuple(int(m) for m in self.policy_params.get("in_months", {}).get("months", ()))
            if self.round_triggers
            else ()
        )

    @property
    def notice_days(self) -> int | None:
        """The days of public notice after publication, when an action waits for its end."""
        if not any("notice_over" in names for names in self.guards.values()):
            return None
        return int(self.policy_params.get("notice_over", {}).get("days", 3))

    @cached_property
    def result_trigger(self) -> str | None:
        """The trigger that gives a project its review result, if the program has one."""
        return next((s.kind.result_trigger for s in self.stages if s.kind.result_trigger), None)

    @cached_property
    def record_keys(self) -> dict[str, str]:
        """Trigger → the list of the project's record it adds an entry to."""
        out: dict[str, str] = {}
        for s in self.stages:
            out.update(s.kind.records)
        return out

    @cached_property
    def sheets_per(self) -> str:
        return next((s.kind.sheets_per for s in self.stages if s.kind.sheet_trigger), "party")

    @cached_property
    def placed_states(self) -> tuple[str, ...]:
        """The states publication gives (``place`` leads there) and what follows them (an award)."""
        return next((s.kind.states for s in self.stages if "publish" in s.kind.cycle_actions), ())

    @cached_property
    def listable_states(self) -> tuple[str, ...]:
        """The states of the projects a list ranks before publication (a key library): where
        ``place`` takes them from, read from the stage kinds' own transitions (the reopening
        edges of the machine are made from it, see reopen_state)."""
        placed = set(self.placed_states)
        seen: dict[str, None] = {}
        for s in self.stages:
            for spec in s.kind.transitions:
                if spec.trigger == "place":
                    for state in spec.source:
                        if state not in placed:
                            seen.setdefault(state, None)
        return tuple(seen)

    @property
    def reopenable(self) -> tuple[Stage, ...]:
        """The stages a project can be reopened to (their kind has a waiting state)."""
        return tuple(s for s in self.stages if s.kind.reopen_state)

    def reopen_state(self, stage: Stage) -> str | None:
        """The state an upheld appeal reopens a project to in ``stage``: its kind's waiting state;
        for the stage that decides the list, the state this program's list ranks projects in
        (where ``place`` takes them from: the recommended, or a committee's accepted
        applications), the sheets kept."""
        if stage.kind.decides_list and stage.kind.reopen_state and self.listable_states:
            return self.listable_states[0]
        return stage.kind.reopen_state

    @cached_property
    def project_rules(self) -> frozenset[str]:
        """The policies checked on one project's action (not on a stage or the list as a whole)."""
        project_triggers = {t for s in self.stages for t in s.kind.triggers}
        return frozenset(n for t, names in self.guards.items() if t in project_triggers for n in names)

    @cached_property
    def undecided_states(self) -> tuple[str, ...]:
        """States a reopened project must leave (be decided) before a new list can be proposed."""
        return tuple(self.reopen_state(s) for s in self.reopenable if s.kind.must_decide)  # type: ignore[misc]

    @cached_property
    def stage_of_state(self) -> dict[str, str]:
        """Which stage's kind adds each state."""
        out: dict[str, str] = {}
        for s in self.stages:
            for st in s.kind.states:
                out.setdefault(st, s.id)
        return out

    @cached_property
    def list_stage(self) -> Stage | None:
        """The stage whose list places are results (the confirmation of the proposed list)."""
        return next((s for s in self.stages if s.kind.decides_list), None)

    def result_stage(self, state: str, on_list: bool) -> Stage | None:
        """The stage that made the result a project in ``state`` holds (None: no result to
        appeal). A project on a live list holds its list place, made in the list stage."""
        if on_list and self.list_stage is not None:
            return self.list_stage
        for s in self.stages:
            if state in s.kind.appealable:
                return s
        return None

    @cached_property
    def machine(self) -> Machine:
        """The program's one `transitions` machine, shared by every project (never add_model)."""
        table = []
        for spec in self.transition_specs:
            entry = spec.as_dict()
            if spec.when:
                entry["conditions"] = [_matches(spec.when)]
            table.append(entry)
        return Machine(
            model=None,
            states=list(self.states),
            transitions=table,
            initial=INITIAL_STATE,
            auto_transitions=False,
            send_event=False,
        )

    @cached_property
    def when_keys(self) -> dict[str, tuple[str, ...]]:
        """Per trigger, the request keys its edges' ``when`` conditions read (empty: a plain
        trigger, whose destination depends only on the state it is fired from). The machine has
        no other callbacks, so where a trigger leads depends only on the state and these values."""
        keys: dict[str, dict[str, None]] = {}
        for spec in self.transition_specs:
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

    def sources_of(self, trigger: str) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for spec in self.transition_specs:
            if spec.trigger == trigger:
                for s in spec.source:
                    seen.setdefault(s, None)
        return tuple(seen)

    @cached_property
    def triggers_from(self) -> dict[str, tuple[str, ...]]:
        """Each state's triggers (those with the state among their sources), in program order."""
        out: dict[str, dict[str, None]] = {}
        for spec in self.transition_specs:
            for state in spec.source:
                out.setdefault(state, {}).setdefault(spec.trigger, None)
        return {state: tuple(triggers) for state, triggers in out.items()}

    def mermaid(self) -> str:
        """The project state machine as Mermaid text, guards named on the arrows."""
        lines = ["stateDiagram-v2", f"    [*] --> {INITIAL_STATE}"]
        for spec in self.transition_specs:
            if spec.trigger == REOPEN:
                continue  # from every state: drawn once as notes below
            guards = list(self.guards.get(spec.trigger, ()))
            label = spec.trigger
            if spec.when:
                label += " " + ",".join(f"{k}={v}" for k, v in spec.when.items())
            if guards:
                label += " [" + ", ".join(guards) + "]"
            for src in spec.source:
                dest = spec.dest or src
                lines.append(f"    {src} --> {dest}: {label}")
        for s in self.stages:
            lines.append(
                f"    note right of {INITIAL_STATE}: stage {s.id} ({s.name}) closes when "
                + (", ".join(s.close_when) or "—")
            )
        for s in self.reopenable:
            lines.append(
                f"    note left of {self.reopen_state(s)}: an upheld appeal may reopen a project here ({s.id})"
            )
        return "\n".join(lines) + "\n"

    def dot(self) -> str:
        """The project state machine as Graphviz DOT, guards named on the arrows; the states are
        grouped by the stage that adds them."""
        q = _dot_quote
        lines = [
            f"digraph {q(self.id)} {{",
            "  rankdir=LR;",
            '  node [shape=box, style=rounded, fontname="sans-serif"];',
        ]
        lines.append(f"  {q('start')} [shape=point];")
        lines.append(f"  {q('start')} -> {q(INITIAL_STATE)};")
        for i, s in enumerate(self.stages):
            if not s.kind.states:
                continue
            lines.append(f"  subgraph {q('cluster_' + s.id)} {{")
            lines.append(f"    label={q(f'{i + 1}. {s.name} ({s.id})')};")
            for st in s.kind.states:
                if self.stage_of_state.get(st) == s.id:
                    lines.append(f"    {q(st)};")
            lines.append("  }")
        for spec in self.transition_specs:
            if spec.trigger == REOPEN:
                continue
            label = spec.trigger
            if spec.when:
                label += " " + ",".join(f"{k}={v}" for k, v in spec.when.items())
            guards = list(self.guards.get(spec.trigger, ()))
            if guards:
                label += "\n[" + ", ".join(guards) + "]"
            for src in spec.source:
                lines.append(f"  {q(src)} -> {q(spec.dest or src)} [label={q(label)}];")
        for s in self.reopenable:
            state = self.reopen_state(s)
            assert state is not None  # (a reopenable stage's kind has a waiting state)
            lines.append(f"  {q('appeal')} -> {q(state)} [style=dashed, label={q('reopen to ' + s.id)}];")
        if self.reopenable:
            lines.append(f"  {q('appeal')} [shape=note, label={q('an upheld appeal (from any state)')}];")
        lines.append("}")
        return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    """A DOT string: backslashes and quotes escaped, a newline as DOT's line break."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def effective_quotas(
    base: Mapping[str, Mapping[str, int]], overrides: Mapping[str, Mapping[str, int]] | None
) -> dict[str, dict[str, int]]:
    merged = {city: dict(q) for city, q in base.items()}
    for city, q in (overrides or {}).items():
        merged.setdefault(city, {}).update(q)
    return merged


def _matches(when: Mapping[str, Any]):
    def condition(**request: Any) -> bool:
        return all(request.get(k) == v for k, v in when.items())

    condition.__name__ = "when_" + "_".join(f"{k}_{v}" for k, v in when.items())
    return condition


# -- loading ---------------------------------------------------------------------------------


def default_program_dirs() -> list[Path]:
    dirs = [Path(p) for p in os.environ.get("EVALFLOW_PROGRAMS", "").split(os.pathsep) if p]
    dirs.append(Path(__file__).resolve().parent.parent / "programs")
    return dirs


def load_program(path: Path) -> Program:
    """Read and validate one program file; raise :class:`ProgramInvalid` listing every problem."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ProgramInvalid(f"program file {path}", [f"cannot be read: {exc.strerror}"]) from None
    try:
        data = tomllib.loads(text.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProgramInvalid(f"program file {path}", [f"not valid TOML: {exc}"]) from None
    return build_program(data, digest=hashlib.sha256(text).hexdigest()[:16], path=path)


# The expected TOML shape: section -> (type of the section, type of each entry or None)
_SHAPE: dict[str, tuple[type, type | None]] = {
    "program": (dict, None),
    "parties": (list, dict),
    "windows": (dict, dict),
    "stages": (list, dict),
    "guards": (dict, list),
    "permissions": (dict, dict),
    "policies": (dict, dict),
    "quotas": (dict, dict),
    "funding": (dict, dict),
    "results": (dict, str),
    "review_methods": (dict, str),
    "list": (dict, None),
    "score_sheet": (list, dict),
    "reminders": (dict, None),
    "appeals": (dict, None),
    "overrides": (dict, None),
    "form": (dict, None),
    "state_names": (dict, str),
    "status": (dict, None),
    "review_criteria": (dict, None),
    "demo": (dict, str),
}
_HEAD_TYPES: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "cycle_prefix": str,
    "version": int,
    "name": str,
    "name_en": str,
    "timezone": str,
    "lead": str,
}


def shape_problems(data: Mapping[str, Any]) -> list[str]:
    """Every value of the wrong TOML type, so that a typo is a reported problem, never a crash."""
    problems: list[str] = []
    kinds = {dict: "a table", list: "a list", str: "text", int: "a whole number"}
    for section, (outer, inner) in _SHAPE.items():
        value = data.get(section)
        if value is None:
            continue
        if not isinstance(value, outer):
            problems.append(f"[{section}] must be {kinds[outer]}, not {type(value).__name__}")
            continue
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, item in items:
            if inner is not None and not isinstance(item, inner):
                problems.append(f"{section}[{key!r}] must be {kinds[inner]}, not {item!r}")
    head = data.get("program")
    if isinstance(head, dict):
        for key, expected in _HEAD_TYPES.items():
            if key in head and (not isinstance(head[key], expected) or isinstance(head[key], bool)):
                problems.append(f"[program] {key} = {head[key]!r} must be {kinds[expected]}")  # type: ignore[index]
    demo = data.get("demo")
    for key, ref in demo.items() if isinstance(demo, dict) else ():
        module, colon, name = str(ref).partition(":")
        if key not in ("run", "example"):
            problems.append(f"[demo] {key}: unknown (known: example, run)")
        elif isinstance(ref, str) and not (colon and all(w.isidentifier() for w in (*module.split("."), name))):
            problems.append(f"[demo] {key} = {ref!r} must name a function as module:function")
    for i, stage in enumerate(data.get("stages") or []):
        if isinstance(stage, dict) and not isinstance(stage.get("close_when", []), list):
            problems.append(f"stage {stage.get('id', i)!r}: close_when must be a list of policy names")
    for i, crit in enumerate(data.get("score_sheet") or []):
        if not isinstance(crit, dict):
            continue
        if not isinstance(crit.get("max", 0), int):
            problems.append(f"score criterion {crit.get('id', i)!r}: max must be a whole number")
        for band in crit.get("bands") or []:
            if not isinstance(band, dict) or not all(
                isinstance(band.get(k), int) and not isinstance(band.get(k), bool) for k in ("min", "max")
            ):
                problems.append(f"score criterion {crit.get('id', i)!r}: band {band!r} needs whole-number min and max")
    return problems


def build_program(data: Mapping[str, Any], digest: str = "", path: Path | None = None) -> Program:
    where = f"program file {path}" if path else "program"
    shape = shape_problems(data)
    if shape:
        raise ProgramInvalid(where, shape)
    problems: list[str] = []
    head = data.get("program") or {}
    pid: str = head.get("id") or ""
    if not pid:
        problems.append("[program] id is missing")
    zone: str = head.get("timezone") or ""
    if not zone:
        problems.append("[program] timezone is missing (windows need a time zone, e.g. 'Asia/Shanghai')")
    else:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"[program] timezone {zone!r} is not a known time zone")

    parties: list[Party] = []
    for i, p in enumerate(data.get("parties") or []):
        if not p.get("id") or not p.get("name"):
            problems.append(f"parties[{i}] needs an id and a name")
            continue
        if p.get("role") not in ("lead", "city"):
            problems.append(f"party {p['id']!r} has role {p.get('role')!r}; expected 'lead' or 'city'")
        parties.append(Party(p["id"], p["name"], p.get("unit", p["name"]), p.get("role", "city")))
    party_ids = [p.id for p in parties]
    if not parties:
        problems.append("the program has no parties")
    if len(set(party_ids)) != len(party_ids):
        problems.append("party ids repeat: " + ", ".join(sorted({x for x in party_ids if party_ids.count(x) > 1})))
    leads = [p.id for p in parties if p.role == "lead"]
    lead = head.get("lead")
    if len(leads) != 1:
        problems.append(f"exactly one party must have role 'lead' (found {len(leads)})")
    elif lead != leads[0]:
        problems.append(f"[program] lead is {lead!r} but the lead party is {leads[0]!r}")

    windows: dict[str, WindowSpec] = {}
    for wid, w in (data.get("windows") or {}).items():
        try:
            spec = WindowSpec(wid, MonthDay.parse(w.get("start")), MonthDay.parse(w.get("end")))
        except (ValueError, AttributeError) as exc:
            problems.append(f"window {wid!r}: {exc}")
            continue
        if spec.end.key() < spec.start.key():
            problems.append(f"window {wid!r} is inverted: it ends ({w['end']}) before it starts ({w['start']})")
        windows[wid] = spec

    default_reminders = (data.get("reminders") or {}).get("before_close", DEFAULT_REMINDERS)
    event_reminders: dict[str, tuple[timedelta, ...]] = {}
    for key in ("deadlines", "rounds"):
        offsets = (data.get("reminders") or {}).get(key, DEFAULT_REMINDERS)
        try:
            event_reminders[key] = tuple(sorted({parse_offset(o) for o in offsets}, reverse=True))
        except (ValueError, TypeError) as exc:
            problems.append(f"[reminders] {key}: {exc}")
            event_reminders[key] = ()
    stages: list[Stage] = []
    for i, s in enumerate(data.get("stages") or []):
        sid = s.get("id") or f"stages[{i}]"
        kind = KINDS.get(s.get("kind", ""))
        if kind is None:
            problems.append(f"stage {sid!r}: unknown stage kind {s.get('kind')!r} (known: {', '.join(sorted(KINDS))})")
            continue
        window = None
        if s.get("window") is not None:
            window = windows.get(s["window"])
            if window is None:
                problems.append(f"stage {sid!r}: unknown window {s['window']!r}")
        close_when = tuple(s.get("close_when") or ())
        for name in close_when:
            if name not in REGISTRY:
                problems.append(f"stage {sid!r}: unknown closing policy {name!r}")
        offsets = s.get("reminders", default_reminders)
        reminders: tuple[timedelta, ...] = ()
        if window is not None:
            try:
                reminders = tuple(sorted({parse_offset(o) for o in offsets}, reverse=True))
            except (ValueError, TypeError) as exc:
                problems.append(f"stage {sid!r} reminders: {exc}")
        stages.append(Stage(sid, s.get("name", sid), kind, window, close_when, reminders))
    if not stages:
        problems.append("the program has no stages")
    if len({s.id for s in stages}) != len(stages):
        problems.append("stage ids repeat")
    # windows must follow stage order: a later stage may share a window, never open earlier
    dated = [s for s in stages if s.window]
    for a, b in zip(dated, dated[1:], strict=False):
        if a.window is b.window:
            continue
        early, late = a.window, b.window
        assert early is not None and late is not None  # (dated)
        # compare real dates in a common and a leap year: '02-29' opens on 02-28 in a common year
        if any(late.start.in_year(y) <= early.end.in_year(y) for y in (2027, 2028)):
            problems.append(
                f"windows overlap or run backwards: stage {b.id!r} opens {late.start.month:02d}-"
                f"{late.start.day:02d}, before stage {a.id!r} closes "
                f"{early.end.month:02d}-{early.end.day:02d}"
            )

    guards = {t: tuple(names) for t, names in (data.get("guards") or {}).items()}
    all_actions: set[str] = set(CYCLE_WIDE_ACTIONS)
    for s in stages:
        all_actions.update(s.kind.triggers, s.kind.cycle_actions)
    for trigger, names in guards.items():
        if trigger not in all_actions:
            problems.append(f"[guards] {trigger!r} is not a trigger of any stage of this program")
        for name in names:
            if name not in REGISTRY:
                problems.append(f"[guards] {trigger}: unknown policy {name!r}")

    appeals, overridable = _appeals_and_overrides(data, stages, problems)
    if appeals is not None:
        all_actions.add("appeal")
    if overridable:
        all_actions.add("override")

    permissions: dict[str, Permission] = {}
    for action, perm in (data.get("permissions") or {}).items():
        if action not in all_actions:
            problems.append(f"[permissions] {action!r} is not an action of this program")
        p = Permission.from_data(perm)
        bad = [r for r in p.roles if r not in ROLES]
        if bad:
            problems.append(f"[permissions] {action}: unknown roles {', '.join(bad)} (known: {', '.join(ROLES)})")
        permissions[action] = p
    internal = {"place"}  # fired by the engine during publication, never by a user
    missing = sorted(all_actions - set(permissions) - internal)
    if missing:
        problems.append("[permissions] nobody may do: " + ", ".join(missing))

    params = {k: dict(v) for k, v in (data.get("policies") or {}).items()}
    for name in params:
        if name not in REGISTRY:
            problems.append(f"[policies.{name}] configures an unknown policy")

    quotas = _int_table(data.get("quotas") or {}, "quotas", party_ids, problems)
    funding = _int_table(data.get("funding") or {}, "funding", party_ids, problems)

    criteria: list[Criterion] = []
    for c in data.get("score_sheet") or []:
        cid = c.get("id", "?")
        bands = tuple(
            Band(b.get("label", ""), int(b.get("min", 0)), int(b.get("max", 0))) for b in c.get("bands") or []
        )
        if not bands:
            problems.append(f"score criterion {cid!r} has no bands")
        for band in bands:
            if band.min > band.max or band.max > int(c.get("max", 0)) or band.min < 0:
                problems.append(
                    f"score criterion {cid!r}: band {band.label} {band.min}-{band.max} is not within 0-{c.get('max')}"
                )
        ordered = sorted(bands, key=lambda b: b.min)
        for x, y in zip(ordered, ordered[1:], strict=False):
            if y.min <= x.max:
                problems.append(f"score criterion {cid!r}: bands {x.label} and {y.label} overlap")
        criteria.append(Criterion(cid, c.get("name", cid), int(c.get("max", 0)), bands, str(c.get("short") or cid)))

    form, form_problems = build_form(data.get("form"), lead or "")
    problems += form_problems
    categories: list[ListCategory] = []
    for i, c in enumerate((data.get("list") or {}).get("categories") or []):
        places = c.get("places", 0) if isinstance(c, dict) else None
        if not isinstance(c, dict) or not c.get("id") or not isinstance(places, int) or places < 0:
            problems.append(f"[list] categories[{i}] needs an id and whole-number places ≥ 0, not {c!r}")
        elif c["id"] == "none" or c["id"] in [x.id for x in categories]:
            problems.append(f"[list] category {c['id']!r} is reserved or given twice")
        else:
            categories.append(ListCategory(c["id"], cast(str, c.get("name", c["id"])), places))
    columns: list[StatusColumn] = []
    for i, c in enumerate((data.get("status") or {}).get("columns") or []):
        if not isinstance(c, dict) or not c.get("id") or not c.get("zh"):
            problems.append(f"[status] columns[{i}] needs an id and a zh label, not {c!r}")
            continue
        kind = c.get("kind", "count")
        states = c.get("states", [])
        if kind not in ("count", "result", "minimum", "sheets", "confirmed", "funding"):
            problems.append(f"[status] column {c['id']!r}: kind {kind!r} is not known")
        elif states != "*" and not (isinstance(states, list) and all(isinstance(x, str) for x in states)):
            problems.append(f'[status] column {c["id"]!r}: states must be a list of states or "*"')
        else:
            every = tuple(st for st in states) if states != "*" else ("*",)
            columns.append(
                StatusColumn(c["id"], c["zh"], kind, every, c.get("result"), c.get("policy"), bool(c.get("show", True)))
            )
    review = data.get("review_criteria") or {}
    if review and (
        not isinstance(review.get("types"), dict)
        or not all(isinstance(v, list) for v in review["types"].values())
        or form is None
        or review.get("field") not in [f.path for f in form.fields]
    ):
        problems.append("[review_criteria] needs field = a form field and [review_criteria.types] of lists")
    method = (data.get("list") or {}).get("aggregate", "mean")
    if method not in ("mean", "trimmed_mean", "sum"):
        problems.append(f"[list] aggregate = {method!r} must be mean, trimmed_mean or sum")

    # reachability: every state must be reachable from the initial state
    if not problems:
        reach = {INITIAL_STATE}
        specs = []
        for s in stages:
            specs += [(INITIAL_STATE, s.kind.states[0]) for _ in s.kind.creates]
            specs += [(src, t.dest) for t in s.kind.transitions for src in t.source if t.dest]
        changed = True
        while changed:
            changed = False
            for src, dest in specs:
                if src in reach and dest not in reach:
                    reach.add(dest)
                    changed = True
        states = {st for s in stages for st in s.kind.states}
        unreachable = sorted(states - reach)
        if unreachable:
            problems.append("unreachable states: " + ", ".join(unreachable))

    if problems:
        where = f"program file {path}" if path else f"program {pid or '?'}"
        raise ProgramInvalid(where, problems)

    return Program(
        id=pid,
        cycle_prefix=head.get("cycle_prefix", pid),
        version=int(head.get("version", 1)),
        digest=digest,
        name=head.get("name", pid),
        name_en=head.get("name_en", head.get("name", pid)),
        timezone=zone,
        lead=leads[0],  # (the program's lead: checked above to be the one lead party)
        parties=tuple(parties),
        stages=tuple(stages),
        guards=guards,
        permissions=permissions,
        policy_params=params,
        quotas=quotas,
        funding=funding,
        results=dict(data.get("results") or {}),
        review_methods=dict(data.get("review_methods") or {}),
        list_settings={k: v for k, v in (data.get("list") or {}).items() if k != "categories"},
        criteria=tuple(criteria),
        path=path,
        appeals=appeals,
        overridable=overridable,
        form=form,
        categories=tuple(categories),
        state_names={str(k): str(v) for k, v in (data.get("state_names") or {}).items()},
        status_columns=tuple(columns),
        deadline_reminders=event_reminders.get("deadlines", ()),
        round_reminders=event_reminders.get("rounds", ()),
        review_criteria_field=review.get("field"),
        review_criteria={k: tuple(v) for k, v in (review.get("types") or {}).items()},
        demo=dict(data.get("demo") or {}),
    )


def _appeals_and_overrides(
    data: Mapping[str, Any], stages: Iterable[Stage], problems: list[str]
) -> tuple[AppealRules | None, tuple[str, ...]]:
    """Read ``[appeals]`` and ``[overrides]``; report every problem in them."""
    stages = list(stages)
    stage_ids = {s.id for s in stages}
    appealable = [s.id for s in stages if s.kind.appealable or s.kind.decides_list]
    appeals = None
    raw = data.get("appeals")
    if raw is not None:
        try:
            after = parse_offset(raw.get("after_publication", "7d"))
        except ValueError as exc:
            problems.append(f"[appeals] after_publication: {exc}")
            after = timedelta(days=7)
        decided_by: dict[str, Permission] = {}
        within: dict[str, timedelta] = {}
        per_stage = raw.get("stages") or {}
        if not isinstance(per_stage, dict):
            problems.append(f"[appeals] stages must be a table of stages, not {per_stage!r}")
            per_stage = {}
        for sid, spec in per_stage.items():
            if sid not in stage_ids:
                problems.append(f"[appeals.stages.{sid}] is not a stage of this program")
                continue
            if not isinstance(spec, dict):
                problems.append(f"[appeals.stages.{sid}] must be a table")
                continue
            if sid not in appealable:
                problems.append(
                    f"[appeals.stages.{sid}]: stage {sid!r} makes no result that can be appealed "
                    f"(those that do: {', '.join(appealable) or 'none'})"
                )
                continue
            if "decided_by" in spec:
                if not isinstance(spec["decided_by"], dict) or not isinstance(spec["decided_by"].get("roles"), list):
                    problems.append(
                        f"[appeals.stages.{sid}] decided_by must be a table like "
                        f'{{ roles = ["lead"] }}, not {spec["decided_by"]!r}'
                    )
                    continue
                perm = Permission.from_data(spec["decided_by"])
                bad = [r for r in perm.roles if r not in ROLES]
                if bad or not perm.roles:
                    problems.append(f"[appeals.stages.{sid}] decided_by needs known roles (got {list(perm.roles)})")
                decided_by[sid] = perm
            if "within" in spec:
                try:
                    within[sid] = parse_offset(spec["within"])
                except ValueError as exc:
                    problems.append(f"[appeals.stages.{sid}] within: {exc}")
        undecided = [sid for sid in appealable if sid not in decided_by]
        if undecided:
            problems.append("[appeals] nobody decides appeals against the results of: " + ", ".join(undecided))
        appeals = AppealRules(after, decided_by, within)
    raw_rules = (data.get("overrides") or {}).get("rules") or ()
    if isinstance(raw_rules, str):
        raw_rules = [raw_rules]  # one rule named without a list
    if not isinstance(raw_rules, list | tuple):
        problems.append(f"[overrides] rules must be a list of policy names, not {raw_rules!r}")
        raw_rules = ()
    rules = tuple(raw_rules)
    for name in rules:
        if name not in REGISTRY:
            problems.append(f"[overrides] rules: unknown policy {name!r}")
    return appeals, rules


def _int_table(table: Mapping[str, Any], name: str, party_ids: Iterable[str], problems: list[str]) -> dict:
    out: dict[str, dict[str, int]] = {}
    ids = set(party_ids)
    for city, values in table.items():
        if city not in ids:
            problems.append(f"[{name}.{city}] is not a party of the program")
            continue
        out[city] = {}
        for key, value in values.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                problems.append(f"[{name}.{city}] {key} = {value!r} is not a whole number ≥ 0")
            else:
                out[city][key] = value
    return out


class ProgramRegistry:
    """The programs found in the program directories, loaded on first use."""

    def __init__(self, dirs: Iterable[Path] | None = None):
        self.dirs = list(dirs) if dirs is not None else default_program_dirs()
        self._cache: dict[str, Program] = {}

    def files(self) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for d in self.dirs:
            if d.is_dir():
                for f in sorted(d.glob("*.toml")):
                    found.setdefault(f.stem, f)
        return found

    def ids(self) -> list[str]:
        return sorted(self.files())

    def get(self, program_id: str) -> Program:
        if program_id not in self._cache:
            path = self.files().get(program_id)
            if path is None:
                raise NotFound("program", program_id, f"known programs: {', '.join(self.ids()) or 'none'}")
            self._cache[program_id] = load_program(path)
        return self._cache[program_id]
