"""Overrides through the command line: `override add / list / revoke`, what `cycle status`,
`cycle advance` and the histories say about them, and each refusal as one line with its exit code.

Runs on a copy of checkpoint "recommendation" (tests/workflow/checkpoints.py): every city
recommends its 5 municipal demonstration projects, hefei only 3.
"""

from __future__ import annotations

import json

import pytest

from store.sql import SqlStore
from tests.cli.test_full_cycle import Cli
from tests.conftest import CITIES, snapshot
from tests.workflow.checkpoints import HEFEI_SHORT, Staged, at_stage, stage_templates

FIXTURES = (at_stage, stage_templates)  # the checkpoint fixtures, used by name below

MAY = "2027-05-05T09:00"
LATER = "2027-05-11T09:00"
REASON = "合肥市仅评出3个示范项目"
SHORT = "[min_recommendations] hefei has 3 of the 5 required recommendations"
NOTE = f"{SHORT} — overridden by override 1 (lead: {REASON})"


@pytest.fixture
def short(at_stage) -> tuple[Staged, Cli]:
    s = at_stage("recommendation")
    cli = Cli(s.store.sqlite_path())
    for c in CITIES:
        ids = s.demos[c][:3] if c == "hefei" else s.demos[c]
        out = cli(f"{c}-admin", MAY, "recommend", *map(str, ids))
        assert out.count("Recommended project") == len(ids)
    return s, cli


def rows(history: str, action: str) -> list[str]:
    """The lines of a printed history (date time subject id action …) for one action."""
    return [x for x in history.splitlines() if x.split()[4:5] == [action]]


def test_override_lets_the_stage_close_and_is_shown_everywhere(short):
    s, cli = short
    out = cli("lead", LATER, "cycle", "advance", code=3)
    assert out.strip() == f"Error: Cannot close stage 'recommendation' of cycle g60-2027: {SHORT}."
    status = cli("lead", LATER, "cycle", "status")
    assert "Override" not in status
    assert f"  {SHORT}" in status.splitlines()

    out = cli("lead", LATER, "override", "add", "min_recommendations", "--city", "hefei", "--reason", REASON)
    assert out == "Override 1: min_recommendations no longer holds back hefei\n"

    # every user reads the status: the override and what it lifts
    for user in ("lead", "hefei-admin"):
        status = cli(user, LATER, "cycle", "status").splitlines()
        assert f"Override 1: min_recommendations lifted for hefei by lead «{REASON}»" in status
        assert f"  overridden: {NOTE}" in status
        assert "Closing rules hold: the lead may advance." in status
        assert "Before this stage can close:" not in status

    assert (
        cli("lead", LATER, "cycle", "advance", "--dry-run") == "Stage 'recommendation' can close; next: joint_scoring\n"
    )
    assert cli("lead", LATER, "cycle", "advance") == (
        "Closed 'recommendation'; cycle g60-2027 is now in stage 'joint_scoring'\n"
    )

    history = cli("lead", LATER, "cycle", "history")
    [added] = rows(history, "override")
    assert "cycle g60-2027" in added and "by lead" in added
    assert f"«{REASON}»" in added
    assert added.endswith("— override 1: rule min_recommendations lifted for hefei")
    [advance] = [x for x in rows(history, "advance") if "recommendation → joint_scoring" in x]
    assert advance.endswith(f"— stage recommendation closed before its window ended [{NOTE}]")


def test_override_list_and_revoke(short):
    s, cli = short
    cli("lead", LATER, "override", "add", "min_recommendations", "--city", "hefei", "--reason", REASON)
    cli("lead", LATER, "override", "add", "all_sheets_in", "--reason", "试行")
    assert cli("hefei-admin", LATER, "override", "list") == (
        f"override 1: min_recommendations for hefei by lead «{REASON}» [active]\n"
        "override 2: all_sheets_in for every party by lead «试行» [active]\n"
        "2 overrides\n"
    )

    out = cli("lead", "2027-05-11T10:00", "override", "revoke", "1", "--reason", "合肥市已补充推荐")
    assert out == "Revoked override 1: min_recommendations applies again to hefei\n"
    assert cli("lead", LATER, "override", "list").splitlines()[0] == (
        f"override 1: min_recommendations for hefei by lead «{REASON}» [revoked by lead «合肥市已补充推荐»]"
    )
    listed = cli.json("lead", LATER, "override", "list")
    assert listed == [
        {
            "id": 1,
            "rule": "min_recommendations",
            "reason": REASON,
            "by": "lead",
            "at": "2027-05-11T01:00:00+00:00",
            "city": "hefei",
            "project": None,
            "revoked": {"by": "lead", "at": "2027-05-11T02:00:00+00:00", "reason": "合肥市已补充推荐"},
        },
        {
            "id": 2,
            "rule": "all_sheets_in",
            "reason": "试行",
            "by": "lead",
            "at": "2027-05-11T01:00:00+00:00",
            "city": None,
            "project": None,
            "revoked": None,
        },
    ]

    # the rule applies again: status and advance say so
    status = cli("lead", LATER, "cycle", "status").splitlines()
    assert [x for x in status if x.startswith("Override ")] == [
        "Override 2: all_sheets_in lifted for every party by lead «试行»"
    ]
    assert not [x for x in status if "overridden:" in x]
    assert f"  {SHORT}" in status
    assert cli.json("lead", LATER, "cycle", "status")["overrides"][0]["id"] == 2
    cli("lead", LATER, "cycle", "advance", code=3)
    assert "override 1 (min_recommendations) revoked" in cli("lead", LATER, "cycle", "history")


