"""Everyone's own account page: change one's password (the current one, the new one twice, the
password rules) and one's API tokens. A refusal names the rule and leaves the password as it
was; after a change the browser is still signed in, the new password signs in and the old no
longer does, and the user's other sessions have ended."""

from __future__ import annotations

import pytest

import i18n
from tests.conftest import LEAD, admin, applicant, scorer
from tests.web.conftest import csrf_of
from tests.web.test_admin import everything
from web.auth import SESSION_COOKIE
from workflow.accounts import MIN_PASSWORD
from workflow.errors import NotSignedIn

PASSWORD = "松江-passw0rd"
NEW = "a-new-passw0rd-2027"


def _change(client, current: str, new: str, again: str | None = None):
    csrf = csrf_of(client.get("/account").text)
    data = {"csrf": csrf, "current_password": current, "new_password": new, "new_password_again": again or new}
    return client.post("/account/password", data=data, headers={"referer": "http://testserver/account"})


@pytest.mark.parametrize("who", [LEAD, admin("hefei"), scorer("hefei"), applicant("hefei")])
def test_every_user_changes_their_own_password_and_stays_signed_in(web, who):
    w = web("collection")
    w.s.engine.set_password(LEAD, who, PASSWORD)
    client, elsewhere = w.browser(who), w.browser(who)
    client.headers["Accept-Language"] = "en"
    r = _change(client, PASSWORD, NEW)
    assert r.status_code == 303 and r.headers["location"] == "/account"
    assert SESSION_COOKIE in r.headers["set-cookie"]  # a fresh session: the old ones ended with the old password
    page = client.get("/account")
    assert page.status_code == 200 and "Your password is changed" in page.text
    assert elsewhere.get("/").status_code == 303  # signed out everywhere else
    assert w.s.engine.sign_in(who, NEW).name == who
    with pytest.raises(NotSignedIn):
        w.s.engine.sign_in(who, PASSWORD)


def test_a_wrong_current_password_is_refused_and_the_password_stays(web):
    w = web("collection")
    who = admin("hefei")
    w.s.engine.set_password(LEAD, who, PASSWORD)
    client = w.browser(who)
    client.headers["Accept-Language"] = "en"
    hashed = everything(w.s.store)["credentials"]
    _change(client, "not-my-password", NEW)
    assert "the current password is wrong" in client.get("/account").text
    assert [r[:2] for r in everything(w.s.store)["credentials"]] == [r[:2] for r in hashed]  # the same hash
    assert w.s.engine.sign_in(who, PASSWORD).name == who


def test_a_weak_or_mistyped_new_password_is_refused_with_its_rule_and_nothing_changes(web):
    w = web("collection")
    who = scorer("hefei")
    w.s.engine.set_password(LEAD, who, PASSWORD)
    client = w.browser(who)
    client.headers["Accept-Language"] = "en"
    before = everything(w.s.store)
    _change(client, PASSWORD, "short")
    page = client.get("/account").text
    assert f"a password needs at least {MIN_PASSWORD} characters (this one has 5)" in page
    assert PASSWORD not in page and "short" not in page.split("</header>")[1].split("at least")[0]
    _change(client, PASSWORD, who)
    assert "a password must not be the user&#39;s name" in client.get("/account").text
    _change(client, PASSWORD, NEW, NEW + "x")
    assert "the two new passwords differ" in client.get("/account").text
    after = everything(w.s.store)
    assert after["credentials"] == before["credentials"] and after["audit"] == before["audit"]


def test_the_account_page_reads_chinese_and_lists_only_ones_own_tokens(web):
    w = web("collection")
    who = admin("hefei")
    w.s.engine.new_token(LEAD, who, "我的导入脚本")
    w.s.engine.new_token(LEAD, admin("jiaxing"), "嘉兴的脚本")
    with i18n.using("zh_CN"):
        page = w.browser(who).get("/account").text
    assert "修改密码" in page and "当前密码" in page and "我的导入脚本" in page and "嘉兴的脚本" not in page
    assert 'href="/admin"' not in page  # the administration's link is the lead's
    assert '<a href="/account">账户</a>' in page


def test_the_api_changes_ones_own_password(web):
    w = web("collection")
    who = applicant("hefei")
    w.s.engine.set_password(LEAD, who, PASSWORD)
    api = w.api(who)
    r = api.post("/api/me/password", json={"current": "wrong-one", "new": NEW})
    assert r.status_code == 400 and "the current password is wrong" in r.json()["message"]
    assert api.post("/api/me/password", json={"current": PASSWORD, "new": NEW}).status_code == 200
    assert w.s.engine.sign_in(who, NEW).name == who
    r = api.post(f"/api/users/{admin('hefei')}/password", json={"password": NEW})
    assert r.status_code == 403  # only the lead sets another's password
