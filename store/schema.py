"""The schema, declared once: the tables as plain SQLAlchemy Core. The store reads and writes
them at run time, a new database is created from them, the migrations are compared with them
(tests/store/test_migrations.py), and the SQLModel row classes of store/tables.py are made from
them. Core, not SQLModel, is the declaration because importing SQLModel (and pydantic with it)
and building its classes costs a command about 0.15 s before it reads a row.

The engine's records (workflow/records.py) are the columns of their tables; a table may hold
more (a user's created_at), never less (tests/store/test_schema.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
    text,
)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC instants on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; every instant must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def same_instant(process: Any) -> Any:
    """An instant's bind ``process`` remembering its last value: a batch's rows share one instant,
    converted once (store/rows.py binders, store/pg_bulk.py binder)."""
    last: list[Any] = [object(), None]

    def remembered(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, process(value)
        return last[1]

    return remembered


metadata = MetaData()


def _id() -> Column:
    return Column("id", Integer, primary_key=True)


def _text(name: str, *args: Any, nullable: bool = False, **kw: Any) -> Column:
    return Column(name, String, *args, nullable=nullable, **kw)


def _int(name: str, *args: Any, nullable: bool = False, **kw: Any) -> Column:
    return Column(name, Integer, *args, nullable=nullable, **kw)


def _instant(name: str, nullable: bool = False) -> Column:
    return Column(name, UTCDateTime(), nullable=nullable)


def _json(name: str, empty: type = dict) -> Column:
    # ``empty``: what the value is when there is nothing in it (the row classes' default)
    return Column(name, JSON, nullable=False, info={"empty": empty})


users = Table(
    "users",
    metadata,
    _id(),
    _text("name", index=True, unique=True),
    _text("role"),
    _text("city", nullable=True),
    _instant("created_at"),
    _text("language", nullable=True),  # the console's language for the user: zh_CN, en, or not chosen
    # (migration 0011) a deactivated user signs in no more; their sessions and tokens stop working
    Column("active", Boolean, nullable=False, default=True, server_default=text("true")),
)

cycles = Table(
    "cycles",
    metadata,
    _text("id", primary_key=True),
    _text("program_id"),
    _int("program_version"),
    _text("program_digest"),
    _int("year"),
    _text("stage"),
    _json("settings"),
    _int("version", default=1),
    _instant("opened_at"),
    _text("opened_by"),
)

# the partial index's condition: only reopened projects are in it
REOPENED_ONLY: dict[str, Any] = {
    "sqlite_where": text("reopened_to IS NOT NULL"),
    "postgresql_where": text("reopened_to IS NOT NULL"),
}

projects = Table(
    "projects",
    metadata,
    _id(),
    _text("cycle_id", ForeignKey("cycles.id")),
    _text("city"),
    _text("applicant"),
    _text("unit_name"),
    _text("project_name"),
    _json("application"),
    _text("state"),
    _text("review_result", nullable=True),
    _text("review_method", nullable=True),
    _int("version", default=1),
    _instant("submitted_at"),
    _instant("updated_at"),
    _text("reopened_to", nullable=True),
    _json("record"),
    Index("ix_projects_cycle_city_state", "cycle_id", "city", "state"),
    # (migration 0006) counting the parties' review results, an import's check for projects
    # submitted already, and finding the reopened projects, each from an index alone
    Index("ix_projects_cycle_result", "cycle_id", "review_result", "city"),
    Index("ix_projects_cycle_unit", "cycle_id", "unit_name", "project_name"),
    Index("ix_projects_reopened", "cycle_id", "reopened_to", **REOPENED_ONLY),
    # (migration 0013) a cycle's projects in id order (a page of the list, a whole cycle read in
    # order) from its own rows, not by reading every cycle's ids from the first
    Index("ix_projects_cycle_id", "cycle_id", "id"),
)

score_sheets = Table(
    "score_sheets",
    metadata,
    _id(),
    _text("cycle_id", ForeignKey("cycles.id")),
    _int("project_id", ForeignKey("projects.id"), index=True),
    _text("city"),
    _text("scorer"),
    _json("scores"),
    _json("bands"),
    _int("total"),
    _text("completion", default=""),
    Column("current", Boolean, nullable=False, default=True),
    _instant("at"),
    # (migration 0006: project and total added) a cycle's current sheets counted by city, or added
    # up by project for ranking, from the index alone
    Index("ix_sheets_cycle_current", "cycle_id", "current", "city", "project_id", "total"),
    # (migration 0013) a project's current sheets of a cycle found by its leading columns: what
    # a count of the sheets of some projects (a subquery or a join on projects) looks up per
    # project. With only the index above, a plan made without statistics read the whole cycle's
    # sheets once per project (46 s at 10,000 projects); the city and scorer are there so that
    # counting them needs no sheet row
    Index("ix_sheets_cycle_project", "cycle_id", "current", "project_id", "city", "scorer"),
)

list_versions = Table(
    "list_versions",
    metadata,
    _id(),
    _text("cycle_id", ForeignKey("cycles.id")),
    _int("number"),
    _text("status"),
    _text("method"),
    _json("entries", list),
    _json("tie_order", list),
    _text("proposed_by"),
    _instant("at"),
    _int("version", default=1),
    UniqueConstraint("cycle_id", "number"),
)

confirmations = Table(
    "confirmations",
    metadata,
    _id(),
    _int("list_id", ForeignKey("list_versions.id"), index=True),
    _text("city"),
    _text("user"),
    _text("decision"),
    _text("reason", default=""),
    _instant("at"),
)

audit = Table(
    "audit",
    metadata,
    _id(),
    _instant("at"),
    _text("cycle_id", nullable=True),
    _text("subject"),
    _text("subject_id"),
    _text("actor"),
    _text("action"),
    _text("from_state", nullable=True),
    _text("to_state", nullable=True),
    _text("reason", default=""),
    _json("data"),
    _text("prev_hash", nullable=True),
    _text("hash", nullable=True),
    Index("ix_audit_subject", "subject", "subject_id"),
    # (migration 0013: was on cycle_id alone) a cycle's chain in id order, and its newest entry,
    # from its own entries
    Index("ix_audit_cycle", "cycle_id", "id"),
    # (migration 0015) the entries of a cycle that took projects into a state, in id order: where
    # each awarded project was awarded from, read by every report and corrected publication,
    # without the cycle's whole trail (1.4 million entries at 100,000 projects)
    Index("ix_audit_cycle_to_state", "cycle_id", "to_state", "id"),
)

audit_heads = Table(
    "audit_heads",
    metadata,
    _text("chain", primary_key=True),
    _text("hash"),
    _int("entry_id"),
)

# signed checkpoints of the audit trail (migration 0012): where every chain ended when one was
# signed, and the Ed25519 signature over it (workflow/signing.py); append-only like ``audit``
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    _id(),
    _instant("at"),
    _text("why"),  # publication, daily or manual
    _text("head"),  # the one hash of every chain's head (workflow/audit.py combined)
    _json("heads"),  # chain -> [its head hash, its newest entry id]
    _int("last_entry_id"),
    _text("previous"),  # the checkpoint before it (workflow/signing.py digest)
    _text("key"),  # the signing key's fingerprint
    _text("signature"),
)

appeals = Table(
    "appeals",
    metadata,
    _id(),
    _text("cycle_id", ForeignKey("cycles.id")),
    _int("project_id", ForeignKey("projects.id"), index=True),
    _text("city"),
    _text("filed_by"),
    _instant("filed_at"),
    _text("against_state"),
    _text("against_stage"),
    _text("reason"),
    _int("list_version", nullable=True),
    _text("status"),
    _text("decided_by", nullable=True),
    _instant("decided_at", nullable=True),
    _text("decision_reason", default=""),
    _text("reopen_to", nullable=True),
    _int("version", default=1),
    Index("ix_appeals_cycle_status", "cycle_id", "status"),
)

reminders = Table(
    "reminders",
    metadata,
    _id(),
    _text("cycle_id", ForeignKey("cycles.id"), index=True),
    _text("stage"),
    _text("offset"),
    _text("recipient"),
    _instant("due_at"),
    _text("key", unique=True),
    _text("status"),
    _int("attempts", default=0),
    _instant("next_attempt_at", nullable=True),
    _instant("claimed_at", nullable=True),
    _instant("sent_at", nullable=True),
    _json("channels_done", list),
    _text("message", default=""),
    _text("last_error", default=""),
    Index("ix_reminders_status_due", "status", "due_at"),
)

leases = Table(
    "leases",
    metadata,
    _text("name", primary_key=True),
    _text("holder"),
    _instant("acquired_at"),
    _instant("expires_at"),
)

# -- the web console: passwords, signed-in sessions, API tokens (migration 0005) -------------
credentials = Table(
    "credentials",
    metadata,
    _text("user_name", ForeignKey("users.name"), primary_key=True),
    _text("password_hash"),
    _instant("set_at"),
    _int("failures", default=0),
    _instant("locked_until", nullable=True),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    _text("id", primary_key=True),
    _text("user_name", ForeignKey("users.name"), index=True),
    _text("csrf"),
    _instant("created_at"),
    _instant("seen_at"),
    _json("flash", list),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    _id(),
    _text("user_name", ForeignKey("users.name"), index=True),
    _text("label"),
    _text("token_hash", unique=True),
    _instant("created_at"),
    _instant("last_used", nullable=True),
    _instant("revoked_at", nullable=True),
)

# the files attached to a project (the declared documents of its form), each stored once by its
# content's sha256 in a blob store (store/blobs.py); removed ones are kept, marked
attachments = Table(
    "attachments",
    metadata,
    _id(),
    _int("project_id", ForeignKey("projects.id"), index=True),
    _text("document"),
    _text("file_name"),
    _text("media_type"),
    _int("size"),
    _text("sha256", index=True),
    _text("uploaded_by"),
    _instant("uploaded_at"),
    _instant("removed_at", nullable=True),
    _text("removed_by", nullable=True),
)

# file contents by sha256, for the store that keeps them in the database (a shared deployment
# on PostgreSQL: bytea)
blobs = Table(
    "blobs",
    metadata,
    Column("sha256", String, primary_key=True),
    _int("size"),
    Column("data", LargeBinary, nullable=False),
)

# an applicant's application not yet submitted (the web console's 暂存): one per user and cycle,
# read and written only by its owner; nothing a city sees (see workflow/drafts.py)
drafts = Table(
    "drafts",
    metadata,
    _id(),
    _text("cycle_id", ForeignKey("cycles.id")),
    _text("owner", ForeignKey("users.name")),
    _json("data"),
    _instant("updated_at"),
    UniqueConstraint("cycle_id", "owner", name="uq_drafts_cycle_owner"),
)
