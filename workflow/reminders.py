"""Deadlines and reminders: planned as rows when a cycle opens, dispatched from the table.

The reminders table is the truth. A dispatch pass claims every due reminder (marking it
'sending'), computes at send time what the recipient still has to do, delivers it on every
channel that wants it, and marks it sent (or 'late', when it went out after its grace). A
recipient with nothing left to do gets nothing ('skipped').

Delivery guarantee: **at-least-once per channel, with an idempotency key**. Each channel's
success is committed as soon as it happens; a dispatcher that dies between a send and that
commit leaves the reminder 'sending', and the next pass (after ``claim_timeout``) sends it
again on the channels not yet recorded. Every message carries the reminder's key (in the
text, the e-mail header ``X-Evalflow-Key`` and the webhook JSON) so a receiver can drop the
duplicate. A failed delivery is retried with exponential backoff and ends visibly 'failed'.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from i18n import Joined, Msg, Text, rendered
from policies.closing import zone as zone_words
from workflow.log import get_logger
from workflow.ports import Store
from workflow.program import Program, describe_offset
from workflow.records import Cycle, Reminder

log = get_logger("evalflow.reminders")

LEAD = "lead"
UNSENT = ("planned", "retry")
DONE = ("sent", "late", "failed", "skipped")

# a reminder's status as a reader reads it (its id in English, as scripts read it): the command
# line's list and the console's reminders page both say it so
STATUS_NAMES = {
    "planned": Msg("planned"),
    "sending": Msg("sending"),
    "retry": Msg("retry"),
    "sent": Msg("sent"),
    "late": Msg("late"),
    "skipped": Msg("skipped"),
    "failed": Msg("failed"),
}


def reminder_key(cycle_id: str, stage: str, offset: str, recipient: str) -> str:
    return f"{cycle_id}/{stage}/{offset}/{recipient}"


@dataclass(frozen=True)
class Deadline:
    """A project's order with a deadline (a rectification), the ``order``-th it was given."""

    project_id: int
    order: int
    party: str
    due: date


def deadline_key(project_id: int, order: int) -> str:
    return f"deadline/{project_id}/{order}"


def round_key(year: int, month: int) -> str:
    return f"round/{year}-{month:02d}"


NOTICE_KEY = "notice"


def plan_for(
    program: Program,
    cycle: Cycle,
    deadlines: Sequence[Deadline] = (),
    published_at: datetime | None = None,
    until_year: int | None = None,
) -> list[Reminder]:
    """Every reminder of ``cycle``: before each windowed stage closes, each offset × (every party
    + the lead); before each deadline a project was given (its party and the lead); before each
    periodic round opens, from the cycle's year to ``until_year`` (every party and the lead); at
    the end of a public notice (the lead)."""
    planned: list[Reminder] = []
    zone = ZoneInfo(program.timezone)

    def add(subject: str, offset: timedelta, recipients: Iterable[str], at: datetime) -> None:
        label = describe_offset(offset)
        for recipient in recipients:
            key = reminder_key(cycle.id, subject, label, recipient)
            planned.append(Reminder(cycle.id, subject, label, recipient, at - offset, key=key))

    for stage in program.stages:
        window = program.window(stage.id, cycle.year)
        if window is not None and window.closes is not None:
            for offset in stage.reminders:
                add(stage.id, offset, (*program.party_ids, LEAD), window.closes)
    for d in deadlines:
        ends = datetime.combine(d.due + timedelta(days=1), time.min, zone)
        for offset in program.deadline_reminders:
            add(deadline_key(d.project_id, d.order), offset, dict.fromkeys((d.party, LEAD)), ends)
    # rounds recur while the cycle's projects are managed: its year's, and up to ``until_year``
    for year in range(cycle.year, max(cycle.year, until_year or cycle.year) + 1):
        for month in program.round_months:
            opens = datetime(year, month, 1, tzinfo=zone)
            for offset in program.round_reminders:
                add(round_key(year, month), offset, (*program.party_ids, LEAD), opens)
    if published_at is not None and program.notice_days is not None:
        add(NOTICE_KEY, timedelta(0), (LEAD,), published_at + timedelta(days=program.notice_days))
    return planned


