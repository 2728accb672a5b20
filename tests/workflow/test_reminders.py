"""Reminders: planned from the program, sent once at their instant, never lost while the
scheduler is down, retried and finally failed visibly, re-planned without losing sent ones."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from notify.channels import EmailChannel, WebhookChannel
from notify.config import NotifyConfig, Recipient, SmtpSettings
from tests.conftest import LEAD, PROGRAM, YEAR, SettableClock, admin, applicant, make_app, sh
from workflow.program import ProgramRegistry, build_program
from workflow.records import Cycle, Reminder
from workflow.reminders import Dispatcher, Notice, plan_for
from workflow.service import SchedulerRunning, SchedulerService


class Recorder:
    """A channel that keeps what it was given (the real channels have their own tests)."""

    name = "recorder"

    def __init__(self) -> None:
        self.notices: list[Notice] = []

    def wants(self, recipient: str) -> bool:
        return True

    def send(self, notice: Notice) -> None:
        self.notices.append(notice)

    def to(self, recipient: str) -> list[Notice]:
        return [n for n in self.notices if n.recipient == recipient]


def dispatcher(engine, clock, *channels, **kw) -> Dispatcher:
    return Dispatcher(engine.store, engine, list(channels), clock, **kw)


def rows(engine, **kw) -> list[Reminder]:
    return engine.reminders(LEAD, None, **kw)


def by_key(engine, key: str) -> Reminder:
    return next(r for r in rows(engine) if r.key == key)


# ------------------------------------------------------------------------------ planning


def test_opening_a_cycle_plans_every_reminder_of_every_stage(engine, cycle) -> None:
    planned = rows(engine)
    # 5 stages with a window × 3 offsets × (9 cities + the lead)
    assert len(planned) == 5 * 3 * 10 and {r.status for r in planned} == {"planned"}
    assert len({r.key for r in planned}) == len(planned)
    seven = by_key(engine, "g60-2027/collection/7d/hefei")
    assert seven.due_at == sh(2, 22, 0)  # 7 days before 03-01 00:00 Asia/Shanghai
    assert by_key(engine, "g60-2027/collection/0d/lead").due_at == sh(3, 1, 0)
    assert by_key(engine, "g60-2027/recommendation/1d/wuhu").due_at == sh(6, 30, 0)


def _program(windows: dict[str, tuple[str, str]], reminders=None):
    import tomllib

    data = tomllib.loads(ProgramRegistry().files()[PROGRAM].read_text(encoding="utf-8"))
    for name, (start, end) in windows.items():
        data["windows"][name] = {"start": start, "end": end}
    if reminders is not None:
        data["reminders"] = {"before_close": reminders}
    return build_program(data)


def _due(program, year: int, key_part: str) -> datetime:
    cycle = Cycle("x", program.id, 1, "", year, program.stages[0].id)
    return next(r.due_at for r in plan_for(program, cycle) if key_part in r.key)


def test_deadlines_across_month_end_year_end_and_leap_day() -> None:
    program = _program({"collection": ("01-01", "01-31"), "municipal": ("02-01", "04-30"), "joint": ("05-01", "12-31")})
    # month end: collection closes 02-01 00:00, so 7 days before is 01-25 00:00 Shanghai
    assert _due(program, 2027, "collection/7d/lead") == sh(1, 25, 0)
    # year end: the joint window closes 2028-01-01 00:00 Shanghai (2027-12-31 16:00 UTC)
    assert _due(program, 2027, "confirmation/0d/lead") == datetime(2027, 12, 31, 16, 0, tzinfo=UTC)
    assert _due(program, 2027, "confirmation/1d/lead") == sh(12, 31, 0)
    assert _due(program, 2027, "confirmation/7d/lead") == sh(12, 25, 0)
    # leap day: the shipped collection window ends 02-29, so in 2028 the 1-day reminder is on 02-29
    shipped = ProgramRegistry().get(PROGRAM)
    assert _due(shipped, 2028, "collection/1d/lead") == sh(2, 29, 0, year=2028)
    assert _due(shipped, 2027, "collection/1d/lead") == sh(2, 28, 0)


def test_program_data_changes_the_offsets() -> None:
    program = _program({}, reminders=["3d", "12h"])
    cycle = Cycle("x", program.id, 1, "", 2027, "collection")
    offsets = sorted({r.offset for r in plan_for(program, cycle)})
    assert offsets == ["12h", "3d"]
    assert _due(program, 2027, "collection/12h/lead") == sh(2, 28, 12)


# ------------------------------------------------------------------------------ sending


def test_each_reminder_fires_once_at_its_instant(engine, clock, cycle) -> None:
    clock.set(sh(1, 10))
    engine.submit(applicant("hefei"), make_app("hefei", 1))
    rec = Recorder()
    d = dispatcher(engine, clock, rec)
    clock.set(sh(2, 21, 23, 59, 59))  # one second before the 7-day reminder
    assert d.dispatch().count() == 0 and rec.notices == []
    clock.set(sh(2, 22, 0))
    report = d.dispatch()
    assert [n.key for n in rec.to("hefei")] == ["g60-2027/collection/7d/hefei"]
    assert len(report.sent) == 2 and len(report.skipped) == 8  # hefei and the lead; 8 cities have nothing to do
    assert by_key(engine, "g60-2027/collection/7d/hefei").status == "sent"
    clock.set(sh(2, 22, 0, 1))
    assert d.dispatch().count() == 0
    assert len(rec.to("hefei")) == 1


def test_the_text_is_what_is_left_at_send_time(engine, clock, cycle) -> None:
    clock.set(sh(1, 10))
    ids = [engine.submit(applicant("hefei"), make_app("hefei", n)).id for n in (1, 2, 3)]
    rec = Recorder()
    d = dispatcher(engine, clock, rec)
    clock.set(sh(2, 22, 0))
    d.dispatch()
    assert "hefei has 3 submissions neither accepted nor rejected" in rec.to("hefei")[0].text
    assert (
        "7 d 0 h left" in rec.to("hefei")[0].text
        and "Reminder key: g60-2027/collection/7d/hefei" in rec.to("hefei")[0].text
    )
    clock.set(sh(2, 25))
    engine.fire(admin("hefei"), ids[:2], "accept")
    clock.set(sh(2, 28, 0))
    d.dispatch()
    assert "hefei has 1 submission neither accepted nor rejected" in rec.to("hefei")[1].text
    lead = rec.to("lead")
    assert "hefei has 1 submission" in lead[1].text and len(lead) == 2
    engine.fire(admin("hefei"), ids[2], "reject", reason="不符合条件")
    clock.set(sh(3, 1, 0))
    report = d.dispatch()
    assert rec.to("hefei")[2:] == []  # nothing left: nothing sent
    assert by_key(engine, "g60-2027/collection/0d/hefei").status == "skipped"
    assert "every party is done" in rec.to("lead")[2].text
    assert len(report.sent) == 1


def test_reminders_of_a_stage_the_cycle_is_not_in_say_nothing(engine, clock, cycle) -> None:
    rec = Recorder()
    clock.set(sh(6, 24, 0))  # the joint-window 7-day reminders; the cycle is still in collection
    report = dispatcher(engine, clock, rec).dispatch()
    joint = [
        r for r in rows(engine) if r.stage in ("recommendation", "joint_scoring", "confirmation") and r.offset == "7d"
    ]
    assert {r.status for r in joint} == {"skipped"}
    assert all(n.key.startswith("g60-2027/collection/") for n in rec.notices)
    # due by then: collection and municipal review (3 offsets × 10 each) and the three joint stages' 7d
    assert report.count() == 30 + 30 + 3 * 10


# ------------------------------------------------------------------------------ the service


def service(engine, clock, rec, holder="host-a:1", **kw) -> SchedulerService:
    return SchedulerService(engine.store, dispatcher(engine, clock, rec), clock, holder=holder, **kw)


def test_a_scheduler_down_across_three_deadlines_sends_each_once_on_restart(engine, clock, cycle) -> None:
    clock.set(sh(1, 10))
    engine.submit(applicant("hefei"), make_app("hefei", 1))
    rec = Recorder()
    clock.set(sh(3, 1, 8))  # 7d, 1d and 0d of collection all passed while nothing ran
    first = service(engine, clock, rec)
    first.start()
    first.stop()
    hefei = rec.to("hefei")
    assert [n.key.split("/")[2] for n in hefei] == ["7d", "1d", "0d"]
    assert all(n.late and n.text.startswith("[late: due ") for n in hefei)
    assert {by_key(engine, n.key).status for n in hefei} == {"late"}
    second = service(engine, clock, rec, holder="host-a:2")
    second.start()
    second.stop()
    assert len(rec.to("hefei")) == 3


def test_a_second_scheduler_refuses_to_start(engine, clock, cycle) -> None:
    clock.set(sh(1, 10))
    first = service(engine, clock, Recorder(), holder="host-a:1")
    first.start()
    try:
        second = service(engine, clock, Recorder(), holder="host-b:2")
        with pytest.raises(SchedulerRunning) as err:
            second.start()
        assert err.value.exit_code == 10
        assert "host-a:1" in str(err.value) and "already running" in str(err.value)
    finally:
        first.stop()
    third = service(engine, clock, Recorder(), holder="host-b:3")
    third.start()  # the lease was released on stop
    third.stop()


def test_a_crashed_schedulers_lease_expires(engine, clock, cycle) -> None:
    """Leases run on real time (lease_clock), whatever the rehearsal clock says."""
    real = SettableClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    crashed = service(engine, clock, Recorder(), holder="host-a:1", lease_clock=real)
    crashed.acquire()  # took the lease, then died without releasing it
    clock.set(sh(12, 31))  # a rehearsal far in the future does not make the lease look expired
    with pytest.raises(SchedulerRunning):
        service(engine, clock, Recorder(), holder="host-b:2", lease_clock=real).acquire()
    real.set(real.instant + timedelta(seconds=91))
    service(engine, clock, Recorder(), holder="host-b:2", lease_clock=real).acquire()


def test_the_scheduler_wakes_itself_at_the_next_due_instant(engine, cycle) -> None:
    """Real time: a reminder due in 1.5 s is sent by the date-trigger wake, not by the poll."""
    real = lambda: datetime.now(UTC)  # noqa: E731
    with engine.store.transaction() as tx:
        c = tx.get_cycle(cycle.id)
        soon = datetime.now(UTC) + timedelta(seconds=1.5)
        key = "g60-2027/collection/test/lead"
        tx.replan_reminders(
            c.id, [*tx.reminders(c.id), Reminder(c.id, "collection", "test", "lead", soon, key)], ("planned", "retry")
        )
    rec = Recorder()
    svc = SchedulerService(
        engine.store, Dispatcher(engine.store, engine, [rec], real), real, holder="t:1", poll=timedelta(hours=1)
    )
    engine.clock = real
    svc.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(n.key == key for n in rec.notices):
            time.sleep(0.1)
    finally:
        svc.stop()
    assert [n.key for n in rec.notices if n.key == key] == [key]
    assert by_key(engine, key).status == "sent"


# ------------------------------------------------------------------------------ delivery failures


def test_a_failed_delivery_is_retried_with_backoff_then_failed(engine, clock, cycle, robot_server) -> None:
    clock.set(sh(1, 10))
    engine.submit(applicant("hefei"), make_app("hefei", 1))
    robot_server.status = 500
    config = NotifyConfig(recipients={"hefei": Recipient(webhook=robot_server.url("TOKEN-123"))})
    d = dispatcher(engine, clock, WebhookChannel(config), max_attempts=3, backoff=timedelta(minutes=1))
    key = "g60-2027/collection/7d/hefei"
    clock.set(sh(2, 22, 0))
    d.dispatch()
    r = by_key(engine, key)
    assert (r.status, r.attempts, r.next_attempt_at) == ("retry", 1, sh(2, 22, 0, 1))
    assert "answered HTTP 500" in r.last_error and "TOKEN-123" not in r.last_error
    clock.set(sh(2, 22, 0, 0, 59))
    d.dispatch()
    assert by_key(engine, key).attempts == 1  # not before the backoff
    clock.set(sh(2, 22, 0, 1))
    d.dispatch()
    r = by_key(engine, key)
    assert (r.status, r.attempts, r.next_attempt_at) == ("retry", 2, sh(2, 22, 0, 5))  # 1 min, then 4 min
    clock.set(sh(2, 22, 0, 5))
    d.dispatch()
    r = by_key(engine, key)
    assert (r.status, r.attempts) == ("failed", 3)
    assert len(robot_server.bodies) == 3
    assert engine.reminders(LEAD, None, ["failed"])[0].key == key


def test_a_crash_between_send_and_mark_resends_with_the_same_key(engine, clock, cycle, smtp_server) -> None:
    """Documented guarantee: at-least-once per channel; the receiver sees the key twice and can drop one."""
    clock.set(sh(1, 10))
    engine.submit(applicant("hefei"), make_app("hefei", 1))
    config = NotifyConfig(
        smtp=SmtpSettings(host="127.0.0.1", port=smtp_server.port),
        recipients={"hefei": Recipient(email=("zzb@example.org",))},
    )

    class Crash(BaseException):
        pass

    def crash(reminder, channel):
        raise Crash

    clock.set(sh(2, 22, 0))
    with pytest.raises(Crash):
        dispatcher(engine, clock, EmailChannel(config), before_mark=crash).dispatch()
    key = "g60-2027/collection/7d/hefei"
    assert by_key(engine, key).status == "sending" and len(smtp_server.inbox.messages) == 1
    again = dispatcher(engine, clock, EmailChannel(config), claim_timeout=timedelta(minutes=10))
    clock.set(sh(2, 22, 0, 9))
    again.dispatch()
    assert len(smtp_server.inbox.messages) == 1  # still claimed by the crashed pass
    clock.set(sh(2, 22, 0, 10, 1))
    again.dispatch()
    keys = [m["X-Evalflow-Key"] for m in smtp_server.inbox.messages]
    assert keys == [key, key]
    assert by_key(engine, key).status == "late"
    again.dispatch()
    assert len(smtp_server.inbox.messages) == 2


# ------------------------------------------------------------------------------ re-planning


def test_replanning_replaces_unsent_and_keeps_sent(engine, clock, cycle, tmp_path, monkeypatch) -> None:
    clock.set(sh(2, 22, 0))
    dispatcher(engine, clock, Recorder()).dispatch()
    sent_before = {r.key for r in rows(engine) if r.status in ("sent", "skipped")}
    assert sent_before
    # the program now reminds 3 days and 12 hours before a close
    text = ProgramRegistry().files()[PROGRAM].read_text(encoding="utf-8")
    text = text.replace('before_close = ["7d", "1d", "0d"]', 'before_close = ["3d", "12h"]')
    (tmp_path / f"{PROGRAM}.toml").write_text(text, encoding="utf-8")
    engine.programs = ProgramRegistry([tmp_path])
    _, added, moved, removed = engine.replan_reminders(LEAD)
    after = rows(engine)
    assert sent_before <= {r.key for r in after}  # nothing sent was lost
    assert added == 5 * 2 * 10 and removed == 5 * 3 * 10 - len(sent_before) and moved == 0
    assert {r.offset for r in after if r.status == "planned"} == {"3d", "12h"}
    assert "replan_reminders" in [e.action for e in engine.history(LEAD)]


def test_only_the_lead_replans(engine, cycle) -> None:
    from workflow.errors import NotPermitted

    with pytest.raises(NotPermitted):
        engine.replan_reminders(admin("hefei"))
    assert YEAR == 2027


def test_with_freezegun_the_default_clocks_fire_at_the_instant(store, programs) -> None:
    """The production clocks (datetime.now) under freezegun: the 1-day reminder at 2027-02-28 00:00 Shanghai."""
    from freezegun import freeze_time

    from workflow.clock import utc_now
    from workflow.engine import Engine

    engine = Engine(store, programs)
    with freeze_time("2027-01-02 01:00:00"):
        engine.add_user(None, LEAD, "lead", "songjiang")
        engine.open_cycle(LEAD, PROGRAM, YEAR)
    rec = Recorder()
    d = Dispatcher(store, engine, [rec], utc_now)
    with freeze_time("2027-02-27 15:59:59"):  # one second before 02-28 00:00 Shanghai (the 1d reminder)
        d.dispatch()
    assert [n.key for n in rec.notices] == ["g60-2027/collection/7d/lead"]
    with freeze_time("2027-02-27 16:00:00"):
        d.dispatch()
    assert [n.key for n in rec.notices][1:] == ["g60-2027/collection/1d/lead"]
    assert by_key(engine, "g60-2027/collection/7d/lead").status == "late"
    assert by_key(engine, "g60-2027/collection/1d/lead").status == "sent"


def test_one_pass_sends_more_than_one_batch(engine, clock, cycle) -> None:
    rec = Recorder()
    clock.set(sh(3, 1, 1))
    report = dispatcher(engine, clock, rec).dispatch(batch=7)
    assert report.count() == 30  # every collection reminder, claimed 7 at a time
    assert {r.status for r in rows(engine) if r.stage == "collection"} <= {"sent", "late", "skipped"}
