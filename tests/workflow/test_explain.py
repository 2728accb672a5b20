"""Why a project holds its rank (Engine.explain_rank) and what other places would change
(Engine.what_if), on the prebuilt cycles: 45 key-library projects, ``high`` 94 from every city,
``mid`` 78, ``low`` 62; 2 demonstration and 3 excellent places."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from tests.conftest import CITIES, LEAD, SHEET_LOW, SHEET_MID, admin, scorer, sh, snapshot
from tests.workflow.test_own_party import every, to_scoring
from workflow.engine import Engine
from workflow.engine.explain import OWN_EXCLUDED, TRIMMED_HIGH, TRIMMED_LOW
from workflow.errors import InvalidInput, NotPermitted
from workflow.program import ProgramRegistry

SHIPPED = Path(__file__).resolve().parents[2] / "programs" / "g60-deep-integration.toml"


@pytest.fixture
def trimmed(tmp_path: Path) -> ProgramRegistry:
    """The G60 program with its list's trimmed mean (one highest and one lowest left out)."""
    folder = tmp_path / "programs"
    folder.mkdir()
    body = SHIPPED.read_text(encoding="utf-8")
    (folder / SHIPPED.name).write_text(body.replace('aggregate = "mean"', 'aggregate = "trimmed_mean"'), "utf-8")
    return ProgramRegistry([folder])


def test_a_trimmed_mean_names_the_sheets_left_out_and_the_boundary(at_stage, trimmed):
    s = at_stage("hefei_short")  # hefei has scored the first 4 key projects
    engine = Engine(s.store, trimmed, s.clock)
    first = s.shortlist[0]  # a high project: 94 from every city
    engine.score(scorer("jiaxing"), first, SHEET_MID)  # 78
    engine.score(scorer("hefei"), first, SHEET_LOW)  # 62
    e = engine.explain_rank(LEAD, first)
    assert (e.method, e.trim) == ("trimmed_mean", 1)
    lines = {line.rater: line for line in e.sheets}
    assert lines["hefei"].left_out == TRIMMED_LOW and lines["jiaxing"].left_out is None
    assert [line.total for line in e.sheets if line.left_out == TRIMMED_HIGH] == [94]
    assert sum(1 for line in e.sheets if line.left_out is None) == 7
    assert e.mine.score == Fraction(78 + 6 * 94, 7) and e.mine.rank == 2 and e.mine.category == "demonstration"
    # the boundary after place 2: the first project below it is a mid one, 78
    b = e.boundary
    assert (b.edge, b.above, b.below) == (2, "demonstration", "excellent")
    assert b.across in s.mid and b.across_score == 78 and b.margin == Fraction(78 + 6 * 94, 7) - 78
    assert e.version is None and e.entry is None and e.tied_with == []


def test_a_tie_the_lead_settled_is_told_as_the_leads(at_stage):
    s = at_stage("hefei_short")
    dropped = s.mid[-1]  # wuhu's mid project scored low by every city: the lows tie across place 5
    for c in CITIES:
        s.engine.score(scorer(c), dropped, SHEET_LOW)
    high, mid = set(s.high), set(s.mid) - {dropped}
    for pid in s.shortlist[4:]:
        sheet = (
            {"value": 19, "organization": 28, "effectiveness": 28, "mechanism": 19}
            if pid in high
            else (SHEET_MID if pid in mid else SHEET_LOW)
        )
        s.engine.score(scorer("hefei"), pid, sheet)
    s.clock.set(sh(5, 16))
    s.engine.advance(LEAD)
    s.clock.set(sh(5, 20))
    lows = sorted(set(s.shortlist) - high - mid, reverse=True)  # (the lead's order: newest first)
    s.engine.propose_list(LEAD, tie_order=lows)
    e = s.engine.explain_rank(LEAD, lows[0])
    assert e.mine.rank == 5 and e.mine.category == "excellent" and e.mine.score == 62
    assert sorted(e.tied_with) == sorted(lows[1:]) and e.by_lead
    assert e.version.number == 1 and e.entry.rank == 5 and e.entry.category == "excellent"
    below = s.engine.explain_rank(LEAD, lows[1])
    assert below.mine.rank == 6 and below.mine.category == "none" and below.boundary.across == lows[0]
    assert below.boundary.margin == 0  # (tied: only the lead's order sets them apart)


def test_an_excluded_own_sheet_is_named_and_left_out(engine, clock):
    ids = to_scoring(engine, clock, "excluded")
    for c in CITIES:
        engine.fire(scorer(c), [pid for pid in every(ids) if pid not in ids[c]], "score", scores=SHEET_LOW)
        engine.fire(scorer(c), ids[c], "score", scores=SHEET_MID)
    e = engine.explain_rank(LEAD, ids["hefei"][0])
    assert e.own_party == "excluded"
    assert [(line.rater, line.left_out) for line in e.sheets if line.left_out] == [("hefei", OWN_EXCLUDED)]
    assert e.mine.score == 62 and sum(1 for line in e.sheets if line.left_out is None) == 8


def test_what_if_other_places_names_the_moves_and_saves_nothing(at_stage):
    s = at_stage("confirmation")  # exact: 2 high, 3 mid, 40 low
    before = snapshot(s.store)
    w = s.engine.what_if(LEAD, None, {"demonstration": 3})
    assert w.places_now == [("demonstration", 2), ("excellent", 3)]
    assert w.places_then == [("demonstration", 3), ("excellent", 3)]
    moved = {m.project_id: (m.before, m.after) for m in w.moves}
    top_mid = min(s.mid)  # (tied mids: by project id)
    assert moved[top_mid] == ("excellent", "demonstration")
    assert [m for m in w.moves if m.project_id in s.low] == [m for m in w.moves if m.after == "excellent"]
    assert len([m for m in w.moves if m.project_id in s.low]) == 1  # (place 6 reaches into the lows)
    # the new boundaries cut through the three mids' tie and the lows': both are left to settle
    said = [str(t) for t in w.ties]
    assert len(said) == 2
    assert "are tied at 78.0000 across the boundary between demonstration (place 3) and excellent" in said[0]
    assert "are tied at 62.0000 across the boundary between excellent (place 6) and none" in said[1]
    assert s.engine.what_if(LEAD, None, {}).moves == []
    with pytest.raises(InvalidInput) as err:
        s.engine.what_if(LEAD, None, {"gold": 3, "excellent": -1})
    said = str(err.value)
    assert "'gold' is not a list category of g60-deep-integration (demonstration, excellent)" in said
    assert "excellent places = -1 must be a whole number ≥ 0" in said
    with pytest.raises(NotPermitted):
        s.engine.what_if(admin("hefei"), None, {"demonstration": 3})
    with pytest.raises(NotPermitted):
        s.engine.explain_rank(admin("hefei"), s.shortlist[0])
    assert snapshot(s.store) == before


def test_a_kept_ranking_follows_every_sheet(at_stage):
    """The ranking a read keeps (ScoringActions.ranked_kept) is the sheets' as they stand: a sheet
    changed after one explanation moves the next, in the same process."""
    s = at_stage("hefei_short")
    top = s.high[0]
    before = s.engine.explain_rank(LEAD, top)
    assert before.mine.rank == 1
    for c in CITIES:  # every city now scores it low
        s.engine.score(scorer(c), top, SHEET_LOW)
    after = s.engine.explain_rank(LEAD, top)
    assert before.mine.score == 94 and after.mine.score == 62 and after.mine.rank > before.mine.rank
    assert len(after.tied_with) == 40  # (now tied with the forty lows at 62)
