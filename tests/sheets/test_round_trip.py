"""The whole cycle with spreadsheets only, through the command line, as offices would run it.

Every city fills the 附件1 template (written by `template application`) with openpyxl and imports
it; the cities accept, review and recommend; every city fills its own 附件2 sheet (written by
`template scores`) and imports it; the list is proposed, confirmed and published; `report`
writes the workbook. The report is read back and compared cell by cell with what the test typed
into the spreadsheets, computed here independently of the engine.
"""

from __future__ import annotations

import random
import re
from fractions import Fraction
from pathlib import Path

import openpyxl

from cli import main
from demo.synthetic import application
from sheets.applications import flat_row, team_rows
from store.sql import SqlStore
from tests.cli.test_full_cycle import Cli, open_nine_city_cycle
from tests.conftest import CITIES, CITY_NAMES, FORM, SettableClock, sh
from workflow.engine import Engine
from workflow.program import ProgramRegistry

PER_CITY = 5
CRITERIA = ("value", "organization", "effectiveness", "mechanism")
SHORT = {"value": "价值", "organization": "组织", "effectiveness": "成效", "mechanism": "机制"}
NAMES = {c.id: c.name for c in ProgramRegistry().get("g60-deep-integration").criteria}


def sheet_for(rng: random.Random) -> dict[str, int]:
    """A score inside one band of each criterion (附件2)."""
    bands = {
        "value": [(18, 20), (15, 17), (12, 14)],
        "organization": [(26, 30), (21, 25), (16, 20)],
        "effectiveness": [(26, 30), (21, 25), (16, 20)],
        "mechanism": [(18, 20), (15, 17), (12, 14)],
    }
    return {c: rng.randint(*rng.choice(bands[c])) for c in CRITERIA}


