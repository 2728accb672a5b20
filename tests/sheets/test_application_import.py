"""Importing many applications (附件1) from XLSX, CSV and JSON: `evalflow project import`.

The template round trip (every field of every application comes back as it went in), the CSV
encodings and layouts administrators have, every kind of bad input (refused with exit 7, row and
column named, nothing imported), hostile files (macros, XML and zip bombs, oversized files),
permissions and the collection window, --dry-run, re-import and the audit trail.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import shutil
import time
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from cli import main
from sheets.applications import (
    EXAMPLE,
    application_columns,
    flat_row,
    read_applications,
    team_columns,
    team_rows,
)
from sheets.files import write_csv, write_xlsx
from tests.cli.test_full_cycle import Cli
from tests.conftest import FORM, LEAD, PROGRAM, admin, applicant, make_app, sh, snapshot
from workflow.application import validate_application
from workflow.errors import InvalidInput
from workflow.program import ProgramRegistry

JAN = "2027-01-10T10:00"  # inside the collection window
CLOSED = "2027-03-01T00:00"  # the collection window has ended
CYCLE = "g60-2027"
COL = {name: i for i, name in enumerate(application_columns(FORM))}  # 申报表 column → index in flat_row
TEAM_COL = {name: i for i, name in enumerate(team_columns(FORM))}
EVIDENCE_COLUMN = "成果佐证（认可/高企/专精特新/冠军）"
EVIDENCE = dict(FORM.field("project.evidence").choices)
APPLICATIONS_SHEET = FORM.sheet  # 申报表
TEAM_SHEET = FORM.group.sheet  # 团队成员


# ------------------------------------------------------------------------------------------ helpers
class Env:
    """The seeded cycle, reachable both through the engine and through the command line."""

    def __init__(self, store, engine, tmp_path: Path):
        self.store = store
        self.engine = engine
        self.tmp = tmp_path
        self.cli = Cli(store.sqlite_path())

    def import_(self, user: str | None, path: Path, *extra: str, code: int = 0, now: str = JAN) -> str:
        return self.cli(user, now, "project", "import", str(path), *extra, code=code)

    def refused(self, user: str | None, path: Path, *extra: str, code: int = 7, now: str = JAN) -> str:
        """Import expecting a refusal: the exit code, one 'Error:' line, and no change at all."""
        before = snapshot(self.store)
        out = self.import_(user, path, *extra, code=code, now=now)
        assert snapshot(self.store) == before
        return out

    def stored(self) -> list[Any]:
        return sorted(self.engine.projects(LEAD, CYCLE), key=lambda p: p.id)

    def check_stored(self, apps: Sequence[dict], applicant_name: str = admin("hefei")) -> None:
        """Every source application is stored exactly (as the engine normalises it), once."""
        stored = self.stored()
        assert len(stored) == len(apps)
        by_key = {(p.unit_name, p.project_name): p for p in stored}
        assert len(by_key) == len(stored)
        for app in apps:
            project = by_key[(app["enterprise"]["name"], app["project"]["name"])]
            assert project.application == validate_application(app, FORM)
            assert project.city == app["enterprise"]["city"]
            assert project.applicant == applicant_name
            assert project.state == "submitted"


@pytest.fixture
def env(store, engine, cycle, clock, tmp_path: Path) -> Env:
    clock.set(sh(1, 10))
    return Env(store, engine, tmp_path)


@pytest.fixture(scope="module")
def parties():
    return ProgramRegistry().get(PROGRAM).parties


def hefei_apps(n: int, start: int = 1, step: int = 1) -> list[dict]:
    return [make_app("hefei", serial) for serial in range(start, start + n * step, step)]


def numbered(apps: Sequence[dict]) -> list[tuple[int, dict]]:
    return list(enumerate(apps, start=1))


def xlsx(path: Path, items: Sequence[tuple[Any, dict]], app_rows: Iterable[list] = (), member_rows=()) -> Path:
    """An import file in the template's layout (申报表 + 团队成员), written with evalflow's writer."""
    write_xlsx(
        path,
        [
            (APPLICATIONS_SHEET, application_columns(FORM), [*(flat_row(FORM, a, r) for r, a in items), *app_rows]),
            (TEAM_SHEET, team_columns(FORM), [*(m for r, a in items for m in team_rows(FORM, a, r)), *member_rows]),
        ],
    )
    return path


def raw_xlsx(path: Path, app_rows: Sequence[list], member_rows: Sequence[list], header: list | None = None) -> Path:
    """An XLSX written by plain openpyxl, as a spreadsheet program would (text like =1+1 is a formula)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = APPLICATIONS_SHEET
    ws.append(header or application_columns(FORM))
    for row in app_rows:
        ws.append(row)
    team = wb.create_sheet(TEAM_SHEET)
    team.append(team_columns(FORM))
    for row in member_rows:
        team.append(row)
    wb.save(path)
    return path


def joined_header() -> list[str]:
    return [*application_columns(FORM), *team_columns(FORM)[1:]]


def joined_rows(items: Sequence[tuple[Any, dict]]) -> list[list[Any]]:
    """The CSV layout: one row per team member, the application's fields on its first row only."""
    rows = []
    for ref, app in items:
        flat = flat_row(FORM, app, ref)
        for i, member in enumerate(team_rows(FORM, app, ref)):
            rows.append([*(flat if i == 0 else [ref] + [None] * (len(flat) - 1)), *member[1:]])
    return rows


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]], delimiter: str = ",") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(header)
    for row in rows:
        w.writerow(["" if v is None else v for v in row])
    return buf.getvalue()


def a_real_xlsx(path: Path) -> Path:
    return xlsx(path, numbered(hefei_apps(1)))


def rebuild_zip(src: Path, dst: Path, change: dict | None = None, add: Sequence[tuple[str, bytes]] = ()) -> Path:
    """Copy an XLSX (a zip) member by member, rewriting some members and adding others."""
    change = change or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name in change:
                data = change[name](data)
            zout.writestr(name, data)
        for name, data in add:
            zout.writestr(name, data)
    return dst


