"""The score analysis through the API (web/api_scores.py), the lead's: the analysis of a cycle
with a planted home bias, why a project holds its rank, what other places would move; refused
to a city's user (403, in one line); a bad place number refused (400); nothing saved."""

from __future__ import annotations

from tests.conftest import LEAD, admin, snapshot
from tests.workflow.test_score_analysis import score_all

CYCLE = "g60-2027"


def test_the_lead_reads_the_analysis_a_rank_and_a_what_if(web) -> None:
    w = web("joint_scoring")
    score_all(w.s, seed=26, home_bias={"hefei": 6})
    api, city = w.api(LEAD), w.api(admin("hefei"))  # (a token each: made before the snapshot)
    before = snapshot(w.s.store)
    found = api.get(f"/api/cycles/{CYCLE}/scores/analysis").json()
    assert [r["rater"] for r in found["raters"] if r["flagged"]] == ["hefei"]
    assert found["sheets"] == 405 and found["agreement"][0]["criterion"] is None
    first = w.s.demos["hefei"][0]
    rank = api.get(f"/api/projects/{first}/rank").json()
    assert rank["project"] == first and len(rank["sheets"]) == 9 and rank["rank"] >= 1
    assert rank["list_version"] is None and rank["places"] == {"demonstration": 2, "excellent": 3}
    what = api.get(f"/api/cycles/{CYCLE}/list/what-if", params={"places": ["demonstration=3"]}).json()
    assert what["places_then"] == {"demonstration": 3, "excellent": 3}
    assert [m["after"] for m in what["moves"]][:1] == ["demonstration"]
    bad = api.get(f"/api/cycles/{CYCLE}/list/what-if", params={"places": ["demonstration=many"]})
    assert bad.status_code == 400 and "places 'demonstration=many': expected CATEGORY=N" in bad.text
    bad = api.get(f"/api/cycles/{CYCLE}/list/what-if", params={"places": ["gold=1"]})
    assert bad.status_code == 400 and "'gold' is not a list category of g60-deep-integration" in bad.text
    refused = city.get(f"/api/cycles/{CYCLE}/scores/analysis")
    assert refused.status_code == 403 and "the lead reads it" in refused.text
    # a rank is refused alike whether the project exists or not: no id is told apart
    there, absent = city.get(f"/api/projects/{first}/rank"), city.get("/api/projects/999999/rank")
    assert there.status_code == absent.status_code == 403
    assert there.text.replace(str(first), "N") == absent.text.replace("999999", "N")
    assert snapshot(w.s.store) == before
