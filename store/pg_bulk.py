"""PostgreSQL's batch paths: the store's batches (thousands of projects, audit rows, score sheets)
written and read through psycopg's own connection, in the transaction SQLAlchemy holds.

Through Core, psycopg runs an executemany as one prepared statement per row (pipelined): a 10k
cycle spent 7.3–7.5 s of client CPU on it and the server as long again. Here new rows go in by
COPY, a batch's versioned UPDATE is one statement over arrays (``unnest``), and a batch's reads
are one ``= ANY(array)`` select whose rows go through the columns' own result processing, as a
Core result's would. Values are bound as the column types bind them (instants to UTC); JSON is
written as the store's own text (store/sql.py stored_json), the bytes SQLite stores too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from operator import attrgetter
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.exc import DBAPIError

from store.schema import UTCDateTime, same_instant

# a batch from this many rows on is copied (COPY costs a round trip of its own and a statement
# the server plans; a few rows go as quickly in one executemany)
COPY_FROM = 50
# a table that a batch grew by this many rows, and by this share of what it held, is analysed
# (see analyze_grown)
ANALYZE_ROWS = 1000
ANALYZE_SHARE = 0.1
# the tables whose counts the per-cycle reads are planned on (the counts by city and state, of
# current sheets): the audit trail is read by subject and cycle through its indexes whatever its
# size, and analysing it after each batch would sample 30,000 of its rows each time
ANALYZED = frozenset({"projects", "score_sheets"})


def driver(conn: Any) -> Any:
    """psycopg's own connection under a SQLAlchemy connection (in its transaction)."""
    return conn.connection.driver_connection


def _raised(statement: str, exc: Exception) -> Exception:
    """A driver error as a Core statement would have raised it (the store maps those)."""
    import psycopg

    return DBAPIError.instance(statement, None, exc, psycopg.Error)


def binder(table: Any, name: str, dialect: Any) -> Any:
    """How a value of column ``name`` is written here: JSON as the store's text, an instant as its
    type binds it (to UTC), anything else as it is (None)."""
    column = table.c[name]
    if isinstance(column.type, JSON):
        return dialect._json_serializer  # (store/sql.py stored_json: the engine is made with it)
    if isinstance(column.type, UTCDateTime):
        return same_instant(lambda v: column.type.process_bind_param(v, dialect))
    return None


def reserve_ids(conn: Any, table: Any, n: int) -> list[int]:
    """``n`` new ids of ``table`` from its own sequence, ascending: rows written with them are
    numbered as the column's default would have numbered them, and no other writer takes them."""
    # (the sequence looked up once, not once a row)
    sql = (
        "SELECT nextval(q.seq) FROM (SELECT pg_get_serial_sequence(%s, 'id')::regclass AS seq) AS q,"
        " generate_series(1, %s)"
    )
    try:
        with driver(conn).cursor() as cur:
            cur.execute(sql, (conn.dialect.identifier_preparer.quote(table.name), n))
            return sorted(r[0] for r in cur.fetchall())
    except Exception as exc:
        raise _raised(sql, exc) from None


def copy_rows(conn: Any, table: Any, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write ``rows`` (values of ``names``, already bound) into ``table`` with one COPY."""
    quote = conn.dialect.identifier_preparer.quote
    sql = f"COPY {quote(table.name)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
    try:
        with driver(conn).cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except Exception as exc:
        raise _raised(sql, exc) from None


def insert_rows(conn: Any, table: Any, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Write ``rows`` into ``table``: by COPY from COPY_FROM rows on, else one executemany."""
    if len(rows) >= COPY_FROM:
        copy_rows(conn, table, names, rows)
        return
    quote = conn.dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)})"
        f" VALUES ({', '.join(['%s'] * len(names))})"
    )
    try:
        with driver(conn).cursor() as cur:
            cur.executemany(sql, rows)
    except Exception as exc:
        raise _raised(sql, exc) from None


