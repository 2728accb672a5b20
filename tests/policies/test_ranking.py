"""Aggregating the nine cities' totals into the ranked G60 list (workflow/ranking.py).

Scores are exact fractions, so a tie is a real tie. A tie across a place boundary is shown to
the lead with the tied project ids and is settled only by an explicit order; a tie inside one
category is harmless and not reported.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.ranking import aggregate, rank, rank_scores, show

PLACES = [("demonstration", 2), ("excellent", 3)]


# -- aggregate -----------------------------------------------------------------------------------------


def test_mean_is_exact():
    """The mean keeps thirds exactly (no float rounding)."""
    assert aggregate([80, 81, 81]) == Fraction(242, 3)
    assert aggregate([90]) == 90


def test_trimmed_mean_drops_highest_and_lowest():
    """trimmed_mean with trim=1 drops one highest and one lowest total."""
    assert aggregate([60, 80, 82, 84, 100], "trimmed_mean", 1) == 82
    assert aggregate([60, 80, 82, 84, 100], "trimmed_mean", 2) == 82
    assert aggregate([60, 80, 100], "trimmed_mean", 0) == 80


@pytest.mark.parametrize(
    ("totals", "trim"), [([80, 90], 1), ([80], 1), ([70, 80, 90, 95], 2)], ids=["two_of_two", "one", "four_of_four"]
)
def test_trimmed_mean_cannot_trim_everything(totals, trim):
    """Trimming as many totals as there are is refused with the numbers."""
    with pytest.raises(ValueError, match=f"cannot trim {trim} from each end of {len(totals)} totals"):
        aggregate(totals, "trimmed_mean", trim)


def test_unknown_aggregate_method():
    """A misspelt method in the program is an error, not a silent mean."""
    with pytest.raises(ValueError, match="unknown aggregate method 'median'"):
        aggregate([1, 2, 3], "median")


def test_show_four_decimals():
    assert show(Fraction(242, 3)) == "80.6667"


# -- rank ----------------------------------------------------------------------------------------------


def test_ranking_and_categories_split_by_places():
    """Projects are ranked by score; the first 2 are demonstration, the next 3 excellent, the rest none."""
    totals = {1: [70, 70], 2: [95, 93], 3: [88, 90], 4: [60, 62], 5: [80, 82], 6: [85, 85], 7: [50, 50]}
    ranked, ties = rank(totals, PLACES)
    assert ties == []
    assert [(r.project_id, r.rank, r.category) for r in ranked] == [
        (2, 1, "demonstration"),
        (3, 2, "demonstration"),
        (6, 3, "excellent"),
        (5, 4, "excellent"),
        (1, 5, "excellent"),
        (4, 6, "none"),
        (7, 7, "none"),
    ]
    assert ranked[0].score == 94
    assert ranked[0].totals == (95, 93)


def test_fewer_projects_than_places():
    """With fewer projects than places everyone is placed, and there is no boundary to tie on."""
    ranked, ties = rank({1: [80], 2: [80], 3: [70]}, [("demonstration", 5)])
    assert ties == []
    assert [r.category for r in ranked] == ["demonstration"] * 3


def test_trimmed_mean_ranking():
    """The list uses the program's aggregate: with a trimmed mean an outlier score does not decide."""
    totals = {1: [100, 70, 70], 2: [80, 79, 60]}
    assert [r.project_id for r in rank(totals, [("demonstration", 1)])[0]] == [1, 2]
    assert [r.project_id for r in rank(totals, [("demonstration", 1)], "trimmed_mean", 1)[0]] == [2, 1]


TIED = {10: [90, 90], 11: [88, 86], 12: [86, 88], 13: [80, 80], 14: [70, 70]}


def test_tie_across_a_boundary_is_reported_with_the_tied_ids():
    """Projects 11 and 12 (both 87) straddle the demonstration/excellent boundary: the lead is told."""
    _, ties = rank(TIED, PLACES)
    assert [t.render("en") for t in ties] == [
        "projects 11, 12 are tied at 87.0000 across the boundary between demonstration (place 2) and excellent; "
        "settle with --tie-order listing them best first"
    ]


def test_tie_across_the_last_boundary_names_none():
    """A tie at the last place of the list is between the last category and 'none'."""
    totals = {1: [90], 2: [80], 3: [70], 4: [70]}
    _, ties = rank(totals, [("demonstration", 1), ("excellent", 2)])
    assert [t.render("en") for t in ties] == [
        "projects 3, 4 are tied at 70.0000 across the boundary between excellent (place 3) and none; "
        "settle with --tie-order listing them best first"
    ]


def test_exact_fractions_make_real_ties_only():
    """Equal means from different totals are a tie; means differing by a third of a point are not."""
    near = {1: [90, 90, 80], 2: [86, 87, 87], 3: [50, 50, 50]}  # 260/3 vs 260/3: a real tie
    assert rank(near, [("demonstration", 1)])[1] != []
    apart = {1: [90, 90, 80], 2: [86, 87, 86], 3: [50, 50, 50]}  # 260/3 vs 259/3
    assert rank(apart, [("demonstration", 1)])[1] == []


