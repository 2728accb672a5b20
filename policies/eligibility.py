"""Eligibility of an application (SPEC §1 申报条件): four conditions, each its own policy.

They run when a city accepts an application into its library. Each names what is missing,
so the administrator can tell the applicant exactly what to fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from policies.base import GuardContext, Rejection, parse_date, policy, whole_numbers

PARTY_MEMBER_STATUSES = ("中共党员", "中共预备党员")


def _section(app: Any, key: str) -> dict:
    value = app.get(key) if isinstance(app, dict) else None
    return value if isinstance(value, dict) else {}


def _label(ctx: GuardContext) -> str:
    project = ctx.project
    assert project is not None
    name = _section(project.application, "project").get("name") or "?"
    return f"project {project.id} ({name})" if project.id is not None else f"application ({name})"


@policy("application_city_in_program", party=True)
def application_city_in_program(ctx: GuardContext) -> Iterator[Rejection]:
    """The enterprise's city must be one of the program's parties."""
    assert ctx.project is not None
    city = ctx.project.city
    if city not in {p.id for p in ctx.parties}:
        yield Rejection(
            "application_city_in_program",
            f"enterprise city {city!r} is not one of the program's cities ({'、'.join(p.name for p in ctx.parties)})",
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


@policy("registered_in_corridor", application=True, params=whole_numbers(min_party_members=1))
def registered_in_corridor(ctx: GuardContext) -> Iterator[Rejection]:
    """Registered and physically operating in one of the cities, with an established party
    organization: named, with at least ``min_party_members`` members, founded by the submission."""
    assert ctx.project is not None
    app = ctx.project.application
    enterprise = _section(app, "enterprise")
    org = _section(app, "party_organization")
    problems = []
    if ctx.project.city not in {p.id for p in ctx.parties}:
        problems.append(f"city {ctx.project.city!r} is not one of the program's cities")
    if enterprise.get("registered_in_city") is not True:
        problems.append(f"the enterprise is not registered in {ctx.party_name(ctx.project.city)}")
    if enterprise.get("operating_in_city") is not True:
        problems.append(f"the enterprise does not operate on site in {ctx.party_name(ctx.project.city)}")
    name = str(org.get("name") or "").strip()
    if not name:
        problems.append("no party organization (党组织) is named")
    elif _names_nothing(name):
        problems.append(f"the party organization (党组织) is named {name!r}, which names no organization")
    else:
        founded = parse_date(org.get("founded"))
        submitted = _submitted_on(ctx)
        if founded is None:
            problems.append("the party organization's founding date is missing")
        elif founded > submitted:
            problems.append(
                f"the party organization was founded {founded.isoformat()}, "
                f"after the submission on {submitted.isoformat()}"
            )
        needed = int(ctx.params.get("min_party_members", MIN_PARTY_MEMBERS))
        members = org.get("members")
        if not isinstance(members, int) or isinstance(members, bool):
            problems.append("the party organization's number of members (党员数) is missing")
        elif members < needed:
            problems.append(f"the party organization has {members} members (党员数), at least {needed} are needed")
    if problems:
        yield Rejection("registered_in_corridor", f"{_label(ctx)}: " + "; ".join(problems))


@policy("party_member_team", application=True)
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
        problems.append("no team member is marked as the project lead")
    not_members = [
        f"{m.get('name') or '?'} ({m.get('political_status') or '未填'})"
        for m in core
        if m.get("political_status") not in PARTY_MEMBER_STATUSES
    ]
    if not_members:
        problems.append(
            f"{len(not_members)} of {len(core)} lead/main R&D members are not party members: " + ", ".join(not_members)
        )
    if problems:
        yield Rejection("party_member_team", f"{_label(ctx)}: " + "; ".join(problems))


@policy("project_timeline", application=True)
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
        problems.append("the start date is missing")
    elif started.year != start_year:
        problems.append(f"started {started.isoformat()}, but must have started in {start_year}")
    if completion is None:
        problems.append("the expected completion date is missing")
    elif completion >= deadline:
        problems.append(
            f"expected completion {completion.isoformat()} is after the end of {date(ctx.cycle_year, month, 1):%Y-%m}"
        )
    if problems:
        yield Rejection("project_timeline", f"{_label(ctx)}: " + "; ".join(problems))


@policy("original_results_evidence", application=True)
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
        shown = ", ".join(map(str, given)) if given else "none"
        yield Rejection(
            "original_results_evidence",
            f"{_label(ctx)}: no accepted evidence of original results (given: {shown}; "
            f"accepted: {', '.join(accepted)})",
        )