# "billion laughs": nine levels of ten-fold entity expansion (10^9 'lol's if ever expanded)
LAUGHS = "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))


def doctype(root: str) -> str:
    return f'<!DOCTYPE {root} [<!ENTITY lol "lol">{LAUGHS}]>'


def line_of(output: str) -> str:
    lines = [x for x in output.splitlines() if x.strip()]
    assert len(lines) == 1, output
    return lines[0]


# ------------------------------------------------------------------------------------------ 1. template round trip
def test_the_template_s_example_is_dated_in_the_year_evalflow_runs_in(tmp_path: Path) -> None:
    """A rehearsal (--now) in another year writes its example row dated in that year, as a cycle
    of that year would need it, not in the year of the machine's clock."""
    template = tmp_path / "t.xlsx"
    result = CliRunner().invoke(
        main,
        ["--db", str(tmp_path / "x.db"), "--now", "2031-02-01T09:00", "template", "application"]
        + ["--program", PROGRAM, "--out", str(template)],
    )
    assert result.exit_code == 0, result.output
    example = [c.value for c in openpyxl.load_workbook(template)[APPLICATIONS_SHEET][2]]
    assert example[COL["填表日期"]].startswith("2031-")
    assert example[COL["预计基本完成时间"]].startswith("2031-")
    assert example[COL["项目启动时间"]].startswith("2030-")


def test_template_round_trip_through_xlsx(env: Env) -> None:
    template = env.tmp / "附件1-申报表.xlsx"
    out = env.cli(None, JAN, "template", "application", "--out", str(template))
    assert f"Wrote {template}" in out and "示例" in out

    wb = openpyxl.load_workbook(template)
    assert wb.sheetnames[:2] == [APPLICATIONS_SHEET, TEAM_SHEET]
    ws, team = wb[APPLICATIONS_SHEET], wb[TEAM_SHEET]
    header = [c.value for c in ws[1]]
    assert header == application_columns(FORM)
    assert [c.value for c in team[1]] == team_columns(FORM)
    example = [c.value for c in ws[2]]
    assert example[0] == EXAMPLE and all(v not in (None, "") for v in example)
    example_team = [[c.value for c in row] for row in team.iter_rows(min_row=2)]
    assert example_team and all(row[0] == EXAMPLE for row in example_team)
    example_enterprise = example[COL["企业名称"]]

    # 20 hefei applications of assorted serials, some (ineligible but complete) with a flaw:
    # booleans that are 否, a non-member lead, a late timeline — eligibility is judged at accept
    apps = []
    for i, serial in enumerate(range(3, 3 + 20 * 7, 7)):
        flaw = {4: "not_registered", 9: "non_member_lead", 15: "late_timeline"}.get(i)
        apps.append(make_app("hefei", serial, flaw=flaw))
    for ref, app in numbered(apps):
        ws.append(flat_row(FORM, app, ref))
        for member in team_rows(FORM, app, ref):
            team.append(member)
    wb.save(template)

    out = env.import_(admin("hefei"), template)
    assert out.strip() == f"Imported 20 applications into {CYCLE}: projects 1–20"
    env.check_stored(apps)

    stored = {p.unit_name: p.application for p in env.stored()}
    assert example_enterprise not in stored  # the 示例 row is never imported
    # the fields a spreadsheet is most likely to bend, spelled out
    first = stored[apps[0]["enterprise"]["name"]]
    assert first["party_organization"]["members"] == apps[0]["party_organization"]["members"]
    assert isinstance(first["party_organization"]["members"], int)
    assert first["project"]["started"] == apps[0]["project"]["started"]  # ISO text
    assert first["project"]["evidence"] == apps[0]["project"]["evidence"]  # codes, in order
    assert first["enterprise"]["registered_in_city"] is True
    assert stored[apps[4]["enterprise"]["name"]]["enterprise"]["registered_in_city"] is False
    assert stored[apps[9]["enterprise"]["name"]]["team"][0]["political_status"] == "群众"
    team0 = first["team"]
    assert [m["name"] for m in team0] == [m["name"] for m in apps[0]["team"]]
    assert [(m["lead"], m["main_rd"]) for m in team0] == [
        (m.get("lead", False), m.get("main_rd", False)) for m in apps[0]["team"]
    ]
    assert team0[0]["lead"] is True and team0[-1]["main_rd"] is False


def test_xlsx_with_real_date_number_and_renamed_sheets(env: Env) -> None:
    """Excel gives dates as dates and numbers as numbers; a renamed sheet is found by its columns;
    the English field paths are accepted as headers."""
    apps = hefei_apps(3, start=40)
    rows = []
    for ref, app in numbered(apps):
        row = flat_row(FORM, app, float(ref))
        for zh in ("填表日期", "成立时间", "项目启动时间", "预计基本完成时间"):
            row[COL[zh]] = datetime.fromisoformat(row[COL[zh]])
        row[COL["联系方式"]] = int(row[COL["联系方式"]])
        rows.append(row)
    members = [m for ref, app in numbered(apps) for m in team_rows(FORM, app, ref)]
    english = ["ref", "filler", "fill_date", "contact", "party_organization.name", "party_organization.founded"]
    header = english + application_columns(FORM)[len(english) :]
    path = raw_xlsx(env.tmp / "excel.xlsx", rows, members, header=header)
    wb = openpyxl.load_workbook(path)
    wb[APPLICATIONS_SHEET].title = "Sheet1"
    wb[TEAM_SHEET].title = "成员"
    wb.save(path)

    assert "Imported 3 applications" in env.import_(admin("hefei"), path)
    env.check_stored(apps)


