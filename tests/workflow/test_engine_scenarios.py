"""The checkpoints of tests/workflow/checkpoints.py are where they say they are."""

from __future__ import annotations

import pytest

from tests.conftest import CITIES, LEAD, admin
from tests.workflow.checkpoints import CHECKPOINTS, HEFEI_SHORT

# ------------------------------------------------------------------------------ the checkpoints


EXPECTED = {
    "collection": ("collection", {"submitted": 54}, None),
    "municipal_review": ("municipal_review", {"in_library": 54}, None),
    "recommendation": ("recommendation", {"municipal_demonstration": 45, "municipal_excellent": 9}, None),
    "joint_scoring": ("joint_scoring", {"recommended": 45, "municipal_excellent": 9}, None),
    "hefei_short": ("joint_scoring", {"recommended": 45, "municipal_excellent": 9}, None),
    "confirmation": ("confirmation", {"recommended": 45, "municipal_excellent": 9}, None),
    "proposed": ("confirmation", {"recommended": 45, "municipal_excellent": 9}, "proposed"),
    "confirmed": ("publication", {"recommended": 45, "municipal_excellent": 9}, "confirmed"),
    "published": (
        "publication",
        {"listed_demonstration": 2, "listed_excellent": 3, "not_listed": 40, "municipal_excellent": 9},
        "published",
    ),
}


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_checkpoint_is_where_it_says(at_stage, name):
    staged = at_stage(name)
    stage, states, list_status = EXPECTED[name]
    engine = staged.engine
    assert engine.get_cycle(None).stage == stage
    found: dict[str, int] = {}
    for p in engine.projects(LEAD):
        found[p.state] = found.get(p.state, 0) + 1
    assert found == states
    status = engine.status(LEAD)
    assert (status["list"] or {}).get("status") == list_status
    sheets = {c["city"]: c["sheets"] for c in status["cities"]}
    if name in ("collection", "municipal_review", "recommendation", "joint_scoring"):
        assert set(sheets.values()) == {0}
    elif name == "published":
        assert set(sheets.values()) == {45}  # the sheets stay counted after the projects are placed
    elif name == "hefei_short":
        assert sheets == {c: 45 if c != "hefei" else HEFEI_SHORT for c in CITIES}
    else:
        assert set(sheets.values()) == {45}


def test_checkpoint_copies_are_private(at_stage):
    """A change in one test's copy is invisible to the next copy of the same checkpoint."""
    first = at_stage("collection")
    pid = first.ids["hefei"][0]
    first.engine.fire(admin("hefei"), pid, "accept")
    second = at_stage("collection")
    assert second.engine.project(LEAD, pid)[0].state == "submitted"


def test_published_list_matches_the_sheets(at_stage):
    staged = at_stage("published")
    _, versions, confirmations = staged.engine.list_versions(LEAD)
    assert [(v.number, v.status) for v in versions] == [(1, "published")]
    entries = versions[0].entries
    assert [e.project_id for e in entries[:2]] == sorted(staged.high)
    assert {e.project_id for e in entries[2:5]} == set(staged.mid)
    assert [e.category for e in entries] == ["demonstration"] * 2 + ["excellent"] * 3 + ["none"] * 40
    assert entries[0].score == "94.0000" and entries[2].score == "78.0000" and entries[5].score == "62.0000"
    assert {c.city for c in confirmations[versions[0].id]} == set(CITIES)
