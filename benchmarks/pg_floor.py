"""The floor on PostgreSQL: the same rows as the engine's run (benchmarks/floor.py same_rows_run),
written with psycopg 3 alone, one transaction per stage, in two ways: COPY (new rows copied; a
stage's changed projects copied into a temporary table and set from it by one UPDATE), and
executemany (psycopg pipelines it), the two floors issue 25 measured the engine against."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from benchmarks.cycle import CYCLE, PROGRAM
from benchmarks.pg import driver_url


def _literal(text: str) -> str:
    """A SQL literal's value as COPY's text format takes it ('x' is x; 1 and TRUE as they are)."""
    return text[1:-1].replace("''", "'") if text.startswith("'") else text


class PgRows:
    """The floor's writer on PostgreSQL (answers what floor.SqliteRows answers). ``copy``: new
    rows and changes by COPY; otherwise executemany."""

    def __init__(self, url: str, copy: bool = True):
        import psycopg

        from store.sql import SqlStore

        store = SqlStore(url)  # the tables and indexes `evalflow init` makes
        store.create()
        store.dispose()
        self.copy = copy
        self.con = psycopg.connect(driver_url(url))
        # the floor's instants are UTC texts, as the engine's are UTC instants
        self.con.execute("SET TIME ZONE 'UTC'")
        self.con.execute(
            "INSERT INTO cycles (id, program_id, program_version, program_digest, year, stage, settings, version,"
            " opened_at, opened_by) VALUES (%s, %s, 1, '871c2bf74f109f30', 2027, 'collection', '{}', 1, %s, 'lead')",
            (CYCLE, PROGRAM, "2027-01-10 01:00:00.000000"),
        )
        self.con.commit()

    def begin(self) -> None:
        pass  # (psycopg begins a transaction at the first statement)

    def commit(self) -> None:
        self.con.commit()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One statement (parameters marked ?, as the floor writes them); the rows it returns."""
        cur = self.con.execute(sql.replace("?", "%s"), params)
        return cur.fetchall() if cur.description else []

    def insert(self, table: str, names: Sequence[str], rows: list[tuple[Any, ...]], consts: str = "") -> None:
        """Rows of ``names``, and ``consts`` (see floor.SqliteRows.insert)."""
        pairs = [x.split("=", 1) for x in consts.split("; ") if x]
        columns = ", ".join([*names, *(a for a, _ in pairs)])
        if self.copy:
            more = tuple(_literal(b) for _, b in pairs)
            with self.con.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row + more)
            return
        values = ", ".join(["%s"] * len(names) + [b for _, b in pairs])
        with self.con.cursor() as cur:
            cur.executemany(f"INSERT INTO {table} ({columns}) VALUES ({values})", rows)

    def update_projects(self, names: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        """Set ``names`` of projects (each row: their values, then the id), their versions bumped."""
        if not self.copy:
            sets = f"{names[0]} = %s, version = version + 1" + "".join(f", {n} = %s" for n in names[1:])
            with self.con.cursor() as cur:
                cur.executemany(f"UPDATE projects SET {sets} WHERE id = %s", rows)
            return
        with self.con.cursor() as cur:
            cur.execute(
                "CREATE TEMPORARY TABLE moved ON COMMIT DROP AS SELECT id, "
                + ", ".join(names)
                + " FROM projects WITH NO DATA"
            )
            with cur.copy(f"COPY moved ({', '.join(names)}, id) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            sets = ", ".join(f"{n} = m.{n}" for n in names)
            cur.execute(f"UPDATE projects p SET {sets}, version = p.version + 1 FROM moved m WHERE p.id = m.id")
            cur.execute("DROP TABLE moved")

    def close(self) -> None:
        self.con.close()
