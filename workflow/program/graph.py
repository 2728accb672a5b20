"""The program's states as a graph: which states a project can reach from the initial one.

Loading reports a state no project can ever reach, so that a typo in a stage kind's table is
found when the program is read, not when a project is stuck. Reopening (an upheld appeal) is
left out: it only leads back to states a project has already been able to reach.
"""

from __future__ import annotations

from workflow.program.model import INITIAL_STATE, REOPEN, Program


def reachable_states(program: Program) -> set[str]:
    """The states a project can reach from the initial state by the stages' own transitions."""
    edges = [
        (src, spec.dest)
        for spec in program.transition_specs
        if spec.trigger != REOPEN and spec.dest
        for src in spec.source
    ]
    reach = {INITIAL_STATE}
    changed = True
    while changed:
        changed = False
        for src, dest in edges:
            if src in reach and dest not in reach:
                reach.add(dest)
                changed = True
    return reach


def unreachable_states(program: Program) -> list[str]:
    """The states of the program's stages that no project can reach, sorted."""
    return sorted(set(program.states) - reachable_states(program))
