"""PostgreSQL: ``evalflow_analyze(table)``, through which the application role has a table a batch
grew analysed at once (store/guard.py install_analyze; only a table's owner may ANALYZE it before
PostgreSQL 17). Nothing on SQLite.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from alembic import op

from store.guard import install_analyze, remove_analyze

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    install_analyze(op.get_bind())


def downgrade() -> None:
    remove_analyze(op.get_bind())
