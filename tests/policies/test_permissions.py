"""Who may do what: roles per action, and a city's people acting on their own city's projects only.

The reason a user is turned away must be one plain sentence naming the user, the role and
who may do it instead.
"""

from __future__ import annotations

import pytest

from policies.permissions import Actor, Permission, can_read, permission_problem
from tests.policies.support import PROGRAM

LEAD = Actor("lead", "lead", "songjiang")
HEFEI_ADMIN = Actor("hefei-admin", "city-admin", "hefei")
HEFEI_SCORER = Actor("hefei-scorer", "scorer", "hefei")
WUHU_APPLICANT = Actor("wuhu-applicant", "applicant", "wuhu")


def problem(action: str, actor: Actor, city: str | None) -> str | None:
    """Why ``actor`` may not do ``action`` on a project of ``city`` under the shipped program."""
    return permission_problem(action, PROGRAM.permissions.get(action), actor, city)


CASES = [
    ("city_admin_accepts_own_city", "accept", HEFEI_ADMIN, "hefei", None),
    (
        "city_admin_accepts_other_city",
        "accept",
        HEFEI_ADMIN,
        "wuhu",
        "hefei-admin acts for hefei; this project belongs to wuhu",
    ),
    ("scorer_cannot_accept", "accept", HEFEI_SCORER, "hefei", "hefei-scorer is scorer; accept is done by city-admin"),
    ("lead_cannot_review_for_a_city", "review", LEAD, "songjiang", "lead is lead; review is done by city-admin"),
    ("applicant_submits_own_city", "submit", WUHU_APPLICANT, "wuhu", None),
    (
        "applicant_submits_other_city",
        "submit",
        WUHU_APPLICANT,
        "hefei",
        "wuhu-applicant acts for wuhu; this project belongs to hefei",
    ),
    (
        "scorer_cannot_submit",
        "submit",
        HEFEI_SCORER,
        "hefei",
        "hefei-scorer is scorer; submit is done by applicant or city-admin",
    ),
    ("scorer_scores_every_city", "score", HEFEI_SCORER, "wuhu", None),
    ("admin_cannot_score", "score", HEFEI_ADMIN, "hefei", "hefei-admin is city-admin; score is done by scorer"),
    ("lead_publishes", "publish", LEAD, None, None),
    ("city_cannot_publish", "publish", HEFEI_ADMIN, None, "hefei-admin is city-admin; publish is done by lead"),
    ("lead_advances", "advance", LEAD, None, None),
    ("any_city_confirms", "confirm", HEFEI_ADMIN, None, None),
    ("unknown_action", "bribe", LEAD, None, "bribe is not an action of this program"),
]


@pytest.mark.parametrize(("action", "actor", "city", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_permissions_of_the_shipped_program(action, actor, city, expected):
    """The G60 permission table: roles per action, own_city where the seed requires it."""
    assert problem(action, actor, city) == expected


def test_own_city_actor_without_city():
    """An actor without a city cannot act on a city's project where own_city applies."""
    nobody = Actor("ghost", "city-admin", None)
    assert problem("accept", nobody, "hefei") == "ghost acts for no city; this project belongs to hefei"


def test_permission_from_data():
    """Permissions read from the program file: roles, and own_city defaulting to False."""
    assert Permission.from_data({"roles": ["lead"]}) == Permission(("lead",), False)
    assert Permission.from_data({"roles": ["city-admin"], "own_city": True}) == Permission(("city-admin",), True)
    assert Permission.from_data({}) == Permission((), False)
    assert permission_problem("x", Permission(()), LEAD, None) == "lead is lead; x is done by "


@pytest.mark.parametrize(
    ("actor", "city", "applicant", "key", "joint", "expected"),
    [
        (LEAD, "hefei", "someone", False, False, True),
        (HEFEI_ADMIN, "hefei", "someone", False, False, True),
        (HEFEI_ADMIN, "jiaxing", "someone", False, False, False),
        (HEFEI_ADMIN, "jiaxing", "someone", True, False, False),
        (HEFEI_ADMIN, "jiaxing", "someone", True, True, True),
        (HEFEI_ADMIN, "jiaxing", "someone", False, True, False),
        (HEFEI_SCORER, "hefei", "someone", False, False, False),
        (HEFEI_SCORER, "jiaxing", "someone", True, True, True),
        (Actor("firm", "applicant", "hefei"), "hefei", "firm", False, False, True),
        (Actor("firm", "applicant", "hefei"), "hefei", "other", True, True, False),
    ],
    ids=[
        "lead",
        "admin-own",
        "admin-other",
        "admin-other-key-before-joint",
        "admin-other-key-joint",
        "admin-other-not-key-joint",
        "scorer-own-library",
        "scorer-key-joint",
        "applicant-own",
        "applicant-other",
    ],
)
def test_can_read(actor, city, applicant, key, joint, expected):
    """Read scoping: a city's library is its own until the key library is scored by all nine."""
    assert can_read(actor, city, applicant, key, joint) is expected
