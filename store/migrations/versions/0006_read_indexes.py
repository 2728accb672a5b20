"""Indexes that answer the engine's cycle-wide reads alone, without reading every project row of
the cycle with its application, or every score sheet row:
- counting the cities' municipal results (a review or a recommendation counts them for its
  quota rules): 11 ms at 10,000 projects, 0.7 ms with the index;
- an import's check for projects submitted already (unit and project name): 19 ms, 8 ms;
- the reopened projects a list waits for (a partial index of only those): 10 ms, none;
- a cycle's current sheets counted by city, or added up by project for ranking: project and
  total are added to the sheets' index (31 ms and 37 ms at 90,000 sheets; 21 ms and 26 ms).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

from store.tables import REOPENED_ONLY

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_projects_cycle_result", "projects", ["cycle_id", "municipal_result", "city"])
    op.create_index("ix_projects_cycle_unit", "projects", ["cycle_id", "enterprise_name", "project_name"])
    op.create_index("ix_projects_reopened", "projects", ["cycle_id", "reopened_to"], **REOPENED_ONLY)
    op.drop_index("ix_sheets_cycle_current", "score_sheets")
    op.create_index("ix_sheets_cycle_current", "score_sheets", ["cycle_id", "current", "city", "project_id", "total"])


def downgrade() -> None:
    op.drop_index("ix_sheets_cycle_current", "score_sheets")
    op.create_index("ix_sheets_cycle_current", "score_sheets", ["cycle_id", "current", "city"])
    op.drop_index("ix_projects_reopened", "projects")
    op.drop_index("ix_projects_cycle_unit", "projects")
    op.drop_index("ix_projects_cycle_result", "projects")
