"""The audit table is append-only in the database itself, not only in evalflow's code: on SQLite
triggers refuse UPDATE and DELETE of its rows; on PostgreSQL a trigger does the same and the
application's role loses its UPDATE, DELETE and TRUNCATE grants on it."""

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
