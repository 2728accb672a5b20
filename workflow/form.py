"""A program's application form, as program data (the ``[form]`` of a program file).

The form lists its fields (a dotted path such as ``project.name``, a Chinese label and a
kind), at most one repeated group (a team, member units…), and which fields name the party
the application belongs to, the applying unit and the project. Completeness is checked at
submission, every problem listed at once; eligibility is a separate matter, decided by the
program's policies.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, cast

from i18n import Joined, Msg, Text
from policies.base import Party, parse_date
from workflow.errors import InvalidInput
from workflow.files import DEFAULT_MAX_MB, MAX_DOCUMENT_MB
from workflow.files import KINDS as FILE_KINDS
from workflow.inputs import bad_character, shown_value
from workflow.records import plain

KINDS = ("text", "date", "int", "bool", "list", "choice", "party", "number")
_DOCUMENT_KEYS = frozenset({"id", "zh", "en", "required", "types", "max_mb"})
_FIELD_KEYS = frozenset({"path", "zh", "kind", "choices", "required", "max_length", "min", "max"})
# the limits of a field whose program gives none: a name or a line of text, a text answered in
# paragraphs (``long_text``), a whole number or a number (a count of people, of staff…)
TEXT_MAX = 200
LONG_TEXT_MAX = 2000
NUMBER_MAX = 10**9
LIST_MAX = 100  # items of a list field without choices
GROUP_MAX_ROWS = 200  # rows of the form's repeated group


@dataclass(frozen=True)
class FormField:
    """One field: ``path`` is ``name`` or ``section.name``; ``choices`` (code → 中文) for the
    kinds ``choice`` and ``list``; ``required`` False lets it be left empty."""

    path: str
    zh: str
    kind: str = "text"
    choices: Mapping[str, str] = field(default_factory=dict)
    required: bool = True
    # the limits of an answer: characters of a text (0: TEXT_MAX, or LONG_TEXT_MAX for a text
    # answered in paragraphs), the range of a number; ``lines``: the text may hold line breaks
    max_length: int = 0
    low: int | float = 0
    high: int | float = NUMBER_MAX
    lines: bool = False

    @cached_property
    def length_limit(self) -> int:
        """The most characters a text answer may have."""
        return self.max_length or (LONG_TEXT_MAX if self.lines else TEXT_MAX)

    # worked out once per field (kept in the instance, not compared): a form is checked
    # field by field for every application of an import
    @cached_property
    def section(self) -> str:
        return self.path.rpartition(".")[0]

    @cached_property
    def name(self) -> str:
        return self.path.rpartition(".")[2]

    @cached_property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))

    def get(self, data: Mapping[str, Any]) -> Any:
        holder: Any = data
        for part in self.parts:
            # (a dict is a Mapping: its exact type is asked first, the abstract check costs more)
            holder = holder.get(part) if type(holder) is dict or isinstance(holder, Mapping) else None
        return holder


@dataclass(frozen=True)
class Document:
    """A document an application carries (营业执照, a certificate): its id, labels, whether it is
    required, the kinds of file it takes (workflow/files.py KINDS) and its size limit in MB."""

    id: str
    zh: str
    en: str
    required: bool = False
    types: tuple[str, ...] = ("pdf", "jpeg", "png")
    max_mb: int = DEFAULT_MAX_MB

    def label(self, lang: str) -> str:
        """The document's name in ``lang`` (``en``: English, else Chinese)."""
        return self.en if lang == "en" else self.zh

    def words(self) -> Text:
        """The document as a message names it."""
        return Text(self.en, self.zh)


@dataclass(frozen=True)
class FormGroup:
    """A repeated part of the form, one row per member (a team, the member units of an
    alliance); ``flags`` are yes/no columns; at least ``min_rows`` rows."""

    key: str
    zh: str
    sheet: str
    fields: tuple[FormField, ...]
    flags: tuple[FormField, ...] = ()
    min_rows: int = 1
    missing: str = ""
    max_rows: int = GROUP_MAX_ROWS