# ------------------------------------------------------------------------------------------ 2. CSV and JSON
@pytest.mark.parametrize(
    ("encoding", "suffix", "delimiter"),
    [
        ("utf-8-sig", ".csv", ","),
        ("utf-8", ".csv", ","),
        ("gb18030", ".csv", ","),
        ("gbk", ".csv", ","),
        ("utf-16", ".csv", ","),
        ("utf-16", ".txt", "\t"),  # Excel's "Unicode text": UTF-16 with BOM, tab-separated
        ("utf-8", ".csv", ";"),
    ],
)
def test_csv_joined_layout_in_every_encoding(env: Env, encoding: str, suffix: str, delimiter: str) -> None:
    apps = hefei_apps(4, start=60, step=3)
    text = csv_text(joined_header(), joined_rows(numbered(apps)), delimiter)
    raw = text.encode(encoding)
    if encoding == "utf-16":
        assert raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if encoding in ("gb18030", "gbk"):
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")  # really not UTF-8
    path = env.tmp / f"申报{suffix}"
    path.write_bytes(raw)

    assert "Imported 4 applications" in env.import_(admin("hefei"), path)
    env.check_stored(apps)


def test_csv_written_by_evalflow_and_later_rows_repeating_the_application(env: Env) -> None:
    """write_csv (UTF-8 with BOM); repeating the application's fields on each member row is fine."""
    apps = hefei_apps(3, start=80)
    rows = []
    for ref, app in numbered(apps):
        rows += [[*flat_row(FORM, app, ref), *member[1:]] for member in team_rows(FORM, app, ref)]
    path = env.tmp / "repeated.csv"
    write_csv(path, joined_header(), rows)
    assert path.read_bytes().startswith(codecs.BOM_UTF8)
    assert "Imported 3 applications" in env.import_(admin("hefei"), path)
    env.check_stored(apps)


@pytest.mark.parametrize("wrapped", [False, True], ids=["list", "applications-object"])
def test_json_list_and_applications_object(env: Env, wrapped: bool) -> None:
    apps = hefei_apps(5, start=90)
    path = env.tmp / "apps.json"
    path.write_text(json.dumps({"applications": apps} if wrapped else apps, ensure_ascii=False), encoding="utf-8")
    out = env.import_(applicant("hefei"), path)
    assert out.strip() == f"Imported 5 applications into {CYCLE}: projects 1–5"
    env.check_stored(apps, applicant_name=applicant("hefei"))


def test_csv_spellings_of_dates_numbers_booleans_cities_and_evidence(env: Env) -> None:
    app = make_app("hefei", 120)
    row = flat_row(FORM, app, 1)
    started = app["project"]["started"]
    y, m, d = (int(x) for x in started.split("-"))
    row[COL["项目启动时间"]] = f"{y}年{m}月{d}日"
    row[COL["填表日期"]] = app["fill_date"].replace("-", "/")
    row[COL["党员数"]] = f"{app['party_organization']['members']}人"
    row[COL["所在城市"]] = "合肥"
    row[COL["在所在城市注册"]] = "√"
    evidence = app["project"]["evidence"]
    row[COL[EVIDENCE_COLUMN]] = "，".join([evidence[0], EVIDENCE[evidence[0]], *(EVIDENCE[e] for e in evidence)])
    members = team_rows(FORM, app, 1)
    text = csv_text(
        joined_header(), [[*row, *members[0][1:]], *([1, *[None] * (len(row) - 1), *m[1:]] for m in members[1:])]
    )
    path = env.tmp / "spellings.csv"
    path.write_text(text, encoding="utf-8")
    assert "Imported 1 applications" in env.import_(admin("hefei"), path)
    env.check_stored([app])


# ------------------------------------------------------------------------------------------ 3. bad input
def test_text_neither_utf8_nor_gb18030_is_refused(env: Env) -> None:
    text = csv_text(joined_header(), joined_rows(numbered(hefei_apps(1))))
    raw = text.encode("utf-8") + "Café,".encode("latin-1")  # 0xE9 0x2C: not UTF-8, not GB18030
    with pytest.raises(UnicodeDecodeError):
        raw.decode("gb18030")
    path = env.tmp / "latin1.csv"
    path.write_bytes(raw)
    out = env.refused(admin("hefei"), path)
    assert "neither UTF-8 nor GB18030/GBK" in line_of(out)

    broken = env.tmp / "utf16.csv"
    broken.write_bytes(codecs.BOM_UTF16_LE + "申报序号".encode("utf-16-le") + b"\x00\xd8")  # a lone surrogate
    assert "starts like UTF-16 text but is not" in env.refused(admin("hefei"), broken)


def test_big5_file_reads_as_gb18030_and_its_headers_do_not_match(env: Env) -> None:
    """Big5 bytes are valid GB18030, so the file decodes — into other characters: missing columns."""
    traditional = str.maketrans("报号联系组织员业营经项设实务计内责负职务", "報號聯繫組織員業營經項設實務計內責負職務")
    header = [h.translate(traditional) for h in joined_header()]
    app = make_app("hefei", 1)
    rows = [[v.translate(traditional) if isinstance(v, str) else v for v in r] for r in joined_rows([(1, app)])]
    path = env.tmp / "big5.csv"
    path.write_bytes(csv_text(header, rows).encode("big5", errors="replace"))
    out = line_of(env.refused(admin("hefei"), path))
    assert "[header] missing columns: 申报序号, 填表人, 填表日期" in out
    assert "is not a 附件1 申报表 column" in out


def test_missing_unknown_and_duplicated_columns(env: Env) -> None:
    apps = numbered(hefei_apps(2))
    rows = [flat_row(FORM, a, r) for r, a in apps]
    members = [m for r, a in apps for m in team_rows(FORM, a, r)]

    drop = COL["党员数"]
    header = [h for i, h in enumerate(application_columns(FORM)) if i != drop]
    missing = raw_xlsx(env.tmp / "missing.xlsx", [r[:drop] + r[drop + 1 :] for r in rows], members, header)
    out = line_of(env.refused(admin("hefei"), missing))
    assert "[申报表] missing columns: 党员数" in out

    unknown = raw_xlsx(
        env.tmp / "unknown.xlsx", [[*r, "无"] for r in rows], members, [*application_columns(FORM), "备注"]
    )
    out = line_of(env.refused(admin("hefei"), unknown))
    assert "[申报表 column '备注'] is not a 附件1 申报表 column" in out

    twice = raw_xlsx(
        env.tmp / "twice.xlsx",
        [[*r, r[COL["企业名称"]]] for r in rows],
        members,
        [*application_columns(FORM), "enterprise.name"],  # the English path of 企业名称
    )
    out = line_of(env.refused(admin("hefei"), twice))
    assert "[申报表 column 'enterprise.name'] appears twice" in out

    csv_path = env.tmp / "twice.csv"
    csv_path.write_text(csv_text([*joined_header(), "姓名"], []), encoding="utf-8")
    out = line_of(env.refused(admin("hefei"), csv_path))
    assert "[header column '姓名'] appears twice" in out

    no_team = env.tmp / "no-team-columns.csv"
    no_team.write_text(csv_text(application_columns(FORM), rows), encoding="utf-8")
    out = line_of(env.refused(admin("hefei"), no_team))
    assert "[header] missing columns: 姓名, 政治面貌, 行政职务, 职责分工, 项目负责人, 主要研发人员" in out


