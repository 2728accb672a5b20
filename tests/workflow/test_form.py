"""A program's application form is program data: what it checks, and what a bad [form] says."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.conftest import FORM, make_app
from tests.workflow.test_program import shipped_data
from workflow.errors import InvalidInput, ProgramInvalid
from workflow.form import build_form
from workflow.program import build_program


def problems_of(app: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidInput) as err:
        FORM.validate(app)
    return list(err.value.problems)


def test_the_g60_form_names_party_unit_and_title() -> None:
    app = FORM.validate(make_app("hefei", 3))
    assert FORM.party_of(app) == "hefei"
    assert FORM.unit_of(app) == app["enterprise"]["name"]
    assert FORM.title_of(app) == app["project"]["name"]
    assert FORM.group is not None and FORM.group.key == "team"


def test_every_missing_or_bad_field_is_listed_once_with_its_chinese_label() -> None:
    app = make_app("hefei", 1)
    del app["enterprise"]["name"]
    app["project"]["started"] = "next spring"
    app["party_organization"]["members"] = -2
    app["enterprise"]["registered_in_city"] = "是"
    app["team"] = []
    assert problems_of(app) == [
        "party_organization.members (党员数) = -2 is not a whole number",
        "enterprise.name (企业名称) is missing",
        "enterprise.registered_in_city (在所在城市注册) = '是' must be true or false",
        "project.started (项目启动时间) = 'next spring' is not a date (YYYY-MM-DD)",
        "team (主要团队成员) is missing: list at least the project lead",
    ]


def test_a_team_member_without_a_name_is_named_by_its_row() -> None:
    app = make_app("hefei", 1)
    app["team"][0]["name"] = " "
    assert problems_of(app) == ["team[1].name (姓名) is missing"]


def test_an_empty_evidence_list_is_an_answer_but_a_missing_one_is_not() -> None:
    app = make_app("hefei", 1)
    app["project"]["evidence"] = []
    assert FORM.validate(app)["project"]["evidence"] == []
    del app["project"]["evidence"]
    assert problems_of(app) == ["project.evidence (成果佐证（认可/高企/专精特新/冠军）) is missing"]


def form_data(**changes: Any) -> dict[str, Any]:
    raw = {
        "name": "申报书",
        "unit": "unit",
        "title": "title",
        "fields": [
            {"path": "unit", "zh": "申报单位"},
            {"path": "title", "zh": "项目名称"},
            {"path": "type", "zh": "项目类型", "kind": "choice", "choices": {"a": "甲类", "b": "乙类"}},
            {"path": "members", "zh": "成员单位数", "kind": "int"},
        ],
    }
    raw.update(changes)
    return raw


def test_a_form_without_a_party_field_gives_every_application_to_the_lead() -> None:
    form, problems = build_form(form_data(), lead="office")
    assert problems == [] and form is not None
    app = form.validate({"unit": "某学会", "title": "研报", "type": "b", "members": 12})
    assert form.party_of(app) == "office"


def test_a_choice_must_be_one_of_its_codes() -> None:
    form, _ = build_form(form_data(), lead="office")
    with pytest.raises(InvalidInput) as err:
        form.validate({"unit": "某学会", "title": "研报", "type": "丙类", "members": 12})  # type: ignore[union-attr]
    assert list(err.value.problems) == ["type (项目类型) = '丙类' is not one of: a (甲类), b (乙类)"]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"title": "name"}, "[form] title = 'name' must name one of the form's fields"),
        ({"party": "unit"}, "[form] the party field 'unit' must be of kind 'party'"),
        (
            {"fields": [{"path": "unit", "zh": "申报单位", "kind": "money"}, {"path": "title", "zh": "名称"}]},
            "[form] fields[0] 'unit': kind 'money' is not one of text, date, int, bool, list, choice, party, number",
        ),
        (
            {"fields": [{"path": "unit"}, {"path": "title", "zh": "名称"}]},
            "[form] fields[0]: each field needs a path and a zh label, not {'path': 'unit'}",
        ),
        (
            {"fields": [{"path": "unit", "zh": "申报单位", "kind": "choice"}, {"path": "title", "zh": "名称"}]},
            "[form] fields[0] 'unit': a choice field needs its choices",
        ),
    ],
)
def test_a_bad_form_is_a_program_problem(changes: dict[str, Any], problem: str) -> None:
    _, problems = build_form(form_data(**changes), lead="office")
    assert problem in problems


def test_a_program_without_a_form_is_refused_by_the_loader() -> None:
    data = copy.deepcopy(shipped_data())
    del data["form"]
    with pytest.raises(ProgramInvalid) as err:
        build_program(data)
    assert "[form] is missing" in str(err.value)


def test_the_checked_application_is_a_plain_copy_dates_as_text() -> None:
    import datetime

    app = make_app("hefei", 1)
    app["fill_date"] = datetime.date(2027, 1, 15)
    app["team"] = tuple(app["team"])
    checked = FORM.validate(app)
    assert checked["fill_date"] == "2027-01-15" and isinstance(checked["team"], list)
    checked["enterprise"]["name"] = "changed"
    assert app["enterprise"]["name"] != "changed"  # a copy: the caller's application is untouched
