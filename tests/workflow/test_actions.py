"""Actions declared as program data: loading checks every declaration against the machine, and a
request is checked against its action (labels for ids, typed values, every problem named)."""

from __future__ import annotations

import pytest

from workflow.actions import Action, Choice, Edge, Param, read_actions

REVIEW_EDGES = [Edge("review", {"result": r}) for r in ("demonstration", "excellent", "none")]


def review_spec(**change) -> dict:
    spec = {
        "zh": "市级评审",
        "en": "Municipal review",
        "params": [
            {
                "id": "result",
                "kind": "choice",
                "zh": "评审结果",
                "en": "Result",
                "required": True,
                "choices": [
                    {"value": "demonstration", "zh": "示范项目", "en": "demonstration"},
                    {"value": "excellent", "zh": "优秀项目", "en": "excellent"},
                    {"value": "none", "zh": "未入选", "en": "not selected"},
                ],
            },
            {"id": "visited", "kind": "date", "zh": "走访日期", "en": "Visited on"},
        ],
    }
    spec.update(change)
    return spec


def parse(actions: dict, edges=None, cycle=(), **kw):
    """The actions read, with their problems in English (as the tests compare them)."""
    out, problems = read_actions(actions, edges if edges is not None else {"review": REVIEW_EDGES}, cycle, **kw)
    return out, [str(p) for p in problems]


def test_a_complete_declaration_loads_with_its_selector():
    out, problems = parse({"review": review_spec()})
    assert problems == []
    review = out["review"]
    assert review.selectors == ("result",)
    assert [p.id for p in review.params] == ["result", "visited"]
    # the engine's own actions get their labels without a declaration
    assert out["advance"].zh and out["appeal"].scope == "project"


def test_loading_reports_every_problem_at_once():
    spec = review_spec()
    spec["params"][0]["choices"] = [
        {"value": "demonstration", "zh": "示范项目", "en": "demonstration"},
        {"value": "excellent", "zh": "优秀项目", "en": "excellent"},
        {"value": "honourable", "zh": "表扬", "en": "honourable mention"},
    ]
    spec["params"][1]["kind"] = "datetime"
    _, problems = parse({"review": spec, "recommend": {"zh": "推荐", "en": "Recommend"}})
    assert (
        "actions.review.params[2] (visited): unknown kind 'datetime' "
        "(kinds: choice, text, long_text, date, integer, number, yes_no)" in problems
    )
    assert (
        "actions.recommend: the program has no action 'recommend' (its actions: review, advance, appeal, override)"
        in problems
    )
    # the review did not load (its parameter is broken), so its selectors are not judged; fix the kind:
    spec["params"][1]["kind"] = "date"
    _, problems = parse({"review": spec})
    assert problems == [
        "actions.review.params (result): the choice 'honourable' selects no transition",
        "actions.review.params (result): no choice reaches the transition for 'none'",
    ]


def test_every_action_of_the_machine_is_declared_with_both_labels():
    _, problems = parse({}, edges={"review": REVIEW_EDGES, "accept": [Edge("accept")]}, cycle=("propose",))
    assert problems == [
        "actions: 'review' is not declared (every action a user can take needs its labels)",
        "actions: 'accept' is not declared (every action a user can take needs its labels)",
        "actions: 'propose' is not declared (every action a user can take needs its labels)",
    ]
    _, problems = parse({"review": review_spec(en=" ")})
    assert problems == ['actions.review: needs its English label (en = "…")']


def test_a_selector_must_be_a_required_choice():
    spec = review_spec()
    spec["params"][0]["required"] = False
    _, problems = parse({"review": spec})
    assert problems == ["actions.review.params (result): decides where the project goes, so it is a required choice"]
    spec["params"] = spec["params"][1:]
    _, problems = parse({"review": spec})
    assert problems == [
        "actions.review: needs a required choice parameter 'result', which decides where the project goes"
    ]


