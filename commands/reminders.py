"""`evalflow remind` and `evalflow scheduler`: reminders before windows close, and the service sending them."""

from __future__ import annotations

import click

from commands.common import cfg, handled, json_option, local, out
from i18n import Joined, Msg
from workflow.reminders import STATUS_NAMES


def _status(status: str) -> str:
    """A reminder's status in the reader's language (padded by the caller: a column)."""
    said = STATUS_NAMES.get(status)
    return said.render() if said is not None else status


@click.group()
def remind() -> None:
    """Reminders before stage windows close: plan, send what is due, list."""


@remind.command("plan")
@click.argument("cycle_id", required=False)
@handled
def remind_plan(cycle_id: str | None) -> None:
    """Re-plan a cycle's reminders after a program or cycle change (unsent replaced, sent kept)."""
    c, added, moved, removed = cfg().engine().replan_reminders(cfg().user, cycle_id)
    said = Msg(
        "Re-planned reminders of {cycle}: {added} added, {moved} moved, {removed} removed",
        cycle=c.id,
        added=added,
        moved=moved,
        removed=removed,
    )
    click.echo(said.render())


@remind.command("due")
@handled
def remind_due() -> None:
    """Send every reminder that is due, once, and exit (for cron)."""
    report = cfg().dispatcher(click.echo).dispatch()
    summary = Msg(
        "{sent} sent, {late} sent late, {skipped} with nothing to do, {retrying} to retry, {failed} failed",
        sent=len(report.sent),
        late=len(report.late),
        skipped=len(report.skipped),
        retrying=len(report.retrying),
        failed=len(report.failed),
    )
    click.echo(Msg("Reminders: {summary}", summary=summary).render())


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
            sent = Msg(" at {at}", at=local(r.sent_at)) if r.sent_at else ""
            via = Msg(" via {channels}", channels=",".join(r.channels_done)) if r.channels_done else ""
            err = f"  ({r.last_error})" if r.last_error else ""
            row = Msg(
                "{due}  {status} {stage} {offset}  {recipient}{sent}{via}{error}",
                due=local(r.due_at),
                status=f"{_status(r.status):<8}",
                stage=f"{r.stage:<17}",
                offset=f"{r.offset:>3}",
                recipient=f"{r.recipient:<10}",
                sent=sent,
                via=via,
                error=err,
            )
            click.echo(row.render())
        counts: dict[str, int] = {}
        for r in items:
            counts[r.status] = counts.get(r.status, 0) + 1
        each = Joined([Msg("{count} {status}", count=n, status=_status(k)) for k, n in sorted(counts.items())], ", ")
        click.echo(Msg("{count} reminders: {each}", count=len(items), each=each).render())

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
    engine = cfg().engine()
    service = SchedulerService(
        dispatcher.store, dispatcher, dispatcher.clock, poll=timedelta(seconds=poll), checkpoint=engine.sign_if_due
    )
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: service.stop())
    service.start()
    click.echo(Msg("Scheduler running as {holder}; Ctrl-C to stop", holder=service.holder).render())
    try:
        while not service.wait(1.0):
            pass
    finally:
        service.stop()
    click.echo(Msg("Scheduler stopped").render())
