"""A reason the program's declaration requires (``reason = "required"``), asked by the engine's
one door itself: whoever fires the action — the console, the API, the command line or Python —
an empty or blank reason is refused as malformed input (exit 7) before any rule is judged, once
for a whole batch, and nothing is written: no state, no version, no audit row."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.sql import SqlStore
from tests.conftest import LEAD, PROGRAM, admin, sh, snapshot
from workflow.engine import Engine
from workflow.errors import InvalidInput
from workflow.program import ProgramRegistry

REJECT_NEEDS_A_REASON = "reason: required (退回理由)"  # G60's reject: 退回, reason = "required"


def project_row(engine: Engine, pid: int) -> tuple[str, int, int]:
    """What a refusal must leave as it was: the project's state, its version, its audit rows."""
    project, _, history = engine.project(LEAD, pid)
    return project.state, project.version, len(history)


def refused_input(store: SqlStore, action, *args, **kwargs) -> InvalidInput:
    """Run ``action`` expecting InvalidInput (exit code 7), and prove the database did not change."""
    before = snapshot(store)
    with pytest.raises(InvalidInput) as err:
        action(*args, **kwargs)
    assert err.value.exit_code == 7
    assert snapshot(store) == before
    return err.value


@pytest.mark.parametrize("reason", ["", "   ", "\t\n 　"], ids=["empty", "spaces", "whitespace"])
def test_a_rejection_without_a_reason_is_refused_and_changes_nothing(at_stage, reason):
    s = at_stage("collection")
    pid = s.ids["hefei"][0]
    before = project_row(s.engine, pid)
    err = refused_input(s.store, s.engine.fire, admin("hefei"), pid, "reject", reason)
    assert tuple(map(str, err.problems)) == (REJECT_NEEDS_A_REASON,)
    assert str(err) == f"Invalid action: {REJECT_NEEDS_A_REASON}."
    assert before[0] == "submitted" and project_row(s.engine, pid) == before


def test_the_reason_is_asked_before_any_rule_is_judged(at_stage):
    """After the collection window has closed a rejection is refused by [stage_window]; without a
    reason it is refused as malformed first, so the rules are never asked."""
    s = at_stage("collection")
    pid = s.ids["hefei"][0]
    s.clock.set(sh(3, 1, 0, 0, 0))
    err = refused_input(s.store, s.engine.fire, admin("hefei"), pid, "reject")
    assert tuple(map(str, err.problems)) == (REJECT_NEEDS_A_REASON,)
    assert "stage_window" not in str(err)


def test_a_batch_of_three_without_a_reason_is_refused_whole_once(at_stage):
    s = at_stage("collection")
    ids = s.ids["hefei"][:3]
    before = [project_row(s.engine, pid) for pid in ids]
    err = refused_input(s.store, s.engine.fire, admin("hefei"), ids, "reject", " ")
    assert tuple(map(str, err.problems)) == (REJECT_NEEDS_A_REASON,)  # once, not once per project
    err = refused_input(s.store, s.engine.fire_each, admin("hefei"), [(pid, {}) for pid in ids], "reject")
    assert tuple(map(str, err.problems)) == (REJECT_NEEDS_A_REASON,)
    assert [project_row(s.engine, pid) for pid in ids] == before


def test_a_rejection_with_a_reason_goes_through_and_keeps_it(at_stage):
    s = at_stage("collection")
    ids = s.ids["hefei"][:3]
    done = s.engine.fire(admin("hefei"), ids, "reject", "材料不全")
    assert [p.state for p in done] == ["rejected"] * 3
    _, _, history = s.engine.project(LEAD, ids[0])
    assert history[-1].action == "reject" and history[-1].reason == "材料不全"


def test_an_optional_reason_may_be_empty(at_stage):
    s = at_stage("collection")
    assert s.engine.programs.get(PROGRAM).actions["accept"].reason == "optional"
    pid = s.ids["hefei"][0]
    [project] = s.engine.fire(admin("hefei"), pid, "accept", "")
    assert project.state == "in_library"


# ------------------------------------------------------------------------------ a list decision
def _confirm_requires_a_reason(tmp_path: Path) -> ProgramRegistry:
    """G60 as a program whose ``confirm`` declares its reason required."""
    text = (Path(__file__).parents[2] / "programs" / f"{PROGRAM}.toml").read_text(encoding="utf-8")
    head = '[actions.confirm]\nzh = "确认名单"\nen = "Confirm the list"\n'
    assert head in text
    folder = tmp_path / "programs"
    folder.mkdir()
    (folder / f"{PROGRAM}.toml").write_text(text.replace(head, head + 'reason = "required"\n'), encoding="utf-8")
    return ProgramRegistry([folder])


def test_a_list_decision_whose_declaration_requires_a_reason_is_refused_without_one(at_stage, tmp_path):
    s = at_stage("proposed")
    engine = Engine(s.store, _confirm_requires_a_reason(tmp_path), s.clock)
    err = refused_input(s.store, engine.confirm_list, admin("hefei"), reason=" ")
    assert tuple(map(str, err.problems)) == ("reason: required (确认名单理由)",)
    assert engine.confirm_list(admin("hefei"), reason="已核对").status == "proposed"


def test_an_objection_without_a_reason_keeps_its_own_words(at_stage):
    s = at_stage("proposed")
    err = refused_input(s.store, s.engine.confirm_list, admin("hefei"), decision="object")
    assert str(err) == "Invalid objection: an objection needs --reason."
