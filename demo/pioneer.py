"""`evalflow demo --program pioneer-brand`: two years of “科技筑梦先锋号” co-building: applications
all year, the March and September rounds, plaques, progress on the five targets, a rectification
and a removal, and the removed unit applying again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from demo.g60 import DemoClock, id_of
from i18n import Joined, Msg, Text
from workflow.engine import Engine
from workflow.errors import RuleRefused

PROGRAM = "pioneer-brand"
UNITS = (
    ("示例科技企业甲党支部", "enterprise", "alone", ()),
    ("示例大学乙党委", "university", "joint", (("示例研究所丙党支部", "联络员丙"), ("示例企业丁党支部", "联络员丁"))),
    ("示例研究院戊党委", "institute", "alone", ()),
    ("示例科技企业己党支部", "enterprise", "alone", ()),
)
TARGETS = ("venue", "problems", "leader", "talent", "results")


def application(unit: str, kind: str, mode: str, partners) -> dict[str, Any]:
    return {
        "unit": {"name": unit, "kind": kind},
        "mode": mode,
        "pioneer": {"name": f"{unit[:4]}先锋", "role": "leader"},
        "plan": {"name": f"{unit}“科技筑梦先锋号”共建", "targets": "“五个一”共建目标清单"},
        "contact": "联系人 0000-0000000",
        "partners": [{"name": n, "liaison": liaison} for n, liaison in partners],
    }


def _held(cycle: str, project: int | None, state: Text) -> Msg:
    """One cycle of a unit's record: the cycle, its project and where it stands."""
    return Msg("{cycle} project {project} {state}", cycle=cycle, project=project, state=state)


def run_demo(store: Any, year: int = 2027, seed: int = 1, echo=print) -> None:
    clock = DemoClock(year)
    engine = Engine(store, clock=clock)

    def say(words: object) -> None:  # (a message is told in the reader's language)
        echo(str(words))

    clock.set(1, 5)
    engine.add_user(None, "lead", "lead", "bureau")
    engine.add_user("lead", "wg", "city-admin", "bureau")
    engine.add_user("lead", "ap", "applicant", "bureau")
    cycle = engine.open_cycle("lead", PROGRAM, year)
    say(Msg("== {program}: cycle {cycle}", program=engine.program_of(cycle).name, cycle=cycle.id))

    say(Msg("1. applications all year; the working group evaluates in March and September"))
    ids = {}
    for month, (unit, kind, mode, partners) in zip((1, 2, 5, 7), UNITS, strict=True):
        clock.set(month, 10)
        ids[unit] = id_of(engine.submit("ap", application(unit, kind, mode, partners)))
    clock.set(3, 12)
    spring = []
    for pid in ids.values():
        submitted = engine.project("lead", pid)[0].submitted_at
        assert submitted is not None  # (it was submitted)
        if submitted < clock():
            spring.append(pid)
    engine.fire("wg", spring, "evaluate", result="pass")
    say(Msg("   March round: {count} applications received since January pass", count=len(spring)))
    clock.set(6, 1)
    try:
        engine.fire("wg", ids[UNITS[2][0]], "evaluate", result="pass")
    except RuleRefused as exc:
        say(f"   {exc}")
    clock.set(9, 9)
    autumn = [ids[UNITS[2][0]], ids[UNITS[3][0]]]
    engine.fire("wg", autumn[0], "evaluate", result="pass")
    engine.fire("wg", autumn[1], "evaluate", result="fail", reason="共建目标不明确")
    say(Msg("   September round: one passes, one does not"))

    say(Msg("2. the party group decides; plaques are awarded"))
    clock.set(9, 20)
    passed = [*spring, autumn[0]]
    engine.fire("lead", passed, "decide", result="approve")
    engine.fire("lead", passed, "award")
    say(Msg("   {count} plaques awarded", count=len(passed)))

    say(Msg("3. progress on the five targets “五个一”"))
    clock.set(12, 10)
    for n, pid in enumerate(passed):
        for target in TARGETS[: 3 + n]:
            engine.fire("wg", pid, "progress", target=target, note="按共建目标清单推进，已完成阶段性目标")
    say(Msg("   progress entries recorded per unit (evalflow unit show NAME)"))

    say(Msg("4. {year}: long-term management — a declining unit rectifies, or its plaque is removed", year=year + 1))
    clock.year = year + 1
    first = passed[0]
    clock.set(6, 1)
    engine.fire("lead", first, "order_rectification", reason="共建工作下滑", deadline=f"{year + 1}-09-30")
    clock.set(10, 8)
    engine.fire("lead", first, "remove", reason="整改后仍达不到标准，予以摘牌")
    say(
        Msg(
            "   project {project}: ordered to rectify by {year}-09-30, then its plaque removed (摘牌)",
            project=first,
            year=year + 1,
        )
    )

    say(Msg("5. {year}: the removed unit applies again", year=year + 2))
    clock.year = year + 2
    clock.set(1, 5)
    again = engine.open_cycle("lead", PROGRAM, year + 2)
    clock.set(2, 10)
    removed = UNITS[0]
    engine.submit("ap", application(*removed), again.id)
    history = engine.unit("lead", removed[0], PROGRAM)
    # (each cycle's line is its own message, read by the catalog; the unit's record joins them)
    held = [_held(c.id, p.id, Text(p.state, engine.program_of(c).state_name(p.state, "zh"))) for c, p in history]
    say(Msg("   {unit}: {record}", unit=removed[0], record=Joined(held, "; ")))
    say(Msg("   co-building continues: plaques held, progress recorded, the unit's record kept across the years"))


def run(store: Any, year: int, per_city: int, seed: int, echo: Callable[[str], None]) -> None:
    """`evalflow demo`'s entry (the program file's ``[demo] run``): its units are fixed, so
    --per-city is not used."""
    run_demo(store, year=year, seed=seed, echo=echo)
