"""The “科创中原” committee review, its whole life through the command line: applications read and
accepted, the committee's votes, ranking by votes with a tie settled, the party group's approval,
the 3-day public notice with an objection upheld and the project voted on again, the corrected
notice, and the announcement after it. Every refusal its rules create is checked for its message
and for leaving the database as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.sql import SqlStore
from tests.cli.programs import ProgramCli
from tests.cli.test_full_cycle import Cli

PROGRAM = "kechuang-zhongyuan"
CYCLE = "kczy-2027"
MEMBERS = ("m1", "m2", "m3")
TYPES = (
    "one_city_one_product",
    "one_industry_one_report",
    "one_enterprise_one_match",
    "one_industry_one_society",
    "one_industry_one_service_team",
)


def application(i: int, kind: str | None = None) -> dict:
    return {
        "applicant": {
            "name": f"河南省第{i}学会",
            "kind": "provincial_society",
            "contact": "王敏",
            "phone": "0371-6000000",
        },
        "project": {
            "name": f"科技经济融合项目{i}",
            "type": kind or TYPES[i % len(TYPES)],
            "summary": "围绕主导产业开展科技服务",
            "against_criteria": "逐条对照评审内容说明",
        },
    }


class Review(ProgramCli):
    def __init__(self, tmp_path: Path):
        super().__init__(tmp_path, "kczy")

    def submit(self, i: int, kind: str | None = None, code: int = 0) -> str:
        return self.submit_file("ap", "2027-03-05T09:00", application(i, kind), code=code)


@pytest.fixture
def review(tmp_path: Path) -> Review:
    r = Review(tmp_path)
    when = "2027-03-01T09:00"
    r(None, when, "init")
    r(None, when, "user", "add", "lead", "--role", "lead", "--city", "kexie")
    r("lead", when, "user", "add", "office", "--role", "city-admin", "--city", "kexie")
    for m in MEMBERS:
        r("lead", when, "user", "add", m, "--role", "scorer", "--city", "kexie")
    r("lead", when, "user", "add", "ap", "--role", "applicant", "--city", "kexie")
    r("lead", when, "cycle", "open", PROGRAM, "--year", "2027", "--places", "selected=2")
    yield r
    r.store.dispose()


def test_the_whole_review_from_applications_to_the_announcement(review: Review) -> None:
    r = review
    for i in (1, 2, 3, 4):
        assert f"Submitted project {i}: 科技经济融合项目{i} (河南省第{i}学会, kexie)" in r.submit(i)
    # a project type the program does not have
    out = r.submit(9, kind="一省一品", code=7)
    assert "project.type (项目类型) = '一省一品' is not one of: one_city_one_product (一市一品)" in out

    for i in (1, 2, 3):
        assert "now in_library 已受理（评审中）" in r("office", "2027-03-10T09:00", "project", "accept", str(i))
    r("office", "2027-03-10T09:00", "project", "reject", "4", "--reason", "申报材料不全")

    # votes belong to the voting stage: before it a committee member does not even see the projects
    out = r.refused("m1", "2027-03-20T09:00", "vote", "1", "--for", code=5)
    assert "No project 1." in out
    r("lead", "2027-04-01T09:00", "cycle", "advance")
    # only committee members vote; a vote needs a side
    out = r.refused("office", "2027-04-02T09:00", "vote", "1", "--for", code=4)
    assert "office" in out and "scorer" in out
    r("m1", "2027-04-02T09:00", "vote", "1", code=2)

    r("m1", "2027-04-02T09:00", "vote", "1", "2", "--for")
    r("m1", "2027-04-02T09:00", "vote", "3", "--against")
    r("m2", "2027-04-02T09:00", "vote", "2", "3", "--for")
    out = r.refused("lead", "2027-05-01T09:00", "cycle", "advance")
    assert "[all_votes_in] committee member m2 has voted on 2 of 3 projects" in out
    assert "[all_votes_in] committee member m3 has voted on 0 of 3 projects" in out
    r("m2", "2027-04-03T09:00", "vote", "1", "--for")
    r("m3", "2027-04-03T09:00", "vote", "2", "3", "--for")
    r("m3", "2027-04-03T09:00", "vote", "1", "--against")
    r("m3", "2027-04-04T09:00", "vote", "1", "--for")  # a member changes a vote: the later one counts
    r("m3", "2027-04-04T10:00", "vote", "1", "--against")
    r("lead", "2027-05-01T09:00", "cycle", "advance")

    # ranked by votes: project 2 has 3, projects 1 and 3 have 2 each, tied across the last place
    out = r.refused("lead", "2027-05-02T09:00", "list", "propose")
    assert (
        "[boundary_tie_settled] projects 1, 3 are tied at 2.0000 across the boundary between selected (place 2)" in out
    )
    out = r("lead", "2027-05-02T09:00", "list", "propose", "--tie-order", "3,1")
    assert "List version 1 (proposed, sum)" in out
    lines = [x for x in out.splitlines() if "《" in x]
    assert "#2" in lines[0] and "selected" in lines[0]
    assert "#3" in lines[1] and "selected" in lines[1]
    assert "#1" in lines[2] and "none" in lines[2]
    assert "3.0000" in lines[0] and "2.0000" in lines[1] and "2.0000" in lines[2]

    # the party group approves; publishing puts the list on notice
    out = r.refused("lead", "2027-05-03T09:00", "publish")
    assert "[list_status] list version 1 is proposed; this needs confirmed" in out
    assert "Confirmed list version 1" in r("office", "2027-05-03T09:00", "list", "confirm")
    r("lead", "2027-05-16T09:00", "cycle", "advance")
    assert "Published list version 1: 2 projects named" in r("lead", "2027-05-16T10:00", "publish")

    # the announcement waits for the end of the 3-day notice
    out = r.refused("lead", "2027-05-17T10:00", "award", "2")
    assert "[notice_over] the 3-day public notice runs until 2027-05-19 10:00; objections may still come" in out

    # an objection to project 1's result, filed during the notice, holds up the announcement
    assert "Filed appeal 1 against project 1" in r(
        "ap", "2027-05-17T11:00", "appeal", "file", "1", "--reason", "投票统计有误，请复核"
    )
    out = r.refused("lead", "2027-05-20T10:00", "award", "2")
    assert "[appeals_decided]" in out and "appeal 1" in out

    # upheld: project 1 goes back to the committee's vote
    out = r(
        "lead", "2027-05-18T11:00", "appeal", "decide", "1", "--uphold", "--reopen-to", "voting", "--reason", "复核属实"
    )
    assert "project 1 reopened to 'voting', now in_library 已受理（评审中）" in out
    out = r.refused("lead", "2027-05-18T12:00", "list", "propose")
    assert "committee member m1 has voted on 2 of 3 projects" in out  # its earlier votes were superseded
    for m in MEMBERS:
        r(m, "2027-05-18T13:00", "vote", "1", "--for")
    out = r("lead", "2027-05-18T14:00", "list", "propose")
    assert "#1 kexie 《科技经济融合项目1》: rank 3 → 1, category none → selected, score 2.0000 → 3.0000" in out
    assert "#3 kexie 《科技经济融合项目3》: rank 2 → 3, category selected → none" in out
    r("office", "2027-05-18T15:00", "list", "confirm")
    out = r("lead", "2027-05-18T16:00", "publish")
    assert "Published list version 2 correcting version 1, because of:" in out
    assert "appeal 1 (project 1, kexie): 投票统计有误，请复核 — 复核属实" in out

    # the corrected list is on notice for 3 days again
    out = r.refused("lead", "2027-05-20T10:00", "award", "1", "2")
    assert "[notice_over] projects 1, 2: the 3-day public notice runs until 2027-05-21 16:00" in out
    out = r("lead", "2027-05-21T16:00", "award", "1", "2")
    assert "Awarded project 1: now granted 入选（已发文公布）" in out
    out = r.refused("lead", "2027-05-21T16:00", "award", "3")
    assert "[state] project 3 is 'not_listed'; award needs listed_selected" in out

    states = {p["id"]: p["state"] for p in r.cli.json("lead", "2027-05-22T09:00", "project", "list")}
    assert states == {1: "granted", 2: "granted", 3: "not_listed", 4: "rejected"}
    status = r.cli.json("lead", "2027-05-22T09:00", "cycle", "status")
    row = status["cities"][0]
    assert (row["submitted"], row["accepted"], row["rejected"], row["selected"], row["granted"]) == (4, 3, 1, 2, 2)
    assert [c["zh"] for c in status["columns"]] == ["申报", "待受理", "受理", "未受理", "入选", "已公布", "党组审议"]
    shown = r("lead", "2027-05-22T09:00", "project", "show", "1")
    assert "项目类型: 一业一研报" in shown
    assert "评审内容 4. 针对一个主导产业编撰产业发展研究报告，为地方党委和政府提供决策参考" in shown
    assert "评分 m3         total   1 {'vote': 1}" in shown
    history = r("lead", "2027-05-22T09:00", "project", "history", "1")
    assert "m3 voted against" in history and "m3 voted for" in history

    # the report: the announced list, each member's votes, the office's statistics
    r("lead", "2027-05-22T09:00", "report", "--format", "md", "--out", str(r.tmp / "report.md"))
    report = (r.tmp / "report.md").read_text(encoding="utf-8")
    assert "| 名次 | 项目编号 | 项目名称 | 申报单位 | 所在城市 | 类别 | 票数合计 |" in report
    assert "| 1 | 1 | 科技经济融合项目1 | 河南省第1学会 | 河南省科协 | 入选项目 | 3.0000 |" in report
    assert "m1·投票 | m1·合计 | m2·投票" in report
    assert "| 3 | 科技经济融合项目3 | 河南省科协 | 0 | 0 | 1 | 1 | 1 | 1 | 2.0000 |" in report
    assert "| 河南省科协 | 4 | 0 | 3 | 1 | 2 | 2 | 是 |" in report


def test_an_objection_upheld_to_the_approval_ranks_the_list_again_keeping_the_votes(review: Review) -> None:
    """Reopened to the party group's approval (the list stage), a project keeps its votes and waits
    in the state the list ranks (受理, in_library): the lead proposes again, here settling the tie
    the other way, without a new vote; before, the approval was offered to no project, and asking
    for it named a state this program does not have."""
    r = review
    votes = {"m1": ("1", "2"), "m2": ("1", "2", "3"), "m3": ("2", "3")}  # 1 and 3 tie at 2 votes
    for i in (1, 2, 3):
        r.submit(i)
        r("office", "2027-03-10T09:00", "project", "accept", str(i))
    r("lead", "2027-04-01T09:00", "cycle", "advance")
    for m in MEMBERS:
        r(m, "2027-04-02T09:00", "vote", *votes[m], "--for")
        if m != "m2":
            r(m, "2027-04-02T09:00", "vote", "3" if m == "m1" else "1", "--against")
    r("lead", "2027-05-01T09:00", "cycle", "advance")
    r("lead", "2027-05-02T09:00", "list", "propose", "--tie-order", "3,1")
    r("office", "2027-05-03T09:00", "list", "confirm")
    r("lead", "2027-05-16T09:00", "cycle", "advance")
    r("lead", "2027-05-16T10:00", "publish")
    r("ap", "2027-05-17T11:00", "appeal", "file", "1", "--reason", "并列名次排序有误")

    out = r(
        "lead", "2027-05-18T11:00", "appeal", "decide", "1", "--uphold", "--reopen-to", "approval", "--reason", "属实"
    )
    assert "project 1 reopened to 'approval', now in_library 已受理（评审中）" in out
    out = r.refused("lead", "2027-05-18T12:00", "list", "propose")  # the votes stand: the tie is still there
    assert "[boundary_tie_settled] projects 1, 3 are tied at 2.0000" in out
    out = r("lead", "2027-05-18T12:00", "list", "propose", "--tie-order", "1,3")
    assert "#1 kexie 《科技经济融合项目1》: rank 3 → 2, category none → selected" in out
    r("office", "2027-05-18T13:00", "list", "confirm")
    assert "Published list version 2 correcting version 1, because of:" in r("lead", "2027-05-18T14:00", "publish")
    states = {p["id"]: p["state"] for p in r.cli.json("lead", "2027-05-18T15:00", "project", "list")}
    assert states == {1: "listed_selected", 2: "listed_selected", 3: "not_listed"}


def test_the_program_is_listed_and_drawn(review: Review) -> None:
    out = review(None, "2027-03-01T09:00", "program", "list")
    assert "kechuang-zhongyuan" in out and "“科创中原”科技经济融合行动项目评审" in out
    dot = review(None, "2027-03-01T09:00", "program", "diagram", PROGRAM, "--format", "dot")
    assert "in_library -> in_library" in dot.replace('"', "") or "vote" in dot
    assert "listed_selected" in dot and "granted" in dot


def test_the_demo_runs_the_review_to_the_announcement(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "demo.db")
    out = cli(None, "2027-01-01T00:00", "demo", "--program", PROGRAM, "--per-city", "8")
    assert "== “科创中原”科技经济融合行动项目评审 2027: cycle kczy-2027" in out
    assert "[all_votes_in] committee member member7 has voted on" in out
    assert "[notice_over]" in out and "objection 1 dismissed" in out
    assert "projects announced by official document (发文公布)" in out
    store = SqlStore(cli.url)
    with store.transaction(write=False) as tx:
        states = {p.state for p in tx.find_projects(CYCLE, with_application=False)}
    store.dispose()
    assert states == {"granted", "not_listed", "rejected"}


def test_a_program_without_a_demo_or_no_program_at_all_is_one_line(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "demo.db")
    out = cli(None, "2027-01-01T00:00", "demo", "--program", "no-such-program", code=5)
    assert "No program 'no-such-program'" in out


def test_a_vote_is_the_program_s_score_sheet_and_score_reads_its_criterion(review: Review) -> None:
    """`score` takes the criteria of the project's own program (here one, the vote), and `vote`
    is a sheet of it: the command line carries no program's criteria of its own."""
    r = review
    r.submit(1)
    r("office", "2027-03-10T09:00", "project", "accept", "1")
    r("lead", "2027-04-01T09:00", "cycle", "advance")
    # G60's criteria are not this program's options; a missing criterion is named
    out = r.refused("m1", "2027-04-02T09:00", "score", "1", "--value", "15", code=2)
    assert "No such option: --value" in out
    out = r.refused("m1", "2027-04-02T09:00", "score", "1", code=2)
    assert "Missing option '--vote'." in out
    assert "Scored project 1: total 1" in r("m1", "2027-04-02T09:00", "score", "1", "--vote", "1")
    assert "Voted against project 1" in r("m2", "2027-04-02T09:00", "vote", "1", "--against")
    sheets = r.cli.json("lead", "2027-04-02T10:00", "project", "show", "1")["sheets"]
    assert sorted((s["scorer"], s["scores"]["vote"]) for s in sheets) == [("m1", 1), ("m2", 0)]
    # the help lists each program's criteria with their bands
    assert "--vote N" in r(None, "2027-04-02T10:00", "score", "sheet", "--help")


