"""The ports the engine needs from persistence: a store that opens transactions, and what a
transaction reads and writes, one small interface per kind of record (store/ implements them).

The engine depends on these alone, never on the store's modules, so that the type checker sees
every call it makes on a transaction and the SQL stays in store/ (APScheduler's job stores follow
the same pattern: an abstract store, one backend per module). Every write of a versioned record
checks the version it was read at and raises ConcurrentChange if another writer moved it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from workflow.audit import Item
from workflow.drafts import DraftTx
from workflow.page_query import Match, PageQuery
from workflow.records import (
    ApiToken,
    Appeal,
    AuditEntry,
    Confirmation,
    Credential,
    Cycle,
    Lease,
    ListEntry,
    ListVersion,
    Project,
    Reminder,
    ScoreSheet,
    User,
    WebSession,
)
from workflow.signing import Checkpoint


class UserTx(Protocol):
    """Users, and the web console's passwords, signed-in sessions and API tokens."""

    def get_user(self, name: str) -> User | None: ...
    def count_users(self) -> int: ...
    def add_user(self, user: User, at: datetime) -> None: ...
    def list_users(self) -> list[User]: ...
    def set_user_language(self, name: str, language: str) -> None:
        """Set the language the console speaks to ``name``."""

    def update_user(self, name: str, **values: Any) -> None:
        """Set a user's ``role``, ``city`` or ``active``."""

    def get_credential(self, user: str) -> Credential | None: ...
    def save_credential(self, credential: Credential) -> None:
        """Insert or replace a user's credential (a new password, a failure counted, a lock)."""

    def add_session(self, session: WebSession) -> None: ...
    def get_session(self, session_id: str) -> WebSession | None: ...
    def touch_session(self, session_id: str, seen_at: datetime, flash: list[Any] | None = None) -> None: ...
    def end_sessions(
        self, session_id: str | None = None, user: str | None = None, idle_before: datetime | None = None
    ) -> int:
        """Delete one session, every session of a user, or every session idle since before a time."""

    def add_token(self, token: ApiToken) -> None: ...
    def find_token(self, token_hash: str) -> ApiToken | None: ...
    def get_token(self, token_id: int) -> ApiToken | None: ...
    def tokens(self, user: str | None = None) -> list[ApiToken]: ...
    def mark_token(self, token_id: int, **values: datetime | None) -> int:
        """Set a token's ``last_used`` or ``revoked_at``; the number of tokens changed."""


class CycleTx(Protocol):
    """Cycles: one run of a program."""

    def get_cycle(self, cycle_id: str) -> Cycle | None:
        """The cycle; in a write transaction it stays locked until the transaction ends, so that
        every change to one cycle is made one after the other."""

    def list_cycles(self) -> list[Cycle]: ...
    def insert_cycle(self, cycle: Cycle) -> None: ...
    def save_cycle(self, cycle: Cycle) -> None:
        """Write stage and settings if the stored version is still ``cycle.version``; bump it."""


class ProjectTx(Protocol):
    """Projects: the applications and the state of their evaluation."""

    def get_project(self, project_id: int) -> Project | None: ...
    def get_projects(self, project_ids: Sequence[int], with_application: bool = True) -> dict[int, Project]:
        """Several projects by id, read fresh."""

    def insert_projects(self, projects: Sequence[Project]) -> None:
        """Insert new projects; their generated ids are written back, in order."""

    def save_projects(
        self,
        projects: Sequence[Project],
        with_application: bool = True,
        with_record: bool = True,
        untouched: Collection[str] = (),
    ) -> None:
        """Write many projects, each only if its stored version is still the one read; bump them.
        ``untouched``: columns among review_result, review_method and reopened_to that no
        project of the batch changed."""

    def save_project(self, project: Project) -> None:
        """Write the project if the stored version is still ``project.version``; bump it."""

    def find_projects(
        self,
        cycle_id: str,
        cities: Sequence[str] | None = None,
        states: Sequence[str] | None = None,
        applicant: str | None = None,
        with_application: bool = True,
    ) -> list[Project]:
        """A cycle's projects, in id order (without ``with_application``, their application empty)."""

    def unit_projects(self, program_id: str, units: Sequence[str]) -> list[Project]:
        """The projects of these applying units in every cycle of a program, oldest first."""

    def project_keys(self, cycle_id: str) -> dict[tuple[str, str], int]:
        """(applying unit, project name) -> project id, for every project of a cycle."""

    def project_ids(self, cycle_id: str, states: Sequence[str]) -> list[int]:
        """The ids of a cycle's projects in ``states``, in id order."""

    def project_names(self, cycle_id: str, states: Sequence[str]) -> dict[int, tuple[str, str, str]]:
        """project id -> (party, applying unit, project name) of a cycle's projects in ``states``."""

    def count_by_city_state(self, cycle_id: str) -> dict[tuple[str, str], int]: ...
    def count_review_results(self, cycle_id: str) -> dict[tuple[str, str], int]: ...
    def reopened_projects(self, cycle_id: str) -> list[Project]:
        """A cycle's projects that an upheld appeal reopened."""


