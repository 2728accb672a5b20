"""What a policy sees and what it returns.

Policies are pure: they read a :class:`GuardContext` the engine has loaded (the project, the
cycle's counts, the request, ``now``) and return :class:`Rejection` objects. They never touch
the store, the clock or the command line, so they are tested without a database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any, TypeVar

from i18n import Msg, Text

R = TypeVar("R")


def _copy(record: R, **changes: Any) -> R:
    """``record`` (a frozen dataclass) with ``changes`` to some of its fields: one copy of its
    references, without the field-by-field construction of ``dataclasses.replace`` (which costs
    more than a rule's own check, and a batch makes one per project and rule). ``changes`` must
    name fields of the record."""
    new = object.__new__(type(record))
    new.__dict__.update(record.__dict__, **changes)
    return new


# each rule's name for readers of Chinese (its id is what English readers and scripts see)
RULE_NAMES: dict[str, str] = {}


def name_rule(rule: str, zh: str) -> None:
    """Give a rule checked outside the registry (by the engine: a parameter, a list's status) its
    Chinese name."""
    RULE_NAMES[rule] = zh


@dataclass(frozen=True)
class Rejection:
    """One failed rule: its id, a message carrying the real numbers (a message of the catalog,
    or text), and the parties who must act to satisfy it (empty: the lead's or the applicant's
    own business). Reminders use ``parties``. Read in English as ``[rule] message``, in Chinese
    as the rule's name and the message."""

    rule: str
    message: str | Msg
    parties: tuple[str, ...] = ()

    def render(self, lang: str | None = None) -> str:
        """The rejection as a reader of ``lang`` reads it."""
        name = Text(self.rule, RULE_NAMES.get(self.rule, self.rule))
        return Msg("[{rule}] {message}", rule=name, message=self.message).render(lang)

    def __str__(self) -> str:
        return self.render()

    @property
    def text(self) -> str:
        """The message alone, in the current language."""
        return str(self.message)

    @property
    def english(self) -> str:
        """The message alone in English, as scripts have always read it."""
        return self.message.render("en") if isinstance(self.message, Msg) else self.message


@dataclass(frozen=True)
class Band:
    label: str
    min: int
    max: int


@dataclass(frozen=True)
class Criterion:
    id: str
    name: str
    max: int
    bands: tuple[Band, ...]
    short: str = ""  # a short name for table headers (e.g. 价值)

    @property
    def picks(self) -> bool:
        """Whether every band is one value (a vote: 1 for, 0 against), so a sheet picks a band
        instead of typing a number."""
        return all(b.min == b.max for b in self.bands)

    def band_for(self, value: int) -> Band | None:
        if type(value) is int and self._band_of is not None:  # (a score batch asks twice a criterion a sheet)
            return self._band_of.get(value)
        for band in self.bands:
            if band.min <= value <= band.max:
                return band
        return None

    @cached_property
    def _band_of(self) -> dict[int, Band] | None:
        """Each whole score inside a band, with its band (the first, as ``band_for`` finds it);
        None for bands too wide to list (they are searched)."""
        if sum(max(0, b.max - b.min + 1) for b in self.bands) > 10_000:
            return None
        out: dict[int, Band] = {}
        for band in self.bands:
            for value in range(band.min, band.max + 1):
                out.setdefault(value, band)
        return out


@dataclass(frozen=True)
class Party:
    id: str
    name: str
    unit: str
    role: str

    @property
    def words(self) -> Text:
        """The party as a message names it: its id in English (as scripts read it), its name in
        Chinese."""
        return Text(self.id, self.name)


def party_words(parties: Iterable[Party], party_id: str) -> Text:
    """The party ``party_id`` among ``parties`` as a message names it (its id both ways when it
    is none of them)."""
    found = next((p for p in parties if p.id == party_id), None)
    return found.words if found is not None else Text(party_id, party_id)


@dataclass(frozen=True)
class ProjectView:
    """The parts of a project a policy may look at."""

    id: int | None
    city: str
    state: str
    application: Mapping[str, Any]
    review_result: str | None = None
    # what the project gathered over its life (see Project.record): key -> list of entries
    record: Mapping[str, Any] = field(default_factory=dict)
    # when the application was submitted (None: not yet, it is being submitted now)
    submitted_at: datetime | None = None


@dataclass(frozen=True)
class CycleCounts:
    """Stage-wide counts the guards rely on, loaded with one grouped query each."""

    # (city, state) -> number of projects
    by_city_state: Mapping[tuple[str, str], int] = field(default_factory=dict)
    # (city, review result) -> number of projects holding that result
    results: Mapping[tuple[str, str], int] = field(default_factory=dict)
    # scoring city -> number of current sheets it has entered
    sheets_by_city: Mapping[str, int] = field(default_factory=dict)
    # city -> confirmed the current list version?
    confirmations: frozenset[str] = frozenset()
    # number of projects on the shortlist: those in the stage that is scored, a sheet expected
    # from every scoring party for each
    shortlist: int = 0
    # where sheets are per scorer (a committee's votes): each scorer's current sheets on them,
    # and every scorer (committee member) there is
    sheets_by_scorer: Mapping[str, int] = field(default_factory=dict)
    scorers: tuple[str, ...] = ()
    # a party's sheets awaited where they are fewer than the shortlist (a cycle whose parties are
    # recused from their own projects: the shortlist less its own)
    needed: Mapping[str, int] = field(default_factory=dict)
    # so for a scorer (a committee member) recused from their own city's projects
    votes_needed: Mapping[str, int] = field(default_factory=dict)

    def sheets_needed(self, party: str) -> int:
        """The sheets ``party`` is to enter: one for each project of the shortlist it scores."""
        return self.needed.get(party, self.shortlist)

    def votes_of_member_needed(self, member: str) -> int:
        """The sheets a committee member (a scorer) is to enter: one for each project of the
        shortlist they vote on."""
        return self.votes_needed.get(member, self.shortlist)

    def count(self, city: str, *states: str) -> int:
        return sum(self.by_city_state.get((city, s), 0) for s in states)

    def total(self, *states: str) -> int:
        return sum(n for (_, s), n in self.by_city_state.items() if s in states)

    def moved(
        self, by_city_state: Mapping[tuple[str, str], int], results: Mapping[tuple[str, str], int]
    ) -> CycleCounts:
        """These counts with new project counts per state and result (a batch makes one per project)."""
        return _copy(self, by_city_state=by_city_state, results=results)


@dataclass(frozen=True)
class GuardContext:
    """Everything a guard may read. Built by the engine, once per action."""

    now: datetime
    cycle_id: str
    cycle_year: int
    parties: tuple[Party, ...]
    quotas: Mapping[str, Mapping[str, int]]
    criteria: tuple[Criterion, ...]
    params: Mapping[str, Any]
    project: ProjectView | None = None
    counts: CycleCounts = field(default_factory=CycleCounts)
    request: Mapping[str, Any] = field(default_factory=dict)
    # when the current stage's window closes (None: no closing date); for closing rules
    stage_closes: datetime | None = None
    # the program's time zone, for messages that show an instant
    timezone: str = "UTC"

    def for_project(
        self, project: ProjectView | None, request: Mapping[str, Any], counts: CycleCounts | None = None
    ) -> GuardContext:
        """This context with ``project`` and ``request`` (and ``counts``, when given) in place of
        its own: what each project of a batch is judged with, the batch's other fields shared (one
        copy of their references, without the field-by-field construction of a frozen dataclass)."""
        if counts is None:
            return _copy(self, project=project, request=request)
        return _copy(self, project=project, request=request, counts=counts)

    def with_params(self, params: Mapping[str, Any]) -> GuardContext:
        """This context with a rule's own ``params`` (the program's ``[policies.NAME]``), made
        for each rule with parameters that judges a project (see for_project)."""
        return _copy(self, params=params)

    def party_name(self, party_id: str) -> str:
        for party in self.parties:
            if party.id == party_id:
                return party.name
        return party_id

    def party_text(self, party_id: str) -> Text:
        """A party as a message names it (see :func:`party_words`)."""
        return party_words(self.parties, party_id)


Policy = Callable[[GuardContext], Iterable[Rejection]]

REGISTRY: dict[str, Policy] = {}
# Policies that read ``ctx.counts``: the engine runs the cycle-wide grouped queries only for them.
NEEDS_COUNTS: set[str] = set()
# Policies that read ``ctx.project.application``: a batch loads the (large) applications only for them.
NEEDS_APPLICATION: set[str] = set()


# Policies that read the applying unit's projects in every cycle of the program (request
# "unit_projects"): the engine loads them only for these.
NEEDS_UNIT: set[str] = set()

# Policies that judge whether an application's party is one of the program's: where one guards
# submission, an application naming another party is refused by it (naming the program's
# parties), not by the permission check (no user acts for a party the program does not have).
JUDGES_PARTY: set[str] = set()

# Each policy's check of its parameters (the program's ``[policies.NAME]``): the problems, one
# line each; the program loader reports them with the file's other problems.
ParamsCheck = Callable[[Mapping[str, Any]], list[Msg]]
PARAMS_CHECKS: dict[str, ParamsCheck] = {}


def policy(
    name: str,
    counts: bool = False,
    application: bool = False,
    unit: bool = False,
    party: bool = False,
    params: ParamsCheck | None = None,
    zh: str = "",
) -> Callable[[Policy], Policy]:
    """Register a guard under the name program files use for it; ``counts`` if it reads
    ctx.counts, ``application`` if it reads the project's application (its form's fields),
    ``party`` if it judges the application's party (see JUDGES_PARTY), ``params`` the check of
    its parameters in the program file; ``zh``: its name for readers of Chinese."""

    def register(func: Policy) -> Policy:
        if name in REGISTRY:
            raise ValueError(f"policy {name!r} registered twice")
        REGISTRY[name] = func
        if zh:
            RULE_NAMES[name] = zh
        if counts:
            NEEDS_COUNTS.add(name)
        if application:
            NEEDS_APPLICATION.add(name)
        if unit:
            NEEDS_UNIT.add(name)
        if party:
            JUDGES_PARTY.add(name)
        if params is not None:
            PARAMS_CHECKS[name] = params
        func.policy_name = name  # type: ignore[attr-defined]
        return func

    return register


# the separator of alternatives ("12-14 or 15-17"), so that extraction finds it
OR = Msg(" or ").id


def whole_numbers(**minimums: int) -> ParamsCheck:
    """A parameters check: each named parameter, when given, is a whole number of at least its
    minimum (``whole_numbers(min_party_members=1)``)."""

    def check(params: Mapping[str, Any]) -> list[Msg]:
        problems = []
        for key, minimum in minimums.items():
            value = params.get(key, minimum)
            if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                problems.append(
                    Msg("{key} = {value!r} is not a whole number ≥ {minimum}", key=key, value=value, minimum=minimum)
                )
        return problems

    return check


def parse_date(value: Any) -> date | None:
    """Accept a date, or an ISO 'YYYY-MM-DD' string; anything else is None."""
    if isinstance(value, str):  # (first: what an application holds)
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None
