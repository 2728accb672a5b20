"""Attachments and blobs as rows (the port's AttachmentTx, workflow/attachments.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from store import schema
from store.rows import TxBase
from workflow.attachments import Attachment, AttachmentTx


class AttachmentRows(TxBase):
    """A transaction's reads and writes of attachments, and of blobs kept in the database."""

    def insert_attachment(self, attachment: Attachment) -> None:
        self._insert(schema.attachments, attachment)

    def attachments_of(self, project_id: int, removed: bool = False) -> list[Attachment]:
        t = schema.attachments
        where = [t.c.project_id == project_id]
        if not removed:
            where.append(t.c.removed_at.is_(None))
        return self._records(Attachment, t, *where, order_by=(t.c.id,))

    def get_attachment(self, attachment_id: int) -> Attachment | None:
        found = self._records(Attachment, schema.attachments, schema.attachments.c.id == attachment_id)
        return found[0] if found else None

    def mark_attachment_removed(self, attachment_id: int, at: datetime, by: str) -> int:
        t = schema.attachments
        result = self.s.connection().execute(
            update(t).where(t.c.id == attachment_id, t.c.removed_at.is_(None)).values(removed_at=at, removed_by=by)
        )
        return int(result.rowcount)

    def put_blob(self, sha256: str, data: bytes) -> bool:
        t = schema.blobs
        conn = self.s.connection()
        if conn.execute(select(t.c.sha256).where(t.c.sha256 == sha256)).first() is not None:
            return False
        conn.execute(t.insert().values(sha256=sha256, size=len(data), data=data))
        return True

    def get_blob(self, sha256: str) -> bytes | None:
        t = schema.blobs
        found = self.s.connection().execute(select(t.c.data).where(t.c.sha256 == sha256)).scalar()
        return bytes(found) if found is not None else None


# the type checker holds this backend to its port
_port: type[AttachmentTx] = AttachmentRows
