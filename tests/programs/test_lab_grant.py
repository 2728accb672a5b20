"""A program that is only a file in tests/: `lab-grant.toml` (a key laboratory's open-project
grants) runs with no code of its own through the command line, the API and the console.

Its two stages are kinds from stages/ (an intake, then a decision), its words, parties, state
names and permissions are its own, and its actions declare their parameters: the intake's track
(a choice), the committee's decision (a choice that decides where the project goes), an amount
(a number with bounds), a start date and a yes/no. The registry finds it through
EVALFLOW_PROGRAMS (the command line and `evalflow serve`) or ``ProgramRegistry([folder])``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from store.sql import SqlStore
from tests.conftest import SettableClock, sh, snapshot
from tests.web.browser import Cli, act, acted, advance, expect, ticked_shown_as_yes
from web.app import create_app
from workflow.engine import Engine
from workflow.program import ProgramRegistry

HERE = Path(__file__).resolve().parent
PROGRAM = "lab-grant"
ENV = {"EVALFLOW_PROGRAMS": str(HERE)}
CYCLE = "labfund-2027"


def application(i: int, area: str = "sensing") -> dict:
    return {
        "applicant": {"name": f"申请人{i}", "institution": f"第{i}大学"},
        "topic": {"name": f"开放课题{i}", "area": area, "budget": 20},
    }


class Lab:
    """The command line on a database of its own, with EVALFLOW_PROGRAMS naming tests/programs."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.db = tmp_path / "lab.db"
        self.cli = Cli(self.db, ENV)
        self.files = 0

    def __call__(self, user: str | None, now: str, *args: str, code: int = 0) -> str:
        return self.cli(user, now, *args, code=code)

    def submit(self, now: str, app: dict) -> str:
        self.files += 1
        path = self.tmp / f"application-{self.files}.json"
        path.write_text(json.dumps(app, ensure_ascii=False), encoding="utf-8")
        return self("ap", now, "project", "submit", str(path))


def opened(tmp_path: Path) -> Lab:
    """The committee's chair (the lead), the office's secretary, an applicant, the 2027 call and
    three applications."""
    lab = Lab(tmp_path)
    when = "2027-04-01T09:00"
    lab(None, when, "init")
    lab(None, when, "user", "add", "chair", "--role", "lead", "--city", "lab")
    lab("chair", when, "user", "add", "secretary", "--role", "city-admin", "--city", "lab")
    lab("chair", when, "user", "add", "ap", "--role", "applicant", "--city", "lab")
    assert f"Opened cycle {CYCLE}" in lab("chair", when, "cycle", "open", PROGRAM, "--year", "2027")
    for i in (1, 2, 3):
        assert f"Submitted project {i}" in lab.submit("2027-04-05T09:00", application(i))
    return lab


# ------------------------------------------------------------------------------------------ loading


def test_the_program_is_found_in_a_folder_of_tests_and_nowhere_else() -> None:
    program = ProgramRegistry([HERE]).get(PROGRAM)
    assert [s.kind.id for s in program.stages] == ["intake", "decision"]
    assert program.state_names["approved"] == "予以资助"
    decide = program.actions["decide"]
    assert [(p.id, p.kind, p.zh) for p in decide.params] == [
        ("result", "choice", "评议结论"),
        ("amount", "number", "资助金额（万元）"),
        ("start", "date", "执行起始日期"),
        ("matched", "yes_no", "单位配套经费"),
    ]
    assert decide.selectors == ("result",)
    assert PROGRAM not in ProgramRegistry([HERE.parents[1] / "programs"]).ids()


def test_program_show_lists_its_actions_with_their_labels(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "show.db", ENV)
    out = cli(None, "2027-04-01T09:00", "program", "show", PROGRAM)
    assert "重点实验室开放课题基金" in out
    assert "result           评议结论 Decision: choice, required: approve 予以资助 · decline 不予资助" in out
    shown = json.loads(cli(None, "2027-04-01T09:00", "program", "show", PROGRAM, "--json"))
    decide = next(a for a in shown["actions"] if a["id"] == "decide")
    assert decide["button"] == {"zh": "提交评议结果", "en": "Record the decision"}
    # without the folder, the shipped programs do not know it
    assert "No program 'lab-grant'" in Cli(tmp_path / "none.db")(
        None, "2027-04-01T09:00", "program", "show", PROGRAM, code=5
    )


# ------------------------------------------------------------------------------------------ the command line


