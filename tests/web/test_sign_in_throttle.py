"""Sign-in throttling by client address, on both databases: an outsider's wrong passwords make
the outsider's address wait, never the lead's; an unknown name, a wrong password and a name that
waits get one answer; the lead unlocks a name from the command line, the console or the API, and
the unlock is audited; nobody else may unlock, and a refused unlock changes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from store.sql import SqlStore
from tests.backends import BACKENDS, database
from tests.cli.test_full_cycle import Cli
from tests.conftest import LEAD, SettableClock, admin, sh, snapshot
from tests.web.conftest import csrf_of
from web.app import create_app
from web.auth import SESSION_COOKIE
from workflow import accounts
from workflow.accounts import MAX_FAILURES
from workflow.engine import Engine
from workflow.errors import NotSignedIn
from workflow.throttle import ADDRESS_FAILURES, SignInThrottle

PASSWORD = "nine-cities-2027"
OUTSIDER = "203.0.113.9"  # (documentation addresses, RFC 5737)
OFFICE = "198.51.100.7"
NOW = "2027-01-05T09:00"
HEFEI = admin("hefei")


@dataclass
class Console:
    engine: Engine
    store: SqlStore
    url: str
    app: Any

    def client(self, address: str) -> TestClient:
        """A browser at ``address``."""
        return TestClient(self.app, base_url="http://testserver", follow_redirects=False, client=(address, 50000))

    def sign_in(self, address: str, name: str, password: str) -> Any:
        client = self.client(address)
        page = client.get("/login")
        return client.post("/login", data={"name": name, "password": password, "csrf": csrf_of(page.text)})

    def audit(self, action: str) -> list[tuple]:
        with self.store.engine.connect() as conn:
            sql = "SELECT subject, subject_id, actor, action FROM audit WHERE action = :a ORDER BY id"
            return [tuple(r) for r in conn.execute(text(sql), {"a": action})]


@pytest.fixture
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id at its cheapest: these tests make dozens of sign-ins, and what they test is who
    is let in, not the hash's cost."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture(params=BACKENDS)
def console(request, tmp_path: Path, programs, quick_hashes) -> Iterator[Console]:
    with database(request.param, tmp_path) as url:
        store = SqlStore(url)
        store.create()
        try:
            engine = Engine(store, programs, SettableClock(sh(1, 2)))
            engine.add_user(None, LEAD, "lead", "songjiang")
            engine.add_user(LEAD, HEFEI, "city-admin", "hefei")
            engine.set_password(LEAD, LEAD, PASSWORD)
            engine.set_password(LEAD, HEFEI, PASSWORD)
            yield Console(engine, store, url, create_app(engine))
        finally:
            store.dispose()


def _same_page(response: Any) -> tuple[int, str]:
    """A sign-in page's answer less its fresh form token (new on every page)."""
    return response.status_code, re.sub(r'name="csrf" value="[^"]+"', 'name="csrf" value=""', response.text)


# ------------------------------------------------------------------------------------------ the attack
def test_an_outsider_from_another_address_cannot_lock_the_lead_out(console: Console) -> None:
    for _ in range(MAX_FAILURES * 2):
        assert console.sign_in(OUTSIDER, LEAD, "guess-guess-guess").status_code == 401
    # the outsider's address waits: even the right password is not tried from there
    assert console.sign_in(OUTSIDER, LEAD, PASSWORD).status_code == 401
    # the lead, at their own desk, signs in as ever
    r = console.sign_in(OFFICE, LEAD, PASSWORD)
    assert r.status_code == 303 and SESSION_COOKIE in r.cookies
    # and the wrong guesses wrote nothing to the database (no count, no lock on the name)
    with console.store.engine.connect() as conn:
        rows = conn.execute(text("SELECT failures, locked_until FROM credentials")).all()
    assert {tuple(r) for r in rows} == {(0, None)}


def test_a_wrong_sign_in_changes_nothing_in_the_database(console: Console) -> None:
    before = snapshot(console.store)
    for _ in range(MAX_FAILURES + 1):
        console.sign_in(OUTSIDER, HEFEI, "guess-guess-guess")
    assert snapshot(console.store) == before


