"""Actions as program data: every action a user can take, with its labels and its parameters.

A program file declares each action under ``[actions.ID]``: its Chinese and English labels and
its parameters, each with a kind (choice, text, long text, date, integer, number, yes/no), its
labels, whether it is required, and for a choice its values with their labels. The command
line's options, the API's request checks and the console's forms are all made from these
declarations, and the engine checks every request against them before any rule is judged.

A choice whose name is a selector of the stage kind's transitions (a review's ``result``, a
grade) chooses where the project goes: loading checks that every value selects a transition and
that every transition is reached by a value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from i18n import Joined, Msg

PARAM_KINDS = ("choice", "text", "long_text", "date", "integer", "number", "yes_no")

# the longest text a parameter takes, by kind
TEXT_LIMITS = {"text": 2000, "long_text": 20000}

# the action's own arguments (the reason, the version check) and the names the interfaces pass it
# with (the command line's, the API's, a form's): never a parameter's name
RESERVED = frozenset(
    {"self", "acting", "project_ids", "trigger", "reason", "expected_version", "verb", "engine", "user", "ids", "csrf"}
)

# numbers as typed: ASCII digits only (no other scripts' digits, no underscores), within a float's
# exact range for a whole number
_WHOLE = re.compile(r"[+-]?[0-9]{1,15}")
_NUMBER = re.compile(r"[+-]?(?:[0-9]{1,15}(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")

# what a parameter of kind yes/no accepts as typed, and what it means
_YES = frozenset({"true", "yes", "y", "1", "是"})
_NO = frozenset({"false", "no", "n", "0", "否"})

# actions of every program, which the engine itself provides; a program file may relabel them
ENGINE_ACTIONS: dict[str, tuple[str, str, str]] = {
    # id: (scope, zh, en)
    "advance": ("cycle", "推进到下一阶段", "Advance the cycle to its next stage"),
    "appeal": ("project", "提出申诉", "Appeal a result"),
    "override": ("cycle", "豁免规则", "Override a rule"),
}


@dataclass(frozen=True)
class Choice:
    """One value a choice parameter takes, with the labels a reader sees."""

    value: str
    zh: str
    en: str

    def label(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class Param:
    """One parameter of an action, as the program file declares it."""

    id: str
    kind: str
    zh: str
    en: str
    required: bool = False
    choices: tuple[Choice, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    help_zh: str = ""
    help_en: str = ""
    # where on the application the value is written, as a path of keys (a city's opinion given
    # on acceptance, say); empty: the value goes to the history only
    application: tuple[str, ...] = ()

    def label(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh

    def choice(self, value: Any) -> Choice | None:
        """The choice named by its value or by one of its labels."""
        for c in self.choices:
            if value in (c.value, c.zh, c.en):
                return c
        return None

    def shown(self, value: Any, lang: str = "zh") -> str:
        """A stored value as a reader sees it: a choice's label, yes/no in words."""
        if self.kind == "choice":
            c = self.choice(value)
            return c.label(lang) if c is not None else str(value)
        if self.kind == "yes_no" and isinstance(value, bool):
            return ("yes" if value else "no") if lang == "en" else ("是" if value else "否")
        return str(value)

    def coerce(self, raw: Any) -> Any:
        """The value of ``raw`` as this parameter keeps it; ValueError says why it is not one."""
        kind = self.kind
        if kind == "choice":
            c = self.choice(raw)
            if c is None:
                choices = Joined([Msg("{value} ({label})", value=c.value, label=c.zh) for c in self.choices], ", ")
                raise ValueError(Msg("expected one of {choices}", choices=choices))
            return c.value
        if kind in TEXT_LIMITS:
            if isinstance(raw, bool) or not isinstance(raw, str | int | float):
                raise ValueError(Msg("expected text"))
            text = str(raw).strip()
            if "\x00" in text:
                raise ValueError(Msg("text may not hold a NUL character"))
            if len(text) > TEXT_LIMITS[kind]:
                raise ValueError(
                    Msg("at most {limit} characters, not {count}", limit=TEXT_LIMITS[kind], count=len(text))
                )
            return text
        if kind == "date":
            if isinstance(raw, date):
                return raw.isoformat()
            try:
                return date.fromisoformat(str(raw).strip()).isoformat()
            except ValueError:
                raise ValueError(Msg("expected a date as YYYY-MM-DD")) from None
        if kind == "yes_no":
            if isinstance(raw, bool):
                return raw
            word = str(raw).strip().lower()
            if word in _YES:
                return True
            if word in _NO:
                return False
            raise ValueError(Msg("expected yes or no (true/false)"))
        if kind == "integer":
            if isinstance(raw, bool):
                raise ValueError(Msg("expected a whole number"))
            if isinstance(raw, int):
                number: float = raw
            else:
                text = str(raw).strip()
                if not _WHOLE.fullmatch(text):
                    raise ValueError(Msg("expected a whole number"))
                number = int(text)
        else:  # number
            if isinstance(raw, bool):
                raise ValueError(Msg("expected a number"))
            text = str(raw).strip()
            if not isinstance(raw, int | float) and not _NUMBER.fullmatch(text):
                raise ValueError(Msg("expected a number"))
            # a whole number typed as one stays one (20, not 20.0)
            number = raw if isinstance(raw, int | float) else int(text) if _WHOLE.fullmatch(text) else float(text)
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError(Msg("expected a number"))
        if self.minimum is not None and number < self.minimum:
            raise ValueError(Msg("at least {limit}, not {value}", limit=_plain(self.minimum), value=_plain(number)))
        if self.maximum is not None and number > self.maximum:
            raise ValueError(Msg("at most {limit}, not {value}", limit=_plain(self.maximum), value=_plain(number)))
        return number

    def schema(self) -> dict[str, Any]:
        """The parameter as JSON Schema (the API's request schemas and ``program show --json``)."""
        out: dict[str, Any] = {"title": self.en, "x-title-zh": self.zh}
        if self.kind == "choice":
            out.update(type="string", enum=[c.value for c in self.choices])
            out["x-labels"] = {c.value: {"zh": c.zh, "en": c.en} for c in self.choices}
        elif self.kind in TEXT_LIMITS:
            out.update(type="string", maxLength=TEXT_LIMITS[self.kind])
        elif self.kind == "date":
            out.update(type="string", format="date")
        elif self.kind == "yes_no":
            out.update(type="boolean")
        else:
            out.update(type="integer" if self.kind == "integer" else "number")
            if self.minimum is not None:
                out["minimum"] = self.minimum
            if self.maximum is not None:
                out["maximum"] = self.maximum
        return out

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "zh": self.zh,
            "en": self.en,
            "required": self.required,
        }
        if self.choices:
            out["choices"] = [{"value": c.value, "zh": c.zh, "en": c.en} for c in self.choices]
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        if self.help_zh or self.help_en:
            out["help"] = {"zh": self.help_zh, "en": self.help_en}
        if self.application:
            out["application"] = ".".join(self.application)
        return out


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