def test_bad_rows_among_fifty_good_ones_are_each_listed_and_nothing_is_imported(env: Env) -> None:
    apps = numbered(hefei_apps(50, start=200))
    rows = [flat_row(FORM, a, r) for r, a in apps]
    members = [m for r, a in apps for m in team_rows(FORM, a, r)]
    rows[4][COL["项目启动时间"]] = "2027-13-45"  # ref 5 → sheet row 6
    rows[11][COL["党员数"]] = "很多"  # row 13
    rows[15][COL["党员数"]] = "²"  # row 17 (a digit to str.isdigit, not a number to int())
    rows[22][COL["所在城市"]] = "上海市"  # row 24
    rows[30][COL["在所在城市注册"]] = "也许"  # row 32
    rows[43][COL[EVIDENCE_COLUMN]] = "高新技术企业、国家级奖项"  # row 45
    rows[46][COL["填表日期"]] = "下周"  # row 48
    rows[46][COL["党员数"]] = "-3"  # the same row: both listed
    members[7][TEAM_COL["项目负责人"]] = "不确定"  # 团队成员 row 9
    path = raw_xlsx(env.tmp / "fifty.xlsx", rows, members)

    out = line_of(env.refused(admin("hefei"), path))
    assert out.startswith(f"Error: Invalid applications in {path.name} (nothing was imported): ")
    expected = [
        "[申报表 row 6 项目启动时间] '2027-13-45' is not a date (YYYY-MM-DD)",
        "[申报表 row 13 党员数] '很多' is not a whole number",
        "[申报表 row 17 党员数] '²' is not a whole number",
        "[申报表 row 24 所在城市] '上海市' is not a city of the program (",
        "[申报表 row 32 在所在城市注册] '也许' must be 是 or 否",
        f"[申报表 row 45 {EVIDENCE_COLUMN}] '国家级奖项' is not one of: 市级及以上认可、高新技术企业",
        "[申报表 row 48 填表日期] '下周' is not a date",
        "[申报表 row 48 党员数] '-3' is not a whole number",
        "[团队成员 row 9 项目负责人] '不确定' must be 是 or 否",
    ]
    for message in expected:
        assert message in out, message
    assert out.count("[") == len(expected)  # nothing else is reported
    assert env.stored() == []


def test_blank_required_cells_are_named_by_completeness_and_grouped(env: Env) -> None:
    apps = numbered(hefei_apps(8, start=300))
    rows = [flat_row(FORM, a, r) for r, a in apps]
    members = [m for r, a in apps for m in team_rows(FORM, a, r)]
    rows[2][COL["企业名称"]] = None  # ref 3 → row 4
    for i in (1, 3, 4, 5, 6):  # one field blank on five rows: one message, "and 2 more"
        rows[i][COL["企业党组织意见（盖章）"]] = "  "
    members = [m for m in members if m[0] != 8]  # ref 8 has no team member at all
    path = xlsx(env.tmp / "blank.xlsx", [], app_rows=rows, member_rows=members)

    out = line_of(env.refused(admin("hefei"), path))
    assert "[申报表 row 4 (申报序号 3)] enterprise.name (企业名称) is missing" in out
    assert (
        "[申报表 row 3 (申报序号 2); 申报表 row 5 (申报序号 4); 申报表 row 6 (申报序号 5) and 2 more] "
        "opinions.enterprise_party_organization (企业党组织意见（盖章）) is missing"
    ) in out
    assert "[申报表 row 9] team (主要团队成员) is missing: list at least the project lead" in out
    assert env.stored() == []


def test_team_rows_of_an_unknown_application_and_duplicate_keys(env: Env) -> None:
    apps = numbered(hefei_apps(3, start=400))
    members = [m for r, a in apps for m in team_rows(FORM, a, r)]
    stray = [99, "王伟", "中共党员", "工程师", "测试", "否", "是"]
    path = xlsx(env.tmp / "stray.xlsx", apps, member_rows=[stray])
    out = line_of(env.refused(admin("hefei"), path))
    assert f"[团队成员 row {len(members) + 2}] 申报序号 99 is not in 申报表" in out

    rows = [flat_row(FORM, a, r) for r, a in apps] + [flat_row(FORM, make_app("hefei", 499), 2)]
    path = xlsx(env.tmp / "dup.xlsx", [], app_rows=rows, member_rows=members)
    out = line_of(env.refused(admin("hefei"), path))
    assert "[申报表 row 5] 申报序号 2 is used twice (rows 3 and 5)" in out

    # CSV: the same 申报序号 on a later row with other application content
    joined = joined_rows(apps)
    joined[1][COL["企业名称"]] = "另一家公司（示例）"
    path = env.tmp / "differs.csv"
    path.write_text(csv_text(joined_header(), joined), encoding="utf-8")
    out = line_of(env.refused(admin("hefei"), path))
    assert "[row 3 企业名称] differs from row 2 of the same 申报序号 1" in out


def test_the_same_project_twice_in_one_file(env: Env) -> None:
    app = make_app("hefei", 500)
    path = xlsx(env.tmp / "same.xlsx", [(1, app), (2, app)])
    out = line_of(env.refused(admin("hefei"), path))
    assert "[申报表 row 3 (申报序号 2)] the same project as 申报表 row 2 (申报序号 1)" in out


