"""The streamed report writes what the report wrote before it streamed: the same sheets, headers,
cells and types (XLSX, read back with openpyxl and calamine), the same bytes (CSV, Markdown).
The files of ``report_before/`` were written by the report as it was before (every row held in
memory, openpyxl's whole workbook) on the same checkpoint scenarios; set
EVALFLOW_REPORT_FIXTURES=write to write them again from the code checked out."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import text

from tests.cli.test_full_cycle import Cli
from tests.conftest import LEAD, SHEET_LOW, SHEET_MID, scorer
from tests.sheets.test_report import PUBLISHED, award_some, trimmed_programs
from tests.workflow.checkpoints import Staged, at_stage, stage_templates

FIXTURES = (at_stage, stage_templates, trimmed_programs)

BEFORE = Path(__file__).with_name("report_before")
WRITE = os.environ.get("EVALFLOW_REPORT_FIXTURES") == "write"
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


def _xlsx_cells(path: Path) -> dict[str, list[list[Any]]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def _calamine_cells(path: Path) -> dict[str, list[list[Any]]]:
    book = CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def _check(name: str, s: Staged, now: str, fmt: str, lang: str, tmp_path: Path) -> None:
    """Write the report of ``s`` and compare it with the fixture ``name`` (or write that)."""
    path = s.store.sqlite_path()
    assert path is not None
    out = tmp_path / (name if fmt == "csv" else f"{name}.{fmt}")
    Cli(path)(LEAD, now, "report", "--format", fmt, "--lang", lang, "--out", str(out))
    if fmt == "csv":
        got = {p.name: p.read_bytes().decode("utf-8") for p in sorted(out.iterdir())}
    elif fmt == "md":
        got = {"md": out.read_bytes().decode("utf-8")}
    else:
        got = {"openpyxl": _xlsx_cells(out), "calamine": _calamine_cells(out)}
    fixture = BEFORE / f"{name}.json"
    if WRITE:
        fixture.write_text(json.dumps(got, ensure_ascii=False, indent=1), encoding="utf-8")
        return
    want = json.loads(fixture.read_text(encoding="utf-8"))
    assert json.loads(json.dumps(got)) == want


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
