"""Applicants' drafts: an application typed in the web console and saved before it is submitted,
one per user and cycle, seen by its owner alone (not a project: no city sees it).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.tables import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.String(), sa.ForeignKey("cycles.id"), nullable=False),
        sa.Column("owner", sa.String(), sa.ForeignKey("users.name"), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cycle_id", "owner", name="uq_drafts_cycle_owner"),
    )


def downgrade() -> None:
    op.drop_table("drafts")
