"""`evalflow scheduler run`: the long-running reminder service.

APScheduler 3.x only wakes the dispatcher; the reminders table is the truth. On start the
service takes the database's scheduler lease (a row, so it works on any SQL database), sends
whatever fell due while nobody was running (marked late, once), then sleeps until the next due
instant (a date trigger, re-armed after every pass) with a periodic pass as a safety net for
reminders planned meanwhile. A second service on the same database refuses to start.

It also signs the audit trail's daily checkpoint (workflow/checkpoints.py): an hourly job signs
one when the newest checkpoint is a day old and the trail has moved since.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from workflow.clock import utc_now
from workflow.errors import EvalflowError
from workflow.log import get_logger
from workflow.ports import Store
from workflow.reminders import Dispatcher

log = get_logger("evalflow.scheduler")

LEASE = "scheduler"


class SchedulerRunning(EvalflowError):
    """Another scheduler holds this database's lease."""

    exit_code = 10
    kind = "scheduler_running"

    def __init__(self, holder: str, expires: datetime):
        super().__init__(
            f"Another scheduler is already running on this database ({holder}); its lease runs until "
            f"{expires.isoformat(timespec='seconds')} and is renewed while it runs. Stop it first, or wait "
            "for the lease to expire if it crashed"
        )


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class SchedulerService:
    """Owns the lease, the APScheduler instance and the dispatcher."""

    def __init__(
        self,
        store: Store,
        dispatcher: Dispatcher,
        clock: Callable[[], datetime],
        holder: str | None = None,
        lease_ttl: timedelta = timedelta(seconds=90),
        poll: timedelta = timedelta(seconds=60),
        lease_clock: Callable[[], datetime] = utc_now,
        checkpoint: Callable[[], object] | None = None,
    ):
        self.store = store
        self.dispatcher = dispatcher
        self.clock = clock  # the evaluation clock (rehearsals may set it); leases use real time
        self.lease_clock = lease_clock
        self.holder = holder or default_holder()
        self.lease_ttl = lease_ttl
        self.poll = poll
        self.checkpoint = checkpoint  # signs the daily checkpoint when one is due (Engine.sign_if_due)
        self.scheduler: BackgroundScheduler | None = None
        self.passes = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    # -- the lease --------------------------------------------------------------------------
    def acquire(self) -> None:
        """Take or renew the lease, in real time (processes live in real time, even in a rehearsal)."""
        now = self.lease_clock()
        with self.store.transaction() as tx:
            lease = tx.acquire_lease(LEASE, self.holder, now, now + self.lease_ttl)
        if lease.holder != self.holder:
            raise SchedulerRunning(lease.holder, lease.expires_at)

    def renew(self) -> None:
        try:
            self.acquire()
        except SchedulerRunning as exc:  # someone took over after our lease lapsed: stop at once
            log.error("lease_lost", holder=self.holder, message=str(exc))
            self.stop(wait=False)  # we run in a scheduler thread: it cannot wait for itself
        except EvalflowError as exc:  # the database is briefly unavailable: try again next time
            log.error("lease_renewal_failed", holder=self.holder, message=str(exc))

    def release(self) -> None:
        with self.store.transaction() as tx:
            tx.release_lease(LEASE, self.holder)

    # -- running ----------------------------------------------------------------------------
    def start(self) -> None:
        """Take the lease, catch up on everything due, then let APScheduler wake us."""
        self.acquire()
        log.info("scheduler_started", holder=self.holder)
        self.scheduler = BackgroundScheduler(
            timezone="UTC", job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
        )
        self.scheduler.add_job(
            self.renew, IntervalTrigger(seconds=max(1, self.lease_ttl.total_seconds() / 3)), id="renew_lease"
        )
        self.scheduler.add_job(self.wake, IntervalTrigger(seconds=self.poll.total_seconds()), id="poll")
        if self.checkpoint is not None:
            self.scheduler.add_job(self.sign, IntervalTrigger(hours=1), id="audit_checkpoint")
        self.scheduler.start()
        self.wake()  # what fell due while nobody was running goes out now, marked late
        self.sign()  # (a day may have passed while nobody was running)

    def sign(self) -> None:
        """The daily checkpoint of the audit trail, if one is due; a failure is logged and tried
        again at the next hour (the reminders go on)."""
        if self.checkpoint is None or self._stopped.is_set():
            return
        try:
            self.checkpoint()
        except EvalflowError as exc:
            log.error("audit_checkpoint_failed", holder=self.holder, message=str(exc))

    def wake(self) -> None:
        """One dispatch pass, then re-arm the date trigger for the next due reminder."""
        if self._stopped.is_set():
            return
        with self._lock:
            report = self.dispatcher.dispatch()
            self.passes += 1
            with self.store.transaction(write=False) as tx:
                nxt = tx.next_reminder_due()
            if self.scheduler is not None and nxt is not None and not self._stopped.is_set():
                self.scheduler.add_job(
                    self.wake, DateTrigger(run_date=max(nxt, self.clock())), id="next_due", replace_existing=True
                )
        if report.count():
            log.info("pass", summary=report.summary(), next_due=nxt.isoformat() if nxt else None)

    def stop(self, wait: bool = True) -> None:
        """Stop waking and give up the lease. With ``wait`` (the default) a dispatch pass under
        way finishes first, so that a reminder being sent is marked sent, not left 'sending' to be
        sent again after the claim times out. From a scheduler job (a lost lease) it cannot wait."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        try:
            self.release()
        except EvalflowError:
            pass
        log.info("scheduler_stopped", holder=self.holder)

    def wait(self, timeout: float | None = None) -> bool:
        return self._stopped.wait(timeout)