def test_importing_again_adds_nothing_and_other_content_is_refused(env: Env) -> None:
    apps = hefei_apps(20, start=600)
    path = xlsx(env.tmp / "twice.xlsx", numbered(apps))
    assert "Imported 20 applications" in env.import_(admin("hefei"), path)
    before = snapshot(env.store)

    out = env.import_(admin("hefei"), path)
    assert out.strip() == f"Imported 0 applications into {CYCLE}; 20 already imported, left as they are"
    assert snapshot(env.store) == before  # no duplicate project, no audit row
    out = env.import_(admin("hefei"), path, "--dry-run")
    assert "0 would be imported; 20 already imported" in out

    # one new application in the file, the rest as before: only the new one is added
    more = xlsx(env.tmp / "more.xlsx", numbered([*apps, make_app("hefei", 700)]))
    out = env.import_(admin("hefei"), more)
    assert out.strip() == f"Imported 1 applications into {CYCLE}: projects 21–21; 20 already imported, left as they are"
    assert len(env.stored()) == 21

    changed = json.loads(json.dumps(apps[2]))
    changed["contact"] = "13900000000"
    first = env.stored()[2]
    out = line_of(env.refused(admin("hefei"), xlsx(env.tmp / "changed.xlsx", [(3, changed)])))
    assert (
        f"[申报表 row 2 (申报序号 3)] {first.unit_name} already submitted 《{first.project_name}》 "
        f"as project {first.id}, with other content"
    ) in out


def test_an_application_submitted_or_accepted_before_counts_as_already_imported(env: Env) -> None:
    """Submitted one by one (`project submit`), then accepted with the city's opinion: importing a
    file with the same applications adds nothing — the city's opinion is not the applicant's content."""
    apps = hefei_apps(3, start=650)
    first = env.engine.submit(applicant("hefei"), apps[0])
    env.engine.fire(admin("hefei"), first.id, "accept", opinion="同意入库")
    accepted = env.engine.project(LEAD, first.id)[0]
    assert accepted.application["opinions"]["city_organization_department"] == "同意入库"
    out = env.import_(admin("hefei"), xlsx(env.tmp / "again.xlsx", numbered(apps)))
    assert out.strip() == f"Imported 2 applications into {CYCLE}: projects 2–3; 1 already imported, left as they are"
    assert env.engine.project(LEAD, first.id)[0] == accepted


def test_a_formula_cell_is_refused(env: Env) -> None:
    apps = numbered(hefei_apps(2, start=800))
    rows = [flat_row(FORM, a, r) for r, a in apps]
    members = [m for r, a in apps for m in team_rows(FORM, a, r)]
    rows[1][COL["党员数"]] = "=1+1"
    members[0][TEAM_COL["姓名"]] = '=CONCAT("王","伟")'
    path = raw_xlsx(env.tmp / "formula.xlsx", rows, members)
    wb = openpyxl.load_workbook(path)
    assert wb[APPLICATIONS_SHEET]["G3"].data_type == "f"  # really a formula cell
    out = line_of(env.refused(admin("hefei"), path))
    assert "[申报表 row 3 党员数] holds a formula (=1+1); enter the value itself" in out
    assert '[团队成员 row 2 姓名] holds a formula (=CONCAT("王","伟")); enter the value itself' in out


FORMULA_TEXT = {"经营地址": "=cmd|' /C calc'!A0", "联系方式": "+8613800000000", "背景意义": "@SUM(A1:A9) 不是公式"}


def _formula_looking(app: dict) -> dict:
    app = json.loads(json.dumps(app))
    app["enterprise"]["address"] = FORMULA_TEXT["经营地址"]
    app["contact"] = FORMULA_TEXT["联系方式"]
    app["project"]["background"] = FORMULA_TEXT["背景意义"]
    app["team"][1]["responsibility"] = "-测试与验证"
    return app