@dataclass(frozen=True)
class Notice:
    """What a channel delivers."""

    key: str
    recipient: str
    recipient_name: str
    subject: str
    text: str
    due_at: datetime
    late: bool = False

    def payload(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "recipient": self.recipient,
            "subject": self.subject,
            "text": self.text,
            "due_at": self.due_at.isoformat(),
            "late": self.late,
        }


class DeliveryError(Exception):
    """A channel could not deliver; the message says why without any secret (no URL, no password)."""


class Channel(Protocol):
    name: str

    def wants(self, recipient: str) -> bool: ...

    def send(self, notice: Notice) -> None: ...


class WorkSource(Protocol):
    """What the dispatcher needs from the engine: the cycle and what is left to do in a stage."""

    def pending_work(self, cycle_id: str, stage_id: str) -> Any: ...


@dataclass
class DispatchReport:
    sent: list[Reminder] = field(default_factory=list)
    late: list[Reminder] = field(default_factory=list)
    skipped: list[Reminder] = field(default_factory=list)
    retrying: list[Reminder] = field(default_factory=list)
    failed: list[Reminder] = field(default_factory=list)

    def count(self) -> int:
        return sum(len(x) for x in (self.sent, self.late, self.skipped, self.retrying, self.failed))

    def summary(self) -> str:
        return (
            f"{len(self.sent)} sent, {len(self.late)} sent late, {len(self.skipped)} with nothing to do, "
            f"{len(self.retrying)} to retry, {len(self.failed)} failed"
        )


