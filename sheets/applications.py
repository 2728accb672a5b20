"""The 附件1 application form as a spreadsheet: the template, and reading many applications.

Layout (XLSX): sheet 申报表 has one row per application, one column per 附件1 field, keyed by
申报序号; sheet 团队成员 has one row per team member with the 申报序号 of its application. A CSV
file is the two joined: one row per team member, the application's fields filled on its first
row (later rows of the same 申报序号 may leave them empty). JSON: a list of application objects
(the format of `project submit`), or {"applications": [...]}.
A row whose 申报序号 is 示例 is the template's example and is never imported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from policies.base import Party
from sheets.files import Formula, Table, decode_text, read_tables, too_large, write_xlsx
from workflow.application import FIELDS, TEAM_FIELDS
from workflow.errors import InvalidInput

KEY = "申报序号"
EXAMPLE = "示例"
APPLICATIONS_SHEET = "申报表"
TEAM_SHEET = "团队成员"
TEAM_FLAGS = (("lead", "项目负责人"), ("main_rd", "主要研发人员"))
EVIDENCE = {
    "municipal_recognition": "市级及以上认可",
    "high_tech_enterprise": "高新技术企业",
    "specialized_new": "专精特新",
    "hidden_champion": "隐形冠军",
    "single_item_champion": "单项冠军",
}
TRUE = {"是", "true", "yes", "y", "1", "✓", "√", "对"}
FALSE = {"否", "false", "no", "n", "0", "×", "不是", ""}


def application_columns() -> list[str]:
    return [KEY, *(zh for _, _, zh, _ in FIELDS)]


def team_columns() -> list[str]:
    return [KEY, *(zh for _, zh, _ in TEAM_FIELDS), *(zh for _, zh in TEAM_FLAGS)]


def _aliases() -> dict[str, str]:
    """Header text → canonical Chinese header; the English field path is accepted too."""
    out = {KEY: KEY, "ref": KEY, "no": KEY}
    for section, name, zh, _ in FIELDS:
        out[zh] = zh
        out[f"{section}.{name}" if section else name] = zh
    for name, zh, _ in TEAM_FIELDS:
        out[zh] = zh
        out[f"team.{name}"] = zh
    for name, zh in TEAM_FLAGS:
        out[zh] = zh
        out[f"team.{name}"] = zh
    return out


# ------------------------------------------------------------------------------------------ template
def write_template(path: Path, example: Mapping[str, Any] | None = None) -> None:
    """A blank XLSX with the exact columns, Chinese headers, an example row and a sheet of notes."""
    example_rows: list[list[Any]] = []
    team_rows: list[list[Any]] = []
    if example:
        example_rows.append([EXAMPLE, *(_flat_value(example, section, name) for section, name, _, _ in FIELDS)])
        for m in example.get("team", []):
            team_rows.append(
                [
                    EXAMPLE,
                    *(m.get(name, "") for name, _, _ in TEAM_FIELDS),
                    *("是" if m.get(name) else "否" for name, _ in TEAM_FLAGS),
                ]
            )
    notes = [
        [
            "每个申报项目在「申报表」中占一行，以「申报序号」（1、2、3……）标识；团队成员在「团队成员」中逐人填写，用同一申报序号关联。"
        ],
        ["申报序号为「示例」的行是填写示例，不会被导入，可保留或删除。"],
        ["日期填写为 YYYY-MM-DD（如 2027-01-15）；是否类栏目填「是」或「否」。"],
        ["所在城市填写城市名称（如 合肥市）或代码（如 hefei）。"],
        ["成果佐证可填多项，用顿号分隔：" + "、".join(EVIDENCE.values())],
        ["项目负责人和主要研发人员应为中共党员或中共预备党员。"],
        ["同一文件重复导入不会重复申报；任何一行有误则整个文件都不导入，并列出每一处错误。"],
    ]
    write_xlsx(
        path,
        [
            (APPLICATIONS_SHEET, application_columns(), example_rows),
            (TEAM_SHEET, team_columns(), team_rows),
            ("填表说明", ["说明"], notes),
        ],
    )


def _flat_value(app: Mapping[str, Any], section: str, name: str) -> Any:
    holder = app.get(section, {}) if section else app
    value = holder.get(name) if isinstance(holder, Mapping) else None
    if name == "evidence" and isinstance(value, list):
        return "、".join(EVIDENCE.get(v, v) for v in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def flat_row(app: Mapping[str, Any], ref: Any) -> list[Any]:
    """One application as a 申报表 row (for exports and tests)."""
    return [ref, *(_flat_value(app, section, name) for section, name, _, _ in FIELDS)]


def team_rows(app: Mapping[str, Any], ref: Any) -> list[list[Any]]:
    return [
        [
            ref,
            *(m.get(name, "") for name, _, _ in TEAM_FIELDS),
            *("是" if m.get(name) else "否" for name, _ in TEAM_FLAGS),
        ]
        for m in app.get("team", [])
    ]


# ------------------------------------------------------------------------------------------ reading
class _Problems(list):
    def add(self, where: str, message: str) -> None:
        self.append(f"[{where}] {message}")


def read_applications(path: Path, parties: Sequence[Party]) -> list[tuple[str, dict[str, Any]]]:
    """Every application of the file as (a label naming its rows, the application), or raise
    InvalidInput listing every bad row and column. Completeness and eligibility are checked later
    by the engine, with the same labels."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return _read_json(path)
    tables = read_tables(path)
    problems = _Problems()
    if path.suffix.lower() == ".xlsx":
        apps_table = _find(tables, APPLICATIONS_SHEET, application_columns()[1], path)
        team_table = _find(tables, TEAM_SHEET, team_columns()[1], path, required=False)
        found = _applications(apps_table, team_table, parties, problems)
    else:
        found = _applications(tables[0], tables[0], parties, problems, joined=True)
    if problems:
        raise InvalidInput(f"applications in {path.name} (nothing was imported)", problems)
    if not found:
        raise InvalidInput(f"applications in {path.name}", ["the file holds no application"])
    return found


