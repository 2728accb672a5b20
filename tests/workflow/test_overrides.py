"""The lead's overrides through the engine: a rule the program marks overridable stops holding
back one city (or everyone) once the lead says why; the action that went through names the
override in its audit row; revoking it brings the rule back.

The scenario: at checkpoint "recommendation" every city recommends its 5 municipal demonstration
projects except hefei, which recommends 3 (see checkpoints.py); at checkpoint "hefei_short"
hefei has scored 4 of the 45 key-library projects.
"""

from __future__ import annotations

from dataclasses import asdict

import pytest

from tests.conftest import CITIES, LEAD, SHEET_HIGH, admin, applicant, refused, scorer, sh, snapshot
from tests.workflow.checkpoints import HEFEI_SHORT, Staged
from workflow.errors import InvalidInput, NotFound, NotPermitted

REASON = "合肥市仅评出3个示范项目"
HEFEI_SHORT_MSG = "[min_recommendations] hefei has 3 of the 5 required recommendations"
CLOSE_REFUSED = f"Cannot close stage 'recommendation' of cycle g60-2027: {HEFEI_SHORT_MSG}."


def lifted(message: str, oid: int = 1, reason: str = REASON) -> str:
    """The note an action records for a rejection an override lifted."""
    return f"{message} — overridden by override {oid} (lead: {reason})"


def recommend(s: Staged, short: dict[str, int] | None = None) -> None:
    """Every city recommends its 5 demonstration projects, except the ``short`` ones ({city: how many})."""
    short = {"hefei": 3} if short is None else short
    s.clock.set(sh(5, 5))
    for c in CITIES:
        s.engine.fire(admin(c), s.demos[c][: short.get(c, 5)], "recommend")
    s.clock.set(sh(5, 11))


@pytest.fixture
def short(at_stage) -> Staged:
    s = at_stage("recommendation")
    recommend(s)
    return s


def audit(s: Staged, action: str):
    return [e for e in s.engine.history(LEAD) if e.action == action]


# -- the rule holds back the stage ----------------------------------------------------------------------------


def test_a_city_short_of_recommendations_holds_the_stage(short):
    err = refused(short.store, short.engine.advance, LEAD)
    assert err.rules == ["min_recommendations"]
    assert str(err) == CLOSE_REFUSED
    status = short.engine.status(LEAD)
    assert (status["can_close"], status["closing_rules"]) == (False, [HEFEI_SHORT_MSG])
    assert (status["overrides"], status["closing_overridden"]) == ([], [])


# -- overriding it for hefei -----------------------------------------------------------------------------------


def test_the_leads_override_for_hefei_lets_the_stage_close(short):
    short.clock.set(sh(5, 11, 10))
    o = short.engine.override(LEAD, "min_recommendations", f"  {REASON} ", city="hefei")
    assert (o.id, o.rule, o.reason, o.by, o.city, o.project, o.revoked) == (
        1,
        "min_recommendations",
        REASON,
        LEAD,
        "hefei",
        None,
        None,
    )
    assert o.at == sh(5, 11, 10).isoformat()
    assert short.engine.overrides(LEAD)[1] == [o]

    short.clock.set(sh(5, 12))
    result = short.engine.advance(LEAD)
    assert (result.from_stage, result.to_stage, result.rejections) == ("recommendation", "joint_scoring", [])
    assert result.overridden == [lifted(HEFEI_SHORT_MSG)]
    assert short.engine.get_cycle(None).stage == "joint_scoring"

    [row] = [e for e in audit(short, "advance") if e.from_state == "recommendation"]
    assert (row.subject, row.subject_id, row.to_state, row.actor) == ("cycle", "g60-2027", "joint_scoring", LEAD)
    assert row.data["overridden"] == [lifted(HEFEI_SHORT_MSG)]
    note = row.data["overridden"][0]
    assert "min_recommendations" in note and "override 1" in note

    [added] = audit(short, "override")
    assert (added.subject, added.subject_id, added.actor, added.reason) == ("cycle", "g60-2027", LEAD, REASON)
    assert added.data["override"] == asdict(o)


def test_an_advance_without_an_override_records_no_overridden_note(at_stage):
    s = at_stage("recommendation")
    recommend(s, short={})
    s.engine.advance(LEAD)
    [row] = [e for e in audit(s, "advance") if e.from_state == "recommendation"]
    assert "overridden" not in row.data


def test_an_override_for_jiaxing_does_not_lift_hefeis_rejection(short):
    short.engine.override(LEAD, "min_recommendations", "嘉兴市另有安排", city="jiaxing")
    err = refused(short.store, short.engine.advance, LEAD)
    assert str(err) == CLOSE_REFUSED
    status = short.engine.status(LEAD)
    assert status["closing_overridden"] == []
    assert [o["city"] for o in status["overrides"]] == ["jiaxing"]


