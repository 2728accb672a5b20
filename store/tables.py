"""SQLModel tables: the schema a new database is created with and the migrations are written
against. The engine sees the records of workflow/records.py; the store reads and writes the same
tables through store/schema.py (kept the same by tests/store/test_schema.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.schema import REOPENED_ONLY, UTCDateTime  # (the migrations import UTCDateTime from here)


def _instant(**kw: Any) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), **kw))


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class UserRow(SQLModel, table=True):
    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    role: str
    city: str | None = None
    created_at: datetime = _instant(nullable=False)


class CycleRow(SQLModel, table=True):
    __tablename__ = "cycles"
    id: str = Field(primary_key=True)
    program_id: str
    program_version: int
    program_digest: str
    year: int
    stage: str
    settings: dict = _json()
    version: int = 1
    opened_at: datetime = _instant(nullable=False)
    opened_by: str


class ProjectRow(SQLModel, table=True):
    __tablename__ = "projects"
    __table_args__ = (
        Index("ix_projects_cycle_city_state", "cycle_id", "city", "state"),
        # (migration 0006)
        Index("ix_projects_cycle_result", "cycle_id", "municipal_result", "city"),
        Index("ix_projects_cycle_unit", "cycle_id", "enterprise_name", "project_name"),
        Index("ix_projects_reopened", "cycle_id", "reopened_to", **REOPENED_ONLY),
    )
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: str = Field(foreign_key="cycles.id")
    city: str
    applicant: str
    enterprise_name: str
    project_name: str
    application: dict = _json()
    state: str
    municipal_result: str | None = None
    review_method: str | None = None
    version: int = 1
    submitted_at: datetime = _instant(nullable=False)
    updated_at: datetime = _instant(nullable=False)
    reopened_to: str | None = None
    record: dict = _json()


class ScoreSheetRow(SQLModel, table=True):
    __tablename__ = "score_sheets"
    __table_args__ = (Index("ix_sheets_cycle_current", "cycle_id", "current", "city", "project_id", "total"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: str = Field(foreign_key="cycles.id")
    project_id: int = Field(foreign_key="projects.id", index=True)
    city: str
    scorer: str
    scores: dict = _json()
    bands: dict = _json()
    total: int
    completion: str = ""
    current: bool = True
    at: datetime = _instant(nullable=False)


class ListVersionRow(SQLModel, table=True):
    __tablename__ = "list_versions"
    __table_args__ = (UniqueConstraint("cycle_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: str = Field(foreign_key="cycles.id")
    number: int
    status: str
    method: str
    entries: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    tie_order: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    proposed_by: str
    at: datetime = _instant(nullable=False)
    version: int = 1


class ConfirmationRow(SQLModel, table=True):
    __tablename__ = "confirmations"
    id: int | None = Field(default=None, primary_key=True)
    list_id: int = Field(foreign_key="list_versions.id", index=True)
    city: str
    user: str
    decision: str
    reason: str = ""
    at: datetime = _instant(nullable=False)


class AuditRow(SQLModel, table=True):
    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_subject", "subject", "subject_id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _instant(nullable=False)
    cycle_id: str | None = Field(default=None, index=True)
    subject: str
    subject_id: str
    actor: str
    action: str
    from_state: str | None = None
    to_state: str | None = None
    reason: str = ""
    data: dict = _json()
    prev_hash: str | None = None
    hash: str | None = None


class AuditHeadRow(SQLModel, table=True):
    """The newest hash of each audit chain (a cycle's, or "-" for entries outside any cycle)."""

    __tablename__ = "audit_heads"
    chain: str = Field(primary_key=True)
    hash: str
    entry_id: int


class AppealRow(SQLModel, table=True):
    __tablename__ = "appeals"
    __table_args__ = (Index("ix_appeals_cycle_status", "cycle_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: str = Field(foreign_key="cycles.id")
    project_id: int = Field(foreign_key="projects.id", index=True)
    city: str
    filed_by: str
    filed_at: datetime = _instant(nullable=False)
    against_state: str
    against_stage: str
    reason: str
    list_version: int | None = None
    status: str
    decided_by: str | None = None
    decided_at: datetime | None = _instant(nullable=True)
    decision_reason: str = ""
    reopen_to: str | None = None
    version: int = 1


class ReminderRow(SQLModel, table=True):
    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_status_due", "status", "due_at"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: str = Field(foreign_key="cycles.id", index=True)
    stage: str
    offset: str
    recipient: str
    due_at: datetime = _instant(nullable=False)
    key: str = Field(unique=True)
    status: str
    attempts: int = 0
    next_attempt_at: datetime | None = _instant(nullable=True)
    claimed_at: datetime | None = _instant(nullable=True)
    sent_at: datetime | None = _instant(nullable=True)
    channels_done: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    message: str = ""
    last_error: str = ""


class LeaseRow(SQLModel, table=True):
    __tablename__ = "leases"
    name: str = Field(primary_key=True)
    holder: str
    acquired_at: datetime = _instant(nullable=False)
    expires_at: datetime = _instant(nullable=False)


# -- the web console: passwords, signed-in sessions, API tokens (migration 0005) -------------
class CredentialRow(SQLModel, table=True):
    __tablename__ = "credentials"
    user_name: str = Field(primary_key=True, foreign_key="users.name")
    password_hash: str
    set_at: datetime = _instant(nullable=False)
    failures: int = 0
    locked_until: datetime | None = _instant(nullable=True)


class SessionRow(SQLModel, table=True):
    __tablename__ = "web_sessions"
    id: str = Field(primary_key=True)  # sha256 of the cookie's token; the token itself is never stored
    user_name: str = Field(foreign_key="users.name", index=True)
    csrf: str
    created_at: datetime = _instant(nullable=False)
    seen_at: datetime = _instant(nullable=False)
    flash: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class TokenRow(SQLModel, table=True):
    __tablename__ = "api_tokens"
    id: int | None = Field(default=None, primary_key=True)
    user_name: str = Field(foreign_key="users.name", index=True)
    label: str
    token_hash: str = Field(unique=True)
    created_at: datetime = _instant(nullable=False)
    last_used: datetime | None = _instant(nullable=True)
    revoked_at: datetime | None = _instant(nullable=True)
