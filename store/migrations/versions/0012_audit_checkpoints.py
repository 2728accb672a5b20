"""Signed checkpoints of the audit trail: where every chain ended when a checkpoint was signed
(at a publication, daily, or on demand) and the Ed25519 signature over it (workflow/signing.py).
The table is append-only like ``audit`` (store/guard.py).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.guard import protect_checkpoints, unprotect_checkpoints
from store.tables import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("why", sa.String(), nullable=False),
        sa.Column("head", sa.String(), nullable=False),
        sa.Column("heads", sa.JSON(), nullable=False),
        sa.Column("last_entry_id", sa.Integer(), nullable=False),
        sa.Column("previous", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("signature", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    protect_checkpoints(op.get_bind())


def downgrade() -> None:
    unprotect_checkpoints(op.get_bind())
    op.drop_table("audit_checkpoints")
