"""Reading a program file: the TOML, the shape of its values, then each section checked and
built into the :class:`Program` model. Every problem is reported at once, in one error.

Each section of the file has one function here, which reads its part of the data (and what the
sections before it found) and gives the :class:`Program` fields it makes; :data:`SECTIONS` runs
them in order. A new section is a new function and a line in :data:`SECTIONS`.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from i18n import Joined, Msg
from policies import REGISTRY
from policies.base import PARAMS_CHECKS, Band, Criterion, Party
from policies.permissions import Permission
from stages import KINDS, TransitionSpec
from workflow.actions import Edge, read_actions
from workflow.errors import ProgramInvalid, os_reason
from workflow.form import Form, read_form
from workflow.program.documents import read_documents
from workflow.program.graph import unreachable_states
from workflow.program.model import (
    CYCLE_WIDE_ACTIONS,
    DEFAULT_REMINDERS,
    ENGINE_TRIGGERS,
    ROLES,
    AppealRules,
    ListCategory,
    MonthDay,
    Program,
    Stage,
    StatusColumn,
    WindowSpec,
    parse_offset,
)
from workflow.program.reads import READS, read_rules
from workflow.program.scoring import read_scoring


def load_program(path: Path) -> Program:
    """Read and validate one program file; raise :class:`ProgramInvalid` listing every problem."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ProgramInvalid(_file(path), [Msg("cannot be read: {why}", why=os_reason(exc))]) from None
    try:
        data = tomllib.loads(text.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProgramInvalid(_file(path), [Msg("not valid TOML: {why}", why=str(exc))]) from None
    return build_program(data, digest=hashlib.sha256(text).hexdigest()[:16], path=path)


# -- the shape ---------------------------------------------------------------------------------

# The expected TOML shape: section -> (type of the section, type of each entry or None)
_SHAPE: dict[str, tuple[type, type | None]] = {
    "program": (dict, None),
    "parties": (list, dict),
    "windows": (dict, dict),
    "stages": (list, dict),
    "guards": (dict, list),
    "permissions": (dict, dict),
    "policies": (dict, dict),
    "quotas": (dict, dict),
    "funding": (dict, dict),
    "actions": (dict, dict),
    "list": (dict, None),
    "scoring": (dict, None),
    "documents": (dict, None),
    "score_sheet": (list, dict),
    "reminders": (dict, None),
    "appeals": (dict, None),
    "overrides": (dict, None),
    "form": (dict, None),
    "state_names": (dict, dict),
    "status": (dict, None),
    "review_criteria": (dict, None),
    "demo": (dict, str),
    "transitions": (list, dict),
}
_HEAD_TYPES: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "cycle_prefix": str,
    "version": int,
    "name": str,
    "name_en": str,
    "sheet_name": str,
    "sheet_note": str,
    "timezone": str,
    "lead": str,
}


