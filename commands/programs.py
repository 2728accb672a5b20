"""`evalflow program`: the program files evalflow can run, shown and drawn."""

from __future__ import annotations

from typing import Any

import click

from commands.common import handled, json_option, out
from i18n import Joined, Msg, Text


def _rules(ids: Any) -> Joined:
    """Rule ids as a line lists them: the ids in English (scripts read them), their names in
    Chinese."""
    from policies.base import RULE_NAMES

    return Joined([Text(r, RULE_NAMES.get(r, r)) for r in ids], ", ")


def _echo(line: Msg) -> None:
    """One line, in the reader's language."""
    click.echo(line.render())


@click.group()
def program() -> None:
    """Program files (programs/*.toml)."""


@program.command("list")
@json_option
@handled
def program_list() -> None:
    """List the programs evalflow can run."""
    from workflow.program import ProgramRegistry

    reg = ProgramRegistry()
    items = [reg.get(pid) for pid in reg.ids()]

    def text() -> None:
        for p in items:
            _echo(Msg("{id} v{version}  {name}", id=f"{p.id:<24}", version=p.version, name=p.name))

    out([{"id": p.id, "name": p.name, "version": p.version, "stages": [s.id for s in p.stages]} for p in items], text)


@program.command("show")
@json_option
@click.argument("program_id")
@handled
def program_show(program_id: str) -> None:
    """Show a program: parties, stages and windows, guards, quotas and score sheet."""
    from workflow.program import ProgramRegistry, describe_offset

    p = ProgramRegistry().get(program_id)
    data: dict[str, Any] = {
        "id": p.id,
        "name": p.name,
        "version": p.version,
        "digest": p.digest,
        "timezone": p.timezone,
        "parties": [{"id": x.id, "name": x.name, "role": x.role} for x in p.parties],
        "stages": [
            {
                "id": s.id,
                "name": s.name,
                "kind": s.kind.id,
                "window": (
                    f"{s.window.start.month:02d}-{s.window.start.day:02d}..{s.window.end.month:02d}-{s.window.end.day:02d}"
                    if s.window
                    else None
                ),
                "close_when": list(s.close_when),
            }
            for s in p.stages
        ],
        "guards": {k: list(v) for k, v in p.guards.items()},
        "quotas": p.quotas,
        "funding": p.funding,
        "criteria": [
            {"id": c.id, "name": c.name, "max": c.max, "bands": [f"{b.label} {b.min}-{b.max}" for b in c.bands]}
            for c in p.criteria
        ],
        "appeals": None
        if p.appeals is None
        else {
            "after_publication": describe_offset(p.appeals.after_publication),
            "decided_by": {sid: list(perm.roles) for sid, perm in p.appeals.decided_by.items()},
            "within": {sid: describe_offset(d) for sid, d in p.appeals.within.items()},
            "reopen_to": [s.id for s in p.reopenable],
        },
        "overridable": list(p.overridable),
        "states": [
            {"id": st, "zh": p.state_name(st), "en": p.state_name(st, "en")}
            for st in dict.fromkeys(st for s in p.stages for st in s.kind.states)
        ],
        "actions": [a.as_dict() for a in p.actions.values()],
    }

    def text() -> None:
        click.echo(p.name)
        lead = Text(p.lead, next((x.name for x in p.parties if x.id == p.lead), p.lead))
        _echo(
            Msg(
                "{id} v{version} ({digest}), {timezone}, lead {lead}",
                id=p.id,
                version=p.version,
                digest=p.digest,
                timezone=p.timezone,
                lead=lead,
            )
        )
        parties = Joined([Text(f"{x.name}({x.id})", f"{x.name}（{x.id}）") for x in p.parties], ", ")
        _echo(Msg("Parties: {parties}", parties=parties))
        _echo(Msg("Stages:"))
        for i, s in enumerate(data["stages"], 1):
            _echo(
                Msg(
                    "  {n}. {id} {name} window {window}; closes when {rules}",
                    n=i,
                    id=f"{s['id']:<18}",
                    name=f"{s['name']:<10}",
                    window=s["window"] or Msg("after previous"),
                    rules=_rules(s["close_when"]) if s["close_when"] else "—",
                )
            )
        _echo(Msg("Guards:"))
        for k, v in p.guards.items():
            _echo(Msg("  {trigger} {rules}", trigger=f"{k:<10}", rules=_rules(v)))
        quotas = Joined([f"{c} {q}" for c, q in p.quotas.items()], ", ") if p.quotas else Msg("none")
        _echo(Msg("Quotas: {quotas}", quotas=quotas))
        _echo(Msg("Score sheet:"))
        for c in p.criteria:
            bands = " · ".join(f"{b.label} {b.min}-{b.max}" for b in c.bands)
            _echo(Msg("  {id} max {max} {bands}", id=f"{c.id:<14}", max=f"{c.max:<3}", bands=bands))
        if data["appeals"]:
            a = data["appeals"]
            _echo(Msg("Appeals: until {offset} after publication; decided by", offset=a["after_publication"]))
            for sid, roles in a["decided_by"].items():
                within = (
                    Msg(", closes {offset} after its window", offset=a["within"][sid]) if sid in a["within"] else ""
                )
                _echo(
                    Msg(
                        "  {stage} {roles}{within}",
                        stage=f"{sid:<18}",
                        roles=Text(" or ".join(roles), "或".join(roles)),
                        within=within,
                    )
                )
            _echo(Msg("  a project may be reopened to: {stages}", stages=Joined(a["reopen_to"], ", ")))
        _echo(Msg("Overridable rules: {rules}", rules=_rules(p.overridable) if p.overridable else Msg("none")))
        _echo(
            Msg("Actions (project act ACTION IDS -p PARAMETER=VALUE; a parameter or a choice may be named in Chinese):")
        )
        given = {"form": Msg("; its input: the application form"), "sheet": Msg("; its input: the score sheet")}
        for a in p.actions.values():
            _echo(
                Msg(
                    "  {id} {zh} · {en} ({scope}{given})",
                    id=f"{a.id:<20}",
                    zh=a.zh,
                    en=a.en,
                    scope=a.scope,
                    given=given.get(a.uses, ""),
                )
            )
            for prm in a.params:
                values = " · ".join(f"{c.value} {c.zh}" for c in prm.choices)
                _echo(
                    Msg(
                        "      {id} {zh} {en}: {kind}{need}{values}",
                        id=f"{prm.id:<16}",
                        zh=prm.zh,
                        en=prm.en,
                        kind=prm.kind,
                        need=Msg(", required") if prm.required else "",
                        values=f": {values}" if values else "",
                    )
                )

    out(data, text)


@program.command("diagram")
@click.argument("program_id")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot"]),
    default="mermaid",
    show_default=True,
    help="Mermaid text, or Graphviz DOT (render with `dot -Tsvg`).",
)
@handled
def program_diagram(program_id: str, fmt: str) -> None:
    """Print the program's project states and guarded transitions (guards named on the arrows)."""
    from workflow.program import ProgramRegistry, to_dot, to_mermaid

    p = ProgramRegistry().get(program_id)
    click.echo(to_dot(p) if fmt == "dot" else to_mermaid(p), nl=False)
