"""The score analysis (workflow/analysis.py) on fixed data: a planted home bias and a planted
leniency are found and nothing else; a fair cycle flags nobody; Kendall's W, the intervals and
the robust z-scores equal independent computations (by hand, by the statistics module, by
Friedman's test)."""

from __future__ import annotations

import math
import random
import statistics

import pytest
from scipy import stats

from workflow.analysis import AnalysisSettings, SheetPoint, analyze, kendalls_w

CITIES = ("songjiang", "jiaxing", "hangzhou", "jinhua", "suzhou", "huzhou", "xuancheng", "wuhu", "hefei")
SETTINGS = AnalysisSettings(confidence=0.95, outlier_z=3.5, least_offset=2.0)


def cycle(seed: int, home_bias: dict[str, float] = {}, leniency: dict[str, float] = {}, per_city: int = 15):  # noqa: B006
    """Every city scores every project (its own included): the project's worth, the city's
    leniency, its bias on its own projects, and a noise of sd 3, rounded to whole points."""
    rng = random.Random(seed)
    homes, sheets = {}, []
    pid = 0
    for home in CITIES:
        for _ in range(per_city):
            pid += 1
            homes[pid] = home
            worth = rng.uniform(55, 90)
            for city in CITIES:
                total = worth + leniency.get(city, 0) + (home_bias.get(city, 0) if city == home else 0)
                sheets.append(SheetPoint(pid, city, city, round(total + rng.gauss(0, 3))))
    return homes, sheets


def test_a_planted_home_bias_flags_that_city_and_no_other():
    homes, sheets = cycle(7, home_bias={"hefei": 6.0})
    found = analyze(sheets, homes, settings=SETTINGS, raters=CITIES)
    assert [r.rater for r in found.flagged] == ["hefei"]
    hefei = next(r for r in found.raters if r.rater == "hefei")
    assert hefei.home_bias is not None and hefei.home_bias.flagged and 4 < hefei.home_bias.estimate < 8
    assert hefei.home_bias.sheets == 15 and hefei.sheets == 135
    assert hefei.leniency is not None and not hefei.leniency.flagged  # (its bias is not leniency)


def test_a_lenient_city_is_told_from_a_biased_one():
    homes, sheets = cycle(11, home_bias={"suzhou": 6.0}, leniency={"wuhu": 5.0})
    found = analyze(sheets, homes, settings=SETTINGS, raters=CITIES)
    by = {r.rater: r for r in found.raters}
    assert [r.rater for r in found.flagged] == ["suzhou", "wuhu"]
    assert by["wuhu"].leniency.flagged and not by["wuhu"].home_bias.flagged
    assert 4 < by["wuhu"].leniency.estimate < 6.5
    assert by["suzhou"].home_bias.flagged and not by["suzhou"].leniency.flagged


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_fair_cycle_flags_nobody(seed):
    homes, sheets = cycle(seed)
    found = analyze(sheets, homes, settings=SETTINGS, raters=CITIES)
    assert found.flagged == []
    # 1,215 sheets with a noise of sd 3: |z| ≥ 3.5 by chance about 0.0005 of the time (0.6 sheets)
    assert len(found.outliers) <= 3 and all(abs(o.z) < 4.5 for o in found.outliers)
    assert found.agreement[0].w > 0.8 and found.agreement[0].p < 1e-6  # (they agree on worth)
    # one sheet written wrong (40 points off) is the first outlier named
    wrong = sheets[100]
    sheets[100] = SheetPoint(wrong.project_id, wrong.rater, wrong.party, wrong.total - 40)
    first = analyze(sheets, homes, settings=SETTINGS, raters=CITIES).outliers[0]
    assert (first.project_id, first.rater, first.total) == (wrong.project_id, wrong.rater, wrong.total - 40)
    assert first.z < -8


def test_the_intervals_equal_a_hand_computation():
    homes, sheets = cycle(5, home_bias={"hefei": 6.0})
    found = analyze(sheets, homes, settings=SETTINGS, raters=CITIES)
    level = 1 - 0.05 / 9  # (simultaneous over the nine cities)
    assert found.level == pytest.approx(level)
    by_project: dict[int, dict[str, float]] = {}
    for s in sheets:
        by_project.setdefault(s.project_id, {})[s.rater] = s.total
    for city in ("hefei", "wuhu"):
        offsets = {
            pid: row[city] - statistics.mean(v for c, v in row.items() if c != city) for pid, row in by_project.items()
        }
        others = [d for pid, d in offsets.items() if homes[pid] != city]
        mine = [d for pid, d in offsets.items() if homes[pid] == city]
        # leniency: mean ± t(n-1) · s / √n
        mean, half = statistics.mean(others), 0.0
        half = stats.t.ppf(1 - (1 - level) / 2, len(others) - 1) * statistics.stdev(others) / math.sqrt(len(others))
        got = next(r for r in found.raters if r.rater == city)
        assert got.leniency.estimate == pytest.approx(mean)
        assert (got.leniency.low, got.leniency.high) == pytest.approx((mean - half, mean + half))
        # home bias: Welch's interval, its degrees of freedom by Welch–Satterthwaite
        va, vb = statistics.variance(mine) / len(mine), statistics.variance(others) / len(others)
        df = (va + vb) ** 2 / (va**2 / (len(mine) - 1) + vb**2 / (len(others) - 1))
        diff = statistics.mean(mine) - statistics.mean(others)
        half = stats.t.ppf(1 - (1 - level) / 2, df) * math.sqrt(va + vb)
        assert got.home_bias.estimate == pytest.approx(diff)
        assert (got.home_bias.low, got.home_bias.high) == pytest.approx((diff - half, diff + half))
        assert got.home_bias.sheets == len(mine)


