"""Reminders and the scheduler's lease as rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from store import schema
from store.rows import TxBase
from workflow.ports import ReminderTx
from workflow.records import Lease, Reminder


class ReminderRows(TxBase):
    """Planned reminders, and the scheduler's lease."""

    def reminders(self, cycle_id: str | None = None, statuses: Sequence[str] | None = None) -> list[Reminder]:
        t = schema.reminders
        where = []
        if cycle_id is not None:
            where.append(t.c.cycle_id == cycle_id)
        if statuses is not None:
            where.append(t.c.status.in_(list(statuses)))
        return self._records(Reminder, t, *where, order_by=(t.c.due_at, t.c.id))

    def replan_reminders(self, cycle_id: str, plan: Sequence[Reminder], unsent: Sequence[str]) -> tuple[int, int, int]:
        """Make the unsent reminders of a cycle match ``plan`` (matched by key); sent ones are kept.

        Returns (added, moved, removed)."""
        existing = {r.key: r for r in self.reminders(cycle_id)}
        wanted = {r.key for r in plan}
        added = moved = removed = 0
        for r in plan:
            old = existing.get(r.key)
            if old is None:
                self._insert(schema.reminders, r)
                added += 1
            elif old.status in unsent and old.due_at != r.due_at:
                self.s.connection().execute(
                    update(schema.reminders).where(schema.reminders.c.id == old.id).values(due_at=r.due_at)
                )
                moved += 1
        stale = [r.id for k, r in existing.items() if k not in wanted and r.status in unsent]
        if stale:
            self.s.connection().execute(delete(schema.reminders).where(schema.reminders.c.id.in_(stale)))
            removed = len(stale)
        return added, moved, removed

    def claim_reminders(self, now: datetime, stale_before: datetime, limit: int = 500) -> list[Reminder]:
        """Mark due reminders 'sending' and return them; a 'sending' one claimed before
        ``stale_before`` was left by a crashed dispatcher and is claimed again (at-least-once)."""
        due = or_(
            (schema.reminders.c.status.in_(["planned", "retry"]))
            & (schema.reminders.c.due_at <= now)
            & (schema.reminders.c.next_attempt_at.is_(None) | (schema.reminders.c.next_attempt_at <= now)),
            (schema.reminders.c.status == "sending") & (schema.reminders.c.claimed_at < stale_before),
        )
        t = schema.reminders
        claimed = []
        for r in self._records(Reminder, t, due, order_by=(t.c.due_at,), limit=limit):
            result = self.s.connection().execute(
                update(t).where(t.c.id == r.id, t.c.status == r.status).values(status="sending", claimed_at=now)
            )
            if result.rowcount == 1:
                claimed += self._records(Reminder, t, t.c.id == r.id)  # as it now stands
        return claimed

    def save_reminder(self, r: Reminder) -> None:
        self.s.connection().execute(
            update(schema.reminders)
            .where(schema.reminders.c.id == r.id)
            .values(
                status=r.status,
                attempts=r.attempts,
                next_attempt_at=r.next_attempt_at,
                claimed_at=r.claimed_at,
                sent_at=r.sent_at,
                channels_done=list(r.channels_done),
                message=r.message,
                last_error=r.last_error,
            )
        )

    def next_reminder_due(self) -> datetime | None:
        """The earliest instant at which some reminder becomes due (or is retried)."""
        first = (
            self.s.connection()
            .execute(select(func.min(schema.reminders.c.due_at)).where(schema.reminders.c.status == "planned"))
            .scalar()
        )
        retry = (
            self.s.connection()
            .execute(select(func.min(schema.reminders.c.next_attempt_at)).where(schema.reminders.c.status == "retry"))
            .scalar()
        )
        found = [x for x in (first, retry) if x is not None]
        if not found:
            return None
        return min(x if x.tzinfo else x.replace(tzinfo=UTC) for x in found)

    # -- the scheduler lease -----------------------------------------------------------------
    def acquire_lease(self, name: str, holder: str, now: datetime, expires: datetime) -> Lease:
        """Take or renew the lease ``name`` for ``holder``; return the lease as it now stands
        (held by someone else if they hold an unexpired one)."""
        t = schema.leases

        def stored() -> Lease | None:
            found = self._records(Lease, t, t.c.name == name)
            return found[0] if found else None

        current = stored()
        if current is None:
            try:
                with self.s.begin_nested():
                    self._insert(t, Lease(name, holder, now, expires))
                return Lease(name, holder, now, expires)
            except IntegrityError:
                current = stored()
                assert current is not None
        if current.holder != holder and current.expires_at > now:
            return current
        acquired = current.acquired_at if current.holder == holder else now
        result = self.s.connection().execute(
            update(schema.leases)
            .where(
                schema.leases.c.name == name,
                schema.leases.c.holder == current.holder,
                schema.leases.c.expires_at == current.expires_at,
            )
            .values(holder=holder, acquired_at=acquired, expires_at=expires)
        )
        if result.rowcount != 1:
            return stored()  # type: ignore[return-value]
        return Lease(name, holder, acquired, expires)

    def release_lease(self, name: str, holder: str) -> None:
        self.s.connection().execute(
            delete(schema.leases).where(schema.leases.c.name == name, schema.leases.c.holder == holder)
        )


# the type checker holds this backend to its port
_port: type[ReminderTx] = ReminderRows
