"""`evalflow remind` and `evalflow scheduler`: reminders before windows close, and the service sending them."""

from __future__ import annotations

import click

from commands.common import cfg, handled, json_option, local, out


@click.group()
def remind() -> None:
    """Reminders before stage windows close: plan, send what is due, list."""


@remind.command("plan")
@click.argument("cycle_id", required=False)
@handled
def remind_plan(cycle_id: str | None) -> None:
    """Re-plan a cycle's reminders after a program or cycle change (unsent replaced, sent kept)."""
    c, added, moved, removed = cfg().engine().replan_reminders(cfg().user, cycle_id)
    click.echo(f"Re-planned reminders of {c.id}: {added} added, {moved} moved, {removed} removed")


@remind.command("due")
@handled
def remind_due() -> None:
    """Send every reminder that is due, once, and exit (for cron)."""
    report = cfg().dispatcher(click.echo).dispatch()
    click.echo(f"Reminders: {report.summary()}")


@remind.command("list")
@click.option("--cycle", "cycle_id")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(["planned", "sending", "retry", "sent", "late", "skipped", "failed"]),
)
@json_option
@handled
def remind_list(cycle_id: str | None, statuses: tuple[str, ...]) -> None:
    """Planned, sent, late, skipped and failed reminders (a city's users see their own)."""
    items = cfg().engine().reminders(cfg().user, cycle_id, list(statuses) or None)

    def text() -> None:
        for r in items:
            sent = f" at {local(r.sent_at)}" if r.sent_at else ""
            err = f"  ({r.last_error})" if r.last_error else ""
            click.echo(
                f"{local(r.due_at)}  {r.status:<8} {r.stage:<17} {r.offset:>3}  {r.recipient:<10}{sent}"
                f"{' via ' + ','.join(r.channels_done) if r.channels_done else ''}{err}"
            )
        counts: dict[str, int] = {}
        for r in items:
            counts[r.status] = counts.get(r.status, 0) + 1
        click.echo(f"{len(items)} reminders: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))

    out(items, text)


@click.group()
def scheduler() -> None:
    """The reminder service."""


@scheduler.command("run")
@click.option("--poll", default=60, show_default=True, type=click.IntRange(1), help="Seconds between safety passes.")
@handled
def scheduler_run(poll: int) -> None:
    """Run the reminder service until stopped (SIGTERM/Ctrl-C). One per database."""
    import signal
    from datetime import timedelta

    from workflow.service import SchedulerService

    dispatcher = cfg().dispatcher(click.echo)
    service = SchedulerService(dispatcher.store, dispatcher, dispatcher.clock, poll=timedelta(seconds=poll))
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: service.stop())
    service.start()
    click.echo(f"Scheduler running as {service.holder}; Ctrl-C to stop")
    try:
        while not service.wait(1.0):
            pass
    finally:
        service.stop()
    click.echo("Scheduler stopped")
