"""`evalflow override`: the lead's overrides of rules the program marks overridable."""

from __future__ import annotations

import click

from commands.common import ID, cfg, handled, json_option, out
from i18n import Msg, Text


def _rule(rule: str) -> Text:
    """A rule as a line names it: its id in English, its Chinese name in Chinese."""
    from policies.base import RULE_NAMES

    return Text(rule, RULE_NAMES.get(rule, rule))


@click.group()
def override() -> None:
    """The lead's overrides of rules the program marks overridable."""


@override.command("add")
@click.argument("rule")
@click.option("--reason", required=True, help="Why the rule is lifted (shown in status and history).")
@click.option("--city", help="Lift it for this city only.")
@click.option("--project", "project_id", type=ID, help="Lift it for this project only.")
@click.option("--cycle", "cycle_id")
@handled
def override_add(rule: str, reason: str, city: str | None, project_id: int | None, cycle_id: str | None) -> None:
    """Override RULE (lead), e.g. `override add min_recommendations --city CITY --reason …`."""
    o = cfg().engine().override(cfg().user, rule, reason, city, project_id, cycle_id)
    said = Msg("Override {id}: {rule} no longer holds back {scope}", id=o.id, rule=_rule(o.rule), scope=o.scope())
    click.echo(said.render())


@override.command("list")
@json_option
@click.option("--cycle", "cycle_id")
@handled
def override_list(cycle_id: str | None) -> None:
    """Every override of the cycle, revoked ones too."""
    _, items = cfg().engine().overrides(cfg().user, cycle_id)

    def text() -> None:
        for o in items:
            if o.revoked:
                state = Msg("revoked by {by} «{reason}»", by=o.revoked["by"], reason=o.revoked["reason"])
            else:
                state = Msg("active")
            line = Msg(
                "override {id}: {rule} for {scope} by {by} «{reason}» [{state}]",
                id=o.id,
                rule=_rule(o.rule),
                scope=o.scope(),
                by=o.by,
                reason=o.reason,
                state=state,
            )
            click.echo(line.render())
        click.echo(Msg("{count} overrides", count=len(items)).render())

    out(items, text)


@override.command("revoke")
@click.argument("override_id", type=ID)
@click.option("--reason", required=True)
@click.option("--cycle", "cycle_id")
@handled
def override_revoke(override_id: int, reason: str, cycle_id: str | None) -> None:
    """Withdraw an override: the rule applies again from now on."""
    o = cfg().engine().revoke_override(cfg().user, override_id, reason, cycle_id)
    said = Msg("Revoked override {id}: {rule} applies again to {scope}", id=o.id, rule=_rule(o.rule), scope=o.scope())
    click.echo(said.render())