def test_kendalls_w_by_hand_and_by_friedmans_test():
    import numpy as np

    # two raters, three projects; the first ties two: ranks (2.5, 2.5, 1) and (3, 2, 1); rank sums
    # 5.5, 4.5, 2 (mean 4): S = 6.5; ties 2³ - 2 = 6; W = 12 · 6.5 / (2² (3³ - 3) - 2 · 6) = 78 / 84
    w = kendalls_w(np.array([[10, 8], [10, 6], [5, 4]], dtype=float), None)
    assert w.w == pytest.approx(78 / 84) and w.df == 2 and (w.projects, w.raters) == (3, 2)
    assert kendalls_w(np.array([[3, 3, 3], [2, 2, 2], [1, 1, 1]], dtype=float), None).w == pytest.approx(1.0)
    assert kendalls_w(np.array([[3, 1], [2, 2], [1, 3]], dtype=float), None).w == pytest.approx(0.0)
    # a bigger block, ties and all: chi-square and p as Friedman's test has them, W = chi² / m(n-1)
    rng = random.Random(3)
    block = np.array([[rng.randint(1, 6) + j % 3 for j in range(7)] for _ in range(20)], dtype=float)
    w = kendalls_w(block, "value")
    friedman = stats.friedmanchisquare(*block)  # (the projects are the treatments, the raters the blocks)
    assert w.chi2 == pytest.approx(friedman.statistic) and w.p == pytest.approx(friedman.pvalue)
    assert w.w == pytest.approx(friedman.statistic / (7 * 19)) and w.criterion == "value"


def test_agreement_per_criterion_over_the_projects_every_city_scored():
    homes, sheets = cycle(9)
    # two criteria: the first follows the total, the second is noise
    rng = random.Random(2)
    sheets = [SheetPoint(s.project_id, s.rater, s.party, s.total, (s.total, rng.randint(0, 10))) for s in sheets]
    del sheets[3]  # project 1 lacks a city's sheet: not in the block
    found = analyze(sheets, homes, criteria=("value", "noise"), settings=SETTINGS, raters=CITIES)
    assert found.complete == found.projects - 1 == 134
    total, value, noise = found.agreement
    assert (total.criterion, value.criterion, noise.criterion) == (None, "value", "noise")
    assert value.w == pytest.approx(total.w) and total.p < 1e-6
    assert noise.w < 0.2 and noise.p > 0.01 and noise.projects == 134 and noise.raters == 9


def test_an_outlier_sheet_by_its_robust_z():
    homes = {1: "hefei", 2: "wuhu"}
    rows = {
        1: dict(zip(CITIES, [80, 82, 79, 81, 80, 83, 78, 80, 40], strict=True)),
        2: dict(zip(CITIES, [70, 74, 69, 71, 70, 68, 72, 75, 71], strict=True)),
    }
    sheets = [SheetPoint(p, c, c, t) for p, row in rows.items() for c, t in row.items()]
    found = analyze(sheets, homes, settings=SETTINGS, raters=CITIES)
    # by hand: each sheet's distance from its project's other eight's median; the cycle's scale
    residual = {
        (p, c): t - statistics.median(v for d, v in row.items() if d != c)
        for p, row in rows.items()
        for c, t in row.items()
    }
    scale = 1.4826 * statistics.median(abs(v) for v in residual.values())
    far = {k: v / scale for k, v in residual.items() if abs(v / scale) >= 3.5}
    assert list(far) == [(1, "hefei")]
    assert [(o.project_id, o.rater, o.total, o.others_median) for o in found.outliers] == [(1, "hefei", 40, 80)]
    assert found.outliers[0].z == pytest.approx(far[(1, "hefei")])
    # a project with three other sheets is judged; with two it is not
    few = [SheetPoint(3, c, c, t) for c, t in zip(CITIES[:4], [50, 51, 50, 90], strict=True)]
    assert [o.rater for o in analyze(few, {3: "hefei"}, settings=SETTINGS).outliers] == ["jinhua"]
    assert analyze(few[1:], {3: "hefei"}, settings=SETTINGS).outliers == []


def test_a_sheet_far_from_a_project_whose_others_agree_closely_is_not_an_outlier():
    """Eight sheets within two points of each other have almost no spread of their own; a ninth
    8 points off is ordinary against the cycle's spread (noise of sd 3), and not flagged."""
    homes, sheets = cycle(1)
    row = sorted(s.total for s in sheets if s.project_id == 27)
    assert row[-1] - row[-2] >= 7 and row[-2] - row[0] <= 3  # (the case: 58 … 61, and 68)
    assert not [o for o in analyze(sheets, homes, settings=SETTINGS, raters=CITIES).outliers if o.project_id == 27]


def test_too_few_sheets_give_no_interval_and_a_recused_city_no_home_bias():
    homes, sheets = cycle(4, per_city=3)
    recused = [s for s in sheets if homes[s.project_id] != s.party]  # (nobody scores its own)
    found = analyze(recused, homes, settings=SETTINGS, raters=CITIES)
    assert all(r.home_bias is None and r.leniency is not None for r in found.raters)
    assert found.agreement == [] and found.complete == 0  # (no project scored by all nine)
    assert analyze([], {}, settings=SETTINGS, raters=CITIES).raters[0].leniency is None