@dataclass(frozen=True)
class Action:
    """An action a user can take: on a project (a trigger of its machine) or on the cycle (the
    list, advancing). ``uses`` names where an action takes its input instead of parameters, as
    its stage kind says: ``form`` (the application form), ``sheet`` (the score sheet)."""

    id: str
    zh: str
    en: str
    scope: str = "project"
    params: tuple[Param, ...] = ()
    uses: str = ""
    # parameters whose choice selects where the project goes (the stage kind's selectors)
    selectors: tuple[str, ...] = ()
    # the action's free-text reason: "optional", "required" (the console and the API ask for it),
    # or "none" (its form has no field for one)
    reason: str = "optional"
    # the words on the form's button, where they differ from the action's label
    button_zh: str = ""
    button_en: str = ""
    # taken on many ticked projects at once from the project list (an action that asks nothing)
    bulk: bool = False

    def label(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh

    def param(self, name: str) -> Param | None:
        """The parameter named by its id or by one of its labels."""
        for p in self.params:
            if name in (p.id, p.zh, p.en):
                return p
        return None

    def check(self, request: Mapping[str, Any]) -> tuple[dict[str, Any], list[Msg]]:
        """``request`` as the action keeps it (ids for labels, typed values), and every problem.

        A parameter may be named by its id or its label, and a choice by its value or its label.
        """
        clean: dict[str, Any] = {}
        problems: list[Msg] = []
        named: set[str] = set()  # the names a problem was said of
        for name, raw in request.items():
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue  # an empty field is a parameter not given
            p = self.param(name)
            if p is None:
                named.add(name)
                problems.append(
                    Msg("{name}: not a parameter of {action}{known}", name=name, action=self.id, known=self._known())
                )
                continue
            if p.id in clean:
                named.add(p.id)
                problems.append(Msg("{name}: given twice", name=p.id))
                continue
            try:
                clean[p.id] = p.coerce(raw)
            except ValueError as exc:
                named.add(name)
                why = exc.args[0] if exc.args else str(exc)
                problems.append(Msg("{name}: {value}: {why}", name=name, value=repr(raw), why=why))
        for p in self.params:
            if p.required and p.id not in clean and p.id not in named:
                problems.append(Msg("{name}: required ({label})", name=p.id, label=p.zh))
        return clean, problems

    def check_reason(self, reason: str) -> list[Msg]:
        """What is wrong with ``reason`` for this action: a reason its declaration requires
        (``reason = "required"``) and none given. The console and the API ask; ``"none"`` only
        leaves the field off a form."""
        if self.reason == "required" and not reason.strip():
            return [Msg("reason: required ({action}理由)", action=self.zh)]
        return []

    def _known(self) -> Msg:
        if not self.params:
            return Msg(" (it takes none)")
        named = Joined([Msg("{id} {label}", id=p.id, label=p.zh) for p in self.params], ", ")
        return Msg(" (its parameters: {params})", params=named)

    def shown(self, data: Mapping[str, Any], lang: str = "zh") -> list[tuple[str, str]]:
        """The declared parameters among ``data`` as (label, value) pairs a reader sees, in the
        order of the declaration."""
        return [(p.label(lang), p.shown(data[p.id], lang)) for p in self.params if p.id in data]

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "zh": self.zh,
            "en": self.en,
            "scope": self.scope,
            "params": [p.as_dict() for p in self.params],
            "reason": self.reason,
        }
        if self.uses:
            out["uses"] = self.uses
        if self.button_zh or self.button_en:
            out["button"] = {"zh": self.button_zh or self.zh, "en": self.button_en or self.en}
        if self.selectors:
            out["selectors"] = list(self.selectors)
        if self.bulk:
            out["bulk"] = True
        return out

    def schema(self) -> dict[str, Any]:
        """The action's parameters as one JSON Schema object."""
        return {
            "type": "object",
            "title": self.en,
            "x-title-zh": self.zh,
            "properties": {p.id: p.schema() for p in self.params},
            "required": [p.id for p in self.params if p.required],
            "additionalProperties": False,
        }


