"""`evalflow audit`: verify the audit trail's hash chains, print their head, rebuild state from the trail."""

from __future__ import annotations

import json

import click

from commands.common import cfg, handled, json_option, out


@click.group()
def audit() -> None:
    """The audit trail: verify its hash chains, print their head, rebuild state from it (lead)."""


@audit.command("verify")
@json_option
@click.option("--cycle", "cycle_id", help="Only this cycle's chain (default: every chain).")
@click.option("--head", help="The head you kept from `audit head`: a trail cut off before it is caught.")
@handled
def audit_verify(cycle_id: str | None, head: str | None) -> None:
    """Recompute every hash of the trail; name the first broken entry of each chain (exit 11)."""
    from workflow.audit import as_dicts
    from workflow.errors import TrailBroken

    report = cfg().engine().audit_verify(cfg().user, cycle_id, head)
    data = {"ok": report.ok, "entries": report.entries, "chains": report.chains, "breaks": as_dicts(report.breaks)}
    if report.ok:
        out(data, lambda: click.echo(f"The audit trail holds: {report.entries} entries in {len(report.chains)} chains"))
        return
    if cfg().json:
        click.echo(json.dumps(data, ensure_ascii=False))
    more = f" (and {len(report.breaks) - 1} more chains broken)" if len(report.breaks) > 1 else ""
    raise TrailBroken(f"The audit trail does not hold: {report.breaks[0]}{more}")


@audit.command("head")
@click.option("--cycle", "cycle_id", help="One cycle's chain (default: all chains at once).")
@handled
def audit_head(cycle_id: str | None) -> None:
    """Print the trail's head hash: keep it outside the database, then `audit verify --head HASH`."""
    click.echo(cfg().engine().audit_head(cfg().user, cycle_id))


@audit.command("replay")
@json_option
@click.option("--cycle", "cycle_id", help="Only this cycle (default: every cycle).")
@handled
def audit_replay(cycle_id: str | None) -> None:
    """Rebuild every project's state from the trail alone and compare it with the stored state (exit 11)."""
    from workflow.errors import TrailBroken

    report = cfg().engine().audit_replay(cfg().user, cycle_id)
    data = {
        "ok": report.ok,
        "projects": report.projects,
        "entries": report.entries,
        "differences": [str(d) for d in report.differences],
    }
    if report.ok:
        out(
            data,
            lambda: click.echo(
                f"The trail gives every stored state: {report.projects} projects from {report.entries} entries"
            ),
        )
        return
    if cfg().json:
        click.echo(json.dumps(data, ensure_ascii=False))
    more = f" (and {len(report.differences) - 1} more)" if len(report.differences) > 1 else ""
    raise TrailBroken(f"The trail does not give the stored state: {report.differences[0]}{more}")