@pytest.mark.parametrize("writer", ["hand-written csv", "write_csv", "write_xlsx"])
def test_formula_looking_text_is_imported_verbatim(env: Env, writer: str) -> None:
    app = _formula_looking(make_app("hefei", 900))
    if writer == "hand-written csv":
        path = env.tmp / "f.csv"
        path.write_text(csv_text(joined_header(), joined_rows([(1, app)])), encoding="utf-8")
        assert "=cmd|' /C calc'!A0" in path.read_text(encoding="utf-8")
    elif writer == "write_csv":
        path = env.tmp / "f.csv"
        write_csv(path, joined_header(), joined_rows([(1, app)]))
        assert "'=cmd|' /C calc'!A0" in path.read_text(encoding="utf-8-sig")  # escaped on the way out
    else:
        path = xlsx(env.tmp / "f.xlsx", [(1, app)])
    assert "Imported 1 applications" in env.import_(admin("hefei"), path)
    env.check_stored([app])
    stored = env.stored()[0].application
    assert stored["enterprise"]["address"] == "=cmd|' /C calc'!A0"
    assert stored["team"][1]["responsibility"] == "-测试与验证"


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".json"])
def test_an_oversized_file_is_refused(env: Env, monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    apps = hefei_apps(30, start=1000)
    path = env.tmp / f"big{suffix}"
    if suffix == ".csv":
        path.write_text(csv_text(joined_header(), joined_rows(numbered(apps))), encoding="utf-8")
    elif suffix == ".xlsx":
        xlsx(path, numbered(apps))
    else:
        path.write_text(json.dumps(apps, ensure_ascii=False), encoding="utf-8")
    size = path.stat().st_size
    assert size > 0.01 * 1024 * 1024
    monkeypatch.setenv("EVALFLOW_MAX_IMPORT_MB", "0.01")
    out = line_of(env.refused(admin("hefei"), path))
    mb = size / 1024 / 1024
    assert f"it is {mb:.1f} MB" in out if mb >= 0.1 else f"it is {mb:.2g} MB" in out
    assert "the limit is 0.01 MB" in out and "EVALFLOW_MAX_IMPORT_MB" in out
    monkeypatch.setenv("EVALFLOW_MAX_IMPORT_MB", "50")
    assert "Imported 30 applications" in env.import_(admin("hefei"), path)


@pytest.mark.parametrize(
    "suffix",
    [
        pytest.param(
            ".csv",
        ),
        pytest.param(".json"),
    ],
)
def test_the_size_refusal_states_the_limit_as_set(env: Env, monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    path = env.tmp / f"big{suffix}"
    path.write_bytes(b"x" * (700 * 1024))
    monkeypatch.setenv("EVALFLOW_MAX_IMPORT_MB", "0.5")
    out = line_of(env.refused(admin("hefei"), path))
    assert "0.7 MB" in out and "the limit is 0.5 MB" in out


@pytest.mark.parametrize("suffix", [".xlsm", ".xltm", ".xlsb", ".xls"])
def test_macro_and_old_formats_are_refused(env: Env, suffix: str) -> None:
    path = env.tmp / f"申报{suffix}"
    shutil.copy(a_real_xlsx(env.tmp / "real.xlsx"), path)
    out = line_of(env.refused(admin("hefei"), path))
    assert f"{suffix} files are not accepted (macros or old formats)" in out


@pytest.mark.parametrize("member", ["xl/vbaProject.bin", "xl/vbaProjectSignature.bin"])
def test_an_xlsx_carrying_macros_is_refused(env: Env, member: str) -> None:
    path = rebuild_zip(a_real_xlsx(env.tmp / "real.xlsx"), env.tmp / "macro.xlsx", add=[(member, b"\xd0\xcf\x11\xe0")])
    out = line_of(env.refused(admin("hefei"), path))
    assert "it contains macros (vbaProject.bin)" in out


def _sheet_bomb(data: bytes) -> bytes:
    text = data.decode("utf-8").replace("<worksheet", doctype("worksheet") + "<worksheet", 1)
    return re.sub(r"<t>[^<]*</t>", "<t>&lol9;</t>", text, count=3).encode("utf-8")


def _shared_strings_files() -> tuple[dict, bytes]:
    """Turn cell B2 into a shared string, and a sharedStrings part with a bomb in it."""

    def content_types(data: bytes) -> bytes:
        part = (
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml" />'
        )
        return data.replace(b"</Types>", part.encode() + b"</Types>")

    def sheet(data: bytes) -> bytes:
        return re.sub(rb'<c r="B2" t="inlineStr"><is><t>[^<]*</t></is></c>', b'<c r="B2" t="s"><v>0</v></c>', data)

    sst = (
        '<?xml version="1.0"?>' + doctype("sst") + '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        '2006/main" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'
    )
    return {"[Content_Types].xml": content_types, "xl/worksheets/sheet1.xml": sheet}, sst.encode()


@pytest.mark.parametrize("part", ["sheet", "sharedStrings"])
def test_an_xml_bomb_is_refused_quickly(env: Env, parties, part: str) -> None:
    real = a_real_xlsx(env.tmp / "real.xlsx")
    if part == "sheet":
        path = rebuild_zip(real, env.tmp / "bomb.xlsx", {"xl/worksheets/sheet1.xml": _sheet_bomb})
    else:
        change, sst = _shared_strings_files()
        path = rebuild_zip(real, env.tmp / "bomb.xlsx", change, [("xl/sharedStrings.xml", sst)])
    started = time.monotonic()
    with pytest.raises(InvalidInput) as err:
        read_applications(path, FORM, parties)
    assert time.monotonic() - started < 2
    message = str(err.value)
    assert err.value.exit_code == 7 and message.startswith(f"Invalid file {path}")
    assert "refused as unsafe" in message or "cannot be read as .xlsx" in message

    before = snapshot(env.store)
    result = CliRunner().invoke(
        main, ["--db", str(env.cli.db), "--now", JAN, "--as", admin("hefei"), "project", "import", str(path)]
    )
    assert result.exit_code == 7, result.output
    assert result.stderr.startswith("Error: Invalid file") and "Traceback" not in result.output
    assert snapshot(env.store) == before


def with_a_formula(path: Path) -> Path:
    """An import file that holds a formula (=1+1 as 党员数 of 申报序号 2), so that it is read by the
    reader that tells formulas apart; it is refused for the formula when it can be read at all."""
    apps = hefei_apps(2, start=2500)
    rows = [flat_row(FORM, a, r) for r, a in numbered(apps)]
    rows[1][COL["党员数"]] = "=1+1"
    return raw_xlsx(path, rows, [m for r, a in numbered(apps) for m in team_rows(FORM, a, r)])


def _bad_row(data: bytes) -> bytes:
    return data.replace(b"</sheetData>", b"<row r='99'><c r='A99'><v>1</v></row></sheetData>")  # </c> missing


def test_a_corrupt_sheet_without_formulas_is_invalid_input(env: Env, parties) -> None:
    path = rebuild_zip(
        a_real_xlsx(env.tmp / "real.xlsx"), env.tmp / "corrupt.xlsx", {"xl/worksheets/sheet2.xml": _bad_row}
    )
    with pytest.raises(InvalidInput) as err:
        read_applications(path, FORM, parties)
    assert "cannot be read as .xlsx" in str(err.value)
    assert "cannot be read as .xlsx" in line_of(env.refused(admin("hefei"), path))


def test_a_corrupt_sheet_with_a_formula_is_invalid_input_not_a_crash(env: Env, parties) -> None:
    path = rebuild_zip(
        with_a_formula(env.tmp / "f.xlsx"), env.tmp / "corrupt.xlsx", {"xl/worksheets/sheet2.xml": _bad_row}
    )
    with pytest.raises(InvalidInput):
        read_applications(path, FORM, parties)


def test_an_unreadable_xlsx_is_refused_in_one_line(env: Env) -> None:
    path = rebuild_zip(
        with_a_formula(env.tmp / "f.xlsx"),
        env.tmp / "weird.xlsx",
        {"xl/workbook.xml": lambda b: b.replace(b'state="visible"', b'state="weird"', 1)},
    )
    out = env.refused(admin("hefei"), path)  # Cli asserts exactly one "Error: …" line, exit 7
    assert "cannot be read as .xlsx" in out


def test_a_zip_bomb_is_refused(env: Env) -> None:
    path = rebuild_zip(a_real_xlsx(env.tmp / "real.xlsx"), env.tmp / "zipbomb.xlsx")
    with (
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z,
        z.open("xl/media/image1.bin", "w", force_zip64=True) as f,
    ):
        chunk = bytes(1024 * 1024)
        for _ in range(200):  # 200 MB of zeros, about 200 KB compressed
            f.write(chunk)
    assert path.stat().st_size < 1024 * 1024
    out = line_of(env.refused(admin("hefei"), path))
    assert "it unpacks to 200 MB from" in out and "refused as unsafe" in out


def test_not_an_xlsx_and_an_unknown_kind(env: Env) -> None:
    fake = env.tmp / "申报.xlsx"
    fake.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))  # an old .xls renamed
    assert "not a valid .xlsx file" in line_of(env.refused(admin("hefei"), fake))
    doc = env.tmp / "申报.docx"
    doc.write_bytes(b"PK\x03\x04")
    assert "unknown kind .docx" in line_of(env.refused(admin("hefei"), doc))
    assert "cannot be read" in line_of(env.refused(admin("hefei"), env.tmp / "absent.csv"))
    broken = env.tmp / "broken.json"
    broken.write_text('[{"filler": ', encoding="utf-8")
    assert "not valid JSON" in line_of(env.refused(admin("hefei"), broken))
    scalar = env.tmp / "scalar.json"
    scalar.write_text('{"filler": "王伟"}', encoding="utf-8")
    assert "expected a list of application objects" in line_of(env.refused(admin("hefei"), scalar))
    empty = env.tmp / "empty.csv"
    empty.write_text(csv_text(joined_header(), []), encoding="utf-8")
    assert "the file holds no application" in line_of(env.refused(admin("hefei"), empty))


