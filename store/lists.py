"""Ranked lists and their confirmations as rows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import Text, cast, select

from i18n import Msg
from store import schema
from store.rows import TxBase
from workflow.ports import ListTx
from workflow.records import Confirmation, ListEntry, ListVersion


def _entries(text: str) -> list[ListEntry]:
    """A list version's entries from their JSON text, each made into its record as it is read (no
    dict per entry kept for the whole list); the few parties and categories are one string each."""
    words: dict[str, str] = {}

    def entry(e: dict[str, Any]) -> ListEntry:
        e["city"] = words.setdefault(e["city"], e["city"])
        e["category"] = words.setdefault(e["category"], e["category"])
        return ListEntry(**e)

    return json.loads(text, object_hook=entry)


class ListRows(TxBase):
    """List versions (their entries as one JSON text each) and confirmations."""

    def _lists(self, where: Sequence[Any], entries: bool, newest: bool = False) -> list[ListVersion]:
        """List versions in number order (only the newest with ``newest``), read with Core: no ORM
        row keeps a version's entries for the rest of the transaction. Without ``entries`` only
        their heads (number, status…); with them, each version's JSON text is read as text and
        made into records one entry at a time (see _entries), on every backend."""
        t = schema.list_versions
        names = [f.name for f in fields(ListVersion) if f.name != "entries"]
        columns = [t.c[n] for n in names] + ([cast(t.c.entries, Text)] if entries else [])
        q = select(*columns).where(*where).order_by(t.c.number.desc() if newest else t.c.number)
        out = []
        for row in self.s.connection().execute(q.limit(1) if newest else q):
            head = dict(zip(names, row, strict=False))
            out.append(ListVersion(**head, entries=_entries(row[-1]) if entries else []))
        return out

    def latest_list(self, cycle_id: str, entries: bool = True) -> ListVersion | None:
        """The newest list version of a cycle; without ``entries`` only its head (number, status…),
        for what needs no ranked entries (a cycle's status, its closing rules)."""
        found = self._lists([schema.list_versions.c.cycle_id == cycle_id], entries, newest=True)
        return found[0] if found else None

    def list_versions(self, cycle_id: str, statuses: Sequence[str] | None = None) -> list[ListVersion]:
        """A cycle's list versions with their entries, oldest first (only those in ``statuses``)."""
        t = schema.list_versions
        where = [t.c.cycle_id == cycle_id] + ([t.c.status.in_(list(statuses))] if statuses is not None else [])
        return self._lists(where, entries=True)

    def list_entries(self, list_id: int) -> list[ListEntry]:
        """The entries of one list version."""
        t = schema.list_versions
        stored = self.s.connection().execute(select(cast(t.c.entries, Text)).where(t.c.id == list_id)).scalar_one()
        return _entries(stored)

    def insert_list(self, lst: ListVersion) -> None:
        self._insert(schema.list_versions, lst)

    def save_list_status(self, lst: ListVersion) -> None:
        self._save_versioned(
            schema.list_versions,
            lst,
            Msg("list version {number} of {cycle}", number=lst.number, cycle=lst.cycle_id),
            status=lst.status,
        )

    def confirmations(self, list_id: int) -> list[Confirmation]:
        t = schema.confirmations
        return self._records(Confirmation, t, t.c.list_id == list_id, order_by=(t.c.id,))

    def add_confirmation(self, c: Confirmation) -> None:
        self._insert(schema.confirmations, c)


# the type checker holds this backend to its port
_port: type[ListTx] = ListRows
