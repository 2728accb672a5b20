"""What the report wrote before it streamed, kept in ``report_before/`` (written by the report as
it was on main: every row held in memory, openpyxl's whole workbook), and the comparison of a
report written now with it: XLSX cell by cell as openpyxl and calamine read it (values and their
kinds), CSV and Markdown byte for byte. EVALFLOW_REPORT_FIXTURES=write writes the fixtures
instead, from the code checked out."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import openpyxl
from python_calamine import CalamineWorkbook

BEFORE = Path(__file__).with_name("report_before")
WRITE = os.environ.get("EVALFLOW_REPORT_FIXTURES") == "write"


def xlsx_cells(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's cells as openpyxl reads them."""
    wb = openpyxl.load_workbook(path)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def calamine_cells(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's cells as calamine reads them (it decodes OOXML's _xHHHH_ escapes)."""
    book = CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


# the workbook's sheet of the score analysis, which came after the fixtures (its own test:
# tests/sheets/test_report_analysis.py): the four sheets before it read as they did
ANALYSIS_SHEETS = ("评分分析", "score analysis")


def read_back(fmt: str, out: Path) -> Any:
    """The report file (or CSV folder) ``out`` as the fixtures hold it."""
    if fmt == "csv":
        return {p.name: p.read_bytes().decode("utf-8") for p in sorted(out.iterdir())}
    if fmt == "md":
        return {"md": out.read_bytes().decode("utf-8")}
    books = {"openpyxl": xlsx_cells(out), "calamine": calamine_cells(out)}
    return {reader: {k: v for k, v in sheets.items() if k not in ANALYSIS_SHEETS} for reader, sheets in books.items()}


def as_before(name: str, got: Any) -> None:
    """``got`` is what the fixture ``name`` holds (or becomes it, when writing fixtures)."""
    fixture = BEFORE / f"{name}.json"
    if WRITE:
        fixture.write_text(json.dumps(got, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
        return
    assert json.loads(json.dumps(got)) == json.loads(fixture.read_text(encoding="utf-8")), name


def report_as_before(cli: Any, tmp_path: Path, now: str = "2027-06-22T10:00") -> None:
    """The whole cycle of tests/cli/test_full_cycle.py, on whichever backend it ran: each format
    of its report as the report wrote it before (on SQLite), so the same on every backend."""
    got = {}
    for fmt in ("xlsx", "csv", "md"):
        out = tmp_path / ("report" if fmt == "csv" else f"report.{fmt}")
        cli("lead", now, "report", "--format", fmt, "--out", str(out))
        got[fmt] = read_back(fmt, out)
    as_before("full-cycle", got)
