"""`evalflow demo --program industry-alliance`: a filing round of industry alliances and their
annual assessments over the following years, through the engine's public API."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from demo.g60 import DemoClock, id_of
from i18n import Msg
from workflow.engine import Engine
from workflow.errors import RuleRefused
from workflow.program import Program

PROGRAM = "industry-alliance"


def alliance(rng: random.Random, i: int, program: Program, weak: bool = False) -> dict[str, Any]:
    """An alliance's filing, from the program file's cities, industries and materials; ``weak``:
    one that fails every filing requirement."""
    cities = [p for p in program.parties if p.role == "city"]
    assert program.form is not None  # (the program file declares its application form)
    industries = list(program.form.field("alliance.industry").choices)
    materials = list(program.form.field("materials").choices)
    chair = cities[i % len(cities)]
    members = 8 if weak else rng.randint(10, 16)
    outside = members // 2 if weak else rng.randint(0, 2)
    return {
        "alliance": {
            "name": f"长三角G60科创走廊示例产业联盟{i}",
            "industry": industries[i % len(industries)],
            "founded": "2027-02-15",
        },
        "chair": {"name": f"示例理事长单位{i}", "city": chair.id, "kind": "legal_entity"},
        "secretariat": {"address": f"{chair.name}示例路{i}号", "staff": 3, "contact": "秘书处 0000-0000000"},
        "materials": materials[:3] if weak else materials,
        "members": [
            {
                "name": f"示例成员单位{i}-{m}",
                "city": "南京市" if m < outside else rng.choice(cities).name,
                "kind": "enterprise" if weak or m % 3 else rng.choice(["university", "institute"]),
            }
            for m in range(members)
        ],
    }


def run_demo(store: Any, year: int = 2027, alliances: int = 9, seed: int = 3, echo=print) -> None:
    clock = DemoClock(year)
    engine = Engine(store, clock=clock)
    rng = random.Random(seed)

    def say(words: object) -> None:  # (a message is told in the reader's language)
        echo(str(words))

    clock.set(3, 1)
    engine.add_user(None, "lead", "lead", "office")
    engine.add_user("lead", "expert", "scorer", "office")
    program = engine.programs.get(PROGRAM)
    for c in program.parties:
        if c.role == "city":
            engine.add_user("lead", f"{c.id}-chair", "applicant", c.id)
    cycle = engine.open_cycle("lead", PROGRAM, year)
    say(Msg("== {program}: filing round {cycle}", program=program.name, cycle=cycle.id))

    say(Msg("1. 备案申请与初审 — chair units file; the office pre-reviews against the requirements"))
    clock.set(3, 20)
    ids = []
    for i in range(1, alliances + 1):
        app = alliance(rng, i, program, weak=(i == alliances))
        ids.append(id_of(engine.submit(f"{app['chair']['city']}-chair", app)))
    clock.set(4, 10)
    filed = []
    for pid in ids:
        try:
            engine.fire("lead", pid, "accept")
            filed.append(pid)
        except RuleRefused as exc:
            say(f"   {exc}")
            engine.fire("lead", pid, "reject", reason="不符合备案基本要求")
    say(Msg("   {passed} of {count} pass the pre-review", passed=len(filed), count=len(ids)))
    clock.set(7, 1)
    engine.advance("lead")

    say(Msg("2. 联席办主任办公会 — the director's meeting decides; 3. the filed list is published"))
    clock.set(7, 15)
    engine.fire("lead", filed, "decide", result="approve")
    clock.set(8, 1)
    engine.advance("lead")
    engine.fire("lead", filed, "award")
    say(Msg("   {count} alliances filed (已备案)", count=len(filed)))

    say(Msg("4. {year} year-end assessment — self-assessment, expert visit, grade", year=year + 1))
    clock.year = year + 1
    clock.set(12, 5)
    for pid in filed:
        owner = engine.project("lead", pid)[0].city
        engine.fire(f"{owner}-chair", pid, "self_assess", report="年度自评报告")
    clock.set(12, 10)
    engine.fire("expert", filed, "visit", notes="实地考察，核实重要问题和相关资料")
    clock.set(12, 20)
    grades = {pid: ("excellent" if n == 0 else "unqualified" if n == 1 else "qualified") for n, pid in enumerate(filed)}
    for pid, grade in grades.items():
        engine.fire("lead", pid, "assess", grade=grade)
    counted = {g: sum(x == g for x in grades.values()) for g in ("excellent", "qualified", "unqualified")}
    say(
        Msg(
            "   graded: {excellent} 优秀, {qualified} 合格, {unqualified} 不合格",
            excellent=counted["excellent"],
            qualified=counted["qualified"],
            unqualified=counted["unqualified"],
        )
    )
    weak = next(pid for pid, g in grades.items() if g == "unqualified")
    clock.set(12, 28)
    engine.fire("lead", weak, "order_rectification", reason="约谈理事长和秘书长单位", deadline=f"{year + 2}-03-31")
    say(Msg("   alliance {alliance}: interviewed and ordered to rectify by {year}-03-31", alliance=weak, year=year + 2))
    clock.year = year + 2
    clock.set(3, 15)
    why = "经整改仍不到位，按程序撤销"
    try:  # (before the rectification deadline a removal is refused by its rules, reason or not)
        engine.fire("lead", weak, "remove", reason=why)
    except RuleRefused as exc:
        say(f"   {exc}")
    clock.set(4, 2)
    engine.fire("lead", weak, "remove", reason=why)
    say(
        Msg(
            "   alliance {alliance} revoked after its deadline; {count} alliances remain filed",
            alliance=weak,
            count=len(filed) - 1,
        )
    )


def run(store: Any, year: int, per_city: int, seed: int, echo: Callable[[str], None]) -> None:
    """`evalflow demo`'s entry (the program file's ``[demo] run``): its --per-city sets how many
    alliances file."""
    run_demo(store, year=year, alliances=max(4, per_city // 3), seed=seed, echo=echo)
