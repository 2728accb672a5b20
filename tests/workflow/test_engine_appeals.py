"""Appeals through the engine: filing, deciding, and what an upheld appeal reopens.

Every kind of result the G60 program lets a project appeal (a rejection, a municipal result, a
place on a proposed list, a published place) is upheld and reopened to an earlier stage, and
the project is driven forward again through the ordinary guards. Every refusal is checked for
its rule id, its numbers and for leaving the database exactly as it was; the audit trail is
checked row by row.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import (
    CITIES,
    LEAD,
    PROGRAM,
    SHEET_HIGH,
    YEAR,
    admin,
    applicant,
    make_app,
    refused,
    scorer,
    sh,
    snapshot,
)
from workflow.engine import Engine
from workflow.errors import InvalidInput, NotFound, NotPermitted
from workflow.program import ProgramRegistry, default_program_dirs
from workflow.story import tell

SHIPPED = default_program_dirs()[-1] / f"{PROGRAM}.toml"
SHEET_TOP = {"value": 20, "organization": 30, "effectiveness": 30, "mechanism": 20}  # 100


# ------------------------------------------------------------------------------ helpers


def _file(s, pid: int, by: str, reason: str = "the result overlooks our evidence"):
    return s.engine.file_appeal(by, pid, reason)


def _uphold(s, appeal_id: int, by: str, to: str, reason: str = "the evidence was overlooked"):
    return s.engine.decide_appeal(by, appeal_id, "uphold", reopen_to=to, reason=reason)


def _project(s, pid: int):
    return s.engine.project(LEAD, pid)[0]


def _score_by_all(s, pid: int, sheet: dict, cities=CITIES) -> None:
    for c in cities:
        s.engine.score(scorer(c), pid, sheet, completion="基本完成")


def _confirm_by_all(s) -> None:
    for c in CITIES:
        s.engine.confirm_list(admin(c))


def _versions(s) -> list[tuple[int, str]]:
    _, versions, _ = s.engine.list_versions(LEAD)
    return [(v.number, v.status) for v in versions]


def _sheets(s, pid: int, current_only: bool):
    with s.store.transaction(write=False) as tx:
        return tx.sheets("g60-2027", pid, current_only=current_only)


def _list_audit(s, action: str):
    return [e for e in s.engine.history(LEAD) if e.subject == "list" and e.action == action]


def _place(rank: int, category: str, score: str) -> dict:
    return {"rank": rank, "category": category, "score": score}


def _without(snap: dict, *tables: str) -> dict:
    return {t: rows for t, rows in snap.items() if t not in tables}


@pytest.fixture
def rejected(at_stage):
    """A cycle in municipal_review (03-10) in which hefei rejected two extra applications: one
    eligible (``ok``) and one without evidence of original results (``flawed``)."""
    s = at_stage("collection")
    ok = s.engine.submit(applicant("hefei"), make_app("hefei", 101)).id
    flawed = s.engine.submit(applicant("hefei"), make_app("hefei", 102, flaw="no_evidence")).id
    s.clock.set(sh(2, 20))
    for c in CITIES:
        s.engine.fire(admin(c), s.ids[c], "accept")
    s.engine.fire(admin("hefei"), [ok, flawed], "reject", reason="incomplete")
    s.clock.set(sh(3, 2))
    s.engine.advance(LEAD)
    s.clock.set(sh(3, 10))
    s.ok, s.flawed = ok, flawed
    return s


# ------------------------------------------------------------------------------ a rejection → collection


def test_rejected_project_reopened_to_collection_is_accepted_after_the_window(rejected):
    s = rejected
    a = _file(s, s.ok, applicant("hefei"))
    assert (a.against_state, a.against_stage, a.list_version, a.status) == ("rejected", "collection", None, "open")
    appeal, project = _uphold(s, a.id, admin("hefei"), "collection")
    assert (appeal.status, appeal.decided_by, appeal.reopen_to) == ("upheld", admin("hefei"), "collection")
    assert (project.state, project.reopened_to) == ("submitted", "collection")

    s.clock.set(sh(5, 5))  # collection closed on 02-29; the cycle is in municipal_review
    assert s.engine.get_cycle(None).stage == "municipal_review"
    assert s.engine.fire(admin("hefei"), s.ok, "accept")[0].state == "in_library"
    # and on into the municipal review, whose window has closed as well
    done = s.engine.fire(admin("hefei"), s.ok, "review", result="excellent", method="written")[0]
    assert (done.state, done.review_result, done.review_method) == ("municipal_excellent", "excellent", "written")


def test_reopened_flawed_application_is_still_refused_by_eligibility(rejected):
    s = rejected
    a = _file(s, s.flawed, applicant("hefei"))
    _uphold(s, a.id, admin("hefei"), "collection")
    s.clock.set(sh(5, 5))
    err = refused(s.store, s.engine.fire, admin("hefei"), s.flawed, "accept")
    assert err.rules == ["original_results_evidence"]
    assert "no accepted evidence of original results (given: none;" in str(err)
    # a project that was not reopened is still held to the collection window
    err = refused(s.store, s.engine.fire, admin("hefei"), s.ok, "accept")
    assert err.rules == ["stage_window"]
    assert str(err.rejections[0]) == (
        "[stage_window] accept belongs to stage 'collection', but the cycle is in stage 'municipal_review'"
    )


# ------------------------------------------------------------------------------ a municipal result → municipal_review


def test_review_result_reopened_clears_result_and_is_re_reviewed_in_a_later_stage(at_stage):
    s = at_stage("recommendation")
    pid = s.excellent["songjiang"]
    a = _file(s, pid, admin("songjiang"))
    assert (a.against_state, a.against_stage, a.filed_by) == (
        "municipal_excellent",
        "municipal_review",
        "songjiang-admin",
    )
    _, project = _uphold(s, a.id, admin("songjiang"), "municipal_review")
    assert (project.state, project.review_result, project.review_method) == ("in_library", None, None)
    stored = _project(s, pid)
    assert (stored.state, stored.review_result, stored.review_method, stored.reopened_to) == (
        "in_library",
        None,
        None,
        "municipal_review",
    )

    s.clock.set(sh(5, 6))
    assert s.engine.get_cycle(None).stage == "recommendation"
    done = s.engine.fire(admin("songjiang"), pid, "review", result="demonstration", method="onsite")[0]
    assert (done.state, done.review_result, done.review_method) == (
        "municipal_demonstration",
        "demonstration",
        "onsite",
    )
    # it may now be recommended like the city's other demonstration projects
    assert s.engine.fire(admin("songjiang"), pid, "recommend")[0].state == "recommended"


def test_other_projects_of_the_city_are_still_held_to_the_review_window(at_stage):
    s = at_stage("recommendation")
    a = _file(s, s.excellent["songjiang"], admin("songjiang"))
    _uphold(s, a.id, admin("songjiang"), "municipal_review")
    other = s.demos["songjiang"][0]
    err = refused(s.store, s.engine.fire, admin("songjiang"), other, "review", result="excellent", method="site")
    assert err.rules == ["stage_window"]
    assert (
        err.rejections[0].english
        == "review belongs to stage 'municipal_review', but the cycle is in stage 'recommendation'"
    )


@pytest.fixture
def quota5(engine, clock, store):
    """A cycle opened with a Songjiang demonstration quota of 5, only Songjiang applying: 5
    municipal demonstration and 1 excellent; in stage recommendation on 05-02."""
    clock.set(sh(1, 2))
    engine.add_user(None, LEAD, "lead", "songjiang")
    for c in CITIES:
        engine.add_user(LEAD, admin(c), "city-admin", c)
        engine.add_user(LEAD, applicant(c), "applicant", c)
    engine.open_cycle(LEAD, PROGRAM, YEAR, quotas={"songjiang": {"demonstration": 5}})
    clock.set(sh(1, 10))
    ids = [engine.submit(applicant("songjiang"), make_app("songjiang", n)).id for n in range(1, 7)]
    clock.set(sh(2, 20))
    engine.fire(admin("songjiang"), ids, "accept")
    clock.set(sh(3, 2))
    engine.advance(LEAD)
    clock.set(sh(3, 10))
    engine.fire(admin("songjiang"), ids[:5], "review", result="demonstration", method="site")
    engine.fire(admin("songjiang"), ids[5], "review", result="excellent", method="written")
    clock.set(sh(5, 2))
    engine.advance(LEAD)
    return engine, store, ids


def test_re_review_after_a_reopen_is_still_held_to_the_quota(quota5):
    engine, store, ids = quota5
    pid = ids[5]
    a = engine.file_appeal(applicant("songjiang"), pid, "we deserve demonstration")
    engine.decide_appeal(admin("songjiang"), a.id, "uphold", reopen_to="municipal_review", reason="re-review")
    err = refused(store, engine.fire, admin("songjiang"), pid, "review", result="demonstration", method="onsite")
    assert err.rules == ["municipal_quota"]
    assert err.rejections[0].english == (
        f"松江区 (songjiang) has 5 of 5 municipal demonstration projects; project {pid} cannot be named demonstration"
    )
    # the result it had is free again: excellent (1 used of 25 before the reopen) goes through
    assert engine.fire(admin("songjiang"), pid, "review", result="excellent", method="onsite")[0].state == (
        "municipal_excellent"
    )


# ------------------------------------------------------------------------------ a list place → confirmation


def test_place_on_a_proposed_list_reopened_to_confirmation_supersedes_the_version(at_stage):
    s = at_stage("proposed")
    pid = s.low[0]
    a = _file(s, pid, applicant("songjiang"))
    assert (a.against_state, a.against_stage, a.list_version) == ("recommended", "confirmation", 1)
    _, project = _uphold(s, a.id, LEAD, "confirmation")
    assert (project.state, project.reopened_to) == ("recommended", "confirmation")
    assert _versions(s) == [(1, "superseded")]
    assert len(_sheets(s, pid, current_only=True)) == 9  # the sheets stand: only the list is redone
    [supersede] = _list_audit(s, "supersede")
    assert (supersede.subject_id, supersede.from_state, supersede.to_state, supersede.reason) == (
        "1",
        "proposed",
        "superseded",
        f"appeal {a.id} reopened project {pid}",
    )

    s.clock.set(sh(5, 21))
    v2 = s.engine.propose_list(LEAD)
    assert (v2.number, v2.status) == (2, "proposed")
    assert _versions(s) == [(1, "superseded"), (2, "proposed")]
    [row] = _list_audit(s, "propose")[-1:]
    assert row.subject_id == "2"
    assert row.data["changes"] == []  # the same sheets rank the same
    assert row.data["correction"] is True  # the appeal reopened the list: its actions run until it is published again
    _, versions, _ = s.engine.list_versions(LEAD)
    assert versions[1].entries == versions[0].entries


def test_reopened_to_joint_scoring_on_a_proposed_list_the_new_version_says_what_changed(at_stage):
    s = at_stage("proposed")
    pid = s.mid[0]  # rank 3, excellent, 78
    a = _file(s, pid, applicant("jiaxing"))
    _uphold(s, a.id, LEAD, "joint_scoring")
    s.clock.set(sh(5, 21))
    _score_by_all(s, pid, SHEET_TOP)  # the cycle is in confirmation; the reopened project may be scored
    s.engine.propose_list(LEAD, tie_order=s.high)  # 100 pushes one of the two 94s below the boundary
    row = _list_audit(s, "propose")[-1]
    moved = [(c["project"], c["before"], c["after"]) for c in row.data["changes"]]
    assert moved == [
        (pid, _place(3, "excellent", "78.0000"), _place(1, "demonstration", "100.0000")),
        (s.high[0], _place(1, "demonstration", "94.0000"), _place(2, "demonstration", "94.0000")),
        (s.high[1], _place(2, "demonstration", "94.0000"), _place(3, "excellent", "94.0000")),
    ]


def test_reopened_to_recommendation_keeps_the_review_result_but_not_the_sheets(at_stage):
    s = at_stage("proposed")
    pid = s.low[0]
    a = _file(s, pid, applicant("songjiang"))
    _, project = _uphold(s, a.id, LEAD, "recommendation")
    assert (project.state, project.review_result, project.review_method) == (
        "municipal_demonstration",
        "demonstration",
        "site",
    )
    assert _sheets(s, pid, current_only=True) == []
    assert len(_sheets(s, pid, current_only=False)) == 9


# ------------------------------------------------------------------------------ a published place → joint_scoring


@pytest.fixture
def correction(at_stage):
    """The published cycle (06-13) with jiaxing's mid project (rank 3, excellent) reopened to
    joint_scoring by the lead upholding its applicant's appeal."""
    s = at_stage("published")
    s.clock.set(sh(6, 13))
    s.pid = s.mid[0]
    s.appeal = _file(s, s.pid, applicant("jiaxing"), "two sheets were swapped")
    _uphold(s, s.appeal.id, LEAD, "joint_scoring", "the sheets of 078 and 087 were swapped")
    return s