def shape_problems(data: Mapping[str, Any]) -> list[Msg]:
    """Every value of the wrong TOML type, so that a typo is a reported problem, never a crash."""
    problems: list[Msg] = []
    kinds = {dict: Msg("a table"), list: Msg("a list"), str: Msg("text"), int: Msg("a whole number")}
    for section, (outer, inner) in _SHAPE.items():
        value = data.get(section)
        if value is None:
            continue
        if not isinstance(value, outer):
            problems.append(
                Msg(
                    "[{section}] must be {kind}, not {given}",
                    section=section,
                    kind=kinds[outer],
                    given=type(value).__name__,
                )
            )
            continue
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, item in items:
            if inner is not None and not isinstance(item, inner):
                problems.append(
                    Msg(
                        "{section}[{key!r}] must be {kind}, not {item!r}",
                        section=section,
                        key=key,
                        kind=kinds[inner],
                        item=item,
                    )
                )
    head = data.get("program")
    if isinstance(head, dict):
        for key, expected in _HEAD_TYPES.items():
            if key in head and (not isinstance(head[key], expected) or isinstance(head[key], bool)):
                problems.append(
                    Msg("[program] {key} = {value!r} must be {kind}", key=key, value=head[key], kind=kinds[expected])  # type: ignore[index]
                )
    demo = data.get("demo")
    for key, ref in demo.items() if isinstance(demo, dict) else ():
        module, colon, name = str(ref).partition(":")
        if key not in ("run", "example"):
            problems.append(Msg("[demo] {key}: unknown (known: example, run)", key=key))
        elif isinstance(ref, str) and not (colon and all(w.isidentifier() for w in (*module.split("."), name))):
            problems.append(Msg("[demo] {key} = {ref!r} must name a function as module:function", key=key, ref=ref))
    for i, stage in enumerate(data.get("stages") or []):
        if isinstance(stage, dict) and not isinstance(stage.get("close_when", []), list):
            problems.append(Msg("stage {stage!r}: close_when must be a list of policy names", stage=stage.get("id", i)))
    for i, crit in enumerate(data.get("score_sheet") or []):
        if not isinstance(crit, dict):
            continue
        if not isinstance(crit.get("max", 0), int):
            problems.append(
                Msg("score criterion {criterion!r}: max must be a whole number", criterion=crit.get("id", i))
            )
        for band in crit.get("bands") or []:
            if not isinstance(band, dict) or not all(
                isinstance(band.get(k), int) and not isinstance(band.get(k), bool) for k in ("min", "max")
            ):
                problems.append(
                    Msg(
                        "score criterion {criterion!r}: band {band!r} needs whole-number min and max",
                        criterion=crit.get("id", i),
                        band=band,
                    )
                )
    return problems


# -- the sections --------------------------------------------------------------------------------


@dataclass
class Reading:
    """A program file's data as its sections are read: the problems found so far, and what a
    section makes that later ones check against (the parties, windows, stages, actions, form)."""

    data: Mapping[str, Any]
    problems: list[Msg] = field(default_factory=list)
    path: Path | None = None  # the program file (its folder names the document templates)
    party_ids: list[str] = field(default_factory=list)
    parties: list[Party] = field(default_factory=list)
    windows: dict[str, WindowSpec] = field(default_factory=dict)
    stages: list[Stage] = field(default_factory=list)
    # every action of the program: its stages' triggers and cycle actions, appeal, override
    actions: set[str] = field(default_factory=set)
    form: Form | None = None
    # the program's own transitions (``[[transitions]]``), each with its stage
    extra: list[tuple[str, TransitionSpec]] = field(default_factory=list)

    @property
    def head(self) -> Mapping[str, Any]:
        """The ``[program]`` table."""
        return cast(Mapping[str, Any], self.data.get("program") or {})

    def table(self, name: str) -> Mapping[str, Any]:
        """A section that is a table (empty when the file has none)."""
        return cast(Mapping[str, Any], self.data.get(name) or {})


# A section reads its part of the file and gives the Program fields it makes.
Section = Callable[[Reading], dict[str, Any]]


def _head(r: Reading) -> dict[str, Any]:
    head = r.head
    pid: str = head.get("id") or ""
    if not pid:
        r.problems.append(Msg("[program] id is missing"))
    zone: str = head.get("timezone") or ""
    if not zone:
        r.problems.append(Msg("[program] timezone is missing (windows need a time zone, e.g. 'Asia/Shanghai')"))
    else:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            r.problems.append(Msg("[program] timezone {zone!r} is not a known time zone", zone=zone))
    return {
        "id": pid,
        "cycle_prefix": head.get("cycle_prefix", pid),
        "version": int(head.get("version", 1)),
        "name": head.get("name", pid),
        "name_en": head.get("name_en", head.get("name", pid)),
        "sheet_name": head.get("sheet_name", "评分表"),
        "sheet_note": head.get("sheet_note", ""),
        "timezone": zone,
    }


