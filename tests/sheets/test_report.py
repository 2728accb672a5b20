"""`evalflow report`: the official list, the score matrix, per-city statistics and municipal funding
as XLSX, CSV and Markdown, with Chinese or English headers.

Every cell written is read back and compared with what the engine says (the published list, each
city's current sheet, `cycle status`, the projects' states). Text that a spreadsheet would run as
a formula stays text. Only the lead writes reports.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import text as sql

import sheets.report
from sheets.files import read_tables
from tests.cli.test_full_cycle import Cli
from tests.conftest import CITIES, CITY_NAMES, LEAD, PROGRAM, SHEET_LOW, SHEET_MID, admin, scorer, sh
from tests.workflow.checkpoints import Staged, at_stage, stage_templates  # noqa: F401  (fixtures)
from workflow.engine import Engine
from workflow.program import ProgramRegistry, default_program_dirs

FIXTURES = (at_stage, stage_templates)

PUBLISHED = "2027-06-12T10:00"
SHIPPED = default_program_dirs()[-1] / f"{PROGRAM}.toml"
KEYS = ("list", "matrix", "cities", "funding")
TITLES = {
    "zh": {"list": "正式名单", "matrix": "评分矩阵", "cities": "城市统计", "funding": "市级资金"},
    "en": {
        "list": "official list",
        "matrix": "score matrix",
        "cities": "per-city statistics",
        "funding": "municipal funding",
    },
}
LIST_HEADER = {
    "zh": ["名次", "项目编号", "项目名称", "企业名称", "所在城市", "类别", "平均分"],
    "en": ["rank", "project id", "project", "enterprise", "city", "category", "mean score"],
}
CITIES_HEADER = {
    "zh": [
        "所在城市",
        "申报数",
        "入库数（符合条件）",
        "未通过",
        "市级示范",
        "市级示范限额",
        "市级优秀",
        "市级优秀限额",
        "推荐数",
        "G60示范",
        "G60优秀",
        "已授牌",
    ],
    "en": [
        "city",
        "applications",
        "eligible (accepted)",
        "rejected",
        "municipal demonstration",
        "demonstration quota",
        "municipal excellent",
        "excellent quota",
        "recommended",
        "G60 demonstration",
        "G60 excellent",
        "awarded",
    ],
}
FUNDING_HEADER = {
    "zh": ["所在城市", "市级示范项目数", "示范每项支持（元）", "市级优秀项目数", "优秀每项支持（元）", "合计（元）"],
    "en": [
        "city",
        "municipal demonstration projects",
        "support per demonstration (yuan)",
        "municipal excellent projects",
        "support per excellent (yuan)",
        "total (yuan)",
    ],
}
ALL = {"zh": "合计", "en": "total"}
PLACED = ("listed_demonstration", "listed_excellent", "not_listed", "awarded")
DOWNSTREAM = ("in_library", "municipal_demonstration", "municipal_excellent", "municipal_none", "recommended", *PLACED)


# ------------------------------------------------------------------------------------------ reading back
Tables = dict[str, tuple[list[str], list[list[str]]]]


def text(v: Any) -> str:
    return "" if v is None else str(v)


def read_xlsx(path: Path, lang: str) -> Tables:
    wb = openpyxl.load_workbook(path)
    analysis = {"zh": "评分分析", "en": "score analysis"}[lang]  # (the workbook's fifth: test_report_analysis.py)
    assert wb.sheetnames == [TITLES[lang][k] for k in KEYS] + [analysis]
    out: Tables = {}
    for key in KEYS:
        rows = [[c.value for c in r] for r in wb[TITLES[lang][key]].iter_rows()]
        out[key] = ([text(v) for v in rows[0]], [[text(v) for v in r] for r in rows[1:]])
    # numbers stay numbers: ranks, ids, scores and money can be summed in a spreadsheet
    ws = wb[TITLES[lang]["matrix"]]
    assert all(isinstance(ws.cell(r, 1).value, int) for r in range(2, ws.max_row + 1))
    assert all(isinstance(ws.cell(r, 4).value, int) for r in range(2, ws.max_row + 1))
    assert isinstance(wb[TITLES[lang]["funding"]].cell(2, 6).value, int)
    return out


def read_csv_dir(folder: Path) -> Tables:
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{k}.csv" for k in KEYS)
    out: Tables = {}
    for key in KEYS:
        raw = (folder / f"{key}.csv").read_bytes()
        assert raw.startswith(codecs.BOM_UTF8), f"{key}.csv has no BOM: Excel would garble the Chinese text"
        rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
        out[key] = (rows[0], rows[1:])
    return out


def read_md(path: Path, lang: str, program: Any) -> Tables:
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[0] == f"# {program.name if lang == 'zh' else program.name_en} — g60-2027"
    out: Tables = {}
    titles = {v: k for k, v in TITLES[lang].items()}
    i = 0
    while i < len(lines):
        if lines[i].startswith("## "):
            key = titles[lines[i][3:]]
            header = _md_cells(lines[i + 2])
            assert lines[i + 3] == "|" + "---|" * len(header)
            rows = []
            i += 4
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(_md_cells(lines[i]))
                i += 1
            out[key] = (header, rows)
        i += 1
    assert list(out) == list(KEYS)
    return out


def _md_cells(line: str) -> list[str]:
    assert line.startswith("| ") and line.endswith(" |"), line
    return [c.replace("\\|", "|") for c in re.split(r" (?<!\\)\| ", line[2:-2])]


def written(s: Staged, fmt: str, lang: str, out: Path) -> Tables:
    path = s.store.sqlite_path()
    assert path is not None
    result = Cli(path)(LEAD, PUBLISHED, "report", "--format", fmt, "--lang", lang, "--out", str(out))
    assert result.startswith("Wrote ")
    program = s.engine.programs.get(PROGRAM)
    if fmt == "xlsx":
        return read_xlsx(out, lang)
    if fmt == "csv":
        return read_csv_dir(out)
    return read_md(out, lang, program)


# ------------------------------------------------------------------------------------------ what the engine says
def expected(s: Staged, lang: str) -> Tables:
    engine = s.engine
    program = engine.programs.get(PROGRAM)
    zh = lang == "zh"
    city_name = {c: (CITY_NAMES[c] if zh else c) for c in CITIES}
    _, versions, _ = engine.list_versions(LEAD)
    [published] = [v for v in versions if v.status == "published"]
    category = {
        "demonstration": "G60深度融合示范项目" if zh else "demonstration",
        "excellent": "G60深度融合优秀项目" if zh else "excellent",
    }
    projects = {p.id: p for p in engine.projects(LEAD)}

    listed = []
    for e in published.entries:
        if e.category == "none":
            continue
        p = projects[e.project_id]
        assert (e.project_name, e.unit_name, e.city) == (p.project_name, p.unit_name, p.city)
        listed.append(
            [e.rank, e.project_id, p.project_name, p.unit_name, city_name[p.city], category[e.category], e.score]
        )

    crits = program.criteria
    header = LIST_HEADER[lang][1:3] + [LIST_HEADER[lang][4]]
    for c in CITIES:
        header += [f"{city_name[c]}·{k.short if zh else k.id}" for k in crits] + [f"{city_name[c]}·{ALL[lang]}"]
    header.append(LIST_HEADER[lang][6])
    score = {e.project_id: e.score for e in published.entries}
    matrix = []
    for pid, p in sorted(projects.items()):
        if p.state not in PLACED:
            continue
        current = {x.city: x for x in engine.project(LEAD, pid)[1] if x.current}
        row: list[Any] = [pid, p.project_name, city_name[p.city]]
        for c in CITIES:
            row += [current[c].scores[k.id] for k in crits] + [sum(current[c].scores.values())]
        row.append(score[pid])
        matrix.append(row)

    status = {c["city"]: c for c in engine.status(LEAD)["cities"]}
    category_of = {e.project_id: e.category for e in published.entries}
    cities, sums = [], [0] * 9
    for c in CITIES:
        mine = [p for p in projects.values() if p.city == c]
        n = {st: sum(1 for p in mine if p.state == st) for st in {p.state for p in mine}}
        awarded = [p.id for p in mine if p.state == "awarded"]
        values = [
            len(mine),
            sum(n.get(st, 0) for st in DOWNSTREAM),
            n.get("rejected", 0),
            sum(1 for p in mine if p.review_result == "demonstration"),
            sum(1 for p in mine if p.review_result == "excellent"),
            sum(n.get(st, 0) for st in ("recommended", *PLACED)),
            n.get("listed_demonstration", 0) + sum(1 for pid in awarded if category_of[pid] == "demonstration"),
            n.get("listed_excellent", 0) + sum(1 for pid in awarded if category_of[pid] == "excellent"),
            len(awarded),
        ]
        st = status[c]
        assert values[:6] == [
            st[k] for k in ("submitted", "accepted", "rejected", "demonstration", "excellent", "recommended")
        ]
        # the quota in a column of its own: "5/10" would turn into a date in Excel
        quotas = [values[3], st["demonstration_quota"], values[4], st["excellent_quota"]]
        cities.append([city_name[c], *values[:3], *quotas, *values[5:]])
        sums = [a + b for a, b in zip(sums, values, strict=True)]
    cities.append([ALL[lang], *sums[:4], None, sums[4], None, *sums[5:]])

    funding = [
        [city_name["songjiang"], 5, 20000, 1, 8000, 5 * 20000 + 1 * 8000],
        [ALL[lang], None, None, None, None, 108000],
    ]
    assert status["songjiang"]["funding"] == 108000
    return {
        "list": (LIST_HEADER[lang], [[text(v) for v in r] for r in listed]),
        "matrix": (header, [[text(v) for v in r] for r in matrix]),
        "cities": (CITIES_HEADER[lang], [[text(v) for v in r] for r in cities]),
        "funding": (FUNDING_HEADER[lang], [[text(v) for v in r] for r in funding]),
    }


def award_some(s: Staged) -> list[int]:
    """Award the first demonstration and the first excellent project of the published list."""
    _, versions, _ = s.engine.list_versions(LEAD)
    entries = versions[-1].entries
    chosen = [next(e.project_id for e in entries if e.category == cat) for cat in ("demonstration", "excellent")]
    s.engine.fire(LEAD, chosen, "award")
    return chosen


# ------------------------------------------------------------------------------------------ the report
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("fmt", ["xlsx", "csv", "md"])
def test_report_matches_the_engine(at_stage, tmp_path: Path, fmt: str, lang: str) -> None:
    s = at_stage("published")
    awarded = award_some(s)
    out = tmp_path / ("report" if fmt == "csv" else f"report.{fmt}")
    got = written(s, fmt, lang, out)
    want = expected(s, lang)
    for key in KEYS:
        assert got[key][0] == want[key][0], key
        assert got[key][1] == want[key][1], key

    # the numbers the scenario fixes, independently of the engine's reads
    assert [r[1] for r in got["list"][1]] == [str(pid) for pid in (*s.high, *s.mid)]
    assert len(got["matrix"][1]) == 45
    cities = {r[0]: r for r in got["cities"][1]}
    sj = cities["松江区" if lang == "zh" else "songjiang"]
    assert sj[1:9] == ["6", "6", "0", "5", "10", "1", "25", "5"]
    assert sj[9:] == ["1", "0", "1"]  # songjiang's demonstration project was awarded: still counted as listed
    assert cities[ALL[lang]][1:] == ["54", "54", "0", "45", "", "9", "", "45", "2", "3", "2"]
    assert got["funding"][1][0][-1] == "108000" and got["funding"][1][-1][-1] == "108000"
    assert awarded[0] in s.high


def test_report_before_any_list(at_stage, tmp_path: Path) -> None:
    """At confirmation there is no list yet: the official list is empty, the matrix complete."""
    s = at_stage("confirmation")
    path = s.store.sqlite_path()
    assert path is not None
    Cli(path)(LEAD, "2027-05-16T10:00", "report", "--out", str(tmp_path / "r.xlsx"))
    got = read_xlsx(tmp_path / "r.xlsx", "zh")
    assert got["list"] == (LIST_HEADER["zh"], [])
    assert len(got["matrix"][1]) == 45
    Cli(path)(LEAD, "2027-05-16T10:00", "report", "--format", "md", "--out", str(tmp_path / "r.md"))
    assert "名单状态" not in (tmp_path / "r.md").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------ formula injection
PAYLOADS = {
    "equals": '=HYPERLINK("http://x","y")',
    "plus": "+1+cmd|' /C calc'!A0",
    "minus": "-2+3",
    "at": "@SUM(A1:A2)",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}


@contextmanager
def _injected(s: Staged, payload: str) -> Iterator[tuple[Any, int, int]]:
    """The report's data (inside its read) once ``payload`` is the unit of the list's first entry
    and the name of the matrix's first project, as if the applicant had typed it."""
    with s.engine.report(LEAD) as data:
        entry = next(e for e in data.entries() if e.category != "none")
        first = next(data.matrix()).id
        list_id = data.list.id
    with s.store.engine.begin() as conn:
        stored = conn.execute(sql("SELECT entries FROM list_versions WHERE id = :id"), {"id": list_id})
        entries = json.loads(stored.scalar_one())
        next(e for e in entries if e["project_id"] == entry.project_id)["unit_name"] = payload
        changed = {"e": json.dumps(entries), "id": list_id}
        conn.execute(sql("UPDATE list_versions SET entries = :e WHERE id = :id"), changed)
        conn.execute(sql("UPDATE projects SET project_name = :n WHERE id = :id"), {"n": payload, "id": first})
    with s.engine.report(LEAD) as data:
        yield data, entry.project_id, first


