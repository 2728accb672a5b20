"""The signed checkpoints of the audit trail as rows (table audit_checkpoints): written once,
never changed (INSERT only: the application's role may not UPDATE or DELETE them), read in id
order. What a checkpoint is and how it is signed: workflow/signing.py."""

from __future__ import annotations

from sqlalchemy import insert, select, text

from store import schema
from store.rows import TxBase
from workflow.audit import GENESIS
from workflow.signing import Checkpoint

# the PostgreSQL advisory lock that queues the writers of checkpoints (each links to the one
# before it): a lock of the transaction, taken with no privilege on any table
_LOCK = 0x65766C63  # "evlc"


class CheckpointRows(TxBase):
    """The audit trail's signed checkpoints, and the chains' heads with their newest entries."""

    def lock_checkpoints(self) -> None:
        """Queue this transaction behind any other writing a checkpoint, until it ends (SQLite's
        write transactions queue already)."""
        conn = self.s.connection()
        if conn.dialect.name != "sqlite":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})

    def audit_positions(self) -> dict[str, tuple[str, int]]:
        """Every chain's newest hash and newest entry's id, as the database records them."""
        h = schema.audit_heads
        rows = self.s.connection().execute(select(h.c.chain, h.c.hash, h.c.entry_id))
        return {chain: (value, int(entry)) for chain, value, entry in rows if value != GENESIS}

    def add_checkpoint(self, checkpoint: Checkpoint) -> int:
        """Insert a signed checkpoint (never updated afterwards); returns its id."""
        result = self.s.connection().execute(
            insert(schema.audit_checkpoints).values(
                at=checkpoint.at,
                why=checkpoint.why,
                head=checkpoint.head,
                heads={chain: [value, entry] for chain, (value, entry) in checkpoint.heads.items()},
                last_entry_id=checkpoint.last_entry_id,
                previous=checkpoint.previous,
                key=checkpoint.key,
                signature=checkpoint.signature,
            )
        )
        return int(result.inserted_primary_key[0])

    def audit_checkpoints(self, newest: int | None = None) -> list[Checkpoint]:
        """The checkpoints in id order (the ``newest`` last ones only, when given)."""
        t = schema.audit_checkpoints
        q = select(t).order_by(t.c.id.desc() if newest else t.c.id)
        if newest:
            q = q.limit(newest)
        rows = [
            Checkpoint(
                id=row["id"],
                at=row["at"],
                why=row["why"],
                heads={str(c): (str(v[0]), int(v[1])) for c, v in (row["heads"] or {}).items()},
                previous=row["previous"],
                key=row["key"],
                signature=row["signature"],
                head=row["head"],
            )
            for row in self.s.connection().execute(q).mappings()
        ]
        return rows[::-1] if newest else rows