def _parties(r: Reading) -> dict[str, Any]:
    parties: list[Party] = []
    for i, p in enumerate(r.data.get("parties") or []):
        if not p.get("id") or not p.get("name"):
            r.problems.append(Msg("parties[{i}] needs an id and a name", i=i))
            continue
        if p.get("role") not in ("lead", "city"):
            r.problems.append(
                Msg("party {party!r} has role {role!r}; expected 'lead' or 'city'", party=p["id"], role=p.get("role"))
            )
        parties.append(Party(p["id"], p["name"], p.get("unit", p["name"]), p.get("role", "city")))
    r.parties = parties
    party_ids = r.party_ids = [p.id for p in parties]
    if not parties:
        r.problems.append(Msg("the program has no parties"))
    if len(set(party_ids)) != len(party_ids):
        twice = sorted({x for x in party_ids if party_ids.count(x) > 1})
        r.problems.append(Msg("party ids repeat: {ids}", ids=Joined(twice, ", ")))
    leads = [p.id for p in parties if p.role == "lead"]
    lead = r.head.get("lead")
    if len(leads) != 1:
        r.problems.append(Msg("exactly one party must have role 'lead' (found {count})", count=len(leads)))
    elif lead != leads[0]:
        r.problems.append(Msg("[program] lead is {lead!r} but the lead party is {party!r}", lead=lead, party=leads[0]))
    # the program's lead: the one lead party (a file without one is refused above)
    return {"parties": tuple(parties), "lead": leads[0] if leads else ""}


def _windows(r: Reading) -> dict[str, Any]:
    for wid, w in r.table("windows").items():
        try:
            spec = WindowSpec(wid, MonthDay.parse(w.get("start")), MonthDay.parse(w.get("end")))
        except (ValueError, AttributeError) as exc:
            r.problems.append(Msg("window {window!r}: {why}", window=wid, why=_why(exc)))
            continue
        if spec.end.key() < spec.start.key():
            r.problems.append(
                Msg(
                    "window {window!r} is inverted: it ends ({end}) before it starts ({start})",
                    window=wid,
                    end=w["end"],
                    start=w["start"],
                )
            )
        r.windows[wid] = spec
    return {}  # a stage's window is kept with the stage


def _reminders(r: Reading) -> dict[str, Any]:
    event_reminders: dict[str, tuple[timedelta, ...]] = {}
    for key in ("deadlines", "rounds"):
        offsets = r.table("reminders").get(key, DEFAULT_REMINDERS)
        try:
            event_reminders[key] = tuple(sorted({parse_offset(o) for o in offsets}, reverse=True))
        except (ValueError, TypeError) as exc:
            r.problems.append(Msg("[reminders] {key}: {why}", key=key, why=_why(exc)))
            event_reminders[key] = ()
    return {"deadline_reminders": event_reminders["deadlines"], "round_reminders": event_reminders["rounds"]}