def test_the_api_enters_a_vote_as_the_program_s_score_sheet(review: Review) -> None:
    """`POST /api/projects/{id}/score` enters the project's program's sheet, whatever the program
    calls it (here a committee member's vote)."""
    from fastapi.testclient import TestClient

    from tests.conftest import SettableClock, sh, snapshot
    from web.app import create_app
    from workflow.engine import Engine
    from workflow.program import ProgramRegistry

    r = review
    r.submit(1)
    r("office", "2027-03-10T09:00", "project", "accept", "1")
    r("lead", "2027-04-01T09:00", "cycle", "advance")
    engine = Engine(r.store, ProgramRegistry(), SettableClock(sh(4, 2)))
    secret, _ = engine.new_token("m1", "m1", "tests")
    client = TestClient(create_app(engine), base_url="http://testserver")
    client.headers["Authorization"] = f"Bearer {secret}"
    before = snapshot(r.store)
    refused = client.post("/api/projects/1/score", json={"scores": {"vote": 2}})
    assert refused.status_code == 422 and refused.json()["rules"] == ["score_in_bands"]
    assert snapshot(r.store) == before
    done = client.post("/api/projects/1/score", json={"scores": {"vote": 1}})
    assert done.status_code == 200, done.text
    _, sheets, _ = engine.project("lead", 1)
    assert [(s.scorer, s.scores) for s in sheets] == [("m1", {"vote": 1})]