@dataclass(frozen=True)
class Form:
    name: str
    sheet: str
    fields: tuple[FormField, ...]
    party: str | None  # the path of the field naming the party (a city) the application belongs to
    unit: str  # … naming the applying unit
    title: str  # … naming the project
    group: FormGroup | None = None
    notes: tuple[str, ...] = ()
    # with no party field, every application belongs to this party (the program's lead: one
    # office receives them all)
    default_party: str = ""
    # a party as an application may name it (its id, its name, its name without 市 or 区) -> its id,
    # as the form's notes tell applicants; the application keeps the id
    party_names: Mapping[str, str] = field(default_factory=dict)
    documents: tuple[Document, ...] = ()  # the documents an application carries, attached as files

    def document(self, document_id: str) -> Document | None:
        """The declared document ``document_id`` (None: the form declares no such document)."""
        return next((d for d in self.documents if d.id == document_id), None)

    # the states in which the applicant may still replace the application (none: never)
    editable_in: tuple[str, ...] = ()
    # a section (the first part of a dotted path; "" for the fields of none) -> its 中文 heading
    sections: Mapping[str, str] = field(default_factory=dict)
    # the text fields answered in paragraphs (an online form gives them a larger box)
    long_text: tuple[str, ...] = ()
    # the notes of the online form, where the workbook's (``notes``) speak of its cells
    online_notes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_path", {f.path: f for f in self.fields})
        object.__setattr__(self, "_known", {(): _known_tree(self, ())})
        # what _fine checks of each field, worked out once (see _accepts)
        object.__setattr__(self, "_checks", tuple((f.parts, *_accepts(f)) for f in self.fields))
        rows = self.group.fields if self.group is not None else ()
        object.__setattr__(self, "_row_checks", tuple((f.name, *_accepts(f)) for f in rows))

    def field(self, path: str) -> FormField:
        return self._by_path[path]  # type: ignore[attr-defined]

    def party_of(self, app: Mapping[str, Any]) -> str:
        return self.field(self.party).get(app) if self.party else self.default_party

    def unit_of(self, app: Mapping[str, Any]) -> str:
        return self.field(self.unit).get(app)

    def title_of(self, app: Mapping[str, Any]) -> str:
        return self.field(self.title).get(app)

    def validate(self, data: Mapping[str, Any], written: tuple[tuple[str, ...], ...] = ()) -> dict[str, Any]:
        """A normalised copy of the application, or InvalidInput listing every missing or bad field
        and every key that is not a field of the form (``written``: the places the program's
        actions write on an application, which it may carry too)."""
        cache: dict[tuple[tuple[str, ...], ...], dict[str, Any]] = self._known  # type: ignore[attr-defined]
        known = cache.get(written)
        if known is None:  # (worked out once for each program's places: an import asks for each row)
            known = cache[written] = _known_tree(self, written)
        unknown = _unknown_keys(data, known, "", self.group) if isinstance(data, Mapping) else []
        problems: list[Msg] = list(unknown)
        out: dict[str, Any] = plain(data)  # a deep copy as JSON would give it: dates as text
        if self.party and self.party_names and type(out) is dict:
            self._party_by_id(out)
        if not unknown and type(out) is dict and self._fine(out):
            # the common case, in a few calls per field: nothing to report, only the group's rows to
            # complete as below (no rows at all, where none are needed, are an empty list)
            g = self.group
            if g is not None:
                rows = out.get(g.key)
                if type(rows) is not list:
                    out[g.key] = rows = []
                for row in rows:
                    for flag in g.flags:
                        row[flag.name] = bool(row.get(flag.name, False))
            return out
        # some field is missing or bad (or the application is not a table): every problem, in order
        for f in self.fields:
            problems += _field_problems(f, f.get(out), f.path)
        if self.group is not None:
            g = self.group
            rows = out.get(g.key)
            if not isinstance(rows, list) or len(rows) < g.min_rows:
                have = len(rows) if isinstance(rows, list) else 0
                hint = (
                    Msg(": {missing}", missing=g.missing)
                    if g.missing
                    else Msg(" (at least {least}, {have} given)", least=g.min_rows, have=have)
                )
                if have or g.min_rows:
                    problems.append(Msg("{key} ({label}) is missing{hint}", key=g.key, label=g.zh, hint=hint))
                if not isinstance(rows, list):
                    out[g.key] = rows = []
            if len(rows) > g.max_rows:
                problems.append(
                    Msg(
                        "{key} ({label}) has {have} rows; the limit is {limit}",
                        key=g.key,
                        label=g.zh,
                        have=len(rows),
                        limit=g.max_rows,
                    )
                )
                rows = rows[: g.max_rows]  # (the rows beyond are not looked at: the limit is said once)
            for i, row in enumerate(rows, start=1):
                if not isinstance(row, dict):
                    problems.append(Msg("{key}[{row}] is not a table", key=g.key, row=i))
                    continue
                for f in g.fields:
                    problems += _field_problems(f, row.get(f.name), f"{g.key}[{i}].{f.name}")
                for flag in g.flags:
                    row[flag.name] = bool(row.get(flag.name, False))
        if problems:
            raise InvalidInput("application", problems)
        return out

    def _party_by_id(self, out: dict[str, Any]) -> None:
        """Write the party field of ``out`` as the party's id where it names one of the program's
        parties by name (anything else is left for the program's rules to judge)."""
        *sections, name = self.field(cast(str, self.party)).parts
        holder: Any = out
        for part in sections:
            holder = holder.get(part) if type(holder) is dict else None
        value = holder.get(name) if type(holder) is dict else None
        if isinstance(value, str):
            holder[name] = self.party_names.get(value.strip(), value)

    def _fine(self, out: dict[str, Any]) -> bool:
        """Whether the plain copy of an application has no problem at all, found without making a
        word of the messages: True only where validate's field-by-field checks find nothing (and
        raise nothing), so that they run only for an application with something to report. In a
        plain copy every table is a dict and every list a list: their exact types are all there is
        to ask."""
        for parts, accepts, required, choices in self._checks:  # type: ignore[attr-defined]
            value: Any = out
            for part in parts:
                value = value.get(part) if type(value) is dict else None
            if not accepts(value, choices) and (required or not _blank(value)):
                return False
        g = self.group
        if g is None:
            return True
        rows = out.get(g.key)
        if type(rows) is not list:
            return not g.min_rows  # (no rows at all are fine only where none are needed)
        if not g.min_rows <= len(rows) <= g.max_rows:
            return False
        for row in rows:
            if type(row) is not dict:
                return False
            for name, accepts, required, choices in self._row_checks:  # type: ignore[attr-defined]
                value = row.get(name)
                if not accepts(value, choices) and (required or not _blank(value)):
                    return False
        return True


