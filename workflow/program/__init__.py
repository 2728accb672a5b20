"""Programs are data: load a program file, validate all of it at once, build its one machine.

A program file (TOML) names its parties, windows, stages (by kind), guards, permissions,
quotas and score sheet. :func:`load_program` reports every problem it finds in one error.

The rooms: ``model`` (the :class:`Program` and the values it is made of), ``machine`` (its one
`transitions` machine), ``loader`` (reading and checking a file), ``graph`` (which states can be
reached), ``diagrams`` (Mermaid and DOT) and ``registry`` (where the files are). The names
callers use are here too.
"""

from __future__ import annotations

from workflow.program.diagrams import to_dot, to_mermaid
from workflow.program.loader import build_program, load_program, shape_problems
from workflow.program.model import (
    CYCLE_WIDE_ACTIONS,
    DEFAULT_REMINDERS,
    INITIAL_STATE,
    PLACE,
    REOPEN,
    ROLES,
    AppealRules,
    ListCategory,
    MonthDay,
    Program,
    Stage,
    StatusColumn,
    WindowSpec,
    describe_offset,
    effective_quotas,
    parse_offset,
)
from workflow.program.registry import ProgramRegistry, default_program_dirs

__all__ = [
    "CYCLE_WIDE_ACTIONS",
    "DEFAULT_REMINDERS",
    "INITIAL_STATE",
    "PLACE",
    "REOPEN",
    "ROLES",
    "AppealRules",
    "ListCategory",
    "MonthDay",
    "Program",
    "ProgramRegistry",
    "Stage",
    "StatusColumn",
    "WindowSpec",
    "build_program",
    "default_program_dirs",
    "describe_offset",
    "effective_quotas",
    "load_program",
    "parse_offset",
    "shape_problems",
    "to_dot",
    "to_mermaid",
]
