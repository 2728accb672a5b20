"""The loader's `[appeals]` and `[overrides]` sections, and the `reopen` edges it generates.

Like every other section, a mistake is reported with the others, as one ProgramInvalid (exit
code 8) pointing at the entry; a value of the wrong TOML type is a reported problem, never a
traceback.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from policies.permissions import Permission
from tests.workflow.test_program import PROGRAM_ID, SHIPPED, problems_of, shipped_data
from workflow.errors import ProgramInvalid
from workflow.program import REOPEN, Program, ProgramRegistry, build_program, to_mermaid

REOPENABLE = {
    "collection": "submitted",
    "municipal_review": "in_library",
    "recommendation": "municipal_demonstration",
    "joint_scoring": "recommended",
    "confirmation": "recommended",
}


@pytest.fixture(scope="module")
def program() -> Program:
    return ProgramRegistry().get(PROGRAM_ID)


# -- the shipped program -------------------------------------------------------------------------------------


def test_the_g60_program_takes_appeals(program):
    rules = program.appeals
    assert rules is not None
    assert rules.after_publication == timedelta(days=7)
    assert rules.decided_by == {
        "collection": Permission(("city-admin",), own_city=True),
        "municipal_review": Permission(("city-admin",), own_city=True),
        "confirmation": Permission(("lead",)),
        "publication": Permission(("lead",)),
    }
    assert rules.within == {}


def test_the_g60_program_marks_two_rules_overridable(program):
    assert program.overridable == ("min_recommendations", "all_sheets_in")
    assert program.permissions["override"] == Permission(("lead",))
    assert program.permissions["appeal"] == Permission(("applicant", "city-admin"), own_city=True)


def test_the_results_each_stage_makes(program):
    """Which stage made the result a project holds: what an appeal is against."""
    assert program.result_stage("rejected", False).id == "collection"
    for state in ("municipal_demonstration", "municipal_excellent", "municipal_none"):
        assert program.result_stage(state, False).id == "municipal_review"
    assert program.result_stage("recommended", True).id == "confirmation"
    assert program.result_stage("recommended", False) is None
    assert program.result_stage("submitted", False) is None
    assert program.result_stage("not_listed", False).id == "publication"


# -- reopen edges -----------------------------------------------------------------------------------------------


def test_reopen_edges_lead_back_to_each_stage_with_a_waiting_state(program):
    reopen = [spec for spec in program.transition_specs if spec.trigger == REOPEN]
    assert {spec.when["to"]: spec.dest for spec in reopen} == REOPENABLE
    assert len(reopen) == len(REOPENABLE)
    assert [s.id for s in program.reopenable] == list(REOPENABLE)
    assert "publication" not in {spec.when["to"] for spec in reopen}
    # from every state a project can be in, never from "new"
    for spec in reopen:
        assert set(spec.source) == set(program.states) - {"new"}


def test_reopened_projects_that_must_be_decided_again(program):
    """A project reopened to collection or municipal review must be decided before a new list."""
    assert program.undecided_states == ("submitted", "in_library")


@pytest.mark.parametrize(
    ("state", "to", "after"),
    [
        ("awarded", "collection", "submitted"),
        ("listed_excellent", "municipal_review", "in_library"),
        ("recommended", "recommendation", "municipal_demonstration"),
        ("not_listed", "joint_scoring", "recommended"),
        ("recommended", "confirmation", "recommended"),
        ("rejected", "collection", "submitted"),
    ],
)
def test_the_machine_reopens_a_project_to_the_chosen_stage(program, state, to, after):
    model = SimpleNamespace(state=state)
    assert program.fire(model, REOPEN, {"to": to})
    assert model.state == after


def test_the_machine_cannot_reopen_to_publication_or_an_unknown_stage(program):
    for to in ("publication", "lottery"):
        model = SimpleNamespace(state="listed_demonstration")
        assert not program.fire(model, REOPEN, {"to": to})
        assert model.state == "listed_demonstration"


def test_reopen_is_no_user_action(program):
    """The engine fires reopen when an appeal is upheld; no permission, no stage owns it."""
    assert REOPEN not in program.permissions
    assert REOPEN not in program.stage_of_action


def test_mermaid_draws_no_reopen_arrows_but_notes(program):
    text = to_mermaid(program)
    arrows = [line for line in text.splitlines() if "-->" in line]
    assert arrows and not any("reopen" in line for line in arrows)
    notes = [line.strip() for line in text.splitlines() if "upheld appeal" in line]
    assert notes == [
        f"note left of {state}: an upheld appeal may reopen a project here ({stage})"
        for stage, state in REOPENABLE.items()
    ]
    assert "(publication)" not in "\n".join(notes)


# -- problems ---------------------------------------------------------------------------------------------------


def test_every_appeal_and_override_problem_is_reported_at_once():
    data = shipped_data()
    data["appeals"]["after_publication"] = "a week"
    data["appeals"]["stages"]["lottery"] = {"decided_by": {"roles": ["lead"]}}
    data["appeals"]["stages"]["collection"]["decided_by"] = {"roles": ["judge"], "own_city": True}
    data["appeals"]["stages"]["municipal_review"]["within"] = "30 days"
    del data["appeals"]["stages"]["publication"]
    data["overrides"]["rules"].append("everyone_happy")
    err = problems_of(data)
    assert err.exit_code == 8
    assert str(err).startswith(f"Invalid program {PROGRAM_ID}: ")
    assert list(err.problems) == [
        "[appeals] after_publication: 'a week' is not a duration like '7d', '12h' or '30m'",
        "[appeals.stages.collection] decided_by needs known roles (got ['judge'])",
        "[appeals.stages.municipal_review] within: '30 days' is not a duration like '7d', '12h' or '30m'",
        "[appeals.stages.lottery] is not a stage of this program",
        "[appeals] nobody decides appeals against the results of: publication",
        "[overrides] rules: unknown policy 'everyone_happy'",
    ]


PROBLEMS = [
    (
        "unknown_stage",
        lambda d: d["appeals"]["stages"].update(lottery={"decided_by": {"roles": ["lead"]}}),
        "[appeals.stages.lottery] is not a stage of this program",
    ),
    (
        "bad_after_publication",
        lambda d: d["appeals"].update(after_publication="7"),
        "[appeals] after_publication: '7' is not a duration like '7d', '12h' or '30m'",
    ),
    (
        "after_publication_superscript",  # ('²' is a digit to str.isdigit, not a number to int())
        lambda d: d["appeals"].update(after_publication="²d"),
        "[appeals] after_publication: '²d' is not a duration like '7d', '12h' or '30m'",
    ),
    (
        "after_publication_not_text",
        lambda d: d["appeals"].update(after_publication=7),
        "[appeals] after_publication: 7 is not a duration like '7d', '12h' or '30m'",
    ),
    (
        "bad_within",
        lambda d: d["appeals"]["stages"]["confirmation"].update(within="1w"),
        "[appeals.stages.confirmation] within: '1w' is not a duration like '7d', '12h' or '30m'",
    ),
    (
        "unknown_role",
        lambda d: d["appeals"]["stages"]["confirmation"].update(decided_by={"roles": ["lead", "mayor"]}),
        "[appeals.stages.confirmation] decided_by needs known roles (got ['lead', 'mayor'])",
    ),
    (
        "no_roles",
        lambda d: d["appeals"]["stages"]["publication"].update(decided_by={"roles": []}),
        "[appeals.stages.publication] decided_by needs known roles (got [])",
    ),
    (
        "stage_not_a_table",
        lambda d: d["appeals"]["stages"].update(collection="city-admin"),
        "[appeals.stages.collection] must be a table",
        # and so nobody decides collection's appeals
        "[appeals] nobody decides appeals against the results of: collection",
    ),
    (
        "nobody_decides",
        lambda d: [d["appeals"]["stages"].pop(s) for s in ("collection", "confirmation")],
        "[appeals] nobody decides appeals against the results of: collection, confirmation",
    ),
    (
        "decided_by_missing",
        lambda d: d["appeals"]["stages"]["municipal_review"].pop("decided_by"),
        "[appeals] nobody decides appeals against the results of: municipal_review",
    ),
    (
        "empty_appeals",
        lambda d: d.update(appeals={}),
        "[appeals] nobody decides appeals against the results of: collection, municipal_review, confirmation, "
        "publication",
    ),
    (
        "unknown_overridable_rule",
        lambda d: d["overrides"].update(rules=["min_recommendations", "bribery"]),
        "[overrides] rules: unknown policy 'bribery'",
    ),
    (
        "appeal_permission_without_appeals",
        lambda d: d.pop("appeals"),
        "[permissions] 'appeal' is not an action of this program",
    ),
    (
        "override_permission_without_overrides",
        lambda d: d.pop("overrides"),
        "[permissions] 'override' is not an action of this program",
    ),
    ("nobody_may_appeal", lambda d: d["permissions"].pop("appeal"), "[permissions] nobody may do: appeal"),
    ("nobody_may_override", lambda d: d["permissions"].pop("override"), "[permissions] nobody may do: override"),
    ("appeals_not_a_table", lambda d: d.update(appeals="7d"), "[appeals] must be a table, not str"),
    ("overrides_not_a_table", lambda d: d.update(overrides=["all_sheets_in"]), "[overrides] must be a table, not list"),
]


@pytest.mark.parametrize(("mutate", "expected"), [(p[1], p[2:]) for p in PROBLEMS], ids=[p[0] for p in PROBLEMS])
def test_each_appeal_and_override_problem_is_named(mutate, expected):
    """Each mistake is its own problem, and the only one (the rest of the file is the shipped one)."""
    data = shipped_data()
    mutate(data)
    err = problems_of(data)
    assert err.exit_code == 8
    assert err.problems == expected


def test_a_program_file_with_a_bad_appeals_section_names_the_file(tmp_path):
    text = SHIPPED.read_text(encoding="utf-8").replace('after_publication = "7d"', 'after_publication = "one week"')
    path = tmp_path / f"{PROGRAM_ID}.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProgramInvalid) as err:
        ProgramRegistry([tmp_path]).get(PROGRAM_ID)
    assert err.value.exit_code == 8
    assert str(err.value) == (
        f"Invalid program file {path}: [appeals] after_publication: 'one week' is not a duration like "
        "'7d', '12h' or '30m'."
    )


def test_a_program_without_appeals_or_overrides_needs_no_permission_for_them():
    data = shipped_data()
    for section, action in (("appeals", "appeal"), ("overrides", "override")):
        data.pop(section)
        data["permissions"].pop(action)
    built = build_program(data)
    assert built.appeals is None
    assert built.overridable == ()
    assert "appeal" not in built.permissions and "override" not in built.permissions


def test_within_and_after_publication_are_read():
    data = shipped_data()
    data["appeals"]["after_publication"] = "12h"
    data["appeals"]["stages"]["collection"]["within"] = "30d"
    data["appeals"]["stages"]["confirmation"]["within"] = "90m"
    rules = build_program(data).appeals
    assert rules.after_publication == timedelta(hours=12)
    assert rules.within == {"collection": timedelta(days=30), "confirmation": timedelta(minutes=90)}


def test_a_stage_with_no_appealable_results_needs_no_decider():
    """recommendation and joint_scoring make no appealable result: nobody need decide appeals there."""
    data = shipped_data()
    assert not {"recommendation", "joint_scoring"} & set(data["appeals"]["stages"])
    assert build_program(data).appeals is not None


# -- wrongly typed entries: reported, not crashed on ----------------------------------------------------------

MISTYPED = [
    (
        "decided_by_text",
        lambda d: d["appeals"]["stages"]["confirmation"].update(decided_by="lead"),
        "confirmation",
    ),
    ("stages_text", lambda d: d["appeals"].update(stages="collection"), "stages"),
]


@pytest.mark.parametrize(("mutate", "named"), [m[1:] for m in MISTYPED], ids=[m[0] for m in MISTYPED])
def test_mistyped_appeal_entries_are_reported_not_crashed_on(mutate, named):
    data = shipped_data()
    mutate(data)
    with pytest.raises(ProgramInvalid) as err:
        build_program(data)
    assert any(named in p for p in err.value.problems), err.value.problems


def test_a_single_overridable_rule_instead_of_a_list():
    """As for [guards] and close_when (test_program.py): accepted, or reported once."""
    data = shipped_data()
    data["overrides"]["rules"] = "min_recommendations"
    try:
        built = build_program(data)
    except ProgramInvalid as err:
        assert len(err.problems) == 1, err.problems
    else:
        assert built.overridable == ("min_recommendations",)
