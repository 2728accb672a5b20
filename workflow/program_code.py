"""Code a program file names instead of holding: its demo (``[demo] run``) and the example row of
its application template (``[demo] example``), each a ``module:function`` reference imported only
when it is asked for. Loading a program never imports that code, and no interface (CLI, API,
console) imports ``demo/`` by name: a new program brings its demo by naming it in its file."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from i18n import Msg
from workflow.errors import NotFound, ProgramInvalid
from workflow.program import Program


def named_code(program: Program, key: str) -> Callable[..., Any] | None:
    """The function the program's ``[demo] KEY`` names, imported now; None when it names none."""
    reference = program.demo.get(key)
    if reference is None:
        return None
    where = Msg("program file {path}", path=str(program.path)) if program.path else Msg("program {id}", id=program.id)
    module, _, name = reference.partition(":")
    try:
        found: Any = importlib.import_module(module)
        for attribute in name.split("."):
            found = getattr(found, attribute)
    except (ImportError, AttributeError) as exc:
        raise ProgramInvalid(
            where, [Msg("[demo] {key} = {ref!r} cannot be found ({why})", key=key, ref=reference, why=str(exc))]
        ) from None
    if not callable(found):
        raise ProgramInvalid(where, [Msg("[demo] {key} = {ref!r} is not a function", key=key, ref=reference)])
    return found


def demo_of(program: Program) -> Callable[..., None]:
    """The program's demo, called as run(store, year=, per_city=, seed=, echo=)."""
    run = named_code(program, "run")
    if run is None:
        raise NotFound("demo", program.id, Msg("this program has no demo yet"))
    return run


def example_application(program: Program, year: int) -> dict[str, Any] | None:
    """A complete example for the program's form (its template's 示例 row), called as
    example(program, year); None when the program names none."""
    example = named_code(program, "example")
    return None if example is None else example(program, year)
