"""The four eligibility conditions (SPEC §1 申报条件) and the city check at submission.

A city administrator accepting an application into the city library must be told exactly
which condition fails and why, in words the applicant can act on. Each condition is its own
policy with its own rule id.
"""

from __future__ import annotations

import copy

import pytest

from tests.conftest import make_app
from tests.policies.support import YEAR, context, messages, project, run, sh

ELIGIBILITY = ("registered_in_corridor", "party_member_team", "project_timeline", "original_results_evidence")
PROJECT_NAME = "车规级芯片关键技术攻关与产业化"


def app(**changes) -> dict:
    """A complete eligible hefei application with a known project name; ``changes`` edit sections."""
    data = copy.deepcopy(make_app("hefei", 1))
    data["project"]["name"] = PROJECT_NAME
    for section, values in changes.items():
        if isinstance(values, dict) and isinstance(data.get(section), dict):
            data[section].update(values)
        else:
            data[section] = values
    return data


def check(name: str, application: dict, **kw) -> list[str]:
    """Messages of the eligibility policy ``name`` for ``application`` (hefei, project 7)."""
    return messages(run(name, context(project=project(application, **kw))), name)


# -- the generated applications ----------------------------------------------------------------


@pytest.mark.parametrize("city", ["songjiang", "hefei", "wuhu"])
@pytest.mark.parametrize("name", ELIGIBILITY)
def test_complete_application_passes_every_condition(name, city):
    """A complete application from any of the nine cities is accepted by every condition."""
    assert run(name, context(project=project(make_app(city, 3), city=city))) == []


FLAWS = [
    ("not_registered", "registered_in_corridor"),
    ("non_member_lead", "party_member_team"),
    ("late_timeline", "project_timeline"),
    ("no_evidence", "original_results_evidence"),
]


@pytest.mark.parametrize(("flaw", "failing"), FLAWS, ids=[f for f, _ in FLAWS])
def test_each_flaw_fails_exactly_its_own_condition(flaw, failing):
    """An application with one flaw is refused by that condition only, so the message is precise."""
    ctx = context(project=project(make_app("hefei", 2, flaw=flaw)))
    refused = {name for name in ELIGIBILITY if run(name, ctx)}
    assert refused == {failing}


# -- registered_in_corridor ------------------------------------------------------------------------


REGISTERED = [
    ("not_registered", {"enterprise": {"registered_in_city": False}}, "the enterprise is not registered in 合肥市"),
    ("registered_missing", {"enterprise": {"registered_in_city": None}}, "the enterprise is not registered in 合肥市"),
    ("registered_as_text", {"enterprise": {"registered_in_city": "yes"}}, "the enterprise is not registered in 合肥市"),
    (
        "not_operating",
        {"enterprise": {"operating_in_city": False}},
        "the enterprise does not operate on site in 合肥市",
    ),
    (
        "no_party_org",
        {"party_organization": {"name": "  ", "founded": "2015-07-01"}},
        "no party organization (党组织) is named",
    ),
    ("no_party_org_section", {"party_organization": None}, "no party organization (党组织) is named"),
    (
        "no_founding_date",
        {"party_organization": {"founded": None}},
        "the party organization's founding date is missing",
    ),
    (
        "bad_founding_date",
        {"party_organization": {"founded": "2015-13-01"}},
        "the party organization's founding date is missing",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), [r[1:] for r in REGISTERED], ids=[r[0] for r in REGISTERED])
def test_registered_in_corridor_refuses(changes, expected):
    """Registration, on-site operation and an established party organization are each required."""
    assert check("registered_in_corridor", app(**changes)) == [f"project 7 ({PROJECT_NAME}): {expected}"]


def test_registered_in_corridor_lists_every_problem_at_once():
    """All missing facts are named in one message, so the applicant can fix them in one go."""
    bad = app(enterprise={"registered_in_city": False, "operating_in_city": False}, party_organization={"name": ""})
    [message] = check("registered_in_corridor", bad)
    assert message == (
        f"project 7 ({PROJECT_NAME}): the enterprise is not registered in 合肥市; "
        "the enterprise does not operate on site in 合肥市; no party organization (党组织) is named"
    )


