"""The schema is declared once, as the Core tables of store/schema.py: the SQLModel row classes of
store/tables.py are made from them (the same tables, columns, types, defaults, keys, constraints
and indexes, on every backend), and the engine's records of workflow/records.py are columns of
their tables."""

from __future__ import annotations

from dataclasses import fields

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from store import schema
from store.tables import ROWS
from workflow import records
from workflow.attachments import Attachment, Blob
from workflow.drafts import Draft
from workflow.signing import Checkpoint

DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}
MODEL_TABLES = {name: cls.__table__ for name, cls in ROWS.items()}  # type: ignore[attr-defined]

# the record the store reads each table's rows into, and the columns it holds besides its fields
RECORDS = {
    "users": (records.User, {"id", "created_at"}),
    "cycles": (records.Cycle, set()),
    "projects": (records.Project, set()),
    "score_sheets": (records.ScoreSheet, set()),
    "list_versions": (records.ListVersion, set()),
    "confirmations": (records.Confirmation, {"id"}),
    "audit": (records.AuditEntry, set()),
    "appeals": (records.Appeal, set()),
    "reminders": (records.Reminder, set()),
    "leases": (records.Lease, set()),
    "credentials": (records.Credential, set()),
    "web_sessions": (records.WebSession, set()),
    "api_tokens": (records.ApiToken, set()),
    "attachments": (Attachment, set()),
    "blobs": (Blob, set()),
    "drafts": (Draft, set()),
    "audit_checkpoints": (Checkpoint, {"last_entry_id"}),  # (what a checkpoint's heads give)
}


def test_the_same_tables() -> None:
    assert set(schema.metadata.tables) == set(MODEL_TABLES)


@pytest.mark.parametrize("name", sorted(schema.metadata.tables))
def test_a_row_class_is_mapped_to_the_declared_table(name: str) -> None:
    cls = ROWS[name]
    assert MODEL_TABLES[name] is schema.metadata.tables[name]
    assert list(cls.model_fields) == [c.name for c in schema.metadata.tables[name].columns]


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize("name", sorted(schema.metadata.tables))
def test_a_table_is_created_alike(name: str, dialect: str) -> None:
    core, model = schema.metadata.tables[name], MODEL_TABLES[name]
    d = DIALECTS[dialect]
    assert str(CreateTable(core).compile(dialect=d)) == str(CreateTable(model).compile(dialect=d))
    indexes = [sorted(str(CreateIndex(i).compile(dialect=d)) for i in t.indexes) for t in (core, model)]
    assert indexes[0] == indexes[1]


@pytest.mark.parametrize("name", sorted(schema.metadata.tables))
def test_a_table_has_the_same_python_defaults(name: str) -> None:
    def defaults(table) -> dict[str, object]:
        return {c.name: getattr(c.default, "arg", None) for c in table.columns}

    assert defaults(schema.metadata.tables[name]) == defaults(MODEL_TABLES[name])


def test_every_table_but_the_audit_heads_has_its_record() -> None:
    assert set(schema.metadata.tables) - set(RECORDS) == {"audit_heads"}


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_a_record_is_the_columns_of_its_table(name: str) -> None:
    record, besides = RECORDS[name]
    columns = {c.name for c in schema.metadata.tables[name].columns}
    assert {f.name for f in fields(record)} == columns - besides
