"""Helpers for the policy tests: the real G60 program, and guard contexts built by hand.

Policies are pure functions of a :class:`GuardContext`, so every test here builds one
directly from the shipped program's parties, quotas, score sheet and policy parameters,
exactly as the engine does (``Engine._context`` + ``Engine._run``), with no database.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from policies import REGISTRY
from policies.base import CycleCounts, GuardContext, ProjectView, Rejection
from workflow.program import ProgramRegistry, effective_quotas

SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR = 2027
PROGRAM = ProgramRegistry().get("g60-deep-integration")
CITIES = PROGRAM.party_ids
# A valid 附件2 sheet, every criterion in its middle band.
SHEET = {"value": 16, "organization": 23, "effectiveness": 23, "mechanism": 16}


def sh(month: int, day: int, hour: int = 9, minute: int = 0, second: int = 0, year: int = YEAR) -> datetime:
    """An instant in Asia/Shanghai."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def project(
    application: Mapping[str, Any] | None = None,
    *,
    city: str = "hefei",
    pid: int | None = 7,
    state: str = "submitted",
    review_result: str | None = None,
    submitted_at: datetime | None = None,
) -> ProjectView:
    """The view of one project a policy sees."""
    return ProjectView(pid, city, state, dict(application or {}), review_result, submitted_at=submitted_at)


def context(
    *,
    project: ProjectView | None = None,
    counts: CycleCounts | None = None,
    request: Mapping[str, Any] | None = None,
    quota_overrides: Mapping[str, Mapping[str, int]] | None = None,
    year: int = YEAR,
    now: datetime | None = None,
    **extra: Any,
) -> GuardContext:
    """A context over the shipped program, as the engine builds it (params filled in by :func:`run`)."""
    return GuardContext(
        now=now or sh(2, 1),
        cycle_id=f"g60-{year}",
        cycle_year=year,
        parties=PROGRAM.parties,
        quotas=effective_quotas(PROGRAM.quotas, quota_overrides),
        criteria=PROGRAM.criteria,
        params={},
        project=project,
        counts=counts or CycleCounts(),
        request=dict(request or {}),
        timezone=PROGRAM.timezone,
        **extra,
    )


def run(name: str, ctx: GuardContext, params: Mapping[str, Any] | None = None) -> list[Rejection]:
    """Run the registered policy ``name`` with the program's parameters for it (or ``params``)."""
    scoped = dataclasses.replace(ctx, params=PROGRAM.policy_params.get(name, {}) if params is None else params)
    return list(REGISTRY[name](scoped))


def messages(rejections: list[Rejection], rule: str) -> list[str]:
    """The messages of ``rejections``, after checking every one names ``rule``."""
    assert [r.rule for r in rejections] == [rule] * len(rejections), rejections
    return [r.english for r in rejections]  # (as scripts read them)
