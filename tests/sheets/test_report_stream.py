"""The streamed report writes what the report wrote before it streamed: the same sheets, headers,
cells and types (XLSX, read back with openpyxl and calamine), the same bytes (CSV, Markdown).
The files of ``report_before/`` were written by the report as it was before (every row held in
memory, openpyxl's whole workbook) on the same checkpoint scenarios; set
EVALFLOW_REPORT_FIXTURES=write to write them again from the code checked out."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils.cell import get_column_letter
from sqlalchemy import event, text

import sheets.report
from store.report_rows import ReportRows
from tests.cli.test_full_cycle import Cli
from tests.conftest import LEAD, SHEET_LOW, SHEET_MID, scorer
from tests.sheets.reports_as_before import as_before, read_back
from tests.sheets.test_report import PUBLISHED, award_some, trimmed_programs
from tests.workflow.checkpoints import Staged, at_stage, stage_templates

FIXTURES = (at_stage, stage_templates, trimmed_programs)

TRICKY = ["\r=1+1", "甲|乙\n丙", "<script>alert(1)</script>&amp;", "  前后空格  ", "@SUM(A1:A2)", "_x0041_ 下划线"]


def _tricky(s: Staged) -> None:
    """Names as applicants might type them, in the projects and in the published list's entries."""
    with s.store.engine.begin() as conn:
        ids = [pid for (pid,) in conn.execute(text("SELECT id FROM projects ORDER BY id"))]
        for pid, name in zip(ids, TRICKY, strict=False):
            conn.execute(text("UPDATE projects SET project_name = :n WHERE id = :id"), {"n": name, "id": pid})
        lid, raw = conn.execute(text("SELECT id, entries FROM list_versions ORDER BY number DESC")).first()
        entries = json.loads(raw)
        for e, name in zip([e for e in entries if e["category"] != "none"], reversed(TRICKY), strict=False):
            e["unit_name"] = name
        changed = {"e": json.dumps(entries), "id": lid}
        conn.execute(text("UPDATE list_versions SET entries = :e WHERE id = :id"), changed)


def _check(name: str, s: Staged, now: str, fmt: str, lang: str, tmp_path: Path) -> None:
    """Write the report of ``s`` with the command and compare it with the fixture ``name``."""
    path = s.store.sqlite_path()
    assert path is not None
    out = tmp_path / (name if fmt == "csv" else f"{name}.{fmt}")
    Cli(path)(LEAD, now, "report", "--format", fmt, "--lang", lang, "--out", str(out))
    as_before(name, read_back(fmt, out))


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("fmt", ["xlsx", "csv", "md"])
def test_published_cycle_reads_as_before(at_stage, tmp_path: Path, fmt: str, lang: str) -> None:
    s = at_stage("published")
    award_some(s)
    _check(f"published-{lang}-{fmt}", s, PUBLISHED, fmt, lang, tmp_path)


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "md"])
def test_typed_names_read_as_before(at_stage, tmp_path: Path, fmt: str) -> None:
    s = at_stage("published")
    _tricky(s)
    _check(f"tricky-zh-{fmt}", s, PUBLISHED, fmt, "zh", tmp_path)


@pytest.mark.parametrize("fmt", ["xlsx", "md"])
def test_cycle_without_a_list_reads_as_before(at_stage, tmp_path: Path, fmt: str) -> None:
    s = at_stage("confirmation")
    _check(f"confirmation-zh-{fmt}", s, "2027-05-16T10:00", fmt, "zh", tmp_path)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_missing_sheets_and_trimmed_mean_read_as_before(at_stage, tmp_path: Path, trimmed_programs, fmt: str) -> None:
    s = at_stage("hefei_short")  # hefei has scored 4 of 45: empty cells in the matrix
    first = s.shortlist[0]
    s.engine.score(scorer("jiaxing"), first, SHEET_MID)
    s.engine.score(scorer("hefei"), first, SHEET_LOW)
    _check(f"trimmed-en-{fmt}", s, "2027-05-15T10:00", fmt, "en", tmp_path)


