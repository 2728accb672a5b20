"""A reason the program declares required, through the generic `project act TRIGGER IDS`: the
command has no --reason of its own that click could require, so the engine's door asks for it
(see tests/workflow/test_engine_reasons.py)."""

from __future__ import annotations

from store.sql import SqlStore
from tests.cli.test_full_cycle import Cli
from tests.conftest import snapshot
from tests.workflow import checkpoints

# the prebuilt-cycle fixtures, registered in tests/workflow/conftest.py only
at_stage = checkpoints.at_stage
stage_templates = checkpoints.stage_templates

FEB = "2027-02-20T10:00"  # in G60's collection window


def test_project_act_reject_without_a_reason_exits_7_in_one_line_and_changes_nothing(at_stage) -> None:
    s = at_stage("collection")
    path = s.store.sqlite_path()
    s.store.dispose()  # (the checkpoint's own connection, closed before the command line opens it)
    cli = Cli(path)
    store = SqlStore(cli.url)
    pid = str(s.ids["hefei"][0])
    before = snapshot(store)
    # (Cli checks that a failure prints one line, 'Error: …', and no traceback)
    out = cli("hefei-admin", FEB, "project", "act", "reject", pid, code=7)
    assert out.strip() == "Error: Invalid action: reason: required (退回理由)."
    out = cli("hefei-admin", FEB, "project", "act", "reject", pid, "--reason", "   ", code=7)
    assert "reason: required (退回理由)" in out
    assert snapshot(store) == before
    out = cli("hefei-admin", FEB, "project", "act", "reject", pid, "--reason", "材料不全")
    assert f"project {pid}: now rejected" in out
    store.dispose()