def test_published_place_reopened_to_joint_scoring_supersedes_but_keeps_the_sheets(correction):
    s = correction
    project = _project(s, s.pid)
    assert (project.state, project.reopened_to) == ("recommended", "joint_scoring")
    assert _sheets(s, s.pid, current_only=True) == []
    old = _sheets(s, s.pid, current_only=False)
    assert sorted((x.city, x.total, x.current) for x in old) == sorted((c, 78, False) for c in CITIES)
    # the published list stands until the corrected one is published
    assert _versions(s) == [(1, "published")]
    settings = s.engine.get_cycle(None).settings
    assert settings["correction"] == {
        "stage": "confirmation",
        "list": 1,
        "appeals": [s.appeal.id],
        "opened_at": sh(6, 13).isoformat(),
    }


def test_corrected_list_waits_for_every_party_to_score_again(correction):
    s = correction
    err = refused(s.store, s.engine.propose_list, LEAD)
    # without its sheets the project drops out of the ranking, which then ties at the excellent edge
    assert err.rules == ["all_sheets_in"] * 9 + ["boundary_tie_settled"]
    assert [r.english for r in err.rejections[:9]] == [f"{c} has scored 44 of 45 key-library projects" for c in CITIES]
    assert err.rejections[9].english.endswith(
        "are tied at 62.0000 across the boundary between excellent (place 5) and none; "
        "settle with --tie-order listing them best first"
    )
    _score_by_all(s, s.pid, SHEET_HIGH, cities=CITIES[:-1])
    err = refused(s.store, s.engine.propose_list, LEAD, tie_order=[s.pid, *s.high])
    assert [str(r) for r in err.rejections] == ["[all_sheets_in] hefei has scored 44 of 45 key-library projects"]


