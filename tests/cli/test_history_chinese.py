"""``project history`` in Chinese: states by their declared names (no ``new →`` ids), actions by
their labels, each entry told in Chinese; under ``--lang en`` today's lines word for word."""

from __future__ import annotations

import pytest

from tests.cli.test_cli_chinese import FEB, cli_for
from tests.workflow.checkpoints import at_stage, stage_templates  # noqa: F401  (fixtures)

FIXTURES = (at_stage, stage_templates)


@pytest.fixture(autouse=True)
def no_language_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """As a user runs evalflow: no EVALFLOW_LANG (the test suite sets English for every other test)."""
    monkeypatch.delenv("EVALFLOW_LANG", raising=False)


def test_a_projects_history_in_chinese_and_in_english(at_stage) -> None:
    s = at_stage("collection")
    cli = cli_for(s)
    pid = s.ids["hefei"][0]
    cli("hefei-admin", FEB, "project", "accept", str(pid))
    program = s.engine.program_of(s.engine.get_cycle(None))
    submitted, in_library = program.state_name("submitted"), program.state_name("in_library")

    history = cli("lead", FEB, "project", "history", str(pid))
    assert "new →" not in history and "submitted" not in history and "in_library" not in history
    assert f"→ {submitted}" in history
    assert f"{submitted} → {in_library}" in history
    assert program.actions["accept"].zh in history
    assert "确认入库（城市项目库）" in history

    english = cli("lead", FEB, "--lang", "en", "project", "history", str(pid))
    assert "submitted → in_library" in english
    assert "accepted into the city project library" in english
