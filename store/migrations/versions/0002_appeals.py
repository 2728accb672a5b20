"""Appeals: the appeals table, and the stage a project was reopened to.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("reopened_to", sa.String(), nullable=True))
    op.create_table(
        "appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.String(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("city", sa.String(), nullable=False),
        sa.Column("filed_by", sa.String(), nullable=False),
        sa.Column("filed_at", UTCDateTime(), nullable=False),
        sa.Column("against_state", sa.String(), nullable=False),
        sa.Column("against_stage", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("list_version", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decision_reason", sa.String(), nullable=False),
        sa.Column("reopen_to", sa.String(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["cycles.id"],
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_appeals_cycle_status", "appeals", ["cycle_id", "status"], unique=False)
    op.create_index(op.f("ix_appeals_project_id"), "appeals", ["project_id"], unique=False)


def downgrade() -> None:
    op.drop_table("appeals")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("reopened_to")
