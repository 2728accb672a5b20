"""The program model: a loaded, validated program and the small values it is made of.

:class:`Program` answers questions about an already validated program (its stages, states,
transitions, windows, quotas) and fires its one machine; reading and checking a program file is
``workflow.program.loader``'s, drawing it ``workflow.program.diagrams``'.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from transitions import Machine

from i18n import Joined, Msg, Text
from policies.base import Criterion, Party
from policies.permissions import Permission, ReadRule
from policies.windows import Window
from stages import StageKind, TransitionSpec
from workflow.actions import Action
from workflow.analysis import AnalysisSettings
from workflow.errors import NotFound
from workflow.form import Form
from workflow.program.documents import DocumentSettings
from workflow.program.machine import ProgramMachine
from workflow.program.reads import default_reads

ROLES = ("lead", "city-admin", "scorer", "applicant")
INITIAL_STATE = "new"
REOPEN = "reopen"  # the engine's own trigger: an upheld appeal moves a project back
PLACE = "place"  # the engine's own trigger: publishing a list places each project on it
# triggers the engine fires itself, never a user: they have no declaration and no permission
ENGINE_TRIGGERS = frozenset({REOPEN, PLACE})
# Cycle-level actions that are not stage specific.
CYCLE_WIDE_ACTIONS = ("advance",)


DEFAULT_REMINDERS = ("7d", "1d", "0d")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_offset(text: Any) -> timedelta:
    """'7d', '12h', '30m' or '0d': how long before a window closes a reminder is due."""
    if not isinstance(text, str) or len(text) < 2 or text[-1] not in _UNITS or not text[:-1].isdecimal():
        raise ValueError(Msg("{text!r} is not a duration like '7d', '12h' or '30m'", text=text))
    return timedelta(**{_UNITS[text[-1]]: int(text[:-1])})


def describe_offset(offset: timedelta) -> str:
    """The offset as a program file writes it: '7d', '12h', '30m', '0d'."""
    if not offset:
        return "0d"
    if offset % timedelta(days=1) == timedelta(0):
        return f"{offset // timedelta(days=1)}d"
    if offset % timedelta(hours=1) == timedelta(0):
        return f"{offset // timedelta(hours=1)}h"
    return f"{offset // timedelta(minutes=1)}m"


@dataclass(frozen=True)
class MonthDay:
    """A day of the year without the year (a window's first or last day)."""

    month: int
    day: int

    @classmethod
    def parse(cls, text: Any) -> MonthDay:
        """Read '03-01'; ValueError names what was given (its argument a message of the catalog)."""
        if not isinstance(text, str) or len(text.split("-")) != 2:
            raise ValueError(Msg("{text!r} is not a month-day like '03-01'", text=text))
        month, day = (int(x) for x in text.split("-"))
        if not 1 <= month <= 12 or not 1 <= day <= 31:
            raise ValueError(Msg("{text!r} is not a valid month-day", text=text))
        return cls(month, day)

    def in_year(self, year: int) -> date:
        """The date in ``year``; a day past the month's end means its last day (02-29 → 02-28)."""
        last = calendar.monthrange(year, self.month)[1]
        return date(year, self.month, min(self.day, last))

    def key(self) -> tuple[int, int]:
        """(month, day), to compare days of the year."""
        return (self.month, self.day)


@dataclass(frozen=True)
class WindowSpec:
    """A window of the program file: the first and last day, every year."""

    id: str
    start: MonthDay
    end: MonthDay

    def for_year(self, year: int, zone: str) -> Window:
        """The window in ``year``: from the first day's start to the last day's end, in ``zone``."""
        tz = ZoneInfo(zone)
        opens = datetime.combine(self.start.in_year(year), datetime.min.time(), tz)
        closes = datetime.combine(self.end.in_year(year) + timedelta(days=1), datetime.min.time(), tz)
        return Window(opens.astimezone(UTC), closes.astimezone(UTC), zone)


@dataclass(frozen=True)
class Stage:
    """One stage of the program: its kind, its window, what it closes on and its reminders."""

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
    """One category of the list (``[[list.categories]]``): id, name, default places."""

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
    en: str = ""  # its English name (the command line's line of support for funding)


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
    # whether a party scores its own projects: "scores" (and they count), "recused" (it may not),
    # "excluded" (its sheet is kept, not counted); a cycle may choose otherwise when opened
    own_party: str = "scores"
    # the score analysis's settings (``[scoring.analysis]``)
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    # the documents its results go out as, and their templates (``[documents]``)
    documents: DocumentSettings = field(default_factory=DocumentSettings)
    # reminders before a deadline a project was given, and before each periodic round opens
    deadline_reminders: tuple[timedelta, ...] = ()
    round_reminders: tuple[timedelta, ...] = ()
    # the columns of ``cycle status`` (the program's ``[[status.columns]]``)
    status_columns: tuple[StatusColumn, ...] = ()
    # states' Chinese and English names (the program's ``[state_names]``)
    state_names: Mapping[str, str] = field(default_factory=dict)
    state_names_en: Mapping[str, str] = field(default_factory=dict)
    # every action a user can take, with its labels and parameters (the program's ``[actions]``)
    actions: Mapping[str, Action] = field(default_factory=dict)
    # per value of a form field (a project type), the review content shown to its reviewers
    review_criteria_field: str | None = None
    review_criteria: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # code the file names as module:function, imported only when asked for (workflow.program_code):
    # ``run``, its demo; ``example``, its template's example application (the program's ``[demo]``)
    demo: Mapping[str, str] = field(default_factory=dict)
    # transitions the program adds to a stage's own, each with the stage it belongs to (the
    # program's ``[[transitions]]``: an applicant's withdrawal, say), and the states they lead to
    extra_transitions: tuple[tuple[str, TransitionSpec], ...] = ()
    # what the program's users call its score sheet (the ``[program]`` head's ``sheet_name``)
    sheet_name: str = "评分表"
    # the free-text column a sheet carries beside its scores (how far the project has come, say);
    # empty: none
    sheet_note: str = ""
    # who reads what the program guards: a list version before its publication, an objection's
    # reasons (the ``read_…`` entries of ``[permissions]``; workflow/program/reads.py)
    reads: Mapping[str, ReadRule] = field(default_factory=dict)

    def category_name(self, category: str, lang: str = "zh") -> str:
        """A category's name for readers (its id in English; "none": not listed)."""
        found = next((c for c in self.categories if c.id == category), None)
        return found.name if found and lang == "zh" else category

    def category_words(self, category: str | None) -> Text:
        """A category as a message names it: its id in English, its name in Chinese ("none" and
        no category: not selected)."""
        if category in (None, "none"):
            return Text("none", "未入选")
        return Text(category, self.category_name(category))

    # -- lookups ---------------------------------------------------------------------------
    def read_rule(self, name: str) -> ReadRule:
        """The program's rule of who reads ``name`` (READ_UNPUBLISHED_LIST, READ_OBJECTION_REASONS)."""
        return self.reads.get(name) or default_reads(self.permissions)[name]

    def party(self, party_id: str) -> Party:
        """The party of that id (NotFound names the program's cities)."""
        for p in self.parties:
            if p.id == party_id:
                return p
        raise NotFound("city", party_id, Msg("the program's cities are {cities}", cities=Joined(self.party_ids, ", ")))

    @property
    def party_ids(self) -> tuple[str, ...]:
        """The parties' ids, in the program's order."""
        return tuple(p.id for p in self.parties)

    def stage(self, stage_id: str) -> Stage:
        """The stage of that id."""
        for s in self.stages:
            if s.id == stage_id:
                return s
        raise NotFound("stage", stage_id)

    def stage_index(self, stage_id: str) -> int:
        """The stage's place in the program's order (0 first)."""
        return [s.id for s in self.stages].index(stage_id)

    def next_stage(self, stage_id: str) -> Stage | None:
        """The stage after it (None after the last)."""
        i = self.stage_index(stage_id)
        return self.stages[i + 1] if i + 1 < len(self.stages) else None

    @cached_property
    def stage_of_action(self) -> dict[str, str]:
        """Which stage each project trigger or cycle action belongs to."""
        out: dict[str, str] = {}
        for s in self.stages:
            for trigger in (*s.kind.triggers, *s.kind.cycle_actions):
                out.setdefault(trigger, s.id)
        for stage_id, spec in self.extra_transitions:
            out.setdefault(spec.trigger, stage_id)
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
        """Every project state, the initial one first, then each stage kind's in program order."""
        seen: dict[str, None] = {INITIAL_STATE: None}
        for s in self.stages:
            for st in self.states_of(s.id):
                seen.setdefault(st, None)
        return tuple(seen)

    @cached_property
    def transition_specs(self) -> tuple[TransitionSpec, ...]:
        """Every edge of the machine: the stages' own, then reopening (an upheld appeal)."""
        specs: list[TransitionSpec] = []
        for s in self.stages:
            for c in s.kind.creates:
                specs.append(TransitionSpec(c, (INITIAL_STATE,), s.kind.states[0]))
            specs.extend(s.kind.transitions)
            specs.extend(spec for stage_id, spec in self.extra_transitions if stage_id == s.id)
        # an upheld appeal reopens a project to a stage: from any state to the stage's waiting state
        after_new = tuple(st for st in self.states if st != INITIAL_STATE)
        for s in self.reopenable:
            specs.append(TransitionSpec(REOPEN, after_new, self.reopen_state(s), {"to": s.id}))
        return tuple(specs)

    def places_in(self, config: Any, given: Mapping[str, int] | None = None) -> list[tuple[str, int]]:
        """The list's categories, best first, with their places in a cycle of these settings (a
        CycleSettings): ``given``'s (a what-if), else the cycle's, else this program's."""
        chosen = {**getattr(config, "places", {}), **(given or {})}
        return [(c.id, int(chosen.get(c.id, c.places))) for c in self.categories]

    def own_party_in(self, config: Any) -> str:
        """What a party does on its own projects in a cycle of these settings (a CycleSettings):
        as the cycle was opened, else as this program says."""
        return getattr(config, "own_party", None) or self.own_party

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
        """The triggers that give a project an order with a deadline."""
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
        """The months periodic rounds open in (none without ``in_months`` guards)."""
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
    def results(self) -> dict[str, str]:
        """The review results a party may name (the result action's ``result`` choices), with their
        Chinese names."""
        return self._choices(self.result_trigger, "result")

    @cached_property
    def review_methods(self) -> dict[str, str]:
        """The review methods (the result action's ``method`` choices), with their Chinese names."""
        return self._choices(self.result_trigger, "method")

    def _choices(self, trigger: str | None, param: str) -> dict[str, str]:
        action = self.actions.get(trigger) if trigger else None
        p = action.param(param) if action is not None else None
        return {c.value: c.zh for c in p.choices} if p is not None else {}

    def state_name(self, state: str, lang: str = "zh") -> str:
        """A state's name for readers, in ``lang`` (its id where the file names none)."""
        names = self.state_names_en if lang == "en" else self.state_names
        return names.get(state, state)

    @cached_property
    def application_params(self) -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
        """Trigger → its parameters written on the application, each with the keys of where."""
        out: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {}
        for action in self.actions.values():
            writes = tuple((p.id, p.application) for p in action.params if p.application)
            if writes:
                out[action.id] = writes
        return out

    @cached_property
    def record_keys(self) -> dict[str, str]:
        """Trigger → the list of the project's record it adds an entry to."""
        out: dict[str, str] = {}
        for s in self.stages:
            out.update(s.kind.records)
        return out

    @cached_property
    def sheets_per(self) -> str:
        """Who enters score sheets: one per party, or one per committee member."""
        return next((s.kind.sheets_per for s in self.stages if s.kind.sheet_trigger), "party")

    @cached_property
    def placed_states(self) -> tuple[str, ...]:
        """The states publication gives (``place`` leads there) and what follows them (an award)."""
        return next((s.kind.states for s in self.stages if "publish" in s.kind.cycle_actions), ())

    @property
    def notice_period_days(self) -> int:
        """The days a publication stays on public notice: the program's ``notice_over`` rule's,
        else ``[documents] notice_days``, else 5."""
        from workflow.program.documents import NOTICE_DAYS

        return self.notice_days or self.documents.notice_days or NOTICE_DAYS

    @cached_property
    def named_states(self) -> tuple[str, ...]:
        """The states of a project its cycle's results name: placed in a list category (not the
        state ``place`` gives the unlisted) or awarded; without a list, ``[documents]
        named_states`` (else the award's state)."""
        if not self.categories:
            return self.documents.named_states or ((self.award_state,) if self.award_state else ())
        unlisted = {
            spec.dest
            for s in self.stages
            for spec in s.kind.transitions
            if spec.trigger == PLACE and spec.when.get("category") == "none"
        }
        return tuple(state for state in self.placed_states if state not in unlisted)

    @cached_property
    def award_state(self) -> str | None:
        """The state an award leads a placed project to, if a stage kind of the program declares
        one (the project keeps the list category it was placed in)."""
        return next((s.kind.award_state for s in self.stages if s.kind.award_state), None)

    @cached_property
    def listable_states(self) -> tuple[str, ...]:
        """The states of the projects a list ranks before publication (a shortlist): where
        ``place`` takes them from, read from the stage kinds' own transitions (the reopening
        edges of the machine are made from it, see reopen_state)."""
        placed = set(self.placed_states)
        seen: dict[str, None] = {}
        for s in self.stages:
            for spec in s.kind.transitions:
                if spec.trigger == PLACE:
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
        """Which stage's kind (or the program's own transition of a stage) adds each state."""
        out: dict[str, str] = {}
        for s in self.stages:
            for st in self.states_of(s.id):
                out.setdefault(st, s.id)
        return out

    def states_of(self, stage_id: str) -> tuple[str, ...]:
        """The states a stage adds: its kind's, then those of the program's transitions of it."""
        own = self.stage(stage_id).kind.states
        extra = [spec.dest for sid, spec in self.extra_transitions if sid == stage_id and spec.dest]
        return (*own, *(st for st in extra if st not in own))

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
    def _machine(self) -> ProgramMachine:
        return ProgramMachine(self.states, self.transition_specs, INITIAL_STATE)

    @property
    def machine(self) -> Machine:
        """The program's one `transitions` machine, shared by every project (never add_model)."""
        return self._machine.machine

    @property
    def when_keys(self) -> dict[str, tuple[str, ...]]:
        """Per trigger, the request keys its edges' ``when`` conditions read (see
        :attr:`ProgramMachine.when_keys`)."""
        return self._machine.when_keys

    def fire(
        self, model: Any, trigger: str, request: Mapping[str, Any], memo: dict[Any, str | None] | None = None
    ) -> bool:
        """Fire ``trigger`` on a plain model object (it has a ``state`` attribute); False when
        the trigger is not allowed from its state. ``memo``: one per batch (see
        :meth:`ProgramMachine.fire`)."""
        return self._machine.fire(model, trigger, request, memo)

    def leads_to(
        self, state: str, trigger: str, request: Mapping[str, Any], memo: dict[Any, str | None] | None = None
    ) -> str | None:
        """Where the machine takes a project in ``state`` on ``trigger`` with ``request`` (None:
        not allowed), asked without touching any project; ``memo`` as for :meth:`fire`."""
        return self._machine.leads_to(state, trigger, request, memo)

    def sources_of(self, trigger: str) -> tuple[str, ...]:
        """The states ``trigger`` can be fired from, in program order."""
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


def effective_quotas(
    base: Mapping[str, Mapping[str, int]], overrides: Mapping[str, Mapping[str, int]] | None
) -> dict[str, dict[str, int]]:
    """The program's quotas with a cycle's own over them, party by party."""
    merged = {city: dict(q) for city, q in base.items()}
    for city, q in (overrides or {}).items():
        merged.setdefault(city, {}).update(q)
    return merged
