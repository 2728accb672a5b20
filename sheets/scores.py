"""The 附件2 score sheet as a spreadsheet: one city's pre-filled sheet, and reading it back.

The sheet 评分表 has one row per key-library project (its number, city, enterprise and name are
filled in), one column per criterion with its bands in the header, the project's completion
status and the scoring unit. The scoring city fills in the scores; `evalflow score import` then
records every row as that city's sheet, all or nothing, with the same band rules as `score`.
A row left wholly empty is skipped (scored later); a row filled in part is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from i18n import Joined, Msg
from policies.base import Criterion, Party
from sheets.files import FORMULA_START, Formula, label, read_tables
from workflow.errors import InvalidInput
from workflow.records import Project

SHEET = "评分表"
ID = "项目编号"
CITY = "所在城市"
ENTERPRISE = "企业名称"
NAME = "项目名称"
COMPLETION = "项目完成情况"
UNIT = "评分单位"
SCORER_CITY = "评分城市代码"


def criterion_header(c: Criterion) -> str:
    bands = " · ".join(f"{b.label} {b.min}-{b.max}" for b in c.bands)
    return f"{c.name}（{c.max}分：{bands}）"


def write_template(
    path: Path,
    city: Party,
    projects: Sequence[Project],
    criteria: Sequence[Criterion],
    cycle: str,
    parties: Sequence[Party],
) -> None:
    """The pre-filled sheet for ``city``: every key-library project, the criteria with band hints,
    whole-number validation inside each criterion's range, the scoring unit on every row."""
    import openpyxl
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    names = {p.id: p.name for p in parties}
    header = [ID, CITY, ENTERPRISE, NAME, *(criterion_header(c) for c in criteria), COMPLETION, UNIT, SCORER_CITY]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for p in projects:
        ws.append(
            [
                p.id,
                names.get(p.city, p.city),
                p.unit_name,
                p.project_name,
                *([None] * len(criteria)),
                None,
                city.unit,
                city.id,
            ]
        )
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                cell.data_type = "s"
    last = max(ws.max_row, 2)
    for i, c in enumerate(criteria):
        col = get_column_letter(5 + i)
        low, high = min(b.min for b in c.bands), max(b.max for b in c.bands)
        dv = DataValidation(type="whole", operator="between", formula1=str(low), formula2=str(high), allow_blank=True)
        dv.showErrorMessage = True  # Excel enforces the rule only when told to
        dv.showInputMessage = True
        dv.errorTitle = "分数不在范围内"
        dv.promptTitle = c.short or c.id
        dv.error = f"{c.name}: 请填写 {low}-{high} 之间、落在某一档内的整数"
        dv.prompt = " · ".join(f"{b.label} {b.min}-{b.max}" for b in c.bands)
        dv.add(f"{col}2:{col}{last}")
        ws.add_data_validation(dv)
    widths = [8, 10, 30, 30, *([22] * len(criteria)), 16, 16, 12]
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "E2"
    notes = wb.create_sheet("说明")
    for line in (
        [f"周期 {cycle}；评分单位 {city.unit}（{city.name}，代码 {city.id}）"],
        ["每个分项须为整数，且落在该项某一档的分数范围内；整行留空的项目本次不导入。"],
        ["填好后由本城市评分人员执行：evalflow --as 用户名 score import 本文件"],
    ):
        notes.append(line)
    notes.column_dimensions["A"].width = 100
    wb.save(path)


