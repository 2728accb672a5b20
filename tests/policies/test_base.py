"""The policy registry and the small value types every policy relies on."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from policies import REGISTRY
from policies.base import Band, Criterion, CycleCounts, Rejection, parse_date, policy
from tests.policies.support import PROGRAM, context

NAMED_IN_PROGRAM = sorted(
    {n for names in PROGRAM.guards.values() for n in names} | {n for s in PROGRAM.stages for n in s.close_when}
)


@pytest.mark.parametrize("name", NAMED_IN_PROGRAM)
def test_every_policy_the_program_names_is_registered(name):
    """Program files refer to policies by name; each name used by G60 resolves to a policy."""
    assert name in REGISTRY
    assert REGISTRY[name].policy_name == name


def test_a_policy_name_cannot_be_registered_twice():
    """Two policies under one name would make program files ambiguous."""
    with pytest.raises(ValueError, match="policy 'municipal_quota' registered twice"):
        policy("municipal_quota")(lambda ctx: ())
    assert REGISTRY["municipal_quota"].__name__ == "municipal_quota"


def test_rejection_str_names_the_rule():
    """A printed rejection starts with its rule id in brackets."""
    assert str(Rejection("min_recommendations", "hefei has 3 of the 5")) == "[min_recommendations] hefei has 3 of the 5"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-01", date(2026, 3, 1)),
        (" 2026-03-01 ", date(2026, 3, 1)),
        (date(2026, 3, 1), date(2026, 3, 1)),
        (datetime(2026, 3, 1, 12), date(2026, 3, 1)),
        ("2026/03/01", None),
        ("", None),
        (None, None),
        (20260301, None),
    ],
    ids=["iso", "padded", "date", "datetime", "slashes", "empty", "none", "int"],
)
def test_parse_date(value, expected):
    """Dates in an application are ISO strings or dates; anything else counts as missing."""
    assert parse_date(value) == expected


def test_cycle_counts():
    """count() sums the given states of one city; total() of every city."""
    counts = CycleCounts(
        by_city_state={("hefei", "submitted"): 2, ("hefei", "in_library"): 3, ("wuhu", "submitted"): 4}
    )
    assert counts.count("hefei", "submitted", "in_library") == 5
    assert counts.count("jinhua", "submitted") == 0
    assert counts.total("submitted") == 6


def test_criterion_band_for():
    """A score maps to the band containing it, edges included."""
    c = Criterion("x", "x", 20, (Band("high", 18, 20), Band("low", 12, 14)))
    assert c.band_for(18).label == "high"
    assert c.band_for(14).label == "low"
    assert c.band_for(16) is None


@pytest.mark.parametrize("wide", [False, True], ids=["listed", "too_wide_to_list"])
def test_criterion_band_for_every_value_as_the_bands_say(wide):
    """Whole scores are looked up in a table of the bands' values; other numbers, and bands too wide
    to list, are searched: the answer is the same, the first band containing the value."""
    top = 10**6 if wide else 30
    c = Criterion("x", "x", top, (Band("b", 10, 20), Band("a", 20, top), Band("dup", 15, 16)))
    for value in [*range(-2, 35), top, top + 1, 15.5, 20.0, True]:
        expected = next((b for b in c.bands if b.min <= value <= b.max), None)
        assert c.band_for(value) == expected, value


def test_party_name():
    """Messages use a party's Chinese name; an unknown id is shown as given."""
    ctx = context()
    assert ctx.party_name("hefei") == "合肥市"
    assert ctx.party_name("songjiang") == "松江区"
    assert ctx.party_name("nanjing") == "nanjing"
