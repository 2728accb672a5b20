"""`evalflow demo`: a whole synthetic G60 cycle, driven through the engine's public API on a
synthetic clock that walks through the stage windows (Asia/Shanghai)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from demo.synthetic import FLAWS, application
from i18n import Joined, Msg, Text
from notify.channels import ConsoleChannel
from policies.base import party_words
from workflow.engine import Engine
from workflow.errors import RuleRefused
from workflow.records import Appeal, Project
from workflow.reminders import Dispatcher

PROGRAM = "g60-deep-integration"
TZ = ZoneInfo("Asia/Shanghai")


class DemoClock:
    """A clock the demo moves forward by hand."""

    def __init__(self, year: int):
        self.year = year
        self.instant = datetime(year, 1, 2, 9, 0, tzinfo=TZ)

    def __call__(self) -> datetime:
        return self.instant

    def set(self, month: int, day: int, hour: int = 9, minute: int = 0) -> None:
        self.instant = datetime(self.year, month, day, hour, minute, tzinfo=TZ)

    def tick(self) -> None:
        from datetime import timedelta

        self.instant += timedelta(seconds=30)


def _party(program, party_id: str) -> Text:
    """A city as the story names it: its id in English, its name in Chinese."""
    return party_words(program.parties, party_id)


def id_of(record: Project | Appeal) -> int:
    """The id of a record the engine returned: it has stored it, so it has one."""
    assert record.id is not None
    return record.id


def _propose(engine: Engine, lead: str, echo: Callable[[str], None], tie_order: list[int] | None = None):
    """Propose the list; a tie across a boundary is shown, then settled explicitly by the lead."""
    try:
        return engine.propose_list(lead, tie_order=tie_order or ())
    except RuleRefused as exc:
        echo(f"   {exc}")
        tied: list[int] = []
        for r in exc.rejections:
            tied += [int(x) for x in r.english.split(" are tied")[0].removeprefix("projects ").split(", ")]
        order = ",".join(map(str, tied))
        echo(Msg("   the lead settles the tie explicitly: --tie-order {order}", order=order).render())
        return engine.propose_list(lead, tie_order=tied)


def _corrected_publication(
    engine: Engine, program, clock: DemoClock, lead: str, published, echo: Callable[[str], None]
):
    """After publication an applicant shows a score was entered wrongly: the lead upholds the
    appeal and reopens the project to joint scoring; every city scores it again; the corrected
    list is proposed, confirmed by all and published as a correction."""
    from workflow.ranking import describe_change, list_changes

    clock.set(7, 1)
    echo("")
    echo(Msg("== {at} appeal after publication", at=f"{clock.instant:%Y-%m-%d %H:%M}").render())
    entry = next(e for e in reversed(published.entries) if e.category == "none")
    city = entry.city
    appeal = engine.file_appeal(f"{city}-applicant", entry.project_id, "评分表汇总时录入有误，申请复核。")
    assert appeal.id is not None  # (filed: stored)
    engine.decide_appeal(lead, appeal.id, "uphold", reopen_to="joint_scoring", reason="核实录入错误，重新评分。")
    said = Msg(
        "   appeal {id} by {city}'s applicant against project {project} (rank {rank}): upheld, reopened to"
        " joint_scoring; its sheets are kept as history",
        id=appeal.id,
        city=_party(program, city),
        project=entry.project_id,
        rank=entry.rank,
    )
    echo(said.render())
    best = {c.id: c.bands[0].max for c in program.criteria}
    for party in program.parties:
        engine.score(f"{party.id}-scorer", entry.project_id, best, completion="基本完成")
    lst = _propose(engine, lead, echo)
    for party in program.parties:
        engine.confirm_list(f"{party.id}-admin")
    lst = engine.publish(lead)
    changes = list_changes(published.entries, lst.entries)
    said = Msg(
        "   corrected publication: list version {number} replaces version {old}, {count} changes:",
        number=lst.number,
        old=published.number,
        count=len(changes),
    )
    echo(said.render())
    for change in changes[:6]:
        echo(f"     {describe_change(change)}")
    newly = [id_of(p) for p in engine.projects(lead, state="listed_demonstration")]
    newly += [id_of(p) for p in engine.projects(lead, state="listed_excellent")]
    if newly:
        engine.fire(lead, newly, "award")
        echo(Msg("   {count} newly listed projects awarded their plaques", count=len(newly)).render())
    return lst


def run_demo(store, year: int = 2027, per_city: int = 24, seed: int = 60, echo: Callable[[str], None] = print) -> dict:
    rng = random.Random(seed)
    clock = DemoClock(year)
    engine = Engine(store, clock=clock)
    program = engine.programs.get(PROGRAM)
    lead = "songjiang-lead"

    def stage(title: Msg | Text) -> None:
        echo("")
        echo(f"== {clock.instant:%Y-%m-%d %H:%M} {title}")

    def _stage(stage_id: str | None) -> Text:
        return Text(str(stage_id), program.stage(stage_id).name if stage_id else "—")

    def advance() -> None:
        r = engine.advance(lead)
        echo(
            Msg(
                "   lead closed '{before}' → now '{after}'", before=_stage(r.from_stage), after=_stage(r.to_stage)
            ).render()
        )

    stage(Msg("set-up: users and the cycle"))
    engine.add_user(None, lead, "lead", program.lead)
    for party in program.parties:
        for role in ("city-admin", "scorer", "applicant"):
            engine.add_user(lead, f"{party.id}-{role.split('-')[-1]}", role, party.id)
    echo(
        Msg(
            "   {count} users: the lead, and an admin, a scorer and an applicant per city",
            count=1 + 3 * len(program.parties),
        ).render()
    )
    cycle = engine.open_cycle(lead, PROGRAM, year, places={"demonstration": 10, "excellent": 20})
    echo(Msg("   opened cycle {cycle}: {name}", cycle=cycle.id, name=program.name).render())

    # 1. collection -------------------------------------------------------------------------
    clock.set(1, 10)
    stage(Text("1 项目征集 collection", "1 项目征集"))
    ids_by_city: dict[str, list[int]] = {}
    serial = 0
    for party in program.parties:
        for _ in range(per_city):
            serial += 1
            flaw = rng.choice(FLAWS) if rng.random() < 0.15 else None
            app = application(rng, party.id, party.name, year, serial, flaw)
            p = engine.submit(f"{party.id}-applicant", app)
            ids_by_city.setdefault(party.id, []).append(id_of(p))
            clock.tick()
    echo(Msg("   {count} applications submitted ({per_city} per city)", count=serial, per_city=per_city).render())
    try:
        engine.advance(lead)
    except RuleRefused as exc:
        echo(Msg("   early close refused, as it should be: {text}…", text=str(exc)[:160]).render())

    clock.set(2, 22, 0, 1)
    heard: list[str] = []
    report = Dispatcher(store, engine, [ConsoleChannel(heard.append)], clock).dispatch()
    echo(Msg("   reminders 7 days before the close: {summary}", summary=report.summary()).render())
    echo(Msg("   e.g. {line}", line=next(line for line in heard if line.startswith("→ hefei"))).render())

    clock.set(2, 23)
    shown = False
    library: dict[str, list[int]] = {}
    for party in program.parties:
        admin = f"{party.id}-admin"
        accepted = rejected = 0
        for pid in ids_by_city[party.id]:
            try:
                engine.fire(admin, pid, "accept", opinion="经审核，同意推荐入库。")
                library.setdefault(party.id, []).append(pid)
                accepted += 1
            except RuleRefused as exc:
                if not shown:
                    echo(Msg("   ineligible: {why}", why=str(exc)).render())
                    shown = True
                engine.fire(admin, pid, "reject", reason="; ".join(str(r) for r in exc.rejections))
                rejected += 1
            clock.tick()
        said = Msg(
            "   {party} accepted {accepted}, rejected {rejected}",
            party=f"{party.name:<5}",
            accepted=f"{accepted:>3}",
            rejected=f"{rejected:>2}",
        )
        echo(said.render())
    clock.set(3, 1, 9)
    advance()

    # 2. municipal review -------------------------------------------------------------------
    clock.set(3, 15)
    stage(Text("2 市（区）级评审 municipal review", "2 市（区）级评审"))
    methods = ("onsite", "site", "written")
    demonstration: dict[str, list[int]] = {}
    for party in program.parties:
        admin = f"{party.id}-admin"
        pool = library.get(party.id, [])
        rng.shuffle(pool)
        quota = program.quotas.get(party.id, {})
        n_demo = quota.get("demonstration", min(len(pool), rng.randint(6, 9)))
        n_exc = min(quota.get("excellent", len(pool)), (len(pool) - n_demo) * 2 // 3)
        for i, pid in enumerate(pool):
            result = "demonstration" if i < n_demo else "excellent" if i < n_demo + n_exc else "none"
            engine.fire(admin, pid, "review", result=result, method=rng.choice(methods))
            if result == "demonstration":
                demonstration.setdefault(party.id, []).append(pid)
            clock.tick()
        if party.id == program.lead or "demonstration" in quota:
            extra = next((pid for pid in pool if pid not in demonstration[party.id]), None)
            if extra is not None:
                try:
                    engine.fire(admin, extra, "review", result="demonstration", method="site")
                except RuleRefused as exc:
                    echo(Msg("   over-quota attempt refused: {why}", why=str(exc)).render())
        fund = program.funding.get(party.id)
        support = f"{n_demo * fund['demonstration'] + n_exc * fund['excellent']:,}" if fund else ""
        money = Msg(", support ¥{amount}", amount=support) if fund else ""
        said = Msg(
            "   {party} 示范 {demo}, 优秀 {exc}, of {pool} in library{money}",
            party=f"{party.name:<5}",
            demo=f"{n_demo:>2}",
            exc=f"{n_exc:>2}",
            pool=len(pool),
            money=money,
        )
        echo(said.render())
    # an applicant appeals a municipal result; the city that made it dismisses the appeal
    # (the first city after the lead with an excellent project: a small demo may have none)
    excellent = engine.projects(lead, cycle.id, state="municipal_excellent")
    contested = next((p for party in program.parties[1:] for p in excellent if p.city == party.id), None)
    if contested is not None:
        city = contested.city
        clock.set(3, 20)
        assert contested.id is not None  # (read from the store)
        appeal = engine.file_appeal(f"{city}-applicant", contested.id, "我单位项目成效显著，申请复核市级评审结果。")
        assert appeal.id is not None  # (filed: stored)
        engine.decide_appeal(f"{city}-admin", appeal.id, "dismiss", reason="经复核，维持市级优秀项目结果。")
        said = Msg(
            "   appeal {id} against project {project}'s municipal result: dismissed by {city}, nothing changes",
            id=appeal.id,
            project=contested.id,
            city=_party(program, city),
        )
        echo(said.render())
    clock.set(5, 1, 9)
    advance()

    # 3. recommendation ---------------------------------------------------------------------
    clock.set(5, 6)
    stage(Text("3 九城市推荐 recommendation", "3 九城市推荐"))
    minimum = int(program.policy_params["min_recommendations"]["minimum"])
    for party in program.parties:
        picks = demonstration[party.id][: rng.randint(minimum, min(minimum + 2, len(demonstration[party.id])))]
        engine.fire(f"{party.id}-admin", picks, "recommend")
        echo(Msg("   {party} recommended {count}", party=f"{party.name:<5}", count=len(picks)).render())
        clock.tick()
    advance()

    # 4. joint scoring ----------------------------------------------------------------------
    clock.set(5, 20)
    stage(Text("4 九城市联合评分 joint scoring", "4 九城市联合评分"))
    key = [id_of(p) for p in engine.projects(lead, cycle.id, state="recommended")]
    quality = {pid: rng.random() for pid in key}
    for party in program.parties:
        for pid in key:
            sheet = {}
            for c in program.criteria:
                q = min(0.999, max(0.0, quality[pid] + rng.uniform(-0.25, 0.25)))
                band = c.bands[0] if q > 0.66 else c.bands[1] if q > 0.33 else c.bands[2]
                sheet[c.id] = rng.randint(band.min, band.max)
            engine.score(f"{party.id}-scorer", pid, sheet, completion="基本完成")
            clock.tick()
        echo(Msg("   {party} scored {count} projects", party=f"{party.name:<5}", count=len(key)).render())
    advance()

    # 5. confirmation -----------------------------------------------------------------------
    clock.set(6, 10)
    stage(Text("5 确认 confirmation", "5 确认"))
    lst = _propose(engine, lead, echo)
    said = Msg(
        "   list version {number} proposed: {demo} demonstration, {exc} excellent",
        number=lst.number,
        demo=sum(e.category == "demonstration" for e in lst.entries),
        exc=sum(e.category == "excellent" for e in lst.entries),
    )
    echo(said.render())
    objector = program.parties[-1].id
    engine.confirm_list(f"{objector}-admin", decision="object", reason="请核对并重新汇总评分。")
    echo(Msg("   {party} objected; the lead proposes again", party=_party(program, objector)).render())
    lst = engine.propose_list(lead, tie_order=lst.tie_order)
    for party in program.parties:
        engine.confirm_list(f"{party.id}-admin")
        clock.tick()
    said = Msg(
        "   list version {number} confirmed by all {count} cities", number=lst.number, count=len(program.parties)
    )
    echo(said.render())
    advance()

    # 6. publication ------------------------------------------------------------------------
    clock.set(6, 28)
    stage(Text("6 公布与授牌 publication and plaques", "6 公布与授牌"))
    lst = engine.publish(lead)
    listed = [e.project_id for e in lst.entries if e.category != "none"]
    engine.fire(lead, listed, "award")
    said = Msg("   published list version {number}; {count} plaques awarded", number=lst.number, count=len(listed))
    echo(said.render())

    lst = _corrected_publication(engine, program, clock, lead, lst, echo)

    echo("")
    echo(f"   {'名次':<4}{'得分':>9}  {'类别':<8}{'城市':<6} 企业 / 项目")
    names = {p.id: p.name for p in program.parties}
    label = {c.id: c.name for c in program.categories}
    for e in lst.entries:
        if e.category == "none":
            continue
        echo(
            f"   {e.rank:<4}{e.score:>9}  {label[e.category][-4:]:<8}{names[e.city]:<6} "
            f"{e.unit_name} 《{e.project_name}》"
        )
    status = engine.status(lead)
    states = Counter(p.state for p in engine.projects(lead, cycle.id))
    echo("")
    counts = Joined([Text(f"{s} {n}", f"{program.state_name(s)} {n}") for s, n in sorted(states.items())], ", ")
    echo(Msg("   final states: {counts}", counts=counts).render())
    funding = sum(c["funding"] for c in status["cities"])
    echo(Msg("   municipal funding (Songjiang's support): ¥{amount}", amount=f"{funding:,}").render())
    echo(Msg("   database: {where}", where=store.describe()).render())
    return {"cycle": cycle.id, "list": lst, "states": dict(states), "status": status}
