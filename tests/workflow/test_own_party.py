"""A party on its own projects, as a cycle is opened (`[scoring] own_party`, `cycle open
--own-party`): "scores" (its sheet counts: G60's document), "recused" (it may not score them, and
no sheet of it is awaited there), "excluded" (its sheet is kept and shown, not counted in the mean).

Each test opens its own cycle and drives it to joint scoring through the engine: per city five
projects, all recommended (a key library of 45), 2 demonstration and 3 excellent places."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tests.conftest import (
    CITIES,
    LEAD,
    PROGRAM,
    SHEET_LOW,
    SHEET_MID,
    YEAR,
    admin,
    applicant,
    make_app,
    refused,
    scorer,
    sh,
)
from tests.conftest import snapshot as snap
from workflow.errors import InvalidInput, RuleRefused
from workflow.ranking import show

PER_CITY = 5  # (each city recommends at least five)
KEY = 9 * PER_CITY


def to_scoring(engine, clock, own_party: str | None) -> dict[str, list[int]]:
    """A cycle opened with ``own_party``, at joint scoring; its key library by city."""
    clock.set(sh(1, 2))
    engine.add_user(None, LEAD, "lead", "songjiang")
    for c in CITIES:
        engine.add_user(LEAD, admin(c), "city-admin", c)
        engine.add_user(LEAD, scorer(c), "scorer", c)
        engine.add_user(LEAD, applicant(c), "applicant", c)
    engine.open_cycle(LEAD, PROGRAM, YEAR, places={"demonstration": 2, "excellent": 3}, own_party=own_party)
    clock.set(sh(1, 10))
    ids = {
        c: [engine.submit(applicant(c), make_app(c, 10 * k + i)).id for i in range(PER_CITY)]
        for k, c in enumerate(CITIES)
    }
    clock.set(sh(2, 20))
    for c in CITIES:
        engine.fire(admin(c), ids[c], "accept")
    clock.set(sh(3, 2))
    engine.advance(LEAD)
    clock.set(sh(3, 10))
    for c in CITIES:
        engine.fire(admin(c), ids[c], "review", result="demonstration", method="site")
    clock.set(sh(5, 2))
    engine.advance(LEAD)
    clock.set(sh(5, 5))
    for c in CITIES:
        engine.fire(admin(c), ids[c], "recommend")
    clock.set(sh(5, 11))
    engine.advance(LEAD)
    clock.set(sh(5, 12))
    return ids


def every(ids: dict[str, list[int]]) -> list[int]:
    return [pid for c in CITIES for pid in ids[c]]


def test_the_cycle_records_what_it_was_opened_with(engine, clock):
    to_scoring(engine, clock, None)
    assert engine.get_cycle(None).config.own_party == "scores"  # (the program's, recorded)
    with pytest.raises(InvalidInput) as err:
        engine.open_cycle(LEAD, PROGRAM, YEAR + 1, own_party="abstains")
    assert "own party = 'abstains' must be scores, recused or excluded" in str(err.value)


def test_recused_a_city_may_not_score_its_own_and_no_sheet_of_it_is_awaited_there(engine, clock, store):
    ids = to_scoring(engine, clock, "recused")
    own = ids["hefei"][0]
    err = refused(store, engine.fire, scorer("hefei"), own, "score", scores=SHEET_MID)
    assert err.rejections[0].rule == "own_project_recused"
    said = f"hefei may not score project {own}, its own: in this cycle a city is recused from its own"
    assert said in err.rejections[0].english
    # a batch holding one of its own is refused whole
    err = refused(
        store, engine.fire_each, scorer("hefei"), [(pid, {"scores": SHEET_LOW}) for pid in every(ids)], "score"
    )
    assert [r.rule for r in err.rejections] == ["own_project_recused"] * PER_CITY
    # its to-do and queue leave its own out
    left, total, first = engine.unscored_counts(LEAD, first=3)
    assert total == KEY and left["hefei"] == KEY - PER_CITY and not set(first["hefei"]) & set(ids["hefei"])
    queue, count = engine.unscored(scorer("hefei"), None, "hefei")
    assert count == KEY - PER_CITY and not {p.id for p in queue} & set(ids["hefei"])
    # every city scores the others' projects: that is all that is awaited of it
    for c in CITIES:
        theirs = [pid for pid in every(ids) if pid not in ids[c]]
        engine.fire(scorer(c), theirs[:-1] if c == "wuhu" else theirs, "score", scores=SHEET_MID)
    clock.set(sh(5, 16))
    with pytest.raises(RuleRefused) as refusal:
        engine.advance(LEAD)
    needed = KEY - PER_CITY
    assert f"wuhu has scored {needed - 1} of {needed} key-library projects" in str(refusal.value)
    assert engine.unscored_counts(LEAD)[0] == {c: (1 if c == "wuhu" else 0) for c in CITIES}
    engine.fire(scorer("wuhu"), [pid for pid in every(ids) if pid not in ids["wuhu"]][-1], "score", scores=SHEET_MID)
    clock.set(sh(5, 16, 1))
    engine.advance(LEAD)
    clock.set(sh(5, 20))
    lst = engine.propose_list(LEAD, tie_order=every(ids))  # (all alike: the lead settles the tie)
    assert {e.score for e in lst.entries} == {show(Fraction(sum(SHEET_MID.values())))}  # (eight sheets a project)


def test_excluded_a_citys_sheet_on_its_own_is_kept_and_left_out_of_the_mean(engine, clock, store):
    ids = to_scoring(engine, clock, "excluded")
    mid, low = sum(SHEET_MID.values()), sum(SHEET_LOW.values())
    for c in CITIES:  # every city scores everything; on its own projects it gives more
        others = [pid for pid in every(ids) if pid not in ids[c]]
        engine.fire(scorer(c), others, "score", scores=SHEET_LOW)
        engine.fire(scorer(c), ids[c], "score", scores=SHEET_MID)
    with store.transaction(write=False) as tx:
        assert len(tx.sheets("g60-2027")) == KEY * 9  # (kept, each)
    clock.set(sh(5, 16))
    engine.advance(LEAD)
    clock.set(sh(5, 20))
    lst = engine.propose_list(LEAD, tie_order=every(ids))  # (all alike: the lead settles the tie)
    assert {e.score for e in lst.entries} == {show(Fraction(low))}  # (the own sheet's mid never counts)
    # while the plain mean would have held it
    assert show(Fraction(8 * low + mid, 9)) != show(Fraction(low))


def test_recused_is_refused_in_chinese_naming_the_city(engine, clock, store):
    ids = to_scoring(engine, clock, "recused")
    before = snap(store)
    with pytest.raises(RuleRefused) as err:
        engine.fire(scorer("wuhu"), ids["wuhu"][1], "score", scores=SHEET_MID)
    said = err.value.render("zh")
    assert "[本地项目回避评分]" in said and "芜湖市" in said
    assert snap(store) == before
