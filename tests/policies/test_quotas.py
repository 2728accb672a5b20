"""The counting rules of a cycle: municipal quotas, recommendations and the 附件2 score sheet.

These protect the numbers the seed fixes (Songjiang: 10 demonstration / 25 excellent; every
city recommends ≥ 5 of its own demonstration projects; every score inside a band) and make
sure a refusal names the real counts so an administrator knows where they stand.
"""

from __future__ import annotations

import pytest

from policies.base import CycleCounts
from tests.policies.support import CITIES, SHEET, context, messages, project, run

# -- municipal_quota ----------------------------------------------------------------------------------


def review(
    city: str, result: str | None, used: int, current: str | None = None, overrides: dict | None = None, pid: int = 11
) -> list[str]:
    """Messages of municipal_quota when ``city`` names project ``pid`` ``result`` with ``used`` taken."""
    counts = CycleCounts(results={(city, result): used} if result else {})
    ctx = context(
        project=project(city=city, pid=pid, state="in_library", review_result=current),
        counts=counts,
        request={"result": result} if result else {},
        quota_overrides=overrides,
    )
    return messages(run("municipal_quota", ctx), "municipal_quota")


def test_songjiang_tenth_demonstration_is_accepted():
    """With 9 of 10 demonstration places used, Songjiang may name a 10th."""
    assert review("songjiang", "demonstration", used=9) == []


def test_songjiang_eleventh_demonstration_is_refused_with_the_numbers():
    """The 11th demonstration project is refused, naming the city, the count, the quota and the project."""
    assert review("songjiang", "demonstration", used=10) == [
        "松江区 (songjiang) has 10 of 10 municipal demonstration projects; project 11 cannot be named demonstration"
    ]


def test_songjiang_excellent_quota_is_25():
    """Songjiang's excellent quota is 25: the 25th is accepted, the 26th refused."""
    assert review("songjiang", "excellent", used=24) == []
    assert review("songjiang", "excellent", used=25) == [
        "松江区 (songjiang) has 25 of 25 municipal excellent projects; project 11 cannot be named excellent"
    ]


def test_rereviewing_a_project_to_its_own_result_is_not_double_counted():
    """A project that already holds one of the 10 places may be re-reviewed to the same result."""
    assert review("songjiang", "demonstration", used=10, current="demonstration") == []


def test_moving_a_project_from_another_result_takes_a_new_place():
    """A project moving from excellent to demonstration needs a free demonstration place."""
    [message] = review("songjiang", "demonstration", used=10, current="excellent")
    assert "has 10 of 10 municipal demonstration projects" in message


@pytest.mark.parametrize("city", [c for c in CITIES if c != "songjiang"])
def test_cities_without_quota_are_unlimited(city):
    """Other cities set their own quotas; where the program and cycle set none there is no limit."""
    assert review(city, "demonstration", used=500) == []
    assert review(city, "excellent", used=500) == []


@pytest.mark.parametrize("result", ["none", None], ids=["result_none", "no_result"])
def test_no_quota_for_not_selected_or_missing_result(result):
    """'none' (未入选) has no quota, and a request without a result is left to other checks."""
    assert review("songjiang", result, used=1000) == []


def test_cycle_quota_override_adds_a_quota_for_another_city():
    """A cycle may give hefei a quota (`cycle open --quota hefei:demonstration=8`): the 9th is refused."""
    overrides = {"hefei": {"demonstration": 8}}
    assert review("hefei", "demonstration", used=7, overrides=overrides) == []
    assert review("hefei", "demonstration", used=8, overrides=overrides) == [
        "合肥市 (hefei) has 8 of 8 municipal demonstration projects; project 11 cannot be named demonstration"
    ]
    # hefei's excellent projects stay unlimited, Songjiang keeps its quota
    assert review("hefei", "excellent", used=100, overrides=overrides) == []
    assert review("songjiang", "demonstration", used=10, overrides=overrides) != []


