"""Plain records the engine works on. The store maps them to rows; `transitions` fires on them
(a SQLModel row cannot be a transitions model, so the engine never sees one)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class User:
    name: str
    role: str
    city: str | None = None


@dataclass
class Cycle:
    id: str
    program_id: str
    program_version: int
    program_digest: str
    year: int
    stage: str
    settings: dict[str, Any] = field(default_factory=dict)
    version: int = 1
    opened_at: datetime | None = None
    opened_by: str = ""


@dataclass
class Project:
    """One application and the state of its evaluation. ``state`` is driven by the program's machine."""

    id: int | None
    cycle_id: str
    city: str
    applicant: str
    enterprise_name: str
    project_name: str
    application: dict[str, Any]
    state: str = "new"
    municipal_result: str | None = None
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
    enterprise_name: str
    project_name: str
    score: str  # exact aggregate as a decimal string, e.g. "87.4444"
    category: str  # one of the program's list categories, or "none"


@dataclass
class ListVersion:
    cycle_id: str
    number: int
    status: str  # proposed | objected | confirmed | published | superseded
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
