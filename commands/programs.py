"""`evalflow program`: the program files evalflow can run, shown and drawn."""

from __future__ import annotations

from typing import Any

import click

from commands.common import handled, json_option, out


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
            click.echo(f"{p.id:<24} v{p.version}  {p.name}")

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
        click.echo(f"{p.name}\n{p.id} v{p.version} ({p.digest}), {p.timezone}, lead {p.lead}")
        click.echo("Parties: " + ", ".join(f"{x.name}({x.id})" for x in p.parties))
        click.echo("Stages:")
        for i, s in enumerate(data["stages"], 1):
            click.echo(
                f"  {i}. {s['id']:<18} {s['name']:<10} window {s['window'] or 'after previous'}; "
                f"closes when {', '.join(s['close_when']) or '—'}"
            )
        click.echo("Guards:")
        for k, v in p.guards.items():
            click.echo(f"  {k:<10} {', '.join(v)}")
        click.echo("Quotas: " + (", ".join(f"{c} {q}" for c, q in p.quotas.items()) or "none"))
        click.echo("Score sheet:")
        for c in p.criteria:
            click.echo(f"  {c.id:<14} max {c.max:<3} " + " · ".join(f"{b.label} {b.min}-{b.max}" for b in c.bands))
        if data["appeals"]:
            a = data["appeals"]
            click.echo(f"Appeals: until {a['after_publication']} after publication; decided by")
            for sid, roles in a["decided_by"].items():
                within = f", closes {a['within'][sid]} after its window" if sid in a["within"] else ""
                click.echo(f"  {sid:<18} {' or '.join(roles)}{within}")
            click.echo("  a project may be reopened to: " + ", ".join(a["reopen_to"]))
        click.echo("Overridable rules: " + (", ".join(p.overridable) or "none"))
        click.echo(
            "Actions (project act ACTION IDS -p PARAMETER=VALUE; a parameter or a choice may be named in Chinese):"
        )
        for a in p.actions.values():
            given = {"form": "; its input: the application form", "sheet": "; its input: the score sheet"}
            click.echo(f"  {a.id:<20} {a.zh} · {a.en} ({a.scope}{given.get(a.uses, '')})")
            for prm in a.params:
                need = ", required" if prm.required else ""
                values = " · ".join(f"{c.value} {c.zh}" for c in prm.choices)
                click.echo(
                    f"      {prm.id:<16} {prm.zh} {prm.en}: {prm.kind}{need}" + (f": {values}" if values else "")
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