def _stages(r: Reading) -> dict[str, Any]:
    default_reminders = r.table("reminders").get("before_close", DEFAULT_REMINDERS)
    stages = r.stages
    for i, s in enumerate(r.data.get("stages") or []):
        sid = s.get("id") or f"stages[{i}]"
        kind = KINDS.get(s.get("kind", ""))
        if kind is None:
            r.problems.append(
                Msg(
                    "stage {stage!r}: unknown stage kind {kind!r} (known: {known})",
                    stage=sid,
                    kind=s.get("kind"),
                    known=Joined(sorted(KINDS), ", "),
                )
            )
            continue
        window = None
        if s.get("window") is not None:
            window = r.windows.get(s["window"])
            if window is None:
                r.problems.append(Msg("stage {stage!r}: unknown window {window!r}", stage=sid, window=s["window"]))
        close_when = tuple(s.get("close_when") or ())
        for name in close_when:
            if name not in REGISTRY:
                r.problems.append(Msg("stage {stage!r}: unknown closing policy {name!r}", stage=sid, name=name))
        offsets = s.get("reminders", default_reminders)
        reminders: tuple[timedelta, ...] = ()
        if window is not None:
            try:
                reminders = tuple(sorted({parse_offset(o) for o in offsets}, reverse=True))
            except (ValueError, TypeError) as exc:
                r.problems.append(Msg("stage {stage!r} reminders: {why}", stage=sid, why=_why(exc)))
        stages.append(Stage(sid, s.get("name", sid), kind, window, close_when, reminders))
    if not stages:
        r.problems.append(Msg("the program has no stages"))
    if len({s.id for s in stages}) != len(stages):
        r.problems.append(Msg("stage ids repeat"))
    # windows must follow stage order: a later stage may share a window, never open earlier
    dated = [s for s in stages if s.window]
    for a, b in zip(dated, dated[1:], strict=False):
        if a.window is b.window:
            continue
        early, late = a.window, b.window
        assert early is not None and late is not None  # (dated)
        # compare real dates in a common and a leap year: '02-29' opens on 02-28 in a common year
        if any(late.start.in_year(y) <= early.end.in_year(y) for y in (2027, 2028)):
            opens = f"{late.start.month:02d}-{late.start.day:02d}"
            closes = f"{early.end.month:02d}-{early.end.day:02d}"
            r.problems.append(
                Msg(
                    "windows overlap or run backwards: stage {later!r} opens {opens}, before stage {earlier!r} closes"
                    " {closes}",
                    later=b.id,
                    opens=opens,
                    earlier=a.id,
                    closes=closes,
                )
            )
    r.actions.update(CYCLE_WIDE_ACTIONS)
    for s in stages:
        r.actions.update(s.kind.triggers, s.kind.cycle_actions)
    _extra_transitions(r)
    return {"stages": tuple(stages), "extra_transitions": tuple(r.extra)}


def _extra_transitions(r: Reading) -> None:
    """``[[transitions]]``: an edge the program adds to one of its stages (its trigger new, its
    sources states of the program, its destination a state of its own or one of the program's),
    such as an applicant withdrawing an application the city has not decided on."""
    ids = {s.id for s in r.stages}
    known = {st for s in r.stages for st in s.kind.states}
    for i, t in enumerate(r.data.get("transitions") or []):
        where = f"[[transitions]] {i + 1}"
        trigger, source, dest, stage = t.get("trigger"), t.get("from"), t.get("to"), t.get("stage")
        if not isinstance(trigger, str) or not isinstance(dest, str) or not isinstance(source, list):
            r.problems.append(Msg("{where}: needs trigger, from (a list of states) and to", where=where))
            continue
        if stage not in ids:
            r.problems.append(Msg("{where}: stage {stage!r} is not a stage of this program", where=where, stage=stage))
            continue
        if trigger in r.actions:
            r.problems.append(
                Msg("{where}: {trigger!r} is already an action of this program", where=where, trigger=trigger)
            )
            continue
        r.extra.append((stage, TransitionSpec(trigger, tuple(str(x) for x in source), dest)))
        r.actions.add(trigger)
    dests = {spec.dest for _, spec in r.extra}
    for _, spec in r.extra:
        unknown = [st for st in spec.source if st not in known | dests]
        if unknown:
            r.problems.append(
                Msg(
                    "[[transitions]] {trigger}: unknown states {states}",
                    trigger=spec.trigger,
                    states=Joined(unknown, ", "),
                )
            )


def _guards(r: Reading) -> dict[str, Any]:
    guards = {t: tuple(names) for t, names in r.table("guards").items()}
    for trigger, names in guards.items():
        if trigger not in r.actions:
            r.problems.append(
                Msg("[guards] {trigger!r} is not a trigger of any stage of this program", trigger=trigger)
            )
        for name in names:
            if name not in REGISTRY:
                r.problems.append(Msg("[guards] {trigger}: unknown policy {name!r}", trigger=trigger, name=name))
    return {"guards": guards}


