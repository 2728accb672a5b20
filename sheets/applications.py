"""A program's application form as a spreadsheet: the template, and reading many applications.

Layout (XLSX): the form's sheet (e.g. 申报表) has one row per application, one column per
field of the program's ``[form]``, keyed by 申报序号; the form's group, if it has one (e.g.
团队成员), has a sheet with one row per member and the 申报序号 of its application. A CSV file is
the two joined: one row per member, the application's fields filled on its first row (later
rows of the same 申报序号 may leave them empty). JSON: a list of application objects (the
format of `project submit`), or {"applications": [...]}.
A row whose 申报序号 is 示例 is the template's example and is never imported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from i18n import Joined, Msg
from policies.base import Party
from sheets.files import Formula, Table, decode_text, label, read_tables, too_large, write_xlsx
from workflow.errors import InvalidInput, os_reason
from workflow.form import Form, FormField
from workflow.inputs import load_json, max_import_rows, rows_limit_message

KEY = "申报序号"
EXAMPLE = "示例"
TRUE = {"是", "true", "yes", "y", "1", "✓", "√", "对"}
FALSE = {"否", "false", "no", "n", "0", "×", "不是", ""}


def application_columns(form: Form) -> list[str]:
    return [KEY, *(f.zh for f in form.fields)]


def team_columns(form: Form) -> list[str]:
    """The group sheet's columns (only 申报序号 when the form has no group)."""
    g = form.group
    return [KEY, *(f.zh for f in g.fields), *(f.zh for f in g.flags)] if g else [KEY]


def _aliases(form: Form) -> dict[str, str]:
    """Header text → canonical Chinese header; the English field path is accepted too."""
    out = {KEY: KEY, "ref": KEY, "no": KEY}
    for f in form.fields:
        out[f.zh] = f.zh
        out[f.path] = f.zh
    if form.group:
        for f in (*form.group.fields, *form.group.flags):
            out[f.zh] = f.zh
            out[f"{form.group.key}.{f.name}"] = f.zh
    return out


# ------------------------------------------------------------------------------------------ template
def write_template(path: Path, form: Form, example: Mapping[str, Any] | None = None) -> None:
    """A blank XLSX with the exact columns, Chinese headers, an example row and a sheet of notes."""
    example_rows: list[list[Any]] = []
    members: list[list[Any]] = []
    if example:
        example_rows.append(flat_row(form, example, EXAMPLE))
        members = team_rows(form, example, EXAMPLE)
    g = form.group
    one = f"每个申报在「{form.sheet}」中占一行，以「申报序号」（1、2、3……）标识"
    notes = [[one + (f"；{g.zh}在「{g.sheet}」中逐行填写，用同一申报序号关联。" if g else "。")]]
    notes.append(["申报序号为「示例」的行是填写示例，不会被导入，可保留或删除。"])
    notes += [[n] for n in form.notes]
    for f in (*form.fields, *(g.fields if g else ())):
        if f.choices:
            notes.append(
                [
                    f"{f.zh}{'可填多项，用顿号分隔' if f.kind == 'list' else '填写其一'}："
                    + "、".join(f.choices.values())
                ]
            )
    notes.append(["同一文件重复导入不会重复申报；任何一行有误则整个文件都不导入，并列出每一处错误。"])
    sheets = [(form.sheet, application_columns(form), example_rows)]
    if g:
        sheets.append((g.sheet, team_columns(form), members))
    write_xlsx(path, [*sheets, ("填表说明", ["说明"], notes)])


