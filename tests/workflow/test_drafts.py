"""The applicant's own actions (workflow/engine/portal.py): drafts kept by their owner alone, a submission
that removes the draft, an edit of a submitted application through the door."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import LEAD, admin, applicant, make_app, refused, scorer, sh, snapshot
from workflow.errors import ConcurrentChange, InvalidInput, NotFound, NotPermitted


def drafts_of(s) -> list[tuple]:
    with s.store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT * FROM drafts ORDER BY 1"))]


def whole(s) -> dict:
    return {**snapshot(s.store), "drafts": drafts_of(s)}


def cycle_of(s) -> str:
    return s.engine.cycles()[0].id


def test_a_draft_is_kept_read_replaced_and_removed_by_its_owner(at_stage):
    s = at_stage("collection")
    cycle = cycle_of(s)
    me = applicant("hefei")
    assert s.engine.draft(me, cycle) is None
    s.engine.save_draft(me, cycle, {"project": {"name": "半个项目"}})
    s.engine.save_draft(me, cycle, {"project": {"name": "改过的项目"}, "team": [{"name": "张三"}]})
    d = s.engine.draft(me, cycle)
    assert d is not None and d.owner == me and d.data["project"]["name"] == "改过的项目"
    assert len(drafts_of(s)) == 1  # one draft per owner and cycle, replaced
    assert [x.cycle_id for x in s.engine.my_drafts(me)] == [cycle]
    assert s.engine.delete_draft(me, cycle) is True
    assert s.engine.draft(me, cycle) is None
    assert s.engine.delete_draft(me, cycle) is False


def test_a_draft_is_not_seen_by_anyone_else(at_stage):
    s = at_stage("collection")
    cycle = cycle_of(s)
    s.engine.save_draft(applicant("hefei"), cycle, {"project": {"name": "草稿"}})
    # another city's applicant and the same city's administrator each have their own (none)
    assert s.engine.draft(applicant("wuhu"), cycle) is None
    assert s.engine.draft(admin("hefei"), cycle) is None
    assert s.engine.my_drafts(applicant("wuhu")) == []
    assert s.engine.delete_draft(applicant("wuhu"), cycle) is False
    assert s.engine.draft(applicant("hefei"), cycle) is not None


@pytest.mark.parametrize("who", [LEAD, scorer("hefei")], ids=["lead", "scorer"])
def test_a_role_that_may_not_submit_keeps_no_draft(at_stage, who):
    s = at_stage("collection")
    cycle = cycle_of(s)
    before = whole(s)
    with pytest.raises(NotPermitted):
        s.engine.save_draft(who, cycle, {"x": 1})
    with pytest.raises(NotPermitted):
        s.engine.draft(who, cycle)
    assert whole(s) == before


def test_submitting_removes_the_draft_and_a_refusal_keeps_it(at_stage):
    s = at_stage("collection")
    cycle = cycle_of(s)
    me = applicant("hefei")
    app = make_app("hefei", 90)
    s.engine.save_draft(me, cycle, app)
    s.clock.set(sh(3, 1, 0, 0, 0))  # the collection window has closed
    before = whole(s)
    err = refused(s.store, s.engine.submit_application, me, cycle, app)
    assert err.rules == ["stage_window"]
    assert "it is now 2027-03-01 00:00:00 (closed)" in str(err)
    assert whole(s) == before  # nothing submitted, the draft still there
    s.clock.set(sh(2, 28, 23, 59, 59))
    p = s.engine.submit_application(me, cycle, app)
    assert p.state == "submitted" and p.applicant == me
    assert s.engine.draft(me, cycle) is None


def test_an_incomplete_application_is_refused_listing_every_problem(at_stage):
    s = at_stage("collection")
    before = whole(s)
    with pytest.raises(InvalidInput) as err:
        s.engine.submit_application(applicant("hefei"), cycle_of(s), {"project": {"name": "只有名称"}})
    text_ = str(err.value)
    assert "filler (填表人) is missing" in text_ and "team (主要团队成员) is missing" in text_
    assert whole(s) == before


def test_an_applicant_edits_their_submitted_application(at_stage):
    s = at_stage("collection")
    me = applicant("hefei")
    pid = s.ids["hefei"][0]
    p, _, _ = s.engine.project(me, pid)
    app = {**p.application, "contact": "0551-12345678", "project": {**p.application["project"], "name": "新的名称"}}
    edited = s.engine.edit_application(me, pid, app, expected_version=p.version)
    assert edited.project_name == "新的名称" and edited.version == p.version + 1
    again, _, history = s.engine.project(me, pid)
    assert again.application["contact"] == "0551-12345678" and again.state == "submitted"
    last = history[-1]
    assert last.action == "edit_application" and last.data["changed"] == ["contact", "project.name"]
    # the version seen is checked: an edit made on an older page is refused
    with pytest.raises(ConcurrentChange):
        s.engine.edit_application(me, pid, app, expected_version=p.version)


def test_an_edit_is_refused_once_the_city_has_decided(at_stage):
    s = at_stage("municipal_review")  # every project accepted into the library
    pid = s.ids["hefei"][0]
    p, _, _ = s.engine.project(applicant("hefei"), pid)
    err = refused(s.store, s.engine.edit_application, applicant("hefei"), pid, p.application)
    assert "editable" in err.rules
    assert "the application can be changed only while the project is submitted" in str(err)


def test_an_edit_is_refused_after_the_window(at_stage):
    s = at_stage("collection")
    pid = s.ids["hefei"][0]
    p, _, _ = s.engine.project(applicant("hefei"), pid)
    s.clock.set(sh(3, 1, 0, 0, 0))
    err = refused(s.store, s.engine.edit_application, applicant("hefei"), pid, p.application)
    assert err.rules == ["stage_window"]


def test_an_edit_cannot_move_the_application_to_another_city(at_stage):
    s = at_stage("collection")
    pid = s.ids["hefei"][0]
    p, _, _ = s.engine.project(applicant("hefei"), pid)
    moved = {**p.application, "enterprise": {**p.application["enterprise"], "city": "wuhu"}}
    before = whole(s)
    with pytest.raises(InvalidInput) as err:
        s.engine.edit_application(applicant("hefei"), pid, moved)
    assert "所在城市 cannot change once submitted" in str(err.value)
    assert whole(s) == before


@pytest.mark.parametrize("who", [applicant("wuhu"), admin("wuhu"), scorer("hefei")], ids=str)
def test_an_edit_by_another_city_or_role_finds_no_project(at_stage, who):
    s = at_stage("collection")
    pid = s.ids["hefei"][0]
    p, _, _ = s.engine.project(applicant("hefei"), pid)
    before = whole(s)
    with pytest.raises((NotFound, NotPermitted)):
        s.engine.edit_application(who, pid, p.application)
    assert whole(s) == before


# ------------------------------------------------------------------------------------------ withdrawal
def test_an_applicant_withdraws_an_application_the_city_has_not_decided(at_stage):
    s = at_stage("collection")
    pid = s.ids["hefei"][0]
    (p,) = s.engine.fire(applicant("hefei"), pid, "withdraw_application")
    assert p.state == "withdrawn"
    _, _, history = s.engine.project(LEAD, pid)
    assert (history[-1].action, history[-1].from_state, history[-1].to_state) == (
        "withdraw_application",
        "submitted",
        "withdrawn",
    )


def test_a_withdrawal_after_the_citys_decision_is_refused(at_stage):
    s = at_stage("municipal_review")
    pid = s.ids["hefei"][0]
    err = refused(s.store, s.engine.fire, applicant("hefei"), pid, "withdraw_application")
    assert "stage_window" in err.rules or "state" in err.rules


@pytest.mark.parametrize("who", [admin("hefei"), applicant("wuhu"), scorer("hefei")], ids=str)
def test_only_the_applicant_withdraws(at_stage, who):
    s = at_stage("collection")
    pid = s.ids["hefei"][0]
    before = whole(s)
    with pytest.raises((NotFound, NotPermitted)):
        s.engine.fire(who, pid, "withdraw_application")
    assert whole(s) == before
