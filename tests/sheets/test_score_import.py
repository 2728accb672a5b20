"""The 附件2 score sheet as a spreadsheet: `evalflow template scores` and `evalflow score import`.

A city downloads its pre-filled sheet (every key-library project, the criteria with their bands,
its scoring unit), fills it in and imports it as its scorer: every filled row becomes that city's
current sheet, all or nothing, under the same band rules as `evalflow score`. Every refusal is
checked for its exit code, its one-line message and for leaving the database unchanged.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from policies.base import Criterion
from sheets.scores import criterion_header
from tests.cli.test_full_cycle import Cli
from tests.conftest import CITIES, CITY_NAMES, LEAD, PROGRAM, SHEET_LOW, snapshot
from tests.workflow.checkpoints import Staged, at_stage, stage_templates  # noqa: F401  (fixtures)

FIXTURES = (at_stage, stage_templates)

JOINT = "2027-05-11T10:00"  # checkpoint joint_scoring is at 2027-05-11 09:00, stage joint_scoring
CLOSED = "2027-05-16T10:00"  # checkpoint confirmation: joint scoring is closed
HEADERS = ("项目编号", "所在城市", "企业名称", "项目名称")
COMPLETIONS = ("基本完成", "已完成", "部分完成", None)


# ------------------------------------------------------------------------------------------ helpers
def sheet_for(n: int) -> dict[str, int]:
    """A valid sheet that differs from project to project (every value inside some band)."""
    return {
        "value": 12 + n % 9,
        "organization": 16 + (2 * n) % 15,
        "effectiveness": 16 + (7 * n) % 15,
        "mechanism": 12 + (4 * n) % 9,
    }


def band_of(c: Criterion, value: int) -> str:
    return next(b.label for b in c.bands if b.min <= value <= b.max)


def cli_for(s: Staged) -> Cli:
    path = s.store.sqlite_path()
    assert path is not None
    return Cli(path)


def criteria(s: Staged) -> tuple[Criterion, ...]:
    return s.engine.programs.get(PROGRAM).criteria


def write_template(s: Staged, city: str, out: Path, now: str = JOINT, user: str | None = None) -> Path:
    text = cli_for(s)(user or f"{city}-scorer", now, "template", "scores", "--city", city, "--out", str(out))
    assert str(out) in text and "45 key-library projects" in text
    return out


def columns(ws: Any) -> dict[str, int]:
    """Header text -> column number (1-based)."""
    return {cell.value: cell.column for cell in ws[1] if cell.value}


def criterion_column(ws: Any, c: Criterion) -> int:
    return next(i for h, i in columns(ws).items() if h.startswith(c.name))


def row_of(ws: Any, pid: int) -> int:
    return next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == pid)


def fill(
    s: Staged,
    template: Path,
    out: Path,
    sheets: dict[int, tuple[dict[str, int], str | None]],
    change: Callable[[Any], None] | None = None,
) -> Path:
    """The template with ``sheets`` ({project: (scores, completion)}) typed in, then ``change``."""
    wb = openpyxl.load_workbook(template)
    ws = wb["评分表"]
    cols = columns(ws)
    for pid, (scores, completion) in sheets.items():
        r = row_of(ws, pid)
        for c in criteria(s):
            ws.cell(r, criterion_column(ws, c)).value = scores[c.id]
        ws.cell(r, cols["项目完成情况"]).value = completion
    if change is not None:
        change(ws)
    wb.save(out)
    return out


def planned(key: list[int], shift: int = 0) -> dict[int, tuple[dict[str, int], str | None]]:
    return {pid: (sheet_for(i + shift), COMPLETIONS[(i + shift) % len(COMPLETIONS)]) for i, pid in enumerate(key)}


def filled(s: Staged, tmp_path: Path, city: str = "hefei", change: Callable[[Any], None] | None = None) -> Path:
    template = write_template(s, city, tmp_path / f"template-{city}.xlsx")
    return fill(s, template, tmp_path / f"filled-{city}.xlsx", planned(s.shortlist), change)


def city_sheets(s: Staged, pid: int, city: str) -> list[Any]:
    return [x for x in s.engine.project(LEAD, pid)[1] if x.city == city]


# ------------------------------------------------------------------------------------------ the template
def test_template_lists_the_shortlist_with_bands_and_the_unit(at_stage, tmp_path: Path) -> None:
    s = at_stage("joint_scoring")
    out = write_template(s, "hefei", tmp_path / "hefei.xlsx")
    crits = criteria(s)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["评分表", "说明"]
    ws = wb["评分表"]
    header = [c.value for c in ws[1]]
    assert header == [*HEADERS, *(criterion_header(c) for c in crits), "项目完成情况", "评分单位", "评分城市代码"]
    for c, h in zip(crits, header[4:8], strict=True):
        assert h.startswith(c.name) and f"{c.max}分" in h
        for b in c.bands:
            assert f"{b.label} {b.min}-{b.max}" in h

    rows = [[cell.value for cell in r] for r in ws.iter_rows(min_row=2)]
    assert len(rows) == 45
    assert [r[0] for r in rows] == sorted(s.shortlist)
    for r in rows:
        project = s.engine.project(LEAD, r[0])[0]
        assert r[1:4] == [CITY_NAMES[project.city], project.unit_name, project.project_name]
        assert r[4:9] == [None] * 5  # scores and completion left to the city
        assert r[9:] == ["合肥市委组织部", "hefei"]

    validations = ws.data_validations.dataValidation
    assert len(validations) == 4
    for c, dv in zip(crits, validations, strict=True):
        col = openpyxl.utils.get_column_letter(criterion_column(ws, c))
        assert (dv.type, dv.operator) == ("whole", "between")
        assert (int(dv.formula1), int(dv.formula2)) == (min(b.min for b in c.bands), max(b.max for b in c.bands))
        assert str(dv.sqref) == f"{col}2:{col}46"
        assert dv.allow_blank

    notes = " ".join(str(r[0].value) for r in wb["说明"].iter_rows())
    assert "g60-2027" in notes and "合肥市委组织部" in notes and "score import" in notes


@pytest.mark.parametrize("city", CITIES)
def test_each_city_template_names_its_own_unit(at_stage, tmp_path: Path, city: str) -> None:
    s = at_stage("joint_scoring")
    ws = openpyxl.load_workbook(write_template(s, city, tmp_path / "t.xlsx"))["评分表"]
    cols = columns(ws)
    units = {ws.cell(r, cols["评分单位"]).value for r in range(2, ws.max_row + 1)}
    codes = {ws.cell(r, cols["评分城市代码"]).value for r in range(2, ws.max_row + 1)}
    assert (units, codes) == ({f"{CITY_NAMES[city]}委组织部"}, {city})


def test_template_validation_is_enforced_and_prompted(at_stage, tmp_path: Path) -> None:
    s = at_stage("joint_scoring")
    ws = openpyxl.load_workbook(write_template(s, "hefei", tmp_path / "t.xlsx"))["评分表"]
    for dv in ws.data_validations.dataValidation:
        assert dv.showErrorMessage, f"{dv.sqref}: invalid entries are accepted silently"
        assert dv.showInputMessage, f"{dv.sqref}: the band prompt is never shown"


def test_template_unknown_city_is_not_found(at_stage, tmp_path: Path) -> None:
    s = at_stage("joint_scoring")
    out = cli_for(s)(
        "hefei-scorer", JOINT, "template", "scores", "--city", "nowhere", "--out", str(tmp_path / "x"), code=5
    )
    assert "nowhere" in out and "hefei" in out
    assert not (tmp_path / "x").exists()


def test_an_applicant_cannot_download_the_shortlist(at_stage, tmp_path: Path) -> None:
    s = at_stage("joint_scoring")
    out = tmp_path / "leak.xlsx"
    cli_for(s)("songjiang-applicant", JOINT, "template", "scores", "--city", "hefei", "--out", str(out), code=4)
    assert not out.exists()


# ------------------------------------------------------------------------------------------ round trip
def test_round_trip_records_every_row_as_hefeis_sheet(at_stage, tmp_path: Path) -> None:
    s = at_stage("joint_scoring")
    key = sorted(s.shortlist)
    plan = planned(key)
    assert len({tuple(v[0].values()) for v in plan.values()}) > 30  # different sheets for different projects
    template = write_template(s, "hefei", tmp_path / "t.xlsx")
    path = fill(s, template, tmp_path / "filled.xlsx", plan)

    out = cli_for(s)("hefei-scorer", JOINT, "score", "import", str(path))
    assert out.strip() == "Recorded 45 score sheets for hefei"

    crits = criteria(s)
    for pid, (scores, completion) in plan.items():
        [sheet] = city_sheets(s, pid, "hefei")
        assert sheet.current and sheet.scorer == "hefei-scorer"
        assert sheet.scores == scores
        assert sheet.bands == {c.id: band_of(c, scores[c.id]) for c in crits}
        assert sheet.total == sum(scores.values())
        assert sheet.completion == (completion or "")
        assert {x.city for x in s.engine.project(LEAD, pid)[1]} == {"hefei"}  # nobody else's sheet appeared

    audit = [e for e in s.engine.history(LEAD) if e.action == "score"]
    assert len(audit) == 45
    assert {e.actor for e in audit} == {"hefei-scorer"}
    assert sorted(int(e.subject_id) for e in audit) == key
    for e in audit:
        assert e.data["scores"] == plan[int(e.subject_id)][0]
        assert e.data["city"] == "hefei" and e.data["replaces_total"] is None
    status = s.engine.status(LEAD)
    assert next(c for c in status["cities"] if c["city"] == "hefei")["sheets"] == 45


def test_all_nine_cities_import_and_joint_scoring_closes(at_stage, tmp_path: Path) -> None:
    s = at_stage("joint_scoring")
    cli = cli_for(s)
    key = sorted(s.shortlist)
    plans = {}
    for n, city in enumerate(CITIES):
        template = write_template(s, city, tmp_path / f"t-{city}.xlsx")
        plans[city] = planned(key, shift=n)
        path = fill(s, template, tmp_path / f"f-{city}.xlsx", plans[city])
        if city == "hefei":  # the last city: closing is still refused, naming it
            out = cli("lead", JOINT, "cycle", "advance", code=3)
            assert "[all_sheets_in]" in out and "hefei" in out
        assert f"Recorded 45 score sheets for {city}" in cli(f"{city}-scorer", JOINT, "score", "import", str(path))

    for pid in key:
        current = {x.city: x.scores for x in s.engine.project(LEAD, pid)[1] if x.current}
        assert current == {c: plans[c][pid][0] for c in CITIES}
    cli("lead", JOINT, "cycle", "advance")
    assert s.engine.get_cycle(None).stage == "confirmation"


def test_csv_sheet_imports_too(at_stage, tmp_path: Path) -> None:
    """A sheet saved as CSV (UTF-8 with BOM, scores as text) is read the same way."""
    s = at_stage("joint_scoring")
    path = filled(s, tmp_path)
    ws = openpyxl.load_workbook(path)["评分表"]
    target = tmp_path / "hefei.csv"
    with open(target, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        for r in ws.iter_rows(values_only=True):
            w.writerow(["" if v is None else v for v in r])
    assert "Recorded 45 score sheets for hefei" in cli_for(s)("hefei-scorer", JOINT, "score", "import", str(target))
    pid = sorted(s.shortlist)[0]
    assert city_sheets(s, pid, "hefei")[0].scores == sheet_for(0)


def test_empty_rows_are_skipped_and_counted(at_stage, tmp_path: Path) -> None:
    s = at_stage("joint_scoring")
    key = sorted(s.shortlist)
    empty = key[2:5]

    def clear(ws: Any) -> None:
        for pid in empty:
            for col in range(5, 10):
                ws.cell(row_of(ws, pid), col).value = None

    out = cli_for(s)("hefei-scorer", JOINT, "score", "import", str(filled(s, tmp_path, change=clear)))
    assert out.strip() == "Recorded 42 score sheets for hefei; 3 rows left empty"
    for pid in key:
        assert len(city_sheets(s, pid, "hefei")) == (0 if pid in empty else 1)


def test_reimporting_a_changed_sheet_replaces_the_sheets(at_stage, tmp_path: Path) -> None:
    s = at_stage("joint_scoring")
    cli = cli_for(s)
    key = sorted(s.shortlist)
    template = write_template(s, "hefei", tmp_path / "t.xlsx")
    first = planned(key)
    cli("hefei-scorer", JOINT, "score", "import", str(fill(s, template, tmp_path / "a.xlsx", first)))

    second = planned(key[:-5], shift=4)  # the last five rows left empty this time: kept as they are
    out = cli(
        "hefei-scorer", "2027-05-12T10:00", "score", "import", str(fill(s, template, tmp_path / "b.xlsx", second))
    )
    assert out.strip() == "Recorded 40 score sheets for hefei; 5 rows left empty"
    for pid in key[:-5]:
        old, new = city_sheets(s, pid, "hefei")
        assert (old.current, new.current) == (False, True)
        assert (old.scores, new.scores) == (first[pid][0], second[pid][0])
        assert new.completion == (second[pid][1] or "")
    for pid in key[-5:]:
        [kept] = city_sheets(s, pid, "hefei")
        assert kept.current and kept.scores == first[pid][0]
    replaced = [e for e in s.engine.history(LEAD) if e.action == "score" and e.data.get("replaces_total") is not None]
    assert len(replaced) == 40
    assert all(e.data["replaces_total"] == sum(first[int(e.subject_id)][0].values()) for e in replaced)
    assert s.engine.status(LEAD)["cities"][-1]["sheets"] == 45


# ------------------------------------------------------------------------------------------ refusals
def _set(pick: int, column: str | int, value: Any) -> Callable[[Staged], Callable[[Any], None]]:
    """A change to the filled sheet: the ``pick``-th key-library project's cell ``column``."""

    def build(s: Staged) -> Callable[[Any], None]:
        pid = sorted(s.shortlist)[pick]

        def change(ws: Any) -> None:
            col = (
                column
                if isinstance(column, int)
                else criterion_column(ws, next(c for c in criteria(s) if c.id == column))
            )
            ws.cell(row_of(ws, pid), col).value = value

        return change

    return build