def test_unknown_keys_and_reserved_names_are_refused():
    spec = review_spec(label="x")
    spec["params"][1]["requird"] = True
    spec["params"].append({"id": "reason", "kind": "text", "zh": "理由", "en": "Reason"})
    _, problems = parse({"review": spec})
    assert "actions.review: unknown key 'label' (keys: bulk, button, button_en, en, params, reason, zh)" in problems
    assert any(p.startswith("actions.review.params[2] (visited): unknown key 'requird'") for p in problems)
    assert "actions.review.params[3]: 'reason' is the action's own argument, not a parameter's name" in problems


def test_a_deadline_and_a_form_come_from_the_stage_kind():
    edges = {"order": [Edge("order")], "submit": [Edge("submit")]}
    actions = {
        "order": {
            "zh": "责令整改",
            "en": "Order",
            "params": [{"id": "deadline", "kind": "text", "zh": "期限", "en": "By"}],
        },
        "submit": {"zh": "申报", "en": "Apply", "params": [{"id": "x", "zh": "x", "en": "x"}]},
    }
    _, problems = parse(actions, edges=edges, required_params={"order": ("deadline", "date")}, uses={"submit": "form"})
    assert problems == [
        "actions.order: needs a required date parameter 'deadline'",
        "actions.submit: takes its input from the program's form; it declares no parameters",
    ]
    del actions["submit"]["params"]
    out, _ = parse(actions, edges=edges, uses={"submit": "form"})
    assert out["submit"].uses == "form"


GRADE = Param(
    "grade",
    "choice",
    "考核等级",
    "Grade",
    True,
    (Choice("excellent", "优秀", "Excellent grade"), Choice("qualified", "合格", "qualified")),
)
ASSESS = Action(
    "assess",
    "年度考核",
    "Assess",
    params=(
        GRADE,
        Param("deadline", "date", "期限", "Deadline"),
        Param("members", "integer", "人数", "Members", minimum=0, maximum=500),
        Param("share", "number", "比例", "Share"),
        Param("grave", "yes_no", "重大问题", "Major problems"),
        Param("note", "text", "说明", "Note"),
    ),
)


@pytest.mark.parametrize(
    ("request_", "clean"),
    [
        ({"grade": "excellent"}, {"grade": "excellent"}),
        # a parameter and a choice may be named by their Chinese or English labels
        ({"考核等级": "合格"}, {"grade": "qualified"}),
        ({"Grade": "Excellent grade"}, {"grade": "excellent"}),
        (
            {"grade": "优秀", "期限": "2029-03-31"},
            {"grade": "excellent", "deadline": "2029-03-31"},
        ),
        (
            {"grade": "优秀", "members": "12", "share": "0.7", "grave": "是"},
            {"grade": "excellent", "members": 12, "share": 0.7, "grave": True},
        ),
        ({"grade": "优秀", "grave": "false", "note": 42}, {"grade": "excellent", "grave": False, "note": "42"}),
        # an empty field is a parameter not given
        ({"grade": "优秀", "deadline": "", "note": "  "}, {"grade": "excellent"}),
    ],
    ids=["ids", "zh-labels", "en-labels", "date", "typed", "false-and-text", "empty"],
)
def test_a_request_is_kept_with_ids_and_typed_values(request_, clean):
    assert ASSESS.check(request_) == (clean, [])