def test_an_override_for_one_city_leaves_the_other_short_city_named(at_stage):
    s = at_stage("recommendation")
    recommend(s, short={"hefei": 3, "wuhu": 4})
    s.engine.override(LEAD, "min_recommendations", REASON, city="hefei")
    err = refused(s.store, s.engine.advance, LEAD)
    assert str(err) == (
        "Cannot close stage 'recommendation' of cycle g60-2027: "
        "[min_recommendations] wuhu has 4 of the 5 required recommendations."
    )


def test_an_override_for_every_party_lifts_every_city(at_stage):
    s = at_stage("recommendation")
    recommend(s, short={"hefei": 3, "wuhu": 4})
    o = s.engine.override(LEAD, "min_recommendations", "本年度示范项目普遍不足")
    assert (o.city, o.project, o.scope()) == (None, None, "every party")
    result = s.engine.advance(LEAD)
    assert result.overridden == [
        lifted("[min_recommendations] wuhu has 4 of the 5 required recommendations", reason="本年度示范项目普遍不足"),
        lifted(HEFEI_SHORT_MSG, reason="本年度示范项目普遍不足"),
    ]


def test_a_dry_run_reports_what_the_override_lifts_and_changes_nothing(short):
    short.engine.override(LEAD, "min_recommendations", REASON, city="hefei")
    before = snapshot(short.store)
    result = short.engine.advance(LEAD, dry_run=True)
    assert (result.dry_run, result.rejections, result.overridden) == (True, [], [lifted(HEFEI_SHORT_MSG)])
    assert snapshot(short.store) == before


def test_status_shows_the_override_and_what_it_lifts(short):
    short.clock.set(sh(5, 11, 10))
    o = short.engine.override(LEAD, "min_recommendations", REASON, city="hefei")
    status = short.engine.status(LEAD)
    assert status["overrides"] == [asdict(o)]
    assert status["closing_overridden"] == [lifted(HEFEI_SHORT_MSG)]
    assert (status["can_close"], status["closing_rules"]) == (True, [])
    hefei = status["cities"][CITIES.index("hefei")]
    assert (hefei["recommended"], hefei["recommended_minimum"]) == (3, 5)
    # every user reads the status, the override included
    assert short.engine.status(admin("hefei"))["overrides"] == [asdict(o)]


def test_reminders_no_longer_chase_a_city_the_lead_excused(short):
    """pending_work (what reminders say) judges the closing rules with the overrides applied."""
    work = short.engine.pending_work("g60-2027", "recommendation")
    assert [str(r) for r in work.rejections] == [HEFEI_SHORT_MSG]
    assert [r.parties for r in work.rejections] == [("hefei",)]
    short.engine.override(LEAD, "min_recommendations", REASON, city="hefei")
    assert short.engine.pending_work("g60-2027", "recommendation").rejections == []


# -- revoking --------------------------------------------------------------------------------------------------


def test_revoking_the_override_brings_the_refusal_back(short):
    short.engine.override(LEAD, "min_recommendations", REASON, city="hefei")
    short.clock.set(sh(5, 11, 11))
    o = short.engine.revoke_override(LEAD, 1, " 合肥市已补充推荐 ")
    assert o.revoked == {"by": LEAD, "at": sh(5, 11, 11).isoformat(), "reason": "合肥市已补充推荐"}
    assert not o.active

    err = refused(short.store, short.engine.advance, LEAD)
    assert str(err) == CLOSE_REFUSED
    status = short.engine.status(LEAD)
    assert (status["overrides"], status["closing_overridden"], status["can_close"]) == ([], [], False)
    # the list keeps revoked overrides
    assert short.engine.overrides(LEAD)[1] == [o]
    [row] = audit(short, "revoke_override")
    assert (row.subject, row.subject_id, row.reason) == ("cycle", "g60-2027", "合肥市已补充推荐")
    assert row.data["override"]["revoked"] == o.revoked


def test_a_new_override_after_a_revoked_one_gets_the_next_number(short):
    short.engine.override(LEAD, "min_recommendations", REASON, city="hefei")
    short.engine.revoke_override(LEAD, 1, "误操作")
    o = short.engine.override(LEAD, "min_recommendations", "重新确认", city="hefei")
    assert o.id == 2
    assert short.engine.advance(LEAD).overridden == [lifted(HEFEI_SHORT_MSG, 2, "重新确认")]