def test_corrected_publication_replaces_what_changed_and_says_why(correction):
    s = correction
    h1, h2 = s.high
    _score_by_all(s, s.pid, SHEET_HIGH)  # 94: tied with the two high projects across the boundary
    err = refused(s.store, s.engine.propose_list, LEAD)
    assert err.rules == ["boundary_tie_settled"]
    v2 = s.engine.propose_list(LEAD, tie_order=[s.pid, h1, h2])
    assert (v2.number, v2.status) == (2, "proposed")
    assert _list_audit(s, "propose")[-1].data["correction"] is True
    for c in CITIES[:-1]:
        assert s.engine.confirm_list(admin(c)).status == "proposed"
    assert s.engine.confirm_list(admin(CITIES[-1])).status == "confirmed"  # all nine: confirmed at once
    s.clock.set(sh(6, 15))
    published = s.engine.publish(LEAD)
    assert (published.number, published.status) == (2, "published")
    assert _versions(s) == [(1, "corrected"), (2, "published")]

    states = {pid: _project(s, pid).state for pid in (s.pid, h1, h2, *s.mid[1:])}
    assert states == {
        s.pid: "listed_demonstration",
        h1: "listed_demonstration",
        h2: "listed_excellent",
        s.mid[1]: "listed_excellent",
        s.mid[2]: "listed_excellent",
    }
    # only what changed category is placed again
    placed = [e for e in s.engine.history(LEAD) if e.action == "place" and e.at == sh(6, 15)]
    assert [(e.subject_id, e.from_state, e.to_state, e.reason) for e in placed] == [
        (str(s.pid), "recommended", "listed_demonstration", "corrected publication, list version 2"),
        (str(h2), "listed_demonstration", "listed_excellent", "corrected publication, list version 2"),
    ]
    [row] = _list_audit(s, "publish")[-1:]
    assert row.subject_id == "2"
    assert row.data["corrects"] == 1
    assert row.data["replaced"] == 1
    assert row.data["appeals"] == [
        {
            "appeal": s.appeal.id,
            "project": s.pid,
            "reason": "two sheets were swapped",
            "decision": "the sheets of 078 and 087 were swapped",
        }
    ]
    assert [(c["project"], c["change"], c["before"], c["after"]) for c in row.data["changes"]] == [
        (s.pid, "changed", _place(3, "excellent", "78.0000"), _place(1, "demonstration", "94.0000")),
        (h1, "changed", _place(1, "demonstration", "94.0000"), _place(2, "demonstration", "94.0000")),
        (h2, "changed", _place(2, "demonstration", "94.0000"), _place(3, "excellent", "94.0000")),
    ]
    assert row.reason == f"appeal {s.appeal.id}: two sheets were swapped"
    assert tell(row) == "corrected publication of version 1: 3 changes"
    [corrected] = _list_audit(s, "correct")
    assert (corrected.subject_id, corrected.from_state, corrected.to_state) == ("1", "published", "corrected")
    # the correction is closed: the reopening ends, the appeal clock restarts from this publication
    settings = s.engine.get_cycle(None).settings
    assert "correction" not in settings
    assert settings["published_at"] == sh(6, 15).isoformat()
    assert _project(s, s.pid).reopened_to is None