def test_cycle_quota_override_changes_songjiang_for_that_year_only():
    """Raising Songjiang's demonstration quota to 12 for one cycle keeps its excellent quota at 25."""
    overrides = {"songjiang": {"demonstration": 12}}
    assert review("songjiang", "demonstration", used=11, overrides=overrides) == []
    assert review("songjiang", "demonstration", used=12, overrides=overrides) == [
        "松江区 (songjiang) has 12 of 12 municipal demonstration projects; project 11 cannot be named demonstration"
    ]
    assert review("songjiang", "excellent", used=25, overrides=overrides) != []
    assert review("songjiang", "demonstration", used=10) != []  # the program itself is unchanged


def test_quota_counts_only_the_reviewing_city():
    """Another city's demonstration projects do not use up Songjiang's places."""
    counts = CycleCounts(results={("hefei", "demonstration"): 40, ("songjiang", "demonstration"): 3})
    ctx = context(
        project=project(city="songjiang", state="in_library"), counts=counts, request={"result": "demonstration"}
    )
    assert run("municipal_quota", ctx) == []


# -- recommend_own_demonstration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "shown"),
    [("excellent", "excellent"), ("none", "none"), (None, "no municipal result")],
    ids=["excellent", "not_selected", "not_reviewed"],
)
def test_only_municipal_demonstration_projects_may_be_recommended(current, shown):
    """Recommending anything but a municipal demonstration project is refused, naming what it is."""
    ctx = context(project=project(pid=21, state="municipal_excellent", review_result=current))
    assert messages(run("recommend_own_demonstration", ctx), "recommend_own_demonstration") == [
        f"project 21 is not a municipal demonstration project ({shown})"
    ]


def test_municipal_demonstration_project_may_be_recommended():
    """A municipal demonstration project passes."""
    ctx = context(project=project(pid=21, state="municipal_demonstration", review_result="demonstration"))
    assert run("recommend_own_demonstration", ctx) == []


# -- min_recommendations -----------------------------------------------------------------------------------


def recommended(**made: int) -> CycleCounts:
    """Counts where every city has 5 recommendations except those given."""
    per_city = {c: 5 for c in CITIES} | made
    return CycleCounts(by_city_state={(c, "recommended"): n for c, n in per_city.items()})


def test_every_city_with_five_or_more_recommendations_passes():
    """Five (or more) recommendations per city lets the recommendation stage close."""
    assert run("min_recommendations", context(counts=recommended())) == []
    assert run("min_recommendations", context(counts=recommended(hefei=9, songjiang=6))) == []


def test_every_city_short_is_listed_with_its_count():
    """Each city under the minimum is named with its own count, in the program's party order."""
    counts = recommended(wuhu=0, hefei=3, jiaxing=4)
    assert messages(run("min_recommendations", context(counts=counts)), "min_recommendations") == [
        "jiaxing has 4 of the 5 required recommendations",
        "wuhu has 0 of the 5 required recommendations",
        "hefei has 3 of the 5 required recommendations",
    ]


def test_min_recommendations_counts_only_recommended_projects():
    """Demonstration projects not (yet) recommended do not count towards the minimum."""
    counts = CycleCounts(
        by_city_state={(c, "recommended"): 5 for c in CITIES}
        | {("hefei", "recommended"): 2, ("hefei", "municipal_demonstration"): 8}
    )
    assert messages(run("min_recommendations", context(counts=counts)), "min_recommendations") == [
        "hefei has 2 of the 5 required recommendations"
    ]


def test_with_no_recommendations_all_nine_cities_are_listed():
    """An empty recommendation stage names all nine cities."""
    found = messages(run("min_recommendations", context()), "min_recommendations")
    assert found == [f"{c} has 0 of the 5 required recommendations" for c in CITIES]


def test_min_recommendations_minimum_is_a_program_parameter():
    """Another program (or version) may require a different minimum."""
    [message] = run("min_recommendations", context(counts=recommended(hefei=5, wuhu=6)), {"minimum": 6})[:1]
    assert message.english == "songjiang has 5 of the 6 required recommendations"


# -- score_in_bands ------------------------------------------------------------------------------------------

VALUE_BANDS = "18-20 or 15-17 or 12-14"
THIRTY_BANDS = "26-30 or 21-25 or 16-20"

