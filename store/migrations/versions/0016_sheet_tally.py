"""PostgreSQL: the tally of each cycle's current score sheets by city and scorer, kept by
statement triggers on the sheets (store/tally.py), counted once from the sheets already there:
the counts a dashboard shows no longer read every sheet of the cycle. Nothing on SQLite.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from alembic import op

from store.tally import install_sheet_tally, remove_sheet_tally

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    install_sheet_tally(op.get_bind())


def downgrade() -> None:
    remove_sheet_tally(op.get_bind())