@dataclass(frozen=True)
class Edge:
    """What loading needs to know of one transition to check a declaration against it."""

    trigger: str
    when: Mapping[str, Any] = field(default_factory=dict)


_ACTION_KEYS = frozenset({"zh", "en", "params", "reason", "button", "button_en", "bulk"})
_PARAM_KEYS = frozenset(
    {"id", "kind", "zh", "en", "required", "choices", "min", "max", "help_zh", "help_en", "application"}
)
_REASONS = ("optional", "required", "none")


def read_actions(
    raw: Any,
    project_actions: Mapping[str, Sequence[Edge]],
    cycle_actions: Iterable[str],
    required_params: Mapping[str, tuple[str, str]] | None = None,
    uses: Mapping[str, str] | None = None,
) -> tuple[dict[str, Action], list[Msg]]:
    """The ``[actions]`` table of a program file, checked against the program's machine.

    ``project_actions``: each project trigger a user can take, with its edges (their ``when``
    selectors). ``cycle_actions``: the cycle's actions of the program's stages. ``required_params``:
    a parameter an action must declare, with its kind (a deadline, say). ``uses``: the actions that
    take their input from elsewhere (``form``, ``sheet``, ``list``). Every problem is returned at once.
    """
    problems: list[Msg] = []
    table = raw if isinstance(raw, Mapping) else {}
    if raw is not None and not isinstance(raw, Mapping):
        problems.append(Msg("[actions]: expected a table of actions"))
    required_params = required_params or {}
    uses = uses or {}
    cycle_set = set(cycle_actions)
    known = {**{a: "project" for a in project_actions}, **{a: "cycle" for a in cycle_set}}
    for engine_action, (scope, _, _) in ENGINE_ACTIONS.items():
        known.setdefault(engine_action, scope)
    out: dict[str, Action] = {}
    for action_id, spec in table.items():
        where = f"actions.{action_id}"
        if action_id not in known:
            problems.append(
                Msg(
                    "{where}: the program has no action {action!r} (its actions: {known})",
                    where=where,
                    action=action_id,
                    known=Joined(known, ", "),
                )
            )
            continue
        if not isinstance(spec, Mapping):
            problems.append(Msg("{where}: expected a table", where=where))
            continue
        action = _action(action_id, known[action_id], spec, where, problems)
        if action is not None:
            out[action_id] = action
    for action_id, scope in known.items():
        if action_id in out or action_id in table:
            continue  # declared (a broken declaration has said what is wrong with it)
        if action_id in ENGINE_ACTIONS:
            _, zh, en = ENGINE_ACTIONS[action_id]
            out[action_id] = Action(action_id, zh, en, scope)
        else:
            problems.append(
                Msg(
                    "actions: {action!r} is not declared (every action a user can take needs its labels)",
                    action=action_id,
                )
            )
    for action_id, edges in project_actions.items():
        action = out.get(action_id)
        if action is None:
            continue
        selectors = _selectors(action, edges, problems)
        if selectors:
            out[action_id] = Action(**{**action.__dict__, "selectors": selectors})
    for action_id, (name, kind) in required_params.items():
        action = out.get(action_id)
        if action is None:
            continue
        p = action.param(name)
        if p is None or p.id != name or p.kind != kind or not p.required:
            problems.append(
                Msg(
                    "actions.{action}: needs a required {kind} parameter {name!r}",
                    action=action_id,
                    kind=kind,
                    name=name,
                )
            )
    for action_id, source in uses.items():
        action = out.get(action_id)
        if action is None:
            continue
        if action.params:
            problems.append(
                Msg(
                    "actions.{action}: takes its input from the program's {source}; it declares no parameters",
                    action=action_id,
                    source=source,
                )
            )
        out[action_id] = Action(**{**action.__dict__, "uses": source})
    return out, problems