def test_a_reopen_while_the_list_is_confirmed_supersedes_it_and_the_nine_confirm_again(at_stage):
    s = at_stage("confirmed")
    pid = s.low[0]
    a = _file(s, pid, applicant("songjiang"))
    assert (a.against_stage, a.list_version) == ("confirmation", 1)
    _uphold(s, a.id, LEAD, "confirmation")
    assert _versions(s) == [(1, "superseded")]
    assert s.engine.get_cycle(None).settings["correction"]["appeals"] == [a.id]
    s.clock.set(sh(6, 11))
    s.engine.propose_list(LEAD)
    _confirm_by_all(s)
    assert _versions(s) == [(1, "superseded"), (2, "confirmed")]
    s.engine.publish(LEAD)
    assert _versions(s) == [(1, "superseded"), (2, "published")]
    assert _project(s, pid).state == "not_listed"


# ------------------------------------------------------------------------------ dismissal


def test_a_dismissed_appeal_changes_only_the_appeal_and_the_audit(at_stage):
    s = at_stage("published")
    s.clock.set(sh(6, 13))
    pid = s.mid[0]
    before = snapshot(s.store)
    a = _file(s, pid, applicant("jiaxing"))
    appeal, project = s.engine.decide_appeal(LEAD, a.id, "dismiss", reason="the sheets are as filed")
    after = snapshot(s.store)
    assert _without(after, "appeals", "audit", "audit_heads") == _without(before, "appeals", "audit", "audit_heads")
    assert (appeal.status, appeal.decided_by, appeal.decision_reason, appeal.reopen_to) == (
        "dismissed",
        LEAD,
        "the sheets are as filed",
        None,
    )
    assert project.state == "listed_excellent"
    new = s.engine.project(LEAD, pid)[2][-2:]
    assert [(e.action, e.actor, e.reason) for e in new] == [
        ("appeal", applicant("jiaxing"), "the result overlooks our evidence"),
        ("appeal_dismissed", LEAD, "the sheets are as filed"),
    ]
    assert len(after["audit"]) == len(before["audit"]) + 2
    assert tell(new[1]) == f"appeal {a.id} dismissed; nothing changes"


# ------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("checkpoint", "state"),
    [("collection", "submitted"), ("municipal_review", "in_library"), ("joint_scoring", "recommended")],
)
def test_no_result_no_appeal(at_stage, checkpoint, state):
    s = at_stage(checkpoint)
    pid = s.demos["hefei"][0] if checkpoint == "joint_scoring" else s.ids["hefei"][0]
    err = refused(s.store, _file, s, pid, applicant("hefei"))
    assert err.rules == ["appealable"]
    assert str(err) == (
        f"Cannot appeal project {pid} (in state '{state}'): "
        f"[appealable] project {pid} is '{state}'; it holds no result to appeal."
    )


def test_appeals_close_seven_days_after_publication(at_stage):
    s = at_stage("published")  # published 06-12 09:00
    s.clock.set(sh(6, 19, 9, 0))
    err = refused(s.store, _file, s, s.low[0], applicant("songjiang"))
    assert err.rules == ["appeal_window"]
    assert err.rejections[0].english == (
        "appeals against results of stage 'publication' closed at 2027-06-19 09:00 Asia/Shanghai; "
        "it is now 2027-06-19 09:00"
    )
    # a result of an earlier stage (a municipal excellent) closes with it
    err = refused(s.store, _file, s, s.excellent["hefei"], applicant("hefei"))
    assert err.rejections[0].english.startswith(
        "appeals against results of stage 'municipal_review' closed at 2027-06-19 09:00"
    )
    s.clock.set(sh(6, 19, 8, 59))
    assert _file(s, s.low[0], applicant("songjiang")).against_stage == "publication"


def _rejected_under(text: str, directory, store, clock) -> tuple[Engine, int]:
    """An engine running the G60 program as ``text`` (saved in ``directory``), with one hefei
    application rejected on 01-10."""
    (directory / SHIPPED.name).write_text(text, encoding="utf-8")
    engine = Engine(store, ProgramRegistry([directory]), clock)
    clock.set(sh(1, 2))
    engine.add_user(None, LEAD, "lead", "songjiang")
    engine.add_user(LEAD, admin("hefei"), "city-admin", "hefei")
    engine.add_user(LEAD, applicant("hefei"), "applicant", "hefei")
    engine.open_cycle(LEAD, PROGRAM, YEAR)
    clock.set(sh(1, 10))
    pid = engine.submit(applicant("hefei"), make_app("hefei", 1)).id
    engine.fire(admin("hefei"), pid, "reject", reason="incomplete")
    return engine, pid