# Whether a value is a good answer of a field's kind, as _field_problems judges one given (a
# blank answer is never one: whether it may be left blank is the field's ``required``). Each is
# given the value and the field's choices.


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _given(value: Any, choices: Mapping[str, str]) -> bool:
    # (not _blank(value), in one call: most fields of a form are text)
    return bool(value.strip()) if isinstance(value, str) else value is not None


def _a_date(value: Any, choices: Mapping[str, str]) -> bool:
    return parse_date(value) is not None  # (None for a blank one too)


def _a_whole_number(value: Any, choices: Mapping[str, str]) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _a_number(value: Any, choices: Mapping[str, str]) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _a_bool(value: Any, choices: Mapping[str, str]) -> bool:
    return isinstance(value, bool)


def _a_list(value: Any, choices: Mapping[str, str]) -> bool:
    return isinstance(value, list)  # an empty one too: none of the choices


def _a_choice(value: Any, choices: Mapping[str, str]) -> bool:
    # a code is text (a list given for one cannot even be looked up)
    return not _blank(value) and (not choices or (isinstance(value, str) and value in choices))


_ACCEPTS = {
    "date": _a_date,
    "int": _a_whole_number,
    "number": _a_number,
    "bool": _a_bool,
    "list": _a_list,
    "choice": _a_choice,
}