def test_what_went_through_stays_when_the_override_is_revoked(short):
    short.engine.override(LEAD, "min_recommendations", REASON, city="hefei")
    short.engine.advance(LEAD)
    short.engine.revoke_override(LEAD, 1, "合肥市已补充推荐")
    assert short.engine.get_cycle(None).stage == "joint_scoring"


def test_revoking_twice_or_an_unknown_override_changes_nothing(short):
    short.engine.override(LEAD, "min_recommendations", REASON, city="hefei")
    short.engine.revoke_override(LEAD, 1, "合肥市已补充推荐")
    before = snapshot(short.store)
    with pytest.raises(InvalidInput) as err:
        short.engine.revoke_override(LEAD, 1, "again")
    assert err.value.exit_code == 7
    assert str(err.value) == "Invalid override: override 1 was already revoked."
    with pytest.raises(NotFound) as err:
        short.engine.revoke_override(LEAD, 9, "none such")
    assert err.value.exit_code == 5
    assert str(err.value) == "No override 9."
    with pytest.raises(InvalidInput) as err:
        short.engine.revoke_override(LEAD, 1, "  ")
    assert str(err.value) == "Invalid override: revoking an override needs --reason."
    assert snapshot(short.store) == before


# -- refusals ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", ["municipal_quota", "all_parties_confirmed", "no_such_rule"])
def test_a_rule_the_program_does_not_mark_overridable_is_refused(short, rule):
    err = refused(short.store, short.engine.override, LEAD, rule, "理由", city="songjiang")
    assert err.rules == ["overridable"]
    assert str(err) == (
        f"Cannot override rule {rule} in cycle g60-2027: [overridable] {rule} may not be overridden in "
        "g60-deep-integration (overridable: min_recommendations, all_sheets_in)."
    )


@pytest.mark.parametrize("actor", [admin("hefei"), admin("jiaxing"), scorer("hefei"), applicant("hefei")])
def test_only_the_lead_overrides_or_revokes(short, actor):
    role = {admin("hefei"): "city-admin", admin("jiaxing"): "city-admin"}.get(actor, actor.split("-")[1])
    before = snapshot(short.store)
    with pytest.raises(NotPermitted) as err:
        short.engine.override(actor, "min_recommendations", REASON, city="hefei")
    assert err.value.exit_code == 4
    assert str(err.value) == (
        f"Not permitted to override rule min_recommendations in cycle g60-2027: {actor} is {role}; "
        "override is done by lead."
    )
    assert snapshot(short.store) == before

    short.engine.override(LEAD, "min_recommendations", REASON, city="hefei")
    before = snapshot(short.store)
    with pytest.raises(NotPermitted) as err:
        short.engine.revoke_override(actor, 1, "撤销")
    assert str(err.value).startswith("Not permitted to ")
    assert f"{actor} is {role}; override is done by lead." in str(err.value)
    assert snapshot(short.store) == before


def test_a_permission_refusal_comes_before_a_rule_refusal(short):
    """A city admin asking to lift a non-overridable rule hears that overrides are the lead's."""
    with pytest.raises(NotPermitted):
        short.engine.override(admin("hefei"), "municipal_quota", "理由", city="nanjing")


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_override_needs_a_reason(short, reason):
    before = snapshot(short.store)
    with pytest.raises(InvalidInput) as err:
        short.engine.override(LEAD, "min_recommendations", reason, city="hefei")
    assert err.value.exit_code == 7
    assert str(err.value) == "Invalid override: an override needs --reason."
    assert snapshot(short.store) == before


def test_an_unknown_city_or_project_is_not_found(short):
    before = snapshot(short.store)
    with pytest.raises(NotFound) as err:
        short.engine.override(LEAD, "min_recommendations", REASON, city="nanjing")
    assert err.value.exit_code == 5
    assert str(err.value) == (
        "No city 'nanjing'; the program's cities are songjiang, jiaxing, hangzhou, jinhua, suzhou, huzhou, "
        "xuancheng, wuhu, hefei."
    )
    with pytest.raises(NotFound) as err:
        short.engine.override(LEAD, "all_sheets_in", REASON, project_id=9999)
    assert str(err.value) == "No project 9999."
    assert snapshot(short.store) == before


def test_a_project_of_another_cycle_is_not_found(short):
    short.engine.open_cycle(LEAD, "g60-deep-integration", 2028)
    pid = short.demos["hefei"][0]
    before = snapshot(short.store)
    with pytest.raises(NotFound) as err:
        short.engine.override(LEAD, "all_sheets_in", REASON, project_id=pid, cycle_id="g60-2028")
    assert str(err.value) == f"No project {pid}; it is not in cycle g60-2028."
    assert snapshot(short.store) == before


