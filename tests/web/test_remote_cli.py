"""The command line through the server (`evalflow login --server URL`): a city's machine holds the
server's address and its user's token, each command runs on the server as that user, with the
same output, `--json` and exit codes as on the server itself; what a caller may not claim (another
user, a database, an operator's command) is refused and changes nothing.

One real server (uvicorn, in a thread) serves the module; each test puts its own checkpoint's
console behind it.
"""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner, Result

from cli import main
from store.sql import SqlStore
from tests.backends import BACKENDS, database
from tests.conftest import LEAD, SettableClock, make_app, sh, snapshot
from tests.servers import free_port
from tests.workflow.checkpoints import Staged
from web.app import create_app
from workflow.engine import Engine
from workflow.program import ProgramRegistry

PASSWORD = "correct horse 42"


class Behind:
    """An ASGI app that passes each request to the app of the running test."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # (the server's start and stop: nothing to do)
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def server() -> Any:
    behind = Behind()
    port = free_port()
    config = uvicorn.Config(behind, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    while not running.started:
        time.sleep(0.02)
    yield behind, f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(5)


class Remote:
    """A checkpoint behind the server; ``local`` runs a command on its database, ``remote`` on a
    machine signed in to the server (its sign-in kept in ``login``)."""

    def __init__(self, s: Staged, url: str, folder: Path) -> None:
        self.s, self.url, self.folder = s, url, folder
        self.login = folder / "home" / "evalflow" / "login.toml"
        self.now = s.clock.instant.isoformat()

    def env(self) -> dict[str, str | None]:
        return {"EVALFLOW_LOGIN": str(self.login), "EVALFLOW_DATABASE_URL": None, "EVALFLOW_USER": None}

    def sign_in(self, user: str) -> Result:
        self.s.engine.set_password(LEAD, user, PASSWORD)
        args = ["login", "--server", self.url, "--name", user, "--password-stdin"]
        return CliRunner().invoke(main, args, input=PASSWORD + "\n", env=self.env())

    def remote(self, *args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(main, list(args), input=stdin, env=self.env())

    def local(self, user: str, *args: str) -> Result:
        db = self.s.store.url
        base = ["--db", db, "--as", user, "--now", self.now]
        return CliRunner().invoke(main, [*base, *args], env={"EVALFLOW_LOGIN": str(self.folder / "none.toml")})


@pytest.fixture
def remote(server: Any, at_stage: Any, tmp_path: Path) -> Any:
    behind, url = server

    def make(checkpoint: str, user: str) -> Remote:
        s = at_stage(checkpoint)
        app = create_app(s.engine)
        app.state.cli_env = {"EVALFLOW_NOW": s.clock.instant.isoformat()}  # (the checkpoint's clock)
        app.state.cli_root = main  # (as `evalflow serve` gives it)
        behind.app = app
        r = Remote(s, url, tmp_path)
        signed = r.sign_in(user)
        assert signed.exit_code == 0, signed.output
        return r

    return make


def _same(a: Result, b: Result) -> None:
    assert (a.exit_code, a.stdout, a.stderr) == (b.exit_code, b.stdout, b.stderr)


def test_login_keeps_the_token_in_the_user_s_own_file(remote: Any) -> None:
    r = remote("proposed", "hefei-admin")
    assert stat.S_IMODE(r.login.stat().st_mode) == 0o600
    assert stat.S_IMODE(r.login.parent.stat().st_mode) == 0o700
    kept = r.login.read_text(encoding="utf-8")
    assert r.url in kept and "ef_" in kept and "evalflow_test" not in kept and ".db" not in kept
    wrong = CliRunner().invoke(
        main,
        ["--lang", "en", "login", "--server", r.url, "--name", "hefei-admin", "--password-stdin"],
        input="not the password\n",
        env={**r.env(), "EVALFLOW_LOGIN": str(r.folder / "other.toml")},
    )
    assert (wrong.exit_code, wrong.stderr) == (4, "Error: Not signed in: the name or the password is wrong.\n")
    assert not (r.folder / "other.toml").exists()
    who = r.remote("--lang", "en", "whoami")
    assert who.exit_code == 0, who.output
    assert who.stdout == f"hefei-admin (city-admin, hefei) on {r.url}\n"


def test_a_command_through_the_server_says_what_it_says_on_the_server(remote: Any) -> None:
    r = remote("proposed", "hefei-admin")
    first = str(r.s.ids["hefei"][0])
    for args in (
        ["cycle", "status"],
        ["--lang", "en", "list", "show"],
        ["--json", "cycle", "status"],
        ["project", "show", first, "--json"],
    ):
        _same(r.remote(*args), r.local("hefei-admin", *args))


def test_a_refusal_has_the_same_line_and_exit_code(remote: Any) -> None:
    r = remote("hefei_short", LEAD)
    r.remote("whoami")  # (the token's first use is written; the refusals below write nothing)
    before = snapshot(r.s.store)
    for args, code in (
        (["cycle", "advance"], 3),  # (hefei has scored 4 of 45: a rule refuses)
        (["--json", "cycle", "advance"], 3),
        (["--json", "--lang", "en", "project", "show", "99999"], 5),
    ):
        refused = r.remote(*args)
        assert refused.exit_code == code, refused.output
        _same(refused, r.local(LEAD, *args))
    assert snapshot(r.s.store) == before


def test_a_claim_to_be_another_user_or_to_name_a_database_is_refused(remote: Any) -> None:
    r = remote("proposed", "hefei-admin")
    r.remote("whoami")  # (the token's first use is written; the refusals below write nothing)
    before = snapshot(r.s.store)
    claim = r.remote("--lang", "en", "--as", LEAD, "user", "token", "add", "hefei-scorer")
    assert claim.exit_code == 4
    assert claim.stderr == (
        "Error: Not permitted to act as user lead: every command through the server acts as the signed-in "
        "user hefei-admin.\n"
    )
    db = r.remote("--lang", "en", "--db", "/tmp/other.db", "cycle", "status")
    assert db.exit_code == 4
    assert (
        db.stderr
        == "Error: Not permitted to give --db: the server uses its own; --db is taken only on the server itself.\n"
    )
    for option in (["--now", "2027-01-01"], ["--verbose"]):
        said = r.remote("--lang", "en", *option, "cycle", "status")
        assert (said.exit_code, said.stdout) == (4, "")
        assert f"Not permitted to give {option[0]}: the server uses its own" in said.stderr
    for args in (["db", "upgrade"], ["init"], ["demo"], ["remind", "due"], ["serve"]):
        said = r.remote("--lang", "en", *args)
        assert said.exit_code == 4, args
        assert f"Not permitted to run `evalflow {' '.join(args)}` through the server" in said.stderr
    assert snapshot(r.s.store) == before
    same = r.remote("--as", "hefei-admin", "cycle", "status")  # (naming oneself is no claim)
    assert same.exit_code == 0


def test_a_city_admin_cannot_set_another_city_s_password(remote: Any) -> None:
    r = remote("proposed", "wuhu-admin")
    r.s.engine.set_password(LEAD, "hefei-admin", PASSWORD)
    r.remote("whoami")
    before = snapshot(r.s.store)
    took = r.remote("--lang", "en", "user", "passwd", "hefei-admin", "--password-stdin", stdin="taken over 12345\n")
    assert took.exit_code == 4
    assert took.stderr == (
        "Error: Not permitted to set the password of user hefei-admin: wuhu-admin is city-admin; "
        "only the lead acts for others.\n"
    )
    assert snapshot(r.s.store) == before
    assert r.s.engine.sign_in("hefei-admin", PASSWORD).name == "hefei-admin"
    # their own password, asked on this machine (hidden, twice) and set on the server
    own = r.remote("--lang", "en", "user", "passwd", "wuhu-admin", stdin="a new one 12345\na new one 12345\n")
    assert own.exit_code == 0, own.output
    assert own.stdout.endswith("Password set for wuhu-admin; their sessions have ended\n")
    assert r.s.engine.sign_in("wuhu-admin", "a new one 12345").name == "wuhu-admin"


def test_a_file_goes_to_the_server_and_a_written_file_comes_back(remote: Any, tmp_path: Path) -> None:
    r = remote("published", LEAD)
    out = tmp_path / "reports" / "list.md"
    out.parent.mkdir()
    made = r.remote("--lang", "en", "report", "--format", "md", "--out", str(out))
    assert made.exit_code == 0, made.output
    assert made.stdout == f"Wrote {out}\n"
    here = tmp_path / "here.md"
    assert r.local(LEAD, "--lang", "en", "report", "--format", "md", "--out", str(here)).exit_code == 0
    assert out.read_text(encoding="utf-8") == here.read_text(encoding="utf-8")


def test_an_application_file_is_read_on_the_server_and_a_default_file_comes_back_here(
    remote: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = remote("collection", "hefei-applicant")
    app = tmp_path / "申报书.json"
    app.write_text(json.dumps(make_app("hefei", 7), ensure_ascii=False), encoding="utf-8")
    before = {p.id for p in r.s.engine.projects(LEAD, None)}
    done = r.remote("--lang", "en", "project", "submit", str(app))
    assert done.exit_code == 0, done.output
    (new,) = {p.id for p in r.s.engine.projects(LEAD, None)} - before
    assert done.stdout.startswith(f"Submitted project {new}: ")
    assert r.s.engine.project(LEAD, new)[0].applicant == "hefei-applicant"  # (the token's user, not a claim)
    # a file the command names by default is written where the command was typed
    monkeypatch.chdir(tmp_path)
    form = r.remote("--lang", "en", "template", "application")
    assert form.exit_code == 0, form.output
    (written,) = [p for p in tmp_path.glob("*.xlsx")]
    assert form.stdout.startswith(f"Wrote {written.name}: sheets ")
    missing = r.remote("--lang", "en", "project", "submit", str(tmp_path / "nowhere.json"))
    assert missing.exit_code == 7
    assert "nowhere.json" in missing.stderr and missing.stderr.count("\n") == 1


def test_an_ended_token_asks_to_sign_in_again(remote: Any) -> None:
    r = remote("proposed", "hefei-admin")
    assert r.remote("whoami").exit_code == 0
    for token in r.s.engine.tokens(LEAD, "hefei-admin"):
        r.s.engine.revoke_token(LEAD, token.id)
    ended = r.remote("--lang", "en", "cycle", "status")
    assert ended.exit_code == 4
    assert ended.stderr == (
        f"Error: Not signed in: the sign-in to {r.url} has ended; sign in again: evalflow login --server {r.url}.\n"
    )
    out = r.remote("--lang", "en", "logout")
    assert out.exit_code == 0 and not r.login.exists()
    assert out.stdout == f"Signed out of {r.url}\n"


def test_logout_revokes_the_token(remote: Any) -> None:
    r = remote("proposed", "hefei-admin")
    assert r.remote("logout").exit_code == 0
    assert all(t.revoked_at is not None for t in r.s.engine.tokens(LEAD, "hefei-admin"))
    # signed out, the machine uses no server (and here has no database either)
    assert not os.path.exists(r.login)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_takeover_of_the_issue_is_refused_on_both_databases(server: Any, tmp_path: Path, backend: str) -> None:
    """`evalflow --as 张主任 user passwd hefei-admin` with the database's URL took over a user: through
    the server, a city's administrator can neither claim the lead nor act on another city's user."""
    behind, url = server
    with database(backend, tmp_path) as db:
        store = SqlStore(db)
        store.create()
        engine = Engine(store, ProgramRegistry(), SettableClock(sh(1, 2)))
        engine.add_user(None, LEAD, "lead", "songjiang")
        for name, city in (("hefei-admin", "hefei"), ("wuhu-admin", "wuhu")):
            engine.add_user(LEAD, name, "city-admin", city)
        app = create_app(engine)
        app.state.cli_root = main
        behind.app = app
        s = Staged(engine, store, SettableClock(sh(1, 2)), {}, {}, {})
        r = Remote(s, url, tmp_path)
        engine.set_password(LEAD, "hefei-admin", PASSWORD)
        assert r.sign_in("wuhu-admin").exit_code == 0
        r.remote("whoami")
        before = snapshot(store)
        for args in (
            ["--as", LEAD, "user", "passwd", "hefei-admin", "--password-stdin"],
            ["user", "passwd", "hefei-admin", "--password-stdin"],
            ["user", "token", "add", "hefei-admin"],
        ):
            said = r.remote("--lang", "en", *args, stdin="taken over 12345\n")
            assert said.exit_code == 4, (args, said.output)
            assert said.stderr.startswith("Error: Not permitted to ") and said.stderr.count("\n") == 1
            assert snapshot(store) == before
        assert engine.sign_in("hefei-admin", PASSWORD).name == "hefei-admin"
        store.dispose()


def test_a_file_not_sent_or_named_twice_is_refused_before_anything_runs(web: Any) -> None:
    w = web("collection")
    w.app.state.cli_root = main
    client = w.api("hefei-applicant")
    before = snapshot(w.s.store)

    def call(argv: list[str], files: dict[str, str]) -> dict[str, Any]:
        answer = client.post("/api/cli", json={"argv": argv, "lang": "en", "files": files})
        assert answer.status_code == 200, answer.text
        return answer.json()

    unsent = call(["project", "submit", "a.json"], {})
    assert (unsent["exit_code"], unsent["stderr"]) == (
        7,
        "Error: Invalid file: a.json was not sent with the command.\n",
    )
    twice = call(["project", "submit", "a.json", "--cycle", "a.json"], {"a.json": "e30="})
    assert twice["exit_code"] == 7
    assert "a file's name is also another value of the command line" in twice["stderr"]
    assert snapshot(w.s.store) == before
    too_many = client.post("/api/cli", json={"argv": ["x"] * 201})
    assert too_many.status_code == 400