def _accepts(f: FormField) -> tuple[Callable[[Any, Mapping[str, str]], bool], bool, Mapping[str, str]]:
    """How Form._fine checks a field: (its kind's test within the field's limits, whether it must
    be given, its choices). Text and a party need an answer of at most the field's length, with no
    control character (nor a line break, unless the field is answered in paragraphs)."""
    kind = _ACCEPTS.get(f.kind)
    if f.kind in ("int", "number"):
        low, high, number = f.low, f.high, cast(Callable[[Any, Mapping[str, str]], bool], kind)

        def in_range(value: Any, choices: Mapping[str, str]) -> bool:
            return number(value, choices) and low <= value <= high  # (NaN is in no range)

        return in_range, f.required, f.choices
    if f.kind == "list":
        return _list_test(f), f.required, f.choices
    if kind is not None:
        return kind, f.required, f.choices
    limit, one_line = f.length_limit, not f.lines

    def text(value: Any, choices: Mapping[str, str]) -> bool:
        if type(value) is str:
            return bool(value.strip()) and len(value) <= limit and bad_character(value, one_line) is None
        return _a_plain_value(value)

    return text, f.required, f.choices


def _a_plain_value(value: Any) -> bool:
    """A value other than text given for a text (a telephone number as a number): one that can be
    written as one short line."""
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, bool | float):
        return True
    return isinstance(value, int) and abs(value) < 10**18


def _list_test(f: FormField) -> Callable[[Any, Mapping[str, str]], bool]:
    """A list field's test: a list of at most LIST_MAX short texts (its codes)."""
    limit = f.length_limit

    # (codes not among the choices are the program's rules to judge, which name them: the
    # form bounds only the list's length and its texts)
    def test(value: Any, choices: Mapping[str, str]) -> bool:
        return (
            isinstance(value, list)
            and len(value) <= LIST_MAX
            and all(isinstance(v, str) and len(v) <= limit and bad_character(v, True) is None for v in value)
        )

    return test


def _known_tree(form: Form, written: tuple[tuple[str, ...], ...]) -> dict[str, Any]:
    """The keys an application of ``form`` may have, as a tree: a section -> its own tree, a field
    -> None, the group's key -> the group. ``cycle`` (the cycle it is for) is known too."""
    tree: dict[str, Any] = {"cycle": None}
    for parts in [*(f.parts for f in form.fields), *written]:
        holder = tree
        for part in parts[:-1]:
            inner = holder.get(part)
            if not isinstance(inner, dict):
                inner = holder[part] = {}
            holder = inner
        holder.setdefault(parts[-1], None)
    if form.group is not None:
        tree[form.group.key] = form.group
    return tree


def _unknown_keys(data: Mapping[str, Any], known: Mapping[str, Any], at: str, group: FormGroup | None) -> list[Msg]:
    """Every key of ``data`` that is not a field of the form, each named with the nearest known
    ones (or, with none near, every key known at its place)."""
    out: list[Msg] = []
    for key, value in data.items():
        where = f"{at}.{key}" if at else str(key)
        if key not in known:
            out.append(_unknown(where, str(key), list(known)))
        elif isinstance(known[key], dict) and isinstance(value, Mapping):
            out += _unknown_keys(value, known[key], where, group)
        elif isinstance(known[key], FormGroup) and isinstance(value, list):
            g = known[key]
            names = [f.name for f in (*g.fields, *g.flags)]
            for i, row in enumerate(value[: g.max_rows], start=1):
                if isinstance(row, Mapping):
                    out += [_unknown(f"{where}[{i}].{k}", str(k), names) for k in row if k not in names]
        if len(out) >= 10:  # enough to see what is wrong; the message stays readable
            break
    return out


def _unknown(where: str, key: str, known: list[str]) -> Msg:
    near = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
    if near:
        return Msg("{where} is not a field of the form; did you mean {near}?", where=where, near=Joined(near, ", "))
    return Msg("{where} is not a field of the form (known here: {known})", where=where, known=Joined(known, ", "))


