"""The audit table is append-only in the database itself, not only in evalflow's code: on SQLite
triggers refuse UPDATE and DELETE of its rows; on PostgreSQL a trigger does the same and the
application's role loses its UPDATE, DELETE and TRUNCATE grants on it. The signed checkpoints of
the trail (audit_checkpoints, migration 0012) are kept the same way."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

MESSAGE = "audit entries are append-only"

_SQLITE = [
    f"CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    f"CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]
_POSTGRES = [
    "CREATE OR REPLACE FUNCTION evalflow_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$",
    "DROP TRIGGER IF EXISTS audit_append_only ON audit",
    "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
    "FOR EACH ROW EXECUTE FUNCTION evalflow_audit_append_only()",
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM CURRENT_USER",
]


def protect_audit(conn: Any) -> None:
    """Make the audit table append-only for the connection's database (idempotent)."""
    for statement in _SQLITE if conn.dialect.name == "sqlite" else _POSTGRES:
        conn.execute(text(statement))


def unprotect_audit(conn: Any) -> None:
    """Undo :func:`protect_audit` (a migration that must rewrite the table; never the engine)."""
    if conn.dialect.name == "sqlite":
        conn.execute(text("DROP TRIGGER IF EXISTS audit_no_update"))
        conn.execute(text("DROP TRIGGER IF EXISTS audit_no_delete"))
    else:
        conn.execute(text("GRANT UPDATE, DELETE, TRUNCATE ON audit TO CURRENT_USER"))
        conn.execute(text("DROP TRIGGER IF EXISTS audit_append_only ON audit"))


CHECKPOINTS_MESSAGE = "audit checkpoints are append-only"

_SQLITE_CHECKPOINTS = [
    "CREATE TRIGGER IF NOT EXISTS audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints"
    f" BEGIN SELECT RAISE(ABORT, '{CHECKPOINTS_MESSAGE}'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints"
    f" BEGIN SELECT RAISE(ABORT, '{CHECKPOINTS_MESSAGE}'); END",
]
_POSTGRES_CHECKPOINTS = [
    "CREATE OR REPLACE FUNCTION evalflow_audit_checkpoints_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{CHECKPOINTS_MESSAGE}'; END $$",
    "DROP TRIGGER IF EXISTS audit_checkpoints_append_only ON audit_checkpoints",
    "CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints "
    "FOR EACH ROW EXECUTE FUNCTION evalflow_audit_checkpoints_append_only()",
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit_checkpoints FROM CURRENT_USER",
]


def protect_checkpoints(conn: Any) -> None:
    """Make the checkpoints table append-only, as :func:`protect_audit` does the audit table (idempotent)."""
    for statement in _SQLITE_CHECKPOINTS if conn.dialect.name == "sqlite" else _POSTGRES_CHECKPOINTS:
        conn.execute(text(statement))


def unprotect_checkpoints(conn: Any) -> None:
    """Undo :func:`protect_checkpoints` (its migration going back; never the engine)."""
    if conn.dialect.name == "sqlite":
        conn.execute(text("DROP TRIGGER IF EXISTS audit_checkpoints_no_update"))
        conn.execute(text("DROP TRIGGER IF EXISTS audit_checkpoints_no_delete"))
    else:
        conn.execute(text("GRANT UPDATE, DELETE, TRUNCATE ON audit_checkpoints TO CURRENT_USER"))
        conn.execute(text("DROP TRIGGER IF EXISTS audit_checkpoints_append_only ON audit_checkpoints"))
