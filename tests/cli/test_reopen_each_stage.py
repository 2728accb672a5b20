"""An upheld appeal reopens a published project into each earlier stage, through the CLI.

For every stage a project can be reopened to, the project waits in that stage's state, what it
gained since is superseded (and kept), it can be acted on in that stage although the cycle is
in publication and the windows have closed, and no other project can.
"""

from __future__ import annotations

import pytest

from store.sql import SqlStore
from tests.cli.test_full_cycle import SHEETS, Cli
from tests.workflow.checkpoints import at_stage, stage_templates  # noqa: F401  (fixtures)

NOW = "2027-06-14T10:00"
LATER = "2027-06-15T10:00"

# stage → (state after the reopen, what the history says was superseded, what is kept)
CASES = {
    "collection": ("submitted", ["review result demonstration (site)", "9 score sheets", "list version 1"], []),
    "municipal_review": (
        "in_library",
        ["review result demonstration (site)", "9 score sheets", "list version 1"],
        [],
    ),
    "recommendation": ("municipal_demonstration", ["9 score sheets", "list version 1"], ["municipal result"]),
    "joint_scoring": ("recommended", ["9 score sheets", "list version 1"], ["municipal result"]),
    "confirmation": ("recommended", ["list version 1"], ["municipal result", "score sheets"]),
}


def _act_in_stage(cli: Cli, stage: str, pid: int, other: int) -> None:
    """The reopened project can be acted on in ``stage``; ``other`` (same city, not reopened) cannot."""
    admin = "songjiang-admin"
    if stage == "collection":
        out = cli(admin, LATER, "project", "accept", str(pid))
        assert "now in_library" in out
    elif stage == "municipal_review":
        out = cli(admin, LATER, "review", str(pid), "--result", "demonstration", "--method", "onsite")
        assert "now municipal_demonstration" in out
        refused = cli(admin, LATER, "review", str(other), "--result", "none", "--method", "site", code=3)
        assert "[stage_window] review belongs to stage 'municipal_review', but the cycle is in stage 'publication'" in (
            refused
        )
    elif stage == "recommendation":
        out = cli(admin, LATER, "recommend", str(pid))
        assert "now recommended" in out
    elif stage == "joint_scoring":
        out = cli("hefei-scorer", LATER, "score", str(pid), *SHEETS["high"])
        assert "total 94" in out
        refused = cli("hefei-scorer", LATER, "score", str(other), *SHEETS["high"], code=3)
        assert "[stage_window]" in refused
    else:
        out = cli("lead", LATER, "list", "propose", "--tie-order", "1,49")
        assert "List version 2 (proposed" in out
        assert "changes from version 1" in out


@pytest.mark.parametrize("stage", list(CASES), ids=list(CASES))
def test_reopen_a_published_project_into(stage: str, at_stage) -> None:  # noqa: F811
    s = at_stage("published")
    pid, other = s.high[0], s.demos["songjiang"][1]  # songjiang's best project, listed 示范
    path = s.store.sqlite_path()
    s.store.dispose()
    cli = Cli(path)
    filed = cli("songjiang-applicant", NOW, "appeal", "file", str(pid), "--reason", "名次有误，申请复核")
    assert f"against project {pid}'s result 'listed_demonstration'" in filed
    out = cli("lead", NOW, "appeal", "decide", "1", "--uphold", "--reopen-to", stage, "--reason", "复核")
    state, superseded, kept = CASES[stage]
    assert f"Upheld appeal 1: project {pid} reopened to '{stage}', now {state}" in out

    history = cli("lead", NOW, "project", "history", str(pid)).splitlines()
    reopen = [line for line in history if " reopen " in line]
    assert len(reopen) == 1 and f"listed_demonstration → {state}" in reopen[0]
    for gone in superseded:
        assert gone in reopen[0], (gone, reopen[0])
    for stays in kept:
        assert stays not in reopen[0], (stays, reopen[0])
    status = cli("lead", NOW, "cycle", "status")
    assert "List reopened by appeals 1 (was version 1)" in status

    store = SqlStore(f"sqlite:///{path}")
    with store.transaction(write=False) as tx:
        sheets = tx.sheets_of(pid)
        project = tx.get_project(pid)
    store.dispose()
    assert len(sheets) == 9  # superseded sheets are kept
    assert sum(x.current for x in sheets) == (9 if stage == "confirmation" else 0)
    assert project.reopened_to == stage
    assert (project.review_result is None) == (stage in ("collection", "municipal_review"))

    _act_in_stage(cli, stage, pid, other)