def _field_problems(f: FormField, value: Any, where: str) -> list[Msg]:
    """What is wrong with ``value`` as the answer to ``f`` (nothing, or one line): the kind's test
    (_accepts) is the one _fine asks, so the two never disagree on what is fine."""
    accepts, required, choices = _accepts(f)
    if accepts(value, choices):
        return []
    label = Msg("{where} ({label})", where=where, label=f.zh)
    if _blank(value):
        return [Msg("{label} is missing", label=label)] if required else []
    if f.kind == "list":
        if not isinstance(value, list):
            return [Msg("{label} must be a list", label=label)]
        return [_list_problem(f, value, label)]
    if f.kind == "choice":  # (a list or a table given for a code is simply not one of them)
        known = Joined([Msg("{code} ({name})", code=k, name=v) for k, v in choices.items()], ", ")
        return [Msg("{label} = {value} is not one of: {choices}", label=label, value=shown_value(value), choices=known)]
    if f.kind in _WRONG_KIND:
        # the right kind, out of range (below zero, where zero is the least: not a count, as ever said)
        if f.kind in ("int", "number") and _ACCEPTS[f.kind](value, choices) and not (f.low == 0 and value < 0):
            return [
                Msg(
                    "{label} = {value} is out of range: it must be from {low} to {high}",
                    label=label,
                    value=shown_value(value),
                    low=f.low,
                    high=f.high,
                )
            ]
        return [Msg(_WRONG_KIND[f.kind], label=label, value=shown_value(value))]
    return [_text_problem(f, value, label)]


def _text_problem(f: FormField, value: Any, label: Msg) -> Msg:
    """What is wrong with a text answer that is given but not accepted."""
    if not isinstance(value, str):
        return Msg("{label} = {value} must be text", label=label, value=shown_value(value))
    if len(value) > f.length_limit:
        return Msg(
            "{label} is {length} characters long; the limit is {limit}",
            label=label,
            length=len(value),
            limit=f.length_limit,
        )
    return Msg("{label} {why}", label=label, why=bad_character(value, not f.lines))


def _list_problem(f: FormField, value: list[Any], label: Msg) -> Msg:
    """What is wrong with a list answer that is not accepted."""
    if len(value) > LIST_MAX:
        return Msg("{label} has {have} items; the limit is {limit}", label=label, have=len(value), limit=LIST_MAX)
    bad = next(v for v in value if not (isinstance(v, str) and len(v) <= f.length_limit and not bad_character(v, True)))
    return _text_problem(replace(f, lines=False), bad, label)


# what _field_problems says of an answer of another kind (text and a party only need an answer)
_WRONG_KIND = {
    "date": Msg("{label} = {value} is not a date (YYYY-MM-DD)").id,
    "int": Msg("{label} = {value} is not a whole number").id,
    "number": Msg("{label} = {value} is not a number").id,
    "bool": Msg("{label} = {value} must be true or false").id,
}


def _field(raw: Any, where: str, problems: list[Msg]) -> FormField | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("path"), str) or not isinstance(raw.get("zh"), str):
        problems.append(Msg("{where}: each field needs a path and a zh label, not {given!r}", where=where, given=raw))
        return None
    kind = raw.get("kind", "text")
    if kind not in KINDS:
        problems.append(
            Msg(
                "{where} {path!r}: kind {kind!r} is not one of {kinds}",
                where=where,
                path=raw["path"],
                kind=kind,
                kinds=Joined(KINDS, ", "),
            )
        )
        return None
    choices = raw.get("choices", {})
    if not isinstance(choices, dict) or not all(isinstance(v, str) for v in choices.values()):
        problems.append(Msg("{where} {path!r}: choices must be a table of code = 中文", where=where, path=raw["path"]))
        return None
    if kind == "choice" and not choices:
        problems.append(Msg("{where} {path!r}: a choice field needs its choices", where=where, path=raw["path"]))
    unknown = sorted(set(raw) - _FIELD_KEYS)
    if unknown:
        problems.append(
            Msg(
                "{where} {path!r}: unknown keys {unknown} (keys: {keys})",
                where=where,
                path=raw["path"],
                unknown=Joined(unknown, ", "),
                keys=Joined(sorted(_FIELD_KEYS), ", "),
            )
        )
    limits: dict[str, Any] = {}
    for key, name in (("max_length", "max_length"), ("min", "low"), ("max", "high")):
        value = raw.get(key)
        if value is None:
            continue
        whole = key == "max_length" or kind == "int"
        if (
            isinstance(value, bool)
            or not isinstance(value, int if whole else int | float)
            or not math.isfinite(value)
            or (key == "max_length" and value < 1)
        ):
            problems.append(
                Msg("{where} {path!r}: {key} must be a finite number", where=where, path=raw["path"], key=key)
            )
            continue
        limits[name] = value
    if limits.get("low", 0) > limits.get("high", NUMBER_MAX):
        problems.append(Msg("{where} {path!r}: min is above max", where=where, path=raw["path"]))
    return FormField(raw["path"], raw["zh"], kind, dict(choices), bool(raw.get("required", True)), **limits)


