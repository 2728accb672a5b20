"""A tamper-evident audit trail: each entry's place in a hash chain, the chains' heads, and
the table made append-only (triggers; on PostgreSQL also no UPDATE/DELETE grant). Entries
written before this revision are sealed into their chains here, in id order.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.guard import protect_audit, unprotect_audit
from store.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from workflow.audit import seal
    from workflow.records import AuditEntry

    with op.batch_alter_table("audit") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(), nullable=True))
    op.create_table(
        "audit_heads",
        sa.Column("chain", sa.String(), nullable=False),
        sa.Column("hash", sa.String(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("chain"),
    )
    audit = sa.Table(
        "audit",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime()),
        sa.Column("cycle_id", sa.String),
        sa.Column("subject", sa.String),
        sa.Column("subject_id", sa.String),
        sa.Column("actor", sa.String),
        sa.Column("action", sa.String),
        sa.Column("from_state", sa.String),
        sa.Column("to_state", sa.String),
        sa.Column("reason", sa.String),
        sa.Column("data", sa.JSON),
        sa.Column("prev_hash", sa.String),
        sa.Column("hash", sa.String),
    )
    heads_table = sa.Table(
        "audit_heads",
        sa.MetaData(),
        sa.Column("chain", sa.String, primary_key=True),
        sa.Column("hash", sa.String),
        sa.Column("entry_id", sa.Integer),
    )
    conn = op.get_bind()
    heads: dict[str, str] = {}
    last: dict[str, int] = {}
    rows = conn.execute(sa.select(audit).order_by(audit.c.id)).mappings().all()
    for row in rows:
        entry = AuditEntry(**{k: row[k] for k in row.keys() if k not in ("prev_hash", "hash")})
        seal([entry], heads)
        conn.execute(audit.update().where(audit.c.id == row["id"]).values(prev_hash=entry.prev_hash, hash=entry.hash))
        last[entry.cycle_id or "-"] = row["id"]
    for chain, value in heads.items():
        conn.execute(heads_table.insert().values(chain=chain, hash=value, entry_id=last[chain]))
    protect_audit(conn)


def downgrade() -> None:
    unprotect_audit(op.get_bind())
    op.drop_table("audit_heads")
    with op.batch_alter_table("audit") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