def test_a_stage_may_close_its_appeals_earlier(tmp_path, store, clock):
    """``within`` in [appeals.stages.collection]: rejections may be appealed until 30 days after
    the collection window closed (2027-03-01 00:00), so until 2027-03-31 00:00."""
    text = SHIPPED.read_text(encoding="utf-8")
    header = "[appeals.stages.collection]\n"
    assert header in text
    engine, pid = _rejected_under(text.replace(header, header + 'within = "30d"\n'), tmp_path, store, clock)
    clock.set(sh(3, 31, 0, 0))
    err = refused(store, engine.file_appeal, applicant("hefei"), pid, "it was complete")
    assert err.rules == ["appeal_window"]
    assert err.rejections[0].english == (
        "appeals against results of stage 'collection' closed at 2027-03-31 00:00 Asia/Shanghai; "
        "it is now 2027-03-31 00:00"
    )
    clock.set(sh(3, 30, 23, 59))
    assert engine.file_appeal(applicant("hefei"), pid, "it was complete").against_stage == "collection"


def test_a_program_without_appeals_takes_none(tmp_path, store, clock):
    text = SHIPPED.read_text(encoding="utf-8")
    start, end = text.index("# Appeals. A project"), text.index("# Rules the lead may override")
    permission = 'appeal = { roles = ["applicant", "city-admin"], own_city = true }\n'
    assert permission in text
    engine, pid = _rejected_under((text[:start] + text[end:]).replace(permission, ""), tmp_path, store, clock)
    err = refused(store, engine.file_appeal, applicant("hefei"), pid, "it was complete")
    assert err.rules == ["appeals"]
    assert str(err) == f"Cannot appeal project {pid}: [appeals] program g60-deep-integration takes no appeals."


def test_one_open_appeal_per_project(at_stage):
    s = at_stage("recommendation")
    pid = s.excellent["hefei"]
    first = _file(s, pid, applicant("hefei"))
    s.clock.set(sh(5, 3, 14, 30))
    err = refused(s.store, _file, s, pid, admin("hefei"))
    assert err.rules == ["one_open_appeal"]
    assert err.rejections[0].english == (
        f"project {pid} already has appeal {first.id} open (filed by hefei-applicant on 2027-05-02 09:00)"
    )
    # once decided, a new appeal may be filed
    s.engine.decide_appeal(admin("hefei"), first.id, "dismiss", reason="no new facts")
    assert _file(s, pid, admin("hefei")).id == first.id + 1


@pytest.mark.parametrize("decision", ["uphold", "dismiss"])
def test_a_decided_appeal_cannot_be_decided_again(at_stage, decision):
    s = at_stage("recommendation")
    a = _file(s, s.excellent["hefei"], applicant("hefei"))
    s.engine.decide_appeal(admin("hefei"), a.id, "dismiss", reason="no new facts")
    err = refused(
        s.store, s.engine.decide_appeal, admin("hefei"), a.id, decision, reopen_to="municipal_review", reason="again"
    )
    assert err.rules == ["appeal_open"]
    assert err.rejections[0].english == f"appeal {a.id} was already dismissed by hefei-admin on 2027-05-02 09:00"


def test_an_appeal_overtaken_by_events_cannot_be_upheld(at_stage):
    s = at_stage("recommendation")
    pid = s.demos["hefei"][0]
    a = _file(s, pid, applicant("hefei"))
    assert a.against_state == "municipal_demonstration"
    s.engine.fire(admin("hefei"), pid, "recommend")
    err = refused(s.store, _uphold, s, a.id, admin("hefei"), "municipal_review")
    assert err.rules == ["appeal_current"]
    assert err.rejections[0].english == (
        f"project {pid} is now 'recommended'; appeal {a.id} was filed against 'municipal_demonstration' "
        "(dismiss it, and appeal the present result)"
    )


@pytest.mark.parametrize(
    ("to", "why"),
    [
        (
            "recommendation",
            "'recommendation' comes after 'municipal_review', the stage that made the contested result",
        ),
        ("publication", "no project can be reopened to 'publication'"),
        ("hearing", "'hearing' is not a stage of g60-deep-integration"),
    ],
)
def test_reopen_target_of_a_municipal_appeal(at_stage, to, why):
    s = at_stage("recommendation")
    pid = s.excellent["hefei"]
    a = _file(s, pid, applicant("hefei"))
    err = refused(s.store, _uphold, s, a.id, admin("hefei"), to)
    assert err.rules == ["reopen_target"]
    assert err.rejections[0].english == f"{why}; project {pid} can be reopened to: collection, municipal_review"


def test_a_rejected_project_can_only_be_reopened_to_collection(rejected):
    s = rejected
    a = _file(s, s.ok, applicant("hefei"))
    err = refused(s.store, _uphold, s, a.id, admin("hefei"), "municipal_review")
    assert err.rules == ["reopen_target"]
    assert err.rejections[0].english == (
        "'municipal_review' comes after 'collection', the stage that made the contested result; "
        f"project {s.ok} can be reopened to: collection"
    )