def read_scores(
    path: Path, criteria: Sequence[Criterion]
) -> tuple[str | None, list[tuple[Msg, int, dict[str, Any]]], int]:
    """The filled sheet: (the scoring city named in it, [(row label, project id, request)], rows
    skipped because left empty). Every bad row and column is reported at once."""
    tables = read_tables(Path(path))
    table = next((t for t in tables if t.name == SHEET), tables[0] if tables else None)
    if table is None or not table.header:
        raise InvalidInput(
            Msg("score sheet {file}", file=Path(path).name), [Msg("it has no sheet 评分表 with a header row")]
        )
    columns: dict[str, int] = {h: i for i, h in enumerate(table.header) if h}
    problems: list[Msg] = []
    crit_col: dict[str, int] = {}
    for c in criteria:
        found = next((i for h, i in columns.items() if h == c.id or h.startswith(c.name)), None)
        if found is None:
            problems.append(
                _problem(Msg("header"), Msg("missing the column of criterion {id} ({name})", id=c.id, name=c.name))
            )
        else:
            crit_col[c.id] = found
    if ID not in columns:
        problems.append(_problem(Msg("header"), Msg("missing the column {column}", column=ID)))
    if problems:
        raise InvalidInput(_refused(path), problems)
    cities: set[str] = set()
    items: list[tuple[Msg, int, dict[str, Any]]] = []
    skipped = 0
    seen: dict[int, int] = {}
    for number, row in table.rows:

        def cell(i: int | None, row: list[Any] = row) -> Any:
            return row[i] if i is not None and i < len(row) else None

        row_at = Msg("row {n}", n=number)
        raw_id = cell(columns[ID])
        values = {cid: cell(i) for cid, i in crit_col.items()}
        if raw_id in (None, "") and all(v in (None, "") for v in values.values()):
            continue
        try:
            pid = int(raw_id) if isinstance(raw_id, float) and raw_id.is_integer() else int(str(raw_id).strip())
        except ValueError:
            problems.append(_problem(_cell(row_at, ID), Msg("{value!r} is not a project number", value=raw_id)))
            continue
        where = label(Msg("{where} (project {id})", where=row_at, id=pid))
        if pid in seen:
            problems.append(_problem(where, Msg("the project is also on row {n}", n=seen[pid])))
            continue
        seen[pid] = number
        if all(v in (None, "") for v in values.values()):
            skipped += 1
            continue
        scores: dict[str, int] = {}
        for c in criteria:
            v = values[c.id]
            if isinstance(v, Formula):
                problems.append(
                    _problem(
                        _cell(where, c.id), Msg("holds a formula ({formula}); enter the score itself", formula=v[:30])
                    )
                )
            elif v in (None, ""):
                problems.append(
                    _problem(_cell(where, c.id), Msg("is empty; score every criterion or leave the whole row empty"))
                )
            elif isinstance(v, bool):
                problems.append(_problem(_cell(where, c.id), Msg("{value!r} is not a whole number", value=v)))
            elif isinstance(v, int) or (isinstance(v, float) and v.is_integer()):
                scores[c.id] = int(v)
            elif isinstance(v, str) and v.strip().isdecimal():
                scores[c.id] = int(v.strip())  # full-width digits (a Chinese input method) included
            else:
                problems.append(_problem(_cell(where, c.id), Msg("{value!r} is not a whole number", value=v)))
        city_value = cell(columns.get(SCORER_CITY))
        if city_value not in (None, ""):
            cities.add(str(city_value).strip())
        completion = cell(columns.get(COMPLETION))
        items.append(
            (where, pid, {"scores": scores, "completion": "" if completion is None else str(completion).strip()})
        )
    if len(cities) > 1:
        several = Msg("the sheet names several scoring cities: {cities}", cities=Joined(sorted(cities), ", "))
        problems.append(_problem(SCORER_CITY, several))
    if problems:
        raise InvalidInput(_refused(path), problems)
    return (next(iter(cities)) if cities else None), items, skipped


def _problem(where: Any, message: Msg) -> Msg:
    """A problem of the sheet, read ``[where] what``."""
    return Msg("[{where}] {message}", where=where, message=message)


def _cell(where: Msg, column: str) -> Msg:
    """A column of a row (``row 5 (project 12) C1``)."""
    return Msg("{where} {column}", where=where, column=column)


def _refused(path: Path) -> Msg:
    """What a refused sheet's problems are listed under."""
    return Msg("score sheet {file} (nothing was imported)", file=Path(path).name)
