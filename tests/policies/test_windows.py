"""The stage window: an action of a stage is allowed only in that stage and inside its window.

Windows open at 00:00 of their first day and close at 24:00 of their last day, Asia/Shanghai.
A refusal shows the window in local time and the current local time, so a user in Shanghai
(or anywhere else) reads the same instants the rule uses.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from policies.windows import Window, stage_window
from tests.policies.support import PROGRAM, sh

COLLECTION = PROGRAM.window("collection", 2027)
DESCRIBED = "2027-01-01 00:00 to 2027-03-01 00:00 Asia/Shanghai"


def test_wrong_stage_is_refused_whatever_the_time():
    """An action of one stage is refused while the cycle is in another, naming both stages."""
    [r] = stage_window("submit", "collection", "municipal_review", COLLECTION, sh(1, 10))
    assert r.rule == "stage_window"
    assert r.english == "submit belongs to stage 'collection', but the cycle is in stage 'municipal_review'"


WINDOW_EDGES = [
    (
        "one_second_before_opening",
        sh(12, 31, 23, 59, 59, year=2026),
        f"submit is allowed {DESCRIBED}; it is now 2026-12-31 23:59:59 (not yet open)",
    ),
    ("exactly_at_opening", sh(1, 1, 0, 0, 0), None),
    ("inside", sh(2, 14, 12), None),
    ("one_second_before_closing", sh(2, 28, 23, 59, 59), None),
    ("exactly_at_closing", sh(3, 1, 0, 0, 0), f"submit is allowed {DESCRIBED}; it is now 2027-03-01 00:00:00 (closed)"),
    ("long_after_closing", sh(9, 1, 8), f"submit is allowed {DESCRIBED}; it is now 2027-09-01 08:00:00 (closed)"),
]


@pytest.mark.parametrize(("now", "expected"), [w[1:] for w in WINDOW_EDGES], ids=[w[0] for w in WINDOW_EDGES])
def test_collection_window_edges(now, expected):
    """Collection 2027 is open from 01-01 00:00 (inclusive) to 03-01 00:00 (exclusive), Asia/Shanghai."""
    found = stage_window("submit", "collection", "collection", COLLECTION, now)
    if expected is None:
        assert found == []
    else:
        assert [(r.rule, r.english) for r in found] == [("stage_window", expected)]


def test_the_same_instant_in_utc_is_judged_the_same():
    """The rule compares instants: 2027-02-28T16:00Z is Shanghai midnight, i.e. closed."""
    closing_utc = datetime(2027, 2, 28, 16, 0, tzinfo=UTC)
    [r] = stage_window("submit", "collection", "collection", COLLECTION, closing_utc)
    assert "it is now 2027-03-01 00:00:00 (closed)" in r.english
    assert stage_window("submit", "collection", "collection", COLLECTION, closing_utc - timedelta(seconds=1)) == []


def test_refusal_message_shows_window_and_time_zone():
    """The message carries the window's local dates and the zone name."""
    [r] = stage_window(
        "review", "municipal_review", "municipal_review", PROGRAM.window("municipal_review", 2027), sh(5, 2)
    )
    assert r.english == (
        "review is allowed 2027-03-01 00:00 to 2027-05-01 00:00 Asia/Shanghai; it is now 2027-05-02 09:00:00 (closed)"
    )
    assert "Asia/Shanghai" in str(r)


def test_a_stage_without_window_only_checks_the_stage():
    """Publication has no dates ("after confirmation"): any time is fine once in that stage."""
    assert PROGRAM.window("publication", 2027) is None
    assert stage_window("award", "publication", "publication", None, sh(12, 31, 23)) == []
    assert stage_window("award", "publication", "confirmation", None, sh(12, 31, 23)) != []


def test_window_without_closing_date():
    """A window open from a date with no end never closes, and says so."""
    window = Window(opens=sh(5, 1).astimezone(UTC), closes=None, zone="Asia/Shanghai")
    assert window.describe() == "from 2027-05-01 09:00 (Asia/Shanghai), no closing date"
    assert stage_window("x", "s", "s", window, sh(5, 1, 9)) == []
    assert stage_window("x", "s", "s", window, sh(12, 31, 23, year=2099)) == []
    [r] = stage_window("x", "s", "s", window, sh(5, 1, 8, 59, 59))
    assert r.english == (
        "x is allowed from 2027-05-01 09:00 (Asia/Shanghai), no closing date; "
        "it is now 2027-05-01 08:59:59 (not yet open)"
    )


def test_window_open_from_entry():
    """A window with no opening instant is open from the moment the stage is entered."""
    window = Window(opens=None, closes=sh(6, 30).astimezone(UTC), zone="Asia/Shanghai")
    assert window.describe() == "entry to 2027-06-30 09:00 Asia/Shanghai"
    assert stage_window("x", "s", "s", window, sh(1, 1, 0, year=2000)) == []
