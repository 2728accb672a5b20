"""The history and an application's problems read in Chinese: states by their declared names,
actions by their labels, no state ids; the English, which scripts read, is today's word for word."""

from __future__ import annotations

import pytest

from i18n import using
from tests.conftest import FORM, LEAD, make_app
from workflow.errors import InvalidInput, NotSignedIn
from workflow.ranking import change_message
from workflow.story import action, move, tell


def test_a_projects_history_names_its_states_and_actions_in_chinese(at_stage):
    s = at_stage("municipal_review")
    pid = s.ids["hefei"][0]
    _, _, history = s.engine.project(LEAD, pid)
    program = s.engine.program_of(s.engine.get_cycle(None))
    submit, accept = (next(e for e in history if e.action == a) for a in ("submit", "accept"))

    assert move(submit, program).render("en") == f"{submit.from_state or ''} → submitted"
    told = move(submit, program).render("zh_CN")
    assert told == f"→ {program.state_name('submitted')}"
    assert "new" not in told and "submitted" not in told
    assert move(accept, program).render("zh_CN") == (
        f"{program.state_name('submitted')} → {program.state_name('in_library')}"
    )
    assert action(accept, program).render("zh_CN") == program.actions["accept"].zh
    assert action(accept, program).render("en") == "accept"

    assert tell(accept, program, "zh_CN").startswith("确认入库（城市项目库）")
    assert tell(accept, program, "en").startswith("accepted into the city project library")
    with using("zh_CN"):
        said = tell(submit, program)
    assert said.endswith("（合肥市）申报《" + submit.data["project_name"] + "》")
    assert tell(submit, program, "en").endswith(" (hefei)") and "submitted 《" in tell(submit, program, "en")


def test_a_form_problem_in_chinese_and_in_english():
    app = make_app("hefei", 1)
    del app["project"]["name"]
    with pytest.raises(InvalidInput) as err:
        FORM.validate(app)
    [problem] = err.value.problems
    label = next(f.zh for f in FORM.fields if f.path == "project.name")
    assert problem.render("en") == f"project.name ({label}) is missing"
    assert problem.render("zh_CN") == f"{label}（project.name）未填写"


def test_a_wrong_password_in_chinese_and_in_english(at_stage):
    s = at_stage("collection")
    with pytest.raises(NotSignedIn) as err:
        s.engine.sign_in(LEAD, "not the password")
    assert err.value.render("en") == "Not signed in: the name or the password is wrong."
    assert "用户名或密码错误" in err.value.render("zh_CN")


def test_a_change_between_list_versions_in_chinese_and_in_english():
    before = {"rank": 3, "category": "excellent", "score": "78.0000"}
    after = {"rank": 1, "category": "excellent", "score": "81.5000"}
    change = {"project": 12, "city": "hefei", "project_name": "示例", "before": before, "after": after}
    assert change_message(change).render("en") == "#12 hefei 《示例》: rank 3 → 1, score 78.0000 → 81.5000"
    assert change_message(change).render("zh_CN") == "#12 hefei《示例》：名次 3 → 1、得分 78.0000 → 81.5000"
    added = {**change, "before": None}
    assert change_message(added).render("en") == "#12 hefei 《示例》: added at rank 1 (excellent, 81.5000)"


def test_a_sheet_a_placement_and_a_proposal_read_by_their_names_in_chinese(at_stage):
    s = at_stage("published")
    program = s.engine.program_of(s.engine.get_cycle(None))
    entries = s.engine.history(LEAD, s.engine.get_cycle(None).id)
    sheet = next(e for e in entries if e.action == "score")
    unplaced = next(e for e in entries if e.action == "place" and e.data.get("category") == "none")
    proposed = next(e for e in entries if e.action == "propose")
    # English as scripts read it: the criteria's ids and values, the category and method ids
    assert tell(sheet, program, "en").endswith(str(sheet.data["scores"]))
    assert tell(unplaced, program, "en") == f"placed 'none' by list version {unplaced.data['list_version']}"
    assert "(mean)" in tell(proposed, program, "en")
    # Chinese: the criteria by their names in the sheet's order, 未入选, the score a list ranks by
    first = program.criteria[0]
    said = tell(sheet, program, "zh_CN")
    assert f"（{first.short or first.name} {sheet.data['scores'][first.id]}、" in said and "{" not in said
    assert tell(unplaced, program, "zh_CN") == f"按名单第 {unplaced.data['list_version']} 版列为“未入选”"
    assert "（按平均分）" in tell(proposed, program, "zh_CN") and "mean" not in tell(proposed, program, "zh_CN")
