"""The API's OpenAPI document with each program's actions typed: what an action's ``params`` take.

The generic route ``POST /api/projects/{project_id}/actions/{trigger}`` takes any action of any
program, so its request model can only say "an object". The document says more, from the
declarations of the programs the server loaded: each action that declares parameters is a named
component schema (``Action_<program>_<action>``, made by the one builder, :meth:`Action.schema`,
that ``GET /api/programs/{id}/actions`` serves too, with Chinese and English descriptions added
for readers); the body's ``params`` is any one of them; ``{trigger}`` lists the declared triggers;
and the operation maps each trigger to its schema per program (its description, and
``x-actions`` for a client).

``params`` is an ``anyOf``, not a ``oneOf``: an action whose parameters are all optional (and an
action with none) accepts ``{}``, which more than one schema matches, and ``oneOf`` would call
that invalid. The trigger is in the path and the program is the project's, so no discriminator
in the body can choose the schema; the map per trigger does. The server checks every request
against its action's declaration (400, each problem named); the document says what it checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI

from workflow.actions import ENGINE_ACTIONS, Action, Param
from workflow.errors import EvalflowError
from workflow.program import Program, ProgramRegistry

# the component that a request of an action without parameters takes
NO_PARAMETERS = "Action_no_parameters"


def component_name(program_id: str, action_id: str) -> str:
    """The component of a program's action: letters, digits and ``_`` only, as client generators
    turn it into a class name (OpenAPI itself would also take ``-`` and ``.``)."""
    return "Action_" + re.sub(r"[^A-Za-z0-9_]", "_", f"{program_id}_{action_id}")


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def fired_actions(program: Program) -> list[Action]:
    """The program's actions the generic route fires: its project triggers, without the engine's
    own (an appeal has its route) and those whose input is a form or a sheet (their routes)."""
    return [a for a in program.actions.values() if a.scope == "project" and a.id not in ENGINE_ACTIONS and not a.uses]


def _param_text(p: Param) -> str:
    text = f"{p.zh} · {p.en}"
    if p.help_zh or p.help_en:
        text += f" ({' · '.join(h for h in (p.help_zh, p.help_en) if h)})"
    if p.choices:
        text += ". " + "; ".join(f"`{c.value}`: {c.zh} · {c.en}" for c in p.choices)
        text += " (a choice's label is taken for its value too)"
    return text


def action_component(program: Program, action: Action) -> dict[str, Any]:
    """The action's parameters as a component schema: the action's own JSON Schema, with titles
    and descriptions in Chinese and English for the readers of the document."""
    schema = action.schema()
    for p in action.params:
        schema["properties"][p.id]["description"] = _param_text(p)
    schema["title"] = f"{action.zh} · {action.en} ({program.id}: {action.id})"
    description = f"{program.name} · {program.name_en}: `{action.id}`, {action.zh} · {action.en}."
    if action.reason == "required":
        description += f" 须填写理由 · A reason is required (the request's `reason`: {action.zh}理由)."
    schema["description"] = description
    return schema


def loaded_programs(registry: ProgramRegistry) -> tuple[list[Program], list[str]]:
    """Every program the registry finds, and a line for each that does not load (the server
    answers for it as it always does; the document leaves it out rather than fail)."""
    programs: list[Program] = []
    broken: list[str] = []
    for program_id in registry.ids():
        try:
            programs.append(registry.get(program_id))
        except EvalflowError as exc:
            broken.append(f"{program_id}: {exc}")
    return programs, broken


def document_actions(doc: dict[str, Any], path: str, programs: Iterable[Program], broken: Iterable[str] = ()) -> None:
    """Type the generic action route of ``doc`` (at ``path``) by the programs' declarations."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas[NO_PARAMETERS] = {
        "type": "object",
        "title": "无参数 · No parameters",
        "description": "The action declares no parameters: `params` is empty or left out.",
        "properties": {},
        "additionalProperties": False,
    }
    # trigger -> program -> (the component of its parameters, or None: it takes none; the action)
    by_trigger: dict[str, dict[str, tuple[str | None, Action]]] = {}
    for program in programs:
        for action in fired_actions(program):
            name = None
            if action.params:
                name = component_name(program.id, action.id)
                schemas[name] = action_component(program, action)
            by_trigger.setdefault(action.id, {})[program.id] = (name, action)
    operation = doc["paths"][path]["post"]
    for parameter in operation["parameters"]:
        if parameter["name"] == "trigger":
            parameter["schema"]["enum"] = sorted(by_trigger)
            parameter["description"] = "An action of the project's program (`GET /api/programs/{id}/actions`)"
    operation["description"] = _route_text(by_trigger, broken)
    operation["x-actions"] = {
        trigger: {
            pid: {"params": _ref(name or NO_PARAMETERS), "reason": action.reason}
            for pid, (name, action) in sorted(per.items())
        }
        for trigger, per in sorted(by_trigger.items())
    }
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    model = schemas[body["$ref"].rsplit("/", 1)[-1]]
    names = sorted({name for per in by_trigger.values() for name, _ in per.values() if name})
    model["properties"]["params"] = {
        "title": "Params",
        "description": "The action's parameters, by their ids: the schema of the action's program for "
        "the trigger (the operation's `x-actions`). The server refuses anything else (400, each problem named).",
        "default": {},
        "anyOf": [_ref(n) for n in (*names, NO_PARAMETERS)],
    }


def _route_text(by_trigger: dict[str, dict[str, tuple[str | None, Action]]], broken: Iterable[str]) -> str:
    lines = [
        "The action `{trigger}` of the project's program, with its parameters in `params` (the schema "
        "per trigger and program below, also in `x-actions`), a `reason` (where marked, required) and "
        "the `expected_version` the caller saw. A request the action's declaration refuses is answered "
        "400, each problem named, and changes nothing.",
        "",
    ]
    for trigger, per in sorted(by_trigger.items()):
        taken = ", ".join(
            f"{pid} → `{name or NO_PARAMETERS}`" + (" (须填写理由 · reason required)" if a.reason == "required" else "")
            for pid, (name, a) in sorted(per.items())
        )
        lines.append(f"- `{trigger}` {_labels(per)}: {taken}")
    for line in broken:
        lines.append(f"- (not documented: {line})")
    return "\n".join(lines)


def _labels(per: dict[str, tuple[str | None, Action]]) -> str:
    # the labels of an action as its programs give them, each once
    labels = dict.fromkeys(f"{a.zh} · {a.en}" for _, a in per.values())
    return "(" + "; ".join(labels) + ")"


def install(app: FastAPI, registry: Callable[[], ProgramRegistry], path: str) -> None:
    """Make ``app``'s document (FastAPI's own, cached on the app as FastAPI caches it) with the
    generic action route at ``path`` typed by the programs ``registry()`` gives."""
    framework = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = framework()
            app.openapi_schema = None  # (FastAPI caches its own: a failure below must not leave it served)
            programs, broken = loaded_programs(registry())
            document_actions(doc, path, programs, broken)
            app.openapi_schema = doc
        return app.openapi_schema

    # FastAPI's documented hook for a custom document is assigning app.openapi
    app.openapi = openapi  # type: ignore[method-assign]