@pytest.mark.parametrize(
    "name",
    [n for n in PAYLOADS],
)
def test_formula_looking_text_is_text_in_xlsx(at_stage, tmp_path: Path, name: str) -> None:
    s = at_stage("published")
    payload = PAYLOADS[name]
    out = tmp_path / "r.xlsx"
    with _injected(s, payload) as (data, _, _):
        sheets.report.write(data, "xlsx", "zh", out)
    with zipfile.ZipFile(out) as z:
        xml = b"".join(z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert b"<f>" not in xml and b"<f " not in xml  # no formula anywhere in the file
    wb = openpyxl.load_workbook(out)
    listed = wb["正式名单"].cell(2, 4)
    matrix = wb["评分矩阵"].cell(2, 2)
    for cell in (listed, matrix):
        assert cell.data_type == "s"
        # a carriage return is stored as OOXML's _x000D_ escape, which Excel and calamine decode
        assert cell.value == payload.replace("\r", "_x000D_")
    book = CalamineWorkbook.from_path(str(out))
    assert book.get_sheet_by_name("正式名单").to_python()[1][3] == payload
    assert book.get_sheet_by_name("评分矩阵").to_python()[1][1] == payload


@pytest.mark.parametrize("name", list(PAYLOADS))
def test_formula_looking_text_is_escaped_in_csv(at_stage, tmp_path: Path, name: str) -> None:
    s = at_stage("published")
    payload = PAYLOADS[name]
    with _injected(s, payload) as (data, _, pid):
        files = sheets.report.write(data, "csv", "zh", tmp_path / "r")
    assert [f.name for f in files] == [f"{k}.csv" for k in KEYS]
    with open(tmp_path / "r" / "list.csv", encoding="utf-8-sig", newline="") as f:
        listed = list(csv.reader(f))
    with open(tmp_path / "r" / "matrix.csv", encoding="utf-8-sig", newline="") as f:
        matrix = list(csv.reader(f))
    assert listed[1][3] == "'" + payload
    assert matrix[1][0] == str(pid) and matrix[1][1] == "'" + payload
    # evalflow reading its own CSV back gets the text as it was
    assert read_tables(tmp_path / "r" / "list.csv")[0].rows[0][1][3] == payload


def test_markdown_rows_stay_one_line(at_stage, tmp_path: Path) -> None:
    s = at_stage("published")
    with _injected(s, "\r=1+1") as (data, _, _):
        sheets.report.write(data, "md", "zh", tmp_path / "r.md")
    body = (tmp_path / "r.md").read_text(encoding="utf-8")
    for line in body.splitlines():  # CR, LF and CRLF all end a line in CommonMark
        assert not line or line.startswith(("#", "|", "名单状态")), repr(line)


def test_markdown_escapes_pipes_and_newlines(at_stage, tmp_path: Path) -> None:
    s = at_stage("published")
    with _injected(s, "甲|乙\n丙") as (data, _, _):
        sheets.report.write(data, "md", "zh", tmp_path / "r.md")
    got = read_md(tmp_path / "r.md", "zh", data.program)
    assert got["list"][1][0][3] == "甲|乙 丙"


# ------------------------------------------------------------------------------------------ who, where, how
@pytest.mark.parametrize("user", [admin("hefei"), admin("songjiang"), scorer("hefei"), "songjiang-applicant"])
def test_only_the_lead_writes_reports(at_stage, tmp_path: Path, user: str) -> None:
    s = at_stage("published")
    path = s.store.sqlite_path()
    assert path is not None
    out = Cli(path)(user, PUBLISHED, "report", "--out", str(tmp_path / "r.xlsx"), code=4)
    assert out.startswith("Error: Not permitted to report on cycle g60-2027")
    assert not (tmp_path / "r.xlsx").exists()


def test_csv_goes_to_the_folder_given(at_stage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = at_stage("published")
    path = s.store.sqlite_path()
    assert path is not None
    cli = Cli(path)
    folder = tmp_path / "deep" / "er"
    out = cli(LEAD, PUBLISHED, "report", "--format", "csv", "--out", str(folder))
    assert out.strip() == "Wrote " + ", ".join(str(folder / f"{k}.csv") for k in KEYS)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{k}.csv" for k in KEYS)

    monkeypatch.chdir(tmp_path)  # the defaults: report-CYCLE.xlsx, and a folder report-CYCLE for csv
    cli(LEAD, PUBLISHED, "report")
    cli(LEAD, PUBLISHED, "report", "--format", "csv")
    cli(LEAD, PUBLISHED, "report", "--format", "md")
    assert (tmp_path / "report-g60-2027.xlsx").is_file() and (tmp_path / "report-g60-2027.md").is_file()
    assert (tmp_path / "report-g60-2027" / "matrix.csv").is_file()


def test_unknown_format_or_language_is_a_usage_error(at_stage, tmp_path: Path) -> None:
    s = at_stage("published")
    path = s.store.sqlite_path()
    assert path is not None
    assert "'pdf' is not one of" in Cli(path)(LEAD, PUBLISHED, "report", "--format", "pdf", code=2)
    assert "'fr' is not one of" in Cli(path)(LEAD, PUBLISHED, "report", "--lang", "fr", code=2)


@pytest.fixture
def trimmed_programs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the G60 program whose list aggregates with the trimmed mean, found first."""
    folder = tmp_path / "programs"
    folder.mkdir()
    body = SHIPPED.read_text(encoding="utf-8")
    assert 'aggregate = "mean"' in body
    (folder / SHIPPED.name).write_text(
        body.replace('aggregate = "mean"', 'aggregate = "trimmed_mean"'), encoding="utf-8"
    )
    monkeypatch.setenv("EVALFLOW_PROGRAMS", str(folder))
    return folder


def _trimmed(totals: list[int], trim: int = 1) -> str:
    kept = sorted(totals)[trim : len(totals) - trim]
    return f"{float(Fraction(sum(kept), len(kept))):.4f}"


def test_trimmed_mean_column_when_the_program_says_so(at_stage, tmp_path: Path, trimmed_programs: Path) -> None:
    s = at_stage("hefei_short")  # hefei has scored 4 of 45: most projects have 8 sheets
    first = s.shortlist[0]
    s.engine.score(scorer("jiaxing"), first, SHEET_MID)  # 78
    s.engine.score(scorer("hefei"), first, SHEET_LOW)  # 62; the other seven cities gave 94
    path = s.store.sqlite_path()
    assert path is not None
    for lang, label in (("zh", "去掉最高最低分后平均分"), ("en", "trimmed mean")):
        Cli(path)(LEAD, "2027-05-15T10:00", "report", "--lang", lang, "--out", str(tmp_path / f"{lang}.xlsx"))
        ws = openpyxl.load_workbook(tmp_path / f"{lang}.xlsx")[TITLES[lang]["matrix"]]
        header = [c.value for c in ws[1]]
        assert header[-2:] == [LIST_HEADER[lang][6], label]
        rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
        assert rows[first][-2:] == (f"{798 / 9:.4f}", f"{642 / 7:.4f}")  # 88.6667 and 91.7143
        for pid, row in rows.items():
            totals = [x.total for x in s.engine.project(LEAD, pid)[1] if x.current]
            assert row[-1] == _trimmed(totals)
            assert row[-2] == f"{float(Fraction(sum(totals), len(totals))):.4f}"

    # under the shipped program (the engine of the checkpoint loaded it: mean) there is no such column
    with s.engine.report(LEAD) as data:
        assert data.program.list_settings["aggregate"] == "mean"
        header = sheets.report.build(data, "en")[1].header
    assert header[-1] == "mean score" and "trimmed mean" not in header


def _publish_trimmed(s: Staged, folder: Path) -> Engine:
    """Drive checkpoint confirmation to publication under the trimmed-mean program."""
    engine = Engine(s.store, ProgramRegistry([folder]), s.clock)
    s.clock.set(sh(5, 20))
    engine.propose_list(LEAD)
    s.clock.set(sh(6, 1))
    for c in CITIES:
        engine.confirm_list(admin(c))
    s.clock.set(sh(6, 10))
    engine.advance(LEAD)
    s.clock.set(sh(6, 12))
    engine.publish(LEAD)
    return engine


def test_list_score_column_names_the_trimmed_mean(at_stage, tmp_path: Path, trimmed_programs: Path) -> None:
    s = at_stage("confirmation")
    engine = _publish_trimmed(s, trimmed_programs)
    with engine.report(LEAD) as data:
        assert data.list is not None and data.list.method == "trimmed_mean"
        assert sheets.report.build(data, "zh")[0].header[-1] == "去掉最高最低分后平均分"
        assert sheets.report.build(data, "en")[0].header[-1] == "trimmed mean"
