"""Passwords, sessions and tokens on both databases: the console of nine cities runs on the
shared PostgreSQL of the multi-site mode, one office's on SQLite."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner

from cli import main
from store.sql import SqlStore
from tests.backends import BACKENDS, database
from tests.conftest import CITIES, LEAD, SettableClock, admin, sh
from web.app import create_app
from workflow.engine import Engine
from workflow.errors import NotSignedIn

PASSWORD = "nine-cities-2027"


@pytest.mark.parametrize("backend", BACKENDS)
def test_sign_in_sessions_and_tokens(backend, tmp_path, programs):
    with database(backend, tmp_path) as url:
        store = SqlStore(url)
        store.create()
        try:
            engine = Engine(store, programs, SettableClock(sh(1, 2)))
            engine.add_user(None, LEAD, "lead", "songjiang")
            for c in CITIES[:2]:
                engine.add_user(LEAD, admin(c), "city-admin", c)
            engine.set_password(LEAD, admin("jiaxing"), PASSWORD)
            user = engine.sign_in(admin("jiaxing"), PASSWORD)
            with pytest.raises(NotSignedIn):
                engine.sign_in(admin("jiaxing"), PASSWORD + "x")
            token, session = engine.open_session(user)
            assert engine.session_of(token, timedelta(minutes=30))[0].name == admin("jiaxing")
            engine.flash(session, {"kind": "ok", "title": "t", "text": "第一条"})
            assert engine.flash(session) == [{"kind": "ok", "title": "t", "text": "第一条"}]
            assert engine.flash(session) == []
            secret, _ = engine.new_token(LEAD, admin("jiaxing"), "script")
            assert engine.token_user(secret).name == admin("jiaxing")
            # the API on this database, with the token
            from fastapi.testclient import TestClient

            client = TestClient(create_app(engine))
            r = client.get("/api/me", headers={"Authorization": f"Bearer {secret}"})
            assert r.status_code == 200 and r.json() == {
                "name": "jiaxing-admin",
                "role": "city-admin",
                "city": "jiaxing",
            }
            engine.close_session(token)
            assert engine.session_of(token, timedelta(minutes=30)) is None
        finally:
            store.dispose()


def test_serve_on_a_missing_database_says_so_in_one_line(tmp_path):
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "none.db"), "serve"], catch_exceptions=False)
    assert result.exit_code == 9
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert len(lines) == 1 and "run 'evalflow init' first" in lines[0]