def build_form(raw: Any, lead: str = "", parties: Sequence[Party] = ()) -> tuple[Form | None, list[str]]:
    """The ``[form]`` table as a Form, and every problem in it as read now (see :func:`read_form`)."""
    form, problems = read_form(raw, lead, parties)
    return form, [str(p) for p in problems]


def read_form(raw: Any, lead: str = "", parties: Sequence[Party] = ()) -> tuple[Form | None, list[Msg]]:
    """The ``[form]`` table as a Form, and every problem in it. Without ``party``, every
    application belongs to ``lead``; with it, an application may name one of ``parties`` by id,
    name or name without 市 or 区."""
    if not isinstance(raw, dict):
        return None, [Msg("[form] is missing: the program's application form (its fields, and which name the party)")]
    problems: list[Msg] = []
    fields = [f for i, r in enumerate(raw.get("fields") or []) if (f := _field(r, f"[form] fields[{i}]", problems))]
    paths = [f.path for f in fields]
    for key in ("party", "unit", "title") if "party" in raw else ("unit", "title"):
        if raw.get(key) not in paths:
            problems.append(
                Msg("[form] {key} = {value!r} must name one of the form's fields", key=key, value=raw.get(key))
            )
    party = raw.get("party")
    if party in paths and next(f for f in fields if f.path == party).kind != "party":
        problems.append(Msg("[form] the party field {party!r} must be of kind 'party'", party=party))
    group = None
    g = raw.get("group")
    if g is not None:
        if not isinstance(g, dict) or not g.get("key") or not g.get("zh"):
            problems.append(Msg("[form.group] needs a key and a zh label"))
        else:
            gf = [
                f
                for i, r in enumerate(g.get("fields") or [])
                if (f := _field(r, f"[form.group] fields[{i}]", problems))
            ]
            flags = [
                f for i, r in enumerate(g.get("flags") or []) if (f := _field(r, f"[form.group] flags[{i}]", problems))
            ]
            max_rows = g.get("max_rows", GROUP_MAX_ROWS)
            if not isinstance(max_rows, int) or isinstance(max_rows, bool) or max_rows < 1:
                problems.append(Msg("[form.group] max_rows must be a whole number above 0"))
                max_rows = GROUP_MAX_ROWS
            group = FormGroup(
                g["key"],
                g["zh"],
                cast(str, g.get("sheet", g["zh"])),
                tuple(gf),
                tuple(flags),
                int(g.get("min_rows", 1)),
                g.get("missing", ""),
                max_rows,
            )
    documents = _documents(raw.get("documents"), problems)
    editable = raw.get("editable_in", [])
    if not isinstance(editable, list) or not all(isinstance(x, str) for x in editable):
        problems.append(Msg("[form] editable_in must be a list of states, not {given!r}", given=editable))
    sections = raw.get("sections", {})
    if not isinstance(sections, dict) or not all(isinstance(v, str) for v in sections.values()):
        problems.append(Msg("[form] sections must be a table of section = 中文"))
    long_text = raw.get("long_text", [])
    if not isinstance(long_text, list) or not set(long_text) <= set(paths):
        problems.append(Msg("[form] long_text must list fields of the form, not {given!r}", given=long_text))
    online = raw.get("online_notes")
    if online is not None and (not isinstance(online, list) or not all(isinstance(n, str) for n in online)):
        problems.append(Msg("[form] online_notes must be a list of sentences, not {given!r}", given=online))
    if problems:
        return None, problems
    # a text answered in paragraphs may hold line breaks, and is longer by default
    fields = [replace(f, lines=True) if f.path in long_text else f for f in fields]
    form = Form(
        name=raw.get("name", "申报表"),
        sheet=raw.get("sheet", "申报表"),
        fields=tuple(fields),
        party=raw.get("party"),
        default_party=lead,
        unit=raw["unit"],
        title=raw["title"],
        group=group,
        notes=tuple(raw.get("notes") or ()),
        party_names=_party_names(parties),
        documents=documents,
        editable_in=tuple(editable),
        sections=dict(sections),
        long_text=tuple(long_text),
        online_notes=tuple(online) if online is not None else None,
    )
    return form, []