def _find(tables: list[Table], name: str, marker: str, path: Path, required: bool = True) -> Table | None:
    aliases = _aliases()
    for t in tables:
        if t.name == name:
            return t
    for t in tables:  # a renamed sheet is recognised by its columns
        if marker in {aliases.get(h, h) for h in t.header}:
            return t
    if required:
        raise InvalidInput(
            f"file {path.name}", [f"it has no sheet {name} (sheets: {', '.join(t.name for t in tables)})"]
        )
    return None


def _columns(table: Table, wanted: list[str], problems: _Problems, what: str) -> dict[str, str]:
    """Map the table's headers to canonical ones; a missing or unknown column is a problem."""
    aliases = _aliases()
    mapping: dict[str, str] = {}
    for h in table.header:
        if not h:
            continue
        canon = aliases.get(h) or aliases.get(h.replace(" ", ""))
        if canon is None:
            problems.add(f"{what} column '{h}'", "is not a 附件1 column (see `evalflow template application`)")
        elif canon in mapping.values():
            problems.add(f"{what} column '{h}'", "appears twice")
        else:
            mapping[h] = canon
    missing = [c for c in wanted if c not in mapping.values()]
    if missing:
        problems.add(f"{what}", "missing columns: " + ", ".join(missing))
    return mapping


def _applications(
    apps_table: Table,
    team_table: Table | None,
    parties: Sequence[Party],
    problems: _Problems,
    joined: bool = False,
) -> list[tuple[str, dict[str, Any]]]:
    label = "" if joined else f"{apps_table.name} "
    app_map = _columns(apps_table, application_columns(), problems, label.strip() or "header")
    if joined:
        team_map = app_map
        missing_team = [c for c in team_columns() if c not in app_map.values()]
        if missing_team:
            problems.add("header", "missing columns: " + ", ".join(missing_team))
    else:
        team_map = _columns(team_table, team_columns(), problems, TEAM_SHEET) if team_table else {}
    if problems:
        return []
    by_ref: dict[str, tuple[int, dict[str, Any]]] = {}
    order: list[str] = []
    members: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for number, record in apps_table.records():
        row = {app_map[h]: v for h, v in record.items() if h in app_map}
        where = f"{label}row {number}"
        if isinstance(row.get(KEY), Formula):
            problems.add(f"{where} {KEY}", f"holds a formula ({row[KEY][:40]}); enter the number itself")
            continue
        ref = _text(row.get(KEY))
        if ref == EXAMPLE:
            continue
        if not ref:
            problems.add(where, f"{KEY} is empty")
            continue
        if ref in by_ref:
            if not joined:
                problems.add(where, f"{KEY} {ref} is used twice (rows {by_ref[ref][0]} and {number})")
                continue
            first = by_ref[ref][1]
            for zh in application_columns()[1:]:
                v = row.get(zh)
                if v not in (None, "") and _text(v) != _text(first.get(zh)):
                    problems.add(f"{where} {zh}", f"differs from row {by_ref[ref][0]} of the same {KEY} {ref}")
        else:
            by_ref[ref] = (number, row)
            order.append(ref)
        if joined and any(_text(row.get(zh)) for _, zh, _ in TEAM_FIELDS):
            members.setdefault(ref, []).append((number, row))  # a blank 姓名 is reported as missing
    if not joined and team_table is not None:
        for number, record in team_table.records():
            row = {team_map[h]: v for h, v in record.items() if h in team_map}
            if isinstance(row.get(KEY), Formula):
                problems.add(f"{TEAM_SHEET} row {number} {KEY}", "holds a formula; enter the number itself")
                continue
            ref = _text(row.get(KEY))
            if ref == EXAMPLE:
                continue
            if ref not in by_ref:
                problems.add(f"{TEAM_SHEET} row {number}", f"{KEY} {ref or '(empty)'} is not in {APPLICATIONS_SHEET}")
                continue
            members.setdefault(ref, []).append((number, row))
    out: list[tuple[str, dict[str, Any]]] = []
    for ref in order:
        number, row = by_ref[ref]
        app = _application(row, f"{label}row {number}", parties, problems)
        team = []
        for m_number, m in members.get(ref, []):
            where = f"{TEAM_SHEET + ' ' if not joined else ''}row {m_number}"
            member = {name: _text(m.get(zh), where, zh, problems) for name, zh, _ in TEAM_FIELDS}
            for name, zh in TEAM_FLAGS:
                member[name] = _bool(m.get(zh), where, zh, problems)
            team.append(member)
        app["team"] = team
        rows = f"{label}row {number}" if not members.get(ref) else f"{label}row {number} ({KEY} {ref})"
        out.append((rows, app))
    return out


