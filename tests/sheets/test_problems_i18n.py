"""A refused workbook's problems read in the reader's language: in Chinese on the console (第5行,
公式, 日期格式 YYYY-MM-DD), and word for word as before in English (the tests and scripts read it)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

import i18n
from sheets.applications import KEY, application_columns, flat_row, read_applications, team_columns, team_rows
from sheets.files import label
from tests.conftest import FORM, PROGRAM, make_app
from workflow.errors import InvalidInput
from workflow.program import ProgramRegistry

COL = {name: i for i, name in enumerate(application_columns(FORM))}


@pytest.fixture(scope="module")
def parties():
    return ProgramRegistry().get(PROGRAM).parties


def _workbook(path: Path, rows: list[list], members: list[list], header: list | None = None) -> Path:
    """A workbook as a spreadsheet program writes it (text like =1+1 is a formula)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = FORM.sheet
    ws.append(header or application_columns(FORM))
    for row in rows:
        ws.append(row)
    team = wb.create_sheet(FORM.group.sheet)
    team.append(team_columns(FORM))
    for row in members:
        team.append(row)
    wb.save(path)
    return path


def _refused(path: Path, parties) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        read_applications(path, FORM, parties)
    return refused.value


def _bad_rows(tmp_path: Path) -> Path:
    """Three applications: a formula on row 3, a date that is not one on row 2, and row 4 using
    row 2's 申报序号 again."""
    apps = [(n, make_app("hefei", 700 + n)) for n in (1, 2, 1)]
    rows = [flat_row(FORM, a, r) for r, a in apps]
    members = [m for r, a in apps[:2] for m in team_rows(FORM, a, r)]
    rows[1][COL["党员数"]] = "=1+1"
    rows[0][COL["项目启动时间"]] = "明年"
    return _workbook(tmp_path / "附件1.xlsx", rows, members)


def _missing_column(tmp_path: Path) -> Path:
    header = [c for c in application_columns(FORM) if c != "党员数"]
    row = flat_row(FORM, make_app("hefei", 800), 1)
    del row[COL["党员数"]]
    return _workbook(tmp_path / "缺列.xlsx", [row], [], header)


def _lines(exc: InvalidInput, lang: str) -> list[str]:
    with i18n.using(lang):
        return [str(exc.what), *(str(p) for p in exc.problems)]


def test_a_refused_workbooks_problems_in_chinese(tmp_path: Path, parties) -> None:
    lines = _lines(_refused(_bad_rows(tmp_path), parties), "zh_CN")
    assert lines == [
        "附件1.xlsx中的申报（未导入任何申报）",
        f"[申报表 第4行] {KEY} 1 重复使用（第2行和第4行）",
        "[申报表 第2行 项目启动时间] “明年”不是有效日期（日期格式 YYYY-MM-DD）",
        "[申报表 第3行 党员数] 含有公式（=1+1），请直接填写数值本身",
    ]
    missing = _lines(_refused(_missing_column(tmp_path), parties), "zh_CN")
    assert missing == ["缺列.xlsx中的申报（未导入任何申报）", "[申报表] 缺少列：党员数"]
    with i18n.using("zh_CN"):
        whole = str(_refused(_missing_column(tmp_path), parties))
    assert whole == "缺列.xlsx中的申报（未导入任何申报）有误：[申报表] 缺少列：党员数。"


def test_the_same_problems_in_english_word_for_word(tmp_path: Path, parties) -> None:
    lines = _lines(_refused(_bad_rows(tmp_path), parties), "en")
    assert lines == [
        "applications in 附件1.xlsx (nothing was imported)",
        f"[申报表 row 4] {KEY} 1 is used twice (rows 2 and 4)",
        "[申报表 row 2 项目启动时间] '明年' is not a date (YYYY-MM-DD)",
        "[申报表 row 3 党员数] holds a formula (=1+1); enter the value itself",
    ]
    missing = _lines(_refused(_missing_column(tmp_path), parties), "en")
    assert missing == ["applications in 缺列.xlsx (nothing was imported)", "[申报表] missing columns: 党员数"]


def test_a_file_that_is_not_a_workbook_in_both_languages(tmp_path: Path, parties) -> None:
    path = tmp_path / "旧.xlsx"
    path.write_bytes(b"not a zip")
    exc = _refused(path, parties)
    with i18n.using("en"):
        assert str(exc.problems[0]) == "not a valid .xlsx file (is it an old .xls? save it as .xlsx)"
    with i18n.using("zh_CN"):
        assert str(exc.problems[0]) == "不是有效的 .xlsx 文件（是否为旧版 .xls？请另存为 .xlsx）"


def test_a_row_label_reads_in_the_readers_language_and_equals_its_english(tmp_path: Path, parties) -> None:
    apps = [(1, make_app("hefei", 900))]
    path = _workbook(tmp_path / "好.xlsx", [flat_row(FORM, a, r) for r, a in apps], team_rows(FORM, apps[0][1], 1))
    (where, _), *_ = read_applications(path, FORM, parties)
    assert where == f"申报表 row 2 ({KEY} 1)"
    assert hash(where) == hash(f"申报表 row 2 ({KEY} 1)")
    with i18n.using("zh_CN"):
        assert str(where) == f"申报表 第2行（{KEY} 1）"
    with i18n.using("en"):
        assert str(where) == f"申报表 row 2 ({KEY} 1)"
    assert label(where) == where
