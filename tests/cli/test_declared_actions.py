"""An action's parameters as its program declares them, through the command line and the engine's
one door: named in Chinese or by id, typed by their kind, and every problem refused with the rule
``parameters`` beside the action's other rules, leaving the database as it was."""

from __future__ import annotations

import json

from tests.cli.test_pioneer_cli import UNIT, Bureau, application, bureau  # noqa: F401  (the fixture)


def test_a_parameter_and_a_choice_may_be_named_in_chinese(bureau: Bureau) -> None:  # noqa: F811
    b = bureau
    b.submit("2027-01-10T09:00", application(UNIT))
    out = b("wg", "2027-03-10T09:00", "project", "act", "evaluate", "1", "-p", "评审结果=通过")
    assert "now evaluated" in out
    [entry] = [
        e
        for e in json.loads(b("lead", "2027-03-10T09:00", "--json", "project", "history", "1"))
        if e["action"] == "evaluate"
    ]
    assert entry["data"]["result"] == "pass"  # kept by its id, as if typed result=pass
    assert "评审结果" not in json.dumps(entry, ensure_ascii=False)


def test_a_value_that_is_not_a_choice_is_refused_with_the_choices_and_nothing_changes(bureau: Bureau) -> None:  # noqa: F811
    b = bureau
    b.submit("2027-01-10T09:00", application(UNIT))
    out = b.refused("wg", "2027-03-10T09:00", "project", "act", "evaluate", "1", "-p", "结果=通过")
    assert "Cannot evaluate project 1 (in state 'submitted'): [parameters] 结果: not a parameter of evaluate" in out
    assert "(its parameters: result 评审结果)" in out
    assert "[parameters] result: required (评审结果)" in out
    out = b.refused("wg", "2027-03-10T09:00", "project", "act", "evaluate", "1", "-p", "result=maybe")
    assert "[parameters] result: 'maybe': expected one of pass (通过), fail (不通过)" in out


def test_a_missing_deadline_is_named_by_the_declaration_and_by_its_rule(bureau: Bureau) -> None:  # noqa: F811
    b = bureau
    b.submit("2027-01-10T09:00", application(UNIT))
    b("wg", "2027-03-10T09:00", "project", "act", "evaluate", "1", "-p", "result=pass")
    b("lead", "2027-03-20T09:00", "project", "act", "decide", "1", "-p", "研究结果=同意")
    b("lead", "2027-03-25T09:00", "award", "1")
    out = b.refused("lead", "2028-06-01T09:00", "project", "act", "order_rectification", "1")
    assert "[parameters] deadline: required (整改期限)" in out
    assert "[deadline_given] an order to rectify needs a deadline (YYYY-MM-DD); given: none" in out
    out = b.refused(
        "lead", "2028-06-01T09:00", "project", "act", "order_rectification", "1", "-p", "整改期限=30/09/2028"
    )
    assert "[parameters] 整改期限: '30/09/2028': expected a date as YYYY-MM-DD" in out
    # a yes/no typed as 否 is no: the plaque is not removed at once for major problems
    out = b.refused(
        "lead", "2028-06-02T09:00", "project", "act", "remove", "1", "-p", "存在重大问题=否", "--reason", "x"
    )
    assert "[removal_due] a holder not under a rectification order is removed only for major problems" in out
    out = b(
        "lead", "2028-06-02T09:00", "project", "act", "remove", "1", "-p", "存在重大问题=是", "--reason", "重大问题"
    )
    assert "now removed" in out


def test_program_show_lists_each_action_with_its_labels_and_parameters() -> None:
    from click.testing import CliRunner

    from cli import main

    result = CliRunner().invoke(main, ["--json", "program", "show", "pioneer-brand"])
    assert result.exit_code == 0, result.output
    actions = {a["id"]: a for a in json.loads(result.stdout)["actions"]}
    # every action a user can take in the program, each with both labels
    assert set(actions) == {
        "submit", "evaluate", "decide", "award", "order_rectification", "restore", "remove", "progress",
        "advance", "appeal", "override",
    }  # fmt: skip
    assert all(a["zh"] and a["en"] for a in actions.values())
    assert actions["submit"]["uses"] == "form" and actions["submit"]["params"] == []
    assert actions["evaluate"]["selectors"] == ["result"]
    assert actions["evaluate"]["params"] == [
        {
            "id": "result",
            "kind": "choice",
            "zh": "评审结果",
            "en": "Result",
            "required": True,
            "choices": [{"value": "pass", "zh": "通过", "en": "pass"}, {"value": "fail", "zh": "不通过", "en": "fail"}],
        }
    ]
    [deadline] = actions["order_rectification"]["params"]
    assert (deadline["id"], deadline["kind"], deadline["required"]) == ("deadline", "date", True)
    assert [(p["id"], p["kind"]) for p in actions["progress"]["params"]] == [
        ("target", "choice"),
        ("note", "long_text"),
    ]
    assert actions["remove"]["reason"] == "required"
    text = CliRunner().invoke(main, ["program", "show", "pioneer-brand"]).output
    assert "  evaluate             集中评审 · Evaluate (project)" in text
    assert "      result           评审结果 Result: choice, required: pass 通过 · fail 不通过" in text