@pytest.mark.parametrize(
    ("request_", "problem"),
    [
        (
            {"结果": "通过", "grade": "优秀"},
            "结果: not a parameter of assess "
            "(its parameters: grade 考核等级, deadline 期限, members 人数, share 比例, grave 重大问题, note 说明)",
        ),
        ({}, "grade: required (考核等级)"),
        ({"grade": "good"}, "grade: 'good': expected one of excellent (优秀), qualified (合格)"),
        ({"grade": "优秀", "deadline": "31/03/2029"}, "deadline: '31/03/2029': expected a date as YYYY-MM-DD"),
        ({"grade": "优秀", "members": "1e308"}, "members: '1e308': expected a whole number"),
        ({"grade": "优秀", "members": 501}, "members: 501: at most 500, not 501"),
        ({"grade": "优秀", "members": True}, "members: True: expected a whole number"),
        ({"grade": "优秀", "share": "nan"}, "share: 'nan': expected a number"),
        ({"grade": "优秀", "members": "+-5"}, "members: '+-5': expected a whole number"),
        ({"grade": "优秀", "members": "١٢"}, "members: '١٢': expected a whole number"),
        ({"grade": "优秀", "share": "1_000"}, "share: '1_000': expected a number"),
        ({"grade": "优秀", "share": "1e400"}, "share: '1e400': expected a number"),
        ({"grade": "优秀", "grave": "maybe"}, "grave: 'maybe': expected yes or no (true/false)"),
        ({"grade": "优秀", "note": "x" * 2001}, "note: '" + "x" * 2001 + "': at most 2000 characters, not 2001"),
        ({"grade": "优秀", "考核等级": "合格"}, "grade: given twice"),
    ],
    ids=[
        "unknown",
        "required",
        "choice",
        "date",
        "huge",
        "above",
        "bool",
        "nan",
        "sign-twice",
        "other-digits",
        "underscore",
        "overflow",
        "yes-no",
        "long",
        "twice",
    ],  # fmt: skip
)
def test_a_bad_request_names_each_problem(request_, problem):
    _, problems = ASSESS.check(request_)
    assert [p.render("en") for p in problems] == [problem]


def test_an_action_without_parameters_says_so():
    _, problems = Action("award", "授牌", "Award").check({"grade": "x"})
    assert [p.render("en") for p in problems] == ["grade: not a parameter of award (it takes none)"]


def test_labels_and_schema_follow_the_declaration():
    assert ASSESS.shown({"note": "n", "grade": "qualified", "grave": True}) == [
        ("考核等级", "合格"),
        ("重大问题", "是"),
        ("说明", "n"),
    ]
    assert ASSESS.shown({"grade": "qualified"}, "en") == [("Grade", "qualified")]
    schema = ASSESS.schema()
    assert schema["required"] == ["grade"] and schema["additionalProperties"] is False
    assert schema["properties"]["grade"]["enum"] == ["excellent", "qualified"]
    assert schema["properties"]["deadline"] == {
        "title": "Deadline",
        "x-title-zh": "期限",
        "type": "string",
        "format": "date",
    }
    assert schema["properties"]["members"]["maximum"] == 500


def test_a_yes_no_cannot_be_required_and_a_reason_may_be():
    spec = review_spec()
    spec["params"][1] = {"id": "visited", "kind": "yes_no", "zh": "已走访", "en": "Visited", "required": True}
    _, problems = parse({"review": spec})
    assert problems == [
        "actions.review.params[2] (visited): a yes/no is answered by ticking it or not, so it cannot be required"
    ]
    out, _ = parse({"review": review_spec(reason="required")})
    assert [p.render("en") for p in out["review"].check_reason("  ")] == ["reason: required (市级评审理由)"]
    assert out["review"].check_reason("走访核实") == []


def test_a_parameter_may_be_written_on_the_application_at_a_path_of_keys():
    spec = review_spec()
    spec["params"][1]["application"] = "review.visited_on"
    out, problems = parse({"review": spec})
    assert problems == []
    assert out["review"].params[1].application == ("review", "visited_on")
    assert out["review"].params[1].as_dict()["application"] == "review.visited_on"
    for bad in ("review..visited", "review.1st", 3):
        spec["params"][1]["application"] = bad
        _, problems = parse({"review": spec})
        assert problems == [
            "actions.review.params[2] (visited).application: expected the keys of the application it is"
            " written to, as a.b"
        ]


def test_only_an_action_that_asks_nothing_is_taken_in_bulk():
    edges = {"review": REVIEW_EDGES, "recommend": [Edge("recommend")]}
    out, problems = parse(
        {"review": review_spec(), "recommend": {"zh": "推荐", "en": "Recommend", "reason": "none", "bulk": True}},
        edges,
    )
    assert problems == [] and out["recommend"].bulk and not out["review"].bulk
    _, problems = parse(
        {"review": review_spec(bulk=True), "recommend": {"zh": "推荐", "en": "R", "bulk": "yes"}}, edges
    )
    assert problems == [
        'actions.review: only a project action that asks nothing (no parameters, reason = "none") is taken in bulk',
        "actions.recommend.bulk: expected true or false",
    ]
