"""What one page of a cycle's project list asks of the store: conditions, a search, an order and
a window, as plain data the store turns into one SQL statement (store/project_pages.py), so that
a page reads its own rows and a count, never the whole cycle nor any application.

A condition is a disjunction of ``Match`` terms, each a conjunction of column tests: the reader's
visibility (``reader_matches``), a list category, a to-do are each such a disjunction, worked out
from the program once per request by enumerating what the rule depends on, not per project."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import product

from workflow.records import Project

# the columns a page may be ordered by, as the store names them
SORTABLE = ("id", "city", "unit_name", "project_name", "state", "review_result")
# an applicant name no one has: a dummy project with it is read as nobody's own
_NOBODY = "\x00nobody"


@dataclass(frozen=True)
class Match:
    """One conjunction of column tests (``None``: any value). ``record_has`` / ``record_lacks``:
    record lists that must be non-empty / empty (an action already taken, by its record)."""

    cities: tuple[str, ...] | None = None
    states: tuple[str, ...] | None = None
    applicant: str | None = None
    reopened_to: tuple[str | None, ...] | None = None
    review_results: tuple[str, ...] | None = None
    ids: tuple[int, ...] | None = None
    not_ids: tuple[int, ...] = ()
    record_has: tuple[str, ...] = ()
    record_lacks: tuple[str, ...] = ()


@dataclass(frozen=True)
class SortKey:
    """One ordering: a column of ``SORTABLE``, descending or not, and for a column whose order is
    the program's (its parties, its states) each value's position (others after them)."""

    column: str
    descending: bool = False
    positions: tuple[tuple[str, int], ...] = ()


@dataclass
class PageQuery:
    """One page of a cycle's projects: every ``all_of`` disjunction holds (an empty one: none
    does), the search matches, ordered by ``sort`` then id, ``limit`` rows from ``offset``
    (``limit`` None: every row)."""

    all_of: list[list[Match]] = field(default_factory=list)
    search: str = ""
    sort: list[SortKey] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0


def city_state_only(all_of: Iterable[Iterable[Match]]) -> bool:
    """Whether every term of ``all_of`` tests nothing but a project's city and state (a reader's
    scope, a state or city filter), so that its projects are counted by city and state alone."""
    return all(m == Match(cities=m.cities, states=m.states) for any_of in all_of for m in any_of)


def within_city_state(
    all_of: Iterable[Iterable[Match]], by_city_state: Mapping[tuple[str, str], int]
) -> dict[tuple[str, str], int]:
    """The counts of ``by_city_state`` (a cycle's projects by city and state) that every
    disjunction of ``all_of`` (``city_state_only``) takes: the view's counts with no query of
    the projects."""
    terms = [list(any_of) for any_of in all_of]

    def takes(m: Match, city: str, state: str) -> bool:
        return (m.cities is None or city in m.cities) and (m.states is None or state in m.states)

    return {
        (city, state): n
        for (city, state), n in by_city_state.items()
        if all(any(takes(m, city, state) for m in any_of) for any_of in terms)
    }


def enumerate_matches(
    keep: Callable[[Project], bool],
    cities: Iterable[str],
    states: Iterable[str],
    reopened: Iterable[str | None] | None = None,
    applicant: str | None = None,
    record_keys: Iterable[str] = (),
) -> list[Match]:
    """The terms under which ``keep`` holds, for a rule that reads nothing of a project but its
    city, state, applicant (only whether it is ``applicant``), reopened stage and whether the
    lists ``record_keys`` of its record are empty: ``keep`` is asked of one dummy project for
    each combination, so the SQL says exactly what the rule says. ``reopened``: the values of
    the reopened stage the rule tells apart (None: it does not read it)."""
    keys = tuple(dict.fromkeys(record_keys))
    out: list[Match] = []
    stages = tuple(reopened) if reopened is not None else (None,)
    for city, state, stage in product(tuple(cities), tuple(states), stages):
        for filled in product((False, True), repeat=len(keys)):
            record: dict[str, object] = {k: [{}] for k, f in zip(keys, filled, strict=True) if f}
            has = tuple(k for k, f in zip(keys, filled, strict=True) if f)
            lacks = tuple(k for k, f in zip(keys, filled, strict=True) if not f)
            base = Project(None, "", city, _NOBODY, "", "", {}, state=state, reopened_to=stage, record=record)
            tested = (stage,) if reopened is not None else None
            if keep(base):
                out.append(Match((city,), (state,), None, tested, record_has=has, record_lacks=lacks))
            elif applicant is not None:
                base.applicant = applicant
                if keep(base):
                    out.append(Match((city,), (state,), applicant, tested, record_has=has, record_lacks=lacks))
    return merged(out)


def merged(matches: list[Match]) -> list[Match]:
    """The same terms, fewer: those differing only in their city are one term with those cities,
    then those differing only in their state one with those states (a short WHERE)."""
    for name in ("cities", "states", "reopened_to"):
        groups: dict[tuple[object, ...], list[Match]] = {}
        for m in matches:
            rest = tuple(getattr(m, f) for f in Match.__dataclass_fields__ if f != name)
            groups.setdefault(rest, []).append(m)
        out = []
        for members in groups.values():
            if getattr(members[0], name) is None:  # (not tested: the same term)
                out.append(members[0])
                continue
            values: list[object] = []
            for m in members:
                values.extend(getattr(m, name))
            out.append(Match(**{**members[0].__dict__, name: tuple(dict.fromkeys(values))}))
        matches = out
    return matches


def simplified(
    matches: list[Match], cities: tuple[str, ...], states: tuple[str, ...], reopened: tuple[str | None, ...] = ()
) -> list[Match]:
    """Terms naming every city (or every state, or every reopened stage) test it no longer."""
    out = []
    for m in matches:
        changes: dict[str, object] = {}
        if m.cities is not None and set(cities) <= set(m.cities):
            changes["cities"] = None
        if m.states is not None and set(states) <= set(m.states):
            changes["states"] = None
        if m.reopened_to is not None and reopened and set(reopened) <= set(m.reopened_to):
            changes["reopened_to"] = None
        out.append(Match(**{**m.__dict__, **changes}) if changes else m)
    return out