# every current sheet of a cycle by party (city or scorer): party -> (sheets, projects they are
# on), asked when a count needs the whole cycle's (a reader keeps it under the audit's heads)
SheetTotals = Callable[[], Mapping[str, tuple[int, int]]]


class SheetTx(Protocol):
    """Score sheets: a party's (or a scorer's) scores of one project; replaced ones kept as history."""

    def supersede_sheets(self, project_id: int) -> list[ScoreSheet]:
        """Mark every current sheet of a project as history; return them."""

    def sheets_of(self, project_id: int) -> list[ScoreSheet]: ...
    def put_sheets(self, sheets: Sequence[ScoreSheet], by_scorer: bool = False) -> dict[tuple[int, str], int]:
        """Store each sheet as its city's (``by_scorer``: its scorer's) current sheet of its
        project. Returns {(project, city or scorer): the replaced total}."""

    def sheet_totals(self, cycle_id: str, own_excluded: bool = False) -> list[tuple[int, int]]:
        """(project, total) of every current sheet of a cycle (``own_excluded``: but each city's
        own project's)."""

    def sheet_sums(self, cycle_id: str, own_excluded: bool = False) -> list[tuple[int, int, int]]:
        """(project, sum of totals, number of sheets) over the current sheets of a cycle (as
        ``sheet_totals``)."""

    def sheet_keys(self, cycle_id: str, by_scorer: bool = False, city: str | None = None) -> list[tuple[str, int]]:
        """(city, or ``by_scorer`` the scorer; project) of each current sheet (only ``city``'s)."""

    def sheets(self, cycle_id: str, project_id: int | None = None, current_only: bool = True) -> list[ScoreSheet]: ...
    def count_current_sheets(
        self,
        cycle_id: str,
        key_states: Sequence[str],
        by_scorer: bool = False,
        by_state: Mapping[str, int] | None = None,
        totals: SheetTotals | None = None,
    ) -> dict[str, int]:
        """Current sheets per scoring city (``by_scorer``: per scorer), of the projects in
        ``key_states`` (``by_state``: the cycle's projects per state, when the caller has counted
        them already; ``totals``: the whole cycle's sheets by that party, where the count needs
        them)."""

    def current_sheet_totals(self, cycle_id: str, by_scorer: bool = False) -> dict[str, tuple[int, int]]:
        """Every current sheet of the cycle by city (``by_scorer``: scorer): (sheets, projects)."""

    def sheet_tally(self, cycle_id: str) -> dict[tuple[str, str], int] | None:
        """The cycle's current sheets by (city, scorer) as the database keeps them as they are
        written (store/tally.py); None where it keeps no tally (then they are counted)."""


class ReportTx(Protocol):
    """What a report reads a page at a time (store/report_rows.py)."""

    def report_list(self, cycle_id: str) -> ListVersion | None:
        """The head (no entries) of the newest published list version, else of the newest."""

    def report_projects(
        self, cycle_id: str, states: Sequence[str], after: int, limit: int
    ) -> list[tuple[int, str, str]]:
        """(id, project name, city) of at most ``limit`` projects in ``states`` above id ``after``."""

    def report_sheet_cities(self, cycle_id: str) -> list[str]:
        """Every city with a current sheet in the cycle, in name order."""

    def report_sheets(
        self,
        cycle_id: str,
        cities: Sequence[str],
        first: int,
        last: int,
        criteria: Sequence[str],
        by_scorer: bool = False,
    ) -> dict[int, dict[str, tuple[Any, ...]]]:
        """The current sheets of ``cities`` on the projects ``first``–``last``, each project's by
        city (``by_scorer``: by scorer): a sheet as the tuple of ``criteria``'s scores in that
        order (None where one is missing), then its total."""

    def report_scorers(self, cycle_id: str) -> list[str]:
        """Every scorer with a current sheet in the cycle, in name order."""

    def project_cities(self, cycle_id: str, state: str) -> list[tuple[int, str]]:
        """(id, city) of the cycle's projects in ``state``."""


