"""A program's application form is program data: what it checks, and what a bad [form] says."""

from __future__ import annotations

import copy
import datetime
import random
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import FORM, make_app
from tests.workflow.test_program import shipped_data
from workflow.errors import InvalidInput, ProgramInvalid
from workflow.form import build_form
from workflow.program import build_program
from workflow.records import plain


def problems_of(app: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidInput) as err:
        FORM.validate(app)
    return [str(p) for p in err.value.problems]


def test_the_g60_form_names_party_unit_and_title() -> None:
    app = FORM.validate(make_app("hefei", 3))
    assert FORM.party_of(app) == "hefei"
    assert FORM.unit_of(app) == app["enterprise"]["name"]
    assert FORM.title_of(app) == app["project"]["name"]
    assert FORM.group is not None and FORM.group.key == "team"


@pytest.mark.parametrize("written", ["合肥市", "合肥", " 合肥市 ", "hefei"])
def test_the_party_may_be_named_by_its_name_or_short_name(written: str) -> None:
    """As the form's notes say (城市名称 or 代码): the application keeps the party's id."""
    app = make_app("hefei", 3)
    app["enterprise"]["city"] = written
    checked = FORM.validate(app)
    assert FORM.party_of(checked) == "hefei" and checked["enterprise"]["city"] == "hefei"
    assert app["enterprise"]["city"] == written  # (the application given is not changed)


def test_a_party_outside_the_program_is_kept_as_written() -> None:
    """南京市 is left for the program's rule application_city_in_program to refuse, named as written."""
    app = make_app("hefei", 3)
    app["enterprise"]["city"] = "南京市"
    assert FORM.party_of(FORM.validate(app)) == "南京市"


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
    assert [str(p) for p in err.value.problems] == ["type (项目类型) = '丙类' is not one of: a (甲类), b (乙类)"]


@pytest.mark.parametrize("given", [["a"], {"a": 1}, 3], ids=["a_list", "a_table", "a_number"])
def test_a_choice_given_as_something_else_is_refused_with_its_codes(given: Any) -> None:
    """A list (or a table) where a code belongs is refused like any other wrong code; it ended in
    an unexpected TypeError (a list cannot be looked up among the codes)."""
    form, _ = build_form(form_data(), lead="office")
    with pytest.raises(InvalidInput) as err:
        form.validate({"unit": "某学会", "title": "研报", "type": given, "members": 12})  # type: ignore[union-attr]
    assert [str(p) for p in err.value.problems] == [f"type (项目类型) = {given!r} is not one of: a (甲类), b (乙类)"]


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
    app = make_app("hefei", 1)
    app["fill_date"] = datetime.date(2027, 1, 15)
    app["team"] = tuple(app["team"])
    checked = FORM.validate(app)
    assert checked["fill_date"] == "2027-01-15" and isinstance(checked["team"], list)
    checked["enterprise"]["name"] = "changed"
    assert app["enterprise"]["name"] != "changed"  # a copy: the caller's application is untouched


# -- the fast path: an application with nothing to report is found so without the messages --------

# a form of every kind, optional fields among them, and a group with flags and no minimum of rows
EVERY_KIND, _ = build_form(
    {
        "unit": "unit",
        "title": "title",
        "fields": [
            {"path": "unit", "zh": "单位"},
            {"path": "title", "zh": "名称"},
            {"path": "about.when", "zh": "日期", "kind": "date"},
            {"path": "about.count", "zh": "人数", "kind": "int"},
            {"path": "about.amount", "zh": "金额", "kind": "number"},
            {"path": "about.yes", "zh": "是否", "kind": "bool"},
            {"path": "about.evidence", "zh": "佐证", "kind": "list", "choices": {"a": "甲"}},
            {"path": "about.type", "zh": "类型", "kind": "choice", "choices": {"a": "甲", "b": "乙"}},
            {"path": "about.city", "zh": "城市", "kind": "party"},
            {"path": "deep.er.note", "zh": "备注", "required": False},
            {"path": "optional_date", "zh": "选填日期", "kind": "date", "required": False},
            {"path": "optional_int", "zh": "选填整数", "kind": "int", "required": False},
            {"path": "optional_list", "zh": "选填列表", "kind": "list", "required": False},
            {"path": "optional_choice", "zh": "选填类型", "kind": "choice", "choices": {"x": "某"}, "required": False},
        ],
        "group": {
            "key": "members",
            "zh": "成员",
            "min_rows": 0,
            "fields": [{"path": "name", "zh": "姓名"}, {"path": "age", "zh": "年龄", "kind": "int"}],
            "flags": [{"path": "lead", "zh": "牵头", "kind": "bool"}],
        },
    }
)