def test_tie_order_settles_the_tie():
    """An explicit order from the lead settles the tie: no report, and the named order is used."""
    ranked, ties = rank(TIED, PLACES, tie_order=[12, 11])
    assert ties == []
    assert [(r.project_id, r.category) for r in ranked[:3]] == [
        (10, "demonstration"),
        (12, "demonstration"),
        (11, "excellent"),
    ]
    ranked, _ = rank(TIED, PLACES, tie_order=[11, 12])
    assert [r.project_id for r in ranked[:3]] == [10, 11, 12]


def test_tie_order_must_name_every_tied_project():
    """Naming only some of the tied projects does not settle the tie."""
    totals = {1: [90], 2: [80], 3: [80], 4: [80]}
    _, found = rank(totals, [("demonstration", 2)], tie_order=[3, 2])
    ties = [t.render("en") for t in found]
    assert len(ties) == 1
    assert ties[0].startswith("projects ")
    assert all(str(p) in ties[0] for p in (2, 3, 4))


def test_tie_inside_a_category_is_not_reported():
    """Two excellent projects with equal scores, both well inside the category, need no decision."""
    totals = {1: [95], 2: [90], 3: [85], 4: [85], 5: [70], 6: [60]}
    ranked, ties = rank(totals, PLACES)
    assert ties == []
    assert [(r.project_id, r.category) for r in ranked] == [
        (1, "demonstration"),
        (2, "demonstration"),
        (3, "excellent"),
        (4, "excellent"),
        (5, "excellent"),
        (6, "none"),
    ]


def test_tie_among_projects_beyond_the_places_is_not_reported():
    """Equal scores below the last place are all 'none': nothing to settle."""
    totals = {1: [95], 2: [90], 3: [85], 4: [80], 5: [75], 6: [50], 7: [50]}
    assert rank(totals, PLACES)[1] == []


def test_tie_reported_per_boundary():
    """Ties on two boundaries are reported separately."""
    totals = {1: [90], 2: [90], 3: [80], 4: [70], 5: [70]}
    _, found = rank(totals, [("demonstration", 1), ("excellent", 3)])
    ties = [t.render("en") for t in found]  # (each a message of the catalog, read here in English)
    assert len(ties) == 2
    assert "projects 1, 2 are tied at 90.0000" in ties[0]
    assert "between demonstration (place 1) and excellent" in ties[0]
    assert "projects 4, 5 are tied at 70.0000" in ties[1]
    assert "between excellent (place 4) and none" in ties[1]


def test_zero_places_for_a_category():
    """A category with 0 places gets nobody; the next category starts at rank 1."""
    ranked, ties = rank({1: [90], 2: [80]}, [("demonstration", 0), ("excellent", 1)])
    assert [(r.project_id, r.category) for r in ranked] == [(1, "excellent"), (2, "none")]
    assert ties == []


@given(
    st.dictionaries(
        st.integers(1, 60),
        st.builds(Fraction, st.integers(0, 10_000), st.integers(1, 12)) | st.integers(0, 900),
        max_size=40,
    ),
    st.lists(st.integers(1, 60), unique=True, max_size=8),
)
def test_ranking_orders_as_the_fractions_do(scores, tie_order):
    """Ranking compares the scores as whole numbers over their common denominator: the order is
    exactly the fractions' own (best first, then the lead's tie order, then the project id)."""
    ranked, _ = rank_scores(scores, PLACES, tie_order)
    position = {pid: i for i, pid in enumerate(tie_order)}
    expected = sorted(scores, key=lambda pid: (-Fraction(scores[pid]), position.get(pid, len(position)), pid))
    assert [r.project_id for r in ranked] == expected
    assert [r.score for r in ranked] == [scores[pid] for pid in expected]


@settings(max_examples=200, deadline=None)
@given(
    scores=st.dictionaries(st.integers(1, 40), st.integers(0, 12), min_size=1, max_size=30),
    first=st.lists(st.integers(0, 8), min_size=1, max_size=3),
    then=st.lists(st.integers(0, 8), min_size=1, max_size=3),
    settle=st.integers(0, 40),
)
def test_placing_an_order_again_is_ranking_it_again(scores, first, then, settle):
    """A what-if places the ranking's order under other places without ranking again
    (workflow.ranking.place): the same ranks, categories and ties as ranking afresh; and a tie's
    group is every project of that score, as a scan of the whole ranking finds it."""
    from workflow.ranking import ordered, place

    fractions = {pid: Fraction(v, 3) for pid, v in scores.items()}
    tie_order = sorted(fractions)[:settle]
    places_first = [(f"c{i}", n) for i, n in enumerate(first)]
    places_then = [(f"c{i}", n) for i, n in enumerate(then)]
    now, _ = rank_scores(fractions, places_first, tie_order)
    assert place(now, places_then, tie_order) == rank_scores(fractions, places_then, tie_order)
    assert place(ordered(fractions, tie_order), places_then, tie_order) == rank_scores(
        fractions, places_then, tie_order
    )
    _, ties = rank_scores(fractions, places_then, tie_order)
    for msg in ties:
        score = next(r.score for r in now if show(r.score) == msg.params["score"])
        assert list(msg.params["ids"].items) == [r.project_id for r in now if r.score == score]
