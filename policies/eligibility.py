"""Eligibility of an application (SPEC §1 申报条件): four conditions, each its own policy.

They run when a city accepts an application into its library. Each names what is missing,
so the administrator can tell the applicant exactly what to fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from i18n import Joined, Msg, Text
from policies.base import GuardContext, Rejection, parse_date, policy, whole_numbers

PARTY_MEMBER_STATUSES = ("中共党员", "中共预备党员")


def _section(app: Any, key: str) -> dict:
    value = app.get(key) if isinstance(app, dict) else None
    return value if isinstance(value, dict) else {}


def _about(ctx: GuardContext, problems: Msg | list[Msg]) -> Msg:
    """What is wrong with the project (or the application not yet submitted), named by its id
    and name. A project's is the message the engine reads to say one reason once for a batch's
    projects (workflow.engine.guards, "project {id}: {message}")."""
    project = ctx.project
    assert project is not None
    name = _section(project.application, "project").get("name") or "?"
    message = problems if isinstance(problems, Msg) else Joined(problems, "; ")
    if project.id is None:
        return Msg("application ({name}): {message}", name=name, message=message)
    ident = Text(f"{project.id} ({name})", f"{project.id}（{name}）")
    return Msg("project {id}: {message}", id=ident, message=message)


@policy("application_city_in_program", party=True, zh="企业所在城市属于本项目城市")
def application_city_in_program(ctx: GuardContext) -> Iterator[Rejection]:
    """The enterprise's city must be one of the program's parties."""
    assert ctx.project is not None
    city = ctx.project.city
    if city not in {p.id for p in ctx.parties}:
        yield Rejection(
            "application_city_in_program",
            Msg(
                "enterprise city {city!r} is not one of the program's cities ({names})",
                city=city,
                names="、".join(p.name for p in ctx.parties),
            ),
        )


# What applicants write for a party organization they do not have: not a name.
NO_ORGANIZATION = frozenset({"无", "没有", "暂无", "无党组织", "未成立", "未建立", "none", "n/a", "na", "nil", "null"})
# Party Constitution art. 30: a primary organization needs at least three full members.
MIN_PARTY_MEMBERS = 3


def _names_nothing(name: str) -> bool:
    """Whether a party organization's name is a placeholder (无, none, -, ／…), not a name."""
    return name.casefold() in NO_ORGANIZATION or not any(ch.isalnum() for ch in name)


def _submitted_on(ctx: GuardContext) -> date:
    """The day the application was submitted, in the program's time zone (today, while it is)."""
    assert ctx.project is not None
    at = ctx.project.submitted_at or ctx.now
    return at.astimezone(ZoneInfo(ctx.timezone)).date()


@policy(
    "registered_in_corridor",
    application=True,
    params=whole_numbers(min_party_members=1),
    zh="九城市注册、实地经营并已建立党组织",
)
def registered_in_corridor(ctx: GuardContext) -> Iterator[Rejection]:
    """Registered and physically operating in one of the cities, with an established party
    organization: named, with at least ``min_party_members`` members, founded by the submission."""
    assert ctx.project is not None
    app = ctx.project.application
    enterprise = _section(app, "enterprise")
    org = _section(app, "party_organization")
    problems = []
    city = ctx.party_name(ctx.project.city)  # (its name, in English too)
    if ctx.project.city not in {p.id for p in ctx.parties}:
        problems.append(Msg("city {city!r} is not one of the program's cities", city=ctx.project.city))
    if enterprise.get("registered_in_city") is not True:
        problems.append(Msg("the enterprise is not registered in {city}", city=city))
    if enterprise.get("operating_in_city") is not True:
        problems.append(Msg("the enterprise does not operate on site in {city}", city=city))
    name = str(org.get("name") or "").strip()
    if not name:
        problems.append(Msg("no party organization (党组织) is named"))
    elif _names_nothing(name):
        problems.append(
            Msg("the party organization (党组织) is named {name!r}, which names no organization", name=name)
        )
    else:
        founded = parse_date(org.get("founded"))
        submitted = _submitted_on(ctx)
        if founded is None:
            problems.append(Msg("the party organization's founding date is missing"))
        elif founded > submitted:
            problems.append(
                Msg(
                    "the party organization was founded {founded}, after the submission on {submitted}",
                    founded=founded.isoformat(),
                    submitted=submitted.isoformat(),
                )
            )
        needed = int(ctx.params.get("min_party_members", MIN_PARTY_MEMBERS))
        members = org.get("members")
        if not isinstance(members, int) or isinstance(members, bool):
            problems.append(Msg("the party organization's number of members (党员数) is missing"))
        elif members < needed:
            problems.append(
                Msg(
                    "the party organization has {members} members (党员数), at least {needed} are needed",
                    members=members,
                    needed=needed,
                )
            )
    if problems:
        yield Rejection("registered_in_corridor", _about(ctx, problems))


