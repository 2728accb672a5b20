"""`evalflow demo --program kechuang-zhongyuan`: a whole synthetic “科创中原” committee review,
driven through the engine's public API on a clock that walks through the stage windows."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from demo.g60 import DemoClock, _propose, id_of
from i18n import Msg
from workflow.engine import Engine
from workflow.errors import RuleRefused

PROGRAM = "kechuang-zhongyuan"
UNITS = (  # (an applying unit, its kind on the form)
    ("郑州市科协", "city_association"),
    ("洛阳市科协", "city_association"),
    ("河南省化学会", "provincial_society"),
    ("河南省机械工程学会", "provincial_society"),
    ("河南省农学会", "provincial_society"),
    ("郑州大学科协", "university_association"),
    ("中原动力股份有限公司", "enterprise"),
)
TOPICS = ("装备制造", "新材料", "生物医药", "现代农业", "电子信息", "节能环保", "食品加工", "新能源汽车")


def application(rng: random.Random, i: int, types: tuple[str, ...]) -> dict[str, Any]:
    unit, kind = rng.choice(UNITS)
    return {
        "applicant": {"name": f"{unit}（{i}）", "kind": kind, "contact": "联络员", "phone": f"0371-6{i:06d}"},
        "project": {
            "name": f"{rng.choice(TOPICS)}产业科技经济融合项目{i}",
            "type": types[i % len(types)],
            "summary": "围绕地方主导产业，组织学会专家开展技术对接与服务",
            "against_criteria": "逐条对照本类项目的评审内容说明",
        },
    }


def run_demo(store: Any, year: int = 2027, applications: int = 30, members: int = 7, seed: int = 4, echo=print) -> None:
    clock = DemoClock(year)
    engine = Engine(store, clock=clock)
    rng = random.Random(seed)

    def say(words: object) -> None:  # (a message is told in the reader's language)
        echo(str(words))

    clock.set(3, 1)
    engine.add_user(None, "lead", "lead", "kexie")
    engine.add_user("lead", "office", "city-admin", "kexie")
    names = [f"member{k}" for k in range(1, members + 1)]
    for name in names:
        engine.add_user("lead", name, "scorer", "kexie")
    engine.add_user("lead", "applicant", "applicant", "kexie")
    places = max(3, applications // 4)
    cycle = engine.open_cycle("lead", PROGRAM, year, places={"selected": places})
    program = engine.program_of(cycle)
    say(
        Msg(
            "== {program} {year}: cycle {cycle}, {places} places, a committee of {members}",
            program=program.name,
            year=year,
            cycle=cycle.id,
            places=places,
            members=members,
        )
    )

    say(Msg("1. 申报与审阅 — applications arrive in March; the office reads them"))
    clock.set(3, 10)
    assert program.form is not None  # (the program file declares its application form)
    types = tuple(program.form.field("project.type").choices)  # the five project types of the program file
    ids = [id_of(engine.submit("applicant", application(rng, i, types))) for i in range(1, applications + 1)]
    rejected = ids[-2:]
    clock.set(3, 25)
    engine.fire("office", ids[:-2], "accept")
    for pid in rejected:
        engine.fire("office", pid, "reject", reason="申报材料不全")
    say(
        Msg(
            "   {count} applications; {accepted} accepted for review, {rejected} not accepted",
            count=len(ids),
            accepted=len(ids) - 2,
            rejected=len(rejected),
        )
    )
    clock.set(4, 1)
    engine.advance("lead")

    say(Msg("2. 评委会投票 — every member votes on every accepted application"))
    clock.set(4, 10)
    review = ids[:-2]
    leaning = {pid: rng.random() for pid in review}  # how convincing each application is
    for name in names:
        ballots = [(pid, {"scores": {"vote": int(rng.random() < leaning[pid])}}) for pid in review]
        if name == names[-1]:
            ballots = ballots[:-3]  # the last member has three still to cast when the window nears its end
        engine.fire_each(name, ballots, "vote")
    clock.set(4, 29)
    try:
        engine.advance("lead")
    except RuleRefused as exc:
        say(f"   {exc}")
    for pid in review[-3:]:
        engine.fire(names[-1], pid, "vote", scores={"vote": int(rng.random() < leaning[pid])})
    say(Msg("   {member} casts the last three votes", member=names[-1]))
    clock.set(5, 1)
    engine.advance("lead")

    say(Msg("3. 计票排序与党组审议 — ranked by votes; the party group approves"))
    clock.set(5, 6)
    lst = _propose(engine, "lead", say)
    say(
        Msg(
            "   list version {number}: {places} selected of {ranked} ranked",
            number=lst.number,
            places=places,
            ranked=len(lst.entries),
        )
    )
    engine.confirm_list("office")
    clock.set(5, 16)
    engine.advance("lead")

    say(Msg("4. 公示与发文公布 — the list goes on public notice for 3 days"))
    clock.set(5, 16, 10)
    lst = engine.publish("lead")
    selected = [e.project_id for e in lst.entries if e.category != "none"]
    left_out = next(e for e in reversed(lst.entries) if e.category == "none")
    for e in lst.entries[:places]:
        say(f"   {e.rank:>2}. {float(e.score):>3.0f} 票  #{e.project_id:<3} {e.unit_name} 《{e.project_name}》")
    clock.set(5, 17, 10)
    try:
        engine.fire("lead", selected, "award")
    except RuleRefused as exc:
        say(f"   {exc}")
    appeal = engine.file_appeal("applicant", left_out.project_id, "投票统计有误，请复核")
    assert appeal.id is not None  # (filed: stored)
    say(
        Msg(
            "   objection {appeal} filed against project {project}; the office investigates",
            appeal=appeal.id,
            project=left_out.project_id,
        )
    )
    clock.set(5, 18, 10)
    engine.decide_appeal("lead", appeal.id, "dismiss", reason="经核查，投票统计无误")
    say(Msg("   objection {appeal} dismissed: {reason}", appeal=appeal.id, reason="经核查，投票统计无误"))
    clock.set(5, 19, 10)
    engine.fire("lead", selected, "award")
    say(Msg("   the notice is over: {count} projects announced by official document (发文公布)", count=len(selected)))


def run(store: Any, year: int, per_city: int, seed: int, echo: Callable[[str], None]) -> None:
    """`evalflow demo`'s entry (the program file's ``[demo] run``): its --per-city sets how many
    applications the committee reviews."""
    run_demo(store, year=year, applications=max(12, per_city + 6), seed=seed, echo=echo)