def test_registered_in_corridor_refuses_a_city_outside_the_program():
    """An enterprise whose city is not one of the nine is refused, naming the city."""
    [message] = check("registered_in_corridor", app(enterprise={"registered_in_city": False}), city="nanjing")
    # an unknown city has no Chinese name: its id is used in the message instead
    assert message == (
        f"project 7 ({PROJECT_NAME}): city 'nanjing' is not one of the program's cities; "
        "the enterprise is not registered in nanjing"
    )


# an established party organization: named, at least min_party_members (3) members, founded by the submission

ESTABLISHED = [
    ("no_members", {"members": 0}, "the party organization has 0 members (党员数), at least 3 are needed"),
    ("two_members", {"members": 2}, "the party organization has 2 members (党员数), at least 3 are needed"),
    ("members_missing", {"members": None}, "the party organization's number of members (党员数) is missing"),
    ("members_as_text", {"members": "3"}, "the party organization's number of members (党员数) is missing"),
    ("members_as_bool", {"members": True}, "the party organization's number of members (党员数) is missing"),
    (
        "founded_after_submission",
        {"founded": "2027-03-01"},
        "the party organization was founded 2027-03-01, after the submission on 2027-02-10",
    ),
    (
        "founded_next_day",
        {"founded": "2027-02-11"},
        "the party organization was founded 2027-02-11, after the submission on 2027-02-10",
    ),
    (
        "late_and_too_small",
        {"founded": "2027-03-01", "members": 1},
        "the party organization was founded 2027-03-01, after the submission on 2027-02-10; "
        "the party organization has 1 members (党员数), at least 3 are needed",
    ),
]
SUBMITTED = sh(2, 10, 14)  # 2027-02-10 in Asia/Shanghai


@pytest.mark.parametrize(("org", "expected"), [r[1:] for r in ESTABLISHED], ids=[r[0] for r in ESTABLISHED])
def test_registered_in_corridor_needs_an_established_party_organization(org, expected):
    """Three members and a founding on or before the day of submission, each problem with its numbers."""
    got = check("registered_in_corridor", app(party_organization=org), submitted_at=SUBMITTED)
    assert got == [f"project 7 ({PROJECT_NAME}): {expected}"]


@pytest.mark.parametrize("name", ["无", "没有", "none", "None", "-", "／", "—", "n/a", "暂无", " 无 "])
def test_registered_in_corridor_refuses_a_placeholder_for_a_name(name):
    """无, none, a dash… say there is no party organization; the rule says so, quoting what was written."""
    got = check("registered_in_corridor", app(party_organization={"name": name, "members": 0}))
    assert got == [
        f"project 7 ({PROJECT_NAME}): the party organization (党组织) is named {name.strip()!r}, "
        "which names no organization"
    ]


def test_registered_in_corridor_passes_three_members_founded_the_day_of_submission():
    """The edge that passes: exactly three members, founded on the very day the application was submitted."""
    org = {"name": "某某科技有限公司党支部", "founded": "2027-02-10", "members": 3}
    assert check("registered_in_corridor", app(party_organization=org), submitted_at=SUBMITTED) == []


def test_registered_in_corridor_counts_the_submission_day_in_the_programs_time_zone():
    """Submitted at 00:30 on Feb 11 in Shanghai (still Feb 10 in UTC): a founding on Feb 11 is not after it."""
    org = {"founded": "2027-02-11"}
    assert check("registered_in_corridor", app(party_organization=org), submitted_at=sh(2, 11, 0, 30)) == []
    [message] = check(
        "registered_in_corridor", app(party_organization={"founded": "2027-02-12"}), submitted_at=sh(2, 11, 0, 30)
    )
    assert message.endswith("founded 2027-02-12, after the submission on 2027-02-11")


def test_registered_in_corridor_judges_an_application_being_submitted_by_today():
    """Not yet submitted (no submission time): the founding date is judged against now."""
    ctx = context(project=project(app(party_organization={"founded": "2027-02-02"})), now=sh(2, 1))
    [message] = messages(run("registered_in_corridor", ctx), "registered_in_corridor")
    assert message.endswith("the party organization was founded 2027-02-02, after the submission on 2027-02-01")


