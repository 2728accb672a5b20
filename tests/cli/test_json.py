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