def record_rows(conn: Any, table: Any, names: Sequence[str], records: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The values of ``names`` of each record (dataclasses), bound as this module writes them."""
    procs = [(i, p) for i, n in enumerate(names) if (p := binder(table, n, conn.dialect)) is not None]
    values = attrgetter(*names)
    out = []
    for r in records:
        row = list(values(r)) if len(names) > 1 else [values(r)]
        for i, p in procs:
            row[i] = p(row[i])
        out.append(tuple(row))
    return out


def update_versioned(conn: Any, table: Any, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """One UPDATE of ``table`` for every row of ``rows`` — (new version, values of ``names``,
    id, version read) — each row written only where its stored version is still the one read;
    returns how many rows were written (less than ``rows``: some moved)."""
    quote = conn.dialect.identifier_preparer.quote
    kinds = []
    for n in names:
        column_type = table.c[n].type
        kinds.append(
            "timestamptz" if isinstance(column_type, UTCDateTime) else "text" if not _is_int(column_type) else "int"
        )
    casts = ["::json" if isinstance(table.c[n].type, JSON) else "" for n in names]
    arrays = ", ".join(f"%s::{k}[]" for k in ("int", *kinds, "int", "int"))
    columns = ", ".join(f"c{i}" for i in range(len(names)))
    sets = ", ".join(
        [f"{quote('version')} = v.new_version"] + [f"{quote(n)} = v.c{i}{casts[i]}" for i, n in enumerate(names)]
    )
    name = quote(table.name)
    sql = (
        f"UPDATE {name} SET {sets} FROM unnest({arrays}) AS v(new_version, {columns}, row_id, old_version)"
        f" WHERE {name}.{quote('id')} = v.row_id AND {name}.{quote('version')} = v.old_version"
    )
    params = [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(len(names) + 3)]
    try:
        with driver(conn).cursor() as cur:
            cur.execute(sql, params)
            return cur.rowcount
    except Exception as exc:
        raise _raised(sql, exc) from None


def _is_int(column_type: Any) -> bool:
    from sqlalchemy import Integer

    return isinstance(column_type, Integer)


def select_by_ids(conn: Any, table: Any, names: Sequence[str], ids: Sequence[int]) -> list[list[Any]]:
    """The rows of ``ids`` (values of ``names``), in id order, each value through its column
    type's own result processing, as a Core result would make it."""
    quote = conn.dialect.identifier_preparer.quote
    sql = (
        f"SELECT {', '.join(quote(n) for n in names)} FROM {quote(table.name)}"
        f" WHERE {quote('id')} = ANY(%s) ORDER BY {quote('id')}"
    )
    procs = [
        (i, p)
        for i, n in enumerate(names)
        if (p := table.c[n].type._cached_result_processor(conn.dialect, None)) is not None
    ]
    # (through the connection, not its driver: one statement per 5,000 ids, and it is seen as
    # every read is, by the plan test's capture and the log)
    rows = conn.exec_driver_sql(sql, (list(ids),)).fetchall()
    out = []
    for r in rows:
        row = list(r)
        for i, p in procs:
            row[i] = p(row[i])
        out.append(row)
    return out


_NOT_OWNED: set[str] = set()  # the tables this process may not analyse, said once each


def analyze_grown(conn: Any, grown: Mapping[str, int]) -> None:
    """After a commit: ANALYZE each table a transaction's batches grew by ANALYZE_ROWS rows or
    more that are also ANALYZE_SHARE of the rows its statistics last counted (autovacuum's own
    threshold, 10 %, without its wait). Until autovacuum gets to it (a minute or more on a busy
    server), the planner costs queries on statistics of a table a tenth of its size, or empty:
    issue 25 saw a per-city count of 10,000 projects' sheets take 46 s, 100 ms after ANALYZE.
    Run after the commit, outside the transaction that held the cycle's lock; ANALYZE samples
    30,000 rows and takes a lock that lets reads and writes go on (SHARE UPDATE EXCLUSIVE).
    A failure here is not the action's: the action is committed, and autovacuum will come."""
    import structlog

    quote = conn.dialect.identifier_preparer.quote
    for table, added in grown.items():
        if added < ANALYZE_ROWS or table not in ANALYZED:
            continue
        try:
            found = conn.exec_driver_sql(
                "SELECT reltuples, pg_has_role(relowner, 'USAGE'),"
                " to_regprocedure('evalflow_analyze(text)') IS NOT NULL"
                " FROM pg_class WHERE oid = to_regclass(%s)",
                (quote(table),),
            ).first()
            counted, owner, through = (
                (float(found[0]), bool(found[1]), bool(found[2])) if found else (0.0, False, False)
            )
            if not (owner or through):
                # only the table's owner may ANALYZE it before PostgreSQL 17, and a database made
                # before schema 0014 has no evalflow_analyze for the application role: the server
                # would skip it with a warning; said once, left to autovacuum
                if table not in _NOT_OWNED:
                    _NOT_OWNED.add(table)
                    structlog.get_logger().info("analyze_left_to_autovacuum", table=table, why="not the table's owner")
            elif added >= ANALYZE_SHARE * max(counted, 0.0):  # (-1: never counted)
                if through:  # (as the owner: store/guard.py install_analyze)
                    conn.exec_driver_sql("SELECT evalflow_analyze(%s)", (table,))
                else:
                    conn.exec_driver_sql(f"ANALYZE {quote(table)}")
            conn.commit()
        except Exception as exc:  # (the action is committed: say so in the log and go on)
            conn.rollback()
            structlog.get_logger().warning("analyze_failed", table=table, error=" ".join(str(exc).split()))