def test_registered_in_corridor_takes_the_minimum_from_the_program():
    """The minimum is the rule's parameter in the program file (3 in G60's); another program may ask more."""
    from tests.policies.support import PROGRAM

    assert PROGRAM.policy_params["registered_in_corridor"] == {"min_party_members": 3}
    ctx = context(project=project(app(party_organization={"members": 4})))
    [message] = messages(run("registered_in_corridor", ctx, {"min_party_members": 5}), "registered_in_corridor")
    assert message.endswith("the party organization has 4 members (党员数), at least 5 are needed")
    assert run("registered_in_corridor", ctx, {"min_party_members": 4}) == []
    assert run("registered_in_corridor", ctx, {}) == []  # the default, 3


def test_registered_in_corridor_accepts_a_founding_date_given_as_date():
    """The founding date may be a real date, not only an ISO string."""
    from datetime import date

    assert check("registered_in_corridor", app(party_organization={"founded": date(2012, 7, 1)})) == []


def test_unsaved_application_is_labelled_by_name():
    """Before it has an id, the application is named by its project name in the message."""
    [message] = check("registered_in_corridor", app(enterprise={"registered_in_city": False}), pid=None)
    assert message.startswith(f"application ({PROJECT_NAME}): ")


# -- party_member_team -------------------------------------------------------------------------------


def member(name: str, status: str, lead: bool = False, main_rd: bool = True) -> dict:
    return {"name": name, "political_status": status, "lead": lead, "main_rd": main_rd}


TEAMS = [
    ("all_members", [member("王伟", "中共党员", lead=True), member("李敏", "中共党员")], None),
    ("probationary_member_accepted", [member("王伟", "中共预备党员", lead=True), member("李敏", "中共预备党员")], None),
    (
        "non_member_outside_core_ignored",
        [member("王伟", "中共党员", lead=True), member("赵磊", "群众", main_rd=False)],
        None,
    ),
    (
        "lead_not_member",
        [member("王伟", "群众", lead=True), member("李敏", "中共党员")],
        "1 of 2 lead/main R&D members are not party members: 王伟 (群众)",
    ),
    (
        "main_rd_not_member",
        [
            member("王伟", "中共党员", lead=True),
            member("李敏", "群众"),
            member("张静", "共青团员"),
            member("赵磊", "群众", main_rd=False),
        ],
        "2 of 3 lead/main R&D members are not party members: 李敏 (群众), 张静 (共青团员)",
    ),
    (
        "status_missing",
        [member("王伟", "中共党员", lead=True), {"name": "李敏", "main_rd": True}],
        "1 of 2 lead/main R&D members are not party members: 李敏 (未填)",
    ),
    (
        "no_lead_marked",
        [member("王伟", "中共党员"), member("李敏", "中共党员")],
        "no team member is marked as the project lead",
    ),
    ("empty_team", [], "no team member is marked as the project lead"),
    (
        "entries_not_tables_ignored",
        ["王伟", None, member("李敏", "群众", main_rd=False, lead=True), ["张静"]],
        "1 of 1 lead/main R&D members are not party members: 李敏 (群众)",
    ),
    ("lead_not_main_rd_counts", [member("王伟", "中共党员", lead=True, main_rd=False)], None),
]


@pytest.mark.parametrize(("team", "expected"), [t[1:] for t in TEAMS], ids=[t[0] for t in TEAMS])
def test_party_member_team(team, expected):
    """The lead and main R&D staff must be 中共党员 or 中共预备党员; each offender is named."""
    result = check("party_member_team", app(team=team))
    assert result == ([] if expected is None else [f"project 7 ({PROJECT_NAME}): {expected}"])


def test_party_member_team_no_lead_and_non_member_reported_together():
    """A missing lead and a non-member are both reported in one message."""
    [message] = check("party_member_team", app(team=[member("李敏", "群众")]))
    assert "no team member is marked as the project lead" in message
    assert "1 of 1 lead/main R&D members are not party members: 李敏 (群众)" in message


# -- project_timeline ----------------------------------------------------------------------------------


