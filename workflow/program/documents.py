"""A program file's ``[documents]``: the documents a cycle's results go out as, and their templates.

Four kinds, each made from the cycle's published results (workflow/engine/documents.py): the
public notice (公示), the official list (正式名单), each applicant's decision letter (评审结果通知书)
and the certificate of each named project (命名授牌证书). Each kind is a Word template (``.docx``,
filled by docxtpl: the office restyles it in Word or WPS) and an HTML one (``.html``, drawn to PDF
by WeasyPrint), named without their suffix, relative to the program file's folder (where they are not there, to
the shipped programs/: a program file copied elsewhere keeps the shipped templates)::

    [documents]
    issuer = "某某联席会议办公室"               # who issues them (default: the lead's unit)
    notice_days = 5                           # the notice's days where no rule gives them
    named = "命名项目"                          # a named project, where the program has no list
    named_states = ["awarded"]                # the states a project is named in (no list)
    public_fields = ["plan.targets"]          # what the public page shows of each named project:
    public_records = ["progress"]             # its application's fields, its record's entries
    [documents.templates]
    notice = "templates/notice"               # templates/notice.docx and templates/notice.html

A kind the file does not name is the shipped default (programs/templates/KIND).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from i18n import Joined, Msg, Text

KINDS = ("notice", "list", "letter", "certificate")
FORMATS = ("docx", "pdf")
# the template's file of each format: Word's, or the HTML drawn to PDF
SUFFIX = {"docx": ".docx", "pdf": ".html"}
# what each kind is called, as a message names it
KIND_WORDS = {
    "notice": Text("notice", "公示"),
    "list": Text("official list", "正式名单"),
    "letter": Text("decision letter", "评审结果通知书"),
    "certificate": Text("certificate", "命名授牌证书"),
}
SHIPPED = Path(__file__).resolve().parent.parent.parent / "programs"
NOTICE_DAYS = 5  # a public notice's days where neither the file nor a rule says


@dataclass(frozen=True)
class DocumentSettings:
    """``[documents]``: who issues the documents (empty: the lead's unit), the notice's days
    (None: the program's notice_over rule, else NOTICE_DAYS), what a named project of a program
    without list categories is called and the states it is named in (empty: its award's), and
    each kind's template (its path without a suffix)."""

    issuer: str = ""
    notice_days: int | None = None
    named: str = ""
    templates: Mapping[str, Path] = field(default_factory=dict)
    named_states: tuple[str, ...] = ()
    # what the public pages show of each named project besides its name (the rules may ask a
    # holder to publish its targets and its progress): fields of its application, and the
    # actions whose entries in its record are shown (a program without a list)
    public_fields: tuple[str, ...] = ()
    public_records: tuple[str, ...] = ()

    def template(self, kind: str, fmt: str) -> Path:
        """The file of ``kind``'s template in ``fmt`` (docx, pdf)."""
        return self.templates.get(kind, SHIPPED / "templates" / kind).with_suffix(SUFFIX[fmt])


def read_documents(
    table: Mapping[str, Any],
    path: Path | None,
    states: Sequence[str],
    fields: Collection[str] = (),
    actions: Collection[str] = (),
) -> tuple[DocumentSettings, list[Msg]]:
    """The settings of ``[documents]`` (``path``: the program file, whose folder the templates are
    named from; ``states``, ``fields``, ``actions``: the program's states, its form's fields and its
    actions), and every problem of the table: an unknown key, a wrong value, a missing file."""
    problems: list[Msg] = []
    known = ("issuer", "notice_days", "named", "named_states", "public_fields", "public_records", "templates")
    for key in sorted(set(table) - set(known)):
        problems.append(Msg("[documents] {key!r} is not a setting ({settings})", key=key, settings=Joined(known, ", ")))
    issuer, named = table.get("issuer", ""), table.get("named", "")
    for key, value in (("issuer", issuer), ("named", named)):
        if not isinstance(value, str):
            problems.append(Msg("[documents] {key} = {value!r} must be text", key=key, value=value))
    days = table.get("notice_days")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 60):
        problems.append(Msg("[documents] notice_days = {value!r} must be a whole number of days, 1 to 60", value=days))
        days = None
    named_states = table.get("named_states", [])
    if not isinstance(named_states, list) or any(s not in states for s in named_states):
        problems.append(Msg("[documents] named_states = {value!r} must list states of the program", value=named_states))
        named_states = []
    shown: dict[str, tuple[str, ...]] = {}
    for key in ("public_fields", "public_records"):
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            problems.append(Msg("[documents] {key} = {value!r} must list names", key=key, value=value))
            value = []
        shown[key] = tuple(value)
    for name in shown["public_fields"]:
        if name not in fields:
            problems.append(Msg("[documents] public_fields names {name!r}, no field of the form", name=name))
    for name in shown["public_records"]:
        if name not in actions:
            problems.append(Msg("[documents] public_records names {name!r}, no action of the program", name=name))
    given = table.get("templates", {})
    if not isinstance(given, dict):
        problems.append(Msg("[documents.templates] must be a table, not {given!r}", given=given))
        given = {}
    folder = path.parent if path is not None else SHIPPED
    templates: dict[str, Path] = {}
    for kind, name in given.items():
        if kind not in KINDS:
            kinds = Joined(KINDS, ", ")
            problems.append(Msg("[documents.templates] {kind!r} is not a document ({kinds})", kind=kind, kinds=kinds))
            continue
        if not isinstance(name, str) or not name.strip():
            problems.append(Msg("[documents.templates] {kind} = {value!r} must name a file", kind=kind, value=name))
            continue
        # (beside the file, else shipped: a program file copied elsewhere keeps the defaults)
        here, shipped = (folder / name).resolve(), (SHIPPED / name).resolve()
        found = [p for p in (here, shipped) if all(p.with_suffix(x).is_file() for x in SUFFIX.values())]
        templates[kind] = found[0] if found else here
    settings = DocumentSettings(
        issuer if isinstance(issuer, str) else "",
        days,
        named if isinstance(named, str) else "",
        templates,
        tuple(named_states),
        shown["public_fields"],
        shown["public_records"],
    )
    for kind in templates:
        for fmt in FORMATS:
            file = settings.template(kind, fmt)
            if not file.is_file():
                problems.append(
                    Msg(
                        "[documents.templates] {kind}: the {fmt} template {file} does not exist",
                        kind=kind,
                        fmt=fmt,
                        file=str(file),
                    )
                )
    return settings, problems
