"""An index for counting the cities' municipal results: a review or a recommendation counts them
for its quota rules, and without it each count read every project row of the cycle with its
application (15 ms at 10,000 projects, 150 ms at 100,000); the index answers it alone.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_projects_cycle_result", "projects", ["cycle_id", "municipal_result", "city"])


def downgrade() -> None:
    op.drop_index("ix_projects_cycle_result", "projects")