def _left(seconds: float) -> Msg:
    if seconds <= 0:
        return Msg("the window has closed")
    days, rem = divmod(int(seconds), 86400)
    hours = rem // 3600
    if days:
        return Msg("{days} d {hours} h left", days=days, hours=hours)
    return Msg("{hours} h {minutes} min left", hours=hours, minutes=(rem % 3600) // 60)


class Dispatcher:
    """One dispatch pass over the reminders table (used by `remind due` and the scheduler)."""

    def __init__(
        self,
        store: Store,
        work: WorkSource,
        channels: Sequence[Channel],
        clock: Callable[[], datetime],
        max_attempts: int = 5,
        backoff: timedelta = timedelta(minutes=1),
        grace: timedelta = timedelta(minutes=5),
        claim_timeout: timedelta = timedelta(minutes=10),
        before_mark: Callable[[Reminder, str], None] | None = None,
    ):
        self.store = store
        self.work = work
        self.channels = list(channels)
        self.clock = clock
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.grace = grace
        self.claim_timeout = claim_timeout
        # test hook: called after a channel delivered and before that is recorded
        self.before_mark = before_mark

    def dispatch(self, batch: int = 500) -> DispatchReport:
        """Send everything due now, ``batch`` claims at a time, until nothing due is left."""
        report = DispatchReport()
        while True:
            now = self.clock()
            with self.store.transaction() as tx:
                claimed = tx.claim_reminders(now, now - self.claim_timeout, batch)
            for reminder in claimed:
                self._deliver(reminder, report)
            if len(claimed) < batch:
                break
        if report.count():
            log.info("dispatched", summary=report.summary())
        return report

    def _deliver(self, reminder: Reminder, report: DispatchReport) -> None:
        now = self.clock()
        notice = self._notice(reminder, now)
        if notice is None:
            reminder.status = "skipped"
            reminder.sent_at = now
            self._save(reminder)
            report.skipped.append(reminder)
            return
        reminder.message = notice.text
        errors = []
        for channel in self.channels:
            if channel.name in reminder.channels_done or not channel.wants(reminder.recipient):
                continue
            try:
                channel.send(notice)
            except DeliveryError as exc:
                errors.append(f"{channel.name}: {exc}")
                continue
            if self.before_mark is not None:
                self.before_mark(reminder, channel.name)
            reminder.channels_done.append(channel.name)
            self._save(reminder)  # each channel's success is recorded at once
        if errors:
            reminder.attempts += 1
            reminder.last_error = "; ".join(errors)
            if reminder.attempts >= self.max_attempts:
                reminder.status = "failed"
                report.failed.append(reminder)
                log.warning("reminder_failed", key=reminder.key, attempts=reminder.attempts, error=reminder.last_error)
            else:
                reminder.status = "retry"
                reminder.next_attempt_at = now + self.backoff * (4 ** (reminder.attempts - 1))
                report.retrying.append(reminder)
                log.info(
                    "reminder_retry",
                    key=reminder.key,
                    attempts=reminder.attempts,
                    next_attempt_at=reminder.next_attempt_at.isoformat(),
                    error=reminder.last_error,
                )
        else:
            reminder.sent_at = now
            reminder.status = "late" if notice.late else "sent"
            (report.late if notice.late else report.sent).append(reminder)
        self._save(reminder)

    def _save(self, reminder: Reminder) -> None:
        with self.store.transaction() as tx:
            tx.save_reminder(reminder)

    def _notice(self, reminder: Reminder, now: datetime) -> Notice | None:
        """What the recipient still has to do, computed now; None when nothing is left."""
        work = self.work.pending_work(reminder.cycle_id, reminder.stage)
        if work is None:  # the cycle is no longer (or not yet) in this stage
            return None
        # A notice is read by a city's office: it is written in the process's language (Chinese
        # unless EVALFLOW_LANG says otherwise), in the English it always had under en.
        if reminder.recipient == LEAD:
            items: list[Any] = [r.message for r in work.rejections]
            if not items:
                items = [
                    Msg(
                        "every party is done; close the stage with 'evalflow cycle advance {cycle}' "
                        "when its window allows",
                        cycle=reminder.cycle_id,
                    )
                ]
            name: Any = Text("牵头单位 (lead)", "牵头单位")
        else:
            items = [r.message for r in work.rejections if reminder.recipient in r.parties]
            if not items:
                return None
            name = work.party_names.get(reminder.recipient, reminder.recipient)
        late = now - reminder.due_at > self.grace
        zone = ZoneInfo(work.timezone)
        closes_local = work.closes.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        when = Msg(
            "{left} (closes {closes} {zone})",
            left=_left((work.closes - now).total_seconds()),
            closes=closes_local,
            zone=zone_words(work.timezone),
        )
        prefix = Msg("[late: due {due}] ", due=f"{reminder.due_at.astimezone(zone):%Y-%m-%d %H:%M}") if late else ""
        # (the subject names the stage's id beside its name in English, as it always did)
        stage = Text(f"{work.stage_name} ({reminder.stage})", work.stage_name)
        subject = Msg("{name} · {stage} · {when}", name=name, stage=stage, when=when).render()
        text = Msg(
            "{late}{name}，{stage}（{cycle}）: {items}; {when}. Reminder key: {key}",
            late=prefix,
            name=name,
            stage=work.stage_name,
            cycle=reminder.cycle_id,
            items=Joined(items, "; "),
            when=when,
            key=reminder.key,
        ).render()
        name = rendered(name)
        return Notice(reminder.key, reminder.recipient, name, subject, text, reminder.due_at, late)


@dataclass(frozen=True)
class PendingWork:
    """What is left to do in a stage, as the closing rules see it now."""

    stage_name: str
    closes: datetime
    timezone: str
    rejections: Sequence[Any]
    party_names: dict[str, str]


def summarise(reminders: Iterable[Reminder]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in reminders:
        out[r.status] = out.get(r.status, 0) + 1
    return out