def test_one_address_trying_many_names_waits_for_every_name(console: Console) -> None:
    console.engine.sign_in_throttle = SignInThrottle(per_address="3 per 15 minutes")  # (3, not 30: a cheap test)
    for name in ("zhang", "wang", "li"):
        assert console.sign_in(OUTSIDER, name, "guess-guess-guess").status_code == 401
    assert console.sign_in(OUTSIDER, HEFEI, PASSWORD).status_code == 401  # a fourth name, its right password
    assert console.sign_in(OFFICE, HEFEI, PASSWORD).status_code == 303
    assert ADDRESS_FAILURES > MAX_FAILURES  # (the server's own: several names' mistakes before a wait)


# ------------------------------------------------------------------------------------------ one answer
def test_an_unknown_name_a_wrong_password_and_a_waiting_name_get_one_answer(console: Console) -> None:
    for _ in range(MAX_FAILURES):
        console.sign_in(OUTSIDER, HEFEI, "guess-guess-guess")
    waiting = console.sign_in(OUTSIDER, HEFEI, PASSWORD)  # the right password, from an address that waits
    unknown = console.sign_in(OFFICE, "nobody", "guess-guess-guess")
    wrong = console.sign_in(OFFICE, LEAD, "guess-guess-guess")
    assert _same_page(waiting) == _same_page(unknown) == _same_page(wrong)
    assert waiting.status_code == 401 and "用户名或密码错误" in waiting.text  # (the console reads Chinese)
    assert "锁定" not in waiting.text and SESSION_COOKIE not in waiting.cookies
    # the engine's answer, which every way of signing in shows, is the same one
    answers = []
    for name, password, address in ((HEFEI, PASSWORD, OUTSIDER), ("nobody", "x", OFFICE), (LEAD, "x", OFFICE)):
        with pytest.raises(NotSignedIn) as err:
            console.engine.sign_in(name, password, address)
        answers.append((type(err.value), err.value.render("en"), err.value.render("zh_CN")))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][1] == "Not signed in: the name or the password is wrong."


def test_the_api_s_password_check_answers_alike_for_a_wrong_and_a_waiting_password(console: Console) -> None:
    secret, _ = console.engine.new_token(LEAD, HEFEI, "script")
    outsider, office = console.client(OUTSIDER), console.client(OFFICE)
    for c in (outsider, office):
        c.headers["Authorization"] = f"Bearer {secret}"
    for _ in range(MAX_FAILURES):
        outsider.post("/api/me/password", json={"current": "guess-guess-guess", "new": "a-new-passw0rd"})
    waiting = outsider.post("/api/me/password", json={"current": PASSWORD, "new": "a-new-passw0rd"})
    wrong = office.post("/api/me/password", json={"current": "guess-guess-guess", "new": "a-new-passw0rd"})
    assert (waiting.status_code, waiting.json()) == (wrong.status_code, wrong.json())
    assert wrong.status_code == 400 and wrong.json()["problems"] == ["the current password is wrong"]
    # from the office, the right password still changes it
    ok = office.post("/api/me/password", json={"current": PASSWORD, "new": "a-new-passw0rd"})
    assert ok.status_code == 200


def test_the_command_line_s_sign_in_is_throttled_and_answers_alike(console: Console) -> None:
    """POST /api/login (evalflow login) counts by address as the console's sign-in does."""

    def login(address: str, name: str, password: str) -> Any:
        return console.client(address).post("/api/login", json={"name": name, "password": password})

    for _ in range(MAX_FAILURES):
        assert login(OUTSIDER, HEFEI, "guess-guess-guess").status_code == 401
    waiting, unknown, wrong = (
        login(OUTSIDER, HEFEI, PASSWORD),
        login(OFFICE, "nobody", "guess-guess-guess"),
        login(OFFICE, LEAD, "guess-guess-guess"),
    )
    assert (
        (waiting.status_code, waiting.json())
        == (unknown.status_code, unknown.json())
        == (wrong.status_code, wrong.json())
    )
    assert "token" not in waiting.json()
    # from the office the right password gives the user's own token
    ok = login(OFFICE, HEFEI, PASSWORD)
    assert (
        ok.status_code == 200
        and ok.json()["name"] == HEFEI
        and console.engine.token_user(ok.json()["token"]).name == HEFEI
    )


# ------------------------------------------------------------------------------------------ unlocking
def _throttled(console: Console, name: str = HEFEI) -> None:
    for _ in range(MAX_FAILURES):
        console.sign_in(OUTSIDER, name, "guess-guess-guess")
    assert console.sign_in(OUTSIDER, name, PASSWORD).status_code == 401


