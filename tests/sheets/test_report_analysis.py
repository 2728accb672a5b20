"""The report's sheet of the score analysis (XLSX): on the prebuilt joint-scoring cycle with a
planted home bias (hefei +6 on its own five projects), the sheet says what `scores analyze`
says — hefei's home bias flagged, its figures, W, the outlier sheets — in Chinese and in English;
CSV and Markdown reports are as they were (their 5-second target at 100,000 projects)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl

from tests.cli.test_full_cycle import Cli
from tests.conftest import LEAD
from tests.workflow.checkpoints import at_stage, stage_templates  # noqa: F401  (fixtures)
from tests.workflow.test_score_analysis import score_all

NOW = "2027-05-13T10:00"


def test_the_workbook_holds_the_analysis_as_scores_analyze_says_it(at_stage, tmp_path: Path) -> None:  # noqa: F811
    s = at_stage("joint_scoring")
    score_all(s, seed=26, home_bias={"hefei": 6})
    found = s.engine.score_analysis(LEAD).analysis
    hefei = next(r for r in found.raters if r.rater == "hefei")
    path = s.store.sqlite_path()
    s.store.dispose()
    cli = Cli(path)
    for lang, title, name, yes in (("zh", "评分分析", "合肥市", "是"), ("en", "score analysis", "hefei", "yes")):
        out = tmp_path / f"{lang}.xlsx"
        cli(LEAD, NOW, "report", "--lang", lang, "--out", str(out))
        book = openpyxl.load_workbook(out)
        assert book.sheetnames[-1] == title
        rows = [list(r) for r in book[title].iter_rows(values_only=True)]
        cities = {r[0]: r for r in rows[1:10]}
        assert len(cities) == 9
        row = cities[name]
        assert row[1] == 45 and row[6] == round(hefei.home_bias.estimate, 2)
        assert (row[7], row[8], row[9], row[10]) == (
            round(hefei.home_bias.low, 2),
            round(hefei.home_bias.high, 2),
            5,
            yes,
        )
        assert [r[0] for r in rows[1:10] if r[10] == yes or r[5] == yes] == [name]  # (no other flagged)
        w = next(r for r in rows if r[0] in ("总分", "total"))
        assert w[1] == round(found.agreement[0].w, 4) and w[3] == 45
        outliers = rows[[i for i, r in enumerate(rows) if r[0] and str(r[0]).startswith(("异常", "outlier"))][0] + 2 :]
        assert len([r for r in outliers if r[0]]) == len(found.outliers)
        assert {round(r[5], 2) for r in outliers if r[0]} == {round(o.z, 2) for o in found.outliers}
        # three charts beside the table (each city's offsets; the totals by city; the ranking's head)
        assert len(book[title]._images) == 3
        with zipfile.ZipFile(out) as z:
            pngs = sorted(n for n in z.namelist() if n.startswith("xl/media/"))
            assert pngs == ["xl/media/image1.png", "xl/media/image2.png", "xl/media/image3.png"]
            (tmp_path / f"{lang}-ranking.png").write_bytes(z.read(pngs[2]))  # (to look at)
            assert all(z.read(n).startswith(b"\x89PNG") for n in pngs)
            (tmp_path / f"{lang}-offsets.png").write_bytes(z.read(pngs[0]))  # (to look at)
    # the text formats keep their four tables
    cli(LEAD, NOW, "report", "--format", "csv", "--out", str(tmp_path / "csv"))
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == [
        "cities.csv",
        "funding.csv",
        "list.csv",
        "matrix.csv",
    ]


def test_the_workbooks_ranking_is_the_engines(at_stage) -> None:  # noqa: F811
    """The ranking chart's projects, in order, with their scores, are the head of the engine's own
    ranking (the places and ten more), from the same sheets."""
    import numpy as np

    from sheets.report_analysis import ranking_head
    from tests.conftest import CITIES

    s = at_stage("joint_scoring")
    score_all(s, seed=26, home_bias={"hefei": 6})
    engine_head = s.engine.score_analysis(LEAD).ranked
    ids = sorted(s.shortlist)
    totals = np.full((len(ids), len(CITIES)), np.nan)
    homes = []
    for p, pid in enumerate(ids):
        project, sheets, _ = s.engine.project(LEAD, pid)
        homes.append(project.city)
        for sheet in sheets:
            if sheet.current:
                totals[p, CITIES.index(sheet.city)] = sheet.total
    own = np.array([[home == city for city in CITIES] for home in homes])
    with s.engine.report(LEAD) as data:
        head = ranking_head(data, totals, own, ids)
    assert len(head) == len(engine_head) == 2 + 3 + 10
    assert [pid for pid, *_ in head] == [r.project_id for r in engine_head]
    assert [round(score, 6) for _, score, _, _ in head] == [round(float(r.score), 6) for r in engine_head]


def test_the_workbooks_ranking_leaves_out_what_the_cycle_excludes(engine, clock) -> None:
    """A cycle whose cities' own sheets are excluded: the chart's head is the engine's ranking
    (each city gives its own projects more, which the ranking does not count)."""
    import numpy as np

    from sheets.report_analysis import ranking_head
    from tests.conftest import CITIES, SHEET_LOW, SHEET_MID, scorer
    from tests.workflow.test_own_party import every, to_scoring

    ids_by_city = to_scoring(engine, clock, "excluded")
    for k, c in enumerate(CITIES):  # (the others' sheets differ by city, the own ones are higher)
        others = [pid for pid in every(ids_by_city) if pid not in ids_by_city[c]]
        engine.fire(scorer(c), others[k:], "score", scores=SHEET_LOW)
        if k:
            engine.fire(scorer(c), others[:k], "score", scores=SHEET_MID)
        engine.fire(scorer(c), ids_by_city[c], "score", scores={**SHEET_MID, "value": 19})
    engine_head = engine.score_analysis(LEAD).ranked
    ids = sorted(every(ids_by_city))
    home = {pid: c for c in CITIES for pid in ids_by_city[c]}
    totals = np.full((len(ids), len(CITIES)), np.nan)
    for p, pid in enumerate(ids):
        for sheet in engine.project(LEAD, pid)[1]:
            if sheet.current:
                totals[p, CITIES.index(sheet.city)] = sheet.total
    own = np.array([[home[pid] == city for city in CITIES] for pid in ids])
    with engine.report(LEAD) as data:
        head = ranking_head(data, totals, own, ids)
    assert [pid for pid, *_ in head] == [r.project_id for r in engine_head]
    assert [round(score, 6) for _, score, _, _ in head] == [round(float(r.score), 6) for r in engine_head]