def _appeals(r: Reading) -> dict[str, Any]:
    """``[appeals]``: how long after publication, and who decides appeals against each stage."""
    raw = r.data.get("appeals")
    if raw is None:
        return {"appeals": None}
    problems = r.problems
    stage_ids = {s.id for s in r.stages}
    appealable = [s.id for s in r.stages if s.kind.appealable or s.kind.decides_list]
    try:
        after = parse_offset(raw.get("after_publication", "7d"))
    except ValueError as exc:
        problems.append(Msg("[appeals] after_publication: {why}", why=_why(exc)))
        after = timedelta(days=7)
    decided_by: dict[str, Permission] = {}
    within: dict[str, timedelta] = {}
    per_stage = raw.get("stages") or {}
    if not isinstance(per_stage, dict):
        problems.append(Msg("[appeals] stages must be a table of stages, not {given!r}", given=per_stage))
        per_stage = {}
    for sid, spec in per_stage.items():
        if sid not in stage_ids:
            problems.append(Msg("[appeals.stages.{stage}] is not a stage of this program", stage=sid))
            continue
        if not isinstance(spec, dict):
            problems.append(Msg("[appeals.stages.{stage}] must be a table", stage=sid))
            continue
        if sid not in appealable:
            problems.append(
                Msg(
                    "[appeals.stages.{stage}]: stage {stage!r} makes no result that can be appealed"
                    " (those that do: {those})",
                    stage=sid,
                    those=Joined(appealable, ", ") if appealable else Msg("none"),
                )
            )
            continue
        if "decided_by" in spec:
            if not isinstance(spec["decided_by"], dict) or not isinstance(spec["decided_by"].get("roles"), list):
                problems.append(
                    Msg(
                        '[appeals.stages.{stage}] decided_by must be a table like {{ roles = ["lead"] }},'
                        " not {given!r}",
                        stage=sid,
                        given=spec["decided_by"],
                    )
                )
                continue
            perm = Permission.from_data(spec["decided_by"])
            bad = [role for role in perm.roles if role not in ROLES]
            if bad or not perm.roles:
                problems.append(
                    Msg(
                        "[appeals.stages.{stage}] decided_by needs known roles (got {roles})",
                        stage=sid,
                        roles=list(perm.roles),
                    )
                )
            decided_by[sid] = perm
        if "within" in spec:
            try:
                within[sid] = parse_offset(spec["within"])
            except ValueError as exc:
                problems.append(Msg("[appeals.stages.{stage}] within: {why}", stage=sid, why=_why(exc)))
    undecided = [sid for sid in appealable if sid not in decided_by]
    if undecided:
        problems.append(
            Msg("[appeals] nobody decides appeals against the results of: {stages}", stages=Joined(undecided, ", "))
        )
    r.actions.add("appeal")
    return {"appeals": AppealRules(after, decided_by, within)}


def _overrides(r: Reading) -> dict[str, Any]:
    """``[overrides] rules``: the rules the lead may override with a reason."""
    raw_rules = r.table("overrides").get("rules") or ()
    if isinstance(raw_rules, str):
        raw_rules = [raw_rules]  # one rule named without a list
    if not isinstance(raw_rules, list | tuple):
        r.problems.append(Msg("[overrides] rules must be a list of policy names, not {given!r}", given=raw_rules))
        raw_rules = ()
    rules = tuple(raw_rules)
    for name in rules:
        if name not in REGISTRY:
            r.problems.append(Msg("[overrides] rules: unknown policy {name!r}", name=name))
    if rules:
        r.actions.add("override")
    return {"overridable": rules}