def test_the_lead_unlocks_from_the_command_line_and_the_server_lets_the_name_in(console: Console) -> None:
    _throttled(console)
    # the command line's engine is another process's: the unlock reaches the server by the database
    out = Cli(console.url)(LEAD, NOW, "user", "unlock", HEFEI)
    assert out.strip() == f"{HEFEI} may sign in again from every address"
    assert console.audit("unlock_user") == [("user", HEFEI, LEAD, "unlock_user")]
    assert console.sign_in(OUTSIDER, HEFEI, PASSWORD).status_code == 303
    # and the count starts afresh: five more wrong ones make the address wait again
    _throttled(console)


def test_the_lead_unlocks_on_the_users_page_and_by_the_api(console: Console) -> None:
    _throttled(console)
    lead = console.client(OFFICE)
    token, _ = console.engine.open_session(next(u for u in console.engine.users() if u.name == LEAD))
    lead.cookies.set(SESSION_COOKIE, token)
    page = lead.get("/admin/users")
    assert f'action="/admin/users/{HEFEI}/unlock"' in page.text
    r = lead.post(f"/admin/users/{HEFEI}/unlock", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 303
    assert console.sign_in(OUTSIDER, HEFEI, PASSWORD).status_code == 303
    _throttled(console)
    secret, _ = console.engine.new_token(LEAD, LEAD, "script")
    r = console.client(OFFICE).post(f"/api/users/{HEFEI}/unlock", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200 and r.json()["name"] == HEFEI
    assert console.sign_in(OUTSIDER, HEFEI, PASSWORD).status_code == 303
    assert console.audit("unlock_user") == [("user", HEFEI, LEAD, "unlock_user")] * 2


def test_an_unlock_lets_in_a_user_whose_office_address_tried_many_names(console: Console) -> None:
    console.engine.sign_in_throttle = SignInThrottle(per_address="3 per 15 minutes")
    for name in ("zhang", "wang", "li"):  # someone in the same office (one shared address)
        console.sign_in(OFFICE, name, "guess-guess-guess")
    assert console.sign_in(OFFICE, HEFEI, PASSWORD).status_code == 401
    console.engine.unlock(LEAD, HEFEI)
    assert console.sign_in(OFFICE, HEFEI, PASSWORD).status_code == 303


def test_a_new_password_set_by_the_lead_unlocks_too(console: Console) -> None:
    _throttled(console)
    console.engine.set_password(LEAD, HEFEI, PASSWORD + "-new")
    assert console.sign_in(OUTSIDER, HEFEI, PASSWORD + "-new").status_code == 303


def test_only_the_lead_unlocks_and_a_refused_unlock_changes_nothing(console: Console) -> None:
    _throttled(console, LEAD)
    before = snapshot(console.store)
    out = Cli(console.url)(HEFEI, NOW, "user", "unlock", LEAD, code=4)
    assert out.strip() == (
        f"Error: Not permitted to unlock user {LEAD}: {HEFEI} is city-admin; users are managed by the lead."
    )
    assert snapshot(console.store) == before
    secret, _ = console.engine.new_token(HEFEI, HEFEI, "script")
    before = snapshot(console.store)
    r = console.client(OFFICE).post(f"/api/users/{LEAD}/unlock", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 403 and "users are managed by the lead" in r.json()["message"]
    assert snapshot(console.store) == before
    assert console.audit("unlock_user") == []
    assert console.sign_in(OUTSIDER, LEAD, PASSWORD).status_code == 401  # the address still waits


# ------------------------------------------------------------------------------------------ the address
def test_serve_believes_x_forwarded_for_only_from_the_proxies_named(tmp_path: Path, monkeypatch) -> None:
    import uvicorn
    from click.testing import CliRunner

    from cli import main

    db = tmp_path / "evalflow.db"
    store = SqlStore(f"sqlite:///{db}")
    store.create()
    store.dispose()
    runs: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: runs.append(options))
    for extra in ([], ["--forwarded-allow-ips", "10.0.0.2"]):
        result = CliRunner().invoke(main, ["--db", str(db), "serve", *extra], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    # (uvicorn's own default would believe any X-Forwarded-For coming from 127.0.0.1)
    assert (runs[0]["proxy_headers"], runs[0]["forwarded_allow_ips"]) == (False, None)
    assert (runs[1]["proxy_headers"], runs[1]["forwarded_allow_ips"]) == (True, "10.0.0.2")
