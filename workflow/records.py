"""Plain records the engine works on. The store maps them to rows; `transitions` fires on them
(a SQLModel row cannot be a transitions model, so the engine never sees one)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from policies.appeals import Override


@dataclass
class User:
    name: str
    role: str
    city: str | None = None
    language: str | None = None  # what the console speaks to them (zh_CN or en); None: not chosen
    active: bool = True  # False: deactivated by the lead (no sign-in, no session, no token)


@dataclass(frozen=True)
class Correction:
    """A list reopened by upheld appeals: the list stage its actions run in again whatever the
    cycle's stage, the list version it corrects, the appeals that opened it, since when."""

    stage: str
    list: int
    appeals: tuple[int, ...] = ()
    opened_at: str | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Correction:
        return cls(data["stage"], data["list"], tuple(data.get("appeals", ())), data.get("opened_at"))

    def to_data(self) -> dict[str, Any]:
        """As stored (and shown by ``status``): the keys in the order they have always had."""
        out: dict[str, Any] = {"stage": self.stage, "list": self.list, "appeals": list(self.appeals)}
        if self.opened_at is not None:
            out["opened_at"] = self.opened_at
        return out


@dataclass(frozen=True)
class CycleSettings:
    """What a cycle was opened with and has gathered since, typed: its list places and quotas,
    the lead's overrides, an open list correction, when its list was published. Stored as the
    JSON object it always was (``Cycle.settings``); keys this code does not know are kept."""

    places: Mapping[str, int] = field(default_factory=dict)
    quotas: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    overrides: tuple[Override, ...] = ()
    correction: Correction | None = None
    published_at: datetime | None = None
    # a party on its own projects, as the cycle was opened with (None: a cycle opened before the
    # setting existed, which follows its program's ``[scoring] own_party``)
    own_party: str | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> CycleSettings:
        """The settings as stored."""
        correction = data.get("correction")
        published = data.get("published_at")
        return cls(
            places=data.get("places") or {},
            quotas=data.get("quotas") or {},
            overrides=tuple(Override.from_data(o) for o in data.get("overrides", ())),
            correction=Correction.from_data(correction) if correction else None,
            published_at=datetime.fromisoformat(published) if published else None,
            own_party=data.get("own_party"),
        )

    def to_data(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        """The settings to store over ``stored`` (what was read): a key keeps its place, a new
        one goes last, one no longer set is left out, unknown ones stay, so the stored JSON reads
        as it always has."""
        values: dict[str, Any] = {
            "places": dict(self.places),
            "quotas": {city: dict(q) for city, q in self.quotas.items()},
            "overrides": [asdict(o) for o in self.overrides],
            "correction": self.correction.to_data() if self.correction else None,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "own_party": self.own_party,
        }
        was = CycleSettings.from_data(stored)
        out = dict(stored)
        for key, value in values.items():
            if key in out and getattr(self, key) == getattr(was, key):
                continue  # as it was read, word for word
            if value is None or (value == [] and key not in out):  # (no overrides: no key)
                out.pop(key, None)
            else:
                out[key] = value
        return out


@dataclass
class Cycle:
    id: str
    program_id: str
    program_version: int
    program_digest: str
    year: int
    stage: str
    settings: dict[str, Any] = field(default_factory=dict)  # as stored; read and write it as ``config``
    version: int = 1
    opened_at: datetime | None = None
    opened_by: str = ""

    @property
    def config(self) -> CycleSettings:
        """The settings, typed (parsed once per stored value: a batch asks for them per project)."""
        cached = self.__dict__.get("_config")
        if cached is None or cached[0] is not self.settings:
            cached = (self.settings, CycleSettings.from_data(self.settings))
            self.__dict__["_config"] = cached
        return cached[1]

    @config.setter
    def config(self, value: CycleSettings) -> None:
        self.settings = value.to_data(self.settings)
        self.__dict__["_config"] = (self.settings, value)


@dataclass
class Project:
    """One application and the state of its evaluation. ``state`` is driven by the program's machine."""

    id: int | None
    cycle_id: str
    city: str
    applicant: str
    unit_name: str
    project_name: str
    application: dict[str, Any]
    state: str = "new"
    review_result: str | None = None
    review_method: str | None = None
    version: int = 0
    submitted_at: datetime | None = None
    updated_at: datetime | None = None
    # set by an upheld appeal: the stage the project was reopened to. The project may be acted on
    # in that stage and the later ones up to the cycle's, whatever their windows; cleared when a
    # (corrected) list is published.
    reopened_to: str | None = None
    # what the project gathers over its life besides its state (a long-lived award's grades,
    # rectification orders with their deadlines, progress entries…), by key: each a list of
    # entries written by the triggers the program's stage kinds name (see StageKind.records)
    record: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScoreSheet:
    cycle_id: str
    project_id: int
    city: str
    scorer: str
    scores: dict[str, int]
    bands: dict[str, str]
    total: int
    completion: str = ""
    current: bool = True
    at: datetime | None = None
    id: int | None = None


@dataclass(slots=True)  # a list holds one per ranked project: 100,000 at the largest
class ListEntry:
    rank: int
    project_id: int
    city: str
    unit_name: str
    project_name: str
    score: str  # exact aggregate as a decimal string, e.g. "87.4444"
    category: str  # one of the program's list categories, or "none"


class ListStatus(StrEnum):
    """Where a list version stands. It changes only through the engine's door, along LIST_CHANGES."""

    PROPOSED = "proposed"
    OBJECTED = "objected"  # a party objected: the lead proposes a new version
    CONFIRMED = "confirmed"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"  # a newer version replaced it before publication
    CORRECTED = "corrected"  # a corrected publication replaced it


# the changes a list version may make, and what the audit entry of each records as its action
LIST_CHANGES: Mapping[ListStatus, frozenset[ListStatus]] = {
    ListStatus.PROPOSED: frozenset({ListStatus.CONFIRMED, ListStatus.OBJECTED, ListStatus.SUPERSEDED}),
    ListStatus.OBJECTED: frozenset({ListStatus.SUPERSEDED}),
    ListStatus.CONFIRMED: frozenset({ListStatus.PUBLISHED, ListStatus.SUPERSEDED}),
    ListStatus.PUBLISHED: frozenset({ListStatus.CORRECTED}),
    ListStatus.SUPERSEDED: frozenset(),
    ListStatus.CORRECTED: frozenset(),
}
LIST_LOG: Mapping[ListStatus, str] = {
    ListStatus.PROPOSED: "propose",
    ListStatus.OBJECTED: "object",
    ListStatus.CONFIRMED: "confirmed",  # (a stage closing on a proposed list confirms it)
    ListStatus.PUBLISHED: "publish",
    ListStatus.SUPERSEDED: "supersede",
    ListStatus.CORRECTED: "correct",
}
# a list version parties may still appeal a place on, and one the list rules count as made
LIVE_LISTS = (ListStatus.PROPOSED, ListStatus.CONFIRMED)
MADE_LISTS = (ListStatus.PROPOSED, ListStatus.CONFIRMED, ListStatus.PUBLISHED)


@dataclass
class ListVersion:
    cycle_id: str
    number: int
    status: str  # a ListStatus (stored as its text)
    method: str
    entries: list[ListEntry]
    proposed_by: str
    at: datetime | None = None
    tie_order: list[int] = field(default_factory=list)
    version: int = 1
    id: int | None = None


@dataclass
class Confirmation:
    list_id: int
    city: str
    user: str
    decision: str  # confirm | object
    reason: str = ""
    at: datetime | None = None


@dataclass
class AuditEntry:
    at: datetime
    cycle_id: str | None
    subject: str  # project | cycle | list | user
    subject_id: str
    actor: str
    action: str
    from_state: str | None = None
    to_state: str | None = None
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    # its place in its chain (workflow/audit.py): the hash of the entry before it, and its own
    prev_hash: str | None = None
    hash: str | None = None


@dataclass
class Appeal:
    """An appeal against a project's result. ``against_stage`` made the contested result and
    decides it; upholding reopens the project to ``reopen_to``."""

    cycle_id: str
    project_id: int
    city: str
    filed_by: str
    filed_at: datetime
    against_state: str
    against_stage: str
    reason: str
    list_version: int | None = None  # the list version holding the contested place, if any
    status: str = "open"  # open | upheld | dismissed
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str = ""
    reopen_to: str | None = None
    version: int = 1
    id: int | None = None


@dataclass
class Reminder:
    """One planned reminder: a stage's deadline, an offset before it, one recipient (a party id,
    or "lead" for the summary). ``key`` is its idempotency key, shown to every receiver."""

    cycle_id: str
    stage: str
    offset: str  # e.g. "7d"; "0d" = at the close
    recipient: str
    due_at: datetime
    key: str
    status: str = "planned"  # planned | sending | retry | sent | late | failed | skipped
    attempts: int = 0
    next_attempt_at: datetime | None = None
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    channels_done: list[str] = field(default_factory=list)
    message: str = ""
    last_error: str = ""
    id: int | None = None


@dataclass
class Lease:
    """Who runs the scheduler of a database, until when (renewed while it runs)."""

    name: str
    holder: str
    acquired_at: datetime
    expires_at: datetime


_SCALARS = frozenset((str, int, float, bool, type(None)))


def plain(value: Any) -> Any:
    """A deep copy of ``value`` as JSON would round-trip it (keys as text, tuples as lists,
    anything else, a date say, as its text), without encoding and decoding it."""
    kind = type(value)
    if kind is dict:  # (its scalars copied here: an audit entry's data is mostly scalars)
        return {k if type(k) is str else str(k): v if type(v) in _SCALARS else plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [plain(v) for v in value]
    if kind in _SCALARS:
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return str(value)


@dataclass
class Credential:
    """A user's password (as an Argon2id hash) and the count of failed sign-ins since the last good one."""

    user_name: str
    password_hash: str
    set_at: datetime
    failures: int = 0
    locked_until: datetime | None = None


@dataclass
class WebSession:
    """A signed-in browser: ``id`` is the sha256 of its cookie, ``csrf`` the token every form carries."""

    id: str
    user_name: str
    csrf: str
    created_at: datetime
    seen_at: datetime
    flash: list[Any] = field(default_factory=list)


@dataclass
class ApiToken:
    """A token for scripts (``Authorization: Bearer …``); only its sha256 is kept."""

    user_name: str
    label: str
    token_hash: str
    created_at: datetime
    last_used: datetime | None = None
    revoked_at: datetime | None = None
    id: int | None = None
