"""PostgreSQL: a tally of each cycle's current score sheets by city and scorer, kept by the
database itself as sheets are written, so that the counts every dashboard and status shows stay
the same size whatever the cycle's (schema 0016).

Counting a cycle's current sheets reads every one of them: 180,000 index entries (40–100 ms) at
100,000 projects, a few times a second while nine cities' scorers enter sheets, each of whose
entries makes every count that follows a new one. ``sheet_tallies`` holds one row a cycle, city
and scorer: how many current sheets there are. Statement triggers on ``score_sheets`` (with their
transition tables: one grouped upsert a statement, however many rows a batch or a COPY wrote)
add the rows that became current and take off those that stopped being current, in the writing
transaction, so a reader sees the tally and the sheets of the same moment. Every change of a
cycle is made one after the other (its row is locked first: workflow/engine/context.py), so two
writers never wait on each other's tally rows.

The trigger function is SECURITY DEFINER: after `evalflow db roles` the application role reads
the tally (store/roles.py READ_ONLY) and only its sheets' triggers change it. A TRUNCATE of the
sheets empties the tally. Nothing on SQLite (one office, no load of nine cities: the counts are
read from the sheets there)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

TABLE = "sheet_tallies"


def install_sheet_tally(conn: Any, fill: bool = True) -> None:
    """Make the tally, its function and triggers, and (``fill``) count the sheets already there.
    Idempotent; nothing on SQLite."""
    if conn.dialect.name != "postgresql":
        return
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    table = '"' + str(schema).replace('"', '""') + f'".{TABLE}'
    conn.execute(
        text(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (cycle_id VARCHAR NOT NULL, city VARCHAR NOT NULL,"
            " scorer VARCHAR NOT NULL, sheets INTEGER NOT NULL, PRIMARY KEY (cycle_id, city, scorer))"
        )
    )

    def changed(rows: str, sign: str) -> str:
        return f"SELECT cycle_id, city, scorer, {sign}count(*) AS n FROM {rows} WHERE current GROUP BY 1, 2, 3"

    def upsert(source: str) -> str:
        # (in key order: the same rows locked in the same order by every statement)
        return (
            f"INSERT INTO {table} AS t (cycle_id, city, scorer, sheets)"
            f" SELECT cycle_id, city, scorer, sum(n) FROM ({source}) d GROUP BY 1, 2, 3"
            " HAVING sum(n) <> 0 ORDER BY 1, 2, 3"
            " ON CONFLICT (cycle_id, city, scorer) DO UPDATE SET sheets = t.sheets + excluded.sheets;"
        )

    conn.execute(
        text(
            "CREATE OR REPLACE FUNCTION evalflow_sheet_tally() RETURNS trigger LANGUAGE plpgsql"
            " SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$ BEGIN"
            " IF TG_OP = 'INSERT' THEN "
            + upsert(changed("new_rows", ""))
            + " ELSIF TG_OP = 'UPDATE' THEN "
            + upsert(changed("new_rows", "") + " UNION ALL " + changed("old_rows", "-"))
            + " ELSIF TG_OP = 'DELETE' THEN "
            + upsert(changed("old_rows", "-"))
            + f" ELSE DELETE FROM {table}; END IF; RETURN NULL; END $$"
        )
    )
    for event, tables in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        name = f"sheet_tally_{event.lower()}"
        conn.execute(text(f"DROP TRIGGER IF EXISTS {name} ON score_sheets"))
        conn.execute(
            text(
                f"CREATE TRIGGER {name} AFTER {event} ON score_sheets REFERENCING {tables}"
                " FOR EACH STATEMENT EXECUTE FUNCTION evalflow_sheet_tally()"
            )
        )
    conn.execute(text("DROP TRIGGER IF EXISTS sheet_tally_truncate ON score_sheets"))
    conn.execute(
        text(
            "CREATE TRIGGER sheet_tally_truncate AFTER TRUNCATE ON score_sheets"
            " FOR EACH STATEMENT EXECUTE FUNCTION evalflow_sheet_tally()"
        )
    )
    if fill:
        conn.execute(text(f"DELETE FROM {TABLE}"))
        conn.execute(
            text(
                f"INSERT INTO {TABLE} (cycle_id, city, scorer, sheets) SELECT cycle_id, city, scorer, count(*)"
                " FROM score_sheets WHERE current GROUP BY 1, 2, 3"
            )
        )


def remove_sheet_tally(conn: Any) -> None:
    """Undo :func:`install_sheet_tally` (its migration going back)."""
    if conn.dialect.name != "postgresql":
        return
    for event in ("insert", "update", "delete", "truncate"):
        conn.execute(text(f"DROP TRIGGER IF EXISTS sheet_tally_{event} ON score_sheets"))
    conn.execute(text("DROP FUNCTION IF EXISTS evalflow_sheet_tally()"))
    conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))


def read_sheet_tally(conn: Any, cycle_id: str) -> dict[tuple[str, str], int] | None:
    """A cycle's current sheets by (city, scorer), from the tally: None where the database keeps
    none (SQLite), the caller then counts the sheets."""
    if conn.dialect.name != "postgresql":
        return None
    rows = conn.execute(
        text(f"SELECT city, scorer, sheets FROM {TABLE} WHERE cycle_id = :cycle AND sheets <> 0"), {"cycle": cycle_id}
    )
    return {(city, scorer): n for city, scorer, n in rows}
