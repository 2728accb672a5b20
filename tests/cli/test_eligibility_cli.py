"""Eligibility as a new city administrator tries it on the command line: an application from a
city outside the program, and a party organization that is not an established one (a placeholder
name, too few members, founded after the submission). Each is a rule refusal (exit 3) naming the
rule and the numbers, and leaves the database as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.programs import ProgramCli
from tests.conftest import make_app

JAN = "2027-01-02T09:00"
SUBMITTED = "2027-02-10T10:00"
FEB = "2027-02-20T10:00"
NINE = "松江区、嘉兴市、杭州市、金华市、苏州市、湖州市、宣城市、芜湖市、合肥市"


@pytest.fixture
def g60(tmp_path: Path) -> ProgramCli:
    """A G60 cycle of 2027 with Hefei's administrator and applicant."""
    cli = ProgramCli(tmp_path, "g60")
    cli(None, JAN, "init")
    cli(None, JAN, "user", "add", "lead", "--role", "lead", "--city", "songjiang")
    cli("lead", JAN, "user", "add", "hefei-admin", "--role", "city-admin", "--city", "hefei")
    cli("lead", JAN, "user", "add", "hefei-applicant", "--role", "applicant", "--city", "hefei")
    cli("lead", JAN, "cycle", "open", "g60-deep-integration", "--year", "2027")
    return cli


def application(serial: int, city: str = "hefei", **org: object) -> dict:
    app = make_app("hefei", serial)
    app["enterprise"]["city"] = city
    app["party_organization"].update(org)
    return app


def submitted(out: str) -> str:
    """The project id in 'Submitted project 17: …'."""
    return out.split("project ")[1].split(":")[0]


@pytest.mark.parametrize("user", ["hefei-applicant", "hefei-admin"])
@pytest.mark.parametrize("city", ["南京市", "nanjing"])
def test_an_application_from_a_city_outside_the_program_is_refused_by_its_rule(g60: ProgramCli, user, city):
    """Not 'Not permitted … belongs to 南京市' (exit 4): the rule names the city as written and the nine."""
    out = g60.submit_file(user, SUBMITTED, application(1, city), code=3)
    assert out.strip() == (
        f"Error: Cannot submit application '{make_app('hefei', 1)['project']['name']}': "
        f"[application_city_in_program] enterprise city '{city}' is not one of the program's cities ({NINE})."
    )


def test_an_import_names_the_row_from_a_city_outside_the_program(g60: ProgramCli, tmp_path: Path):
    """A file of applications: the one from 南京市 is named with the rule (an import lists every bad
    application, exit 7 as for any), and nothing is imported."""
    path = tmp_path / "apps.json"
    path.write_text(json.dumps([application(1), application(2, "南京市")], ensure_ascii=False), encoding="utf-8")
    out = g60.refused("hefei-admin", SUBMITTED, "project", "import", str(path), code=7)
    assert (
        f"[application 2] [application_city_in_program] enterprise city '南京市' is not one of the program's "
        f"cities ({NINE})"
    ) in out


def test_an_application_may_name_its_city_by_name(g60: ProgramCli):
    """合肥市 (as the form's notes allow) is Hefei's: submitted, the project belongs to hefei."""
    out = g60.submit_file("hefei-applicant", SUBMITTED, application(1, "合肥市"))
    assert out.rstrip().endswith(", hefei)")


ORGANIZATIONS = [
    (
        "placeholder_name",
        {"name": "无", "members": 0},
        "the party organization (党组织) is named '无', which names no organization",
    ),
    ("no_members", {"members": 0}, "the party organization has 0 members (党员数), at least 3 are needed"),
    ("two_members", {"members": 2}, "the party organization has 2 members (党员数), at least 3 are needed"),
    (
        "founded_after_submission",
        {"founded": "2027-03-01"},
        "the party organization was founded 2027-03-01, after the submission on 2027-02-10",
    ),
]


@pytest.mark.parametrize(("org", "expected"), [o[1:] for o in ORGANIZATIONS], ids=[o[0] for o in ORGANIZATIONS])
def test_accepting_needs_an_established_party_organization(g60: ProgramCli, org, expected):
    """The city administrator's acceptance is refused with the rule and the numbers; nothing changes."""
    pid = submitted(g60.submit_file("hefei-applicant", SUBMITTED, application(1, **org)))
    out = g60.refused("hefei-admin", FEB, "project", "accept", pid, "--opinion", "同意入库")
    name = make_app("hefei", 1)["project"]["name"]
    assert out.strip() == (
        f"Error: Cannot accept project {pid} (in state 'submitted'): [registered_in_corridor] "
        f"project {pid} ({name}): {expected}."
    )


def test_three_members_founded_the_day_of_submission_are_accepted(g60: ProgramCli):
    """The edge that passes: three members, founded the very day the application was submitted."""
    org = {"members": 3, "founded": SUBMITTED[:10]}
    pid = submitted(g60.submit_file("hefei-applicant", SUBMITTED, application(1, **org)))
    g60("hefei-admin", FEB, "project", "accept", pid, "--opinion", "同意入库")
    shown = g60.cli.json("hefei-admin", FEB, "project", "show", pid)
    assert shown["project"]["state"] == "in_library"
