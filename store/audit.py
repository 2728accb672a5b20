"""The audit trail as rows: append-only, each entry sealed into its chain (workflow/audit.py),
the chains' heads locked while they are extended."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func, select, update

from store import pg_bulk, schema
from store.rows import TxBase, insert_sql
from workflow.audit import GENESIS, Item, chain_of, runs, seal_batch
from workflow.ports import AuditTx
from workflow.records import AuditEntry

# an audit row's columns, in the order audit_batch writes them
_AUDIT_COLUMNS = (
    "at",
    "cycle_id",
    "subject",
    "subject_id",
    "actor",
    "action",
    "from_state",
    "to_state",
    "reason",
    "data",
    "prev_hash",
    "hash",
)


def _insert_missing(dialect: str, table: Any, values: dict[str, Any]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING, in the dialect's own words."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).values(**values).on_conflict_do_nothing()
    from sqlalchemy.dialects.postgresql import insert as postgresql_insert

    return postgresql_insert(table).values(**values).on_conflict_do_nothing()


class AuditRows(TxBase):
    """The audit trail: entries sealed into their chain, and the chains' heads."""

    def audit(self, entry: AuditEntry) -> None:
        """Append one audit entry, sealed into its chain."""
        self.audit_many([entry])

    def audit_many(self, entries: Sequence[AuditEntry]) -> None:
        """Append audit entries (in order), each sealed into its chain: the chains' heads are
        locked for the transaction, so two writers never both extend one. Each run of alike
        entries (one action, actor and instant) is written as one batch (see audit_batch)."""
        if not entries:
            return
        heads = self._lock_heads(sorted({chain_of(e.cycle_id) for e in entries}))
        for template, items in runs(entries):
            self._append(template, items, heads)

    def audit_batch(self, template: AuditEntry, items: Sequence[Item]) -> None:
        """Append one audit entry per item, each ``template`` with the item's subject id, states
        and data (a batch's transitions), in one statement, sealed into the template's chain
        (see audit_many), without making each entry as a record."""
        if items:
            self._append(template, items, self._lock_heads([chain_of(template.cycle_id)]))

    def _append(self, template: AuditEntry, items: Sequence[Item], heads: dict[str, str]) -> None:
        """Seal and write the entries of ``items`` (see audit_batch), their chain's head locked and
        in ``heads``; the data is stored as the very text its hash was made over, encoded once."""
        chain = chain_of(template.cycle_id)
        sealed = seal_batch(template, items, heads)
        conn = self.s.connection()
        sql, procs = insert_sql(conn.dialect, schema.audit, _AUDIT_COLUMNS)
        bind_at = procs[0][0]  # (the one column whose value is bound: the other ones are text)
        at = bind_at(template.at) if bind_at else template.at
        t = template
        rows = [
            (at, t.cycle_id, t.subject, sid, t.actor, t.action, from_state, to_state, t.reason, text, previous, digest)
            for sid, from_state, to_state, text, previous, digest in sealed
        ]
        if len(rows) > 1 and conn.dialect.name == "postgresql":
            # numbered from the table's own sequence, in the chain's order (its head is locked: no
            # other writer of the chain takes ids until we commit), and written by COPY
            # (store/pg_bulk.py); the newest is known without reading max(id) back, which
            # PostgreSQL's index of the cycle cannot answer without reading every entry of it
            ids = pg_bulk.reserve_ids(conn, schema.audit, len(rows))
            pg_bulk.insert_rows(
                conn, schema.audit, ("id", *_AUDIT_COLUMNS), [(i, *r) for i, r in zip(ids, rows, strict=True)]
            )
            self._grew(schema.audit, len(rows))
            newest = ids[-1]
        elif len(rows) > 1:
            conn.exec_driver_sql(sql, rows)
            newest = 0  # (_advance_head reads it: the chain's last row)
        elif conn.dialect.name == "sqlite":
            newest = conn.exec_driver_sql(sql, rows[0]).lastrowid
        else:
            newest = conn.exec_driver_sql(f"{sql} RETURNING id", rows[0]).scalar_one()
        self._advance_head(chain, heads[chain], newest)

    def _advance_head(self, chain: str, head: str, newest: int) -> None:
        """Record ``chain``'s new head: its hash and its newest entry (0: the chain's last row,
        the newest of a batch written in one statement)."""
        t, h = schema.audit, schema.audit_heads
        conn = self.s.connection()
        if not newest:
            where = t.c.cycle_id.is_(None) if chain == "-" else t.c.cycle_id == chain
            newest = conn.execute(select(func.max(t.c.id)).where(where)).scalar() or 0
        conn.execute(update(h).where(h.c.chain == chain).values(hash=head, entry_id=newest))

    def _lock_heads(self, chains: Sequence[str]) -> dict[str, str]:
        """The heads of ``chains``, locked (FOR UPDATE) until the transaction ends; a new chain's
        head row is made first, so that its first two writers queue like any others."""
        h = schema.audit_heads
        conn = self.s.connection()
        known = {c for (c,) in conn.execute(select(h.c.chain).where(h.c.chain.in_(list(chains))))}
        for chain in chains:
            if chain not in known:
                conn.execute(_insert_missing(conn.dialect.name, h, {"chain": chain, "hash": GENESIS, "entry_id": 0}))
        q = select(h.c.chain, h.c.hash).where(h.c.chain.in_(list(chains)))
        if conn.dialect.name != "sqlite":
            q = q.with_for_update()
        return {chain: value for chain, value in conn.execute(q)}

    def audit_heads(self) -> dict[str, str]:
        """Every chain's newest hash, as the database records it."""
        h = schema.audit_heads
        return {c: v for c, v in self.s.connection().execute(select(h.c.chain, h.c.hash)) if v != GENESIS}

    def audit_entries(self, cycle_id: str | None = None, chunk: int = 5000) -> Iterator[AuditEntry]:
        """Every audit entry (of one cycle's chain), in id order, read a chunk at a time."""
        t = schema.audit
        q = select(t).order_by(t.c.id)
        if cycle_id is not None:
            q = q.where(t.c.cycle_id == cycle_id)
        result = self.s.connection().execution_options(yield_per=chunk).execute(q)
        for row in result.mappings():
            yield AuditEntry(**row)

    def entered_from(self, cycle_id: str, state: str) -> dict[int, str]:
        """For each project of a cycle that entered ``state``, the state it last came from (one
        query, whatever the number of projects)."""
        t = schema.audit
        q = (
            select(t.c.subject_id, t.c.from_state)
            .where(t.c.cycle_id == cycle_id, t.c.subject == "project", t.c.to_state == state)
            .where(t.c.from_state.is_not(None), t.c.from_state != state)
            .order_by(t.c.id)
        )
        return {int(pid): before for pid, before in self.s.connection().execute(q)}

    def history(
        self, subject: str | None = None, subject_id: str | None = None, cycle_id: str | None = None
    ) -> list[AuditEntry]:
        t = schema.audit
        where = []
        if subject is not None:
            where.append(t.c.subject == subject)
        if subject_id is not None:
            where.append(t.c.subject_id == subject_id)
        if cycle_id is not None:
            where.append(t.c.cycle_id == cycle_id)
        return self._records(AuditEntry, schema.audit, *where, order_by=(t.c.id,))


# the type checker holds this backend to its port
_port: type[AuditTx] = AuditRows
