"""The lead's management of users through the engine and the command line: deactivate and
reactivate (no sign-in, no session, no token meanwhile), another role or city, and a user's own
change of password (the current one checked as a sign-in checks it). Each change has its audit
row; each refusal names its reason and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.cli.test_full_cycle import Cli
from tests.conftest import LEAD, admin, scorer
from tests.web.test_admin import everything
from workflow.accounts import MIN_PASSWORD
from workflow.errors import InvalidInput, NotFound, NotPermitted, NotSignedIn

PASSWORD = "松江-passw0rd"
NOW = "2027-01-05T09:00"


def _actions(store) -> list[tuple]:
    with store.engine.connect() as conn:
        sql = "SELECT subject_id, actor, action, from_state, to_state FROM audit WHERE subject = 'user' ORDER BY id"
        return [tuple(r) for r in conn.execute(text(sql))]


def test_a_deactivated_user_has_no_sign_in_no_session_and_no_token_until_reactivated(engine, store, cycle):
    who = admin("hefei")
    engine.set_password(LEAD, who, PASSWORD)
    user = engine.sign_in(who, PASSWORD)
    token, _ = engine.open_session(user)
    secret, _ = engine.new_token(LEAD, who, "script")
    engine.set_active(LEAD, who, False)
    with pytest.raises(NotSignedIn, match="deactivated"):
        engine.sign_in(who, PASSWORD)
    with pytest.raises(NotSignedIn, match="the name or the password is wrong"):  # (a wrong password tells nothing)
        engine.sign_in(who, "not-the-password")
    assert engine.session_of(token, idle=__import__("datetime").timedelta(hours=1)) is None
    assert engine.token_user(secret) is None
    assert (who, LEAD, "deactivate_user", None, "inactive") in _actions(store)
    engine.set_active(LEAD, who, True)
    assert engine.sign_in(who, PASSWORD).active and engine.token_user(secret).name == who
    assert (who, LEAD, "activate_user", None, "active") in _actions(store)


@pytest.mark.parametrize("user", [admin("hefei"), scorer("hefei")])
def test_only_the_lead_manages_users(engine, store, cycle, user):
    before = everything(store)
    with pytest.raises(NotPermitted, match="users are managed by the lead"):
        engine.set_active(user, admin("jiaxing"), False)
    with pytest.raises(NotPermitted, match="users are managed by the lead"):
        engine.change_user(user, user, "lead", None)
    with pytest.raises(NotPermitted, match="users are managed by the lead"):
        engine.user_accounts(user)
    with pytest.raises(NotPermitted, match="the lead administers"):
        engine.administrator(user)
    assert everything(store) == before


def test_the_lead_keeps_their_own_role_and_stays_active(engine, store, cycle):
    before = everything(store)
    with pytest.raises(NotPermitted, match="cannot deactivate themself"):
        engine.set_active(LEAD, LEAD, False)
    with pytest.raises(NotPermitted, match="cannot give up their own role"):
        engine.change_user(LEAD, LEAD, "scorer", "hefei")
    with pytest.raises(InvalidInput, match="needs a city"):
        engine.change_user(LEAD, scorer("hefei"), "scorer", None)
    with pytest.raises(NotFound, match="atlantis"):
        engine.change_user(LEAD, scorer("hefei"), "scorer", "atlantis")
    with pytest.raises(InvalidInput, match="'boss' is not one of"):
        engine.change_user(LEAD, scorer("hefei"), "boss", None)
    assert everything(store) == before


def test_adding_a_user_checks_the_role_and_city_as_a_change_does(engine, store, cycle):
    before = everything(store)
    with pytest.raises(InvalidInput, match="a scorer needs --city"):  # (the command line's flag)
        engine.add_user(LEAD, "newcomer", "scorer", None)
    with pytest.raises(NotFound, match="atlantis"):
        engine.add_user(LEAD, "newcomer", "scorer", "atlantis")
    with pytest.raises(InvalidInput, match="'boss' is not one of"):
        engine.add_user(LEAD, "newcomer", "boss", None)
    assert everything(store) == before


def test_another_role_and_city_with_its_audit_row(engine, store, cycle):
    u = engine.change_user(LEAD, scorer("hefei"), "city-admin", "wuhu")
    assert (u.role, u.city) == ("city-admin", "wuhu")
    assert next(x for x in engine.users() if x.name == scorer("hefei")).city == "wuhu"
    assert (scorer("hefei"), LEAD, "change_user", "scorer", "city-admin") in _actions(store)


def test_a_user_changes_their_own_password(engine, store, cycle):
    who = scorer("hefei")
    engine.set_password(LEAD, who, PASSWORD)
    with pytest.raises(InvalidInput, match="the current password is wrong"):
        engine.change_password(who, "wrong-password", "a-new-passw0rd")
    hashed = [r[:2] for r in everything(store)["credentials"]]
    with pytest.raises(InvalidInput, match=f"at least {MIN_PASSWORD} characters"):
        engine.change_password(who, PASSWORD, "short")
    assert [r[:2] for r in everything(store)["credentials"]] == hashed  # the same password
    engine.change_password(who, PASSWORD, "a-new-passw0rd")
    assert engine.sign_in(who, "a-new-passw0rd").name == who
    with pytest.raises(NotSignedIn):
        engine.sign_in(who, PASSWORD)


def test_the_command_line_deactivates_activates_and_changes_a_role(engine, store, cycle):
    cli = Cli(store.sqlite_path())
    out = cli(LEAD, NOW, "user", "deactivate", admin("hefei"))
    assert out.strip() == "hefei-admin is deactivated; their sessions and tokens no longer work"
    assert cli(LEAD, NOW, "user", "activate", admin("hefei")).strip() == "hefei-admin is active again"
    out = cli(LEAD, NOW, "user", "role", scorer("hefei"), "--role", "city-admin", "--city", "wuhu")
    assert out.strip() == "hefei-scorer is now city-admin (wuhu)"
    out = cli(admin("hefei"), NOW, "user", "deactivate", admin("jiaxing"), code=4)
    assert "users are managed by the lead" in out