def _permissions(r: Reading) -> dict[str, Any]:
    permissions: dict[str, Permission] = {}
    form = r.data.get("form")
    if isinstance(form, dict) and form.get("documents"):
        r.actions.add("attach")  # a form that declares documents: someone attaches them (its permission)
    for action, perm in r.table("permissions").items():
        if action in READS:
            continue  # (a read, not an action: read_rules below)
        if action not in r.actions:
            r.problems.append(Msg("[permissions] {action!r} is not an action of this program", action=action))
        p = Permission.from_data(perm)
        bad = [role for role in p.roles if role not in ROLES]
        if bad:
            r.problems.append(
                Msg(
                    "[permissions] {action}: unknown roles {roles} (known: {known})",
                    action=action,
                    roles=Joined(bad, ", "),
                    known=Joined(ROLES, ", "),
                )
            )
        permissions[action] = p
    missing = sorted(r.actions - set(permissions) - ENGINE_TRIGGERS)
    if missing:
        r.problems.append(Msg("[permissions] nobody may do: {actions}", actions=Joined(missing, ", ")))
    reads = read_rules(r.table("permissions"), permissions, ROLES, r.problems)
    return {"permissions": permissions, "reads": reads}


def _policies(r: Reading) -> dict[str, Any]:
    params = {k: dict(v) for k, v in r.table("policies").items()}
    for name, values in params.items():
        if name not in REGISTRY:
            r.problems.append(Msg("[policies.{name}] configures an unknown policy", name=name))
        elif name in PARAMS_CHECKS:
            r.problems += [
                Msg("[policies.{name}] {problem}", name=name, problem=problem)
                for problem in PARAMS_CHECKS[name](values)
            ]
    return {"policy_params": params}


def _quotas(r: Reading) -> dict[str, Any]:
    return {"quotas": _int_table(r, "quotas")}


def _funding(r: Reading) -> dict[str, Any]:
    return {"funding": _int_table(r, "funding")}


def _int_table(r: Reading, name: str) -> dict[str, dict[str, int]]:
    """A table of whole numbers ≥ 0 per party (``[quotas.CITY]``, ``[funding.CITY]``)."""
    out: dict[str, dict[str, int]] = {}
    ids = set(r.party_ids)
    for city, values in r.table(name).items():
        if city not in ids:
            r.problems.append(Msg("[{name}.{city}] is not a party of the program", name=name, city=city))
            continue
        out[city] = {}
        for key, value in values.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                r.problems.append(
                    Msg(
                        "[{name}.{city}] {key} = {value!r} is not a whole number ≥ 0",
                        name=name,
                        city=city,
                        key=key,
                        value=value,
                    )
                )
            else:
                out[city][key] = value
    return out


def _score_sheet(r: Reading) -> dict[str, Any]:
    criteria: list[Criterion] = []
    for c in r.data.get("score_sheet") or []:
        cid = c.get("id", "?")
        bands = tuple(
            Band(b.get("label", ""), int(b.get("min", 0)), int(b.get("max", 0))) for b in c.get("bands") or []
        )
        if not bands:
            r.problems.append(Msg("score criterion {criterion!r} has no bands", criterion=cid))
        for band in bands:
            if band.min > band.max or band.max > int(c.get("max", 0)) or band.min < 0:
                r.problems.append(
                    Msg(
                        "score criterion {criterion!r}: band {band} {low}-{high} is not within 0-{max}",
                        criterion=cid,
                        band=band.label,
                        low=band.min,
                        high=band.max,
                        max=c.get("max"),
                    )
                )
        ordered = sorted(bands, key=lambda b: b.min)
        for x, y in zip(ordered, ordered[1:], strict=False):
            if y.min <= x.max:
                r.problems.append(
                    Msg(
                        "score criterion {criterion!r}: bands {one} and {other} overlap",
                        criterion=cid,
                        one=x.label,
                        other=y.label,
                    )
                )
        criteria.append(Criterion(cid, c.get("name", cid), int(c.get("max", 0)), bands, str(c.get("short") or cid)))
    return {"criteria": tuple(criteria)}


def _form(r: Reading) -> dict[str, Any]:
    form, form_problems = read_form(r.data.get("form"), r.head.get("lead") or "", r.parties)
    r.problems += form_problems
    r.form = form
    return {"form": form}


