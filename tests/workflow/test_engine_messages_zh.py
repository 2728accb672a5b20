"""The engine's refusals read in Chinese: verbs as the program's action labels, states by their
names, a rule by its Chinese name, hints in Chinese; the English, which scripts read, is today's
word for word."""

from __future__ import annotations

import pytest

from tests.conftest import LEAD, admin
from workflow.errors import ConcurrentChange, NotFound, RuleRefused


def test_a_version_conflict_in_chinese_and_in_english(at_stage):
    s = at_stage("collection")
    pid = s.ids["hefei"][0]
    with pytest.raises(ConcurrentChange) as err:
        s.engine.fire(admin("hefei"), pid, "accept", expected_version=0)
    assert err.value.render("zh_CN") == f"项目 {pid} 已被他人修改：您操作的是第 0 版，现为第 1 版；请刷新后重试"
    assert err.value.render("en") == (
        f"project {pid} was changed by someone else: you acted on version 0, it is now at version 1;"
        " reload and try again"
    )


def test_a_missing_required_parameter_in_chinese_and_in_english(at_stage):
    """The verb is the action's label, the state its name, the rule 参数, the parameter its label."""
    s = at_stage("municipal_review")
    pid = s.ids["hefei"][0]
    with pytest.raises(RuleRefused) as err:
        s.engine.fire(admin("hefei"), pid, "review")
    assert err.value.render("zh_CN") == (
        f"无法执行“市级评审”（项目 {pid}，当前状态：入城市项目库）：参数：评审结果（result）为必填项。"
    )
    assert err.value.render("en") == (
        f"Cannot review project {pid} (in state 'in_library'): [parameters] result: required (评审结果)."
    )
    assert err.value.rules == ["parameters"]


def test_a_user_and_a_project_not_found_with_their_hints(at_stage):
    s = at_stage("collection")
    with pytest.raises(NotFound) as err:
        s.engine.project("nobody", 1)
    assert err.value.render("zh_CN") == "没有用户 'nobody'；请用 'evalflow user add' 添加用户。"
    assert err.value.render("en") == "No user 'nobody'; add users with 'evalflow user add'."
    pid = s.ids["hefei"][0]
    s.engine.open_cycle(LEAD, s.engine.get_cycle("g60-2027").program_id, 2028)
    with pytest.raises(NotFound) as err:
        s.engine.override(LEAD, "stage_window", "late", project_id=pid, cycle_id="g60-2028")
    assert err.value.render("zh_CN") == f"没有项目 {pid}；该项目不在评选周期 g60-2028 中。"
    assert err.value.render("en") == f"No project {pid}; it is not in cycle g60-2028."
