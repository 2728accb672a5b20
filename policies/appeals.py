"""Appeals and overrides: the rules that keep a reopened project from being forgotten, and the
matching of a lead's override against a rejection. Pure, like every policy."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from i18n import Msg
from policies.base import GuardContext, ProjectView, Rejection, policy


@policy("appeals_settled", zh="申诉已处理完毕")
def appeals_settled(ctx: GuardContext) -> Iterator[Rejection]:
    """No project reopened by an appeal is still waiting for a decision (acceptance, a municipal
    result) when a new list is proposed: it would silently miss the list."""
    for p in ctx.request.get("reopened_waiting", ()):
        yield Rejection(
            "appeals_settled",
            Msg(
                "project {project} ({city}) was reopened to '{stage}' by appeal {appeal} and is still '{state}'",
                project=p["project"],
                city=ctx.party_text(p["city"]),
                # (a stage's and a state's name in Chinese, where the engine gives them)
                stage=p.get("stage_name", p["stage"]),
                appeal=p["appeal"],
                state=p.get("state_name", p["state"]),
            ),
            (p["city"],),
        )


@policy("appeals_decided", zh="申诉均已作出决定")
def appeals_decided(ctx: GuardContext) -> Iterator[Rejection]:
    """Every appeal filed is decided (upheld or dismissed) before the list is published."""
    for a in ctx.request.get("open_appeals", ()):
        yield Rejection(
            "appeals_decided",
            Msg(
                "appeal {appeal} against project {project} ({city}) is not decided yet",
                appeal=a["appeal"],
                project=a["project"],
                city=ctx.party_text(a["city"]),
            ),
            (a["decider"],) if a.get("decider") else (),
        )


@dataclass(frozen=True)
class Override:
    """The lead's decision that a rule does not hold back one city, one project, or everyone."""

    id: int
    rule: str
    reason: str
    by: str
    at: str  # ISO instant
    city: str | None = None
    project: int | None = None
    revoked: Mapping[str, Any] | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Override:
        return cls(
            id=int(data["id"]),
            rule=data["rule"],
            reason=data["reason"],
            by=data["by"],
            at=data["at"],
            city=data.get("city"),
            project=data.get("project"),
            revoked=data.get("revoked"),
        )

    @property
    def active(self) -> bool:
        return not self.revoked

    def scope(self) -> str:
        if self.project is not None:
            return f"project {self.project}"
        return self.city or "every party"

    def covers(self, rejection: Rejection, project: ProjectView | None) -> bool:
        """Whether this override lifts ``rejection`` (for ``project``, when the action has one)."""
        if not self.active or rejection.rule != self.rule:
            return False
        if self.project is not None:
            return project is not None and project.id == self.project
        if self.city is None:
            return True
        if project is not None:
            return project.city == self.city
        # a closing rule: lifted only when it names this city alone
        return bool(rejection.parties) and set(rejection.parties) == {self.city}


def split_overridden(
    rejections: Iterable[Rejection], overrides: Iterable[Override], project: ProjectView | None = None
) -> tuple[list[Rejection], list[tuple[Rejection, Override]]]:
    """The rejections that still stand, and those lifted (each with the override that lifted it)."""
    active = [o for o in overrides if o.active]
    kept: list[Rejection] = []
    lifted: list[tuple[Rejection, Override]] = []
    for r in rejections:
        by = next((o for o in active if o.covers(r, project)), None)
        if by is None:
            kept.append(r)
        else:
            lifted.append((r, by))
    return kept, lifted