def test_a_call_through_the_command_line(tmp_path: Path) -> None:
    lab = opened(tmp_path)
    out = lab("secretary", "2027-04-10T09:00", "project", "act", "accept", "1", "2", "-p", "track=young")
    assert "now in_library 待学术委员会评议" in out
    lab("secretary", "2027-04-10T09:00", "project", "act", "reject", "3", "--reason", "申请书未签章")
    lab("chair", "2027-05-10T09:00", "cycle", "advance")

    # the committee meets in June: in May the decision is refused and nothing changes
    store = SqlStore(f"sqlite:///{lab.db}")
    try:
        before = snapshot(store)
        out = lab("chair", "2027-05-10T09:00", "project", "act", "decide", "1", "-p", "result=approve", code=3)
        assert "[in_months] this is done in 6月 (now 2027-05-10)" in out
        assert snapshot(store) == before
    finally:
        store.dispose()

    args = ("-p", "result=approve", "-p", "amount=20", "-p", "start=2027-07-01", "-p", "matched=yes")
    assert "now approved 予以资助" in lab("chair", "2027-06-10T09:00", "project", "act", "decide", "1", *args)
    out = lab(
        "chair", "2027-06-10T09:00", "project", "act", "decide", "2", "-p", "result=decline", "--reason", "经费有限"
    )
    assert "now declined 不予资助" in out
    states = {p["id"]: p["state"] for p in lab.cli.json("chair", "2027-06-11T09:00", "project", "list")}
    assert states == {1: "approved", 2: "declined", 3: "rejected"}
    shown = lab.cli.json("chair", "2027-06-11T09:00", "project", "show", "1")
    decided = next(e for e in shown["history"] if e["action"] == "decide")
    assert decided["data"]["result"] == "approve" and decided["data"]["start"] == "2027-07-01"
    # the track, declared as written on the application, is there (and in the history)
    assert shown["project"]["application"]["review"] == {"track": "young"}
    accepted = next(e for e in shown["history"] if e["action"] == "accept")
    assert accepted["data"]["track"] == "young"


def test_the_command_line_reads_parameters_by_their_declaration(tmp_path: Path) -> None:
    lab = opened(tmp_path)
    # the track is required: refused as the rule "parameters", beside any other rule, and nothing changes
    out = lab("secretary", "2027-04-10T09:00", "project", "act", "accept", "3", code=3)
    assert "[parameters] track: required (评审组别)" in out
    lab("secretary", "2027-04-10T09:00", "project", "act", "accept", "1", "-p", "评审组别=青年组")
    lab("chair", "2027-05-10T09:00", "cycle", "advance", code=3)  # projects 2 and 3 wait
    lab("secretary", "2027-04-10T09:00", "project", "act", "reject", "2", "3", "--reason", "超出研究方向")
    lab("chair", "2027-05-10T09:00", "cycle", "advance")
    args = ("-p", "评议结论=予以资助", "-p", "资助金额（万元）=20", "-p", "单位配套经费=是")
    assert "now approved 予以资助" in lab("chair", "2027-06-10T09:00", "project", "act", "decide", "1", *args)
    shown = lab.cli.json("chair", "2027-06-11T09:00", "project", "show", "1")
    decided = next(e for e in shown["history"] if e["action"] == "decide")
    assert decided["data"]["matched"] is True and decided["data"]["amount"] == 20


# ------------------------------------------------------------------------------------------ the API


@pytest.fixture
def api(tmp_path: Path):
    """The API on a call in the committee stage (projects 1 and 2 accepted, 3 rejected), on an
    engine whose registry is given the folder (no environment needed); a client for the chair."""
    lab = opened(tmp_path)
    lab("secretary", "2027-04-10T09:00", "project", "act", "accept", "1", "2", "-p", "track=open")
    lab("secretary", "2027-04-10T09:00", "project", "act", "reject", "3", "--reason", "申请书未签章")
    lab("chair", "2027-05-10T09:00", "cycle", "advance")
    store = SqlStore(f"sqlite:///{lab.db}")
    engine = Engine(store, ProgramRegistry([HERE, HERE.parents[1] / "programs"]), SettableClock(sh(6, 10)))
    secret, _ = engine.new_token("chair", "chair", "tests")
    client = TestClient(create_app(engine), base_url="http://testserver")
    client.headers["Authorization"] = f"Bearer {secret}"
    yield client, store
    store.dispose()


def test_the_api_lists_the_declared_actions(api) -> None:
    client, _ = api
    answer = client.get(f"/api/programs/{PROGRAM}/actions")
    assert answer.status_code == 200
    actions = {a["id"]: a for a in answer.json()}
    assert {"submit", "accept", "reject", "decide", "advance", "appeal", "override"} <= set(actions)
    decide = actions["decide"]
    assert decide["zh"] == "学术委员会评议"
    assert [p["id"] for p in decide["params"]] == ["result", "amount", "start", "matched"]
    schema = decide["schema"]["properties"]
    assert schema["result"]["enum"] == ["approve", "decline"]
    assert schema["amount"] == {
        "title": "Amount (10k yuan)",
        "x-title-zh": "资助金额（万元）",
        "type": "number",
        "minimum": 0,
        "maximum": 50,
    }
    assert schema["start"]["format"] == "date" and schema["matched"]["type"] == "boolean"
    assert decide["schema"]["required"] == ["result"]


