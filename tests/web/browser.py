"""What the browser tests share: Debian's chromium under Playwright, the console `evalflow serve`
builds on a test's SQLite file (served in this process, or the command as a subprocess), the
command line in-process on the same file, and the page steps every story takes (signing in,
reading the flash, taking an action through its declared form, a refusal that changes nothing,
advancing from the dashboard, the bulk award).

Chromium is the Debian package (`.ci/run` installs it); without it a browser test is skipped,
unless EVALFLOW_REQUIRE_BROWSER=1 (CI), where it fails. Screenshots go to EVALFLOW_ARTIFACTS
(default tests/web/artifacts).

The fixtures ``chromium``, ``artifacts`` and ``story_of`` reach the tests of tests/web through
its conftest; another folder's tests import them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from store.sql import SqlStore
from tests.conftest import snapshot
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "g60-console-rehearsal"
TIMEOUT_MS = 15_000


def browser_missing() -> str:
    """Why the browser tests cannot run here, or "" when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[dev]')"
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return ""


# the one chromium of a test session: the fixture is registered by two conftests (tests/web's
# and tests/programs'), and two Playwright drivers cannot run at once in one thread
_LAUNCHED: dict[str, Any] = {}


@pytest.fixture(scope="session")
def chromium(request: pytest.FixtureRequest) -> Any:
    """One headless chromium per test session (starting it is the slow part); every test opens
    contexts of its own (own cookies, own pages) and closes them, so none sees another's."""
    missing = browser_missing()
    if missing:
        if os.environ.get("EVALFLOW_REQUIRE_BROWSER") == "1":
            pytest.fail(f"EVALFLOW_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    if "browser" not in _LAUNCHED:
        from playwright.sync_api import sync_playwright

        driver = sync_playwright().start()
        _LAUNCHED["driver"] = driver
        _LAUNCHED["browser"] = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        request.config.add_cleanup(_close_chromium)
    return _LAUNCHED["browser"]


def _close_chromium() -> None:
    browser, driver = _LAUNCHED.pop("browser", None), _LAUNCHED.pop("driver", None)
    try:
        if browser is not None:
            browser.close()
    finally:
        if driver is not None:
            driver.stop()


@pytest.fixture
def artifacts() -> Path:
    """The folder screenshots are written to."""
    out = Path(os.environ.get("EVALFLOW_ARTIFACTS") or ROOT / "tests" / "web" / "artifacts")
    out.mkdir(parents=True, exist_ok=True)
    return out


def evalflow_command() -> list[str]:
    """The installed `evalflow` script, beside this Python first."""
    script = Path(sys.executable).with_name("evalflow")
    if script.exists():
        return [str(script)]
    found = shutil.which("evalflow")
    assert found, "the evalflow command is not installed (pip install -e .)"
    return [found]


class Server:
    """The console on the test's SQLite file, on one port throughout, its clock held at the
    ``--now`` instant of each ``start``. ``env`` is added to the server's environment
    (EVALFLOW_PROGRAMS, say).

    By default the server runs in this process: uvicorn in a thread, serving the app `evalflow
    serve` builds (the command line's own Config gives the engine, as ``--db FILE --now INSTANT``
    would). Starting `evalflow serve` as a subprocess costs seconds of imports on a loaded
    machine, and the journeys restart the server at every dated window; a restart here builds a
    new engine and app too, so the sessions kept in the database are still what keeps a browser
    signed in. ``process=True`` runs the real `evalflow --db FILE --now INSTANT serve --port PORT`
    subprocess instead (one journey does, so the command itself stays covered)."""

    def __init__(self, db: Path, log: Path, env: Mapping[str, str] | None = None, process: bool = False):
        self.db, self.log = db, log
        self.added = dict(env or {})
        self.env = {**os.environ, **self.added}
        self.process = process
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.output: Any = None
        self.uvicorn: Any = None
        self.thread: threading.Thread | None = None
        self.engine: Any = None

    def start(self, now: str) -> None:
        """(Re)start the server with its clock at ``now``; return once it answers."""
        self.stop()
        if self.process:
            self._spawn(now)
        else:
            self._thread(now)

    def _thread(self, now: str) -> None:
        import uvicorn

        from commands.common import Config
        from commands.serve import serve
        from web.app import create_app

        with self.log.open("a", encoding="utf-8") as log:
            log.write(f"\n--- in-process: --db {self.db} --now {now} serve --port {self.port}\n")
        # the options `evalflow serve` would take by default, read from the command itself
        defaults = {p.name: p.default for p in serve.params}
        saved = {k: os.environ.get(k) for k in self.added}
        os.environ.update(self.added)  # (the program folders are read when the engine is made)
        try:
            self.engine = Config(str(self.db), None, now, False).engine()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        app = create_app(self.engine, idle_minutes=defaults["idle_minutes"], secure_cookies=False)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False, timeout_graceful_shutdown=5
        )
        self.uvicorn = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.uvicorn.run, name=f"evalflow-serve-{self.port}", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if not self.thread.is_alive():
                pytest.fail(f"the in-process console did not start on port {self.port}")
            if self.uvicorn.started:
                return
            time.sleep(0.02)
        pytest.fail("the in-process console did not start within a minute")

    def _spawn(self, now: str) -> None:
        argv = [*evalflow_command(), "--db", str(self.db), "--now", now, "serve", "--port", str(self.port)]
        with self.log.open("a", encoding="utf-8") as log:
            log.write(f"\n--- {' '.join(argv)}\n")
        self.output = self.log.open("a", encoding="utf-8")
        self.proc = subprocess.Popen(
            argv, stdout=self.output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT, env=self.env
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"evalflow serve exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.base}/login", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        pytest.fail(f"evalflow serve did not answer within a minute:\n{self.log.read_text()}")

    def stop(self) -> None:
        """Stop the server if it runs."""
        if self.uvicorn is not None and self.thread is not None:
            self.uvicorn.should_exit = True
            self.thread.join(timeout=30)
            assert not self.thread.is_alive(), "the in-process console did not stop"
        if self.engine is not None:
            self.engine.store.dispose()  # (its connections closed: the test may copy or rewrite the file)
        self.uvicorn, self.thread, self.engine = None, None, None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.output is not None:
            self.output.close()
        self.proc, self.output = None, None


class Cli:
    """The command line, in-process (click's runner), on the test's database at a given instant.
    ``env`` is the environment the commands run in (EVALFLOW_PROGRAMS, say)."""

    def __init__(self, db: Path, env: Mapping[str, str] | None = None):
        self.db = db
        self.runner = CliRunner(env=dict(env or {}))

    def __call__(self, user: str | None, now: str, *args: str, code: int = 0, stdin: str | None = None) -> str:
        argv = ["--db", str(self.db), "--now", now, *(["--as", user] if user else []), *args]
        result = self.runner.invoke(main, argv, input=stdin, catch_exceptions=False)
        assert result.exit_code == code, f"{args}: exit {result.exit_code} (wanted {code}):\n{result.output}"
        return result.output

    def json(self, user: str, now: str, *args: str) -> Any:
        return json.loads(self(user, now, "--json", *args))


class Pages:
    """The browser contexts of one story, one a signed-in user; on a failure each open page is
    saved as failure-N.png in the artifacts folder."""

    def __init__(self, browser: Any, artifacts: Path, width: int = 1280, height: int = 900):
        self.browser, self.artifacts = browser, artifacts
        self.viewport = {"width": width, "height": height}
        self.contexts: list[Any] = []

    def new(self, width: int | None = None) -> Any:
        """A new page in a context of its own (its own cookies: its own user)."""
        viewport = {**self.viewport, **({"width": width} if width else {})}
        ctx = self.browser.new_context(viewport=viewport, locale="zh-CN")
        ctx.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(ctx)
        return ctx.new_page()

    def failed(self, prefix: str = "failure") -> None:
        """Save every open page as it is."""
        for n, ctx in enumerate(self.contexts):
            for page in ctx.pages:
                page.screenshot(path=str(self.artifacts / f"{prefix}-{n}.png"), full_page=True)

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()
        self.contexts = []


def sign_in(page: Any, base: str, name: str, password: str = PASSWORD) -> None:
    """Sign ``name`` in through the sign-in page; the dashboard greets them."""
    page.goto(f"{base}/")
    assert "/login" in page.url, "an anonymous visitor is sent to the sign-in page"
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")
    expect(page.locator("#whoami")).to_contain_text(name)


def expect(locator: Any) -> Any:
    """Playwright's ``expect``, imported only once a browser test runs."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def ok(page: Any, *texts: str) -> None:
    """The page shows a success message containing every text, and no error."""
    expect(page.locator(".flash.ok")).to_be_visible()
    for t in texts:
        expect(page.locator(".flash.ok")).to_contain_text(t)
    assert page.locator(".flash.error").count() == 0, page.locator(".flash.error").all_inner_texts()


# the label of an action's reason: "<action>理由" when it is required, "说明" when optional
REASON = re.compile("理由|说明")


class Story:
    """One program's cycle: the command line and a server on one SQLite file, the signed-in
    pages, and the store read for snapshots."""

    def __init__(self, tmp_path: Path, name: str, chromium: Any, artifacts: Path, env: Mapping[str, str] | None = None):
        self.tmp = tmp_path
        self.db = tmp_path / f"{name}.db"
        self.cli = Cli(self.db, env)
        self.server = Server(self.db, tmp_path / "serve.log", env)
        self.base = self.server.base
        self.pages = Pages(chromium, artifacts, width=1366)
        self.artifacts = artifacts
        self.name = name
        self.files = 0
        self._store: SqlStore | None = None

    @property
    def store(self) -> SqlStore:
        if self._store is None:
            self._store = SqlStore(f"sqlite:///{self.db}")
        return self._store

    def users(self, when: str, lead: tuple[str, str], *others: tuple[str, str, str], signed: tuple[str, ...]) -> None:
        """A fresh database with the lead (name, party) and ``others`` (name, role, party);
        those in ``signed`` get the console's password."""
        self.cli(None, when, "init")
        self.cli(None, when, "user", "add", lead[0], "--role", "lead", "--city", lead[1])
        for name, role, party in others:
            self.cli(lead[0], when, "user", "add", name, "--role", role, "--city", party)
        for name in signed:
            self.cli(lead[0], when, "user", "passwd", name, "--password-stdin", stdin=PASSWORD + "\n")

    def submit(self, user: str, when: str, application: dict) -> int:
        """``evalflow project submit FILE`` as ``user``; the new project's id."""
        self.files += 1
        path = self.tmp / f"application-{self.files}.json"
        path.write_text(json.dumps(application, ensure_ascii=False), encoding="utf-8")
        out = self.cli(user, when, "project", "submit", str(path))
        found = re.search(r"Submitted project (\d+)", out)
        assert found, out
        return int(found.group(1))

    def page(self, user: str) -> Any:
        page = self.pages.new()
        sign_in(page, self.base, user)
        return page

    def states(self, user: str, when: str) -> dict[int, str]:
        return {p["id"]: p["state"] for p in self.cli.json(user, when, "project", "list")}

    def shoot(self, page: Any, name: str) -> None:
        """The page as it is, 1366 and 390 pixels wide (the width of a phone), and its forms alone
        at 390; nothing is wider than the phone."""
        page.screenshot(path=str(self.artifacts / f"{name}-1366.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(self.artifacts / f"{name}-390.png"), full_page=True)
        page.locator("#actions").screenshot(path=str(self.artifacts / f"{name}-390-forms.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, "nothing overflows a phone's width"
        page.set_viewport_size({"width": 1366, "height": 900})

    def close(self) -> None:
        self.pages.close()
        self.server.stop()
        if self._store is not None:
            self._store.dispose()


@pytest.fixture
def story_of(request, chromium, artifacts: Path, tmp_path: Path) -> Iterator[Any]:
    """A factory of one story (one program, one server); on a failure each open page is saved."""
    made: list[Story] = []
    failed_before = request.session.testsfailed

    def make(name: str, env: Mapping[str, str] | None = None) -> Story:
        s = Story(tmp_path, name, chromium, artifacts, env)
        made.append(s)
        return s

    yield make
    for s in made:
        if request.session.testsfailed > failed_before:
            s.pages.failed(f"failure-{s.name}")
        s.close()


def act(
    page: Any,
    base: str,
    pid: int,
    trigger: str,
    choose: Mapping[str, str] | None = None,
    fill: Mapping[str, str] | None = None,
    tick: tuple[str, ...] = (),
    reason: str | None = None,
) -> Any:
    """Take ``trigger`` on project ``pid`` through its declared form: each choice selected by its
    Chinese label, each field filled and each yes/no ticked by its label, the reason typed."""
    page.goto(f"{base}/projects/{pid}")
    form = page.locator(f"#act-{trigger}")
    for label, option in (choose or {}).items():
        form.get_by_label(label).select_option(label=option)
    for label, text in (fill or {}).items():
        form.get_by_label(label).fill(text)
    for label in tick:
        form.get_by_label(label).check()
    if reason is not None:
        form.get_by_label(REASON).fill(reason)
    form.get_by_role("button").click()
    return form


def acted(page: Any, pid: int, verb: str, state: str, *shown: str, record: tuple[str, ...] = ()) -> None:
    """The page says the action was done and the project's new state, by their Chinese names; the
    history shows each of ``shown`` (a parameter by its label, a reason) and the record each of
    ``record``."""
    ok(page, f"项目 {pid} {verb}：现为 {state}")
    expect(page.locator("#state")).to_have_text(state)
    for text in shown:
        expect(page.locator("#history")).to_contain_text(text)
    for text in record:
        expect(page.locator("#record")).to_contain_text(text)


def refused(story: Story, page: Any, *messages: str, action: Any) -> Any:
    """``action()`` is refused on the page in the rule's words, and the database is as it was."""
    before = snapshot(story.store)
    action()
    error = page.locator(".flash.error")
    expect(error).to_be_visible()
    for m in messages:
        expect(error).to_contain_text(m)
    assert page.locator(".flash.ok").count() == 0
    assert snapshot(story.store) == before, "a refused action changes nothing"
    return error


def advance(page: Any, base: str, stage_from: str, stage_to: str) -> None:
    """The lead closes the stage from the dashboard's advance button."""
    page.goto(f"{base}/")
    expect(page.locator("#advance")).to_contain_text("所有关闭条件均已满足")
    page.locator("#advance").get_by_role("button", name=f"关闭「{stage_from}」并进入下一阶段").click()
    ok(page, f"已关闭「{stage_from}」，进入「{stage_to}」")
    expect(page.locator("#stage")).to_contain_text(stage_to)


def bulk_award(page: Any, base: str, ids: list[int], verb: str, state: str) -> None:
    """The lead ticks ``ids`` on the project list (only those may be awarded) and awards them."""
    page.goto(f"{base}/projects?action=award")
    boxes = page.locator("#projects input[type=checkbox][name=ids]")
    expect(boxes).to_have_count(len(ids))
    for pid in ids:
        page.get_by_label(f"选择项目 {pid}").check()
    page.locator('#bulk button[formaction="/bulk/award"]').click()
    ok(page, *(f"项目 {pid} {verb}：现为 {state}" for pid in ids))


def ticked_shown_as_yes(page: Any, label: str) -> None:
    """A ticked yes/no reads 是 in the history (a page already loaded): the console posts the box
    as "true", and the engine keeps it as yes by the parameter's declaration."""
    text = page.locator("#history").inner_text()
    assert f"{label}：是" in text, text
