"""Appeals as rows."""

from __future__ import annotations

from collections.abc import Sequence

from i18n import Msg
from store import schema
from store.rows import TxBase
from workflow.ports import AppealTx
from workflow.records import Appeal


class AppealRows(TxBase):
    """A transaction's reads and writes of appeals (the port's AppealTx)."""

    def insert_appeal(self, appeal: Appeal) -> None:
        self._insert(schema.appeals, appeal)

    def get_appeal(self, appeal_id: int) -> Appeal | None:
        found = self._records(Appeal, schema.appeals, schema.appeals.c.id == appeal_id)
        return found[0] if found else None

    def save_appeal(self, appeal: Appeal) -> None:
        """Write the decision if the stored version is still ``appeal.version``; bump it."""
        self._save_versioned(
            schema.appeals,
            appeal,
            Msg("appeal {id}", id=appeal.id),
            status=appeal.status,
            decided_by=appeal.decided_by,
            decided_at=appeal.decided_at,
            decision_reason=appeal.decision_reason,
            reopen_to=appeal.reopen_to,
        )

    def appeals(
        self, cycle_id: str | None = None, project_id: int | None = None, statuses: Sequence[str] | None = None
    ) -> list[Appeal]:
        t = schema.appeals
        where = []
        if cycle_id is not None:
            where.append(t.c.cycle_id == cycle_id)
        if project_id is not None:
            where.append(t.c.project_id == project_id)
        if statuses is not None:
            where.append(t.c.status.in_(list(statuses)))
        return self._records(Appeal, schema.appeals, *where, order_by=(t.c.id,))


# the type checker holds this backend to its port
_port: type[AppealTx] = AppealRows
