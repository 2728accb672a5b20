"""`Engine.score_analysis` on a real cycle (the prebuilt joint-scoring checkpoint: 45 key-library
projects, five a city, scored by all nine cities through the engine): a planted home bias is
flagged and nothing else, the findings name the cycle's projects, and only the lead reads it."""

from __future__ import annotations

import random

import pytest

from tests.conftest import CITIES, LEAD, admin, scorer, sh
from workflow.errors import NotPermitted

# each criterion's least and most in its bands (value, organization, effectiveness, mechanism)
LEAST = {"value": 12, "organization": 16, "effectiveness": 16, "mechanism": 12}
MOST = {"value": 20, "organization": 30, "effectiveness": 30, "mechanism": 20}


def sheet_of(total: int) -> dict[str, int]:
    """Criterion scores inside their bands adding up to ``total`` (56 to 100)."""
    total = max(sum(LEAST.values()), min(sum(MOST.values()), total))
    scores, left = dict(LEAST), total - sum(LEAST.values())
    while left:
        for c in scores:
            if left and scores[c] < MOST[c]:
                scores[c] += 1
                left -= 1
    return scores


def score_all(s, seed: int, home_bias: dict[str, int] = {}, noise: float = 1.0) -> dict[int, dict[str, int]]:  # noqa: B006
    """Every city scores every key-library project: its worth (62-85), the city's bias on its own
    projects, a noise of sd ``noise``. Returns {project: {city: total}}."""
    rng = random.Random(seed)
    worth = {pid: rng.uniform(62, 85) for pid in s.shortlist}
    home = {pid: c for c in CITIES for pid in s.demos[c]}
    s.clock.set(sh(5, 12))
    totals: dict[int, dict[str, int]] = {}
    for city in CITIES:
        batch = []
        for pid in s.shortlist:
            total = round(worth[pid] + (home_bias.get(city, 0) if home[pid] == city else 0) + rng.gauss(0, noise))
            scores = sheet_of(total)
            totals.setdefault(pid, {})[city] = sum(scores.values())
            batch.append((pid, {"scores": scores}))
        s.engine.fire_each(scorer(city), batch, "score")
    return totals


def test_a_planted_home_bias_is_flagged_for_that_city_alone(at_stage):
    s = at_stage("joint_scoring")
    score_all(s, seed=26, home_bias={"hefei": 6})
    data = s.engine.score_analysis(LEAD)
    a = data.analysis
    assert (a.sheets, a.projects, a.complete) == (405, 45, 45)
    assert [r.rater for r in a.flagged] == ["hefei"]
    hefei = next(r for r in a.raters if r.rater == "hefei")
    assert hefei.home_bias.flagged and hefei.home_bias.sheets == 5 and 4 < hefei.home_bias.estimate < 8
    assert not hefei.leniency.flagged
    assert [r.rater for r in a.raters] == list(CITIES)  # (the program's order)
    assert set(data.projects) == set(s.shortlist) and data.projects[s.demos["wuhu"][0]][0] == "wuhu"
    assert a.agreement[0].criterion is None and a.agreement[0].w > 0.9
    assert [g.criterion for g in a.agreement[1:]] == ["value", "organization", "effectiveness", "mechanism"]


def test_a_fair_cycle_flags_nobody(at_stage):
    s = at_stage("joint_scoring")
    score_all(s, seed=27)
    assert s.engine.score_analysis(LEAD).analysis.flagged == []


def test_before_any_sheet_there_is_nothing_to_flag_and_only_the_lead_reads_it(at_stage):
    s = at_stage("joint_scoring")
    a = s.engine.score_analysis(LEAD).analysis
    assert (a.sheets, a.projects, a.flagged, a.agreement, a.outliers) == (0, 0, [], [], [])
    for user in (admin("hefei"), scorer("wuhu")):
        with pytest.raises(NotPermitted) as err:
            s.engine.score_analysis(user)
        assert "the analysis compares every city; the lead reads it" in str(err.value)


def test_a_kept_analysis_follows_every_sheet(at_stage):
    """The analysis a process keeps (under the audit's heads) is the sheets' as they stand: read
    again unchanged it is the one worked out before; a city's sheets changed since, it is new."""
    s = at_stage("joint_scoring")
    totals = score_all(s, seed=27)
    first = s.engine.score_analysis(LEAD)
    assert first.analysis.flagged == [] and s.engine.score_analysis(LEAD) is first
    s.clock.set(sh(5, 13))
    s.engine.fire_each(
        scorer("hefei"), [(pid, {"scores": sheet_of(totals[pid]["hefei"] + 8)}) for pid in s.demos["hefei"]], "score"
    )
    again = s.engine.score_analysis(LEAD)
    assert again is not first and [r.rater for r in again.analysis.flagged] == ["hefei"]
