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


@dataclass(frozen=True)
class ReadRule:
    """Who may read a thing the program guards (a ``read_…`` entry of ``[permissions]``): the
    ``roles`` read it whoever it concerns; the ``own_city_roles`` only what their own city did
    (a city's objection to a list version: its reasons)."""

    roles: tuple[str, ...]
    own_city_roles: tuple[str, ...] = ()

    @classmethod
    def from_data(cls, data: Mapping) -> ReadRule:
        """The rule as the program file writes it: ``{ roles = [...], own_city_roles = [...] }``."""
        return cls(roles=tuple(data.get("roles", ())), own_city_roles=tuple(data.get("own_city_roles", ())))

    def allows(self, actor: Actor, city: str | None = None) -> bool:
        """Whether ``actor`` reads the thing; ``city``: the city it concerns (None: every city's)."""
        if actor.role in self.roles:
            return True
        return city is not None and actor.role in self.own_city_roles and actor.city == city