class ListTx(Protocol):
    """Ranked lists (numbered versions of a cycle's list) and the parties' confirmations of them."""

    def latest_list(self, cycle_id: str, entries: bool = True) -> ListVersion | None:
        """The newest list version of a cycle; without ``entries`` only its head."""

    def list_versions(self, cycle_id: str, statuses: Sequence[str] | None = None) -> list[ListVersion]:
        """A cycle's list versions with their entries, oldest first (only those in ``statuses``)."""

    def list_entries(self, list_id: int) -> list[ListEntry]: ...
    def insert_list(self, lst: ListVersion) -> None: ...
    def save_list_status(self, lst: ListVersion) -> None:
        """Write the status if the stored version is still ``lst.version``; bump it."""

    def confirmations(self, list_id: int) -> list[Confirmation]: ...
    def add_confirmation(self, c: Confirmation) -> None: ...


class AuditTx(Protocol):
    """The audit trail: append-only entries, each sealed into its cycle's hash chain."""

    def audit(self, entry: AuditEntry) -> None: ...
    def audit_many(self, entries: Sequence[AuditEntry]) -> None: ...
    def audit_batch(self, template: AuditEntry, items: Sequence[Item]) -> None:
        """One entry per item: ``template`` with the item's subject id, states and data."""

    def audit_heads(self) -> dict[str, str]:
        """Every chain's newest hash, as the database records it."""

    def audit_entries(self, cycle_id: str | None = None, chunk: int = 5000) -> Iterator[AuditEntry]:
        """Every audit entry (of one cycle's chain), in id order."""

    def entered_from(self, cycle_id: str, state: str) -> dict[int, str]:
        """For each project of a cycle that entered ``state``, the state it last came from."""

    def history(
        self, subject: str | None = None, subject_id: str | None = None, cycle_id: str | None = None
    ) -> list[AuditEntry]: ...


class CheckpointTx(Protocol):
    """The audit trail's signed checkpoints (workflow/signing.py): inserted, never changed."""

    def lock_checkpoints(self) -> None:
        """Queue behind any other transaction writing a checkpoint, until this one ends."""

    def audit_positions(self) -> dict[str, tuple[str, int]]:
        """Every chain's newest hash and newest entry's id."""

    def add_checkpoint(self, checkpoint: Checkpoint) -> int: ...
    def audit_checkpoints(self, newest: int | None = None) -> list[Checkpoint]:
        """The checkpoints in id order (the ``newest`` last ones only, when given)."""


class AppealTx(Protocol):
    """Appeals against a project's result."""

    def insert_appeal(self, appeal: Appeal) -> None: ...
    def get_appeal(self, appeal_id: int) -> Appeal | None: ...
    def save_appeal(self, appeal: Appeal) -> None:
        """Write the decision if the stored version is still ``appeal.version``; bump it."""

    def appeals(
        self, cycle_id: str | None = None, project_id: int | None = None, statuses: Sequence[str] | None = None
    ) -> list[Appeal]: ...


class ReminderTx(Protocol):
    """Planned reminders, and the lease of the scheduler that sends them."""

    def reminders(self, cycle_id: str | None = None, statuses: Sequence[str] | None = None) -> list[Reminder]: ...
    def replan_reminders(self, cycle_id: str, plan: Sequence[Reminder], unsent: Sequence[str]) -> tuple[int, int, int]:
        """Make the unsent reminders of a cycle match ``plan``; returns (added, moved, removed)."""

    def claim_reminders(self, now: datetime, stale_before: datetime, limit: int = 500) -> list[Reminder]:
        """Mark due reminders 'sending' and return them (and those a crashed dispatcher left)."""

    def save_reminder(self, r: Reminder) -> None: ...
    def next_reminder_due(self) -> datetime | None:
        """The earliest instant at which some reminder becomes due (or is retried)."""

    def acquire_lease(self, name: str, holder: str, now: datetime, expires: datetime) -> Lease:
        """Take or renew the lease ``name`` for ``holder``; the lease as it now stands."""

    def release_lease(self, name: str, holder: str) -> None: ...


