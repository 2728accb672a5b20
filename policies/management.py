"""Rules of long-lived awards and of filings: the materials checklist, the member units of an
alliance, the months an action belongs to, rectification deadlines, removal, annual assessment.
Each reads its parameters from the program (``[policies.NAME]``) so that programs share them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from i18n import Msg, Text
from policies.base import GuardContext, Rejection, parse_date, policy


def _get(app: Mapping[str, Any], path: str) -> Any:
    value: Any = app
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _rows(ctx: GuardContext) -> list[Mapping[str, Any]]:
    assert ctx.project is not None
    rows = ctx.project.application.get(ctx.params.get("group", "members"))
    return [r for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []


def _today(ctx: GuardContext) -> date:
    return ctx.now.astimezone(ZoneInfo(ctx.timezone)).date()


def _end_of(day: date, ctx: GuardContext) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, ZoneInfo(ctx.timezone))


@policy("materials_complete", application=True, zh="申报材料齐全")
def materials_complete(ctx: GuardContext) -> Iterator[Rejection]:
    """Every item of the program's checklist (``items``: code = 中文) is among the materials the
    application lists (its ``field``); each missing item is named."""
    assert ctx.project is not None
    items: Mapping[str, str] = ctx.params.get("items", {})
    given = _get(ctx.project.application, ctx.params.get("field", "materials")) or []
    missing = [name for code, name in items.items() if code not in given]
    if missing:
        yield Rejection(
            "materials_complete",
            Msg(
                "{missing} of {total} required materials missing: {names}",
                missing=len(missing),
                total=len(items),
                names="、".join(missing),
            ),
        )


@policy("min_members", application=True, zh="成员单位不少于10家")
def min_members(ctx: GuardContext) -> Iterator[Rejection]:
    """At least ``minimum`` member units (default 10)."""
    minimum = int(ctx.params.get("minimum", 10))
    have = len(_rows(ctx))
    if have < minimum:
        yield Rejection(
            "min_members",
            Msg("the alliance has {have} member units; at least {minimum} are required", have=have, minimum=minimum),
        )


@policy("member_share", application=True, zh="在九城市注册的成员单位不低于70%")
def member_share(ctx: GuardContext) -> Iterator[Rejection]:
    """At least ``percent`` % (default 70) of the member units are registered in the program's
    parties (the member's ``field``, default city, names one of them by id or name)."""
    percent = float(ctx.params.get("percent", 70))
    rows = _rows(ctx)
    names = {p.id for p in ctx.parties} | {p.name for p in ctx.parties} | {p.name.rstrip("市区") for p in ctx.parties}
    inside = sum(1 for r in rows if str(r.get(ctx.params.get("field", "city"), "")).strip() in names)
    share = 100 * inside / len(rows) if rows else 0.0
    if share < percent:
        yield Rejection(
            "member_share",
            Msg(
                "{inside} of {total} member units ({share:.1f} %) are registered in the program's cities; "
                "at least {percent:g} % are required",
                inside=inside,
                total=len(rows),
                share=share,
                percent=percent,
            ),
        )


@policy("member_mix", application=True, zh="成员单位包括企业及高校或科研院所")
def member_mix(ctx: GuardContext) -> Iterator[Rejection]:
    """The members include each of the ``kinds`` groups (e.g. enterprises; universities or
    research institutes), read from each member's ``field`` (default kind)."""
    groups: Sequence[Mapping[str, Any]] = ctx.params.get("kinds", [])
    present = {str(r.get(ctx.params.get("field", "kind"), "")) for r in _rows(ctx)}
    for group in groups:
        if present.isdisjoint(group.get("any", [])):
            kind = group.get("name", " or ".join(group.get("any", [])))
            # the group's name as the program file gives it in each language (zh: its Chinese)
            yield Rejection("member_mix", Msg("no member unit is {kind}", kind=Text(kind, group.get("zh", kind))))


@policy("in_months", zh="在规定月份办理")
def in_months(ctx: GuardContext) -> Iterator[Rejection]:
    """The action is taken in one of ``months`` (e.g. [3, 9]: the March and September rounds)."""
    months = [int(m) for m in ctx.params.get("months", [])]
    local = ctx.now.astimezone(ZoneInfo(ctx.timezone))
    if months and local.month not in months:
        shown = "、".join(f"{m}月" for m in months)
        today = f"{local:%Y-%m-%d}"
        yield Rejection("in_months", Msg("this is done in {months} (now {today})", months=shown, today=today))


@policy("founded_a_year_ago", application=True, zh="成立满一年")
def founded_a_year_ago(ctx: GuardContext) -> Iterator[Rejection]:
    """Founded (the application's ``field``) at least ``years`` (default 1) before today."""
    assert ctx.project is not None
    years = int(ctx.params.get("years", 1))
    founded = parse_date(_get(ctx.project.application, ctx.params.get("field", "founded")))
    if founded is None:
        yield Rejection("founded_a_year_ago", Msg("the founding date is not known"))
        return
    due = (
        founded.replace(year=founded.year + years)
        if (founded.month, founded.day) != (2, 29)
        else date(founded.year + years, 3, 1)
    )
    if _today(ctx) < due:
        yield Rejection(
            "founded_a_year_ago",
            Msg(
                "founded {founded}: assessed once it has run {years} year(s), from {due}",
                founded=founded.isoformat(),
                years=years,
                due=due.isoformat(),
            ),
        )


@policy("assessment_ready", zh="已提交自评报告并经专家实地考察")
def assessment_ready(ctx: GuardContext) -> Iterator[Rejection]:
    """Before a grade: a self-assessment report and an expert site visit since the last grade."""
    assert ctx.project is not None
    record = ctx.project.record
    last = max((e.get("at", "") for e in record.get("grades", [])), default="")
    if not any(e.get("at", "") > last for e in record.get("self_assessments", [])):
        yield Rejection("assessment_ready", Msg("no self-assessment report (自评报告) since the last grade"))
    if not any(e.get("at", "") > last for e in record.get("visits", [])):
        yield Rejection("assessment_ready", Msg("no expert site visit (实地考察) since the last grade"))


@policy("deadline_given", zh="限期整改须明确期限")
def deadline_given(ctx: GuardContext) -> Iterator[Rejection]:
    """An order to rectify names its deadline, a date after today."""
    raw = ctx.request.get("deadline")
    deadline = parse_date(raw)
    if deadline is None:
        yield Rejection(
            "deadline_given",
            Msg("an order to rectify needs a deadline (YYYY-MM-DD); given: {given}", given=raw or Msg("none")),
        )
    elif deadline <= _today(ctx):
        yield Rejection(
            "deadline_given",
            Msg(
                "the deadline {deadline} is not after today ({today})",
                deadline=deadline.isoformat(),
                today=_today(ctx).isoformat(),
            ),
        )


@policy("removal_due", zh="予以摘牌的条件")
def removal_due(ctx: GuardContext) -> Iterator[Rejection]:
    """An award is removed for major problems (request ``grave``), or when its holder did not
    rectify by the deadline of the latest order."""
    assert ctx.project is not None
    if ctx.request.get("grave"):
        return
    orders = ctx.project.record.get("rectifications", [])
    if ctx.project.state != "rectifying" or not orders:
        yield Rejection(
            "removal_due",
            Msg(
                "a holder not under a rectification order is removed only for major problems "
                "(grave=true, with a reason)"
            ),
        )
        return
    deadline = parse_date(orders[-1].get("deadline"))
    if deadline is not None and ctx.now < _end_of(deadline, ctx):
        yield Rejection(
            "removal_due",
            Msg(
                "the rectification ordered runs until {deadline}; remove after it or for major problems",
                deadline=deadline.isoformat(),
            ),
        )


@policy("none_waiting", counts=True, zh="项目均已作出决定")
def none_waiting(ctx: GuardContext) -> Iterator[Rejection]:
    """No project still waits in ``states`` (default in_library): every one has been decided."""
    states = tuple(ctx.params.get("states", ["in_library"]))
    for party in ctx.parties:
        waiting = ctx.counts.count(party.id, *states)
        if waiting:
            yield Rejection(
                "none_waiting",
                Msg(
                    "{party} has {waiting} projects not yet decided",
                    party=party.words,
                    waiting=waiting,
                ),
                (party.id,),
            )


@policy("joint_partners", application=True, zh="联合申报的共建单位及联络员")
def joint_partners(ctx: GuardContext) -> Iterator[Rejection]:
    """A joint application (its ``mode_field`` is ``joint``) lists its partner units, each naming
    a liaison (联络员); an application made alone lists none."""
    assert ctx.project is not None
    app = ctx.project.application
    joint = _get(app, ctx.params.get("mode_field", "mode")) == "joint"
    rows = _rows(ctx)
    liaison = ctx.params.get("liaison_field", "liaison")
    if joint and not rows:
        yield Rejection("joint_partners", Msg("a joint application lists its partner units"))
    if not joint and rows:
        yield Rejection(
            "joint_partners", Msg("an application made alone lists no partner units ({count} given)", count=len(rows))
        )
    for i, row in enumerate(rows if joint else (), start=1):
        if not str(row.get(liaison) or "").strip():
            yield Rejection(
                "joint_partners",
                Msg("partner unit {number} ({name}) names no liaison (联络员)", number=i, name=row.get("name", "?")),
            )


@policy("cycle_year", zh="当年度受理申报")
def cycle_year(ctx: GuardContext) -> Iterator[Rejection]:
    """Applications to a year's cycle are received during that year (the next year has its own)."""
    year = ctx.now.astimezone(ZoneInfo(ctx.timezone)).year
    if year != ctx.cycle_year:
        yield Rejection(
            "cycle_year",
            Msg(
                "cycle {cycle} receives applications in {year}; it is {now}",
                cycle=ctx.cycle_id,
                year=ctx.cycle_year,
                now=year,
            ),
        )


@policy("unit_not_holding", unit=True, zh="未持有该称号的单位方可申报")
def unit_not_holding(ctx: GuardContext) -> Iterator[Rejection]:
    """A unit holding the award (in any year's cycle) does not apply again; a unit whose award
    was removed may (``holding``: the states that hold it)."""
    holding = set(ctx.params.get("holding", ["awarded", "rectifying"]))
    for p in ctx.request.get("unit_projects", ()):
        if p["state"] in holding:
            yield Rejection(
                "unit_not_holding",
                Msg(
                    "{unit} already holds the award (project {project} of {cycle})",
                    unit=p["unit"],
                    project=p["project"],
                    cycle=p["cycle"],
                ),
            )


@policy("target_known", zh="“五个一”共建目标")
def target_known(ctx: GuardContext) -> Iterator[Rejection]:
    """A progress entry names one of the program's targets (``targets``: code = 中文) and says what was done."""
    targets: Mapping[str, str] = ctx.params.get("targets", {})
    target = ctx.request.get("target")
    if target not in targets:
        shown = "、".join(f"{k} ({v})" for k, v in targets.items())
        yield Rejection("target_known", Msg("target {target!r} is not one of: {targets}", target=target, targets=shown))
    if not str(ctx.request.get("note") or "").strip():
        yield Rejection("target_known", Msg("a progress entry says what was done (note=…)"))
