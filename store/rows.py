"""A transaction's common ground: the connection it runs on, inserting records as rows, writing
versioned ones only at the version they were read, and reading rows back as records (store/sql.py
composes the kinds of record into Tx)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from operator import attrgetter
from typing import Any, TypeVar

from sqlalchemy import insert, select, update

from i18n import Msg
from store import pg_bulk
from store.schema import UTCDateTime, same_instant
from workflow.errors import ConcurrentChange

R = TypeVar("R")
_INSERTS: dict[tuple[str, str, tuple[str, ...]], tuple[str, list[tuple[Any, Any]]]] = {}


def insert_sql(dialect: Any, table: Any, names: tuple[str, ...]) -> tuple[str, list[tuple[Any, Any]]]:
    """The INSERT statement for ``names`` of ``table`` in the driver's own parameter style, and
    each column's bind processor (None where the driver takes the value as it is) with the
    column; cached."""
    key = (dialect.name, table.name, names)
    found = _INSERTS.get(key)
    if found is None:
        quote = dialect.identifier_preparer.quote
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)})"
            f" VALUES ({', '.join([mark] * len(names))})"
        )
        found = _INSERTS[key] = (sql, [(table.c[n].type._cached_bind_processor(dialect), table.c[n]) for n in names])
    return found


def bound_rows(conn: Any, table: Any, records: Sequence[Any]) -> tuple[str, list[tuple[Any, ...]]]:
    """The INSERT of records (dataclasses, at least one) as rows of ``table``, their generated id
    left out, and each record's values bound as its column type binds them (instants to UTC,
    JSON), in the driver's own terms."""
    names = tuple(f.name for f in fields(records[0]) if f.name != "id")
    sql, procs = insert_sql(conn.dialect, table, names)
    processed = binders(procs)
    values = attrgetter(*names)
    rows = []
    for r in records:
        row = list(values(r))
        for i, p in processed:
            row[i] = p(row[i])
        rows.append(tuple(row))
    return sql, rows


def binders(procs: Sequence[tuple[Any, Any]]) -> list[tuple[int, Any]]:
    """(position, bind processor) of the columns whose type processes the value (instants, JSON),
    the others left as they are; an instant's remembers its last value (a batch's rows share one)."""
    return [(i, same_instant(p) if isinstance(c.type, UTCDateTime) else p) for i, (p, c) in enumerate(procs) if p]


class Bound:
    """What a Tx asks of its transaction: the connection it runs on, and savepoints on it. (The
    store reads and writes with Core only: no ORM session, whose import alone cost every command
    about 75 ms.)"""

    __slots__ = ("_conn",)

    def __init__(self, conn: Any):
        self._conn = conn

    def connection(self) -> Any:
        return self._conn

    def begin_nested(self) -> Any:
        return self._conn.begin_nested()


class TxBase:
    """What every kind of record's rows share (store/sql.py composes them into Tx): the
    transaction's connection, and its inserts, version-checked writes and reads of records."""

    def __init__(self, bound: Bound, write: bool = True):
        self.s = bound
        self.write = write
        # rows the transaction's batches added to each table, on PostgreSQL (store/sql.py analyses
        # the tables they grew after the commit: store/pg_bulk.py analyze_grown)
        self.grown: dict[str, int] = {}

    def _grew(self, table: Any, added: int) -> None:
        """Count ``added`` new rows of ``table`` (see ``grown``)."""
        self.grown[table.name] = self.grown.get(table.name, 0) + added

    def _insert(self, table: Any, record: Any, **extra: Any) -> None:
        """Insert ``record`` as a row of ``table``; a generated id is written back to the record."""
        # shallow: JSON values are written as they are (asdict would deep-copy every one); nested
        # records (a list version's entries) are written as their fields by stored_json
        data = {**{f.name: getattr(record, f.name) for f in fields(record)}, **extra}
        if data.get("id", ...) is None:
            data.pop("id")
        result = self.s.connection().execute(insert(table).values(**data))
        if hasattr(record, "id"):
            record.id = result.inserted_primary_key[0]

    def _insert_many(self, table: Any, records: Sequence[Any]) -> None:
        """Insert records (dataclasses) as rows of ``table`` in one DB-API executemany: each value
        goes through its column type's own bind processing (instants to UTC, JSON), without the
        per-row compilation of an ORM or Core bulk insert, which costs more than the database."""
        if not records:
            return
        conn = self.s.connection()
        if conn.dialect.name == "postgresql":  # by COPY (store/pg_bulk.py)
            names = tuple(f.name for f in fields(records[0]) if f.name != "id")
            pg_bulk.insert_rows(conn, table, names, pg_bulk.record_rows(conn, table, names, records))
            self._grew(table, len(records))
            return
        sql, rows = bound_rows(conn, table, records)
        conn.exec_driver_sql(sql, rows)

    def _save_versioned(self, table: Any, item: Any, subject: Msg, /, **values: Any) -> None:
        """Write ``values`` only if the stored version is still ``item.version``; bump it.

        A concurrent writer moved the version: raise ConcurrentChange with both versions."""
        conn = self.s.connection()
        result = conn.execute(
            update(table)
            .where(table.c.id == item.id, table.c.version == item.version)
            .values(version=item.version + 1, **values)
        )
        if result.rowcount != 1:
            found = conn.execute(select(table.c.version).where(table.c.id == item.id)).scalar()
            raise ConcurrentChange(subject, item.version, found)
        item.version += 1

    def _records(
        self,
        cls: type[R],
        table: Any,
        *where: Any,
        order_by: Sequence[Any] = (),
        lock: bool = False,
        limit: int | None = None,
    ) -> list[R]:
        """Records of ``cls`` from the rows of ``table`` matching ``where`` (same names as the
        record's fields), read with Core: a command that only reads sets up no ORM mapping, and
        every read is fresh from the database."""
        names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
        q = select(*(table.c[n] for n in names)).where(*where).order_by(*order_by).limit(limit)
        if lock:
            q = q.with_for_update()
        return [cls(**dict(zip(names, row, strict=True))) for row in self.s.connection().execute(q)]
