"""A committee (its sheets per member, not per city) whose cycle recuses a party from its own
projects: a member is recused from their own city's, as a city is in G60. No vote of theirs is
awaited there, their queue leaves them out, and ``all_votes_in`` counts the rest. A program of
one party, whose own is every project, cannot be opened recused or excluded: nobody would vote.

The program is the shipped 科创中原 review with a second party, 郑州市科协, added."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from store.sql import SqlStore
from tests.conftest import SettableClock, refused, snapshot
from workflow.engine import Engine
from workflow.errors import InvalidInput, RuleRefused
from workflow.program import ProgramRegistry, default_program_dirs

PROGRAM = "kechuang-zhongyuan"
SECOND = """
[[parties]]
id = "zhengzhou"
name = "郑州市科协"
unit = "郑州市科学技术协会"
role = "city"
"""
FOR = {"vote": 1}  # (the committee's one criterion: 1 for, 0 against)


def at(month: int, day: int) -> datetime:
    return datetime(2027, month, day, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def two_parties(tmp_path: Path) -> ProgramRegistry:
    text = (default_program_dirs()[-1] / f"{PROGRAM}.toml").read_text(encoding="utf-8")
    for old, new in (
        ('role = "lead"\n', 'role = "lead"\n' + SECOND),  # (the second party)
        ('unit = "applicant.name"\n', 'party = "applicant.party"\nunit = "applicant.name"\n'),  # (whose project)
        (
            '  { path = "applicant.name", zh = "申报单位" },\n',
            '  { path = "applicant.party", zh = "所属科协", kind = "party" },\n'
            '  { path = "applicant.name", zh = "申报单位" },\n',
        ),
    ):
        assert text.count(old) == 1
        text = text.replace(old, new)
    (tmp_path / f"{PROGRAM}.toml").write_text(text, encoding="utf-8")
    return ProgramRegistry([tmp_path])


def application(i: int, party: str) -> dict:
    return {
        "applicant": {
            "party": party,
            "name": f"河南省第{i}学会",
            "kind": "provincial_society",
            "contact": "王敏",
            "phone": "0371-6000000",
        },
        "project": {
            "name": f"科技经济融合项目{i}",
            "type": "one_city_one_product",
            "summary": "围绕主导产业开展科技服务",
            "against_criteria": "逐条对照评审内容说明",
        },
    }


@pytest.fixture
def review(tmp_path: Path, store: SqlStore) -> tuple[Engine, SettableClock, dict[str, list[int]]]:
    """A recused cycle at its voting stage: two kexie projects and one of zhengzhou's; member m1 of
    kexie, m2 of zhengzhou."""
    clock = SettableClock(at(3, 1))
    engine = Engine(store, two_parties(tmp_path), clock)
    engine.add_user(None, "lead", "lead", "kexie")
    for party in ("kexie", "zhengzhou"):
        engine.add_user("lead", f"{party}-office", "city-admin", party)
        engine.add_user("lead", f"{party}-ap", "applicant", party)
    engine.add_user("lead", "m1", "scorer", "kexie")
    engine.add_user("lead", "m2", "scorer", "zhengzhou")
    assert engine.open_cycle("lead", PROGRAM, 2027, places={"selected": 1}, own_party="recused")
    clock.set(at(3, 5))
    ids = {"kexie": [], "zhengzhou": []}
    for i, party in enumerate(("kexie", "kexie", "zhengzhou"), start=1):
        ids[party].append(engine.submit(f"{party}-ap", application(i, party)).id)
    clock.set(at(3, 10))
    for party, theirs in ids.items():
        engine.fire(f"{party}-office", theirs, "accept")
    clock.set(at(4, 1))
    engine.advance("lead")
    clock.set(at(4, 2))
    return engine, clock, ids


def test_a_member_is_recused_from_their_citys_projects_and_awaited_on_the_rest(review, store) -> None:
    engine, clock, ids = review
    err = refused(store, engine.fire, "m1", ids["kexie"][0], "vote", scores=FOR)
    assert err.rejections[0].rule == "own_project_recused"
    assert f"kexie may not score project {ids['kexie'][0]}, its own" in err.rejections[0].english
    # each member's queue holds the other party's projects only
    assert [p.id for p in engine.unscored("m1", None, "m1", by_scorer=True)[0]] == ids["zhengzhou"]
    assert [p.id for p in engine.unscored("m2", None, "m2", by_scorer=True)[0]] == ids["kexie"]

    engine.fire("m1", ids["zhengzhou"], "vote", scores=FOR)
    engine.fire("m2", ids["kexie"][:1], "vote", scores=FOR)
    clock.set(at(4, 20))
    before = snapshot(store)
    with pytest.raises(RuleRefused) as refusal:
        engine.advance("lead")
    said = str(refusal.value)
    assert "committee member m2 has voted on 1 of 2 projects" in said
    assert "m1" not in said  # (one of one: all that is awaited of m1)
    assert snapshot(store) == before

    engine.fire("m2", ids["kexie"][1:], "vote", scores=FOR)
    assert engine.unscored("m2", None, "m2", by_scorer=True)[1] == 0
    clock.set(at(4, 21))
    engine.advance("lead")
    assert engine.get_cycle(None).stage == "approval"


def test_one_party_cannot_be_recused_or_excluded_from_every_project(store) -> None:
    engine = Engine(store, ProgramRegistry(), SettableClock(at(3, 1)))
    engine.add_user(None, "lead", "lead", "kexie")
    before = snapshot(store)
    for word in ("recused", "excluded"):
        with pytest.raises(InvalidInput) as err:
            engine.open_cycle("lead", PROGRAM, 2027, own_party=word)
        said = f"own party = '{word}' needs two parties or more: every project of kechuang-zhongyuan is kexie's own"
        assert said in str(err.value)
        assert "须有两个及以上参评方" in err.value.render("zh_CN") and "河南省科协" in err.value.render("zh_CN")
        assert snapshot(store) == before
    assert engine.open_cycle("lead", PROGRAM, 2027, own_party="scores").config.own_party == "scores"