def test_overrides_of_one_cycle_do_not_touch_another(short):
    short.engine.open_cycle(LEAD, "g60-deep-integration", 2028)
    short.engine.override(LEAD, "min_recommendations", REASON, city="hefei", cycle_id="g60-2027")
    assert short.engine.overrides(LEAD, "g60-2028")[1] == []
    assert short.engine.status(LEAD, "g60-2028")["overrides"] == []
    assert short.engine.advance(LEAD, "g60-2027").to_stage == "joint_scoring"


# -- all_sheets_in: a city excused from scoring ---------------------------------------------------------------


def test_excusing_hefei_from_scoring_lets_joint_scoring_close_and_the_list_averages_the_sheets_in(at_stage):
    s = at_stage("hefei_short")
    key = s.shortlist
    rescored = key[1]  # a low project hefei has scored: hefei now gives it SHEET_HIGH
    assert rescored in s.low and rescored in key[:HEFEI_SHORT]
    s.engine.score(scorer("hefei"), rescored, SHEET_HIGH)

    err = refused(s.store, s.engine.advance, LEAD)
    assert str(err) == (
        "Cannot close stage 'joint_scoring' of cycle g60-2027: "
        f"[all_sheets_in] hefei has scored {HEFEI_SHORT} of 45 key-library projects."
    )
    reason = "合肥市回避评分"
    s.engine.override(LEAD, "all_sheets_in", reason, city="hefei")
    s.clock.set(sh(5, 16))
    note = lifted(f"[all_sheets_in] hefei has scored {HEFEI_SHORT} of 45 key-library projects", reason=reason)
    assert s.engine.advance(LEAD).overridden == [note]
    assert s.engine.get_cycle(None).stage == "confirmation"

    # propose is guarded by all_sheets_in too: it goes through, naming the override
    s.clock.set(sh(5, 20))
    lst = s.engine.propose_list(LEAD)
    [row] = audit(s, "propose")
    assert row.data["overridden"] == [note]

    score = {e.project_id: e.score for e in lst.entries}
    assert len(score) == 45
    # 8 sheets of 94 (hefei did not score it), 9 of 94, 8 of 78: the mean of the sheets that are in
    assert score[s.demos["hefei"][0]] == "94.0000"
    assert score[s.demos["songjiang"][0]] == "94.0000"
    assert score[s.demos["jiaxing"][0]] == "78.0000"
    # a low project hefei did not score: 8 sheets of 62, not (8 × 62 + 0) / 9
    unscored_low = next(p for p in key[HEFEI_SHORT:] if p in s.low)
    assert score[unscored_low] == "62.0000"
    assert len(s.engine.project(LEAD, unscored_low)[1]) == 8
    # the one hefei rescored: (8 × 62 + 94) / 9
    assert score[rescored] == f"{(8 * 62 + 94) / 9:.4f}"
    assert [e.category for e in lst.entries[:5]] == ["demonstration"] * 2 + ["excellent"] * 3


def test_excusing_one_city_from_scoring_does_not_excuse_another(at_stage):
    s = at_stage("hefei_short")
    s.engine.override(LEAD, "all_sheets_in", "合肥市回避评分", city="jiaxing")
    err = refused(s.store, s.engine.advance, LEAD)
    assert err.rules == ["all_sheets_in"]
    assert f"hefei has scored {HEFEI_SHORT} of 45" in str(err)


def test_a_project_scope_is_refused_for_a_rule_checked_on_a_whole_stage(at_stage):
    """all_sheets_in is judged for the stage (hefei has scored 44 of 45), never on one project's
    action: an override scoped to one project could never lift it, so it is refused at once."""
    s = at_stage("hefei_short")
    last = s.shortlist[-1]
    before = snapshot(s.store)
    with pytest.raises(InvalidInput) as err:
        s.engine.override(LEAD, "all_sheets_in", "合肥市与该项目存在利益冲突", project_id=last)
    assert err.value.exit_code == 7
    assert "all_sheets_in is checked for a whole stage or list, not for one project's action; use --city" in str(
        err.value
    )
    assert snapshot(s.store) == before


def test_a_project_of_another_city_is_refused_with_a_city_scope(at_stage):
    s = at_stage("hefei_short")
    pid = s.demos["jiaxing"][0]
    before = snapshot(s.store)
    with pytest.raises(InvalidInput) as err:
        s.engine.override(LEAD, "all_sheets_in", "理由", city="hefei", project_id=pid)
    assert f"project {pid} belongs to jiaxing, not hefei" in str(err.value)
    assert snapshot(s.store) == before