def _list(r: Reading) -> dict[str, Any]:
    """``[list]``: its categories (best first), how scores are aggregated, its other settings."""
    categories: list[ListCategory] = []
    for i, c in enumerate(r.table("list").get("categories") or []):
        places = c.get("places", 0) if isinstance(c, dict) else None
        if not isinstance(c, dict) or not c.get("id") or not isinstance(places, int) or places < 0:
            r.problems.append(
                Msg("[list] categories[{i}] needs an id and whole-number places ≥ 0, not {given!r}", i=i, given=c)
            )
        elif c["id"] == "none" or c["id"] in [x.id for x in categories]:
            r.problems.append(Msg("[list] category {category!r} is reserved or given twice", category=c["id"]))
        else:
            categories.append(ListCategory(c["id"], cast(str, c.get("name", c["id"])), places))
    method = r.table("list").get("aggregate", "mean")
    if method not in ("mean", "trimmed_mean", "sum"):
        r.problems.append(Msg("[list] aggregate = {method!r} must be mean, trimmed_mean or sum", method=method))
    return {
        "categories": tuple(categories),
        "list_settings": {k: v for k, v in r.table("list").items() if k != "categories"},
    }


def _scoring(r: Reading) -> dict[str, Any]:
    """``[scoring]``: workflow/program/scoring.py."""
    own, settings, problems = read_scoring(r.table("scoring"))
    r.problems += problems
    return {"own_party": own, "analysis": settings}


def _documents(r: Reading) -> dict[str, Any]:
    """``[documents]``: workflow/program/documents.py."""
    fields = {f.path for f in r.form.fields} if r.form is not None else set()
    settings, problems = read_documents(r.table("documents"), r.path, list(r.table("state_names")), fields, r.actions)
    r.problems += problems
    return {"documents": settings}


def _status(r: Reading) -> dict[str, Any]:
    columns: list[StatusColumn] = []
    for i, c in enumerate(r.table("status").get("columns") or []):
        if not isinstance(c, dict) or not c.get("id") or not c.get("zh"):
            r.problems.append(Msg("[status] columns[{i}] needs an id and a zh label, not {given!r}", i=i, given=c))
            continue
        kind = c.get("kind", "count")
        states = c.get("states", [])
        if kind not in ("count", "result", "minimum", "sheets", "confirmed", "funding"):
            r.problems.append(Msg("[status] column {column!r}: kind {kind!r} is not known", column=c["id"], kind=kind))
        elif states != "*" and not (isinstance(states, list) and all(isinstance(x, str) for x in states)):
            r.problems.append(Msg('[status] column {column!r}: states must be a list of states or "*"', column=c["id"]))
        else:
            every = tuple(st for st in states) if states != "*" else ("*",)
            columns.append(
                StatusColumn(
                    c["id"],
                    c["zh"],
                    kind,
                    every,
                    c.get("result"),
                    c.get("policy"),
                    bool(c.get("show", True)),
                    str(c.get("en", "")),
                )
            )
    return {"status_columns": tuple(columns)}


def _review_criteria(r: Reading) -> dict[str, Any]:
    review = r.table("review_criteria")
    if review and (
        not isinstance(review.get("types"), dict)
        or not all(isinstance(v, list) for v in review["types"].values())
        or r.form is None
        or review.get("field") not in [f.path for f in r.form.fields]
    ):
        r.problems.append(Msg("[review_criteria] needs field = a form field and [review_criteria.types] of lists"))
        return {}  # (the program is not built)
    return {
        "review_criteria_field": review.get("field"),
        "review_criteria": {k: tuple(v) for k, v in (review.get("types") or {}).items()},
        "demo": dict(r.table("demo")),
    }


