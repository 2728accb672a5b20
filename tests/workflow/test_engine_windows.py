"""Stage windows at their edges: one second inside, one second (or zero) outside.

Windows are Asia/Shanghai dates: collection 01-01 – 02-28 (02-29 in a leap year), municipal
review 03-01 – 04-30, the joint stages 05-01 – 06-30; a window closes at 24:00 of its last day.
Most tests drive the engine's SettableClock; the freezegun tests build the engine with its
default clock (``datetime.now``) to prove the production clock path sees the same edges.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time

from tests.conftest import (
    CITIES,
    LEAD,
    SHEET_MID,
    admin,
    applicant,
    make_app,
    refused,
    scorer,
    sh,
    snapshot,
)
from workflow.engine import Engine

COLLECTION = "2027-01-01 00:00 to 2027-03-01 00:00 Asia/Shanghai"
MUNICIPAL = "2027-03-01 00:00 to 2027-05-01 00:00 Asia/Shanghai"
JOINT = "2027-05-01 00:00 to 2027-07-01 00:00 Asia/Shanghai"


# ------------------------------------------------------------------------------ collection


def test_submit_one_second_before_the_close_is_accepted(engine, clock, cycle):
    clock.set(sh(2, 28, 23, 59, 59))
    project = engine.submit(applicant("hefei"), make_app("hefei", 1))
    assert project.state == "submitted"
    assert project.submitted_at == sh(2, 28, 23, 59, 59)


def test_submit_at_the_close_is_refused_with_the_window(engine, store, clock, cycle):
    clock.set(sh(3, 1, 0, 0, 0))
    err = refused(store, engine.submit, applicant("hefei"), make_app("hefei", 1))
    assert err.rules == ["stage_window"]
    assert f"[stage_window] submit is allowed {COLLECTION}; it is now 2027-03-01 00:00:00 (closed)" in str(err)
    assert str(err).startswith("Cannot submit application '")


def test_submit_before_the_window_opens_is_refused(engine, store, clock, cycle):
    clock.set(sh(12, 31, 23, 59, 59, year=2026))
    err = refused(store, engine.submit, applicant("hefei"), make_app("hefei", 1))
    assert err.rules == ["stage_window"]
    assert f"submit is allowed {COLLECTION}; it is now 2026-12-31 23:59:59 (not yet open)" in str(err)
    clock.set(sh(1, 1, 0, 0, 0))
    assert engine.submit(applicant("hefei"), make_app("hefei", 1)).state == "submitted"


def test_the_window_is_read_in_shanghai_time_not_utc(engine, store, clock, cycle):
    """03-01 00:00 Shanghai is 02-28 16:00 UTC: a UTC instant after it is already too late."""
    from datetime import UTC, datetime

    clock.set(datetime(2027, 2, 28, 15, 59, 59, tzinfo=UTC))
    engine.submit(applicant("hefei"), make_app("hefei", 1))
    clock.set(datetime(2027, 2, 28, 16, 0, 0, tzinfo=UTC))
    err = refused(store, engine.submit, applicant("hefei"), make_app("hefei", 2))
    assert "it is now 2027-03-01 00:00:00 (closed)" in str(err)


def test_in_a_leap_year_collection_runs_to_02_29(engine, store, clock):
    clock.set(sh(1, 2, year=2028))
    engine.add_user(None, LEAD, "lead", "songjiang")
    engine.add_user(LEAD, applicant("hefei"), "applicant", "hefei")
    engine.open_cycle(LEAD, "g60-deep-integration", 2028)
    clock.set(sh(2, 29, 23, 59, 59, year=2028))
    assert engine.submit(applicant("hefei"), make_app("hefei", 1)).state == "submitted"
    clock.set(sh(3, 1, 0, 0, 0, year=2028))
    err = refused(store, engine.submit, applicant("hefei"), make_app("hefei", 2))
    leap = "2028-01-01 00:00 to 2028-03-01 00:00 Asia/Shanghai"
    assert f"submit is allowed {leap}; it is now 2028-03-01 00:00:00 (closed)" in str(err)


@pytest.mark.parametrize(
    ("instant", "accepted"),
    [
        pytest.param(sh(2, 28, 23, 59, 59), True, id="02-28-23:59:59"),
        pytest.param(sh(3, 1, 0, 0, 0), False, id="03-01-00:00:00"),
    ],
)
def test_submit_edges_with_freezegun(store, programs, cycle, instant, accepted):
    real = Engine(store, programs)  # the default clock: datetime.now
    with freeze_time(instant):
        if accepted:
            assert real.submit(applicant("jiaxing"), make_app("jiaxing", 7)).submitted_at == instant
        else:
            err = refused(store, real.submit, applicant("jiaxing"), make_app("jiaxing", 7))
            assert f"submit is allowed {COLLECTION}; it is now 2027-03-01 00:00:00 (closed)" in str(err)


@pytest.mark.parametrize(
    "instant",
    [
        pytest.param(sh(3, 1, 0, 0, 0), id="03-01-00:00:00"),
        pytest.param(sh(2, 28, 23, 59, 59), id="clock-read-before-the-advance"),
    ],
)
def test_submit_after_the_cycle_advanced_is_refused_for_the_stage(at_stage, instant):
    s = at_stage("municipal_review")
    s.clock.set(instant)
    err = refused(s.store, s.engine.submit, applicant("hefei"), make_app("hefei", 901))
    assert err.rules == ["stage_window"]
    assert "submit belongs to stage 'collection', but the cycle is in stage 'municipal_review'" in str(err)


@pytest.mark.parametrize("trigger", ["accept", "reject"])
def test_a_city_decides_until_the_collection_window_closes(at_stage, trigger):
    s = at_stage("collection")
    first, second = s.ids["hefei"][:2]
    reason = "材料不全" if trigger == "reject" else ""  # (a rejection's reason is required)
    s.clock.set(sh(2, 28, 23, 59, 59))
    s.engine.fire(admin("hefei"), first, trigger, reason)
    s.clock.set(sh(3, 1, 0, 0, 0))
    err = refused(s.store, s.engine.fire, admin("hefei"), second, trigger, reason)
    assert err.rules == ["stage_window"]
    assert f"{trigger} is allowed {COLLECTION}; it is now 2027-03-01 00:00:00 (closed)" in str(err)
    assert f"Cannot {trigger} project {second} (in state 'submitted')" in str(err)


# ------------------------------------------------------------------------------ closing collection


def test_collection_cannot_close_early_and_names_every_undecided_city(engine, store, clock, cycle):
    clock.set(sh(1, 10))
    engine.submit(applicant("hefei"), make_app("hefei", 1))
    engine.submit(applicant("hefei"), make_app("hefei", 2))
    engine.submit(applicant("jiaxing"), make_app("jiaxing", 3))
    clock.set(sh(2, 20, 9, 0, 0))
    err = refused(store, engine.advance, LEAD)
    assert err.rules == ["window_ended", "all_submissions_decided", "all_submissions_decided"]
    messages = [r.english for r in err.rejections]
    assert messages[1] == "jiaxing has 1 submission neither accepted nor rejected"
    assert messages[2] == "hefei has 2 submissions neither accepted nor rejected"
    assert messages[0] == (
        "the stage must stay open for its whole window, until 2027-03-01 00:00 Asia/Shanghai (8 d 15 h left)"
    )
    assert str(err).startswith("Cannot close stage 'collection' of cycle g60-2027: [window_ended] ")


def test_collection_closes_at_the_window_end_once_every_submission_is_decided(engine, store, clock, cycle):
    clock.set(sh(1, 10))
    ids = [engine.submit(applicant("hefei"), make_app("hefei", n)).id for n in (1, 2)]
    clock.set(sh(2, 20))
    engine.fire(admin("hefei"), ids[0], "accept")
    engine.fire(admin("hefei"), ids[1], "reject", reason="材料不全")

    clock.set(sh(2, 28, 23, 59, 59))
    err = refused(store, engine.advance, LEAD)
    assert err.rules == ["window_ended"]
    assert "until 2027-03-01 00:00 Asia/Shanghai (0 d 0 h left)" in str(err)

    clock.set(sh(3, 1, 0, 0, 0))
    result = engine.advance(LEAD)
    assert (result.from_stage, result.to_stage, result.rejections) == ("collection", "municipal_review", [])
    assert engine.get_cycle(None).stage == "municipal_review"
    assert engine.history(LEAD)[-1].data == {"early": False}


def test_collection_close_edge_with_freezegun(store, programs, engine, clock, cycle):
    real = Engine(store, programs)
    with freeze_time(sh(2, 28, 23, 59, 59)):
        err = refused(store, real.advance, LEAD)
        assert err.rules == ["window_ended"]
    with freeze_time(sh(3, 1, 0, 0, 0)):
        assert real.advance(LEAD).to_stage == "municipal_review"


# ------------------------------------------------------------------------------ municipal review


def test_review_opens_at_03_01_00_00(at_stage):
    """The review window holds even when a clock reads a time before the stage could have begun
    (collection cannot close before 03-01, so no real early advance reaches this)."""
    s = at_stage("municipal_review")
    pid = s.ids["hefei"][0]
    s.clock.set(sh(2, 28, 23, 59, 59))
    err = refused(s.store, s.engine.fire, admin("hefei"), pid, "review", result="demonstration")
    assert err.rules == ["stage_window"]
    assert f"review is allowed {MUNICIPAL}; it is now 2027-02-28 23:59:59 (not yet open)" in str(err)
    s.clock.set(sh(3, 1, 0, 0, 0))
    assert s.engine.fire(admin("hefei"), pid, "review", result="demonstration")[0].state == "municipal_demonstration"


@pytest.mark.parametrize(
    ("instant", "accepted"),
    [
        pytest.param(sh(4, 30, 23, 59, 59), True, id="04-30-23:59:59"),
        pytest.param(sh(5, 1, 0, 0, 0), False, id="05-01-00:00:00"),
    ],
)
def test_review_until_the_end_of_april(at_stage, instant, accepted):
    s = at_stage("municipal_review")
    pid = s.ids["wuhu"][0]
    s.clock.set(instant)
    if accepted:
        project = s.engine.fire(admin("wuhu"), pid, "review", result="excellent", method="written")[0]
        assert (project.state, project.review_result, project.review_method) == (
            "municipal_excellent",
            "excellent",
            "written",
        )
    else:
        err = refused(s.store, s.engine.fire, admin("wuhu"), pid, "review", result="excellent")
        assert err.rules == ["stage_window"]
        assert f"review is allowed {MUNICIPAL}; it is now 2027-05-01 00:00:00 (closed)" in str(err)


def _review_everything(s) -> None:
    for c in CITIES:
        s.engine.fire(admin(c), s.ids[c][:5], "review", result="demonstration", method="site")
        s.engine.fire(admin(c), s.ids[c][5], "review", result="none", method="written")


def test_municipal_review_closes_early_when_every_project_is_reviewed(at_stage):
    s = at_stage("municipal_review")
    s.clock.set(sh(3, 10))
    _review_everything(s)
    s.engine.fire(admin("hefei"), s.ids["hefei"][5], "review", result="excellent")  # re-review is fine
    result = s.engine.advance(LEAD)
    assert (result.to_stage, result.rejections) == ("recommendation", [])
    entry = s.engine.history(LEAD)[-1]
    assert (entry.action, entry.from_state, entry.to_state, entry.data) == (
        "advance",
        "municipal_review",
        "recommendation",
        {"early": True},
    )


def test_municipal_review_cannot_close_early_with_an_unreviewed_project(at_stage):
    s = at_stage("municipal_review")
    s.clock.set(sh(3, 10))
    for c in CITIES:
        s.engine.fire(admin(c), s.ids[c] if c != "hefei" else s.ids[c][:5], "review", result="excellent")
    err = refused(s.store, s.engine.advance, LEAD)
    assert err.rules == ["all_library_projects_reviewed"]
    assert [r.english for r in err.rejections] == ["hefei has 1 of 6 library projects without a municipal result"]


def test_recommend_is_not_yet_open_after_an_early_advance(at_stage):
    s = at_stage("municipal_review")
    s.clock.set(sh(3, 10))
    _review_everything(s)
    s.engine.advance(LEAD)
    pid = s.ids["hefei"][0]
    s.clock.set(sh(4, 30, 23, 59, 59))
    err = refused(s.store, s.engine.fire, admin("hefei"), pid, "recommend")
    assert err.rules == ["stage_window"]
    assert f"recommend is allowed {JOINT}; it is now 2027-04-30 23:59:59 (not yet open)" in str(err)
    s.clock.set(sh(5, 1, 0, 0, 0))
    assert s.engine.fire(admin("hefei"), pid, "recommend")[0].state == "recommended"


# ------------------------------------------------------------------------------ the joint stages


@pytest.mark.parametrize(
    ("instant", "accepted"),
    [
        pytest.param(sh(6, 30, 23, 59, 59), True, id="06-30-23:59:59"),
        pytest.param(sh(7, 1, 0, 0, 0), False, id="07-01-00:00:00"),
    ],
)
def test_recommend_until_the_end_of_june(at_stage, instant, accepted):
    s = at_stage("recommendation")
    pids = s.demos["suzhou"]
    s.clock.set(instant)
    if accepted:
        assert {p.state for p in s.engine.fire(admin("suzhou"), pids, "recommend")} == {"recommended"}
    else:
        err = refused(s.store, s.engine.fire, admin("suzhou"), pids, "recommend")
        # one reason for the whole batch is said once, naming the first projects
        assert err.rules == ["stage_window"]
        ids = ", ".join(map(str, pids[:3]))
        assert (
            f"projects {ids} and 2 more: recommend is allowed {JOINT}; it is now 2027-07-01 00:00:00 (closed)"
            in str(err)
        )


@pytest.mark.parametrize(
    ("instant", "accepted"),
    [
        pytest.param(sh(6, 30, 23, 59, 59), True, id="06-30-23:59:59"),
        pytest.param(sh(7, 1, 0, 0, 0), False, id="07-01-00:00:00"),
    ],
)
def test_score_until_the_end_of_june(at_stage, instant, accepted):
    s = at_stage("joint_scoring")
    pid = s.demos["jinhua"][2]
    s.clock.set(instant)
    if accepted:
        s.engine.score(scorer("huzhou"), pid, SHEET_MID)
        [sheet] = s.engine.project(LEAD, pid)[1]
        assert (sheet.city, sheet.total, sheet.at) == ("huzhou", 78, instant)
    else:
        err = refused(s.store, s.engine.score, scorer("huzhou"), pid, SHEET_MID)
        assert err.rules == ["stage_window"]
        assert f"score is allowed {JOINT}; it is now 2027-07-01 00:00:00 (closed)" in str(err)


@pytest.mark.parametrize(
    ("instant", "accepted"),
    [
        pytest.param(sh(6, 30, 23, 59, 59), True, id="06-30-23:59:59"),
        pytest.param(sh(7, 1, 0, 0, 0), False, id="07-01-00:00:00"),
    ],
)
def test_score_edges_with_freezegun(at_stage, programs, instant, accepted):
    s = at_stage("joint_scoring")
    real = Engine(s.store, programs)
    pid = s.demos["jinhua"][2]
    with freeze_time(instant):
        if accepted:
            real.score(scorer("huzhou"), pid, SHEET_MID)
            assert [x.at for x in real.project(LEAD, pid)[1]] == [instant]
        else:
            err = refused(s.store, real.score, scorer("huzhou"), pid, SHEET_MID)
            assert f"score is allowed {JOINT}; it is now 2027-07-01 00:00:00 (closed)" in str(err)


@pytest.mark.parametrize(
    ("instant", "accepted"),
    [
        pytest.param(sh(6, 30, 23, 59, 59), True, id="06-30-23:59:59"),
        pytest.param(sh(7, 1, 0, 0, 0), False, id="07-01-00:00:00"),
    ],
)
def test_recommend_edges_with_freezegun(at_stage, programs, instant, accepted):
    s = at_stage("recommendation")
    real = Engine(s.store, programs)
    pid = s.demos["xuancheng"][0]
    with freeze_time(instant):
        if accepted:
            assert real.fire(admin("xuancheng"), pid, "recommend")[0].updated_at == instant
        else:
            err = refused(s.store, real.fire, admin("xuancheng"), pid, "recommend")
            assert f"recommend is allowed {JOINT}; it is now 2027-07-01 00:00:00 (closed)" in str(err)


def test_propose_and_confirm_close_with_the_joint_window(at_stage):
    s = at_stage("confirmation")
    s.clock.set(sh(7, 1, 0, 0, 0))
    err = refused(s.store, s.engine.propose_list, LEAD)
    assert err.rules == ["stage_window"]
    assert f"propose is allowed {JOINT}; it is now 2027-07-01 00:00:00 (closed)" in str(err)
    s.clock.set(sh(6, 30, 23, 59, 59))
    assert s.engine.propose_list(LEAD).number == 1

    s.clock.set(sh(7, 1, 0, 0, 0))
    err = refused(s.store, s.engine.confirm_list, admin("hefei"))
    assert err.rules == ["stage_window"]
    assert f"confirm is allowed {JOINT}; it is now 2027-07-01 00:00:00 (closed)" in str(err)
    s.clock.set(sh(6, 30, 23, 59, 59))
    s.engine.confirm_list(admin("hefei"))


def test_publication_has_no_closing_date(at_stage):
    s = at_stage("confirmed")
    s.clock.set(sh(12, 31, 23, 59, 59))
    assert s.engine.publish(LEAD).status == "published"
    s.clock.set(sh(3, 15, year=2028))
    assert s.engine.fire(LEAD, s.high, "award")[0].state == "awarded"
    assert s.engine.status(LEAD)["window"] == "no window"


# ------------------------------------------------------------------------------ dry runs


def test_advance_dry_run_reports_the_rejections_and_changes_nothing(at_stage):
    s = at_stage("recommendation")
    s.clock.set(sh(5, 20))
    before = snapshot(s.store)
    result = s.engine.advance(LEAD, dry_run=True)
    assert result.dry_run is True
    assert (result.from_stage, result.to_stage) == ("recommendation", "joint_scoring")
    assert [str(r) for r in result.rejections] == [
        f"[min_recommendations] {c} has 0 of the 5 required recommendations" for c in CITIES
    ]
    assert snapshot(s.store) == before


def test_advance_dry_run_that_would_succeed_still_changes_nothing(at_stage):
    s = at_stage("proposed")
    s.clock.set(sh(6, 2))
    for c in CITIES:
        s.engine.confirm_list(admin(c))
    before = snapshot(s.store)
    result = s.engine.advance(LEAD, dry_run=True)
    assert (result.to_stage, result.rejections, result.dry_run) == ("publication", [], True)
    assert snapshot(s.store) == before
    assert s.engine.get_cycle(None).stage == "confirmation"
    assert s.engine.status(LEAD)["list"] == {"version": 1, "status": "proposed"}


def test_status_counts_down_to_the_close(at_stage):
    s = at_stage("joint_scoring")
    s.clock.set(sh(6, 30, 23, 59, 59))
    status = s.engine.status(LEAD)
    assert status["seconds_left"] == 1
    assert status["window"] == JOINT
    s.clock.set(sh(6, 30, 23, 59, 59) - timedelta(days=1))
    assert s.engine.status(LEAD)["seconds_left"] == 24 * 3600 + 1
