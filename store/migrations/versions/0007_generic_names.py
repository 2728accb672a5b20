"""Generic names for what one program called its own: a project's review result (was
``municipal_result``) and its applying unit's name (was ``enterprise_name``), in the projects'
columns and in the entries of every stored list version. Every row and index is kept: PostgreSQL
renames the columns in place, SQLite copies the table (batch mode) with its indexes. Audit rows
are left as written: their hashes cover their text, and the history reads either name.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# former column name -> new one, and whether the column takes NULL
RENAMED = {"municipal_result": "review_result", "enterprise_name": "unit_name"}
NULLABLE = {"municipal_result": True, "review_result": True, "enterprise_name": False, "unit_name": False}
ENTRY_KEYS = {"enterprise_name": "unit_name"}  # a list entry's keys (its project's unit)


def _rename_columns(names: dict[str, str]) -> None:
    with op.batch_alter_table("projects") as batch:
        for old, new in names.items():
            batch.alter_column(old, new_column_name=new, existing_type=sa.String(), existing_nullable=NULLABLE[old])


def _rename_entry_keys(names: dict[str, str]) -> None:
    """Rename the keys of every entry of every list version, a version at a time."""
    conn = op.get_bind()
    versions = sa.table("list_versions", sa.column("id", sa.Integer()), sa.column("entries", sa.Text()))
    stored = sa.table("list_versions", sa.column("id", sa.Integer()), sa.column("entries", sa.JSON()))
    rows = conn.execute(sa.select(versions.c.id, sa.cast(versions.c.entries, sa.Text()))).all()
    for version_id, text in rows:
        entries: list[dict[str, Any]] = json.loads(text)
        renamed = [{names.get(k, k): v for k, v in e.items()} for e in entries]
        if renamed != entries:
            conn.execute(stored.update().where(stored.c.id == version_id).values(entries=renamed))


def upgrade() -> None:
    _rename_columns(RENAMED)
    _rename_entry_keys(ENTRY_KEYS)


def downgrade() -> None:
    _rename_entry_keys({new: old for old, new in ENTRY_KEYS.items()})
    _rename_columns({new: old for old, new in RENAMED.items()})