EDGES = [
    ("value", 11, f"value = 11 is outside every band of value (max 20; bands {VALUE_BANDS})"),
    ("value", 12, None),
    ("value", 14, None),
    ("value", 15, None),
    ("value", 17, None),
    ("value", 18, None),
    ("value", 20, None),
    ("value", 21, f"value = 21 is outside every band of value (max 20; bands {VALUE_BANDS})"),
    ("value", 0, f"value = 0 is outside every band of value (max 20; bands {VALUE_BANDS})"),
    ("value", -3, f"value = -3 is outside every band of value (max 20; bands {VALUE_BANDS})"),
    ("organization", 15, f"organization = 15 is outside every band of organization (max 30; bands {THIRTY_BANDS})"),
    ("organization", 16, None),
    ("organization", 20, None),
    ("organization", 21, None),
    ("organization", 25, None),
    ("organization", 26, None),
    ("organization", 30, None),
    ("organization", 31, f"organization = 31 is outside every band of organization (max 30; bands {THIRTY_BANDS})"),
    ("effectiveness", 15, f"effectiveness = 15 is outside every band of effectiveness (max 30; bands {THIRTY_BANDS})"),
    ("effectiveness", 30, None),
    ("mechanism", 11, f"mechanism = 11 is outside every band of mechanism (max 20; bands {VALUE_BANDS})"),
    ("mechanism", 20, None),
]


def score(scores: dict) -> list[str]:
    return messages(run("score_in_bands", context(request={"scores": scores})), "score_in_bands")


@pytest.mark.parametrize(
    ("criterion", "value", "expected"), EDGES, ids=[f"{c}={v}-{'refused' if e else 'ok'}" for c, v, e in EDGES]
)
def test_score_band_edges(criterion, value, expected):
    """Each score must fall inside one band of its criterion; every band edge is checked."""
    assert score(SHEET | {criterion: value}) == ([] if expected is None else [expected])


NOT_WHOLE = [
    ("float", 15.0, "15.0"),
    ("fraction", 15.5, "15.5"),
    ("text", "15", "'15'"),
    ("bool", True, "True"),
]


@pytest.mark.parametrize(("value", "shown"), [n[1:] for n in NOT_WHOLE], ids=[n[0] for n in NOT_WHOLE])
def test_scores_must_be_whole_numbers(value, shown):
    """A score that is not an int (a float, a string, a boolean) is refused with the allowed bands."""
    assert score(SHEET | {"value": value}) == [f"value = {shown} is not a whole number ({VALUE_BANDS})"]


def test_missing_criterion_is_refused():
    """Every criterion of the sheet must be scored."""
    sheet = dict(SHEET)
    del sheet["mechanism"]
    assert score(sheet) == ["mechanism is not scored"]
    assert score(SHEET | {"value": None}) == ["value is not scored"]


def test_an_empty_sheet_names_every_criterion():
    """An empty sheet (or no sheet at all) lists all four criteria."""
    expected = [f"{c} is not scored" for c in ("value", "organization", "effectiveness", "mechanism")]
    assert score({}) == expected
    assert messages(run("score_in_bands", context()), "score_in_bands") == expected


def test_unknown_criteria_are_refused():
    """A criterion that is not on the sheet is refused (sorted, in one message)."""
    assert score(SHEET | {"novelty": 10, "impact": 5}) == ["unknown criteria: impact, novelty"]


def test_every_problem_of_a_sheet_is_reported():
    """All problems of one sheet are reported together."""
    found = score({"value": 11, "organization": 20.5, "novelty": 1})
    assert found == [
        f"value = 11 is outside every band of value (max 20; bands {VALUE_BANDS})",
        f"organization = 20.5 is not a whole number ({THIRTY_BANDS})",
        "effectiveness is not scored",
        "mechanism is not scored",
        "unknown criteria: novelty",
    ]


def test_band_labels_of_the_program():
    """The band a score falls in is the one whose label is recorded with it (附件2)."""
    value = next(c for c in context().criteria if c.id == "value")
    assert value.band_for(20).label == "非常重要"
    assert value.band_for(15).label == "比较重要"
    assert value.band_for(12).label == "一般"
    assert value.band_for(11) is None