def test_the_api_checks_a_request_against_the_declaration(api) -> None:
    client, store = api
    before = snapshot(store)
    bad = client.post("/api/projects/1/actions/decide", json={"params": {"result": "maybe", "amount": 80}})
    assert bad.status_code == 400, bad.text
    text = bad.text
    assert "result: 'maybe': expected one of approve (予以资助), decline (不予资助)" in text
    assert "amount: 80: at most 50, not 80" in text
    assert snapshot(store) == before

    # named by their labels, a choice by its label: kept as the ids and typed values
    labelled = {"评议结论": "予以资助", "资助金额（万元）": 12, "执行起始日期": "2027-07-01", "单位配套经费": True}
    good = client.post("/api/projects/1/actions/decide", json={"params": labelled})
    assert good.status_code == 200, good.text
    assert good.json()["projects"][0]["state"] == "approved"
    shown = client.get("/api/projects/1").json()
    decided = next(e for e in shown["history"] if e["action"] == "decide")
    wanted = {"result": "approve", "amount": 12, "start": "2027-07-01", "matched": True}
    assert {k: decided["data"].get(k) for k in wanted} == wanted


def test_the_api_takes_a_fractional_number(api) -> None:
    client, _ = api
    answer = client.post("/api/projects/2/actions/decide", json={"params": {"result": "approve", "amount": 12.5}})
    assert answer.status_code == 200, answer.text
    decided = next(e for e in client.get("/api/projects/2").json()["history"] if e["action"] == "decide")
    assert decided["data"]["amount"] == 12.5  # the fraction kept


# ------------------------------------------------------------------------------------------ the console


def test_a_call_in_the_console(story_of) -> None:
    s = story_of("lab", ENV)
    cli, base = s.cli, s.base
    s.users(
        "2027-04-01T09:00",
        ("chair", "lab"),
        ("secretary", "city-admin", "lab"),
        ("ap", "applicant", "lab"),
        signed=("chair", "secretary"),
    )
    cli("chair", "2027-04-01T09:00", "cycle", "open", PROGRAM, "--year", "2027")
    for i in (1, 2):
        assert s.submit("ap", "2027-04-05T09:00", application(i)) == i

    s.server.start("2027-04-10T10:00")
    secretary = s.page("secretary")
    secretary.goto(f"{base}/")
    expect(secretary.locator("#stage")).to_contain_text("课题申请与形式审查")
    act(secretary, base, 1, "accept", choose={"评审组别": "青年组"})
    acted(secretary, 1, "形式审查通过", "待学术委员会评议", "评审组别：青年组")
    act(secretary, base, 2, "reject", reason="申请书未签章")
    acted(secretary, 2, "形式审查不通过", "形式审查未通过", "申请书未签章")

    s.server.start("2027-05-10T10:00")
    chair = s.page("chair")
    advance(chair, base, "课题申请与形式审查", "学术委员会评议")
    chair.goto(f"{base}/projects/1")
    form = chair.locator("#act-decide")
    expect(form.get_by_role("heading")).to_have_text("学术委员会评议")
    expect(form.get_by_role("button")).to_have_text("提交评议结果")
    s.shoot(chair, "project-lab-grant")

    # May: the committee has not met; the typed decision comes back with the rule's words
    fields = {"资助金额（万元）": "20", "执行起始日期": "2027-07-01"}
    before = snapshot(s.store)
    act(
        chair,
        base,
        1,
        "decide",
        choose={"评议结论": "予以资助"},
        fill=fields,
        tick=("单位配套经费",),
        reason="创新性强",
    )
    # the console reads Chinese: the rule by its name, the action by its label
    refusal = chair.locator(".flash.error")
    expect(refusal).to_contain_text("在规定月份办理：此事项在6月办理（今天是 2027-05-10）")
    expect(refusal).to_contain_text("学术委员会评议的办理时间为")
    assert snapshot(s.store) == before
    expect(form.get_by_label("评议结论")).to_have_value("approve")
    expect(form.get_by_label("资助金额（万元）")).to_have_value("20")
    expect(form.get_by_label("执行起始日期")).to_have_value("2027-07-01")
    expect(form.get_by_label("单位配套经费")).to_be_checked()

    s.server.start("2027-06-10T10:00")
    act(
        chair,
        base,
        1,
        "decide",
        choose={"评议结论": "予以资助"},
        fill=fields,
        tick=("单位配套经费",),
        reason="创新性强",
    )
    acted(
        chair,
        1,
        "学术委员会评议",
        "予以资助",
        "创新性强；评议结论：予以资助；资助金额（万元）：20；执行起始日期：2027-07-01；单位配套经费：",
        record=("评议结论：予以资助",),
    )
    assert "approve" not in chair.locator("main").inner_text()
    ticked_shown_as_yes(chair, "单位配套经费")