def _action(action_id: str, scope: str, spec: Mapping[str, Any], where: str, problems: list[Msg]) -> Action | None:
    before = len(problems)
    for key in spec:
        if key not in _ACTION_KEYS:
            problems.append(
                Msg(
                    "{where}: unknown key {key!r} (keys: {keys})",
                    where=where,
                    key=key,
                    keys=Joined(sorted(_ACTION_KEYS), ", "),
                )
            )
    zh, en = _labels(spec, where, problems)
    reason = spec.get("reason", "optional")
    if reason not in _REASONS:
        problems.append(
            Msg(
                "{where}.reason: {reason!r} is not one of {known}",
                where=where,
                reason=reason,
                known=Joined(_REASONS, ", "),
            )
        )
    raw_params = spec.get("params", [])
    params: list[Param] = []
    if not isinstance(raw_params, list):
        problems.append(Msg("{where}.params: expected a list of parameters", where=where))
        raw_params = []
    seen_names: set[str] = set()
    for n, raw in enumerate(raw_params, start=1):
        p = _param(raw, f"{where}.params[{n}]", problems)
        if p is None:
            continue
        for name in {p.id, p.zh, p.en}:
            if name in seen_names:
                problems.append(
                    Msg(
                        "{where}.params[{n}]: the name {name!r} is taken by another parameter",
                        where=where,
                        n=n,
                        name=name,
                    )
                )
            seen_names.add(name)
        params.append(p)
    if len(problems) > before:
        return None
    button = [spec.get(key, "") for key in ("button", "button_en")]
    if not all(isinstance(b, str) for b in button):
        problems.append(Msg("{where}: a button's words are text", where=where))
        return None
    bulk = spec.get("bulk", False)
    if not isinstance(bulk, bool):
        problems.append(Msg("{where}.bulk: expected true or false", where=where))
        return None
    if bulk and (params or reason != "none" or scope != "project"):
        problems.append(
            Msg(
                '{where}: only a project action that asks nothing (no parameters, reason = "none") is taken in bulk',
                where=where,
            )
        )
        return None
    return Action(
        action_id, zh, en, scope, tuple(params), reason=reason, button_zh=button[0], button_en=button[1], bulk=bulk
    )


def _labels(spec: Mapping[str, Any], where: str, problems: list[Msg]) -> tuple[str, str]:
    labels = []
    for lang in ("zh", "en"):
        value = spec.get(lang)
        if not isinstance(value, str) or not value.strip():
            if lang == "zh":
                problems.append(Msg('{where}: needs its Chinese label (zh = "…")', where=where))
            else:
                problems.append(Msg('{where}: needs its English label (en = "…")', where=where))
            value = ""
        labels.append(value.strip())
    return labels[0], labels[1]