def _flat_value(app: Mapping[str, Any], f: FormField) -> Any:
    value = f.get(app)
    if f.kind == "list" and isinstance(value, list):
        return "、".join(f.choices.get(v, v) for v in value)
    if f.kind == "choice" and isinstance(value, str):
        return f.choices.get(value, value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def flat_row(form: Form, app: Mapping[str, Any], ref: Any) -> list[Any]:
    """One application as a row of the form's sheet (for exports and tests)."""
    return [ref, *(_flat_value(app, f) for f in form.fields)]


def team_rows(form: Form, app: Mapping[str, Any], ref: Any) -> list[list[Any]]:
    """The application's group members as rows of the group's sheet."""
    g = form.group
    if g is None:
        return []
    return [
        [ref, *(_flat_value(m, f) for f in g.fields), *("是" if m.get(f.name) else "否" for f in g.flags)]
        for m in app.get(g.key, [])
    ]


# ------------------------------------------------------------------------------------------ reading
def row_label(number: int, sheet: str = "") -> Msg:
    """Where a row is, in the reader's language (``申报表 row 5``; ``row 5`` in a CSV file)."""
    return Msg("{sheet} row {n}", sheet=sheet, n=number) if sheet else Msg("row {n}", n=number)


def cell_label(where: Any, column: str) -> Msg:
    """A column of a row (``申报表 row 5 项目名称``)."""
    return Msg("{where} {column}", where=where, column=column)


class _Problems(list):
    """The problems of a file, each a message read ``[where] what``."""

    def add(self, where: Any, message: Any) -> None:
        self.append(Msg("[{where}] {message}", where=where, message=message))


def read_applications(path: Path, form: Form, parties: Sequence[Party]) -> list[tuple[Any, dict[str, Any]]]:
    """Every application of the file as (a label naming its rows, the application), or raise
    InvalidInput listing every bad row and column. Completeness and eligibility are checked later
    by the engine, with the same labels."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return _read_json(path)
    tables = read_tables(path)
    problems = _Problems()
    reader = _Reader(form, parties, problems)
    if path.suffix.lower() == ".xlsx":
        apps_table = reader.find(tables, form.sheet, application_columns(form)[1], path)
        team_table = None
        if form.group is not None:
            team_table = reader.find(tables, form.group.sheet, team_columns(form)[1], path, required=False)
        found = reader.applications(apps_table, team_table)  # type: ignore[arg-type]
    else:
        found = reader.applications(tables[0], tables[0], joined=True)
    if problems:
        raise InvalidInput(Msg("applications in {file} (nothing was imported)", file=path.name), problems)
    if not found:
        raise InvalidInput(Msg("applications in {file}", file=path.name), [Msg("the file holds no application")])
    return found


class _Reader:
    """Reads rows of one form's sheets; problems are gathered, never raised one by one."""

    def __init__(self, form: Form, parties: Sequence[Party], problems: _Problems):
        self.form, self.parties, self.problems = form, parties, problems
        self.aliases = _aliases(form)

    def find(self, tables: list[Table], name: str, marker: str, path: Path, required: bool = True) -> Table | None:
        for t in tables:
            if t.name == name:
                return t
        for t in tables:  # a renamed sheet is recognised by its columns
            if marker in {self.aliases.get(h, h) for h in t.header}:
                return t
        if required:
            raise InvalidInput(
                Msg("file {file}", file=path.name),
                [
                    Msg(
                        "it has no sheet {name} (sheets: {sheets})",
                        name=name,
                        sheets=Joined([t.name for t in tables], ", "),
                    )
                ],
            )
        return None

    def columns(self, table: Table, wanted: list[str], what: Any) -> dict[str, str]:
        """Map the table's headers to canonical ones; a missing or unknown column is a problem."""
        mapping: dict[str, str] = {}
        for h in table.header:
            if not h:
                continue
            canon = self.aliases.get(h) or self.aliases.get(h.replace(" ", ""))
            if canon is None:
                self.problems.add(
                    Msg("{sheet} column '{column}'", sheet=what, column=h),
                    Msg("is not a {form} column (see `evalflow template application`)", form=self.form.name),
                )
            elif canon in mapping.values():
                self.problems.add(Msg("{sheet} column '{column}'", sheet=what, column=h), Msg("appears twice"))
            else:
                mapping[h] = canon
        missing = [c for c in wanted if c not in mapping.values()]
        if missing:
            self.problems.add(what, Msg("missing columns: {columns}", columns=Joined(missing, ", ")))
        return mapping

    def applications(
        self, apps_table: Table, team_table: Table | None, joined: bool = False
    ) -> list[tuple[Any, dict[str, Any]]]:
        form, problems, group = self.form, self.problems, self.form.group
        group_sheet = group.sheet if group else ""
        sheet = "" if joined else apps_table.name
        app_map = self.columns(apps_table, application_columns(form), sheet or Msg("header"))
        if joined:
            team_map = app_map
            missing_team = [c for c in team_columns(form) if c not in app_map.values()]
            if missing_team:
                problems.add(Msg("header"), Msg("missing columns: {columns}", columns=Joined(missing_team, ", ")))
        else:
            team_map = self.columns(team_table, team_columns(form), group_sheet) if team_table else {}
        if problems:
            return []
        by_ref: dict[str, tuple[int, dict[str, Any]]] = {}
        order: list[str] = []
        members: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for number, record in apps_table.records():
            row = {app_map[h]: v for h, v in record.items() if h in app_map}
            where = row_label(number, sheet)
            if isinstance(row.get(KEY), Formula):
                problems.add(
                    cell_label(where, KEY),
                    Msg("holds a formula ({formula}); enter the number itself", formula=row[KEY][:40]),
                )
                continue
            ref = _text(row.get(KEY))
            if ref == EXAMPLE:
                continue
            if not ref:
                problems.add(where, Msg("{column} is empty", column=KEY))
                continue
            if ref in by_ref:
                if not joined:
                    problems.add(
                        where,
                        Msg(
                            "{column} {ref} is used twice (rows {first} and {then})",
                            column=KEY,
                            ref=ref,
                            first=by_ref[ref][0],
                            then=number,
                        ),
                    )
                    continue
                first = by_ref[ref][1]
                for zh in application_columns(form)[1:]:
                    v = row.get(zh)
                    if v not in (None, "") and _text(v) != _text(first.get(zh)):
                        problems.add(
                            cell_label(where, zh),
                            Msg(
                                "differs from row {first} of the same {column} {ref}",
                                first=by_ref[ref][0],
                                column=KEY,
                                ref=ref,
                            ),
                        )
            else:
                by_ref[ref] = (number, row)
                order.append(ref)
            if joined and group and any(_text(row.get(f.zh)) for f in group.fields):
                members.setdefault(ref, []).append((number, row))  # a blank 姓名 is reported as missing
        if not joined and team_table is not None:
            for number, record in team_table.records():
                row = {team_map[h]: v for h, v in record.items() if h in team_map}
                if isinstance(row.get(KEY), Formula):
                    problems.add(
                        cell_label(row_label(number, group_sheet), KEY), Msg("holds a formula; enter the number itself")
                    )
                    continue
                ref = _text(row.get(KEY))
                if ref == EXAMPLE:
                    continue
                if ref not in by_ref:
                    problems.add(
                        row_label(number, group_sheet),
                        Msg(
                            "{column} {ref} is not in {sheet}",
                            column=KEY,
                            ref=ref or Msg("(empty)"),
                            sheet=form.sheet,
                        ),
                    )
                    continue
                members.setdefault(ref, []).append((number, row))
        out: list[tuple[Any, dict[str, Any]]] = []
        for ref in order:
            number, row = by_ref[ref]
            app = self.values(form.fields, row, row_label(number, sheet))
            if group is not None:
                rows = []
                for m_number, m in members.get(ref, []):
                    where = row_label(m_number, "" if joined else group_sheet)
                    member = self.values(group.fields, m, where, flat=True)
                    for flag in group.flags:
                        member[flag.name] = _bool(m.get(flag.zh), where, flag.zh, problems)
                    rows.append(member)
                app[group.key] = rows
            rows_label = row_label(number, sheet)
            if members.get(ref):
                rows_label = Msg("{where} ({column} {ref})", where=rows_label, column=KEY, ref=ref)
            out.append((label(rows_label), app))
        return out

    def values(
        self, fields: Sequence[FormField], row: Mapping[str, Any], where: Any, flat: bool = False
    ) -> dict[str, Any]:
        """The fields' values of one row, converted by kind; ``flat``: a group row (no sections)."""
        problems = self.problems
        app: dict[str, Any] = {}
        for f in fields:
            raw = row.get(f.zh)
            if isinstance(raw, Formula):
                problems.add(
                    cell_label(where, f.zh),
                    Msg("holds a formula ({formula}); enter the value itself", formula=raw[:40]),
                )
                continue
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                # reported as missing by the engine's completeness check; a blank list is an empty one
                value: Any = [] if f.kind == "list" else None
            elif f.kind == "date":
                value = _date(raw, where, f.zh, problems)
            elif f.kind in ("int", "number"):
                value = _int(raw, where, f.zh, problems) if f.kind == "int" else _number(raw, where, f.zh, problems)
            elif f.kind == "bool":
                value = _bool(raw, where, f.zh, problems)
            elif f.kind in ("list", "choice"):
                value = _choices(raw, f, where, problems)
            elif f.kind == "party":
                value = _city(raw, where, f.zh, self.parties, problems)
            else:
                value = _text(raw)
            if flat or not f.section:
                app[f.name] = value
            else:
                holder = app
                for part in f.section.split("."):
                    holder = holder.setdefault(part, {})
                holder[f.name] = value
        return app


def _text(value: Any, where: Any = "", zh: str = "", problems: _Problems | None = None) -> str:
    if isinstance(value, Formula) and problems is not None:
        problems.add(
            cell_label(where, zh), Msg("holds a formula ({formula}); enter the value itself", formula=value[:40])
        )
        return ""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


def _date(raw: Any, where: Any, zh: str, problems: _Problems) -> str | None:
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    m = _DATE.match(str(raw))
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        except ValueError:
            pass
    problems.add(cell_label(where, zh), Msg("{value!r} is not a date (YYYY-MM-DD)", value=raw))
    return None


def _int(raw: Any, where: Any, zh: str, problems: _Problems) -> int | None:
    if isinstance(raw, bool):
        problems.add(cell_label(where, zh), Msg("{value!r} is not a whole number", value=raw))
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    text = str(raw).strip().removesuffix("人").removesuffix("名")
    if text.isdecimal():
        return int(text)
    problems.add(cell_label(where, zh), Msg("{value!r} is not a whole number", value=raw))
    return None


def _bool(raw: Any, where: Any, zh: str, problems: _Problems) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, Formula):
        problems.add(cell_label(where, zh), Msg("holds a formula ({formula}); enter 是 or 否", formula=raw[:40]))
        return False
    text = _text(raw).lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    problems.add(cell_label(where, zh), Msg("{value!r} must be 是 or 否", value=raw))
    return False


