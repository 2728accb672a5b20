"""A user's ``active`` flag: the lead deactivates a user who has left (they sign in no more, their
sessions and API tokens stop working) and may reactivate them; the user and their trail stay.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.text("true")))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("active")
