"""Bounded input at the engine's door, on both databases: NUL bytes and control characters,
texts over their length, numbers out of range (1e308, inf, NaN, 5,000 digits), unknown keys and
hostile nesting are refused as invalid input (exit 7) with the field, its limit and what was
given named, and nothing reaches the database (PostgreSQL refuses a NUL byte itself, which was
answered as "database unavailable"; SQLite stored it)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from store.sql import SqlStore
from tests.backends import BACKENDS, database
from tests.cli.test_full_cycle import Cli
from tests.conftest import LEAD, PROGRAM, YEAR, SettableClock, admin, applicant, make_app, sh, snapshot
from workflow.engine import Engine
from workflow.errors import InvalidInput
from workflow.form import LONG_TEXT_MAX, TEXT_MAX, read_form

JAN = "2027-01-10T10:00"  # inside the collection window


class Seeded:
    """A G60 cycle in collection, with a lead and Hefei's administrator and applicant."""

    def __init__(self, store: SqlStore, engine: Engine, cli: Cli):
        self.store, self.engine, self.cli = store, engine, cli

    def refused(self, action: Any, *args: Any, **kwargs: Any) -> str:
        """Run ``action`` expecting InvalidInput (exit 7) and no change at all; its message."""
        before = snapshot(self.store)
        with pytest.raises(InvalidInput) as err:
            action(*args, **kwargs)
        assert err.value.exit_code == 7
        assert snapshot(self.store) == before
        return str(err.value)

    def submit_refused(self, app: dict[str, Any]) -> str:
        return self.refused(self.engine.submit, applicant("hefei"), app)


@pytest.fixture(params=BACKENDS)
def seeded(request: pytest.FixtureRequest, tmp_path: Path, programs: Any) -> Iterator[Seeded]:
    with database(request.param, tmp_path) as url:
        store = SqlStore(url)
        store.create()
        try:
            engine = Engine(store, programs, SettableClock(sh(1, 10)))
            engine.add_user(None, LEAD, "lead", "songjiang")
            engine.add_user(LEAD, admin("hefei"), "city-admin", "hefei")
            engine.add_user(LEAD, applicant("hefei"), "applicant", "hefei")
            engine.open_cycle(LEAD, PROGRAM, YEAR)
            yield Seeded(store, engine, Cli(url if request.param != "sqlite" else store.sqlite_path()))
        finally:
            store.dispose()


# ------------------------------------------------------------------------------------------ characters
@pytest.mark.parametrize(
    "char",
    ["\x00", "\x07", "\x1b", "\x7f", "\ud800"],
    ids=["nul", "bell", "escape", "delete", "lone-surrogate"],
)
def test_a_control_character_in_an_application_is_invalid_input_and_nothing_is_stored(
    seeded: Seeded, char: str
) -> None:
    app = make_app("hefei", 1)
    app["project"]["name"] = f"智能{char}工厂"
    out = seeded.submit_refused(app)
    if char == "\ud800":  # (what the command line says of bytes that are not UTF-8)
        assert "it holds bytes that are not UTF-8 text (near '智能?工厂')" in out
    else:
        assert "project.name" in out and f"U+{ord(char):04X}" in out and "at character 3" in out


def test_a_nul_byte_anywhere_an_action_takes_text_is_refused(seeded: Seeded) -> None:
    out = seeded.refused(seeded.engine.add_user, LEAD, "evil\x00name", "city-admin", "hefei")
    assert "holds the control character U+0000" in out
    pid = seeded.engine.submit(applicant("hefei"), make_app("hefei", 1)).id
    out = seeded.refused(seeded.engine.fire, admin("hefei"), pid, "accept", reason="同意\x00")
    assert "reason holds the control character U+0000 at character 3" in out
    # a key holding one is refused as well (it would be stored with the application)
    app = make_app("hefei", 2)
    app["project"]["na\x00me"] = "x"
    assert "U+0000" in seeded.submit_refused(app)


def test_a_long_text_keeps_its_line_breaks_and_a_one_line_text_may_not_have_one(seeded: Seeded) -> None:
    app = make_app("hefei", 1)
    app["project"]["background"] = "第一段。\n\t第二段。\r\n第三段。"
    stored = seeded.engine.submit(applicant("hefei"), app)
    assert stored.application["project"]["background"] == "第一段。\n\t第二段。\r\n第三段。"
    app = make_app("hefei", 2)
    app["project"]["name"] = "智能\n工厂"
    out = seeded.submit_refused(app)
    assert "project.name (项目名称) holds a line break or tab (U+000A) at character 3; it must be one line" in out


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_the_command_line_refuses_a_nul_byte_with_exit_7_on_both_databases(
    seeded: Seeded, tmp_path: Path, suffix: str
) -> None:
    app = make_app("hefei", 1)
    app["enterprise"]["address"] = "合肥市\x00高新区"
    path = tmp_path / f"application{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(app, ensure_ascii=False), encoding="utf-8")
    else:
        from tests.cli.test_full_cycle import toml_application

        path.write_text(toml_application(app), encoding="utf-8")  # (a basic string escapes it: \\u0000)
    before = snapshot(seeded.store)
    out = seeded.cli(applicant("hefei"), JAN, "project", "submit", str(path), code=7)
    assert "U+0000" in out and "enterprise.address" in out
    assert snapshot(seeded.store) == before