def _number(raw: Any, where: Any, zh: str, problems: _Problems) -> float | int | None:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return raw
    text = str(raw).strip().removesuffix("%")
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        problems.add(cell_label(where, zh), Msg("{value!r} is not a number", value=raw))
        return None


def _choices(raw: Any, f: FormField, where: Any, problems: _Problems) -> list[str] | str | None:
    """A list field's codes (several, separated by 、 , ; /) or a choice field's one code; each
    given as its code or its Chinese name."""
    by_label = {label: code for code, label in f.choices.items()}
    out: list[str] = []
    for part in re.split(r"[、,，;；/\n]+", _text(raw)) if f.kind == "list" else [_text(raw)]:
        part = part.strip()
        if not part:
            continue
        code = part if part in f.choices or not f.choices else by_label.get(part)
        if code is None:
            problems.add(
                cell_label(where, f.zh),
                Msg("{value!r} is not one of: {choices}", value=part, choices=Joined(f.choices.values(), "、")),
            )
        elif code not in out:
            out.append(code)
    if f.kind == "choice":
        return out[0] if out else None
    return out


def _city(raw: Any, where: Any, zh: str, parties: Sequence[Party], problems: _Problems) -> str | None:
    text = _text(raw)
    for p in parties:
        if text in (p.id, p.name, p.name.rstrip("市区")):
            return p.id
    problems.add(
        cell_label(where, zh),
        Msg(
            "{value!r} is not a city of the program ({cities})",
            value=text,
            cities=Joined([p.name for p in parties], "、"),
        ),
    )
    return None


def _read_json(path: Path) -> list[tuple[Any, dict[str, Any]]]:
    too_large(path, path.stat().st_size if path.exists() else 0)
    what = Msg("file {file}", file=str(path))
    try:
        # (parsed with bounds: nesting, numbers, and the tables and lists the row limit allows)
        data = load_json(decode_text(path.read_bytes(), what), what)
    except OSError as exc:
        raise InvalidInput(what, [Msg("cannot be read: {why}", why=os_reason(exc))]) from None
    if isinstance(data, dict) and isinstance(data.get("applications"), list):
        data = data["applications"]
    if not isinstance(data, list) or not all(isinstance(a, dict) for a in data):
        raise InvalidInput(
            what, [Msg("expected a list of application objects, or {example}", example='{"applications": [...]}')]
        )
    limit = max_import_rows()
    if len(data) > limit:
        raise InvalidInput(what, [rows_limit_message(limit)])
    return [(label(Msg("application {n}", n=i)), a) for i, a in enumerate(data, start=1)]
