"""Appeals and overrides, pure: the two appeal rules and the matching of a lead's override.

An override lifts one rule for one city, one project or every party. For a closing rule
(no project) a city override lifts a rejection only when that rejection names the city alone:
lifting "waiting for hefei, wuhu" for hefei would silently excuse wuhu too.
"""

from __future__ import annotations

from dataclasses import asdict

import pytest

from policies import REGISTRY
from policies.appeals import Override, split_overridden
from policies.base import Rejection
from tests.policies.support import context, messages, project, run

AT = "2027-05-05T09:00:00+08:00"


def override(oid: int = 1, rule: str = "min_recommendations", **kw) -> Override:
    return Override(id=oid, rule=rule, reason="合肥市仅评出3个示范项目", by="lead", at=AT, **kw)


def short(city: str, made: int = 3) -> Rejection:
    """min_recommendations as the policy words it for one city."""
    return Rejection("min_recommendations", f"{city} has {made} of the 5 required recommendations", (city,))


REVOKED = {"by": "lead", "at": "2027-05-06T09:00:00+08:00", "reason": "合肥市已补充推荐"}

# -- Override.covers: city scope ---------------------------------------------------------------------------


def test_a_city_override_lifts_a_closing_rejection_naming_that_city_alone():
    assert override(city="hefei").covers(short("hefei"), None)


def test_a_city_override_does_not_lift_another_citys_rejection():
    assert not override(city="jiaxing").covers(short("hefei"), None)


def test_a_city_override_does_not_lift_a_rejection_that_also_names_other_parties():
    """'waiting for hefei, wuhu': lifting it for hefei would excuse wuhu as well."""
    both = Rejection(
        "all_parties_confirmed", "list version 1 has 7 of 9 confirmations; waiting for hefei, wuhu", ("hefei", "wuhu")
    )
    assert not override(rule="all_parties_confirmed", city="hefei").covers(both, None)
    assert override(rule="all_parties_confirmed").covers(both, None)


def test_a_city_override_does_not_lift_a_rejection_naming_no_party():
    empty = Rejection("all_sheets_in", "the key-project library is empty")
    assert not override(rule="all_sheets_in", city="hefei").covers(empty, None)


def test_a_city_override_lifts_a_project_rejection_by_the_projects_city():
    """For a per-project rule the project's city decides, whatever parties the rejection names."""
    quota = Rejection("municipal_quota", "松江区 (songjiang) has 10 of 10 municipal demonstration projects")
    o = override(rule="municipal_quota", city="songjiang")
    assert o.covers(quota, project(city="songjiang", pid=3))
    assert not o.covers(quota, project(city="hefei", pid=4))


# -- Override.covers: project scope ------------------------------------------------------------------------


def test_a_project_override_lifts_only_that_projects_rejection():
    quota = Rejection("municipal_quota", "quota full")
    o = override(rule="municipal_quota", project=7)
    assert o.covers(quota, project(pid=7))
    assert not o.covers(quota, project(pid=8))  # same city, another project


def test_a_project_override_takes_precedence_over_its_city():
    """With both a project and a city, the project is the scope: another project of that city is not lifted."""
    quota = Rejection("municipal_quota", "quota full")
    o = override(rule="municipal_quota", city="hefei", project=7)
    assert o.scope() == "project 7"
    assert not o.covers(quota, project(city="hefei", pid=8))


def test_a_project_override_never_matches_a_rejection_without_a_project():
    """A closing rule is judged without a project: a project-scoped override cannot match it."""
    assert not override(project=7).covers(short("hefei"), None)


# -- Override.covers: revoked, rule mismatch, every party ---------------------------------------------


def test_a_revoked_override_lifts_nothing():
    o = override(city="hefei", revoked=REVOKED)
    assert not o.active
    assert not o.covers(short("hefei"), None)
    assert not override(revoked=REVOKED).covers(short("hefei"), None)


def test_an_override_lifts_only_its_own_rule():
    o = override(rule="all_sheets_in", city="hefei")
    assert not o.covers(short("hefei"), None)
    assert o.covers(Rejection("all_sheets_in", "hefei has scored 4 of 45 key-library projects", ("hefei",)), None)


@pytest.mark.parametrize(
    "rejection",
    [
        short("hefei"),
        Rejection("min_recommendations", "several", ("hefei", "wuhu")),
        Rejection("min_recommendations", "nobody in particular"),
    ],
    ids=["one_party", "two_parties", "no_party"],
)
def test_an_every_party_override_lifts_every_rejection_of_its_rule(rejection):
    o = override()
    assert o.scope() == "every party"
    assert o.covers(rejection, None)
    assert o.covers(rejection, project(city="jinhua", pid=99))


# -- scope, from_data ---------------------------------------------------------------------------------------


def test_scope_names_the_project_the_city_or_every_party():
    assert override(project=17).scope() == "project 17"
    assert override(city="hefei").scope() == "hefei"
    assert override().scope() == "every party"