@policy("party_member_team", application=True, zh="项目负责人及主要研发人员为企业党员骨干")
def party_member_team(ctx: GuardContext) -> Iterator[Rejection]:
    """The project lead and the main R&D staff are party members (党员骨干)."""
    assert ctx.project is not None
    # the lead and main R&D members, in the team's order (one pass: a city accepts a whole batch)
    core = []
    has_lead = False
    for m in ctx.project.application.get("team") or []:
        if isinstance(m, dict):
            lead = m.get("lead")
            if lead or m.get("main_rd"):
                core.append(m)
                has_lead = has_lead or bool(lead)
    problems = []
    if not has_lead:
        problems.append(Msg("no team member is marked as the project lead"))
    not_members = [
        _member(m.get("name") or "?", m.get("political_status") or "未填")
        for m in core
        if m.get("political_status") not in PARTY_MEMBER_STATUSES
    ]
    if not_members:
        problems.append(
            Msg(
                "{count} of {total} lead/main R&D members are not party members: {names}",
                count=len(not_members),
                total=len(core),
                names=Joined(not_members, ", "),
            )
        )
    if problems:
        yield Rejection("party_member_team", _about(ctx, problems))


def _member(name: str, status: str) -> Text:
    """A team member with their political status: 张三 (群众), in Chinese with full-width brackets."""
    return Text(f"{name} ({status})", f"{name}（{status}）")


@policy("project_timeline", application=True, zh="上年度启动、当年6月前基本完成")
def project_timeline(ctx: GuardContext) -> Iterator[Rejection]:
    """Started in the year before the cycle; basically complete by the end of June of the cycle year."""
    assert ctx.project is not None
    proj = _section(ctx.project.application, "project")
    start_year = ctx.cycle_year + int(ctx.params.get("start_year_offset", -1))
    month = int(ctx.params.get("complete_by_month", 6))
    deadline = date(ctx.cycle_year, month + 1, 1) if month < 12 else date(ctx.cycle_year + 1, 1, 1)
    started = parse_date(proj.get("started"))
    completion = parse_date(proj.get("expected_completion"))
    problems = []
    if started is None:
        problems.append(Msg("the start date is missing"))
    elif started.year != start_year:
        problems.append(
            Msg("started {started}, but must have started in {year}", started=started.isoformat(), year=start_year)
        )
    if completion is None:
        problems.append(Msg("the expected completion date is missing"))
    elif completion >= deadline:
        last = date(ctx.cycle_year, month, 1).strftime("%Y-%m")
        problems.append(
            Msg(
                "expected completion {completion} is after the end of {month}",
                completion=completion.isoformat(),
                month=last,
            )
        )
    if problems:
        yield Rejection("project_timeline", _about(ctx, problems))


@policy("original_results_evidence", application=True, zh="原创性科技创新成果及明显成效")
def original_results_evidence(ctx: GuardContext) -> Iterator[Rejection]:
    """At least one accepted kind of evidence of original results with visible effect."""
    assert ctx.project is not None
    proj = _section(ctx.project.application, "project")
    accepted = tuple(ctx.params.get("accepted", ()))
    given = proj.get("evidence") or []
    if isinstance(given, str):
        given = [given]
    valid = [e for e in given if e in accepted]
    if not valid:
        yield Rejection(
            "original_results_evidence",
            _about(
                ctx,
                Msg(
                    "no accepted evidence of original results (given: {given}; accepted: {accepted})",
                    given=Joined(map(str, given), ", ") if given else Msg("none"),
                    accepted=Joined(accepted, ", "),
                ),
            ),
        )
