"""`evalflow serve --workers 2`, the real command in a subprocess: both workers answer, a browser
signed in on one is signed in on the other (the sessions and their CSRF tokens are in the
database: no secret of a process to share), every request is answered as the signed-in user, and
no worker runs the scheduler (the reminders and the audit checkpoint are `evalflow scheduler
run`'s alone, single by its lease)."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from store.sql import SqlStore
from tests.servers import free_port
from tests.web.browser import ROOT, evalflow_command
from workflow.engine import Engine

PASSWORD = "workers-Passw0rd!"
ANSWERED = 15  # CPU ticks (1/100 s) a worker has spent once it has answered pages (idle: about 1 in 4 s)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _busy(pid: int) -> int:
    """The CPU time a process has spent, in ticks (user and system): an idle worker spends next
    to none, one answering pages a tick or more for every few (the answers carry nothing of the
    worker that made them)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


@pytest.fixture
def served(tmp_path: Path):
    db = tmp_path / "workers.db"
    store = SqlStore(f"sqlite:///{db}")
    store.create()
    engine = Engine(store)
    engine.add_user(None, "lead", "lead", "songjiang")
    engine.set_password("lead", "lead", PASSWORD)
    store.dispose()
    port = free_port()
    log = (tmp_path / "serve.log").open("w", encoding="utf-8")
    argv = [*evalflow_command(), "--db", str(db), "serve", "--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            workers = [c for c in _children(proc.pid) if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()]
            try:
                if len(workers) == 2 and httpx.get(f"{base}/login").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the console did not start within 90 s"
            time.sleep(0.2)
        yield base, proc, workers, store
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the workers' CPU time in /proc (Linux)")
def test_two_workers_answer_one_signed_in_browser(served):
    base, proc, workers, store = served
    client = httpx.Client(base_url=base, follow_redirects=False)
    form = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    r = client.post("/login", data={"csrf": csrf, "name": "lead", "password": PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookies = client.cookies
    start = {w: _busy(w) for w in workers}

    def one(path: str) -> tuple[int, bool]:
        # a connection of its own each time: whichever worker accepts it answers
        with httpx.Client(base_url=base, cookies=cookies, follow_redirects=False) as fresh:
            answer = fresh.get(path)
            return answer.status_code, 'name="csrf"' in answer.text and "/logout" in answer.text

    seen: Counter[tuple[int, bool]] = Counter()
    with ThreadPoolExecutor(8) as pool:
        for _ in range(60):  # (batches, until both workers have answered pages)
            seen.update(pool.map(one, ["/account", "/admin/users"] * 8))
            if all(_busy(w) - start[w] > ANSWERED for w in workers):
                break
    assert set(seen) == {(200, True)}, seen  # every answer a signed-in page, none a sign-in redirect
    assert all(_busy(w) - start[w] > ANSWERED for w in workers), "one worker answered everything"
    # a form posted to whichever worker carries the session's token from the database
    page = client.get("/account").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    with ThreadPoolExecutor(4) as pool:
        posted = list(
            pool.map(
                lambda _: (
                    httpx.post(f"{base}/language", data={"csrf": token, "lang": "en"}, cookies=cookies).status_code
                ),
                range(8),
            )
        )
    assert set(posted) == {303}, posted
    # no worker took the scheduler's lease
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM leases")).scalar_one() == 0
    assert proc.poll() is None


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_already_taken_is_one_line_with_exit_12_and_nothing_opened(tmp_path: Path, workers: str) -> None:
    """Another program (or a console left running) holds the port: `serve` says so in one line,
    in the reader's language, before it opens the database or starts a worker."""
    import socket

    from click.testing import CliRunner

    from cli import main

    db = tmp_path / "taken.db"
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = str(holder.getsockname()[1])
        runner = CliRunner()
        english = runner.invoke(main, ["--db", str(db), "--lang", "en", "serve", "--port", port, "--workers", workers])
        chinese = runner.invoke(main, ["--db", str(db), "--lang", "zh", "serve", "--port", port, "--workers", workers])
    assert english.exit_code == 12 and chinese.exit_code == 12
    assert english.stderr == f"Error: Cannot listen on 127.0.0.1:{port}: Address already in use\n"
    assert chinese.stderr == (
        f"错误：无法在 127.0.0.1:{port} 上启动控制台：地址已被占用（另一个程序或之前启动的控制台仍在使用该端口）\n"
    )
    assert not db.exists()  # (the database was never opened, let alone made)
