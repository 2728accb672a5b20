"""The lead's administration in the console and the API: open a cycle, overrides, users, tokens,
reminders and the audit trail. The lead succeeds (the database changed as the command line would
change it, with its audit row); every other role is denied on every route, page and API alike,
with nothing changed; a refused form comes back with what was typed."""

from __future__ import annotations

import pytest
from markupsafe import escape
from sqlalchemy import text

import i18n
from tests.conftest import LEAD, admin, applicant, scorer, sh, snapshot
from tests.web.conftest import csrf_of
from workflow.accounts import MIN_PASSWORD

CYCLE = "g60-2027"
PASSWORD = "松江-passw0rd"
OTHERS = (admin("hefei"), scorer("hefei"), applicant("hefei"))


def everything(store) -> dict[str, list[tuple]]:
    """Every row of the evaluation's tables and of the passwords and tokens (not the sessions:
    every page read touches its own)."""
    rows = snapshot(store)
    with store.engine.connect() as conn:
        for t in ("credentials", "api_tokens"):
            rows[t] = [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY 1"))]
    return rows


def _browser(w, user: str):
    """A signed-in browser that prefers English (the console speaks Chinese unless asked)."""
    client = w.browser(user)
    client.headers["Accept-Language"] = "en"
    return client


def _shown(message: object) -> str:
    return str(escape(str(message)))


def _audit(w, action: str) -> list[tuple]:
    with w.s.store.engine.connect() as conn:
        sql = "SELECT subject, subject_id, actor, action FROM audit WHERE action = :a ORDER BY id"
        return [tuple(r) for r in conn.execute(text(sql), {"a": action})]


def _post(client, page: str, action: str, data: dict) -> object:
    """Post a form of ``page`` the way a browser does: its CSRF token, the page as the referer."""
    csrf = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf": csrf, **data}, headers={"referer": f"http://testserver{page}"})


def _flash(client, page: str) -> str:
    return client.get(page).text


# ------------------------------------------------------------------------------------------ the matrix
# every page and form of the administration (the reminders page is everyone's: tested below)
PAGES = ("/admin", "/admin/cycles", "/admin/overrides", "/admin/users", f"/admin/users/{LEAD}/tokens", "/admin/audit")
FORMS: tuple[tuple[str, dict], ...] = (
    ("/admin/cycles", {"program": "g60-deep-integration", "year": "2028"}),
    ("/admin/overrides", {"rule": "all_sheets_in", "reason": "回避", "city": "hefei"}),
    ("/admin/overrides/1/revoke", {"reason": "撤回"}),
    ("/admin/users", {"name": "newcomer", "role": "applicant", "city": "hefei", "how": "generate"}),
    (f"/admin/users/{admin('hefei')}/role", {"role": "lead"}),
    (f"/admin/users/{admin('jiaxing')}/active", {"active": "0"}),
    (f"/admin/users/{admin('jiaxing')}/password", {"how": "generate"}),
    (f"/admin/users/{admin('jiaxing')}/unlock", {}),
    (f"/admin/users/{admin('jiaxing')}/tokens", {"label": "脚本"}),
    ("/reminders/plan", {"cycle": CYCLE}),
)
API: tuple[tuple[str, str, dict | None], ...] = (
    ("POST", "/api/cycles", {"program": "g60-deep-integration", "year": 2028}),
    ("GET", f"/api/cycles/{CYCLE}/overrides", None),
    ("POST", f"/api/cycles/{CYCLE}/overrides", {"rule": "all_sheets_in", "reason": "回避", "city": "hefei"}),
    ("POST", f"/api/cycles/{CYCLE}/overrides/1/revoke", {"reason": "撤回"}),
    ("GET", "/api/users", None),
    ("POST", "/api/users", {"name": "newcomer", "role": "applicant", "city": "hefei", "password": "a-long-passw0rd"}),
    ("POST", f"/api/users/{admin('hefei')}/role", {"role": "lead"}),
    ("POST", f"/api/users/{admin('jiaxing')}/active", {"active": False}),
    ("POST", f"/api/users/{admin('jiaxing')}/password", {"password": "a-long-passw0rd"}),
    ("POST", f"/api/users/{admin('jiaxing')}/unlock", None),
    ("GET", f"/api/tokens?name={admin('jiaxing')}", None),
    ("POST", "/api/tokens", {"user": admin("jiaxing"), "label": "脚本"}),
    ("POST", f"/api/cycles/{CYCLE}/reminders/plan", None),
    ("GET", "/api/audit/verify", None),
    ("GET", "/api/audit/head", None),
    ("GET", f"/api/cycles/{CYCLE}/history", None),
)


@pytest.fixture
def overridden(web):
    """The joint-scoring checkpoint with override 1 in force (so that revoking it is a real act)."""
    w = web("hefei_short")
    w.s.clock.set(sh(5, 15))
    w.s.engine.override(LEAD, "all_sheets_in", "回避", "hefei", None, CYCLE)
    return w


@pytest.mark.parametrize("user", OTHERS)
def test_every_page_of_the_administration_is_refused_to_a_city_in_chinese(overridden, user):
    w = overridden
    client = w.browser(user)  # (Chinese: the console's own language)
    with i18n.using("zh_CN"):
        for path in PAGES:
            r = client.get(path)
            assert r.status_code == 403, path
            assert "无权操作" in r.text and "牵头单位" in r.text, path


@pytest.mark.parametrize("user", OTHERS)
def test_every_form_of_the_administration_is_refused_to_a_city_and_changes_nothing(overridden, user):
    w = overridden
    client = _browser(w, user)
    csrf = csrf_of(client.get("/account").text)
    before = everything(w.s.store)
    for action, data in FORMS:
        r = client.post(action, data={"csrf": csrf, **data})  # (no referer: the error page itself)
        assert r.status_code in (403, 404), (action, r.status_code)
    assert everything(w.s.store) == before


@pytest.mark.parametrize("user", OTHERS)
def test_every_administration_call_of_the_api_is_refused_to_a_city_and_changes_nothing(overridden, user):
    w = overridden
    client = w.api(user)
    assert client.get("/api/me").status_code == 200  # (the token's first use is written once)
    before = everything(w.s.store)
    for method, path, body in API:
        r = client.request(method, path, json=body)
        if path.startswith("/api/tokens") and user == admin("jiaxing"):
            continue
        assert r.status_code in (403, 404), (method, path, r.status_code, r.text)
    assert everything(w.s.store) == before


def test_the_matrix_covers_every_route_of_the_administration(overridden):
    """Every route web/admin.py and web/api_admin.py add is in the matrix above (or is everyone's)."""
    from web import admin as pages
    from web import api_admin

    # everyone's, scoped by the engine (a city its own reminders, a user their own tokens): tested below
    everyone = {"/reminders", "/tokens/{token_id}/revoke", "/me/password", "/tokens", "/cycles/{cycle_id}/reminders"}
    covered = {p for p in PAGES} | {a for a, _ in FORMS} | {p.split("?")[0] for _, p, _ in API}
    for route in [*pages.router.routes, *api_admin.router.routes]:
        path = route.path  # type: ignore[attr-defined]
        concrete = (
            path.replace("{name}", LEAD if "tokens" in path and "admin" in path else admin("jiaxing"))
            .replace("{cycle_id}", CYCLE)
            .replace("{override_id}", "1")
        )
        if path.removeprefix("/api") in everyone or path in everyone:
            continue
        alternatives = {concrete, concrete.replace(admin("jiaxing"), admin("hefei"))}
        assert alternatives & covered, path


# ------------------------------------------------------------------------------------------ open a cycle
def test_the_lead_opens_a_cycle_with_places_and_quotas_from_the_form(web):
    w = web("published")
    client = _browser(w, LEAD)
    page = client.get("/admin/cycles").text
    assert 'name="program"' in page and "checked" not in page.split('name="program"')[1][:80]  # none chosen
    r = _post(
        client,
        "/admin/cycles",
        "/admin/cycles",
        {
            "program": "g60-deep-integration",
            "year": "2028",
            "g60-deep-integration.places.demonstration": "3",
            "g60-deep-integration.quota.hefei.demonstration": "4",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/?cycle=g60-2028"
    c = w.s.engine.get_cycle("g60-2028")
    assert c.config.places["demonstration"] == 3 and c.config.quotas == {"hefei": {"demonstration": 4}}
    assert ("cycle", "g60-2028", LEAD, "open") in _audit(w, "open")


def test_the_lead_chooses_what_a_city_does_on_its_own_projects(web):
    """The program's choice is checked (G60: every city scores every project, its own included);
    recused or excluded is the cycle's, recorded; a wrong word opens nothing. The API the same."""
    w = web("published")
    client = _browser(w, LEAD)
    page = client.get("/admin/cycles").text
    chosen = page.split('id="own-party-g60-deep-integration"')[1].split("</fieldset>")[0]
    assert 'value="scores" checked' in chosen and chosen.count("checked") == 1
    assert 'id="own-party-kechuang-zhongyuan"' not in page  # (one party, whose own is every project)
    key = "g60-deep-integration.own_party"
    r = _post(
        client, "/admin/cycles", "/admin/cycles", {"program": "g60-deep-integration", "year": "2028", key: "recused"}
    )
    assert r.status_code == 303 and w.s.engine.get_cycle("g60-2028").config.own_party == "recused"
    before = everything(w.s.store)
    r = _post(
        client, "/admin/cycles", "/admin/cycles", {"program": "g60-deep-integration", "year": "2029", key: "maybe"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/cycles"
    assert _shown("own party = 'maybe' must be scores, recused or excluded") in client.get("/admin/cycles").text
    assert everything(w.s.store) == before
    api = w.api(LEAD)
    r = api.post("/api/cycles", json={"program": "g60-deep-integration", "year": 2030, "own_party": "excluded"})
    assert r.status_code == 201 and w.s.engine.get_cycle("g60-2030").config.own_party == "excluded"
    assert api.post(
        "/api/cycles", json={"program": "g60-deep-integration", "year": 2031, "own_party": "x"}
    ).status_code in (
        400,
        422,
    )


def test_a_refused_cycle_comes_back_with_the_engines_words_and_everything_typed(web):
    w = web("published")
    client = _browser(w, LEAD)
    before = everything(w.s.store)
    typed = {"program": "g60-deep-integration", "year": "2027", "g60-deep-integration.quota.hefei.excellent": "7"}
    r = _post(client, "/admin/cycles", "/admin/cycles", typed)
    assert r.status_code == 303 and r.headers["location"] == "/admin/cycles"
    page = client.get("/admin/cycles").text
    assert _shown("cycle g60-2027 is already open") in page
    assert 'value="7"' in page and 'value="2027"' in page and 'value="g60-deep-integration" required checked' in page
    assert everything(w.s.store) == before
    r = _post(
        client,
        "/admin/cycles",
        "/admin/cycles",
        {"program": "g60-deep-integration", "year": "2029", "g60-deep-integration.places.demonstration": "two"},
    )
    page = client.get("/admin/cycles").text
    assert "a whole number ≥ 0 is needed" in page and "&#39;two&#39;" in page
    assert everything(w.s.store) == before


@pytest.mark.parametrize(
    ("field", "raw", "said"),
    [
        ("g60-deep-integration.places.demonstration", "²", "a whole number ≥ 0 is needed, got &#39;²&#39;"),
        ("g60-deep-integration.places.demonstration", "9" * 30, "a whole number from 0 to 1000000 is needed"),
        ("year", "9" * 30, "year: a whole number from 2000 to 2200 is needed, got " + "9" * 30),
    ],
    ids=["superscript-digit", "huge-places", "huge-year"],
)
def test_a_number_int_cannot_read_or_the_database_cannot_hold_is_refused_not_a_server_error(web, field, raw, said):
    w = web("published")
    client = _browser(w, LEAD)
    before = everything(w.s.store)
    typed = {"program": "g60-deep-integration", "year": "2029", field: raw}
    r = _post(client, "/admin/cycles", "/admin/cycles", typed)
    assert r.status_code == 303 and r.headers["location"] == "/admin/cycles"
    page = client.get("/admin/cycles").text
    assert said in page
    assert everything(w.s.store) == before


def test_a_project_number_too_large_for_the_database_is_refused_not_a_server_error(web):
    w = web("hefei_short")
    w.s.clock.set(sh(5, 15))
    client = _browser(w, LEAD)
    before = everything(w.s.store)
    typed = {"cycle": CYCLE, "rule": "all_sheets_in", "project": "9" * 30, "reason": "试"}
    r = _post(client, "/admin/overrides", "/admin/overrides", typed)
    assert r.status_code == 303
    assert "a whole number from 0 to 2147483647 is needed" in client.get("/admin/overrides").text
    assert everything(w.s.store) == before


# ------------------------------------------------------------------------------------------ overrides
def test_the_lead_adds_and_revokes_an_override_by_the_rules_name(web):
    w = web("hefei_short")
    w.s.clock.set(sh(5, 15))
    client = _browser(w, LEAD)
    page = client.get("/admin/overrides").text
    assert "all_sheets_in" in page and "min_recommendations" in page
    r = _post(
        client,
        "/admin/overrides",
        "/admin/overrides",
        {"cycle": CYCLE, "rule": "all_sheets_in", "city": "hefei", "reason": "合肥回避"},
    )
    assert r.status_code == 303
    _, items = w.s.engine.overrides(LEAD, CYCLE)
    assert [(o.rule, o.city, o.reason, o.by) for o in items] == [("all_sheets_in", "hefei", "合肥回避", LEAD)]
    assert len(_audit(w, "override")) == 1
    r = _post(
        client, "/admin/overrides", f"/admin/overrides/{items[0].id}/revoke", {"cycle": CYCLE, "reason": "已补评分"}
    )
    _, items = w.s.engine.overrides(LEAD, CYCLE)
    assert items[0].revoked and items[0].revoked["reason"] == "已补评分"
    page = client.get("/admin/overrides").text
    assert "已补评分" in page and "合肥回避" in page  # the revoked one is listed, with who and why


def test_an_override_without_a_reason_or_of_a_rule_not_overridable_is_refused_with_nothing_changed(web):
    w = web("hefei_short")
    w.s.clock.set(sh(5, 15))
    client = _browser(w, LEAD)
    before = everything(w.s.store)
    _post(
        client,
        "/admin/overrides",
        "/admin/overrides",
        {"cycle": CYCLE, "rule": "all_sheets_in", "city": "hefei", "reason": " "},
    )
    assert "give the reason for lifting the rule" in client.get("/admin/overrides").text
    _post(client, "/admin/overrides", "/admin/overrides", {"cycle": CYCLE, "rule": "score_in_bands", "reason": "试"})
    page = client.get("/admin/overrides").text
    assert "[overridable]" in page and "may not be overridden" in page and 'value="试"' in page
    assert everything(w.s.store) == before


# ------------------------------------------------------------------------------------------ users
def test_the_lead_adds_a_user_with_a_typed_password_who_then_signs_in(web):
    w = web("collection")
    client = _browser(w, LEAD)
    data = {"name": "hefei-clerk", "role": "city-admin", "city": "hefei", "how": "type"}
    r = _post(client, "/admin/users", "/admin/users", {**data, "password": PASSWORD, "password_again": PASSWORD})
    assert r.status_code == 303
    assert w.s.engine.sign_in("hefei-clerk", PASSWORD).role == "city-admin"
    assert ("user", "hefei-clerk", LEAD, "add_user") in _audit(w, "add_user")
    page = client.get("/admin/users").text
    assert 'id="user-hefei-clerk"' in page


def test_a_generated_password_is_shown_once_and_works(web):
    w = web("collection")
    client = _browser(w, LEAD)
    r = _post(
        client,
        "/admin/users",
        "/admin/users",
        {"name": "songjiang-2", "role": "applicant", "city": "songjiang", "how": "generate"},
    )
    assert r.status_code == 200 and 'id="secret-value"' in r.text
    secret = r.text.split('id="secret-value" value="')[1].split('"')[0]
    assert w.s.engine.sign_in("songjiang-2", secret).name == "songjiang-2"
    assert secret not in client.get("/admin/users").text  # not kept anywhere a reload finds it


def test_a_weak_or_mistyped_password_adds_no_one_and_keeps_the_form(web):
    w = web("collection")
    client = _browser(w, LEAD)
    before = everything(w.s.store)
    data = {"name": "hefei-clerk", "role": "scorer", "city": "hefei", "how": "type"}
    _post(client, "/admin/users", "/admin/users", {**data, "password": "short", "password_again": "short"})
    page = client.get("/admin/users").text
    assert f"at least {MIN_PASSWORD} characters (this one has 5)" in page
    assert 'value="hefei-clerk"' in page and 'value="scorer" selected' in page and "short" not in page
    _post(client, "/admin/users", "/admin/users", {**data, "password": PASSWORD, "password_again": PASSWORD + "x"})
    assert "the two passwords differ" in client.get("/admin/users").text
    _post(client, "/admin/users", "/admin/users", {"name": "x", "city": "hefei", "how": "generate"})
    assert "choose the role" in client.get("/admin/users").text
    assert everything(w.s.store) == before


def test_the_lead_changes_a_role_and_a_city(web):
    w = web("collection")
    client = _browser(w, LEAD)
    _post(client, "/admin/users", f"/admin/users/{scorer('hefei')}/role", {"role": "city-admin", "city": "wuhu"})
    u = next(u for u in w.s.engine.users() if u.name == scorer("hefei"))
    assert (u.role, u.city) == ("city-admin", "wuhu")
    assert ("user", scorer("hefei"), LEAD, "change_user") in _audit(w, "change_user")
    before = everything(w.s.store)
    _post(client, "/admin/users", f"/admin/users/{LEAD}/role", {"role": "scorer", "city": "hefei"})
    assert "the lead cannot give up their own role" in client.get("/admin/users").text
    _post(client, "/admin/users", f"/admin/users/{scorer('wuhu')}/role", {"role": "scorer"})
    assert "a scorer needs a city" in client.get("/admin/users").text
    assert everything(w.s.store) == before


def test_a_deactivated_user_cannot_sign_in_and_their_session_and_token_stop(web):
    w = web("collection")
    who = admin("jiaxing")
    w.s.engine.set_password(LEAD, who, PASSWORD)
    browser, api = _browser(w, who), w.api(who)
    assert browser.get("/").status_code == 200 and api.get("/api/me").status_code == 200
    lead = _browser(w, LEAD)
    r = _post(lead, "/admin/users", f"/admin/users/{who}/active", {"active": "0"})
    assert r.status_code == 303
    assert browser.get("/").status_code == 303  # the session is gone: to the sign-in page
    assert api.get("/api/me").status_code == 401
    from workflow.errors import NotSignedIn

    with pytest.raises(NotSignedIn, match="deactivated"):
        w.s.engine.sign_in(who, PASSWORD)
    assert ("user", who, LEAD, "deactivate_user") in _audit(w, "deactivate_user")
    assert "deactivated" in lead.get("/admin/users").text
    _post(lead, "/admin/users", f"/admin/users/{who}/active", {"active": "1"})
    assert w.s.engine.sign_in(who, PASSWORD).active is True
    assert api.get("/api/me").status_code == 200  # the token works again: it was never revoked


def test_the_lead_cannot_deactivate_themself(web):
    w = web("collection")
    client = _browser(w, LEAD)
    before = everything(w.s.store)
    _post(client, "/admin/users", f"/admin/users/{LEAD}/active", {"active": "0"})
    assert "the lead cannot deactivate themself" in client.get("/admin/users").text
    assert everything(w.s.store) == before


def test_the_lead_resets_a_password_typed_twice_and_the_users_sessions_end(web):
    w = web("collection")
    who = scorer("hefei")
    theirs = _browser(w, who)
    client = _browser(w, LEAD)
    r = _post(
        client,
        "/admin/users",
        f"/admin/users/{who}/password",
        {"how": "type", "password": PASSWORD, "password_again": PASSWORD},
    )
    assert r.status_code == 303
    assert w.s.engine.sign_in(who, PASSWORD).name == who
    assert theirs.get("/").status_code == 303
    assert ("user", who, LEAD, "set_password") in _audit(w, "set_password")


# ------------------------------------------------------------------------------------------ tokens
def test_the_lead_issues_lists_and_revokes_a_users_token(web):
    w = web("collection")
    who = admin("hefei")
    client = _browser(w, LEAD)
    r = _post(client, f"/admin/users/{who}/tokens", f"/admin/users/{who}/tokens", {"label": "导入脚本"})
    assert r.status_code == 200
    secret = r.text.split('id="secret-value" value="')[1].split('"')[0]
    assert w.s.engine.token_user(secret).name == who
    page = client.get(f"/admin/users/{who}/tokens").text
    assert "导入脚本" in page and secret not in page
    token = w.s.engine.tokens(LEAD, who)[0]
    _post(client, f"/admin/users/{who}/tokens", f"/tokens/{token.id}/revoke", {})
    assert w.s.engine.token_user(secret) is None
    assert ("user", who, LEAD, "revoke_token") in _audit(w, "revoke_token")


def test_a_user_issues_and_revokes_their_own_token_but_not_anothers(web):
    w = web("collection")
    who = admin("hefei")
    client = _browser(w, who)
    r = _post(client, "/account", "/account/tokens", {"label": "我的脚本"})
    secret = r.text.split('id="secret-value" value="')[1].split('"')[0]
    assert w.s.engine.token_user(secret).name == who
    assert "我的脚本" in client.get("/account").text
    _, other = w.s.engine.new_token(LEAD, admin("jiaxing"), "theirs")
    before = everything(w.s.store)
    r = client.post(f"/tokens/{other.id}/revoke", data={"csrf": csrf_of(client.get("/account").text)})
    assert r.status_code == 404 and everything(w.s.store) == before


# ------------------------------------------------------------------------------------------ reminders
def test_reminders_by_name_in_beijing_time_and_a_city_sees_its_own(web):
    w = web("collection")
    with i18n.using("zh_CN"):
        lead = _browser(w, LEAD).get(f"/reminders?cycle={CYCLE}", headers={"Accept-Language": "zh-CN"}).text
        assert "北京时间" in lead and "项目征集" in lead and "合肥市" in lead and "嘉兴市" in lead
        hefei = _browser(w, admin("hefei")).get("/reminders", headers={"Accept-Language": "zh-CN"}).text
    assert "合肥市" in hefei and "嘉兴市" not in hefei.split("<main>")[1]
    assert 'action="/reminders/plan' not in hefei  # the re-plan button is the lead's
    page = _browser(w, LEAD).get(f"/reminders?cycle={CYCLE}&status=sent").text
    assert "Show every reminder" in page and "reminder-planned" not in page  # one status, as --status


def test_the_lead_replans_the_reminders(web):
    w = web("collection")
    client = _browser(w, LEAD)
    r = _post(client, "/reminders", "/reminders/plan", {"cycle": CYCLE})
    assert r.status_code == 303
    assert "Re-planned reminders of g60-2027" in client.get("/reminders").text
    assert ("cycle", CYCLE, LEAD, "replan_reminders") in _audit(w, "replan_reminders")


# ------------------------------------------------------------------------------------------ audit trail
def test_the_trail_holds_its_head_is_shown_and_the_history_is_paged_newest_first(web):
    w = web("collection")
    client = _browser(w, LEAD)
    page = client.get("/admin/audit").text
    assert "The audit trail holds" in page
    assert w.s.engine.audit_head(LEAD) in page
    assert "outside this server" in page
    entries = w.s.engine.history(LEAD, CYCLE)
    assert f"Page 1 of {-(-len(entries) // 50)}" in page
    second = client.get("/admin/audit?page=2").text
    assert "Newer" in second
    with i18n.using("zh_CN"):
        zh = client.get("/admin/audit", headers={"Accept-Language": "zh-CN"}).text
    assert "审计记录完整" in zh or "The audit trail holds" in zh


def test_a_broken_trail_is_named_at_its_first_broken_entry(web):
    w = web("collection")
    with w.s.store.engine.begin() as conn:  # (as an intruder would: the triggers dropped first)
        conn.execute(text("DROP TRIGGER audit_no_update"))
        conn.execute(text("UPDATE audit SET reason = 'rewritten' WHERE id = 3"))
    page = _browser(w, LEAD).get("/admin/audit").text
    assert "The audit trail does not hold" in page and "entry 3" in page
    report = w.s.engine.audit_verify(LEAD)  # (the command line's words for it, in Chinese too)
    said = report.breaks[0].words().render("zh_CN")
    assert said.startswith("链 ") and "：第 3 条记录：" in said


# ------------------------------------------------------------------------------------------ the API
def test_the_api_does_the_same_for_the_lead(web):
    w = web("hefei_short")
    w.s.clock.set(sh(5, 15))
    api = w.api(LEAD)
    r = api.post(f"/api/cycles/{CYCLE}/overrides", json={"rule": "all_sheets_in", "reason": "回避", "city": "hefei"})
    assert r.status_code == 201 and r.json()["rule"] == "all_sheets_in"
    assert api.post(f"/api/cycles/{CYCLE}/overrides/{r.json()['id']}/revoke", json={"reason": "撤回"}).json()["revoked"]
    assert [o["id"] for o in api.get(f"/api/cycles/{CYCLE}/overrides").json()] == [1]
    r = api.post("/api/users", json={"name": "new-one", "role": "applicant", "city": "hefei", "password": "short"})
    assert r.status_code == 400 and "at least" in r.json()["message"]
    assert "new-one" not in [u["name"] for u in api.get("/api/users").json()]
    r = api.post("/api/users", json={"name": "new-one", "role": "applicant", "city": "hefei", "password": PASSWORD})
    assert r.status_code == 201 and r.json()["active"] is True
    assert api.post("/api/users/new-one/active", json={"active": False}).json()["active"] is False
    assert api.post("/api/users/new-one/role", json={"role": "scorer", "city": "wuhu"}).json()["city"] == "wuhu"
    r = api.post("/api/tokens", json={"user": admin("hefei"), "label": "脚本"})
    assert r.status_code == 201 and r.json()["secret"].startswith("ef_") and "token_hash" not in r.json()
    assert api.post(f"/api/tokens/{r.json()['id']}/revoke").json()["revoked_at"]
    assert api.get("/api/audit/verify").json()["ok"] is True
    assert len(api.get("/api/audit/head").json()["head"]) == 64
    history = api.get(f"/api/cycles/{CYCLE}/history?size=5").json()
    assert len(history["entries"]) == 5 and history["entries"][0]["action"] == "revoke_override"  # newest first
    assert api.post(f"/api/cycles/{CYCLE}/reminders/plan").status_code == 200
    assert api.post("/api/cycles", json={"program": "g60-deep-integration", "year": 2030}).status_code == 201


def test_the_api_documents_the_administration():
    from web.app import create_app

    doc = create_app(None).openapi()
    for path in ("/api/cycles", "/api/users", "/api/tokens", "/api/audit/verify", "/api/me/password"):
        assert path in doc["paths"], path
    assert doc["paths"]["/api/users"]["post"]["summary"]


def test_a_deactivated_user_is_refused_at_the_sign_in_form(web):
    w = web("collection")
    who = scorer("hefei")
    w.s.engine.set_password(LEAD, who, PASSWORD)
    w.s.engine.set_active(LEAD, who, False)
    client = w.anonymous()
    page = client.get("/login", headers={"Accept-Language": "en"})
    data = {"name": who, "password": PASSWORD, "csrf": csrf_of(page.text), "next": "/"}
    r = client.post("/login", data=data, headers={"Accept-Language": "en"})
    assert r.status_code == 401 and "hefei-scorer has been deactivated; ask the lead" in r.text
    with i18n.using("zh_CN"):
        page = client.get("/login")
        r = client.post("/login", data={**data, "csrf": csrf_of(page.text)})
    assert r.status_code == 401 and "hefei-scorer 已被停用，请联系牵头单位" in r.text