class ProjectPageTx(Protocol):
    """Pages of the project list, done by the database (no application read)."""

    def project_page(self, cycle_id: str, query: PageQuery, total: int | None = None) -> tuple[list[Project], int]:
        """One page of a cycle's project list and its view's count (store/project_pages.py;
        ``total``: the count, where the caller knows it)."""

    def project_page_ids(self, cycle_id: str, query: PageQuery) -> list[int]:
        """The ids of a whole view of the project list, in its order."""

    def projects_by_ids(self, ids: list[int]) -> list[Project]:
        """The project list's columns of these projects, in the order of ``ids``."""


@dataclass(frozen=True)
class ProjectGroup:
    """How many projects of a cycle stand alike in what a to-do reads of them: city, state,
    reopened stage and which of the asked record lists are filled."""

    city: str
    state: str
    reopened_to: str | None
    filled: frozenset[str]
    count: int


class CountTx(Protocol):
    """What the dashboard and the scorer's queue count, counted by the database (store/counts.py)."""

    def project_groups(
        self,
        cycle_id: str,
        readable: list[Match] | None,
        record_keys: Sequence[str] = (),
        by_city_state: Mapping[tuple[str, str], int] | None = None,
    ) -> list[ProjectGroup]:
        """The readable projects of a cycle counted by city, state, reopened stage and filled record
        lists (``by_city_state``: the readable projects by city and state, counted already)."""

    def unscored(
        self,
        cycle_id: str,
        readable: list[Match] | None,
        states: Sequence[str],
        party: str | None,
        by_scorer: bool = False,
        limit: int | None = None,
        by_state: Mapping[str, int] | None = None,
        recused: bool = False,
    ) -> tuple[list[Project], int]:
        """The first ``limit`` readable projects in ``states`` a party (None: anyone) has no current
        sheet on, and their count (``by_state``: the cycle's projects per state, counted already;
        ``recused``: not the party's own, a city recused from its own projects)."""

    def unscored_ids(
        self,
        cycle_id: str,
        readable: list[Match] | None,
        states: Sequence[str],
        parties: Sequence[str],
        limit: int,
        recused: bool = False,
    ) -> dict[str, list[int]]:
        """The first ``limit`` ids of the readable projects in ``states`` each of ``parties`` (cities)
        has no current sheet on (``recused``: not its own)."""

    def scored_counts(
        self,
        cycle_id: str,
        readable: list[Match] | None,
        states: Sequence[str],
        by_scorer: bool = False,
        by_state: Mapping[str, int] | None = None,
        totals: SheetTotals | None = None,
    ) -> dict[str, int]:
        """How many readable projects in ``states`` each party has a current sheet on
        (``by_state`` and ``totals`` as ``count_current_sheets``'s)."""

    def sheet_sums_of(
        self, cycle_id: str, project_ids: Sequence[int], own_excluded: bool = False
    ) -> list[tuple[int, int, int]]:
        """(project, sum of totals, sheets) of the current sheets of these projects (``own_excluded``:
        not a city's on its own)."""

    def sheet_keys_of(
        self, cycle_id: str, project_ids: Sequence[int], by_scorer: bool = False, city: str | None = None
    ) -> list[tuple[str, int]]:
        """(city or scorer, project) of the current sheets of these projects."""

    def any_current_sheet(self, cycle_id: str, states: Sequence[str]) -> bool:
        """Whether a project of the cycle in ``states`` has a current sheet."""


class StoreTx(
    UserTx,
    CycleTx,
    ProjectTx,
    ProjectPageTx,
    CountTx,
    SheetTx,
    ReportTx,
    ListTx,
    AuditTx,
    AppealTx,
    ReminderTx,
    DraftTx,
    CheckpointTx,
    Protocol,
):
    """Reads and writes inside one database transaction: every kind of record."""


class Store(Protocol):
    """The port the engine needs from persistence (implemented in store/)."""

    def transaction(self, write: bool = True) -> AbstractContextManager[StoreTx]:
        """One database transaction; commits on success, rolls back on any exception."""