def _actions(r: Reading) -> dict[str, Any]:
    """``[actions]``: every action a user can take, with its labels and parameters, checked
    against the stages' transitions (a choice that selects none, a transition no choice reaches)."""
    edges: dict[str, list[Edge]] = {}
    cycle_actions: list[str] = []
    required: dict[str, tuple[str, str]] = {}
    uses: dict[str, str] = {}
    for s in r.stages:
        for t in s.kind.transitions:
            if t.trigger not in ENGINE_TRIGGERS:
                edges.setdefault(t.trigger, []).append(Edge(t.trigger, t.when))
        for c in s.kind.creates:
            edges.setdefault(c, [])
            uses[c] = "form"
        if s.kind.sheet_trigger:
            uses[s.kind.sheet_trigger] = "sheet"
        for trigger in s.kind.deadline_triggers:
            required[trigger] = ("deadline", "date")
        cycle_actions += [a for a in s.kind.cycle_actions if a not in cycle_actions]
    for _, t in r.extra:
        edges.setdefault(t.trigger, []).append(Edge(t.trigger, t.when))
    actions, problems = read_actions(r.data.get("actions"), edges, cycle_actions, required, uses)
    r.problems += problems
    return {"actions": actions}


def _names(r: Reading) -> dict[str, Any]:
    """The states' names: each ``state = { zh = "…", en = "…" }``, for every state of the stages."""
    zh: dict[str, str] = {}
    en: dict[str, str] = {}
    for state, names in r.table("state_names").items():
        if not all(isinstance(names.get(lang), str) and names[lang].strip() for lang in ("zh", "en")):
            r.problems.append(Msg('[state_names] {state}: needs {{ zh = "…", en = "…" }}', state=state))
            continue
        zh[str(state)], en[str(state)] = names["zh"], names["en"]
    extra = [spec.dest for _, spec in r.extra if spec.dest]
    states = {st for s in r.stages for st in s.kind.states} | set(extra)
    unknown = sorted(set(zh) - states)
    if unknown:
        r.problems.append(Msg("[state_names] not states of this program: {states}", states=Joined(unknown, ", ")))
    every = [*(st for s in r.stages for st in s.kind.states), *extra]
    unnamed = [st for st in every if st not in zh and st not in r.table("state_names")]
    if unnamed:
        r.problems.append(
            Msg("[state_names] states without their names: {states}", states=Joined(dict.fromkeys(unnamed), ", "))
        )
    return {"state_names": zh, "state_names_en": en}


# The sections in the order they are read (a section may use what one before it found).
SECTIONS: tuple[Section, ...] = (
    _head,
    _parties,
    _windows,
    _reminders,
    _stages,
    _guards,
    _appeals,
    _overrides,
    _permissions,
    _policies,
    _quotas,
    _funding,
    _score_sheet,
    _form,
    _list,
    _scoring,
    _documents,
    _status,
    _review_criteria,
    _actions,
    _names,
)


def build_program(data: Mapping[str, Any], digest: str = "", path: Path | None = None) -> Program:
    """Check a program file's data and build its :class:`Program`; raise :class:`ProgramInvalid`
    listing every problem (wrong TOML types alone first, as the sections read on those types)."""
    shape = shape_problems(data)
    if shape:
        raise ProgramInvalid(_file(path) if path else "program", shape)
    reading = Reading(data, path=path)
    fields: dict[str, Any] = {}
    for section in SECTIONS:
        fields.update(section(reading))
    problems = reading.problems
    program = None
    if not problems:
        program = Program(**fields, digest=digest, path=path)
        unreachable = unreachable_states(program)
        if unreachable:
            problems.append(Msg("unreachable states: {states}", states=Joined(unreachable, ", ")))
    if problems or program is None:
        raise ProgramInvalid(_file(path) if path else Msg("program {id}", id=fields["id"] or "?"), problems)
    return program


def _why(exc: Exception) -> Any:
    """What a value's parser said of it: its message of the catalog when it gives one (a
    duration, a month-day), else its own words."""
    said = exc.args[0] if exc.args else None
    return said if isinstance(said, Msg) else str(exc)


def _file(path: Path | None) -> Msg:
    """The program file as an error names it."""
    return Msg("program file {path}", path=str(path))
