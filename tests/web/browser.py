"""What the browser tests share: Debian's chromium under Playwright, `evalflow serve` as a
subprocess on a test's SQLite file, the command line in-process on the same file, and the few
page steps every story takes (signing in, reading the flash).

Chromium is the Debian package (`.ci/run` installs it); without it a browser test is skipped,
unless EVALFLOW_REQUIRE_BROWSER=1 (CI), where it fails. Screenshots go to EVALFLOW_ARTIFACTS
(default tests/web/artifacts).

The fixtures ``chromium`` and ``artifacts`` reach the tests through tests/web/conftest.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
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


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless chromium per test module (starting it is the slow part)."""
    missing = browser_missing()
    if missing:
        if os.environ.get("EVALFLOW_REQUIRE_BROWSER") == "1":
            pytest.fail(f"EVALFLOW_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


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
    """`evalflow --db FILE --now INSTANT serve --port PORT` as a subprocess, on one port throughout.
    ``env`` is added to the server's environment (EVALFLOW_PROGRAMS, say)."""

    def __init__(self, db: Path, log: Path, env: Mapping[str, str] | None = None):
        self.db, self.log = db, log
        self.env = {**os.environ, **(env or {})}
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.output: Any = None

    def start(self, now: str) -> None:
        """(Re)start the server with its clock at ``now``; return once it answers."""
        self.stop()
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