# ------------------------------------------------------------------------------------------ 4. permissions, window
def test_another_citys_admin_is_refused_every_row_grouped(env: Env) -> None:
    path = xlsx(env.tmp / "hefei.xlsx", numbered(hefei_apps(20, start=1100)))
    out = line_of(env.refused(admin("jiaxing"), path))
    assert (
        "[申报表 row 2 (申报序号 1); 申报表 row 3 (申报序号 2); 申报表 row 4 (申报序号 3) and 17 more] "
        "not permitted: jiaxing-admin acts for jiaxing; this project belongs to hefei"
    ) in out
    assert out.count("not permitted") == 1

    out = line_of(env.refused(applicant("jiaxing"), path))
    assert "and 17 more] not permitted: jiaxing-applicant acts for jiaxing" in out
    out = line_of(env.refused(LEAD, path))
    assert "and 17 more] not permitted: lead is lead; submit is done by applicant or city-admin" in out

    # one foreign row in an otherwise good file: the whole file is refused
    mixed = xlsx(env.tmp / "mixed.xlsx", numbered([*hefei_apps(3, start=1200), make_app("jiaxing", 1300)]))
    out = line_of(env.refused(admin("hefei"), mixed))
    assert (
        "[申报表 row 5 (申报序号 4)] not permitted: hefei-admin acts for hefei; this project belongs to jiaxing" in out
    )


def test_after_the_collection_window_the_import_is_refused_once(env: Env) -> None:
    path = xlsx(env.tmp / "late.xlsx", numbered(hefei_apps(20, start=1400)))
    out = line_of(env.refused(admin("hefei"), path, code=3, now=CLOSED))
    assert out.startswith(f"Error: Cannot import applications into cycle {CYCLE}")
    assert out.count("[stage_window]") == 1


# ------------------------------------------------------------------------------------------ 5. dry run
def test_dry_run_reports_the_counts_and_changes_nothing(env: Env) -> None:
    apps = hefei_apps(20, start=1500)
    path = xlsx(env.tmp / "dry.xlsx", numbered(apps))
    before = snapshot(env.store)
    out = env.import_(admin("hefei"), path, "--dry-run")
    assert out.strip() == "Checked 20 applications: 20 would be imported. Nothing was imported (--dry-run)."
    assert snapshot(env.store) == before

    # a dry run still reports every problem, with the exit code of the real import
    bad = xlsx(env.tmp / "dry-bad.xlsx", numbered(hefei_apps(2, start=1600)), app_rows=[[3, *[None] * 21, "x"]])
    out = line_of(env.refused(admin("hefei"), bad, "--dry-run"))
    assert "[申报表 row 4] enterprise.name (企业名称) is missing" in out


def test_dry_run_through_the_engine(env: Env, parties) -> None:
    apps = hefei_apps(4, start=1700)
    items = read_applications(xlsx(env.tmp / "e.xlsx", numbered(apps)), FORM, parties)
    assert [label for label, _ in items] == [f"申报表 row {n} (申报序号 {n - 1})" for n in range(2, 6)]
    before = snapshot(env.store)
    seen: list[int] = []
    result = env.engine.submit_batch(admin("hefei"), items, CYCLE, dry_run=True, progress=seen.append)
    assert result.dry_run and len(result.created) == 4 and result.unchanged == []
    assert all(p.id is None for p in result.created) and seen == [1, 2, 3, 4]
    assert snapshot(env.store) == before


# ------------------------------------------------------------------------------------------ 6. audit
def test_each_imported_project_has_a_submit_audit_row_marked_imported(env: Env) -> None:
    apps = hefei_apps(5, start=1800)
    env.import_(admin("hefei"), xlsx(env.tmp / "audit.xlsx", numbered(apps)))
    for project in env.stored():
        _, _, history = env.engine.project(LEAD, project.id)
        submits = [e for e in history if e.action == "submit"]
        assert len(submits) == 1
        entry = submits[0]
        assert entry.data["imported"] is True
        assert entry.actor == admin("hefei")
        assert (entry.from_state, entry.to_state) == ("new", "submitted")
        assert entry.data["enterprise"] == project.unit_name
        assert entry.data["project_name"] == project.project_name
        assert entry.data["city"] == "hefei"


