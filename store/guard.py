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


# the tables a batch grows enough to analyse (store/pg_bulk.py ANALYZED): the function refuses others
ANALYZABLE = ("projects", "score_sheets")


def install_analyze(conn: Any) -> None:
    """PostgreSQL: ``evalflow_analyze(table)``, a SECURITY DEFINER function through which the
    application role has a table a batch grew analysed at once. Before PostgreSQL 17 only a
    table's owner may ANALYZE it, and `evalflow db roles` leaves the application role owning
    nothing (it hands this function to the owner role too, with the tables); without it a large
    import waited for autovacuum with statistics of an empty table. It analyses only the tables
    named in ANALYZABLE, of the schema it was made in; ANALYZE reads and never changes rows.
    Idempotent; nothing on SQLite (its plans use no statistics)."""
    if conn.dialect.name != "postgresql":
        return
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    literal = "'" + str(schema).replace("'", "''") + "'"
    allowed = ", ".join(f"'{t}'" for t in ANALYZABLE)
    conn.execute(
        text(
            "CREATE OR REPLACE FUNCTION evalflow_analyze(target text) RETURNS void LANGUAGE plpgsql"
            " SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$ BEGIN"
            f" IF target NOT IN ({allowed}) THEN"
            " RAISE EXCEPTION 'evalflow_analyze: % is not a table a batch grows', target; END IF;"
            f" EXECUTE format('ANALYZE %I.%I', {literal}, target); END $$"
        )
    )


def remove_analyze(conn: Any) -> None:
    """Undo :func:`install_analyze` (its migration going back)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("DROP FUNCTION IF EXISTS evalflow_analyze(text)"))
