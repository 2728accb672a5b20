"""The command line's own words in Chinese when no language is named (its users are Chinese
officials), and today's English word for word under ``--lang en`` (scripts read it).

A short G60 flow on the stage checkpoints: an acceptance, a cycle's status, a refusal, a score.
"""

from __future__ import annotations

import pytest

from tests.cli.test_full_cycle import Cli
from tests.workflow.checkpoints import Staged, at_stage, stage_templates  # noqa: F401  (fixtures)

FIXTURES = (at_stage, stage_templates)

FEB = "2027-02-20T10:00"  # collection's window has closed; submissions are decided
JOINT = "2027-05-11T10:00"  # checkpoint joint_scoring
SHEET = ("--value", "13", "--organization", "18", "--effectiveness", "18", "--mechanism", "13")


@pytest.fixture(autouse=True)
def no_language_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """As a user runs evalflow: no EVALFLOW_LANG (the test suite sets English for every other test)."""
    monkeypatch.delenv("EVALFLOW_LANG", raising=False)


def cli_for(s: Staged) -> Cli:
    path = s.store.sqlite_path()
    assert path is not None
    return Cli(path)


def test_acceptance_status_and_refusals_in_chinese_and_in_english(at_stage) -> None:
    s = at_stage("collection")
    cli = cli_for(s)
    first, second = s.ids["hefei"][:2]

    # an acceptance: the program's words for the action and the state, no ids
    assert cli("hefei-admin", FEB, "project", "accept", str(first)).strip() == (
        f"确认入库：项目 {first}，当前状态：入城市项目库"
    )
    english = cli("hefei-admin", FEB, "--lang", "en", "project", "accept", str(second))
    assert english.strip() == f"Accepted project {second}: now in_library 入城市项目库"

    # the cycle's status: the heading, the time left and the parties by name
    status = cli("lead", FEB, "cycle", "status").splitlines()
    assert status[1].startswith("第 1/6 阶段：项目征集 — 时间 ")
    assert status[1].endswith("（剩余 8 天 14 小时）")
    assert status[2].startswith("城市") and status[3].startswith("松江区")
    assert "本阶段关闭前尚需：" in status
    status = cli("lead", FEB, "--lang", "en", "cycle", "status").splitlines()
    assert status[1].startswith("Stage 1/6: collection 项目征集 — window ") and status[1].endswith("(8 d 14 h left)")
    assert status[2].startswith("city") and status[3].startswith("songjiang")
    assert "Before this stage can close:" in status

    # a refusal by the rules: one line, in Chinese; the English as scripts read it
    refused = cli("lead", FEB, "cycle", "advance", code=3, report=True).strip()
    assert refused.startswith("错误：") and "\n" not in refused
    refused = cli("lead", FEB, "--lang", "en", "cycle", "advance", code=3).strip()
    assert refused.startswith("Error: Cannot close stage 'collection' of cycle g60-2027: [window_ended]")

    # a refusal of the command line's own
    said = cli("hefei-scorer", FEB, "vote", str(first), code=2)
    assert "请指定 --for（赞成）或 --against（反对）" in said
    said = cli("hefei-scorer", FEB, "--lang", "en", "vote", str(first), code=2)
    assert "Error: say --for or --against" in said


def test_a_score_in_chinese_and_in_english(at_stage) -> None:
    s = at_stage("joint_scoring")
    cli = cli_for(s)
    first, second = sorted(s.shortlist)[:2]
    assert cli("hefei-scorer", JOINT, "score", str(first), *SHEET).strip() == f"已评分 项目 {first}：总分 62"
    english = cli("hefei-scorer", JOINT, "--lang", "en", "score", str(second), *SHEET)
    assert english.strip() == f"Scored project {second}: total 62"


def test_list_rows_audit_and_database_lines_in_chinese_and_in_english(at_stage) -> None:
    s = at_stage("collection")
    cli = cli_for(s)
    first = s.ids["hefei"][0]
    cli("hefei-admin", FEB, "project", "accept", str(first))

    # a row of the list: the city and the state by name; the English row as scripts read it
    row = cli("lead", FEB, "project", "list", "--city", "hefei").splitlines()[0]
    assert row.split()[:3] == [str(first), "合肥市", "入城市项目库"]
    row = cli("lead", FEB, "--lang", "en", "project", "list", "--city", "hefei").splitlines()[0]
    assert row.startswith(f"{first:>5}  hefei      in_library               ")
    assert cli("lead", FEB, "cycle", "list").split()[-2:] == ["2027年度", "项目征集"]
    assert cli("lead", FEB, "--lang", "en", "cycle", "list").split() == [
        "g60-2027",
        "g60-deep-integration",
        "2027",
        "collection",
    ]

    # the audit trail's check and the database's schema
    assert cli("lead", FEB, "audit", "verify").startswith("审计记录完整：")
    assert cli("lead", FEB, "--lang", "en", "audit", "verify").startswith("The audit trail holds: ")
    assert cli("lead", FEB, "db", "current").strip().endswith("（已是最新）")
    assert cli("lead", FEB, "--lang", "en", "db", "current").strip().endswith(" (up to date)")


def test_a_history_names_what_each_entry_is_about_in_the_reader_s_language(at_stage) -> None:
    s = at_stage("collection")
    cli = cli_for(s)
    first = s.ids["hefei"][0]
    cli("hefei-admin", FEB, "project", "accept", str(first))
    zh = cli("lead", FEB, "project", "history", str(first)).splitlines()
    assert [line.split()[2:4] for line in zh] == [["项目", str(first)]] * 2
    # padded by the columns a terminal shows (a Chinese character takes two), so that the action
    # and the move start in the same column as in English
    shown = zh[1][: zh[1].index("确认入库")]
    assert sum(2 if "\u4e00" <= c <= "\u9fff" else 1 for c in shown) == len(f"2027-02-20 10:00  project {first:<10} ")
    en = cli("lead", FEB, "--lang", "en", "project", "history", str(first)).splitlines()
    assert en[1].startswith(f"2027-02-20 10:00  project {first:<10} accept           submitted → in_library")