TIMELINES = [
    ("started_previous_year_completes_june_30", "2026-01-01", "2027-06-30", None),
    ("started_end_of_previous_year", "2026-12-31", "2027-01-15", None),
    (
        "completion_july_1_refused",
        "2026-03-01",
        "2027-07-01",
        "expected completion 2027-07-01 is after the end of 2027-06",
    ),
    (
        "completion_next_year_refused",
        "2026-03-01",
        "2028-01-10",
        "expected completion 2028-01-10 is after the end of 2027-06",
    ),
    ("started_in_cycle_year", "2027-01-05", "2027-05-01", "started 2027-01-05, but must have started in 2026"),
    ("started_two_years_before", "2025-12-31", "2027-05-01", "started 2025-12-31, but must have started in 2026"),
    ("start_missing", None, "2027-05-01", "the start date is missing"),
    ("start_unparseable", "last spring", "2027-05-01", "the start date is missing"),
    ("completion_missing", "2026-03-01", None, "the expected completion date is missing"),
    ("both_missing", None, "", "the start date is missing; the expected completion date is missing"),
]


@pytest.mark.parametrize(
    ("started", "completion", "expected"), [t[1:] for t in TIMELINES], ids=[t[0] for t in TIMELINES]
)
def test_project_timeline_for_cycle_2027(started, completion, expected):
    """For the 2027 cycle: started in 2026, expected complete by 2027-06-30 inclusive."""
    result = check("project_timeline", app(project={"started": started, "expected_completion": completion}))
    assert result == ([] if expected is None else [f"project 7 ({PROJECT_NAME}): {expected}"])


def test_project_timeline_follows_the_cycle_year():
    """The same dates are judged against the cycle's own year (here 2028: start 2027, end 2028-06)."""
    application = app(project={"started": "2026-05-01", "expected_completion": "2027-05-01"})
    ctx = context(project=project(application), year=YEAR + 1)
    [message] = messages(run("project_timeline", ctx), "project_timeline")
    assert "started 2026-05-01, but must have started in 2027" in message
    good = app(project={"started": "2027-05-01", "expected_completion": "2028-06-30"})
    assert run("project_timeline", context(project=project(good), year=YEAR + 1)) == []


def test_project_timeline_parameters_come_from_the_program():
    """The completion month is a program parameter: with December, a 2027-07-01 completion is fine."""
    application = app(project={"started": "2026-05-01", "expected_completion": "2027-12-31"})
    ctx = context(project=project(application))
    assert run("project_timeline", ctx, {"start_year_offset": -1, "complete_by_month": 12}) == []
    [message] = messages(run("project_timeline", ctx), "project_timeline")
    assert "expected completion 2027-12-31 is after the end of 2027-06" in message


# -- original_results_evidence ---------------------------------------------------------------------------

ACCEPTED = "municipal_recognition, high_tech_enterprise, specialized_new, hidden_champion, single_item_champion"

EVIDENCE = [
    ("none", [], "none"),
    ("missing", None, "none"),
    ("unknown_kinds", ["patent", "media_coverage"], "patent, media_coverage"),
    ("unknown_single_string", "patent", "patent"),
]


@pytest.mark.parametrize(("evidence", "shown"), [e[1:] for e in EVIDENCE], ids=[e[0] for e in EVIDENCE])
def test_original_results_evidence_refuses(evidence, shown):
    """Without one accepted kind of evidence the message shows what was given and what is accepted."""
    assert check("original_results_evidence", app(project={"evidence": evidence})) == [
        f"project 7 ({PROJECT_NAME}): no accepted evidence of original results (given: {shown}; accepted: {ACCEPTED})"
    ]


@pytest.mark.parametrize(
    "evidence",
    [
        ["high_tech_enterprise"],
        ["patent", "specialized_new"],
        "single_item_champion",
        ["municipal_recognition"],
        ["hidden_champion"],
    ],
    ids=["high_tech", "one_of_two_accepted", "single_string", "municipal_recognition", "hidden_champion"],
)
def test_original_results_evidence_accepts_one_accepted_kind(evidence):
    """One accepted kind is enough, even alongside unknown ones."""
    assert check("original_results_evidence", app(project={"evidence": evidence})) == []


# -- application_city_in_program -----------------------------------------------------------------------------


def test_application_city_in_program():
    """Submitting for a city outside the program is refused naming the city and the nine cities by name."""
    assert run("application_city_in_program", context(project=project(app(), city="hefei"))) == []
    [message] = messages(
        run("application_city_in_program", context(project=project(app(), city="nanjing"))),
        "application_city_in_program",
    )
    assert message == (
        "enterprise city 'nanjing' is not one of the program's cities "
        "(松江区、嘉兴市、杭州市、金华市、苏州市、湖州市、宣城市、芜湖市、合肥市)"
    )
