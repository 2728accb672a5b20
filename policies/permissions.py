"""Who may do what. Pure: the engine passes the actor and the project's city."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    name: str
    role: str
    city: str | None


@dataclass(frozen=True)
class Permission:
    roles: tuple[str, ...]
    own_city: bool = False

    @classmethod
    def from_data(cls, data: Mapping) -> Permission:
        return cls(roles=tuple(data.get("roles", ())), own_city=bool(data.get("own_city", False)))


def permission_problem(
    action: str, permission: Permission | None, actor: Actor, project_city: str | None
) -> str | None:
    """Return why ``actor`` may not do ``action`` (one sentence), or None when permitted."""
    if permission is None:
        return f"{action} is not an action of this program"
    if actor.role not in permission.roles:
        allowed = " or ".join(permission.roles)
        return f"{actor.name} is {actor.role}; {action} is done by {allowed}"
    if permission.own_city and project_city is not None and actor.city != project_city:
        return f"{actor.name} acts for {actor.city or 'no city'}; this project belongs to {project_city}"
    return None


def can_read(actor: Actor, city: str, applicant: str, in_shortlist: bool, joint_stage_begun: bool) -> bool:
    """Read scoping: the lead reads every project; an applicant only their own; a city admin their
    own city's; every city reads the shortlisted projects once joint scoring has begun (it scores them)."""
    if actor.role == "lead":
        return True
    if actor.role == "applicant":
        return applicant == actor.name
    if actor.role == "city-admin" and city == actor.city:
        return True
    return in_shortlist and joint_stage_begun