def _pid(s: Staged, pick: int) -> int:
    return sorted(s.shortlist)[pick]


CASES = {
    # name: (change, exit code, fragments ({pid} = the changed project, {row} = its row))
    "out_of_band": (
        _set(1, "value", 11),
        3,
        [
            "Cannot score 45 projects: [score_in_bands] project {pid}: value = 11 is outside every band",
            "18-20 or 15-17 or 12-14",
        ],
    ),
    "above_the_maximum": (_set(2, "organization", 31), 3, ["[score_in_bands] project {pid}: organization = 31"]),
    "not_a_number": (
        _set(1, "value", "abc"),
        7,
        ["(nothing was imported)", "[row {row} (project {pid}) value] 'abc' is not a whole number"],
    ),
    "a_fraction": (_set(1, "mechanism", 13.5), 7, ["[row {row} (project {pid}) mechanism] 13.5 is not a whole number"]),
    "half_filled_row": (
        _set(3, "organization", None),
        7,
        ["[row {row} (project {pid}) organization] is empty; score every criterion or leave the whole row empty"],
    ),
    "a_formula": (
        _set(1, "effectiveness", "=10+10"),
        7,
        ["[row {row} (project {pid}) effectiveness] holds a formula (=10+10)"],
    ),
    "not_a_shortlist_project": (
        lambda s: lambda ws: ws.cell(3, 1).__setattr__("value", s.excellent["songjiang"]),
        3,
        ["[state] project {excellent} is 'municipal_excellent'; score needs recommended"],
    ),
    "unknown_project": (lambda s: lambda ws: ws.cell(3, 1).__setattr__("value", 9999), 5, ["No project 9999"]),
    "not_a_project_number": (
        lambda s: lambda ws: ws.cell(3, 1).__setattr__("value", "第二项"),
        7,
        ["[row 3 项目编号] '第二项' is not a project number"],
    ),
    "duplicated_project": (
        lambda s: lambda ws: ws.cell(3, 1).__setattr__("value", ws.cell(2, 1).value),
        7,
        ["[row 3 (project {first})] the project is also on row 2"],
    ),
    "several_cities_named": (
        lambda s: lambda ws: ws.cell(4, 11).__setattr__("value", "jiaxing"),
        7,
        ["the sheet names several scoring cities: hefei, jiaxing"],
    ),
    "a_criterion_column_missing": (
        lambda s: lambda ws: ws.cell(1, 6).__setattr__("value", "组织"),
        7,
        ["[header] missing the column of criterion organization"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_sheet_is_refused_and_changes_nothing(at_stage, tmp_path: Path, case: str) -> None:
    s = at_stage("joint_scoring")
    build, code, fragments = CASES[case]
    path = filled(s, tmp_path, change=build(s))
    before = snapshot(s.store)
    out = cli_for(s)("hefei-scorer", JOINT, "score", "import", str(path), code=code)
    picks = {"out_of_band": 1, "above_the_maximum": 2, "not_a_number": 1, "a_fraction": 1, "half_filled_row": 3}
    pick = picks.get(case, 1)
    names = {
        "pid": _pid(s, pick),
        "row": pick + 2,
        "first": _pid(s, 0),
        "excellent": s.excellent["songjiang"],
    }
    for fragment in fragments:
        assert fragment.format(**names) in out, out
    assert "Traceback" not in out
    assert snapshot(s.store) == before


def test_every_problem_is_listed_at_once(at_stage, tmp_path: Path) -> None:
    s = at_stage("joint_scoring")

    def two(ws: Any) -> None:
        _set(1, "value", "abc")(s)(ws)
        _set(4, "mechanism", None)(s)(ws)
        _set(6, "organization", "=A1")(s)(ws)

    path = filled(s, tmp_path, change=two)
    before = snapshot(s.store)
    out = cli_for(s)("hefei-scorer", JOINT, "score", "import", str(path), code=7)
    assert f"[row 3 (project {_pid(s, 1)}) value]" in out
    assert f"[row 6 (project {_pid(s, 4)}) mechanism] is empty" in out
    assert f"[row 8 (project {_pid(s, 6)}) organization] holds a formula" in out
    assert snapshot(s.store) == before


def test_another_citys_sheet_is_refused(at_stage, tmp_path: Path) -> None:
    s = at_stage("joint_scoring")
    path = filled(s, tmp_path, "hefei")
    before = snapshot(s.store)
    out = cli_for(s)("jiaxing-scorer", JOINT, "score", "import", str(path), code=7)
    assert "it is hefei's sheet" in out and "jiaxing-scorer scores for jiaxing" in out
    assert snapshot(s.store) == before


def test_only_a_scorer_imports(at_stage, tmp_path: Path) -> None:
    s = at_stage("joint_scoring")
    path = filled(s, tmp_path, "hefei")
    before = snapshot(s.store)
    out = cli_for(s)("hefei-admin", JOINT, "score", "import", str(path), code=4)
    assert "scorer" in out
    assert snapshot(s.store) == before


def test_an_unfilled_sheet_is_refused(at_stage, tmp_path: Path) -> None:
    s = at_stage("joint_scoring")
    template = write_template(s, "hefei", tmp_path / "t.xlsx")
    out = cli_for(s)("hefei-scorer", JOINT, "score", "import", str(template), code=7)
    assert "no row is filled in" in out


def test_import_after_joint_scoring_closed_is_refused(at_stage, tmp_path: Path) -> None:
    s = at_stage("confirmation")
    template = write_template(s, "hefei", tmp_path / "t.xlsx", now=CLOSED)
    path = fill(s, template, tmp_path / "f.xlsx", planned(sorted(s.shortlist)))
    before = snapshot(s.store)
    out = cli_for(s)("hefei-scorer", CLOSED, "score", "import", str(path), code=3)
    assert out.startswith("Error: Cannot score 45 projects: [stage_window]")
    assert "score belongs to stage 'joint_scoring', but the cycle is in stage 'confirmation'" in out
    assert snapshot(s.store) == before
    # the sheets of the closed stage are untouched: still the checkpoint's
    assert city_sheets(s, _pid(s, 1), "hefei")[0].scores == SHEET_LOW


def test_the_single_sheet_command_still_works(at_stage) -> None:
    s = at_stage("joint_scoring")
    pid = _pid(s, 0)
    out = cli_for(s)(
        "hefei-scorer",
        JOINT,
        "score",
        str(pid),
        "--value",
        "13",
        "--organization",
        "18",
        "--effectiveness",
        "18",
        "--mechanism",
        "13",
    )
    assert out.strip() == f"Scored project {pid}: total 62"
    assert city_sheets(s, pid, "hefei")[0].scores == SHEET_LOW


def test_a_scored_row_without_a_project_number_is_named(at_stage, tmp_path: Path) -> None:
    s = at_stage("joint_scoring")
    path = filled(s, tmp_path, change=lambda ws: ws.cell(3, 1).__setattr__("value", None))
    before = snapshot(s.store)
    out = cli_for(s)("hefei-scorer", JOINT, "score", "import", str(path), code=7)
    assert "[row 3 项目编号]" in out and "is not a project number" in out
    assert snapshot(s.store) == before


def test_a_row_without_a_project_number_next_to_a_formula_is_named(at_stage, tmp_path: Path) -> None:
    s = at_stage("joint_scoring")

    def both(ws: Any) -> None:
        # (was a crash: read-only openpyxl gives an EmptyCell without .row for the blank first cell)
        ws.cell(3, 1).value = None  # the number of the second project deleted
        _set(4, "value", "=13")(s)(ws)  # and a formula further down: the sheet is read by openpyxl

    path = filled(s, tmp_path, change=both)
    before = snapshot(s.store)
    out = cli_for(s)("hefei-scorer", JOINT, "score", "import", str(path), code=7)
    assert "[row 3 项目编号]" in out
    assert f"[row 6 (project {_pid(s, 4)}) value] holds a formula (=13)" in out
    assert snapshot(s.store) == before


def test_a_digit_like_text_is_not_a_whole_number(at_stage, tmp_path: Path) -> None:
    s = at_stage("joint_scoring")
    path = filled(s, tmp_path, change=_set(1, "value", "1²")(s))
    out = cli_for(s)("hefei-scorer", JOINT, "score", "import", str(path), code=7)
    assert f"[row 3 (project {_pid(s, 1)}) value] '1²' is not a whole number" in out


def test_full_width_digits_are_read_as_numbers(at_stage, tmp_path: Path) -> None:
    """A score typed with a Chinese input method (full-width digits) is still a whole number."""
    s = at_stage("joint_scoring")
    path = filled(s, tmp_path, change=_set(0, "value", "１５")(s))
    cli_for(s)("hefei-scorer", JOINT, "score", "import", str(path))
    assert city_sheets(s, _pid(s, 0), "hefei")[0].scores["value"] == 15