# ------------------------------------------------------------------------------------------ lengths
def test_a_million_character_project_name_is_refused_naming_the_field_and_its_limit(seeded: Seeded) -> None:
    app = make_app("hefei", 1)
    app["project"]["name"] = "项" * 1_000_000
    out = seeded.submit_refused(app)
    assert f"project.name (项目名称) is 1000000 characters long; the limit is {TEXT_MAX}" in out
    app = make_app("hefei", 2)
    app["project"]["background"] = "段" * (LONG_TEXT_MAX + 1)
    out = seeded.submit_refused(app)
    assert f"project.background (背景意义) is {LONG_TEXT_MAX + 1} characters long; the limit is {LONG_TEXT_MAX}" in out
    app = make_app("hefei", 3)
    app["team"] = [app["team"][0]] * 201
    assert "team (主要团队成员) has 201 rows; the limit is 200" in seeded.submit_refused(app)


# ------------------------------------------------------------------------------------------ numbers
@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1e308, "1e+308"),
        (math.inf, "inf"),
        (math.nan, "nan"),
        (10**9 + 1, "1000000001"),
        (10**4999, "a number of about 5000 digits"),
    ],
    ids=["1e308", "inf", "nan", "over-a-billion", "5000-digits"],
)
def test_a_number_out_of_range_is_refused_naming_the_field_its_range_and_the_value(
    seeded: Seeded, value: Any, shown: str
) -> None:
    app = make_app("hefei", 1)
    app["party_organization"]["members"] = value
    out = seeded.submit_refused(app)
    if isinstance(value, float):  # a count of people is a whole number before it is a range
        assert f"party_organization.members (党员数) = {shown} is not a whole number" in out
    else:
        assert f"party_organization.members (党员数) = {shown} is out of range: it must be from 0 to 1000000000" in out


def test_a_number_field_refuses_what_is_not_finite() -> None:
    form, problems = read_form(
        {
            "unit": "unit",
            "title": "title",
            "fields": [
                {"path": "unit", "zh": "单位"},
                {"path": "title", "zh": "名称", "max_length": 10},
                {"path": "revenue", "zh": "营业收入（万元）", "kind": "number", "max": 1e7},
                {"path": "staff", "zh": "职工人数", "kind": "int", "min": 1, "max": 5000},
            ],
        }
    )
    assert form is not None and not problems
    good = {"unit": "甲公司", "title": "项目", "revenue": 12.5, "staff": 30}
    assert form.validate(good)["revenue"] == 12.5
    for revenue, shown in ((1e308, "1e+308"), (math.inf, "inf"), (math.nan, "nan")):
        with pytest.raises(InvalidInput) as err:
            form.validate({**good, "revenue": revenue})
        said = f"revenue (营业收入（万元）) = {shown} is out of range: it must be from 0 to 10000000.0"
        assert said in str(err.value)
    with pytest.raises(InvalidInput) as err:
        form.validate({**good, "title": "一二三四五六七八九十一", "staff": 0})
    assert "title (名称) is 11 characters long; the limit is 10" in str(err.value)
    assert "staff (职工人数) = 0 is out of range: it must be from 1 to 5000" in str(err.value)


def test_a_program_file_sets_a_fields_limits_and_bad_ones_are_named() -> None:
    _, problems = read_form(
        {
            "unit": "unit",
            "title": "title",
            "fields": [
                {"path": "unit", "zh": "单位", "max_length": 0},
                {"path": "title", "zh": "名称", "maxlength": 10},
                {"path": "staff", "zh": "职工人数", "kind": "int", "min": 10, "max": 5},
                {"path": "revenue", "zh": "营业收入", "kind": "number", "max": math.inf},
            ],
        }
    )
    said = [str(p) for p in problems]
    assert any("'unit': max_length must be a finite number" in p for p in said)
    assert any("'title': unknown keys maxlength" in p for p in said)
    assert any("'staff': min is above max" in p for p in said)
    assert any("'revenue': max must be a finite number" in p for p in said)


# ------------------------------------------------------------------------------------------ keys
def test_an_unknown_key_is_named_with_the_nearest_known_one_not_dropped(seeded: Seeded) -> None:
    app = make_app("hefei", 1)
    app["project"]["nmae"] = app["project"].pop("name")
    app["budget"] = 100
    app["team"][0]["phone"] = "123"
    out = seeded.submit_refused(app)
    assert "project.nmae is not a field of the form; did you mean name?" in out
    assert "budget is not a field of the form (known here: " in out and "party_organization" in out
    assert "team[1].phone is not a field of the form" in out
    assert "project.name (项目名称) is missing" in out


def test_an_application_nested_too_deeply_is_refused_before_anything_else(seeded: Seeded) -> None:
    app = make_app("hefei", 1)
    deep: Any = "x"
    for _ in range(10_000):
        deep = [deep]
    app["project"]["name"] = deep
    out = seeded.submit_refused(app)
    assert "is nested more than 32 levels deep" in out
