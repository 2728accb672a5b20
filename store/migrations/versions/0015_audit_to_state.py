"""An index of a cycle's audit entries by the state they took a subject to (cycle, to_state, id):
where each awarded project was awarded from (``entered_from``), read by every report and every
corrected publication, read the cycle's whole trail (1.4 million entries, about 0.7 s at 100,000
projects) for the 30,000 entries it keeps.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_cycle_to_state", "audit", ["cycle_id", "to_state", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_cycle_to_state", "audit")