def _param(raw: Any, where: str, problems: list[Msg]) -> Param | None:
    if not isinstance(raw, Mapping):
        problems.append(Msg("{where}: expected a table", where=where))
        return None
    before = len(problems)
    pid = raw.get("id")
    if not isinstance(pid, str) or not pid.isidentifier():
        problems.append(Msg("{where}: needs an id (a name of letters, digits and _)", where=where))
        pid = "?"
    elif pid in RESERVED:
        problems.append(
            Msg("{where}: {id!r} is the action's own argument, not a parameter's name", where=where, id=pid)
        )
    where = f"{where} ({pid})"
    for key in raw:
        if key not in _PARAM_KEYS:
            problems.append(
                Msg(
                    "{where}: unknown key {key!r} (keys: {keys})",
                    where=where,
                    key=key,
                    keys=Joined(sorted(_PARAM_KEYS), ", "),
                )
            )
    kind = raw.get("kind", "text")
    if kind not in PARAM_KINDS:
        problems.append(
            Msg(
                "{where}: unknown kind {kind!r} (kinds: {kinds})",
                where=where,
                kind=kind,
                kinds=Joined(PARAM_KINDS, ", "),
            )
        )
    zh, en = _labels(raw, where, problems)
    required = raw.get("required", False)
    if not isinstance(required, bool):
        problems.append(Msg("{where}.required: expected true or false", where=where))
    elif required and kind == "yes_no":
        problems.append(
            Msg("{where}: a yes/no is answered by ticking it or not, so it cannot be required", where=where)
        )
    choices: list[Choice] = []
    raw_choices = raw.get("choices")
    if kind == "choice":
        if not isinstance(raw_choices, list) or not raw_choices:
            problems.append(
                Msg("{where}: a choice needs its choices ([{{ value = …, zh = …, en = … }}, …])", where=where)
            )
            raw_choices = []
        for m, c in enumerate(raw_choices, start=1):
            if not isinstance(c, Mapping) or not isinstance(c.get("value"), str) or not c.get("value"):
                problems.append(Msg("{where}.choices[{m}]: expected {{ value = …, zh = …, en = … }}", where=where, m=m))
                continue
            czh, cen = _labels(c, f"{where}.choices[{m}] ({c['value']})", problems)
            choices.append(Choice(c["value"], czh, cen))
        names = [n for c in choices for n in {c.value, c.zh, c.en}]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            problems.append(
                Msg(
                    "{where}: choices share the names {names}",
                    where=where,
                    names=Joined((repr(t) for t in twice), ", "),
                )
            )
    elif raw_choices is not None:
        problems.append(Msg("{where}: only a choice has choices", where=where))
    bounds: list[float | None] = []
    for key in ("min", "max"):
        value = raw.get(key)
        if value is not None and (
            kind not in ("integer", "number") or isinstance(value, bool) or not isinstance(value, int | float)
        ):
            if key == "min":
                problems.append(Msg("{where}.min: only a number or an integer has a minimum, as a number", where=where))
            else:
                problems.append(Msg("{where}.max: only a number or an integer has a maximum, as a number", where=where))
            value = None
        bounds.append(value)
    if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
        problems.append(Msg("{where}: min {min} is above max {max}", where=where, min=bounds[0], max=bounds[1]))
    path = raw.get("application", "")
    keys = tuple(path.split(".")) if isinstance(path, str) and path else ()
    if not isinstance(path, str) or not all(k.isidentifier() for k in keys):
        problems.append(
            Msg("{where}.application: expected the keys of the application it is written to, as a.b", where=where)
        )
    if len(problems) > before:
        return None
    return Param(
        pid,
        kind,
        zh,
        en,
        bool(required),
        tuple(choices),
        bounds[0],
        bounds[1],
        str(raw.get("help_zh", "")),
        str(raw.get("help_en", "")),
        keys,
    )


def _selectors(action: Action, edges: Sequence[Edge], problems: list[Msg]) -> tuple[str, ...]:
    """The selectors of an action's edges, each checked against its declared choice: every value
    selects a transition, every transition is reached by a value."""
    keys: dict[str, None] = {}
    for e in edges:
        for k in e.when:
            keys.setdefault(k, None)
    where = f"actions.{action.id}"
    for key in keys:
        p = action.param(key)
        if p is None or p.id != key:
            problems.append(
                Msg(
                    "{where}: needs a required choice parameter {key!r}, which decides where the project goes",
                    where=where,
                    key=key,
                )
            )
            continue
        if p.kind != "choice" or not p.required:
            problems.append(
                Msg(
                    "{where}.params ({key}): decides where the project goes, so it is a required choice",
                    where=where,
                    key=key,
                )
            )
            continue
        reached = {e.when.get(key) for e in edges if key in e.when}
        for c in p.choices:
            if c.value not in reached:
                problems.append(
                    Msg(
                        "{where}.params ({key}): the choice {value!r} selects no transition",
                        where=where,
                        key=key,
                        value=c.value,
                    )
                )
        values = {c.value for c in p.choices}
        for value in sorted(str(v) for v in reached if v not in values):
            problems.append(
                Msg(
                    "{where}.params ({key}): no choice reaches the transition for {value!r}",
                    where=where,
                    key=key,
                    value=value,
                )
            )
    return tuple(keys)
