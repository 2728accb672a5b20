"""Read commands take --json before or after the command name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main


@pytest.mark.parametrize("where", ["before", "after"])
def test_json_flag_before_or_after_the_command(tmp_path: Path, where: str) -> None:
    db = str(tmp_path / "j.db")
    runner = CliRunner()
    base = ["--db", db, "--now", "2027-01-05T09:00"]
    assert runner.invoke(main, [*base, "init"]).exit_code == 0
    assert runner.invoke(main, [*base, "user", "add", "lead", "--role", "lead", "--city", "songjiang"]).exit_code == 0
    assert (
        runner.invoke(
            main, [*base, "--as", "lead", "cycle", "open", "g60-deep-integration", "--year", "2027"]
        ).exit_code
        == 0
    )
    argv = (
        [*base, "--as", "lead", "--json", "cycle", "status"]
        if where == "before"
        else [*base, "--as", "lead", "cycle", "status", "--json"]
    )
    result = runner.invoke(main, argv)
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["stage"] == "collection" and len(status["cities"]) == 9


@pytest.mark.parametrize("name", ["reason", "expected_version", "acting", "project_ids", "trigger", "verb"])
def test_an_action_parameter_cannot_take_the_name_of_the_call_s_own(tmp_path, name):
    """`project act -p reason=…` would be taken for the command's own argument: a usage error, not a crash."""
    result = CliRunner().invoke(
        main, ["--db", str(tmp_path / "x.db"), "--as", "lead", "project", "act", "review", "1", "-p", f"{name}=x"]
    )
    assert result.exit_code == 2
    assert f"--param '{name}=x': {name} is not a parameter of an action" in result.output
    assert "Traceback" not in result.output
