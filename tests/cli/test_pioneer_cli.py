"""“科技筑梦先锋号” co-building, its whole life through the command line: applications all year
(alone or jointly), evaluation only in the March and September rounds, the party group's decision,
the plaque, progress on the five targets, rectification by a deadline, removal, and the unit
applying again in a later year. Every refusal leaves the database as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.programs import ProgramCli
from tests.cli.test_full_cycle import Cli

PROGRAM = "pioneer-brand"
UNIT = "甲科技公司党支部"


def application(unit: str, mode: str = "alone", partners: tuple[tuple[str, str], ...] = ()) -> dict:
    return {
        "unit": {"name": unit, "kind": "enterprise"},
        "mode": mode,
        "pioneer": {"name": "赵先锋", "role": "leader"},
        "plan": {"name": f"{unit}先锋号共建", "targets": "“五个一”目标清单"},
        "contact": "张三 0773-1234567",
        "partners": [{"name": n, "liaison": liaison} for n, liaison in partners],
    }


class Bureau(ProgramCli):
    def __init__(self, tmp_path: Path):
        super().__init__(tmp_path, "pioneer")

    def submit(self, now: str, app: dict, *extra: str, code: int = 0) -> str:
        return self.submit_file("ap", now, app, *extra, code=code)


@pytest.fixture
def bureau(tmp_path: Path) -> Bureau:
    b = Bureau(tmp_path)
    when = "2027-01-05T09:00"
    b(None, when, "init")
    b(None, when, "user", "add", "lead", "--role", "lead", "--city", "bureau")
    b("lead", when, "user", "add", "wg", "--role", "city-admin", "--city", "bureau")
    b("lead", when, "user", "add", "ap", "--role", "applicant", "--city", "bureau")
    b("lead", when, "cycle", "open", PROGRAM, "--year", "2027")
    yield b
    b.store.dispose()


def test_a_units_plaque_from_application_to_removal_and_a_new_application(bureau: Bureau) -> None:
    b = bureau
    assert "Submitted project 1" in b.submit("2027-01-10T09:00", application(UNIT))
    out = b.submit(
        "2027-04-10T09:00",
        application("乙大学党委", "joint", (("丙研究所党支部", "李联络"), ("丁公司党支部", ""))),
        code=3,
    )
    assert "[joint_partners] partner unit 2 (丁公司党支部) names no liaison (联络员)" in out
    out = b.submit("2027-04-10T09:00", application("戊研究所党委", "joint"), code=3)
    assert "[joint_partners] a joint application lists its partner units" in out
    assert "Submitted project 2" in b.submit(
        "2027-04-10T09:00", application("乙大学党委", "joint", (("丙研究所党支部", "李联络"),))
    )

    # the working group evaluates in March and September: what arrived since waits
    out = b.refused("wg", "2027-02-10T09:00", "project", "act", "evaluate", "1", "-p", "result=pass")
    assert "[in_months] this is done in 3月、9月 (now 2027-02-10)" in out
    b("wg", "2027-03-10T09:00", "project", "act", "evaluate", "1", "-p", "result=pass")
    out = b.refused("wg", "2027-04-20T09:00", "project", "act", "evaluate", "2", "-p", "result=pass")
    assert "[in_months]" in out
    b("wg", "2027-09-08T09:00", "project", "act", "evaluate", "2", "-p", "result=pass")
    out = b.refused("lead", "2027-09-09T09:00", "award", "1")
    assert "[state] project 1 is 'evaluated'; award needs approved" in out
    b("lead", "2027-09-20T09:00", "project", "act", "decide", "1", "2", "-p", "result=approve")
    assert "now awarded 已授牌" in b("lead", "2027-09-25T09:00", "award", "1", "2")

    # progress on the five targets, shown on the unit's record
    out = b.refused("wg", "2027-11-10T09:00", "project", "act", "progress", "1", "-p", "target=lab")
    assert "[target_known] target 'lab' is not one of: venue (打造一个党建阵地（“八有”标准）)" in out
    assert "[target_known] a progress entry says what was done (note=…)" in out
    b("wg", "2027-11-10T09:00", "project", "act", "progress", "1", "-p", "target=venue", "-p", "note=党建阵地建成")

    # a unit holding the plaque does not apply again
    out = b.submit("2027-12-01T09:00", application(UNIT), code=3)
    assert f"[unit_not_holding] {UNIT} already holds the award (project 1 of pioneer-2027)" in out

    # declining: ordered to rectify by a deadline; not rectified, the plaque is removed
    b("lead", "2028-06-01T09:00", "project", "act", "order_rectification", "1", "-p", "deadline=2028-09-30")
    out = b.refused("lead", "2028-09-30T09:00", "project", "act", "remove", "1", "--reason", "整改后仍未达标")
    assert "[removal_due] the rectification ordered runs until 2028-09-30" in out
    out = b.refused("lead", "2028-06-02T09:00", "project", "act", "remove", "2", "--reason", "出现重大问题")
    assert "[removal_due] a holder not under a rectification order is removed only for major problems" in out
    assert "now removed 已摘牌" in b(
        "lead", "2028-10-08T09:00", "project", "act", "remove", "1", "--reason", "整改后仍未达标"
    )
    # major problems remove a plaque at once
    b("lead", "2028-10-09T09:00", "project", "act", "remove", "2", "-p", "grave=true", "--reason", "出现重大问题")

    # a removed unit may apply again in a later year's cycle; the 2027 cycle takes no more
    b("lead", "2029-01-05T09:00", "cycle", "open", PROGRAM, "--year", "2029")
    out = b.submit("2029-02-05T09:00", application(UNIT), "--cycle", "pioneer-2027", code=3)
    assert "[cycle_year] cycle pioneer-2027 receives applications in 2027; it is 2029" in out
    assert "Submitted project 3" in b.submit("2029-02-05T09:00", application(UNIT), "--cycle", "pioneer-2029")

    record = b("lead", "2029-02-05T09:00", "unit", "show", UNIT, "--program", PROGRAM)
    assert "pioneer-2027  project 1 《甲科技公司党支部先锋号共建》: removed 已摘牌" in record
    assert "2027-11-10 progress: target=venue, note=党建阵地建成" in record
    assert "2028-06-01 rectifications: deadline=2028-09-30" in record
    assert "2028-10-08 removals: reason=整改后仍未达标" in record
    assert "pioneer-2029  project 3 《甲科技公司党支部先锋号共建》: submitted 已申报（待集中评审）" in record
    out = b("lead", "2029-02-05T09:00", "unit", "show", "无此单位", "--program", PROGRAM, code=5)
    assert "No unit '无此单位'" in out


@pytest.mark.parametrize(
    ("program", "ending"),
    [
        ("pioneer-brand", "the unit's record kept across the years"),
        ("industry-alliance", "alliances remain filed"),
    ],
)
def test_each_sister_program_has_a_demo_that_runs_to_its_end(tmp_path: Path, program: str, ending: str) -> None:
    cli = Cli(tmp_path / "demo.db")
    out = cli(None, "2027-01-01T00:00", "demo", "--program", program, "--per-city", "12")
    assert ending in out
    assert "Cannot " in out  # each demo shows a refusal its rules create