def _application(row: Mapping[str, Any], where: str, parties: Sequence[Party], problems: _Problems) -> dict[str, Any]:
    app: dict[str, Any] = {}
    for section, name, zh, kind in FIELDS:
        raw = row.get(zh)
        if isinstance(raw, Formula):
            problems.add(f"{where} {zh}", f"holds a formula ({raw[:40]}); enter the value itself")
            continue
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            # reported as missing by the engine's completeness check; a blank list is an empty one
            value: Any = [] if kind == "list" else None
        elif kind == "date":
            value = _date(raw, where, zh, problems)
        elif kind == "int":
            value = _int(raw, where, zh, problems)
        elif kind == "bool":
            value = _bool(raw, where, zh, problems)
        elif kind == "list":
            value = _evidence(raw, where, zh, problems)
        elif (section, name) == ("enterprise", "city"):
            value = _city(raw, where, zh, parties, problems)
        else:
            value = _text(raw)
        holder = app.setdefault(section, {}) if section else app
        holder[name] = value
    return app


def _text(value: Any, where: str = "", zh: str = "", problems: _Problems | None = None) -> str:
    if isinstance(value, Formula) and problems is not None:
        problems.add(f"{where} {zh}", f"holds a formula ({value[:40]}); enter the value itself")
        return ""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


def _date(raw: Any, where: str, zh: str, problems: _Problems) -> str | None:
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
    problems.add(f"{where} {zh}", f"{raw!r} is not a date (YYYY-MM-DD)")
    return None


def _int(raw: Any, where: str, zh: str, problems: _Problems) -> int | None:
    if isinstance(raw, bool):
        problems.add(f"{where} {zh}", f"{raw!r} is not a whole number")
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    text = str(raw).strip().removesuffix("人").removesuffix("名")
    if text.isdigit():
        return int(text)
    problems.add(f"{where} {zh}", f"{raw!r} is not a whole number")
    return None


def _bool(raw: Any, where: str, zh: str, problems: _Problems) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, Formula):
        problems.add(f"{where} {zh}", f"holds a formula ({raw[:40]}); enter 是 or 否")
        return False
    text = _text(raw).lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    problems.add(f"{where} {zh}", f"{raw!r} must be 是 or 否")
    return False


def _evidence(raw: Any, where: str, zh: str, problems: _Problems) -> list[str]:
    by_label = {label: code for code, label in EVIDENCE.items()}
    out: list[str] = []
    for part in re.split(r"[、,，;；/\n]+", _text(raw)):
        part = part.strip()
        if not part:
            continue
        code = part if part in EVIDENCE else by_label.get(part)
        if code is None:
            problems.add(f"{where} {zh}", f"{part!r} is not one of: " + "、".join(EVIDENCE.values()))
        elif code not in out:
            out.append(code)
    return out


def _city(raw: Any, where: str, zh: str, parties: Sequence[Party], problems: _Problems) -> str | None:
    text = _text(raw)
    for p in parties:
        if text in (p.id, p.name, p.name.rstrip("市区")):
            return p.id
    problems.add(f"{where} {zh}", f"{text!r} is not a city of the program ({'、'.join(p.name for p in parties)})")
    return None


def _read_json(path: Path) -> list[tuple[str, dict[str, Any]]]:
    too_large(path, path.stat().st_size if path.exists() else 0)
    try:
        data = json.loads(decode_text(path.read_bytes(), f"file {path}"))
    except OSError as exc:
        raise InvalidInput(f"file {path}", [f"cannot be read: {exc.strerror}"]) from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"file {path}", [f"not valid JSON: {exc}"]) from None
    if isinstance(data, dict) and isinstance(data.get("applications"), list):
        data = data["applications"]
    if not isinstance(data, list) or not all(isinstance(a, dict) for a in data):
        raise InvalidInput(f"file {path}", ['expected a list of application objects, or {"applications": [...]}'])
    return [(f"application {i}", a) for i, a in enumerate(data, start=1)]
