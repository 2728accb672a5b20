"""Closing rules: what must hold before the lead may close a stage, propose or publish the list.

A refusal to close must say which city is holding things up and by how much, so the lead
knows whom to call.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from policies.base import CycleCounts
from tests.policies.support import CITIES, PROGRAM, context, messages, run, sh


def close(name: str, counts: CycleCounts | None = None, **kw) -> list[str]:
    return messages(run(name, context(counts=counts, **kw)), name)


# -- all_submissions_decided -------------------------------------------------------------------------


def test_collection_closes_when_every_submission_is_decided():
    """Accepted and rejected submissions do not hold the stage open."""
    counts = CycleCounts(
        by_city_state={("hefei", "in_library"): 4, ("hefei", "rejected"): 2, ("wuhu", "in_library"): 1}
    )
    assert close("all_submissions_decided", counts) == []


def test_undecided_submissions_are_counted_per_city():
    """Each city with undecided submissions is named with its count (singular and plural)."""
    counts = CycleCounts(
        by_city_state={("hefei", "submitted"): 2, ("wuhu", "submitted"): 1, ("hefei", "in_library"): 9}
    )
    assert close("all_submissions_decided", counts) == [
        "wuhu has 1 submission neither accepted nor rejected",
        "hefei has 2 submissions neither accepted nor rejected",
    ]


# -- all_library_projects_reviewed ------------------------------------------------------------------


def test_municipal_review_closes_when_every_library_project_has_a_result():
    """Every result (demonstration, excellent, none) counts as reviewed."""
    counts = CycleCounts(
        by_city_state={
            ("hefei", "municipal_demonstration"): 5,
            ("hefei", "municipal_excellent"): 2,
            ("hefei", "municipal_none"): 1,
            ("hefei", "rejected"): 3,
        }
    )
    assert close("all_library_projects_reviewed", counts) == []


def test_unreviewed_library_projects_are_counted_against_the_library_size():
    """The message gives the waiting projects out of the city's whole library (rejected ones excluded)."""
    counts = CycleCounts(
        by_city_state={
            ("hefei", "in_library"): 2,
            ("hefei", "municipal_demonstration"): 3,
            ("hefei", "municipal_excellent"): 1,
            ("hefei", "municipal_none"): 1,
            ("hefei", "rejected"): 4,
            ("songjiang", "in_library"): 1,
        }
    )
    assert close("all_library_projects_reviewed", counts) == [
        "songjiang has 1 of 1 library projects without a municipal result",
        "hefei has 2 of 7 library projects without a municipal result",
    ]


# -- all_sheets_in ------------------------------------------------------------------------------------


def test_all_sheets_in_refuses_an_empty_shortlist():
    """Nothing can be scored (or proposed) while the key-project library is empty."""
    assert close("all_sheets_in", CycleCounts(shortlist=0)) == ["the key-project library is empty"]


def test_all_sheets_in_when_every_city_scored_every_project():
    """9 × N sheets in: the scoring stage may close."""
    counts = CycleCounts(shortlist=45, sheets_by_city={c: 45 for c in CITIES})
    assert close("all_sheets_in", counts) == []


def test_all_sheets_in_names_every_city_short():
    """Each city that has not scored the whole key library is named with its count."""
    sheets = {c: 45 for c in CITIES} | {"hefei": 44}
    del sheets["wuhu"]
    counts = CycleCounts(shortlist=45, sheets_by_city=sheets)
    assert close("all_sheets_in", counts) == [
        "wuhu has scored 0 of 45 key-library projects",
        "hefei has scored 44 of 45 key-library projects",
    ]


# -- all_parties_confirmed --------------------------------------------------------------------------------


def test_publication_needs_a_proposed_list():
    """Without a list version there is nothing to confirm."""
    assert close("all_parties_confirmed", CycleCounts(confirmations=frozenset(CITIES))) == ["no list has been proposed"]


def test_all_parties_confirmed_lists_who_is_missing():
    """The message gives the version, the count of confirmations and every city still waited for."""
    counts = CycleCounts(confirmations=frozenset(CITIES) - {"hefei", "wuhu"})
    assert close("all_parties_confirmed", counts, request={"list_version": 2}) == [
        "list version 2 has 7 of 9 confirmations; waiting for wuhu, hefei"
    ]


def test_all_parties_confirmed_with_nine_confirmations():
    """All nine cities confirmed the current version: the list may be published."""
    counts = CycleCounts(confirmations=frozenset(CITIES))
    assert close("all_parties_confirmed", counts, request={"list_version": 3}) == []


def test_no_confirmation_yet_names_all_nine():
    """A freshly proposed list waits for every city, the lead included."""
    [message] = close("all_parties_confirmed", request={"list_version": 1})
    assert message == "list version 1 has 0 of 9 confirmations; waiting for " + ", ".join(CITIES)


# -- boundary_tie_settled ----------------------------------------------------------------------------------


def test_boundary_tie_settled():
    """Every unsettled tie across a place boundary is its own refusal, shown verbatim to the lead."""
    ties = ["projects 3, 8 are tied at 85.0000 across the boundary between demonstration (place 10) and excellent"]
    assert close("boundary_tie_settled", request={"unsettled_ties": ties}) == ties
    assert close("boundary_tie_settled", request={"unsettled_ties": []}) == []
    assert close("boundary_tie_settled") == []


# -- window_ended ------------------------------------------------------------------------------------------------

CLOSES = PROGRAM.window("collection", 2027).closes


@pytest.mark.parametrize(
    ("now", "left"),
    [(CLOSES - timedelta(seconds=1), "0 d 0 h left"), (sh(2, 20, 9), "8 d 15 h left")],
    ids=["one_second_before", "eight_days_before"],
)
def test_window_ended_refuses_while_the_window_is_open(now, left):
    """A stage that must stay open for its whole window cannot be closed early; the time left is shown."""
    [message] = close("window_ended", now=now, stage_closes=CLOSES)
    assert message == (f"the stage must stay open for its whole window, until 2027-03-01 00:00 Asia/Shanghai ({left})")


@pytest.mark.parametrize("now", [CLOSES, CLOSES + timedelta(days=3)], ids=["at_closing", "after_closing"])
def test_window_ended_accepts_at_and_after_closing(now):
    """From the closing instant on, the window has ended."""
    assert close("window_ended", now=now, stage_closes=CLOSES) == []


def test_window_ended_without_a_closing_date():
    """A stage with no closing date has nothing to wait for."""
    assert close("window_ended", stage_closes=None) == []


def test_window_ended_shows_the_closing_time_in_the_program_time_zone():
    """Every other window message speaks Asia/Shanghai time; the closing instant should read 2027-03-01 00:00."""
    [message] = close("window_ended", now=sh(2, 20, 9), stage_closes=CLOSES)
    assert "2027-03-01 00:00" in message
    assert "Asia/Shanghai" in message
