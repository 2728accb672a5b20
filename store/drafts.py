"""Drafts as rows (see workflow/drafts.py)."""

from __future__ import annotations

from sqlalchemy import delete, update

from i18n import Msg
from store import schema
from store.rows import TxBase
from workflow.drafts import Draft, DraftTx
from workflow.records import Project


class DraftRows(TxBase):
    """A transaction's reads and writes of drafts (the port's DraftTx)."""

    def get_draft(self, cycle_id: str, owner: str) -> Draft | None:
        t = schema.drafts
        found = self._records(Draft, t, t.c.cycle_id == cycle_id, t.c.owner == owner)
        return found[0] if found else None

    def put_draft(self, draft: Draft) -> None:
        t = schema.drafts
        changed = self.s.connection().execute(
            update(t)
            .where(t.c.cycle_id == draft.cycle_id, t.c.owner == draft.owner)
            .values(data=draft.data, updated_at=draft.updated_at)
        )
        if changed.rowcount != 1:  # (the first save of this owner and cycle)
            self._insert(t, draft)

    def delete_draft(self, cycle_id: str, owner: str) -> bool:
        t = schema.drafts
        gone = self.s.connection().execute(delete(t).where(t.c.cycle_id == cycle_id, t.c.owner == owner))
        return bool(gone.rowcount)

    def owner_drafts(self, owner: str) -> list[Draft]:
        t = schema.drafts
        return self._records(Draft, t, t.c.owner == owner, order_by=(t.c.cycle_id,))

    def save_application(self, project: Project) -> None:
        self._save_versioned(
            schema.projects,
            project,
            Msg("project {id}", id=project.id),
            application=project.application,
            unit_name=project.unit_name,
            project_name=project.project_name,
            updated_at=project.updated_at,
        )


# the type checker holds this backend to its port
_port: type[DraftTx] = DraftRows