def test_a_project_scope_for_a_stage_rule_is_refused(at_stage):
    s = at_stage("hefei_short")
    cli = Cli(s.store.sqlite_path())
    pid = s.shortlist[-1]
    before = snapshot(SqlStore(f"sqlite:///{s.store.sqlite_path()}"))
    out = cli(
        "lead",
        "2027-05-15T10:00",
        "override",
        "add",
        "all_sheets_in",
        "--project",
        str(pid),
        "--reason",
        "回避",
        code=7,
    )
    assert "all_sheets_in is checked for a whole stage or list, not for one project's action; use --city" in out
    assert snapshot(SqlStore(f"sqlite:///{s.store.sqlite_path()}")) == before


def test_excusing_a_city_from_scoring_on_the_command_line(at_stage):
    s = at_stage("hefei_short")
    cli = Cli(s.store.sqlite_path())
    when = "2027-05-16T09:00"
    out = cli("lead", when, "cycle", "advance", code=3)
    assert f"[all_sheets_in] hefei has scored {HEFEI_SHORT} of 45 key-library projects" in out
    cli("lead", when, "override", "add", "all_sheets_in", "--city", "hefei", "--reason", "合肥市回避评分")
    assert "now in stage 'confirmation'" in cli("lead", when, "cycle", "advance")
    proposed = cli("lead", "2027-05-20T09:00", "list", "propose").splitlines()
    assert proposed[0].startswith("List version 1 (proposed, mean), proposed by lead")
    assert len([x for x in proposed if "《" in x]) == 45
    propose = rows(cli("lead", when, "cycle", "history"), "propose")
    assert propose[-1].endswith(
        f"[[all_sheets_in] hefei has scored {HEFEI_SHORT} of 45 key-library projects — overridden by override 1 "
        "(lead: 合肥市回避评分)]"
    )


ERRORS = [
    (
        "not_overridable",
        "lead",
        ["override", "add", "municipal_quota", "--city", "songjiang", "--reason", "理由"],
        3,
        "Error: Cannot override rule municipal_quota in cycle g60-2027: [overridable] municipal_quota may not be "
        "overridden in g60-deep-integration (overridable: min_recommendations, all_sheets_in).",
    ),
    (
        "not_the_lead",
        "hefei-admin",
        ["override", "add", "min_recommendations", "--city", "hefei", "--reason", REASON],
        4,
        "Error: Not permitted to override rule min_recommendations in cycle g60-2027: hefei-admin is city-admin; "
        "override is done by lead.",
    ),
    (
        "revoke_not_the_lead",
        "hefei-admin",
        ["override", "revoke", "1", "--reason", "撤销"],
        4,
        "hefei-admin is city-admin; override is done by lead.",
    ),
    (
        "unknown_city",
        "lead",
        ["override", "add", "min_recommendations", "--city", "nanjing", "--reason", REASON],
        5,
        "Error: No city 'nanjing'; the program's cities are songjiang, jiaxing, hangzhou, jinhua, suzhou, huzhou, "
        "xuancheng, wuhu, hefei.",
    ),
    (
        "unknown_project",
        "lead",
        ["override", "add", "all_sheets_in", "--project", "9999", "--reason", REASON],
        5,
        "Error: No project 9999.",
    ),
    ("unknown_override", "lead", ["override", "revoke", "7", "--reason", "撤销"], 5, "Error: No override 7."),
    (
        "blank_reason",
        "lead",
        ["override", "add", "min_recommendations", "--city", "hefei", "--reason", "  "],
        7,
        "Error: Invalid override: an override needs --reason.",
    ),
    (
        "blank_revoke_reason",
        "lead",
        ["override", "revoke", "1", "--reason", ""],
        7,
        "Error: Invalid override: revoking an override needs --reason.",
    ),
]


@pytest.mark.parametrize(("user", "args", "code", "message"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_override_refusals_are_one_line_and_change_nothing(short, user, args, code, message):
    s, cli = short
    cli("lead", LATER, "override", "add", "min_recommendations", "--city", "hefei", "--reason", REASON)
    before = snapshot(s.store)
    out = cli(user, LATER, *args, code=code)
    assert out.strip().startswith("Error: ")
    assert message in out.strip()
    assert snapshot(s.store) == before


def test_revoking_twice_is_invalid(short):
    s, cli = short
    cli("lead", LATER, "override", "add", "min_recommendations", "--city", "hefei", "--reason", REASON)
    cli("lead", LATER, "override", "revoke", "1", "--reason", "合肥市已补充推荐")
    before = snapshot(s.store)
    out = cli("lead", LATER, "override", "revoke", "1", "--reason", "再次撤销", code=7)
    assert out.strip() == "Error: Invalid override: override 1 was already revoked."
    assert snapshot(s.store) == before


def test_an_override_without_a_reason_is_a_usage_error(short):
    s, cli = short
    before = snapshot(s.store)
    out = cli("lead", LATER, "override", "add", "min_recommendations", "--city", "hefei", code=2)
    assert "Missing option '--reason'" in out
    assert snapshot(s.store) == before


def test_a_refusal_with_json_is_one_json_line(short):
    s, cli = short
    out = cli("lead", LATER, "--json", "override", "add", "municipal_quota", "--reason", "理由", code=3, report=True)
    body = json.loads(out)
    assert {k: body[k] for k in ("error", "message")} == {
        "error": "refused",
        "message": "Cannot override rule municipal_quota in cycle g60-2027: [overridable] municipal_quota may not be "
        "overridden in g60-deep-integration (overridable: min_recommendations, all_sheets_in).",
    }
    # beside the text, the message's id and parameters, and each rule with its own
    assert body["message_id"]["id"] == "Cannot {verb} {subject}: {reasons}."
    assert [r["rule"] for r in body["reasons"]] == ["overridable"]