# ------------------------------------------------------------------------------------------ bugs found
def test_blank_rows_are_skipped_and_a_blank_key_is_reported(env: Env) -> None:
    apps = hefei_apps(2, start=1900)
    members = [m for r, a in numbered(apps) for m in team_rows(FORM, a, r)]
    gap = xlsx(
        env.tmp / "gap.xlsx",
        [],
        app_rows=[flat_row(FORM, apps[0], 1), [None] * len(application_columns(FORM)), flat_row(FORM, apps[1], 2)],
        member_rows=[members[0], [None] * len(team_columns(FORM)), *members[1:]],
    )
    nokey = xlsx(
        env.tmp / "nokey.xlsx",
        [],
        app_rows=[flat_row(FORM, apps[0], None), flat_row(FORM, apps[1], 2)],
        member_rows=members,
    )
    assert "[申报表 row 2] 申报序号 is empty" in line_of(env.refused(admin("hefei"), nokey))
    assert "Imported 2 applications" in env.import_(admin("hefei"), gap)
    env.check_stored(apps)


@pytest.mark.parametrize("blank", ["row", "key"])
def test_blank_cells_in_a_file_with_a_formula(env: Env, blank: str) -> None:
    """The same file with a formula somewhere is read by openpyxl: it must be refused for the
    formula (and, for a blank key, the blank key) — not crash."""
    apps = hefei_apps(2, start=1950)
    first = flat_row(FORM, apps[0], None if blank == "key" else 1)
    second = flat_row(FORM, apps[1], 2)
    second[COL["党员数"]] = "=1+1"
    rows = [first, second] if blank == "key" else [first, [None] * len(first), second]
    path = raw_xlsx(env.tmp / "f.xlsx", rows, [m for r, a in numbered(apps) for m in team_rows(FORM, a, r)])
    out = line_of(env.refused(admin("hefei"), path))
    assert "holds a formula (=1+1)" in out


def test_an_application_without_evidence_round_trips(env: Env) -> None:
    """JSON takes "evidence": [] (the no_evidence flaw is judged at accept); the spreadsheet form of
    the same application (flat_row gives an empty cell) should be imported too."""
    app = make_app("hefei", 2000, flaw="no_evidence")
    assert app["project"]["evidence"] == [] and validate_application(app, FORM)
    env.import_(admin("hefei"), xlsx(env.tmp / "noev.xlsx", [(1, app)]))
    env.check_stored([app])


@pytest.mark.parametrize(
    "where",
    [
        pytest.param("key"),
        pytest.param("flag"),
    ],
)
def test_formulas_in_key_and_flag_cells_are_refused_as_formulas(env: Env, where: str) -> None:
    app = make_app("hefei", 2100)
    row = flat_row(FORM, app, "=ROW()-1" if where == "key" else 1)
    members = team_rows(FORM, app, "=ROW()-1" if where == "key" else 1)
    if where == "flag":
        members[0][TEAM_COL["项目负责人"]] = '=IF(B2<>"","是","否")'
    path = raw_xlsx(env.tmp / "f.xlsx", [row], members)
    out = line_of(env.refused(admin("hefei"), path))
    assert "holds a formula" in out


def test_a_formula_in_a_sheet_stored_outside_xl_worksheets_is_refused(env: Env) -> None:
    """OPC lets the workbook's relationships put a sheet at any part name (here xl/sheet1.xml); the
    formula, with its cached value 2, must still be refused and not imported as 党员数 = 2."""
    src = with_a_formula(env.tmp / "f.xlsx")

    def relocate(data: bytes) -> bytes:
        return data.replace(b"/xl/worksheets/sheet1.xml", b"/xl/sheet1.xml")

    def cached(data: bytes) -> bytes:
        return re.sub(rb"<f>1\+1</f>(<v\s*/>|<v></v>)?", b"<f>1+1</f><v>2</v>", data)

    path = env.tmp / "relocated.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name in ("[Content_Types].xml", "xl/_rels/workbook.xml.rels"):
                data = relocate(data)
            if name == "xl/worksheets/sheet1.xml":
                assert b"<f>1+1</f>" in data
                name, data = "xl/sheet1.xml", cached(data)
            zout.writestr(name, data)
    out = line_of(env.refused(admin("hefei"), path))
    assert "[申报表 row 3 党员数] holds a formula (=1+1)" in out


def test_quotes_and_commas_in_a_csv_cell_round_trip(env: Env) -> None:
    """Excel (and evalflow's own write_csv) writes a cell holding a comma and double quotes as
    "突破""卡脖子""工艺, 实现国产化"; it must come back as it was."""
    app = make_app("hefei", 2150)
    app["project"]["content"] = '突破"卡脖子"工艺, 实现国产化'
    path = env.tmp / "quotes.csv"
    write_csv(path, joined_header(), joined_rows([(1, app)]))
    assert '"突破""卡脖子""工艺, 实现国产化"' in path.read_text(encoding="utf-8-sig")
    assert "Imported 1 applications" in env.import_(admin("hefei"), path)
    env.check_stored([app])


def test_csv_row_numbers_match_the_spreadsheet_rows(env: Env) -> None:
    first, second = make_app("hefei", 2200), make_app("hefei", 2201)
    first["enterprise"]["introduction"] = "第一段。\n第二段。"  # a cell with a line break (Alt+Enter)
    rows = joined_rows([(1, first), (2, second)])
    bad_row = len(first["team"]) + 2  # header is row 1, the first application's members follow
    rows[bad_row - 2][COL["项目启动时间"]] = "明年"
    path = env.tmp / "multiline.csv"
    path.write_text(csv_text(joined_header(), rows), encoding="utf-8")
    out = line_of(env.refused(admin("hefei"), path))
    assert f"[row {bad_row} 项目启动时间] '明年' is not a date" in out


def test_a_csv_member_row_without_a_name_is_reported(env: Env) -> None:
    app = make_app("hefei", 2300)
    rows = joined_rows([(1, app)])
    rows[1][len(application_columns(FORM))] = None  # second member: 姓名 left blank, the rest filled in
    path = env.tmp / "noname.csv"
    path.write_text(csv_text(joined_header(), rows), encoding="utf-8")
    out = line_of(env.refused(admin("hefei"), path))  # the XLSX layout reports team[2].name missing
    assert "姓名" in out