def test_the_matrix_is_read_a_page_at_a_time(at_stage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each read of the matrix holds one page of projects (here 7 of 45) and those projects'
    sheets, never the cycle's; no read takes the sheets' bands or the projects' applications;
    the report written from pages is the same."""
    s = at_stage("published")
    award_some(s)
    pages: list[int] = []
    sheet_reads: list[int] = []
    projects, sheets_of = ReportRows.report_projects, ReportRows.report_sheets

    def counted_projects(self, *args):
        found = projects(self, *args)
        pages.append(len(found))
        return found

    def counted_sheets(self, *args):
        found = sheets_of(self, *args)
        sheet_reads.append(sum(len(by_city) for by_city in found.values()))
        return found

    monkeypatch.setattr(ReportRows, "report_projects", counted_projects)
    monkeypatch.setattr(ReportRows, "report_sheets", counted_sheets)
    statements: list[str] = []
    listen = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    event.listen(s.store.engine, "before_cursor_execute", listen)
    try:
        with s.engine.report(LEAD) as data:
            data.page = 7
            sheets.report.write(data, "csv", "zh", tmp_path / "r")
    finally:
        event.remove(s.store.engine, "before_cursor_execute", listen)
    assert pages == [7, 7, 7, 7, 7, 7, 3]
    assert len(sheet_reads) == 7 and max(sheet_reads) <= 7 * 9 and sum(sheet_reads) == 45 * 9
    reads = [x for x in statements if x.lstrip().upper().startswith("SELECT")]
    assert not [x for x in reads if "bands" in x or "application" in x]
    as_before("published-zh-csv", read_back("csv", tmp_path / "r"))


def test_xlsx_keeps_its_look(at_stage, tmp_path: Path) -> None:
    """A bold header row, frozen below it, and every column 18 wide, on every sheet."""
    s = at_stage("published")
    out = tmp_path / "r.xlsx"
    with s.engine.report(LEAD) as data:
        sheets.report.write(data, "xlsx", "zh", out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["正式名单", "评分矩阵", "城市统计", "市级资金", "评分分析"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert all(c.font.b for c in ws[1]) and not any(c.font.b for c in ws[2])
        assert [ws.column_dimensions[get_column_letter(i + 1)].width for i in range(ws.max_column)] == [
            18
        ] * ws.max_column


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "md"])
def test_a_report_stopped_half_way_leaves_the_one_before_whole(
    at_stage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """Written as the cycle is read, a report stopped mid-matrix (Ctrl-C here) leaves the report
    that was there before, byte for byte, and no half-written file beside it."""
    import itertools

    s = at_stage("published")
    path = s.store.sqlite_path()
    assert path is not None
    folder = tmp_path / "reports"
    folder.mkdir()
    out = folder / ("report" if fmt == "csv" else f"report.{fmt}")
    Cli(path)(LEAD, PUBLISHED, "report", "--format", fmt, "--out", str(out))
    files = sorted(out.iterdir()) if fmt == "csv" else [out]
    before = {f: f.read_bytes() for f in files}
    real = sheets.report.build

    def stopped(data, lang, analysis=False):
        tables = real(data, lang, analysis)
        matrix = tables[1].runs  # (the matrix's rows, flat or in runs as each format reads them)

        def runs():
            yield from itertools.islice(matrix, 1)
            raise KeyboardInterrupt  # (the official presses Ctrl-C half-way)

        tables[1].runs = runs()
        tables[1].rows = sheets.report._flat(tables[1].runs)
        return tables

    monkeypatch.setattr(sheets.report, "build", stopped)
    with pytest.raises(KeyboardInterrupt), s.engine.report(LEAD, None) as data:
        sheets.report.write(data, fmt, "zh", out)
    assert {f: f.read_bytes() for f in files} == before
    left = sorted(folder.rglob("*"))
    assert left == sorted([*files, *([out] if fmt == "csv" else [])]), left