def test_a_published_place_may_be_reopened_to_any_stage_it_went_through(correction):
    """The choices named by a refusal are every reopenable stage up to the list's."""
    s = correction
    s.clock.set(sh(6, 14))
    pid = s.low[0]
    a = _file(s, pid, applicant("songjiang"))
    err = refused(s.store, _uphold, s, a.id, LEAD, "publication")
    assert err.rejections[0].english == (
        f"no project can be reopened to 'publication'; project {pid} can be reopened to: "
        "collection, municipal_review, recommendation, joint_scoring, confirmation"
    )


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        (lambda s, a: s.engine.file_appeal(applicant("hefei"), a.project_id, "  "), "an appeal needs --reason"),
        (lambda s, a: s.engine.decide_appeal(admin("hefei"), a.id, "dismiss"), "dismissing an appeal needs --reason"),
        (
            lambda s, a: s.engine.decide_appeal(admin("hefei"), a.id, "uphold", reason="yes"),
            "upholding an appeal needs --reopen-to STAGE",
        ),
        (
            lambda s, a: s.engine.decide_appeal(admin("hefei"), a.id, "grant", reopen_to="collection"),
            "'grant' is not one of uphold, dismiss",
        ),
    ],
)
def test_invalid_input(at_stage, call, problem):
    s = at_stage("recommendation")
    a = _file(s, s.excellent["hefei"], applicant("hefei"))
    before = snapshot(s.store)
    with pytest.raises(InvalidInput) as err:
        call(s, a)
    assert err.value.exit_code == 7
    assert tuple(map(str, err.value.problems)) == (problem,)
    assert snapshot(s.store) == before


# ------------------------------------------------------------------------------ permissions


@pytest.mark.parametrize(
    ("who", "error", "message"),
    [
        (applicant("hefei"), None, None),
        (admin("hefei"), None, None),
        (applicant("jiaxing"), NotFound, "No project {pid!r}."),
        (
            admin("jiaxing"),
            NotPermitted,
            "Not permitted to appeal project {pid}: jiaxing-admin acts for jiaxing; this project belongs to hefei.",
        ),
        (
            scorer("hefei"),
            NotPermitted,
            "Not permitted to appeal project {pid}: hefei-scorer is scorer; appeal is done by applicant or city-admin.",
        ),
        (
            LEAD,
            NotPermitted,
            "Not permitted to appeal project {pid}: lead is lead; appeal is done by applicant or city-admin.",
        ),
    ],
)
def test_who_may_file(at_stage, who, error, message):
    s = at_stage("published")
    pid = s.high[1]  # hefei's, listed_demonstration: every city can see it
    if error is None:
        assert _file(s, pid, who).filed_by == who
        return
    before = snapshot(s.store)
    with pytest.raises(error) as err:
        _file(s, pid, who)
    assert err.value.exit_code == (5 if error is NotFound else 4)
    assert str(err.value) == message.format(pid=pid)
    assert snapshot(s.store) == before


def test_an_applicant_of_the_same_city_may_not_appeal_anothers_project(at_stage):
    s = at_stage("recommendation")
    s.engine.add_user(LEAD, "hefei-applicant-2", "applicant", "hefei")
    pid = s.excellent["hefei"]
    before = snapshot(s.store)
    with pytest.raises(NotFound) as err:  # an applicant sees only their own projects
        _file(s, pid, "hefei-applicant-2")
    assert (err.value.exit_code, str(err.value)) == (5, f"No project {pid!r}.")
    assert snapshot(s.store) == before


def test_a_municipal_appeal_is_decided_by_its_own_city_admin_only(at_stage):
    s = at_stage("recommendation")
    pid = s.excellent["hefei"]
    a = _file(s, pid, applicant("hefei"))
    before = snapshot(s.store)
    # another city cannot even see a project outside the key library
    with pytest.raises(NotFound) as err:
        _uphold(s, a.id, admin("jiaxing"), "municipal_review")
    assert (err.value.exit_code, str(err.value)) == (5, f"No appeal {a.id!r}.")
    # the lead sees it but does not make municipal results
    with pytest.raises(NotPermitted) as err:
        _uphold(s, a.id, LEAD, "municipal_review")
    assert err.value.exit_code == 4
    assert str(err.value) == (
        f"Not permitted to decide appeal {a.id}: lead is lead; deciding appeals against results of "
        "'municipal_review' is done by city-admin."
    )
    assert snapshot(s.store) == before


def test_another_city_admin_who_sees_the_project_may_not_decide_its_municipal_appeal(at_stage):
    """Once the project is in the key library and joint scoring has begun, jiaxing sees it; it
    still may not decide an appeal against hefei's municipal result."""
    s = at_stage("recommendation")
    pid = s.demos["hefei"][0]
    a = _file(s, pid, applicant("hefei"))
    for c in CITIES:
        s.engine.fire(admin(c), s.demos[c], "recommend")
    s.clock.set(sh(5, 11))
    s.engine.advance(LEAD)
    before = snapshot(s.store)
    with pytest.raises(NotPermitted) as err:
        s.engine.decide_appeal(admin("jiaxing"), a.id, "dismiss", reason="no")
    assert err.value.exit_code == 4
    assert str(err.value) == (
        f"Not permitted to decide appeal {a.id}: jiaxing-admin acts for jiaxing; this project belongs to hefei."
    )
    assert snapshot(s.store) == before


@pytest.mark.parametrize("who", [admin("hefei"), admin("jiaxing")])
def test_a_city_admin_cannot_decide_a_publication_appeal(at_stage, who):
    s = at_stage("published")
    s.clock.set(sh(6, 13))
    a = _file(s, s.high[1], applicant("hefei"))
    before = snapshot(s.store)
    with pytest.raises(NotPermitted) as err:
        s.engine.decide_appeal(who, a.id, "dismiss", reason="no")
    assert err.value.exit_code == 4
    assert str(err.value) == (
        f"Not permitted to decide appeal {a.id}: {who} is city-admin; deciding appeals against results of "
        "'publication' is done by lead."
    )
    assert snapshot(s.store) == before


def test_an_unknown_appeal_is_not_found(at_stage):
    s = at_stage("published")
    with pytest.raises(NotFound) as err:
        s.engine.decide_appeal(LEAD, 99, "dismiss", reason="no")
    assert (err.value.exit_code, str(err.value)) == (5, "No appeal 99.")