def test_from_data_reads_what_the_engine_stores():
    """The engine stores asdict(Override) in the cycle's settings (JSON): it reads back equal."""
    o = override(3, "all_sheets_in", city="hefei", revoked=REVOKED)
    assert Override.from_data(asdict(o)) == o
    minimal = Override.from_data({"id": "2", "rule": "all_sheets_in", "reason": "r", "by": "lead", "at": AT})
    assert (minimal.id, minimal.city, minimal.project, minimal.active) == (2, None, None, True)


# -- split_overridden ---------------------------------------------------------------------------------------


def test_split_keeps_the_unlifted_rejections_in_order_and_pairs_each_lifted_one_with_its_override():
    rejections = [short("jiaxing"), short("hefei"), short("wuhu", 4)]
    o = override(2, city="hefei")
    kept, lifted = split_overridden(rejections, [override(1, rule="all_sheets_in"), o])
    assert kept == [short("jiaxing"), short("wuhu", 4)]
    assert lifted == [(short("hefei"), o)]


def test_split_without_overrides_keeps_everything():
    rejections = [short("hefei"), short("wuhu")]
    assert split_overridden(rejections, []) == (rejections, [])
    assert split_overridden([], [override()]) == ([], [])


def test_split_ignores_revoked_overrides_and_uses_the_first_active_one():
    gone = override(1, city="hefei", revoked=REVOKED)
    city = override(2, city="hefei")
    everyone = override(3)
    kept, lifted = split_overridden([short("hefei")], [gone, city, everyone])
    assert kept == []
    assert lifted == [(short("hefei"), city)]
    kept, lifted = split_overridden([short("hefei")], [gone])
    assert (kept, lifted) == ([short("hefei")], [])


def test_split_passes_the_project_to_the_match():
    quota = Rejection("municipal_quota", "quota full")
    o = override(rule="municipal_quota", project=7)
    assert split_overridden([quota], [o], project(pid=7)) == ([], [(quota, o)])
    assert split_overridden([quota], [o], project(pid=8)) == ([quota], [])
    assert split_overridden([quota], [o]) == ([quota], [])


# -- appeals_settled ------------------------------------------------------------------------------------------


def test_both_appeal_rules_are_registered():
    assert {"appeals_settled", "appeals_decided"} <= set(REGISTRY)


def test_appeals_settled_holds_without_reopened_projects():
    assert run("appeals_settled", context()) == []
    assert run("appeals_settled", context(request={"reopened_waiting": []})) == []


def test_appeals_settled_names_each_reopened_project_still_waiting():
    waiting = [
        {"project": 17, "city": "hefei", "state": "in_library", "stage": "municipal_review", "appeal": 3},
        {"project": 4, "city": "wuhu", "state": "submitted", "stage": "collection", "appeal": 5},
    ]
    found = run("appeals_settled", context(request={"reopened_waiting": waiting}))
    assert messages(found, "appeals_settled") == [
        "project 17 (hefei) was reopened to 'municipal_review' by appeal 3 and is still 'in_library'",
        "project 4 (wuhu) was reopened to 'collection' by appeal 5 and is still 'submitted'",
    ]
    assert [r.parties for r in found] == [("hefei",), ("wuhu",)]


# -- appeals_decided ------------------------------------------------------------------------------------------


def test_appeals_decided_holds_without_open_appeals():
    assert run("appeals_decided", context()) == []
    assert run("appeals_decided", context(request={"open_appeals": []})) == []


def test_appeals_decided_names_each_open_appeal_and_who_must_decide_it():
    """An appeal a city decides names that city (for reminders); one the lead decides names no party."""
    open_ = [
        {"appeal": 3, "project": 17, "city": "hefei", "decider": "hefei"},
        {"appeal": 4, "project": 20, "city": "wuhu", "decider": None},
        {"appeal": 5, "project": 21, "city": "jinhua"},
    ]
    found = run("appeals_decided", context(request={"open_appeals": open_}))
    assert messages(found, "appeals_decided") == [
        "appeal 3 against project 17 (hefei) is not decided yet",
        "appeal 4 against project 20 (wuhu) is not decided yet",
        "appeal 5 against project 21 (jinhua) is not decided yet",
    ]
    assert [r.parties for r in found] == [("hefei",), (), ()]


def test_a_city_override_of_appeals_decided_lifts_only_the_appeal_that_city_decides():
    """The parties an appeal rule names are what a city override is matched against."""
    open_ = [
        {"appeal": 3, "project": 17, "city": "hefei", "decider": "hefei"},
        {"appeal": 4, "project": 20, "city": "hefei", "decider": None},
    ]
    found = run("appeals_decided", context(request={"open_appeals": open_}))
    kept, lifted = split_overridden(found, [override(rule="appeals_decided", city="hefei")])
    assert [r.english for r in kept] == ["appeal 4 against project 20 (hefei) is not decided yet"]
    assert [r.english for r, _ in lifted] == ["appeal 3 against project 17 (hefei) is not decided yet"]
