"""SQLModel row classes of the store's tables, made from the one declaration of the schema, the
Core tables of store/schema.py: each class is mapped to its table itself, its fields are the
table's columns with their Python types and defaults, so the two cannot differ.

The store reads and writes with Core alone (a command then imports neither SQLModel nor pydantic)
and the engine sees the records of workflow/records.py; these classes are for work outside the
store on rows as the ORM has them (a benchmark's naive path, a test writing a column through its
type). The migrations import UTCDateTime and REOPENED_ONLY from here, as they always did.
"""

from __future__ import annotations

import types
from typing import Any

from sqlalchemy import JSON, Column, Table
from sqlmodel import Field, SQLModel

from store import schema
from store.schema import REOPENED_ONLY, UTCDateTime

__all__ = ["REOPENED_ONLY", "ROWS", "UTCDateTime", "row_model"]


def _python_type(column: Column) -> Any:
    if isinstance(column.type, JSON):
        return Any
    kind = column.type.python_type
    generated = column.primary_key and column.autoincrement is not False and kind is int
    return kind | None if column.nullable or generated else kind


def _field(column: Column) -> Any:
    if isinstance(column.type, JSON):  # (an empty dict or list, as schema.py's column says)
        return Field(default_factory=column.info.get("empty", dict), sa_column=column)
    if column.default is not None:
        return Field(default=column.default.arg, sa_column=column)  # type: ignore[attr-defined]
    if column.nullable or _python_type(column) == int | None:
        return Field(default=None, sa_column=column)
    return Field(sa_column=column)


def row_model(name: str, table: Table) -> type[SQLModel]:
    """A SQLModel table class called ``name`` mapped to the Core ``table``: a field per column."""

    def body(namespace: dict[str, Any]) -> None:
        namespace["__module__"] = __name__
        namespace["__table__"] = table
        namespace["__annotations__"] = {c.name: _python_type(c) for c in table.columns}
        namespace.update({c.name: _field(c) for c in table.columns})

    return types.new_class(name, (SQLModel,), {"table": True}, body)


UserRow = row_model("UserRow", schema.users)
CycleRow = row_model("CycleRow", schema.cycles)
ProjectRow = row_model("ProjectRow", schema.projects)
ScoreSheetRow = row_model("ScoreSheetRow", schema.score_sheets)
ListVersionRow = row_model("ListVersionRow", schema.list_versions)
ConfirmationRow = row_model("ConfirmationRow", schema.confirmations)
AuditRow = row_model("AuditRow", schema.audit)
AuditHeadRow = row_model("AuditHeadRow", schema.audit_heads)
AuditCheckpointRow = row_model("AuditCheckpointRow", schema.audit_checkpoints)
AppealRow = row_model("AppealRow", schema.appeals)
ReminderRow = row_model("ReminderRow", schema.reminders)
LeaseRow = row_model("LeaseRow", schema.leases)
CredentialRow = row_model("CredentialRow", schema.credentials)
SessionRow = row_model("SessionRow", schema.web_sessions)
TokenRow = row_model("TokenRow", schema.api_tokens)
AttachmentRow = row_model("AttachmentRow", schema.attachments)
BlobRow = row_model("BlobRow", schema.blobs)
DraftRow = row_model("DraftRow", schema.drafts)

# every table's row class, by table name (tests/store/test_schema.py: one for each table)
ROWS: dict[str, type[SQLModel]] = {
    cls.__table__.name: cls  # type: ignore[attr-defined]
    for cls in (
        UserRow,
        CycleRow,
        ProjectRow,
        ScoreSheetRow,
        ListVersionRow,
        ConfirmationRow,
        AuditRow,
        AuditHeadRow,
        AuditCheckpointRow,
        AppealRow,
        ReminderRow,
        LeaseRow,
        CredentialRow,
        SessionRow,
        TokenRow,
        AttachmentRow,
        BlobRow,
        DraftRow,
    )
}
