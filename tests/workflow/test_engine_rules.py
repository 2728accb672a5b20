"""The G60 rules through the engine: eligibility, quotas, recommendations, scoring, the list,
publication and version checks. Every refusal is checked for its rule id, its numbers, and for
leaving the database exactly as it was."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from store.sql import Tx
from tests.conftest import (
    CITIES,
    LEAD,
    PROGRAM,
    SHEET_HIGH,
    SHEET_LOW,
    SHEET_MID,
    YEAR,
    admin,
    applicant,
    make_app,
    refused,
    scorer,
    sh,
    snapshot,
)
from workflow.errors import ConcurrentChange, InvalidInput
from workflow.records import AuditEntry

ACCEPTED_EVIDENCE = (
    "municipal_recognition, high_tech_enterprise, specialized_new, hidden_champion, single_item_champion"
)
SHEET_MID_LOW = {"value": 15, "organization": 21, "effectiveness": 21, "mechanism": 15}  # 72


def _label(pid: int, app: dict) -> str:
    return f"project {pid} ({app['project']['name']})"


# ------------------------------------------------------------------------------ eligibility


def _expected_flaw(flaw: str, app: dict) -> tuple[str, str]:
    if flaw == "not_registered":
        return "registered_in_corridor", "the enterprise is not registered in 合肥市"
    if flaw == "non_member_lead":
        core = [m for m in app["team"] if m.get("lead") or m.get("main_rd")]
        lead = app["team"][0]
        return "party_member_team", (
            f"1 of {len(core)} lead/main R&D members are not party members: {lead['name']} (群众)"
        )
    if flaw == "late_timeline":
        return "project_timeline", (
            f"expected completion {app['project']['expected_completion']} is after the end of 2027-06"
        )
    assert flaw == "no_evidence"
    return "original_results_evidence", (
        f"no accepted evidence of original results (given: none; accepted: {ACCEPTED_EVIDENCE})"
    )


@pytest.mark.parametrize("flaw", ["not_registered", "non_member_lead", "late_timeline", "no_evidence"])
def test_accepting_an_ineligible_application_names_the_condition(engine, store, clock, cycle, flaw):
    clock.set(sh(1, 10))
    app = make_app("hefei", 1, flaw=flaw)
    pid = engine.submit(applicant("hefei"), app).id
    clock.set(sh(1, 20))
    err = refused(store, engine.fire, admin("hefei"), pid, "accept")
    rule, message = _expected_flaw(flaw, app)
    assert err.rules == [rule]
    assert str(err.rejections[0]) == f"[{rule}] {_label(pid, app)}: {message}"
    assert str(err).startswith(f"Cannot accept project {pid} (in state 'submitted'): [{rule}] ")
    # rejecting it is what the city does instead
    assert engine.fire(admin("hefei"), pid, "reject", reason=message)[0].state == "rejected"


def test_an_application_failing_two_conditions_lists_both(engine, store, clock, cycle):
    clock.set(sh(1, 10))
    app = make_app("jinhua", 2, flaw="no_evidence")
    app["team"][0]["political_status"] = "群众"
    pid = engine.submit(applicant("jinhua"), app).id
    err = refused(store, engine.fire, admin("jinhua"), pid, "accept")
    assert err.rules == ["party_member_team", "original_results_evidence"]
    core = [m for m in app["team"] if m.get("lead") or m.get("main_rd")]
    assert (
        f"1 of {len(core)} lead/main R&D members are not party members: {app['team'][0]['name']} (群众)"
        in err.rejections[0].english
    )
    assert "given: none" in err.rejections[1].english


def test_an_application_failing_everything_lists_every_problem(engine, store, clock, cycle):
    clock.set(sh(1, 10))
    app = make_app("wuhu", 3)
    app["enterprise"]["registered_in_city"] = False
    app["enterprise"]["operating_in_city"] = False
    app["team"][0]["political_status"] = "群众"
    app["project"]["started"] = "2025-11-01"
    app["project"]["expected_completion"] = "2027-07-01"
    app["project"]["evidence"] = ["patent", "news_report"]
    pid = engine.submit(applicant("wuhu"), app).id
    err = refused(store, engine.fire, admin("wuhu"), pid, "accept")
    assert err.rules == ["registered_in_corridor", "party_member_team", "project_timeline", "original_results_evidence"]
    by_rule = {r.rule: r.english for r in err.rejections}
    assert by_rule["registered_in_corridor"] == (
        f"{_label(pid, app)}: the enterprise is not registered in 芜湖市; "
        "the enterprise does not operate on site in 芜湖市"
    )
    assert by_rule["project_timeline"] == (
        f"{_label(pid, app)}: started 2025-11-01, but must have started in 2026; "
        "expected completion 2027-07-01 is after the end of 2027-06"
    )
    assert "(given: patent, news_report; accepted: " in by_rule["original_results_evidence"]


def test_an_application_from_a_city_outside_the_program_is_a_rule_refusal(engine, store, clock, cycle):
    """RuleRefused (exit 3) by application_city_in_program, naming the city as written and the nine
    cities, for the applicant and the city administrator alike: no user acts for 南京市."""
    clock.set(sh(1, 10))
    app = make_app("hefei", 1)
    app["enterprise"]["city"] = "南京市"
    for user in (applicant("hefei"), admin("hefei")):
        err = refused(store, engine.submit, user, app)
        assert err.rules == ["application_city_in_program"]
        assert err.rejections[0].english == (
            "enterprise city '南京市' is not one of the program's cities "
            "(松江区、嘉兴市、杭州市、金华市、苏州市、湖州市、宣城市、芜湖市、合肥市)"
        )


def test_accepting_a_party_organization_founded_after_the_submission_is_refused(engine, store, clock, cycle):
    """The submission's day is the project's (Feb 10), not the day of acceptance (Feb 20)."""
    clock.set(sh(2, 10))
    app = make_app("hefei", 1)
    app["party_organization"]["founded"] = "2027-02-15"
    late = engine.submit(applicant("hefei"), app).id
    app = make_app("hefei", 2)
    app["party_organization"].update(founded="2027-02-10", members=3)
    edge = engine.submit(applicant("hefei"), app).id
    clock.set(sh(2, 20))
    err = refused(store, engine.fire, admin("hefei"), [late, edge], "accept")
    assert err.rules == ["registered_in_corridor"]
    assert err.rejections[0].english.endswith(
        "the party organization was founded 2027-02-15, after the submission on 2027-02-10"
    )
    assert engine.fire(admin("hefei"), edge, "accept")[0].state == "in_library"


def test_a_batch_accept_with_one_ineligible_application_accepts_none(engine, store, clock, cycle):
    clock.set(sh(1, 10))
    good = [engine.submit(applicant("hefei"), make_app("hefei", n)).id for n in (1, 2)]
    bad = engine.submit(applicant("hefei"), make_app("hefei", 3, flaw="late_timeline")).id
    err = refused(store, engine.fire, admin("hefei"), [*good, bad], "accept")
    assert err.rules == ["project_timeline"]
    assert str(err).startswith(f"Cannot accept projects {good[0]}, {good[1]}, {bad}: [project_timeline] project {bad} ")
    assert {p.state for p in engine.projects(LEAD)} == {"submitted"}


# ------------------------------------------------------------------------------ municipal quotas


def _library(engine, clock, city: str, n: int) -> list[int]:
    """``n`` accepted projects of ``city``, and the cycle in municipal review (03-10)."""
    clock.set(sh(1, 10))
    ids = [engine.submit(applicant(city), make_app(city, k)).id for k in range(1, n + 1)]
    clock.set(sh(2, 20))
    engine.fire(admin(city), ids, "accept")
    clock.set(sh(3, 1))
    engine.advance(LEAD)
    clock.set(sh(3, 10))
    return ids


def test_songjiang_names_at_most_10_demonstration_projects(engine, store, clock, cycle):
    ids = _library(engine, clock, "songjiang", 12)
    engine.fire(admin("songjiang"), ids[:10], "review", result="demonstration", method="onsite")
    err = refused(store, engine.fire, admin("songjiang"), ids[10], "review", result="demonstration")
    assert err.rules == ["municipal_quota"]
    assert str(err.rejections[0]) == (
        f"[municipal_quota] 松江区 (songjiang) has 10 of 10 municipal demonstration projects; "
        f"project {ids[10]} cannot be named demonstration"
    )
    # re-reviewing a demonstration project to the same result takes no new place
    engine.fire(admin("songjiang"), ids[0], "review", result="demonstration", method="site")
    # a place given back can be given again
    engine.fire(admin("songjiang"), ids[0], "review", result="none")
    assert (
        engine.fire(admin("songjiang"), ids[10], "review", result="demonstration")[0].review_result == "demonstration"
    )
    status = {c["city"]: c for c in engine.status(LEAD)["cities"]}["songjiang"]
    assert (status["demonstration"], status["demonstration_quota"]) == (10, 10)


def test_a_batch_that_would_overrun_the_quota_is_refused_whole(engine, store, clock, cycle):
    ids = _library(engine, clock, "songjiang", 11)
    err = refused(store, engine.fire, admin("songjiang"), ids, "review", result="demonstration")
    assert err.rules == ["municipal_quota"]
    assert f"has 10 of 10 municipal demonstration projects; project {ids[10]} cannot be named demonstration" in str(err)
    assert {p.state for p in engine.projects(LEAD)} == {"in_library"}


def test_songjiang_names_at_most_25_excellent_projects(engine, store, clock, cycle):
    ids = _library(engine, clock, "songjiang", 36)
    engine.fire(admin("songjiang"), ids[:10], "review", result="demonstration")
    engine.fire(admin("songjiang"), ids[10:35], "review", result="excellent")
    last = ids[35]
    err = refused(store, engine.fire, admin("songjiang"), last, "review", result="excellent")
    assert err.rules == ["municipal_quota"]
    assert (
        f"松江区 (songjiang) has 25 of 25 municipal excellent projects; project {last} cannot be named excellent"
    ) in str(err)
    err = refused(store, engine.fire, admin("songjiang"), last, "review", result="demonstration")
    assert "has 10 of 10 municipal demonstration projects" in str(err)
    assert engine.fire(admin("songjiang"), last, "review", result="none")[0].state == "municipal_none"
    status = {c["city"]: c for c in engine.status(LEAD)["cities"]}["songjiang"]
    assert (status["demonstration"], status["excellent"], status["funding"]) == (10, 25, 10 * 20000 + 25 * 8000)


def test_another_city_has_no_quota(engine, store, clock, cycle):
    ids = _library(engine, clock, "hefei", 12)
    done = engine.fire(admin("hefei"), ids, "review", result="demonstration", method="written")
    assert len(done) == 12 and {p.state for p in done} == {"municipal_demonstration"}
    status = {c["city"]: c for c in engine.status(LEAD)["cities"]}["hefei"]
    assert (status["demonstration"], status["demonstration_quota"]) == (12, None)


def test_a_cycle_quota_override_limits_that_city(engine, store, clock):
    """A separate store (the engine fixture without ``cycle``): a cycle opened with hefei limited to 2."""
    clock.set(sh(1, 2))
    engine.add_user(None, LEAD, "lead", "songjiang")
    engine.add_user(LEAD, admin("hefei"), "city-admin", "hefei")
    engine.add_user(LEAD, applicant("hefei"), "applicant", "hefei")
    cycle = engine.open_cycle(LEAD, PROGRAM, YEAR, quotas={"hefei": {"demonstration": 2}})
    assert cycle.settings["quotas"] == {"hefei": {"demonstration": 2}}
    ids = _library(engine, clock, "hefei", 4)
    engine.fire(admin("hefei"), ids[:2], "review", result="demonstration")
    err = refused(store, engine.fire, admin("hefei"), ids[2], "review", result="demonstration")
    assert err.rules == ["municipal_quota"]
    assert str(err.rejections[0]) == (
        f"[municipal_quota] 合肥市 (hefei) has 2 of 2 municipal demonstration projects; "
        f"project {ids[2]} cannot be named demonstration"
    )
    # the override is for demonstration only; songjiang keeps the program's quota
    engine.fire(admin("hefei"), ids[2:], "review", result="excellent")
    quotas = {c["city"]: (c["demonstration_quota"], c["excellent_quota"]) for c in engine.status(LEAD)["cities"]}
    assert quotas["hefei"] == (2, None) and quotas["songjiang"] == (10, 25) and quotas["wuhu"] == (None, None)


def test_quota_overrides_belong_to_their_cycle(engine, clock, cycle):
    clock.set(sh(12, 1))
    engine.open_cycle(LEAD, PROGRAM, YEAR + 1, quotas={"hefei": {"demonstration": 2}, "songjiang": {"excellent": 30}})
    by_cycle = {}
    for cid in ("g60-2027", "g60-2028"):
        by_cycle[cid] = {
            c["city"]: (c["demonstration_quota"], c["excellent_quota"]) for c in engine.status(LEAD, cid)["cities"]
        }
    assert by_cycle["g60-2027"]["hefei"] == (None, None)
    assert by_cycle["g60-2028"]["hefei"] == (2, None)
    assert by_cycle["g60-2027"]["songjiang"] == (10, 25)
    assert by_cycle["g60-2028"]["songjiang"] == (10, 30)


@pytest.mark.parametrize("value", [-1, "2"], ids=["negative", "text"])
def test_a_cycle_quota_must_be_a_whole_number(engine, store, clock, cycle, value):
    clock.set(sh(12, 1))
    before = snapshot(store)
    with pytest.raises(InvalidInput) as err:
        engine.open_cycle(LEAD, PROGRAM, YEAR + 1, quotas={"hefei": {"demonstration": value}})
    assert "hefei" in str(err.value) and "demonstration" in str(err.value)
    assert snapshot(store) == before


# ------------------------------------------------------------------------------ recommendation


def test_only_municipal_demonstration_projects_are_recommended(at_stage):
    s = at_stage("recommendation")
    pid = s.excellent["hefei"]
    err = refused(s.store, s.engine.fire, admin("hefei"), pid, "recommend")
    assert err.rules == ["recommend_own_demonstration"]
    assert str(err) == (
        f"Cannot recommend project {pid} (in state 'municipal_excellent'): [recommend_own_demonstration] "
        f"project {pid} is not a municipal demonstration project (excellent)."
    )


def test_recommending_several_is_all_or_nothing(at_stage):
    s = at_stage("recommendation")
    ids = [*s.demos["hefei"], s.excellent["hefei"]]
    err = refused(s.store, s.engine.fire, admin("hefei"), ids, "recommend")
    assert err.rules == ["recommend_own_demonstration"]
    assert f"project {s.excellent['hefei']} is not a municipal demonstration project (excellent)" in str(err)
    assert s.engine.projects(LEAD, state="recommended") == []
    # the same batch without the bad id goes through whole
    assert len(s.engine.fire(admin("hefei"), s.demos["hefei"], "recommend")) == 5


def test_recommending_twice_is_refused_by_state(at_stage):
    s = at_stage("recommendation")
    pid = s.demos["hefei"][0]
    s.engine.fire(admin("hefei"), pid, "recommend")
    err = refused(s.store, s.engine.fire, admin("hefei"), [s.demos["hefei"][1], pid], "recommend")
    assert err.rules == ["state"]
    assert f"project {pid} is 'recommended'; recommend needs municipal_demonstration" in str(err)


def test_recommendation_cannot_close_while_a_city_has_fewer_than_5(at_stage):
    s = at_stage("recommendation")
    for c in CITIES:
        if c == "hefei":
            s.engine.fire(admin(c), s.demos[c][:3], "recommend")
        elif c != "wuhu":
            s.engine.fire(admin(c), s.demos[c], "recommend")
    s.clock.set(sh(5, 10))
    err = refused(s.store, s.engine.advance, LEAD)
    assert err.rules == ["min_recommendations", "min_recommendations"]
    assert str(err) == (
        "Cannot close stage 'recommendation' of cycle g60-2027: "
        "[min_recommendations] wuhu has 0 of the 5 required recommendations; "
        "[min_recommendations] hefei has 3 of the 5 required recommendations."
    )
    # a withdrawal counts too
    s.engine.fire(admin("hefei"), s.demos["hefei"][3:], "recommend")
    s.engine.fire(admin("wuhu"), s.demos["wuhu"], "recommend")
    s.engine.fire(admin("wuhu"), s.demos["wuhu"][0], "withdraw", reason="重新遴选")
    err = refused(s.store, s.engine.advance, LEAD)
    assert [r.english for r in err.rejections] == ["wuhu has 4 of the 5 required recommendations"]
    s.engine.fire(admin("wuhu"), s.demos["wuhu"][0], "recommend")
    assert s.engine.advance(LEAD).to_stage == "joint_scoring"


# ------------------------------------------------------------------------------ scoring


def test_a_score_outside_the_bands_is_refused(at_stage):
    s = at_stage("joint_scoring")
    pid = s.demos["hefei"][0]
    err = refused(s.store, s.engine.score, scorer("jiaxing"), pid, {**SHEET_MID, "value": 11})
    assert err.rules == ["score_in_bands"]
    assert str(err.rejections[0]) == (
        "[score_in_bands] value = 11 is outside every band of value (max 20; bands 18-20 or 15-17 or 12-14)"
    )


def test_every_problem_of_a_sheet_is_listed(at_stage):
    s = at_stage("joint_scoring")
    pid = s.demos["hefei"][0]
    sheet = {"value": 21, "organization": 15, "effectiveness": 25.5, "impact": 3}
    err = refused(s.store, s.engine.score, scorer("jiaxing"), pid, sheet)
    assert [r.english for r in err.rejections] == [
        "value = 21 is outside every band of value (max 20; bands 18-20 or 15-17 or 12-14)",
        "organization = 15 is outside every band of organization (max 30; bands 26-30 or 21-25 or 16-20)",
        "effectiveness = 25.5 is not a whole number (26-30 or 21-25 or 16-20)",
        "mechanism is not scored",
        "unknown criteria: impact",
    ]


def test_rescoring_replaces_the_citys_sheet(at_stage):
    s = at_stage("joint_scoring")
    pid = s.low[0]
    s.engine.score(scorer("hefei"), pid, SHEET_MID, completion="基本完成")
    s.clock.set(sh(5, 13))
    s.engine.score(scorer("hefei"), pid, SHEET_HIGH, completion="已完成")
    _, sheets, history = s.engine.project(LEAD, pid)
    assert [(x.city, x.total, x.current, x.completion) for x in sheets] == [
        ("hefei", 78, False, "基本完成"),
        ("hefei", 94, True, "已完成"),
    ]
    assert sheets[0].bands == {
        "value": "比较重要",
        "organization": "比较明显",
        "effectiveness": "比较明显",
        "mechanism": "比较明显",
    }
    assert sheets[1].bands == {
        "value": "非常重要",
        "organization": "非常明显",
        "effectiveness": "非常明显",
        "mechanism": "非常明显",
    }
    assert [(h.data["total"], h.data["replaces_total"]) for h in history if h.action == "score"] == [
        (78, None),
        (94, 78),
    ]
    hefei = {c["city"]: c for c in s.engine.status(LEAD)["cities"]}["hefei"]
    assert (hefei["sheets"], hefei["sheets_needed"]) == (1, 45)  # still one sheet for this project


def test_only_shortlist_projects_are_scored(at_stage):
    s = at_stage("joint_scoring")
    pid = s.excellent["suzhou"]
    err = refused(s.store, s.engine.score, scorer("hefei"), pid, SHEET_MID)
    assert str(err) == (
        f"Cannot score project {pid} (in state 'municipal_excellent'): [state] project {pid} is "
        "'municipal_excellent'; score needs recommended."
    )


def _score(s, city: str, ids) -> None:
    """``city`` scores ``ids`` as the scenario does: no tie crosses a place boundary."""
    for group, sheet in ((s.high, SHEET_HIGH), (s.mid, SHEET_MID), (s.low, SHEET_LOW)):
        chosen = [pid for pid in group if pid in ids]
        if chosen:
            s.engine.fire(scorer(city), chosen, "score", scores=sheet)


def test_joint_scoring_cannot_close_until_every_sheet_is_in(at_stage):
    s = at_stage("hefei_short")  # every city has scored all 45, hefei only the first 4
    s.clock.set(sh(5, 20))
    err = refused(s.store, s.engine.advance, LEAD)
    assert err.rules == ["all_sheets_in"]
    assert str(err) == (
        "Cannot close stage 'joint_scoring' of cycle g60-2027: "
        "[all_sheets_in] hefei has scored 4 of 45 key-library projects."
    )
    _score(s, "hefei", s.shortlist[4:])
    assert s.engine.advance(LEAD).to_stage == "confirmation"
    s.clock.set(sh(5, 21))
    assert s.engine.propose_list(LEAD).status == "proposed"


def test_a_second_scorer_of_a_city_does_not_add_a_sheet(at_stage):
    s = at_stage("hefei_short")
    s.engine.add_user(LEAD, "hefei-scorer-2", "scorer", "hefei")
    s.engine.score("hefei-scorer-2", s.shortlist[0], SHEET_MID)  # replaces hefei's sheet, no new one
    err = refused(s.store, s.engine.advance, LEAD)
    assert [r.english for r in err.rejections] == ["hefei has scored 4 of 45 key-library projects"]
    _, sheets, _ = s.engine.project(LEAD, s.shortlist[0])
    assert [(x.scorer, x.current) for x in sheets if x.city == "hefei"] == [
        (scorer("hefei"), False),
        ("hefei-scorer-2", True),
    ]


def test_the_list_cannot_be_proposed_before_all_sheets_are_in(at_stage):
    s = at_stage("hefei_short")  # every city has scored all 45, hefei only the first 4
    err = refused(s.store, s.engine.propose_list, LEAD)
    assert err.rules == ["stage_window", "all_sheets_in"]
    assert [r.english for r in err.rejections] == [
        "propose belongs to stage 'confirmation', but the cycle is in stage 'joint_scoring'",
        "hefei has scored 4 of 45 key-library projects",
    ]


# ------------------------------------------------------------------------------ the list


def _tie_at_the_first_boundary(s) -> tuple[int, int, int, list[int]]:
    """One project on top, two tied at 78 across the demonstration/excellent boundary (places 2
    and 3), two at 72, the rest at 62; the cycle moved on to confirmation."""
    top, b, c = s.high[0], s.mid[0], s.mid[1]
    next_two = [s.mid[2], s.high[1]]
    rest = [pid for pid in s.shortlist if pid not in (top, b, c, *next_two)]
    for city in CITIES:
        s.engine.fire(scorer(city), top, "score", scores=SHEET_HIGH)
        s.engine.fire(scorer(city), [b, c], "score", scores=SHEET_MID)
        s.engine.fire(scorer(city), next_two, "score", scores=SHEET_MID_LOW)
        s.engine.fire(scorer(city), rest, "score", scores=SHEET_LOW)
    s.clock.set(sh(5, 20))
    s.engine.advance(LEAD)
    return top, min(b, c), max(b, c), next_two


def test_a_tie_across_the_boundary_is_refused_until_settled(at_stage):
    s = at_stage("joint_scoring")
    top, b, c, next_two = _tie_at_the_first_boundary(s)
    err = refused(s.store, s.engine.propose_list, LEAD)
    assert err.rules == ["boundary_tie_settled"]
    assert err.rejections[0].english == (
        f"projects {b}, {c} are tied at 78.0000 across the boundary between demonstration (place 2) and "
        "excellent; settle with --tie-order listing them best first"
    )
    # naming only one of the tied projects does not settle it
    err = refused(s.store, s.engine.propose_list, LEAD, tie_order=[c])
    assert err.rules == ["boundary_tie_settled"]

    lst = s.engine.propose_list(LEAD, tie_order=[c, b])
    assert (lst.number, lst.status, lst.tie_order) == (1, "proposed", [c, b])
    head = [(e.rank, e.project_id, e.score, e.category) for e in lst.entries[:5]]
    assert head == [
        (1, top, "94.0000", "demonstration"),
        (2, c, "78.0000", "demonstration"),
        (3, b, "78.0000", "excellent"),
        (4, min(next_two), "72.0000", "excellent"),
        (5, max(next_two), "72.0000", "excellent"),
    ]
    assert {e.category for e in lst.entries[5:]} == {"none"} and len(lst.entries) == 45


def test_an_objection_sends_the_list_back_for_a_new_version(at_stage):
    s = at_stage("proposed")
    s.clock.set(sh(6, 1))
    s.engine.confirm_list(admin("hefei"))
    before = snapshot(s.store)
    with pytest.raises(InvalidInput) as err:
        s.engine.confirm_list(admin("jiaxing"), decision="object", reason="  ")
    assert "an objection needs --reason" in str(err.value)
    assert snapshot(s.store) == before

    lst = s.engine.confirm_list(admin("jiaxing"), decision="object", reason="嘉兴项目得分汇总有误")
    assert lst.status == "objected"
    err = refused(s.store, s.engine.confirm_list, admin("wuhu"))
    assert err.rules == ["list_status"]
    assert str(err) == (
        "Cannot act on the list of cycle g60-2027: [list_status] list version 1 is objected; this needs proposed."
    )
    err = refused(s.store, s.engine.advance, LEAD)
    assert err.rules == ["all_parties_confirmed"]

    s.clock.set(sh(6, 3))
    v2 = s.engine.propose_list(LEAD)
    assert (v2.number, v2.status) == (2, "proposed")
    _, versions, confirmations = s.engine.list_versions(LEAD)
    assert [(v.number, v.status) for v in versions] == [(1, "superseded"), (2, "proposed")]
    assert [(c.city, c.decision, c.reason) for c in confirmations[versions[0].id]] == [
        ("hefei", "confirm", ""),
        ("jiaxing", "object", "嘉兴项目得分汇总有误"),
    ]
    assert confirmations[versions[1].id] == []
    # hefei's confirmation of version 1 does not carry over to version 2
    err = refused(s.store, s.engine.advance, LEAD)
    assert [r.english for r in err.rejections] == [
        f"list version 2 has 0 of 9 confirmations; waiting for {', '.join(CITIES)}"
    ]
    s.engine.confirm_list(admin("hefei"))


def test_confirmation_closes_only_when_all_nine_have_confirmed(at_stage):
    s = at_stage("proposed")
    s.clock.set(sh(6, 1))
    for c in CITIES:
        if c != "hefei":
            s.engine.confirm_list(admin(c))
    err = refused(s.store, s.engine.advance, LEAD)
    assert str(err) == (
        "Cannot close stage 'confirmation' of cycle g60-2027: [all_parties_confirmed] "
        "list version 1 has 8 of 9 confirmations; waiting for hefei."
    )
    s.engine.confirm_list(admin("hefei"))
    err = refused(s.store, s.engine.confirm_list, admin("hefei"))
    assert err.rules == ["confirm_once"]
    assert "hefei has already confirmed list version 1" in str(err)
    result = s.engine.advance(LEAD)
    assert (result.from_stage, result.to_stage) == ("confirmation", "publication")
    assert s.engine.status(LEAD)["list"] == {"version": 1, "status": "confirmed"}


def test_a_confirmed_list_cannot_be_replaced(at_stage):
    s = at_stage("confirmed")
    err = refused(s.store, s.engine.propose_list, LEAD)
    assert "list_open" in err.rules
    assert "list version 1 is already confirmed" in str(err)


def test_publish_needs_a_confirmed_list(at_stage):
    s = at_stage("proposed")
    err = refused(s.store, s.engine.publish, LEAD)
    assert str(err) == (
        "Cannot act on the list of cycle g60-2027: [list_status] list version 1 is proposed; this needs confirmed."
    )


def test_publishing_places_every_shortlist_project(at_stage):
    s = at_stage("confirmed")
    lst = s.engine.publish(LEAD)
    assert lst.status == "published"
    state = {p.id: p.state for p in s.engine.projects(LEAD)}
    assert {state[pid] for pid in s.high} == {"listed_demonstration"}
    assert {state[pid] for pid in s.mid} == {"listed_excellent"}
    assert {state[pid] for pid in s.low} == {"not_listed"}
    assert {state[pid] for pid in s.excellent.values()} == {"municipal_excellent"}  # never in the key library
    history = s.engine.project(LEAD, s.high[0])[2]
    assert (history[-1].action, history[-1].from_state, history[-1].to_state, history[-1].data) == (
        "place",
        "recommended",
        "listed_demonstration",
        {"list_version": 1, "category": "demonstration"},
    )
    err = refused(s.store, s.engine.publish, LEAD)
    assert "[list_status] list version 1 is published; this needs confirmed" in str(err)


def test_award_moves_listed_projects_to_awarded(at_stage):
    s = at_stage("published")
    done = s.engine.fire(LEAD, [*s.high, *s.mid], "award", reason="命名授牌")
    assert {p.state for p in done} == {"awarded"}
    err = refused(s.store, s.engine.fire, LEAD, s.high[0], "award")
    assert f"project {s.high[0]} is 'awarded'; award needs listed_demonstration or listed_excellent" in str(err)


@pytest.mark.parametrize("which", ["not_listed", "municipal_excellent"])
def test_awarding_a_project_that_is_not_listed_is_refused(at_stage, which):
    s = at_stage("published")
    pid = s.low[0] if which == "not_listed" else s.excellent["hefei"]
    err = refused(s.store, s.engine.fire, LEAD, pid, "award")
    assert err.rules == ["state"]
    assert str(err) == (
        f"Cannot award project {pid} (in state '{which}'): [state] project {pid} is "
        f"'{which}'; award needs listed_demonstration or listed_excellent."
    )
    # in a batch, one such project stops all of them
    err = refused(s.store, s.engine.fire, LEAD, [s.high[0], pid], "award")
    assert err.rules == ["state"]
    assert s.engine.project(LEAD, s.high[0])[0].state == "listed_demonstration"


def test_the_last_stage_cannot_be_closed(at_stage):
    s = at_stage("published")
    err = refused(s.store, s.engine.advance, LEAD)
    assert str(err) == (
        "Cannot close stage 'publication' of cycle g60-2027: "
        "[last_stage] 'publication' is the last stage of g60-deep-integration."
    )


# ------------------------------------------------------------------------------ version checks


def test_a_stale_project_write_is_a_concurrent_change_and_writes_nothing(at_stage):
    s = at_stage("collection")
    pid = s.ids["hefei"][0]
    first = s.engine.project(LEAD, pid)[0]
    second = s.engine.project(LEAD, pid)[0]
    assert first.version == second.version == 1
    with s.store.transaction() as tx:
        tx.save_project(dataclasses.replace(first, state="in_library"))
    before = snapshot(s.store)
    with pytest.raises(ConcurrentChange) as err:
        with s.store.transaction() as tx:
            tx.audit(
                AuditEntry(
                    at=sh(1, 20),
                    cycle_id="g60-2027",
                    subject="project",
                    subject_id=str(pid),
                    actor=admin("hefei"),
                    action="reject",
                    from_state="submitted",
                    to_state="rejected",
                )
            )
            tx.save_project(dataclasses.replace(second, state="rejected"))
    assert err.value.exit_code == 6
    assert str(err.value) == (
        f"project {pid} was changed by someone else: you acted on version 1, "
        "it is now at version 2; reload and try again"
    )
    assert snapshot(s.store) == before


def test_a_stale_cycle_write_is_a_concurrent_change(at_stage):
    s = at_stage("municipal_review")
    first, second = s.engine.get_cycle(None), s.engine.get_cycle(None)
    with s.store.transaction() as tx:
        tx.save_cycle(dataclasses.replace(first, settings={**first.settings, "note": "a"}))
    before = snapshot(s.store)
    with pytest.raises(ConcurrentChange) as err:
        with s.store.transaction() as tx:
            tx.save_cycle(dataclasses.replace(second, stage="recommendation"))
    assert (
        f"cycle g60-2027 was changed by someone else: you acted on version {second.version}, "
        f"it is now at version {second.version + 1}" in str(err.value)
    )
    assert snapshot(s.store) == before


def test_an_engine_batch_that_meets_a_moved_version_writes_nothing(at_stage, monkeypatch):
    """Another writer moved the second project between the engine's read and its write: the
    first project's change and its audit row are rolled back with it."""
    s = at_stage("collection")
    first, moved = s.ids["hefei"][:2]
    real_get = Tx.get_projects

    def read_before_the_other_writer(self, project_ids, **kw):
        found = real_get(self, project_ids, **kw)
        if moved in found:
            found[moved].version -= 1
        return found

    monkeypatch.setattr(Tx, "get_projects", read_before_the_other_writer)
    before = snapshot(s.store)
    with pytest.raises(ConcurrentChange) as err:
        s.engine.fire(admin("hefei"), [first, moved], "accept")
    assert f"project {moved} was changed by someone else: you acted on version 0, it is now at version 1" in str(
        err.value
    )
    assert snapshot(s.store) == before


