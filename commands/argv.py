"""A command line read with the command tree, without running it: which command it names, the
global options it gives, and the files it names (to read, or to write).

Both ends of a command sent to a server read it so: the client to know which files to send and
where to write what comes back, the server to check the command is one a city's machine may run
and to put every file in a folder of its own. Nothing here reads a file or the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import click
from click.core import ParameterSource

# the parameters that name a file to write (every other file parameter is read): `--out FILE`
# of report, template and attachment
OUTPUT_PARAMS = frozenset({"out", "dest"})


@dataclass(frozen=True)
class FileArg:
    """A file the command line names: the value as typed, and whether the command writes it."""

    value: str
    output: bool


@dataclass
class Read:
    """A command line as the tree reads it: the contexts from the root down, the command's path
    (``["user", "passwd"]``) and each context's values."""

    contexts: list[click.Context] = field(default_factory=list)
    path: list[str] = field(default_factory=list)

    @property
    def root(self) -> click.Context:
        return self.contexts[0]

    def given(self, name: str) -> bool:
        """Whether the root's option ``name`` is on the command line itself (not from the environment)."""
        return self.root.get_parameter_source(name) == ParameterSource.COMMANDLINE

    def values(self, moved: dict[str, str] | None = None) -> list[tuple[str, Any]]:
        """Every parameter's value below the root, in order (to compare two readings); a file's
        as text, moved to where ``moved`` puts it (no other value is)."""
        found: list[tuple[str, Any]] = []
        for i, ctx in enumerate(self.contexts[1:]):
            for param in ctx.command.params:
                if param.name is None or param.name not in ctx.params:
                    continue
                value = ctx.params[param.name]
                if _is_file(param) and value is not None:
                    where = moved or {}
                    many = isinstance(value, tuple | list)
                    texts = tuple(where.get(str(v), str(v)) for v in (value if many else (value,)))
                    value = texts if many else texts[0]
                found.append((f"{i}.{param.name}", value))
        return found

    def files(self) -> list[FileArg]:
        """The files the command line names (given on it: a default is the command's own)."""
        found: list[FileArg] = []
        for ctx in self.contexts[1:]:
            for param in ctx.command.params:
                if not _is_file(param) or param.name is None:
                    continue
                if ctx.get_parameter_source(param.name) != ParameterSource.COMMANDLINE:
                    continue
                value = ctx.params.get(param.name)
                values = value if isinstance(value, tuple | list) else (value,)
                output = param.name in OUTPUT_PARAMS or (isinstance(param.type, click.File) and "w" in param.type.mode)
                found += [FileArg(str(v), output) for v in values if v is not None and str(v) != "-"]
        return found


def _is_file(param: click.Parameter) -> bool:
    return isinstance(param.type, click.Path | click.File)


def read(root: click.Group, argv: list[str]) -> Read:
    """Read ``argv`` (without the program's name) down the tree from ``root``; a command the tree
    does not know ends the path (the run itself says so). Click's own usage errors are raised."""
    ctx = root.make_context("evalflow", list(argv), resilient_parsing=True)
    found = Read([ctx])
    command: click.Command = root
    while isinstance(command, click.Group):
        args = [*getattr(ctx, "_protected_args", []), *ctx.args]
        if not args:
            break
        name, sub, rest = command.resolve_command(ctx, args)
        if sub is None or name is None:
            break
        ctx = sub.make_context(name, rest, parent=ctx, resilient_parsing=True)
        found.contexts.append(ctx)
        found.path.append(name)
        command = sub
    return found


def wants_help(argv: list[str]) -> bool:
    """Whether the command line asks for help (shown on the machine itself: it needs no data)."""
    return any(a in ("-h", "--help") for a in argv)
