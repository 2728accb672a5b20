"""The administration in the JSON API: open a cycle, overrides, users, tokens, reminders, the
audit trail, and one's own password. Each call is the engine's action as the token's user, as
the console's pages and the command line make it; the engine says who may."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field

from web.api import ERRORS, Eng, Id, Me, Strict, _plain
from web.auth import client_address

router = APIRouter(prefix="/api", tags=["administration"], responses=ERRORS)

Name = Annotated[str, Field(min_length=1, max_length=200)]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]
Count = Annotated[int, Field(ge=0, le=1_000_000)]


def _user(u: Any) -> dict[str, Any]:
    return {"name": u.name, "role": u.role, "city": u.city, "active": u.active}


def _token(t: Any) -> dict[str, Any]:
    return {k: v for k, v in _plain(t).items() if k != "token_hash"}


# ------------------------------------------------------------------------------------------ cycles
class OpenCycle(Strict):
    program: Name = Field(description="The program's id (GET /api/programs/{id}/actions lists what it declares).")
    year: Annotated[int, Field(ge=2000, le=2200)]
    places: dict[str, Count] = Field(
        default_factory=dict, description="Places per list category (default: the program's)."
    )
    quotas: dict[str, dict[str, Count]] = Field(
        default_factory=dict, description="Per city, per review result: this cycle's quota (default: the program's)."
    )
    own_party: Literal["scores", "recused", "excluded"] | None = Field(
        default=None,
        description="A city on its own projects: scores (its sheet counts), recused (may not score them),"
        " excluded (its sheet kept, not counted). Default: the program's [scoring] own_party.",
    )


@router.post(
    "/cycles", summary="Open a cycle of a program for a year, with its places and quotas (lead)", status_code=201
)
def open_cycle(body: OpenCycle, user: Me, engine: Eng) -> dict[str, Any]:
    c = engine.open_cycle(user.name, body.program, body.year, body.places, body.quotas, body.own_party)
    return _plain(c)


# ------------------------------------------------------------------------------------------ overrides
@router.get("/cycles/{cycle_id}/overrides", summary="Every override of the cycle, revoked ones too")
def overrides(cycle_id: str, user: Me, engine: Eng) -> list[dict[str, Any]]:
    engine.administrator(user.name)
    _, items = engine.overrides(user.name, cycle_id)
    return [_plain(o) for o in items]


class AddOverride(Strict):
    rule: Name = Field(description="A rule the program marks overridable.")
    reason: Reason
    city: Name | None = None
    project: Id | None = None


@router.post("/cycles/{cycle_id}/overrides", summary="Lift an overridable rule, with a reason (lead)", status_code=201)
def add_override(cycle_id: str, body: AddOverride, user: Me, engine: Eng) -> dict[str, Any]:
    o = engine.override(user.name, body.rule, body.reason, body.city, body.project, cycle_id)
    return _plain(o)


class Revoke(Strict):
    reason: Reason


@router.post("/cycles/{cycle_id}/overrides/{override_id}/revoke", summary="Revoke an override, with a reason (lead)")
def revoke_override(cycle_id: str, override_id: Id, body: Revoke, user: Me, engine: Eng) -> dict[str, Any]:
    return _plain(engine.revoke_override(user.name, override_id, body.reason, cycle_id))


# ------------------------------------------------------------------------------------------ users
@router.get("/users", summary="Every user, active or not (lead)")
def users(user: Me, engine: Eng) -> list[dict[str, Any]]:
    return [_user(u) for u in engine.user_accounts(user.name)]


class AddUser(Strict):
    name: Name
    role: Name = Field(description="lead, city-admin, scorer or applicant")
    city: Name | None = None
    password: Annotated[str, Field(min_length=1, max_length=1000)]


@router.post("/users", summary="Add a user with an initial password (lead)", status_code=201)
def add_user(body: AddUser, user: Me, engine: Eng) -> dict[str, Any]:
    from workflow.accounts import password_problems
    from workflow.errors import InvalidInput

    engine.administrator(user.name)
    problems = password_problems(body.name, body.password)
    if problems:  # (before the user is added: a refused password adds no one)
        raise InvalidInput("password", problems)
    u = engine.add_user(user.name, body.name, body.role, body.city)
    engine.set_password(user.name, u.name, body.password)
    return _user(u)


class ChangeUser(Strict):
    role: Name
    city: Name | None = None


@router.post("/users/{name}/role", summary="Give a user another role or city (lead)")
def change_user(name: str, body: ChangeUser, user: Me, engine: Eng) -> dict[str, Any]:
    return _user(engine.change_user(user.name, name, body.role, body.city))


class Active(Strict):
    active: bool


@router.post("/users/{name}/active", summary="Deactivate or reactivate a user (lead)")
def set_active(name: str, body: Active, user: Me, engine: Eng) -> dict[str, Any]:
    return _user(engine.set_active(user.name, name, body.active))


@router.post("/users/{name}/unlock", summary="Let a user sign in again after too many wrong passwords (lead)")
def unlock(name: str, user: Me, engine: Eng) -> dict[str, Any]:
    return _user(engine.unlock(user.name, name))


class Password(Strict):
    password: Annotated[str, Field(min_length=1, max_length=1000)]


@router.post("/users/{name}/password", summary="Set a user's password (the lead for anyone, a user for themself)")
def set_password(name: str, body: Password, user: Me, engine: Eng) -> dict[str, Any]:
    engine.set_password(user.name, name, body.password)
    return {"name": name, "password_set": True}


class OwnPassword(Strict):
    current: Annotated[str, Field(min_length=1, max_length=1000)]
    new: Annotated[str, Field(min_length=1, max_length=1000)]


@router.post("/me/password", summary="Change your own password (the current one is checked)")
def change_own_password(request: Request, body: OwnPassword, user: Me, engine: Eng) -> dict[str, Any]:
    engine.change_password(user.name, body.current, body.new, client_address(request))
    return {"name": user.name, "password_set": True}


# ------------------------------------------------------------------------------------------ tokens
@router.get("/tokens", summary="API tokens (never their secrets): yours, or anyone's for the lead")
def tokens(user: Me, engine: Eng, name: Annotated[str | None, Query(max_length=200)] = None) -> list[dict[str, Any]]:
    return [_token(t) for t in engine.tokens(user.name, name)]


class NewToken(Strict):
    user: Name | None = Field(default=None, description="Whose token (default: yours; the lead may name anyone).")
    label: Name


@router.post("/tokens", summary="Issue an API token: its secret is in this answer only", status_code=201)
def new_token(body: NewToken, user: Me, engine: Eng) -> dict[str, Any]:
    secret, token = engine.new_token(user.name, body.user or user.name, body.label)
    return {**_token(token), "secret": secret}


@router.post("/tokens/{token_id}/revoke", summary="Revoke an API token (the lead any, a user their own)")
def revoke_token(token_id: Id, user: Me, engine: Eng) -> dict[str, Any]:
    return _token(engine.revoke_token(user.name, token_id))


# ------------------------------------------------------------------------------------------ reminders
@router.get(
    "/cycles/{cycle_id}/reminders", summary="Planned, sent, late, skipped and failed reminders (a city its own)"
)
def reminders(cycle_id: str, user: Me, engine: Eng) -> list[dict[str, Any]]:
    return [_plain(r) for r in engine.reminders(user.name, cycle_id)]


@router.post("/cycles/{cycle_id}/reminders/plan", summary="Re-plan a cycle's reminders (lead)")
def plan_reminders(cycle_id: str, user: Me, engine: Eng) -> dict[str, Any]:
    c, added, moved, removed = engine.replan_reminders(user.name, cycle_id)
    return {"cycle": c.id, "added": added, "moved": moved, "removed": removed}


# ------------------------------------------------------------------------------------------ audit
@router.get("/audit/verify", summary="Recompute the audit trail's hashes; name each chain's first break (lead)")
def audit_verify(
    user: Me,
    engine: Eng,
    cycle: Annotated[str | None, Query(max_length=200)] = None,
    head: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    report = engine.audit_verify(user.name, cycle, head)
    return report.as_dict(str)


@router.get("/audit/head", summary="The trail's head hash, to keep outside the server (lead)")
def audit_head(user: Me, engine: Eng, cycle: Annotated[str | None, Query(max_length=200)] = None) -> dict[str, Any]:
    return {"head": engine.audit_head(user.name, cycle)}


@router.get("/cycles/{cycle_id}/history", summary="The cycle's audit trail, newest first, a page at a time (lead)")
def history(
    cycle_id: str,
    user: Me,
    engine: Eng,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    size: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> dict[str, Any]:
    entries = list(reversed(engine.history(user.name, cycle_id)))
    return {
        "total": len(entries),
        "page": page,
        "entries": [_plain(e) for e in entries[(page - 1) * size : page * size]],
    }