def test_a_stale_list_write_is_a_concurrent_change(at_stage):
    s = at_stage("proposed")
    with s.store.transaction(write=False) as tx:
        first = tx.latest_list("g60-2027")
        second = tx.latest_list("g60-2027")
    s.clock.set(sh(6, 1))
    s.engine.confirm_list(admin("hefei"))  # bumps the list row's version
    before = snapshot(s.store)
    with pytest.raises(ConcurrentChange) as err:
        with s.store.transaction() as tx:
            tx.save_list_status(dataclasses.replace(second, status="objected"))
    assert "list version 1 of g60-2027 was changed by someone else" in str(err.value)
    assert snapshot(s.store) == before
    assert first.version == second.version


def test_a_repeated_id_in_one_batch_is_not_reported_as_someone_elses_change(at_stage):
    s = at_stage("collection")
    pid = s.ids["hefei"][0]
    before = snapshot(s.store)
    try:
        s.engine.fire(admin("hefei"), [pid, pid], "accept")
    except InvalidInput:
        assert snapshot(s.store) == before
    except ConcurrentChange as exc:
        assert snapshot(s.store) == before  # nothing is written, but the message is false
        pytest.fail(f"a repeated id was reported as a concurrent change: {exc}")
    else:
        assert s.engine.project(LEAD, pid)[0].state == "in_library"
        assert [h.action for h in s.engine.project(LEAD, pid)[2]] == ["submit", "accept"]


def test_dates_in_the_application_are_kept_as_iso_text(engine, clock, cycle):
    """Guards read the stored application; a date object given at submit is stored as ISO text."""
    clock.set(sh(1, 10))
    app = make_app("hefei", 1)
    app["project"]["started"] = date(2026, 3, 1)
    pid = engine.submit(applicant("hefei"), app).id
    assert engine.project(LEAD, pid)[0].application["project"]["started"] == "2026-03-01"
    clock.set(sh(1, 20))
    assert engine.fire(admin("hefei"), pid, "accept")[0].state == "in_library"
