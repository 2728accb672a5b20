"""The program's read rules: who reads a list version before it is published, and who reads why
a city objected to one. They are the ``read_…`` entries of ``[permissions]`` (the others are
actions), each ``{ roles = [...], own_city_roles = [...] }``: the ``roles`` read every city's,
the ``own_city_roles`` only their own city's (an objection is its city's; a list version is
every city's, so it has no own-city readers).

A program that declares none gets the rules its list actions imply: whoever acts on the list
reads it before publication; an objection's reasons are read by the lead, by whoever proposes
or publishes the list, and by the objecting city's own objectors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from i18n import Joined, Msg
from policies.permissions import Permission, ReadRule

READ_UNPUBLISHED_LIST = "read_unpublished_list"
READ_OBJECTION_REASONS = "read_objection_reasons"
READS = (READ_UNPUBLISHED_LIST, READ_OBJECTION_REASONS)
_KEYS = ("roles", "own_city_roles")
# the list's actions taken before its publication: whoever takes one must read the list
_BEFORE_PUBLICATION = ("propose", "confirm", "object", "publish")


def _roles_of(permissions: Mapping[str, Permission], *actions: str) -> tuple[str, ...]:
    """The roles permitted any of ``actions``, in order, once each."""
    found = [r for a in actions if a in permissions for r in permissions[a].roles]
    return tuple(dict.fromkeys(found))


def default_reads(permissions: Mapping[str, Permission]) -> dict[str, ReadRule]:
    """The read rules of a program that declares none, from its list actions' permissions."""
    acting = _roles_of(permissions, *_BEFORE_PUBLICATION)
    return {
        READ_UNPUBLISHED_LIST: ReadRule(tuple(dict.fromkeys(("lead", *acting)))),
        READ_OBJECTION_REASONS: ReadRule(
            tuple(dict.fromkeys(("lead", *_roles_of(permissions, "propose", "publish")))),
            _roles_of(permissions, "object"),
        ),
    }


def read_rules(
    table: Mapping[str, Any], permissions: Mapping[str, Permission], known_roles: tuple[str, ...], problems: list[Msg]
) -> dict[str, ReadRule]:
    """The program's read rules from its ``[permissions]`` table (``permissions``: its actions',
    already read); each problem found is added to ``problems``."""
    rules = default_reads(permissions)
    for name in READS:
        raw = table.get(name)
        if raw is None:
            continue
        unknown = sorted(set(raw) - set(_KEYS))
        if unknown:
            problems.append(
                Msg(
                    "[permissions] {read}: unknown keys {keys} (known: {known})",
                    read=name,
                    keys=Joined(unknown, ", "),
                    known=Joined(_KEYS, ", "),
                )
            )
        lists = {key: raw.get(key, []) for key in _KEYS}
        if not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in lists.values()):
            problems.append(
                Msg(
                    '[permissions] {read} must be a table like {{ roles = ["lead"] }}, not {given!r}',
                    read=name,
                    given=dict(raw),
                )
            )
            continue
        rule = ReadRule.from_data(raw)
        bad = [role for role in (*rule.roles, *rule.own_city_roles) if role not in known_roles]
        if bad:
            problems.append(
                Msg(
                    "[permissions] {action}: unknown roles {roles} (known: {known})",
                    action=name,
                    roles=Joined(bad, ", "),
                    known=Joined(known_roles, ", "),
                )
            )
        if name == READ_UNPUBLISHED_LIST and rule.own_city_roles:
            problems.append(
                Msg(
                    "[permissions] {read}: own_city_roles has no city to match (a list version holds"
                    " every city's projects); name the roles in roles",
                    read=name,
                )
            )
        rules[name] = rule
    blind = [r for r in _roles_of(permissions, *_BEFORE_PUBLICATION) if r not in rules[READ_UNPUBLISHED_LIST].roles]
    if blind:
        acted = [a for a in _BEFORE_PUBLICATION if a in permissions and set(permissions[a].roles) & set(blind)]
        problems.append(
            Msg(
                "[permissions] {read}: {roles} act on the list before its publication ({actions}) but may not read it",
                read=READ_UNPUBLISHED_LIST,
                roles=Joined(blind, ", "),
                actions=Joined(acted, ", "),
            )
        )
    return rules