def test_applications_and_scores_in_a_report_out(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "cycle.db")
    cli(None, "2027-01-02T09:00", "init")
    open_nine_city_cycle(cli, "2027-01-02T09:00")
    rng = random.Random(2027)

    # 1. every city fills the application template and imports it
    template = tmp_path / "附件1.xlsx"
    cli("lead", "2027-01-03T09:00", "template", "application", "--out", str(template))
    typed: dict[str, list[dict]] = {}
    for n, city in enumerate(CITIES):
        wb = openpyxl.load_workbook(template)
        apps = [application(rng, city, CITY_NAMES[city], 2027, 100 * n + i) for i in range(1, PER_CITY + 1)]
        for i, app in enumerate(apps, start=1):
            wb["申报表"].append(flat_row(FORM, app, i))
            for row in team_rows(FORM, app, i):
                wb["团队成员"].append(row)
        path = tmp_path / f"{city}.xlsx"
        wb.save(path)
        out = cli(f"{city}-admin", "2027-01-20T09:00", "project", "import", str(path))
        assert re.match(rf"Imported {PER_CITY} applications into g60-2027: projects \d+–\d+", out), out
        typed[city] = apps
    ids = {
        city: [p["id"] for p in cli.json("lead", "2027-01-21T09:00", "project", "list", "--city", city)]
        for city in CITIES
    }

    # 2. accept, review (all demonstration), recommend: not spreadsheet work, so through the engine
    store = SqlStore(f"sqlite:///{cli.db}")
    clock = SettableClock(sh(2, 20))
    engine = Engine(store, ProgramRegistry(), clock)
    for city in CITIES:
        engine.fire(f"{city}-admin", ids[city], "accept")
    clock.set(sh(3, 1))
    engine.advance("lead")
    for city in CITIES:
        engine.fire(f"{city}-admin", ids[city], "review", result="demonstration", method="site")
    clock.set(sh(5, 1))
    engine.advance("lead")
    for city in CITIES:
        engine.fire(f"{city}-admin", ids[city], "recommend")
    clock.set(sh(5, 3))
    engine.advance("lead")
    store.dispose()

    # 3. every city fills its own score sheet and imports it
    given: dict[tuple[int, str], dict[str, int]] = {}
    for city in CITIES:
        path = tmp_path / f"评分-{city}.xlsx"
        cli(f"{city}-scorer", "2027-05-05T09:00", "template", "scores", "--city", city, "--out", str(path))
        wb = openpyxl.load_workbook(path)
        ws = wb["评分表"]
        header = [c.value for c in ws[1]]
        for r in range(2, ws.max_row + 1):
            pid = ws.cell(r, 1).value
            sheet = sheet_for(rng)
            given[(pid, city)] = sheet
            for c, value in sheet.items():
                col = next(i for i, h in enumerate(header, start=1) if h.startswith(NAMES[c]))
                ws.cell(r, col).value = value
        wb.save(path)
        out = cli(f"{city}-scorer", "2027-05-06T09:00", "score", "import", str(path))
        assert out.strip() == f"Recorded {len(CITIES) * PER_CITY} score sheets for {city}"
    cli("lead", "2027-05-07T09:00", "cycle", "advance")

    # 4. the list: proposed (settling any tie the refusal names), confirmed, published
    propose = cli.runner.invoke(
        main, ["--db", str(cli.db), "--now", "2027-05-10T09:00", "--as", "lead", "list", "propose"]
    )
    if propose.exit_code == 3:
        tied = [int(x) for x in re.findall(r"projects ([\d, ]+) are tied", propose.output) for x in x.split(", ")]
        cli("lead", "2027-05-10T09:00", "list", "propose", "--tie-order", ",".join(map(str, tied)))
    for city in CITIES:
        cli(f"{city}-admin", "2027-05-20T09:00", "list", "confirm")
    cli("lead", "2027-06-01T09:00", "cycle", "advance")
    cli("lead", "2027-06-02T09:00", "publish")

    # 5. the report, read back cell by cell
    report = tmp_path / "report.xlsx"
    cli("lead", "2027-06-03T09:00", "report", "--out", str(report))
    wb = openpyxl.load_workbook(report)
    matrix = wb["评分矩阵"]
    head = [c.value for c in matrix[1]]
    assert head[:3] == ["项目编号", "项目名称", "所在城市"]
    expected_head = [f"{CITY_NAMES[c]}·{SHORT.get(k, k)}" for c in CITIES for k in (*CRITERIA, "合计")]
    assert head[3:-1] == expected_head and head[-1] == "平均分"
    names = {pid: app["project"]["name"] for city in CITIES for pid, app in zip(ids[city], typed[city], strict=True)}
    means: dict[int, Fraction] = {}
    rows = list(matrix.iter_rows(min_row=2, values_only=True))
    assert sorted(r[0] for r in rows) == sorted(pid for city in CITIES for pid in ids[city])
    for row in rows:
        pid = row[0]
        assert row[1] == names[pid]
        cells = iter(row[3:-1])
        totals = []
        for city in CITIES:
            sheet = given[(pid, city)]
            for c in CRITERIA:
                assert next(cells) == sheet[c], (pid, city, c)
            total = next(cells)
            assert total == sum(sheet.values())
            totals.append(total)
        means[pid] = Fraction(sum(totals), len(totals))
        assert row[-1] == f"{float(means[pid]):.4f}"

    official = list(wb["正式名单"].iter_rows(min_row=2, values_only=True))
    assert len(official) == 3 + 6  # the cycle's places
    ranked = sorted(means, key=lambda p: -means[p])
    assert [r[6] for r in official] == [f"{float(means[p]):.4f}" for p in ranked[:9]]
    assert [r[5] for r in official] == ["G60深度融合示范项目"] * 3 + ["G60深度融合优秀项目"] * 6
    enterprise = {
        pid: app["enterprise"]["name"] for city in CITIES for pid, app in zip(ids[city], typed[city], strict=True)
    }
    for r in official:
        assert r[3] == enterprise[r[1]] and r[2] == names[r[1]]

    cities = {r[0]: r for r in wb["城市统计"].iter_rows(min_row=2, values_only=True)}
    for city in CITIES:
        assert cities[CITY_NAMES[city]][1:4] == (PER_CITY, PER_CITY, 0)
    assert cities["松江区"][4:6] == (PER_CITY, 10)  # 示范 used and Songjiang's quota
    funding = list(wb["市级资金"].iter_rows(min_row=2, values_only=True))
    assert funding[0] == ("松江区", PER_CITY, 20000, 0, 8000, PER_CITY * 20000)
