"""Indexes that fit every per-cycle read, whether or not the planner has statistics of the tables
(tests/store/test_query_plans.py EXPLAINs each on PostgreSQL):
- a project's current sheets of a cycle by the index's leading columns (cycle, current, project;
  its city and scorer with them): the per-city count of the sheets of the cycle's key projects
  looked each project up in the (cycle, current, city, project, total) index, whose leading
  columns name no project, and read the whole cycle's sheets once per project: 46 s at 10,000
  projects on tables autovacuum had not yet analysed;
- a cycle's projects in id order (cycle, id): a page of the list read every older cycle's
  projects before the first of its own;
- a cycle's audit entries in id order and its newest one (cycle, id, in place of the index on
  the cycle alone): the chain's newest entry, asked after every batch, read the whole chain.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_sheets_cycle_project", "score_sheets", ["cycle_id", "current", "project_id", "city", "scorer"])
    op.create_index("ix_projects_cycle_id", "projects", ["cycle_id", "id"])
    op.create_index("ix_audit_cycle", "audit", ["cycle_id", "id"])
    op.drop_index("ix_audit_cycle_id", "audit")


def downgrade() -> None:
    op.create_index("ix_audit_cycle_id", "audit", ["cycle_id"])
    op.drop_index("ix_audit_cycle", "audit")
    op.drop_index("ix_projects_cycle_id", "projects")
    op.drop_index("ix_sheets_cycle_project", "score_sheets")