def test_who_reads_which_appeals(at_stage):
    s = at_stage("recommendation")
    hefei = _file(s, s.excellent["hefei"], applicant("hefei"))
    jiaxing = _file(s, s.excellent["jiaxing"], admin("jiaxing"))
    assert [a.id for a in s.engine.appeals(LEAD)[1]] == [hefei.id, jiaxing.id]
    assert [a.id for a in s.engine.appeals(admin("hefei"))[1]] == [hefei.id]
    assert [a.id for a in s.engine.appeals(applicant("hefei"))[1]] == [hefei.id]
    assert [a.id for a in s.engine.appeals(applicant("jiaxing"))[1]] == []  # jiaxing's admin filed it
    assert s.engine.appeals(LEAD, status="upheld")[1] == []
    assert s.engine.appeal(admin("jiaxing"), jiaxing.id)[1].id == s.excellent["jiaxing"]
    with pytest.raises(NotFound):
        s.engine.appeal(admin("jiaxing"), hefei.id)


# ------------------------------------------------------------------------------ appeals_settled / appeals_decided


@pytest.mark.parametrize("checkpoint", ["proposed", "confirmed"])
def test_propose_waits_for_a_project_reopened_to_municipal_review(at_stage, checkpoint):
    s = at_stage(checkpoint)
    pid = s.low[0]
    a = _file(s, pid, applicant("songjiang"))
    assert a.against_stage == "confirmation"
    _, project = _uphold(s, a.id, LEAD, "municipal_review")
    assert (project.state, project.review_result) == ("in_library", None)
    s.clock.set(s.clock() + timedelta(days=1))
    err = refused(s.store, s.engine.propose_list, LEAD)
    assert err.rules == ["appeals_settled"]
    assert err.rejections[0].english == (
        f"project {pid} (songjiang) was reopened to 'municipal_review' by appeal {a.id} and is still 'in_library'"
    )
    # the city decides it again (here: excellent, so it leaves the key library); the list goes on
    s.engine.fire(admin("songjiang"), pid, "review", result="excellent", method="onsite")
    lst = s.engine.propose_list(LEAD)
    assert (lst.number, len(lst.entries)) == (2, 44)
    assert pid not in {e.project_id for e in lst.entries}


def test_publish_waits_for_every_appeal_to_be_decided(at_stage):
    s = at_stage("confirmed")
    pid = s.mid[1]
    a = _file(s, pid, applicant("hangzhou"))
    s.clock.set(sh(6, 12))
    assert s.engine.status(LEAD)["open_appeals"] == [
        {"appeal": a.id, "project": pid, "city": "hangzhou", "against": "confirmation"}
    ]
    err = refused(s.store, s.engine.publish, LEAD)
    assert err.rules == ["appeals_decided"]
    assert err.rejections[0].english == f"appeal {a.id} against project {pid} (hangzhou) is not decided yet"
    s.engine.decide_appeal(LEAD, a.id, "dismiss", reason="the place stands")
    assert s.engine.publish(LEAD).status == "published"


# ------------------------------------------------------------------------------ the audit trail


def _appeal_rows(s, pid: int):
    history = s.engine.project(LEAD, pid)[2]
    first = next(i for i, e in enumerate(history) if e.action == "appeal")
    return history[first:]


def test_audit_trail_of_an_upheld_municipal_appeal(at_stage):
    s = at_stage("recommendation")
    pid = s.excellent["hefei"]
    a = _file(s, pid, applicant("hefei"), "our site visit was skipped")
    _uphold(s, a.id, admin("hefei"), "municipal_review", "a site visit is owed")
    rows = _appeal_rows(s, pid)
    assert [(e.action, e.actor, e.from_state, e.to_state, e.reason) for e in rows] == [
        ("appeal", applicant("hefei"), None, None, "our site visit was skipped"),
        ("appeal_upheld", admin("hefei"), None, None, "a site visit is owed"),
        ("reopen", admin("hefei"), "municipal_excellent", "in_library", "a site visit is owed"),
    ]
    assert rows[0].data == {
        "appeal": a.id,
        "against": "municipal_excellent",
        "against_stage": "municipal_review",
        "list_version": None,
    }
    assert rows[1].data == {"appeal": a.id, "reopen_to": "municipal_review"}
    assert rows[2].data == {
        "to": "municipal_review",
        "appeal": a.id,
        "superseded": {"review_result": "excellent", "review_method": "written"},
    }
    assert [tell(e) for e in rows] == [
        f"appeal {a.id} filed against 'municipal_excellent' (a result of municipal_review)",
        f"appeal {a.id} upheld; reopened to municipal_review",
        f"reopened to stage municipal_review by appeal {a.id}; superseded: review result excellent (written)",
    ]


def test_audit_trail_of_an_upheld_publication_appeal(correction):
    s = correction
    rows = _appeal_rows(s, s.pid)
    assert [(e.action, e.actor, e.from_state, e.to_state) for e in rows] == [
        ("appeal", applicant("jiaxing"), None, None),
        ("appeal_upheld", LEAD, None, None),
        ("reopen", LEAD, "listed_excellent", "recommended"),
    ]
    assert rows[2].reason == "the sheets of 078 and 087 were swapped"
    data = rows[2].data
    assert data["superseded"] == {"sheets": [{"city": c, "total": 78} for c in CITIES]}
    place = data["list"]["place"]
    assert (data["list"]["version"], data["list"]["status"]) == (1, "published")
    assert (place["rank"], place["project_id"], place["category"], place["score"]) == (3, s.pid, "excellent", "78.0000")
    assert tell(rows[2]) == (
        f"reopened to stage joint_scoring by appeal {s.appeal.id}; superseded: 9 score sheets ("
        + ", ".join(f"{c} 78" for c in CITIES)
        + "); list version 1 (published; rank 3, excellent, 78.0000)"
    )
    [opened] = [e for e in s.engine.history(LEAD) if e.action == "correction"]
    assert (opened.subject, opened.actor, opened.reason) == (
        "cycle",
        LEAD,
        f"appeal {s.appeal.id} reopened project {s.pid}",
    )
    assert opened.data == {"list_version": 1, "appeals": [s.appeal.id]}
    assert tell(opened) == f"list version 1 opened for correction by appeals {s.appeal.id}"
    status = s.engine.status(LEAD)
    assert status["correction"]["appeals"] == [s.appeal.id]
    assert status["open_appeals"] == []