def _documents(raw: Any, problems: list[Msg]) -> tuple[Document, ...]:
    """``[form] documents``: each { id, zh, en, required, types, max_mb }, every problem listed."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(Msg("[form] documents must be a list of tables, not {given!r}", given=raw))
        return ()
    out: list[Document] = []
    seen: set[str] = set()
    for i, d in enumerate(raw):
        where = f"[form] documents[{i}]"
        if not isinstance(d, dict) or not all(isinstance(d.get(k), str) and d[k].strip() for k in ("id", "zh", "en")):
            problems.append(
                Msg("{where}: each document needs an id, a zh and an en label, not {given!r}", where=where, given=d)
            )
            continue
        where = f"[form] documents[{i}] {d['id']!r}"
        before = len(problems)
        unknown = sorted(set(d) - _DOCUMENT_KEYS)
        if unknown:
            problems.append(
                Msg(
                    "{where}: unknown keys {unknown} (keys: {keys})",
                    where=where,
                    unknown=Joined(unknown, ", "),
                    keys=Joined(sorted(_DOCUMENT_KEYS), ", "),
                )
            )
        if d["id"] in seen:
            problems.append(Msg("{where}: the id is declared twice", where=where))
        seen.add(d["id"])
        types = d.get("types", ["pdf", "jpeg", "png"])
        if not isinstance(types, list) or not types:
            problems.append(
                Msg("{where}: types must be a non-empty list of {kinds}", where=where, kinds=Joined(FILE_KINDS, ", "))
            )
            types = []
        bad = [t for t in types if t not in FILE_KINDS]
        if bad:
            problems.append(
                Msg(
                    "{where}: unknown types {types} (known: {kinds})",
                    where=where,
                    types=Joined(map(repr, bad), ", "),
                    kinds=Joined(FILE_KINDS, ", "),
                )
            )
        required = d.get("required", False)
        if not isinstance(required, bool):
            problems.append(Msg("{where}: required must be true or false", where=where))
        max_mb = d.get("max_mb", DEFAULT_MAX_MB)
        if not isinstance(max_mb, int) or isinstance(max_mb, bool) or not 0 < max_mb <= MAX_DOCUMENT_MB:
            problems.append(Msg("{where}: max_mb must be a whole number of megabytes from 1 to 200", where=where))
        if len(problems) == before:
            out.append(Document(d["id"], d["zh"], d["en"], required, tuple(types), max_mb))
    return tuple(out)


def _party_names(parties: Sequence[Party]) -> dict[str, str]:
    """Each party's id, name and short name (without 市 or 区, as the application template's
    reader takes them) -> its id."""
    out: dict[str, str] = {}
    for p in parties:
        for alias in (p.name.rstrip("市区"), p.name, p.id):
            if alias:
                out[alias] = p.id
    return out


def shown(f: FormField, value: Any) -> str:
    """A form value as a reader sees it: choices by their Chinese names, 是/否 for yes and no."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(f.choices.get(v, str(v)) for v in value) or "—"
    if value is None or value == "":
        return "—"
    return f.choices.get(value, str(value)) if f.choices else str(value)
