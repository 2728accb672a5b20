"""Every permission boundary of the G60 program, through the engine.

One table: action × actor → permitted, or refused for the actor's role or for the project's
city. Each action runs at the checkpoint where it would succeed, so a refusal is only ever
the permission's doing; a refusal must change nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import (
    CITIES,
    LEAD,
    PROGRAM,
    SHEET_MID,
    YEAR,
    admin,
    applicant,
    make_app,
    scorer,
    sh,
    snapshot,
)
from tests.workflow.checkpoints import Staged
from tests.workflow.files_samples import PDF
from workflow.errors import NotFound, NotPermitted, RuleRefused

# The project every project action is tried on belongs to hefei.
ACTORS = (
    LEAD,
    admin("hefei"),
    admin("jiaxing"),
    scorer("hefei"),
    scorer("jiaxing"),
    applicant("hefei"),
    applicant("jiaxing"),
)
ROLE = {
    LEAD: "lead",
    admin("hefei"): "city-admin",
    admin("jiaxing"): "city-admin",
    scorer("hefei"): "scorer",
    scorer("jiaxing"): "scorer",
    applicant("hefei"): "applicant",
    applicant("jiaxing"): "applicant",
}
CITY = {
    LEAD: "songjiang",
    admin("hefei"): "hefei",
    admin("jiaxing"): "jiaxing",
    scorer("hefei"): "hefei",
    scorer("jiaxing"): "jiaxing",
    applicant("hefei"): "hefei",
    applicant("jiaxing"): "jiaxing",
}

# ok: permitted · R: refused for the role · C: refused because the project is another city's ·
# N: not found — the actor may not even see the project (an applicant sees only their own; before
# joint scoring a city sees only its own city's projects, and a scorer none), and an action on a
# project checks that first (visible → permission), so it is told "No project N" rather than
# who may act or whose the project is
# fmt: off
GRID = {
    #               lead  hf-adm jx-adm hf-sc jx-sc hf-app jx-app
    "submit":     ("R",  "ok",  "C",   "R",  "R",  "ok",  "C"),
    "accept":     ("R",  "ok",  "N",   "N",  "N",  "R",   "N"),
    "reject":     ("R",  "ok",  "N",   "N",  "N",  "R",   "N"),
    "review":     ("R",  "ok",  "N",   "N",  "N",  "R",   "N"),
    "recommend":  ("R",  "ok",  "N",   "N",  "N",  "R",   "N"),
    "withdraw":   ("R",  "ok",  "N",   "N",  "N",  "R",   "N"),
    "score":      ("R",  "R",   "R",   "ok", "ok", "R",   "N"),
    "propose":    ("ok", "R",   "R",   "R",  "R",  "R",   "R"),
    "confirm":    ("R",  "ok",  "ok",  "R",  "R",  "R",   "R"),
    "object":     ("R",  "ok",  "ok",  "R",  "R",  "R",   "R"),
    "publish":    ("ok", "R",   "R",   "R",  "R",  "R",   "R"),
    "award":      ("ok", "R",   "R",   "R",  "R",  "N",   "N"),
    "advance":    ("ok", "R",   "R",   "R",  "R",  "R",   "R"),
    "appeal":     ("R",  "ok",  "C",   "R",  "R",  "ok",  "N"),
    "override":   ("ok", "R",   "R",   "R",  "R",  "R",   "R"),
    "withdraw_application": ("R", "R", "N", "N", "N", "ok", "N"),
    "attach":     ("R",  "ok",  "N",   "N",  "N",  "ok",  "N"),
    "add_user":   ("ok", "R",   "R",   "R",  "R",  "R",   "R"),
    "open_cycle": ("ok", "R",   "R",   "R",  "R",  "R",   "R"),
}
# fmt: on
DONE_BY = {
    "submit": "applicant or city-admin",
    "accept": "city-admin",
    "reject": "city-admin",
    "review": "city-admin",
    "recommend": "city-admin",
    "withdraw": "city-admin",
    "score": "scorer",
    "propose": "lead",
    "confirm": "city-admin",
    "object": "city-admin",
    "publish": "lead",
    "award": "lead",
    "advance": "lead",
    "appeal": "applicant or city-admin",
    "override": "lead",
    "withdraw_application": "applicant",
    "attach": "applicant or city-admin",
}


def _hefei(s: Staged) -> int:
    return s.demos["hefei"][0]


def _prepare_withdraw(s: Staged) -> None:
    s.clock.set(sh(5, 5))
    s.engine.fire(admin("hefei"), _hefei(s), "recommend")


def _prepare_advance(s: Staged) -> None:
    for c in CITIES:
        s.engine.confirm_list(admin(c))


def _appealed_by(s: Staged, a: str) -> bool:
    _, appeals = s.engine.appeals(LEAD)
    return [(x.project_id, x.filed_by, x.against_stage) for x in appeals] == [(_hefei(s), a, "confirmation")]


def _overridden_by(s: Staged, a: str) -> bool:
    _, overrides = s.engine.overrides(LEAD)
    return [(o.rule, o.city, o.by) for o in overrides] == [("min_recommendations", "hefei", a)]


# action -> (checkpoint, clock, preparation, the action itself, what success looks like)
Action = Callable[[Staged, str], object]
ACTIONS: dict[str, tuple[str, tuple[int, int], Callable[[Staged], None] | None, Action, Action]] = {
    "submit": (
        "collection",
        (1, 20),
        None,
        lambda s, a: s.engine.submit(a, make_app("hefei", 901)),
        lambda s, a: s.engine.projects(LEAD, state="submitted")[-1].applicant == a,
    ),
    "accept": (
        "collection",
        (1, 20),
        None,
        lambda s, a: s.engine.fire(a, s.ids["hefei"][0], "accept"),
        lambda s, a: s.engine.project(LEAD, s.ids["hefei"][0])[0].state == "in_library",
    ),
    "withdraw_application": (
        "collection",
        (1, 20),
        None,
        lambda s, a: s.engine.fire(a, s.ids["hefei"][0], "withdraw_application"),
        lambda s, a: s.engine.project(LEAD, s.ids["hefei"][0])[0].state == "withdrawn",
    ),
    "attach": (
        "collection",
        (1, 20),
        None,
        lambda s, a: s.engine.attach(a, s.ids["hefei"][0], "business_license", "营业执照.pdf", PDF),
        lambda s, a: [x.uploaded_by for x in s.engine.attachments(LEAD, s.ids["hefei"][0])] == [a],
    ),
    "reject": (
        "collection",
        (1, 20),
        None,
        lambda s, a: s.engine.fire(a, s.ids["hefei"][0], "reject", reason="材料不全"),
        lambda s, a: s.engine.project(LEAD, s.ids["hefei"][0])[0].state == "rejected",
    ),
    "review": (
        "municipal_review",
        (3, 10),
        None,
        lambda s, a: s.engine.fire(a, _hefei(s), "review", result="demonstration", method="onsite"),
        lambda s, a: s.engine.project(LEAD, _hefei(s))[0].state == "municipal_demonstration",
    ),
    "recommend": (
        "recommendation",
        (5, 5),
        None,
        lambda s, a: s.engine.fire(a, _hefei(s), "recommend"),
        lambda s, a: s.engine.project(LEAD, _hefei(s))[0].state == "recommended",
    ),
    "withdraw": (
        "recommendation",
        (5, 6),
        _prepare_withdraw,
        lambda s, a: s.engine.fire(a, _hefei(s), "withdraw", reason="重新遴选"),
        lambda s, a: s.engine.project(LEAD, _hefei(s))[0].state == "municipal_demonstration",
    ),
    "score": (
        "joint_scoring",
        (5, 12),
        None,
        lambda s, a: s.engine.score(a, _hefei(s), SHEET_MID),
        lambda s, a: [(x.city, x.total) for x in s.engine.project(LEAD, _hefei(s))[1]] == [(CITY[a], 78)],
    ),
    "propose": (
        "confirmation",
        (5, 20),
        None,
        lambda s, a: s.engine.propose_list(a),
        lambda s, a: s.engine.status(LEAD)["list"] == {"version": 1, "status": "proposed"},
    ),
    "confirm": (
        "proposed",
        (6, 1),
        None,
        lambda s, a: s.engine.confirm_list(a),
        lambda s, a: s.engine.status(LEAD)["cities"][CITIES.index(CITY[a])]["confirmed"],
    ),
    "object": (
        "proposed",
        (6, 1),
        None,
        lambda s, a: s.engine.confirm_list(a, decision="object", reason="得分汇总有误"),
        lambda s, a: s.engine.status(LEAD)["list"] == {"version": 1, "status": "objected"},
    ),
    "publish": (
        "confirmed",
        (6, 12),
        None,
        lambda s, a: s.engine.publish(a),
        lambda s, a: s.engine.status(LEAD)["list"] == {"version": 1, "status": "published"},
    ),
    "award": (
        "published",
        (6, 20),
        None,
        lambda s, a: s.engine.fire(a, s.high[0], "award"),
        lambda s, a: s.engine.project(LEAD, s.high[0])[0].state == "awarded",
    ),
    "advance": (
        "proposed",
        (6, 10),
        _prepare_advance,
        lambda s, a: s.engine.advance(a),
        lambda s, a: s.engine.get_cycle(None).stage == "publication",
    ),
    # at "proposed" the key library is visible to every city's admin and scorer, so only the
    # other city's applicant is turned away as "not found"; the appeal is against the list place
    "appeal": (
        "proposed",
        (6, 1),
        None,
        lambda s, a: s.engine.file_appeal(a, _hefei(s), "评分录入有误，申请复核"),
        _appealed_by,
    ),
    "override": (
        "recommendation",
        (5, 11),
        None,
        lambda s, a: s.engine.override(a, "min_recommendations", "合肥市仅评出3个示范项目", city="hefei"),
        _overridden_by,
    ),
    "add_user": (
        "collection",
        (1, 20),
        None,
        lambda s, a: s.engine.add_user(a, "hefei-scorer-2", "scorer", "hefei"),
        lambda s, a: "hefei-scorer-2" in {u.name for u in s.engine.users()},
    ),
    "open_cycle": (
        "collection",
        (1, 20),
        None,
        lambda s, a: s.engine.open_cycle(a, PROGRAM, YEAR + 1),
        lambda s, a: {c.id for c in s.engine.cycles()} == {"g60-2027", "g60-2028"},
    ),
}


def _expected_refusal(action: str, actor: str, cell: str) -> str:
    if cell == "C":
        return f"{actor} acts for {CITY[actor]}; this project belongs to hefei"
    if action == "add_user":
        return f"{actor} is {ROLE[actor]}; users are added by the lead"
    if action == "open_cycle":
        return f"{actor} is {ROLE[actor]}; cycles are opened by the lead"
    return f"{actor} is {ROLE[actor]}; {action} is done by {DONE_BY[action]}"


OUTCOME = {"ok": "ok", "R": "refused", "C": "refused", "N": "not_found"}
CASES = [
    pytest.param(action, actor, cell, id=f"{action}-{actor}-{OUTCOME[cell]}")
    for action, row in GRID.items()
    for actor, cell in zip(ACTORS, row, strict=True)
]


@pytest.mark.parametrize(("action", "actor", "cell"), CASES)
def test_permission_table(at_stage, action, actor, cell):
    checkpoint, (month, day), prepare, act, succeeded = ACTIONS[action]
    s = at_stage(checkpoint)
    if prepare is not None:
        prepare(s)
    s.clock.set(sh(month, day))
    if cell == "ok":
        act(s, actor)
        assert succeeded(s, actor)
        return
    before = snapshot(s.store)
    if cell == "N":
        with pytest.raises(NotFound) as hidden:
            act(s, actor)
        assert hidden.value.exit_code == 5
        subject = (
            s.ids["hefei"][0]
            if action in ("accept", "reject", "withdraw_application")
            else s.high[0]
            if action == "award"
            else _hefei(s)
        )
        assert str(hidden.value) == f"No project {subject!r}."
        assert snapshot(s.store) == before
        return
    with pytest.raises(NotPermitted) as err:
        act(s, actor)
    assert err.value.exit_code == 4
    assert str(err.value).startswith("Not permitted to ")
    assert _expected_refusal(action, actor, cell) in str(err.value)
    assert snapshot(s.store) == before


def test_the_grid_covers_every_permission_of_the_program(programs):
    program = programs.get(PROGRAM)
    assert set(program.permissions) <= set(GRID)
    assert {cell for row in GRID.values() for cell in row} <= set(OUTCOME)
    for action, done_by in DONE_BY.items():
        assert " or ".join(program.permissions[action].roles) == done_by


def test_a_batch_with_one_other_city_project_is_refused_whole(at_stage):
    """Before joint scoring another city's project is not there for a city admin: the batch is
    refused as not found (not 'not permitted', which would say whose project it is)."""
    s = at_stage("collection")
    s.clock.set(sh(1, 20))
    before = snapshot(s.store)
    ids = [*s.ids["hefei"][:3], s.ids["jiaxing"][0]]
    with pytest.raises(NotFound) as err:
        s.engine.fire(admin("hefei"), ids, "accept")
    assert str(err.value) == f"No project {s.ids['jiaxing'][0]!r}."
    assert "jiaxing" not in str(err.value)
    assert snapshot(s.store) == before


def test_a_visible_other_city_project_is_refused_for_its_city(at_stage):
    """Once joint scoring has begun every city reads the key library, and may still act only on its own."""
    s = at_stage("joint_scoring")
    s.clock.set(sh(5, 12))
    before = snapshot(s.store)
    with pytest.raises(NotPermitted) as err:
        s.engine.fire(admin("jiaxing"), _hefei(s), "withdraw", reason="误推")
    assert "jiaxing-admin acts for jiaxing; this project belongs to hefei" in str(err.value)
    assert snapshot(s.store) == before


def test_nobody_fires_the_internal_place_trigger(at_stage):
    s = at_stage("confirmed")
    before = snapshot(s.store)
    with pytest.raises(NotPermitted) as err:
        s.engine.fire(LEAD, s.high[0], "place", category="demonstration")
    assert "place is not an action of this program" in str(err.value)
    assert snapshot(s.store) == before


# ------------------------------------------------------------------------------ users and bootstrap


def test_the_first_user_must_be_the_lead(engine, store):
    before = snapshot(store)
    with pytest.raises(NotPermitted) as err:
        engine.add_user(None, "hefei-admin", "city-admin", "hefei")
    assert "the first user must be the lead (--role lead)" in str(err.value)
    assert snapshot(store) == before
    engine.add_user(None, LEAD, "lead", "songjiang")
    assert [u.name for u in engine.users()] == [LEAD]


def test_after_bootstrap_an_anonymous_user_cannot_add_users(engine, store):
    engine.add_user(None, LEAD, "lead", "songjiang")
    before = snapshot(store)
    with pytest.raises(NotPermitted) as err:
        engine.add_user(None, "hefei-admin", "city-admin", "hefei")
    assert "no acting user" in str(err.value)
    with pytest.raises(NotFound) as err:
        engine.add_user("ghost", "hefei-admin", "city-admin", "hefei")
    assert err.value.exit_code == 5
    assert "No user 'ghost'" in str(err.value)
    assert snapshot(store) == before


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda e, who: e.projects(who), id="projects"),
        pytest.param(lambda e, who: e.project(who, 1), id="project"),
        pytest.param(lambda e, who: e.status(who), id="status"),
        pytest.param(lambda e, who: e.submit(who, make_app("hefei", 950)), id="submit"),
        pytest.param(lambda e, who: e.fire(who, 1, "accept"), id="accept"),
        pytest.param(lambda e, who: e.advance(who), id="advance"),
        pytest.param(lambda e, who: e.open_cycle(who, PROGRAM, YEAR + 1), id="open_cycle"),
        pytest.param(lambda e, who: e.propose_list(who), id="propose"),
        pytest.param(lambda e, who: e.confirm_list(who), id="confirm"),
    ],
)
def test_unknown_user_is_not_found_and_no_user_is_not_permitted(at_stage, call):
    s = at_stage("collection")
    s.clock.set(sh(1, 20))
    before = snapshot(s.store)
    with pytest.raises(NotFound) as err:
        call(s.engine, "ghost")
    assert "No user 'ghost'" in str(err.value)
    with pytest.raises(NotPermitted) as err:
        call(s.engine, None)
    assert "no acting user; pass --as NAME or set EVALFLOW_USER" in str(err.value)
    assert snapshot(s.store) == before


# ------------------------------------------------------------------------------ reads


def test_an_applicant_sees_only_their_own_projects(at_stage):
    s = at_stage("collection")
    s.clock.set(sh(1, 20))
    s.engine.add_user(LEAD, "hefei-applicant-2", "applicant", "hefei")
    other = s.engine.submit("hefei-applicant-2", make_app("hefei", 902)).id
    by_admin = s.engine.submit(admin("hefei"), make_app("hefei", 903)).id

    assert [p.id for p in s.engine.projects(applicant("hefei"))] == s.ids["hefei"]
    assert [p.id for p in s.engine.projects("hefei-applicant-2")] == [other]
    assert [p.id for p in s.engine.projects(applicant("jiaxing"))] == s.ids["jiaxing"]
    assert [p.id for p in s.engine.projects(admin("hefei"))] == [*s.ids["hefei"], other, by_admin]
    with pytest.raises(NotFound) as err:
        s.engine.project(applicant("hefei"), other)
    assert f"No project {other}" in str(err.value)
    project, sheets, history = s.engine.project("hefei-applicant-2", other)
    assert project.applicant == "hefei-applicant-2" and sheets == []
    assert [h.action for h in history] == ["submit"]


@pytest.mark.parametrize(
    ("checkpoint", "visible"),
    [
        ("collection", False),
        ("municipal_review", False),
        ("recommendation", False),
        ("joint_scoring", True),
        ("confirmation", True),
        ("published", True),
    ],
)
def test_another_citys_admin_sees_hefei_only_from_the_joint_stage(at_stage, checkpoint, visible):
    s = at_stage(checkpoint)
    pid = s.demos["hefei"][0]
    seen = {p.city for p in s.engine.projects(admin("jiaxing"))}
    assert seen == ({"jiaxing", *(c for c in CITIES if c != "jiaxing")} if visible else {"jiaxing"})
    if visible:
        assert s.engine.project(admin("jiaxing"), pid)[0].id == pid
    else:
        with pytest.raises(NotFound) as err:
            s.engine.project(admin("jiaxing"), pid)
        assert err.value.exit_code == 5
        assert f"No project {pid}" in str(err.value)


def test_before_the_joint_stage_a_city_sees_only_its_own_projects(at_stage):
    s = at_stage("municipal_review")
    for c in CITIES:
        assert [p.id for p in s.engine.projects(admin(c))] == s.ids[c]
    assert len(s.engine.projects(LEAD)) == 54


def test_a_scorer_does_not_see_its_citys_waiting_submissions(at_stage):
    s = at_stage("collection")
    assert s.engine.projects(scorer("hefei")) == []
    assert [p.id for p in s.engine.projects(admin("hefei"))] == s.ids["hefei"]
    with pytest.raises(NotFound):
        s.engine.project(scorer("hefei"), s.ids["hefei"][0])


def test_score_sheets_are_shown_per_city_except_to_the_lead(at_stage):
    s = at_stage("confirmation")
    pid = s.demos["hefei"][0]
    assert sorted(x.city for x in s.engine.project(LEAD, pid)[1]) == sorted(CITIES)
    assert [x.city for x in s.engine.project(admin("jiaxing"), pid)[1]] == ["jiaxing"]
    assert [x.city for x in s.engine.project(scorer("wuhu"), pid)[1]] == ["wuhu"]
    assert s.engine.project(applicant("hefei"), pid)[1] == []


def test_only_the_lead_reads_the_cycle_history(at_stage):
    s = at_stage("collection")
    assert [h.action for h in s.engine.history(LEAD)].count("submit") == 54
    with pytest.raises(NotPermitted) as err:
        s.engine.history(admin("hefei"))
    assert str(err.value) == (
        "Not permitted to read the history of cycle g60-2027: the cycle's history is read by the lead."
    )


def test_a_refused_action_by_a_permitted_user_is_a_rule_not_a_permission(at_stage):
    """The table's 'ok' cells are real permissions: at the wrong stage the same user gets a rule."""
    s = at_stage("collection")
    s.clock.set(sh(1, 20))
    with pytest.raises(RuleRefused) as err:
        s.engine.fire(admin("hefei"), s.ids["hefei"][0], "review", result="demonstration", method="onsite")
    assert "stage_window" in err.value.rules


def test_an_applicant_appeals_only_their_own_project_and_does_not_see_the_others(at_stage):
    """Another hefei applicant cannot see the project, so cannot appeal it: not found, not 'not permitted'."""
    s = at_stage("proposed")
    s.clock.set(sh(6, 1))
    s.engine.add_user(LEAD, "hefei-applicant-2", "applicant", "hefei")
    before = snapshot(s.store)
    with pytest.raises(NotFound) as err:
        s.engine.file_appeal("hefei-applicant-2", _hefei(s), "复核")
    assert str(err.value) == f"No project {_hefei(s)!r}."
    assert snapshot(s.store) == before
