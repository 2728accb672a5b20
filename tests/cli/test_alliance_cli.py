"""Industry (park) alliances, their whole life through the command line: filing refused for every
unmet requirement (each named, with the real share), filed after the office's pre-review and the
director's meeting, assessed at year-end once they have run a year, and an unqualified alliance
ordered to rectify by a deadline, then restored or revoked. Every refusal leaves the database as
it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.programs import ProgramCli

PROGRAM = "industry-alliance"
ALL_MATERIALS = ["filing_form", "charter", "member_forms", "structure", "council", "summary"]


def alliance(i: int, members: int = 12, inside: int = 10, materials=None, kinds=("enterprise", "university")) -> dict:
    return {
        "alliance": {"name": f"长三角G60科创走廊第{i}产业联盟", "industry": "ai", "founded": "2027-03-01"},
        "chair": {"name": f"理事长单位{i}", "city": "hefei", "kind": "legal_entity"},
        "secretariat": {"address": "合肥市高新区", "staff": 3, "contact": "李四 0551-1234567"},
        "materials": ALL_MATERIALS if materials is None else materials,
        "members": [
            {"name": f"成员单位{i}-{k}", "city": "合肥市" if k < inside else "南京市", "kind": kinds[k % len(kinds)]}
            for k in range(members)
        ],
    }


class Office(ProgramCli):
    def __init__(self, tmp_path: Path):
        super().__init__(tmp_path, "alliance")

    def file(self, i: int, **kw) -> str:
        return self.submit_file("chair", "2027-03-05T09:00", alliance(i, **kw))


def opened(tmp_path: Path) -> Office:
    """The office, a chair unit of Hefei, an expert, and the 2027 filing round."""
    o = Office(tmp_path)
    when = "2027-03-01T09:00"
    o(None, when, "init")
    o(None, when, "user", "add", "lead", "--role", "lead", "--city", "office")
    o("lead", when, "user", "add", "chair", "--role", "applicant", "--city", "hefei")
    o("lead", when, "user", "add", "expert", "--role", "scorer", "--city", "office")
    o("lead", when, "cycle", "open", PROGRAM, "--year", "2027")
    return o


def unqualified(o: Office) -> None:
    """Alliance 1 filed in 2027 and graded unqualified at the 2028 year-end assessment."""
    o.file(1)
    o("lead", "2027-03-10T09:00", "project", "accept", "1")
    o("lead", "2027-07-01T09:00", "cycle", "advance")
    o("lead", "2027-07-10T09:00", "project", "act", "decide", "1", "-p", "result=approve")
    o("lead", "2027-08-01T09:00", "cycle", "advance")
    o("lead", "2027-08-02T09:00", "award", "1")
    o("chair", "2028-12-05T09:00", "project", "act", "self_assess", "1", "-p", "report=r")
    o("expert", "2028-12-06T09:00", "project", "act", "visit", "1", "-p", "notes=n")
    o("lead", "2028-12-07T09:00", "project", "act", "assess", "1", "-p", "grade=unqualified")


@pytest.fixture
def office(tmp_path: Path) -> Office:
    o = opened(tmp_path)
    yield o
    o.store.dispose()


def test_filing_assessment_rectification_and_revocation(office: Office) -> None:
    o = office
    o.file(1)
    o.file(2, members=8, inside=5, materials=["filing_form", "member_forms"], kinds=("enterprise",))
    o.file(3)
    o.file(4)

    out = o.refused("lead", "2027-03-10T09:00", "project", "accept", "2")
    assert (
        "[materials_complete] 4 of 6 required materials missing: "
        "联盟章程、人员机构设置及运行管理制度、理事会及秘书处名单、管理和运行工作总结" in out
    )
    assert "[min_members] the alliance has 8 member units; at least 10 are required" in out
    assert "[member_share] 5 of 8 member units (62.5 %) are registered in the program's cities; at least 70 %" in out
    assert "[member_mix] no member unit is a university or research institute" in out
    o("lead", "2027-03-10T09:00", "project", "reject", "2", "--reason", "不符合备案条件")
    for pid in ("1", "3", "4"):
        assert "now in_library 初审通过" in o("lead", "2027-03-10T09:00", "project", "accept", pid)

    out = o.refused("lead", "2027-07-01T09:00", "project", "act", "decide", "1", "-p", "result=approve")
    assert "[stage_window] decide belongs to stage 'meeting', but the cycle is in stage 'filing'" in out
    o("lead", "2027-07-01T09:00", "cycle", "advance")
    o("lead", "2027-07-10T09:00", "project", "act", "decide", "1", "3", "-p", "result=approve")
    out = o.refused("lead", "2027-08-01T09:00", "cycle", "advance")
    assert "[none_waiting] hefei has 1 projects not yet decided" in out
    o("lead", "2027-07-10T09:00", "project", "act", "decide", "4", "-p", "result=decline", "--reason", "暂缓备案")
    o("lead", "2027-08-01T09:00", "cycle", "advance")
    assert "now awarded 已备案" in o("lead", "2027-08-02T09:00", "award", "1", "3")

    # the year-end assessment waits until an alliance has run a year, and only in December
    out = o.refused("chair", "2027-12-05T09:00", "project", "act", "self_assess", "1", "-p", "report=自评报告")
    assert "[founded_a_year_ago] founded 2027-03-01: assessed once it has run 1 year(s), from 2028-03-01" in out
    out = o.refused("chair", "2028-11-05T09:00", "project", "act", "self_assess", "1", "-p", "report=自评报告")
    assert "[in_months] this is done in 12月 (now 2028-11-05)" in out
    out = o.refused("lead", "2028-12-05T09:00", "project", "act", "assess", "1", "-p", "grade=qualified")
    assert "[assessment_ready] no self-assessment report (自评报告) since the last grade" in out
    assert "[assessment_ready] no expert site visit (实地考察) since the last grade" in out
    o("chair", "2028-12-05T09:00", "project", "act", "self_assess", "1", "3", "-p", "report=自评报告")
    o("expert", "2028-12-06T09:00", "project", "act", "visit", "1", "3", "-p", "notes=实地考察")
    # the expert reads the alliance they may visit (a scorer elsewhere reads none before scoring)
    shown = json.loads(o("expert", "2028-12-06T09:10", "--json", "project", "show", "1"))
    assert (shown["project"]["id"], shown["project"]["state"]) == (1, "awarded")
    assert "now awarded 已备案" in o(
        "lead", "2028-12-07T09:00", "project", "act", "assess", "1", "-p", "grade=excellent"
    )
    out = o("lead", "2028-12-07T09:00", "project", "act", "assess", "3", "-p", "grade=unqualified")
    assert "now unqualified 考核不合格" in out
    # a grade needs a new self-assessment and visit
    out = o.refused("lead", "2028-12-08T09:00", "project", "act", "assess", "1", "-p", "grade=qualified")
    assert "[assessment_ready]" in out

    # interviewed and ordered to rectify, with a deadline
    out = o.refused("lead", "2028-12-08T09:00", "project", "act", "order_rectification", "3", "--reason", "约谈")
    assert "[deadline_given] an order to rectify needs a deadline (YYYY-MM-DD); given: none" in out
    out = o.refused(
        "lead", "2028-12-08T09:00", "project", "act", "order_rectification", "3", "-p", "deadline=2028-12-01"
    )
    assert "[deadline_given] the deadline 2028-12-01 is not after today (2028-12-08)" in out
    o(
        "lead",
        "2028-12-08T09:00",
        "project",
        "act",
        "order_rectification",
        "3",
        "-p",
        "deadline=2029-03-31",
        "--reason",
        "约谈理事长和秘书长单位，限期整改",
    )
    out = o.refused("lead", "2029-03-31T20:00", "project", "act", "remove", "3", "--reason", "整改仍不到位，撤销联盟")
    assert "[removal_due] the rectification ordered runs until 2029-03-31; remove after it or for major problems" in out
    out = o.refused("lead", "2029-03-01T09:00", "project", "act", "remove", "1", "--reason", "整改仍不到位，撤销联盟")
    assert "[removal_due] a holder not under a rectification order is removed only for major problems" in out
    assert "now removed 已撤销" in o(
        "lead", "2029-04-01T09:00", "project", "act", "remove", "3", "--reason", "整改仍不到位，撤销联盟"
    )

    states = {p["id"]: p["state"] for p in o.cli.json("lead", "2029-04-01T09:00", "project", "list")}
    assert states == {1: "awarded", 2: "rejected", 3: "removed", 4: "declined"}
    shown = o("lead", "2029-04-01T09:00", "project", "show", "3")
    assert "grades 2028-12-07 09:00 lead: grade=unqualified" in shown
    assert "rectifications 2028-12-08 09:00 lead: deadline=2029-03-31, reason=约谈理事长和秘书长单位，限期整改" in shown
    assert "会员单位: 成员单位3-1 合肥市 高校" in shown
    hefei = next(c for c in o.cli.json("lead", "2029-04-01T09:00", "cycle", "status")["cities"] if c["city"] == "hefei")
    assert (hefei["submitted"], hefei["filed"], hefei["removed"]) == (4, 1, 1)


def test_a_rectified_alliance_is_restored(office: Office) -> None:
    o = office
    unqualified(o)
    o("lead", "2028-12-08T09:00", "project", "act", "order_rectification", "1", "-p", "deadline=2029-03-31")
    assert "now awarded 已备案" in o(
        "lead", "2029-03-20T09:00", "project", "act", "restore", "1", "--reason", "整改到位"
    )
    # the chair unit may not grade itself
    out = o.refused("chair", "2029-12-07T09:00", "project", "act", "assess", "1", "-p", "grade=excellent", code=4)
    assert "chair" in out and "lead" in out