def test_audit_trail_of_an_upheld_list_appeal(at_stage):
    s = at_stage("proposed")
    pid = s.low[0]
    a = _file(s, pid, applicant("songjiang"))
    _uphold(s, a.id, LEAD, "confirmation", "ranked again on a new version")
    rows = _appeal_rows(s, pid)
    assert [e.action for e in rows] == ["appeal", "appeal_upheld", "reopen"]
    assert rows[0].data["list_version"] == 1
    assert tell(rows[0]) == f"appeal {a.id} filed against 'recommended' (a result of confirmation, list version 1)"
    reopen = rows[2]
    assert (reopen.from_state, reopen.to_state, reopen.data["superseded"]) == ("recommended", "recommended", {})
    assert reopen.data["list"]["version"] == 1 and reopen.data["list"]["status"] == "proposed"
    assert reopen.data["list"]["place"]["project_id"] == pid
    assert reopen.data["list"]["place"]["category"] == "none"


# ------------------------------------------------------------------------------ bugs


def test_an_appeal_overtaken_by_events_can_still_be_dismissed(at_stage):
    """An appeal against hefei's municipal result stays open after the city recommends the
    project; appeals_decided then refuses every publication until it is decided. Upholding it is
    rightly refused (appeal_current), but dismissing changes nothing and must stay possible."""
    s = at_stage("recommendation")
    pid = s.demos["hefei"][0]
    a = _file(s, pid, applicant("hefei"))
    s.engine.fire(admin("hefei"), pid, "recommend")
    appeal, _ = s.engine.decide_appeal(admin("hefei"), a.id, "dismiss", reason="it was recommended after all")
    assert appeal.status == "dismissed"


def test_an_appeal_overtaken_by_the_award_does_not_block_the_corrected_publication(at_stage):
    s = at_stage("published")
    s.clock.set(sh(6, 13))
    h1 = s.high[0]
    stale = _file(s, h1, applicant("songjiang"), "we should rank first")
    s.engine.fire(LEAD, h1, "award")  # the plaque goes out while the appeal is open
    other = _file(s, s.low[0], applicant("songjiang"))
    _uphold(s, other.id, LEAD, "confirmation")
    s.engine.propose_list(LEAD)
    _confirm_by_all(s)
    err = refused(s.store, s.engine.publish, LEAD)
    assert err.rejections[0].english == f"appeal {stale.id} against project {h1} (songjiang) is not decided yet"
    # the lead must decide it to publish: upholding is refused ([appeal_current]), dismissing is not
    s.engine.decide_appeal(LEAD, stale.id, "dismiss", reason="the place stands; the plaque is awarded")
    assert s.engine.publish(LEAD).status == "published"


def test_an_appeal_upheld_after_the_list_window_leaves_a_way_forward(at_stage):
    """All nine confirmed list v1 in June; on 07-02 the lead could still close the stage. An
    appeal upheld that day supersedes v1 and reopens the list: the lead proposes v2 although the
    joint window closed on 06-30, the nine confirm it, and the cycle goes on to publication."""
    s = at_stage("proposed")
    s.clock.set(sh(6, 1))
    _confirm_by_all(s)
    s.clock.set(sh(7, 2))
    assert s.engine.advance(LEAD, dry_run=True).rejections == []
    a = _file(s, s.low[0], applicant("songjiang"))
    _uphold(s, a.id, LEAD, "confirmation")
    assert _versions(s) == [(1, "superseded")]
    v2 = s.engine.propose_list(LEAD)
    assert v2.number == 2
    _confirm_by_all(s)
    assert s.engine.advance(LEAD).to_stage == "publication"
    published = s.engine.publish(LEAD)
    assert (published.number, published.status) == (2, "published")


def test_every_appeal_that_corrected_the_list_is_named_by_the_corrected_publication(correction):
    """Appeal 1 opened the correction; v2 is proposed; appeal 2 (hangzhou's mid project) is
    upheld and supersedes v2. The corrected publication names both appeals."""
    s = correction
    _score_by_all(s, s.pid, SHEET_HIGH)
    s.engine.propose_list(LEAD, tie_order=[s.pid, *s.high])
    second_pid = s.mid[1]
    second = _file(s, second_pid, applicant("hangzhou"), "our sheets were swapped too")
    _uphold(s, second.id, LEAD, "joint_scoring", "so they were")
    assert _versions(s) == [(1, "published"), (2, "superseded")]
    _score_by_all(s, second_pid, {"value": 18, "organization": 26, "effectiveness": 26, "mechanism": 15})  # 85
    s.engine.propose_list(LEAD, tie_order=[s.pid, *s.high])
    _confirm_by_all(s)
    s.engine.publish(LEAD)
    row = _list_audit(s, "publish")[-1]
    assert second_pid in {c["project"] for c in row.data["changes"]}  # appeal 2 did change the list
    assert [w["appeal"] for w in row.data["appeals"]] == [s.appeal.id, second.id]