def every_kind_app() -> dict[str, Any]:
    return {
        "unit": "某学会",
        "title": "研报",
        "about": {
            "when": "2027-01-15",
            "count": 3,
            "amount": 2.5,
            "yes": False,
            "evidence": ["a"],
            "type": "b",
            "city": "hefei",
        },
        "deep": {"er": {"note": "注"}},
        "members": [{"name": "甲", "age": 30, "lead": 1}, {"name": "乙", "age": 0}],
    }


# answers of every sort: blank, the wrong kind, bool for int, out of range, tables and lists
VALUES: list[Any] = [
    None,
    "",
    "   ",
    "x",
    " a ",
    "a",
    "b",
    "2027-01-15",
    " 2027-01-15 ",
    "2027-13-01",
    0,
    7,
    -1,
    0.0,
    1.5,
    -0.5,
    float("nan"),
    True,
    False,
    [],
    ["a"],
    ["zz", 3],
    (),
    {},
    {"a": 1},
    datetime.date(2027, 1, 15),
    datetime.datetime(2027, 1, 15, 8, 30),
]


def outcome(form: Any, app: Any) -> tuple[str, Any]:
    """What validate gives: its result as text (exact types: True is not 1), or the error."""
    try:
        return "ok", repr(form.validate(app))
    except InvalidInput as exc:
        return "invalid", exc.problems
    except Exception as exc:  # (an application that is not a table at all)
        return type(exc).__name__, str(exc)


def variants(app: dict[str, Any], form: Any) -> Iterator[Any]:
    """The application with each field in turn given each of VALUES or left out, each section
    and the group replaced by something else, rows that are not tables, and a few random mixes."""
    paths = [f.parts for f in form.fields]
    g = form.group
    for parts in paths:
        for value in [*VALUES, ...]:
            changed = copy.deepcopy(app)
            holder = changed
            for part in parts[:-1]:
                holder = holder[part]
            if value is ...:
                holder.pop(parts[-1], None)
            else:
                holder[parts[-1]] = value
            yield changed
        for depth in range(1, len(parts)):  # a section that is not a table
            for value in (None, "text", [1], 5):
                changed = copy.deepcopy(app)
                holder = changed
                for part in parts[: depth - 1]:
                    holder = holder[part]
                holder[parts[depth - 1]] = value
                yield changed
    if g is not None:
        for f in g.fields:
            for value in [*VALUES, ...]:
                changed = copy.deepcopy(app)
                row = changed[g.key][0]
                if value is ...:
                    del row[f.name]
                else:
                    row[f.name] = value
                yield changed
        for rows in (None, "rows", {}, [], (), [None], ["row"], [[]], [{}], tuple(app[g.key])):
            changed = copy.deepcopy(app)
            changed[g.key] = rows
            yield changed
        changed = copy.deepcopy(app)
        del changed[g.key]
        yield changed
    rng = random.Random(7)
    for _ in range(300):
        changed = copy.deepcopy(app)
        for parts in rng.sample(paths, 3):
            holder = changed
            for part in parts[:-1]:
                holder = holder.get(part) if isinstance(holder, dict) else None
            if isinstance(holder, dict):
                holder[parts[-1]] = rng.choice(VALUES)
        yield changed
    yield from (app, copy.deepcopy(app), [], "an application", None)


@pytest.mark.parametrize("form", [FORM, EVERY_KIND], ids=["g60", "every-kind"])
def test_the_fast_path_gives_what_the_field_by_field_checks_give(form: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app("hefei", 1) if form is FORM else every_kind_app()
    cases = list(variants(app, form))
    fast = [outcome(form, a) for a in cases]
    monkeypatch.setattr(type(form), "_fine", lambda self, out: False)  # every application checked field by field
    general = [outcome(form, a) for a in cases]
    assert fast == general
    kinds = {k for k, _ in fast}
    assert {"ok", "invalid", "AttributeError"} <= kinds  # valid, invalid, and not a table at all


@pytest.mark.parametrize("form", [FORM, EVERY_KIND], ids=["g60", "every-kind"])
def test_the_fast_path_finds_fine_exactly_the_applications_with_nothing_to_report(form: Any) -> None:
    app = make_app("hefei", 1) if form is FORM else every_kind_app()
    for case in variants(app, form):
        out = plain(case)
        if type(out) is not dict:
            continue
        fine = form._fine(out)
        assert fine == (outcome(form, case)[0] == "ok"), case
