"""The diagrams of a program's project state machine: Mermaid text and Graphviz DOT, guards
named on the arrows (``evalflow program diagram``). They read the program; they add nothing to it."""

from __future__ import annotations

from workflow.program.model import INITIAL_STATE, REOPEN, Program


def to_mermaid(program: Program) -> str:
    """The project state machine as Mermaid text, guards named on the arrows."""
    lines = ["stateDiagram-v2", f"    [*] --> {INITIAL_STATE}"]
    for spec in program.transition_specs:
        if spec.trigger == REOPEN:
            continue  # from every state: drawn once as notes below
        guards = list(program.guards.get(spec.trigger, ()))
        label = spec.trigger
        if spec.when:
            label += " " + ",".join(f"{k}={v}" for k, v in spec.when.items())
        if guards:
            label += " [" + ", ".join(guards) + "]"
        for src in spec.source:
            dest = spec.dest or src
            lines.append(f"    {src} --> {dest}: {label}")
    for s in program.stages:
        lines.append(
            f"    note right of {INITIAL_STATE}: stage {s.id} ({s.name}) closes when "
            + (", ".join(s.close_when) or "—")
        )
    for s in program.reopenable:
        lines.append(f"    note left of {program.reopen_state(s)}: an upheld appeal may reopen a project here ({s.id})")
    return "\n".join(lines) + "\n"


def to_dot(program: Program) -> str:
    """The project state machine as Graphviz DOT, guards named on the arrows; the states are
    grouped by the stage that adds them."""
    q = _dot_quote
    lines = [
        f"digraph {q(program.id)} {{",
        "  rankdir=LR;",
        '  node [shape=box, style=rounded, fontname="sans-serif"];',
    ]
    lines.append(f"  {q('start')} [shape=point];")
    lines.append(f"  {q('start')} -> {q(INITIAL_STATE)};")
    for i, s in enumerate(program.stages):
        if not program.states_of(s.id):
            continue
        lines.append(f"  subgraph {q('cluster_' + s.id)} {{")
        lines.append(f"    label={q(f'{i + 1}. {s.name} ({s.id})')};")
        for st in program.states_of(s.id):
            if program.stage_of_state.get(st) == s.id:
                lines.append(f"    {q(st)};")
        lines.append("  }")
    for spec in program.transition_specs:
        if spec.trigger == REOPEN:
            continue
        label = spec.trigger
        if spec.when:
            label += " " + ",".join(f"{k}={v}" for k, v in spec.when.items())
        guards = list(program.guards.get(spec.trigger, ()))
        if guards:
            label += "\n[" + ", ".join(guards) + "]"
        for src in spec.source:
            lines.append(f"  {q(src)} -> {q(spec.dest or src)} [label={q(label)}];")
    for s in program.reopenable:
        state = program.reopen_state(s)
        assert state is not None  # (a reopenable stage's kind has a waiting state)
        lines.append(f"  {q('appeal')} -> {q(state)} [style=dashed, label={q('reopen to ' + s.id)}];")
    if program.reopenable:
        lines.append(f"  {q('appeal')} [shape=note, label={q('an upheld appeal (from any state)')}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    """A DOT string: backslashes and quotes escaped, a newline as DOT's line break."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
