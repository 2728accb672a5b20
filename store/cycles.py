"""Cycles as rows."""

from __future__ import annotations

from i18n import Msg
from store import schema
from store.rows import TxBase
from workflow.ports import CycleTx
from workflow.records import Cycle


class CycleRows(TxBase):
    """A transaction's reads and writes of cycles (the port's CycleTx)."""

    def get_cycle(self, cycle_id: str) -> Cycle | None:
        """The cycle; in a write transaction its row is locked until the transaction ends, so that
        every change to one cycle is made one after the other (on PostgreSQL: SELECT … FOR UPDATE;
        SQLite's BEGIN IMMEDIATE already serialises writers). Guards that count across the cycle
        (quotas, minimums) then see every change committed before theirs."""
        found = self._records(Cycle, schema.cycles, schema.cycles.c.id == cycle_id, lock=self.write)
        return found[0] if found else None

    def list_cycles(self) -> list[Cycle]:
        return self._records(Cycle, schema.cycles, order_by=(schema.cycles.c.opened_at.desc(),))

    def insert_cycle(self, cycle: Cycle) -> None:
        self._insert(schema.cycles, cycle)

    def save_cycle(self, cycle: Cycle) -> None:
        """Write stage and settings if the stored version is still ``cycle.version``; bump it."""
        self._save_versioned(
            schema.cycles, cycle, Msg("cycle {id}", id=cycle.id), stage=cycle.stage, settings=cycle.settings
        )


# the type checker holds this backend to its port
_port: type[CycleTx] = CycleRows
