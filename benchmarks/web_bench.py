"""`make bench-web`: the console measured under nine cities' load, on PostgreSQL (issue 25).

A G60 cycle of N projects at joint scoring, partly scored (each city has its sheets in for a
share of the projects, so its scorer goes on), is built once with the engine in a database of its
own (`evalflow_webbench_N`, kept for later runs; `--rebuild` makes it again) and copied for each
run (`CREATE DATABASE … TEMPLATE …`), so a run never measures a database another run changed.
Then `evalflow serve` is started on a free loopback port against the copy and, per size:

- **single**: one client, one request after the other: N of each kind (dashboard, project list,
  project page, API status, score submission); median and p95.
- **load**: 9 scorers (each entering its city's sheets through the API on projects it has not
  scored) and 18 readers (dashboard, project list, project page, API status), each waiting 1–2 s
  between requests, for a fixed time after they have all started (locust, headless): p50, p95,
  max and errors per kind, beside the targets and the ratio to the single request's median.
- **saturation**: dashboard readers without waits, stepped up (1, 2, 4 … 32) until p95 passes
  1 s: the most dashboards a second held with p95 under 1 s.

Everything runs on 127.0.0.1, with a fixed number of users and a fixed time per phase. Nothing is
asserted: the figures are printed beside their targets (and written as JSON with --json).

    .venv/bin/python benchmarks/web_bench.py --sizes 10000 [--workers 4] [--json out.json]

`EVALFLOW_BENCH_PG_URL` (default postgresql+psycopg://evalflow:evalflow@127.0.0.1/postgres) is
a database of the cluster to connect to while creating the throwaway ones (its role needs
CREATEDB). `--sqlite FOLDER` runs the same on SQLite files in FOLDER instead (the smoke test's).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # (run as a script: the checkout's packages)
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import structlog  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from benchmarks.cycle import CYCLE, PROGRAM, Applications, engine_run, sheet  # noqa: E402
from demo.g60 import DemoClock  # noqa: E402
from store.sql import SqlStore  # noqa: E402
from workflow.accounts import hasher  # noqa: E402
from workflow.clock import utc_now  # noqa: E402
from workflow.engine import Engine  # noqa: E402
from workflow.records import Credential  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://evalflow:evalflow@127.0.0.1/postgres"
PASSWORD = "webbench-2027-password"  # every user's (a throwaway database on the loopback)
NOW = "2027-05-10T10:00"  # joint scoring's window is open (Asia/Shanghai), as the build's clock left it
SCORED_SHARE = 5  # each city has scored one project in this many when the run begins
KINDS = ("dashboard", "project list", "project page", "API status", "score submission")
READS = KINDS[:4]
# the targets: p95 of each read at 10k and at 100k (and beyond), of a score submission
READ_P95 = {10_000: 150.0, 100_000: 300.0}
SCORE_P95 = 200.0
SATURATED = 1000.0  # p95 (ms) past which the server no longer holds the rate
BASELINE = "about 7 dashboards a second at 3,000 projects (issue 25, before)"


def read_target(n: int) -> float:
    """The p95 target of a read at n projects (the nearest size's at or above n)."""
    return READ_P95[10_000] if n <= 10_000 else READ_P95[100_000]


# ------------------------------------------------------------------------------------------ databases
class Databases:
    """Where the built cycles are kept and copied: a PostgreSQL cluster (CREATE DATABASE … TEMPLATE)
    or, for the smoke test, a folder of SQLite files."""

    def __init__(self, url: str, folder: Path | None):
        self.url, self.folder = url, folder

    def built_url(self, n: int) -> str:
        return self._url(f"evalflow_webbench_{n}")

    def run_url(self, n: int) -> str:
        return self._url(f"evalflow_webbench_{n}_run")

    def _url(self, name: str) -> str:
        if self.folder is not None:
            return f"sqlite:///{self.folder / (name + '.db')}"
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def _admin(self) -> Any:
        return create_engine(self.url, isolation_level="AUTOCOMMIT")

    def exists(self, n: int) -> bool:
        if self.folder is not None:
            return (self.folder / f"evalflow_webbench_{n}.db").exists()
        admin = self._admin()
        with admin.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": f"evalflow_webbench_{n}"}
            ).first()
        admin.dispose()
        return found is not None

    def drop(self, url: str) -> None:
        """Drop the database (a file, on SQLite) if it is there."""
        if self.folder is not None:
            path = Path(make_url(url).database or "")
            for old in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                old.unlink(missing_ok=True)
            return
        admin = self._admin()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        admin.dispose()

    def create_empty(self, url: str) -> None:
        self.drop(url)
        if self.folder is None:
            admin = self._admin()
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{make_url(url).database}"'))
            admin.dispose()

    def copy(self, n: int) -> str:
        """A fresh copy of the built N-project cycle for one run; its URL."""
        source, target = self.built_url(n), self.run_url(n)
        self.drop(target)
        if self.folder is not None:
            shutil.copy(make_url(source).database or "", make_url(target).database or "")
            return target
        admin = self._admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{make_url(target).database}" TEMPLATE "{make_url(source).database}"'))
        admin.dispose()
        return target


def build(n: int, url: str) -> dict[str, float]:
    """The cycle of ``n`` projects through the engine up to joint scoring, as benchmarks/cycle.py's
    run drives it (engine_run), on the database at ``url``; then each city scores one project in
    SCORED_SHARE. Every user gets PASSWORD. Returns seconds per step."""
    from workflow.program import ProgramRegistry

    cities = list(ProgramRegistry().get(PROGRAM).parties)
    with tempfile.TemporaryDirectory(prefix="webbench-build-") as work:
        steps = engine_run(n, Path(work), Applications(n, cities), before_scoring=True, url=url)[0]

    def timed(name: str, func: Any) -> Any:
        start = time.perf_counter()
        out = func()
        steps[name] = steps.get(name, 0.0) + time.perf_counter() - start
        return out

    store = SqlStore(url)
    clock = DemoClock(2027)
    clock.set(5, 10)
    engine = Engine(store, clock=clock)
    # every user's password: one Argon2id hash (a hash a user takes minutes at 19 users on a busy
    # machine; any salt serves every name), kept as `evalflow user passwd` keeps it
    hashed = hasher().hash(PASSWORD)
    with store.transaction() as tx:
        for u in engine.users():
            tx.save_credential(Credential(u.name, hashed, utc_now()))
        every = [p.id for p in tx.find_projects(CYCLE, with_application=False) if p.id is not None]  # (as made)
    for k, c in enumerate(cities):  # each city a different share (its own fifth) of the projects
        done = [(pid, {"scores": sheet(pid, k)}) for i, pid in enumerate(every) if (i + k) % SCORED_SHARE == 0]
        timed("score (part)", lambda c=c, done=done: engine.fire_each(f"{c.id}-scorer", done, "score"))
    store.dispose()
    if url.startswith("postgresql"):
        # the statistics autovacuum would have gathered by now (a fresh copy keeps them: they are
        # rows of the database's own catalog): the run measures the console, not a missed ANALYZE
        analyze = create_engine(url, isolation_level="AUTOCOMMIT")
        with analyze.connect() as conn:
            timed("analyze", lambda: conn.execute(text("ANALYZE")))
        analyze.dispose()
    return steps


def plan_of(url: str, limit: int = 500) -> dict[str, Any]:
    """What the run's people work on, read from the copy: per city its project ids and the ones
    its scorer has not scored (at most ``limit``, with the sheet to enter), and the cities."""
    db = create_engine(url)
    program_cities: list[str] = []
    with db.connect() as conn:
        rows = conn.execute(
            text("SELECT id, city FROM projects WHERE cycle_id = :c ORDER BY id"), {"c": CYCLE}
        ).fetchall()
        scored = conn.execute(
            text("SELECT DISTINCT project_id, city FROM score_sheets WHERE cycle_id = :c AND current"), {"c": CYCLE}
        ).fetchall()
    db.dispose()
    from workflow.program import ProgramRegistry

    program_cities = [c.id for c in ProgramRegistry().get(PROGRAM).parties]
    done = {(pid, party) for pid, party in scored}
    projects: dict[str, list[int]] = {c: [] for c in program_cities}
    for pid, city in rows:
        projects[city].append(pid)
    every = [pid for pid, _ in rows]
    todo = {
        c: list(itertools.islice(([pid, sheet(pid, k)] for pid in every if (pid, c) not in done), limit))
        for k, c in enumerate(program_cities)
    }
    return {"cities": program_cities, "projects": projects, "todo": todo, "every": every}


# ------------------------------------------------------------------------------------------ the server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def evalflow() -> str:
    found = Path(sys.executable).with_name("evalflow")
    return str(found) if found.exists() else "evalflow"


def serve_has_workers() -> bool:
    """Whether this checkout's `evalflow serve` takes --workers (it does once issue 25's console
    part is in)."""
    said = subprocess.run([evalflow(), "serve", "--help"], capture_output=True, text=True, cwd=ROOT)
    return "--workers" in said.stdout


@contextmanager
def serving(url: str, workers: int, log: Path) -> Iterator[str]:
    """`evalflow serve` on a free loopback port against ``url`` (with --workers when > 1): its
    address, until the block ends."""
    port = free_port()
    command = [evalflow(), "--db", url, "--now", NOW, "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--idle-minutes", "600"]  # (a run's sessions stay signed in however long it lasts)
    if workers > 1:  # (main() has checked that this serve takes it)
        command += ["--workers", str(workers)]
    env = {**os.environ, "EVALFLOW_LANG": "zh"}
    env.pop("EVALFLOW_DATABASE_URL", None)
    with log.open("w") as err:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=err, stderr=subprocess.STDOUT)
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"evalflow serve stopped (exit {process.returncode}): {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{address}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"evalflow serve did not answer on {address} within 120 s")
            time.sleep(0.2)
        yield address
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def settle(address: str, quick: float = 0.5, longest: float = 300.0) -> None:
    """Wait until the server has answered the requests a phase left queued (locust stops its users,
    the server still works through what they sent): until the sign-in page answers within
    ``quick`` seconds, so that the next phase does not measure the last one's backlog."""
    deadline = time.monotonic() + longest
    while time.monotonic() < deadline:
        start = time.perf_counter()
        try:
            httpx.get(f"{address}/login", timeout=longest)
        except httpx.HTTPError:
            pass
        if time.perf_counter() - start < quick:
            return
        time.sleep(0.5)


def sign_in(address: str, name: str) -> dict[str, str]:
    """A browser session (through the sign-in form, as a browser signs in) and an API token
    (POST /api/login, as `evalflow login`) for ``name``: the run checks with it that the server
    takes the built database's passwords."""
    with httpx.Client(base_url=address, follow_redirects=False) as browser:
        page = browser.get("/login").text
        csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        r = browser.post("/login", data={"name": name, "password": PASSWORD, "csrf": csrf, "next": "/"})
        if r.status_code != 303 or "evalflow_session" not in browser.cookies:
            raise SystemExit(f"cannot sign {name} in to the console: HTTP {r.status_code}")
        session = browser.cookies["evalflow_session"]
        r = browser.post("/api/login", json={"name": name, "password": PASSWORD, "label": "bench-web"})
        if r.status_code != 200:
            raise SystemExit(f"cannot sign {name} in to the API: HTTP {r.status_code} {r.text[:200]}")
    return {"name": name, "session": session, "token": r.json()["token"]}


# ------------------------------------------------------------------------------------------ measuring
@dataclass
class Figures:
    """One kind's figures in one phase (milliseconds)."""

    count: int = 0
    errors: int = 0
    p50: float = 0.0
    p95: float = 0.0
    max: float = 0.0
    rps: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def single(address: str, people: dict[str, Any], plan: dict[str, Any], requests: int) -> dict[str, Figures]:
    """One client, one request after the other: ``requests`` of each kind, readers taken in turn."""
    readers, scorers = people["readers"], people["scorers"]
    out: dict[str, Figures] = {}
    with httpx.Client(base_url=address, follow_redirects=False, timeout=120) as client:
        for kind in KINDS:
            times, errors = [], 0
            for i in range(requests + 1):  # (the first of each kind warms the server up: not counted)
                who = (scorers if kind == "score submission" else readers)[
                    i % (len(scorers) if kind == "score submission" else len(readers))
                ]
                cookies = {"evalflow_session": who["session"]}
                bearer = {"Authorization": f"Bearer {who['token']}"}
                start = time.perf_counter()
                if kind == "dashboard":
                    r = client.get("/", cookies=cookies)
                elif kind == "project list":
                    r = client.get("/projects", cookies=cookies)
                elif kind == "project page":
                    r = client.get(f"/projects/{who['projects'][i % len(who['projects'])]}", cookies=cookies)
                elif kind == "API status":
                    r = client.get(f"/api/cycles/{CYCLE}/status", headers=bearer)
                else:
                    project, scores = who["todo"].pop()  # (from the end: the load takes from the start)
                    r = client.post(f"/api/projects/{project}/score", json={"scores": scores}, headers=bearer)
                if i:
                    times.append((time.perf_counter() - start) * 1000)
                errors += r.status_code != 200
            out[kind] = Figures(len(times), errors, statistics.median(times), percentile(times, 0.95), max(times))
    return out


def _number(cell: str) -> float:
    """A locust CSV cell: N/A (nothing measured) is 0."""
    try:
        return float(cell)
    except ValueError:
        return 0.0


def locust(
    address: str,
    plan_file: Path,
    classes: list[str],
    users: int,
    seconds: int,
    work: Path,
    tag: str,
    ramp: float = 0.0,
) -> dict[str, Figures]:
    """One headless locust run of ``classes`` with ``users`` users, started evenly over ``ramp``
    seconds (at once if 0), measured for ``seconds`` after they have all started (the stats are
    reset then): figures by request name."""
    prefix = work / tag
    rate = users / ramp if ramp > 0 else users
    command = [
        str(Path(sys.executable).with_name("locust")),
        "-f",
        str(ROOT / "benchmarks" / "locustfile.py"),
        "--headless",
        "--host",
        address,
        "-u",
        str(users),
        "-r",
        f"{rate:g}",
        "-t",
        f"{math.ceil(ramp + seconds)}s",
        "--reset-stats",
        "--only-summary",
        "--stop-timeout",
        "60",  # (a request in flight at the end is waited for and counted, not dropped)
        "--csv",
        str(prefix),
        "--loglevel",
        "WARNING",
        *classes,
    ]
    env = {**os.environ, "EVALFLOW_WEBBENCH_PLAN": str(plan_file)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=work)
    settle(address)
    stats = Path(f"{prefix}_stats.csv")
    if not stats.exists():
        raise SystemExit(f"locust did not run (exit {done.returncode}): {done.stderr[-2000:]}")
    out: dict[str, Figures] = {}
    with stats.open(newline="") as f:
        for row in csv.DictReader(f):
            out[row["Name"]] = Figures(
                count=int(row["Request Count"]),
                errors=int(row["Failure Count"]),
                p50=_number(row["50%"]),
                p95=_number(row["95%"]),
                max=_number(row["Max Response Time"]),
                rps=_number(row["Requests/s"]),
            )
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        for row in csv.DictReader(failures.open(newline="")):
            out.setdefault(row["Name"], Figures()).extra.setdefault("failures", []).append(
                f"{row['Occurrences']}× {row['Error'][:200]}"
            )
    return out


# ------------------------------------------------------------------------------------------ a size's run
def people_of(url: str, plan: dict[str, Any], cap: int = 2000) -> dict[str, Any]:
    """Everyone signed in on the copy before the server starts: a browser session and an API
    token each (made by the engine as the sign-in form and `POST /api/login` make them, without
    their password hashes, which are not what is measured). The readers are the lead, then each
    city's administrator, each with the projects it opens; the scorers each city's, with what it
    has left to score."""
    store = SqlStore(url)
    engine = Engine(store)
    users = {u.name: u for u in engine.users()}

    def signed(name: str) -> dict[str, Any]:
        session, _ = engine.open_session(users[name])
        token, _ = engine.new_token(name, name, "bench-web")
        return {"name": name, "session": session, "token": token}

    def spread(ids: list[int]) -> list[int]:  # (across the whole list: the ids go city by city)
        return ids[:: max(1, len(ids) // cap)]

    readers = [{**signed("lead"), "projects": spread(plan["every"])}]
    readers += [{**signed(f"{c}-admin"), "projects": spread(plan["projects"][c])} for c in plan["cities"]]
    scorers = [{**signed(f"{c}-scorer"), "todo": plan["todo"][c]} for c in plan["cities"]]
    store.dispose()
    return {"readers": readers, "scorers": scorers}


def write_plan(work: Path, people: dict[str, Any], readers: int, scorers: int, wait: tuple[float, float]) -> Path:
    found = work / "plan.json"
    plan = {"cycle": CYCLE, "wait": list(wait), "readers_count": readers, "scorers_count": scorers, **people}
    found.write_text(json.dumps(plan), encoding="utf-8")
    return found


def saturation(address: str, plan_file: Path, steps: list[int], seconds: int, work: Path) -> list[dict[str, Any]]:
    """Dashboard readers without waits, ``steps`` users at a time, each step ``seconds`` long,
    until a step's p95 passes SATURATED (that step is the last)."""
    out = []
    for users in steps:
        got = locust(address, plan_file, ["Dashboards"], users, seconds, work, f"saturation-{users}").get(
            "dashboard", Figures()
        )
        out.append({"users": users, **figures_json(got)})
        if got.p95 > SATURATED:
            break
    return out


def figures_json(f: Figures) -> dict[str, Any]:
    return {"count": f.count, "errors": f.errors, "p50": f.p50, "p95": f.p95, "max": f.max, "rps": f.rps, **f.extra}


def run_size(n: int, dbs: Databases, args: argparse.Namespace) -> dict[str, Any]:
    """Build (if needed), copy, serve and measure the N-project cycle: its figures as JSON."""
    database = "SQLite" if dbs.folder is not None else "PostgreSQL"
    result: dict[str, Any] = {"projects": n, "workers": args.workers, "database": database}
    if args.rebuild or not dbs.exists(n):
        target = dbs.built_url(n)
        dbs.create_empty(target)
        print(f"N = {n:,}: building the cycle (kept as {make_url(target).database}) …", flush=True)
        start = time.perf_counter()
        steps = build(n, target)
        result["build_seconds"] = round(time.perf_counter() - start, 1)
        result["build_steps"] = {k: round(v, 1) for k, v in steps.items()}
        print(f"    built in {result['build_seconds']:.1f} s: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()))
    else:  # a cycle kept from an older version of the code: its schema brought to this one's, once
        kept = SqlStore(dbs.built_url(n))
        before, after = kept.upgrade()
        kept.dispose()
        if before != after:
            print(f"N = {n:,}: the kept cycle's schema upgraded from {before} to {after}", flush=True)
    start = time.perf_counter()
    url = dbs.copy(n)
    result["copy_seconds"] = round(time.perf_counter() - start, 1)
    plan = plan_of(url)
    with tempfile.TemporaryDirectory(prefix="webbench-") as folder:
        work = Path(folder)
        try:
            people = people_of(url, plan)
            with serving(url, args.workers, work / "serve.log") as address:
                sign_in(address, "lead")
                result["single"] = {k: figures_json(f) for k, f in single(address, people, plan, args.single).items()}
                plan_file = write_plan(work, people, args.readers, args.scorers, (args.wait_min, args.wait_max))
                load = locust(
                    address,
                    plan_file,
                    ["Reader", "Scorer"],
                    args.readers + args.scorers,
                    args.load_seconds,
                    work,
                    "load",
                    args.ramp_seconds,
                )
                result["load"] = {k: figures_json(load.get(k, Figures())) for k in KINDS}
                result["load_seconds"] = args.load_seconds
                result["ramp_seconds"] = args.ramp_seconds
                if args.saturation:
                    result["saturation"] = saturation(address, plan_file, args.saturation, args.step_seconds, work)
        finally:
            dbs.drop(url)
    return result


# ------------------------------------------------------------------------------------------ the report
def target_of(kind: str, n: int) -> float:
    return SCORE_P95 if kind == "score submission" else read_target(n)


def report(result: dict[str, Any], readers: int, scorers: int) -> list[str]:
    """A size's figures as a table, each p95 beside its target and the ratio to one request's."""
    n = result["projects"]
    lines = [f"N = {n:,} projects on {result['database']}, {result['workers']} server worker(s)"]
    if "build_seconds" in result:
        lines.append(
            f"  built in {result['build_seconds']:.1f} s; copied for this run in {result['copy_seconds']:.1f} s"
        )
    lines.append("  single requests, one client (ms):")
    lines.append(f"    {'kind':18} {'n':>5} {'p50':>8} {'p95':>8} {'max':>8} errors")
    for kind in KINDS:
        f = result["single"][kind]
        lines.append(f"    {kind:18} {f['count']:5d} {f['p50']:8.1f} {f['p95']:8.1f} {f['max']:8.1f} {f['errors']:6d}")
    lines.append(
        f"  the nine-city load: {scorers} scorers + {readers} readers, 1–2 s between requests,"
        f" {result['load_seconds']} s (ms):"
    )
    lines.append(
        f"    {'kind':18} {'n':>5} {'p50':>8} {'p95':>8} {'max':>8} errors  p95 against target   × single p50, p95"
    )
    for kind in KINDS:
        f, alone = result["load"][kind], result["single"][kind]
        target = target_of(kind, n)
        mark = "within" if f["count"] and f["p95"] <= target else "OVER"
        ratio = (
            f"{f['p50'] / alone['p50']:.1f}×, {f['p95'] / alone['p95']:.1f}×" if alone["p50"] and alone["p95"] else "—"
        )
        lines.append(
            f"    {kind:18} {f['count']:5d} {f['p50']:8.0f} {f['p95']:8.0f} {f['max']:8.0f} {f['errors']:6d}"
            f"  ≤ {target:.0f}: {mark:6}         {ratio}"
        )
        for failure in f.get("failures", []):
            lines.append(f"      error: {failure}")
    if result.get("saturation"):
        lines.append(f"  saturation: dashboards without waits, p95 beyond {SATURATED:.0f} ms ends it:")
        for step in result["saturation"]:
            lines.append(
                f"    {step['users']:3d} users: {step['rps']:6.1f} dashboards/s, p50 {step['p50']:.0f} ms,"
                f" p95 {step['p95']:.0f} ms, errors {step['errors']}"
            )
        held = [s["rps"] for s in result["saturation"] if s["p95"] <= SATURATED and s["count"]]
        best = max(held) if held else 0.0
        result["held_rps"] = best
        if held:
            lines.append(f"    held with p95 under 1 s: {best:.1f} dashboards/s (against {BASELINE})")
        else:  # (even the fewest users made it wait longer)
            first = result["saturation"][0]
            lines.append(
                f"    held with p95 under 1 s: none (p95 {first['p95']:.0f} ms with {first['users']} user(s);"
                f" against {BASELINE})"
            )
        peak = max(result["saturation"], key=lambda s: s["rps"])
        lines.append(f"    the most at any step: {peak['rps']:.1f} dashboards/s with {peak['users']} users")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", default="10000", help="comma-separated project counts (default 10000)")
    parser.add_argument("--rebuild", action="store_true", help="build the cycles again even if kept")
    parser.add_argument("--workers", type=int, default=1, help="server processes (passed when > 1)")
    parser.add_argument("--single", type=int, default=30, help="requests of each kind, one client")
    parser.add_argument("--readers", type=int, default=18)
    parser.add_argument("--scorers", type=int, default=9)
    parser.add_argument("--wait-min", type=float, default=1.0)
    parser.add_argument("--wait-max", type=float, default=2.0)
    parser.add_argument("--load-seconds", type=int, default=60, help="the load's measured time (after start)")
    parser.add_argument("--ramp-seconds", type=float, default=5.0, help="the load's users start over this time")
    parser.add_argument(
        "--saturation",
        default="1,2,4,8,16,32",
        help="user counts of the saturation's steps, until p95 passes 1 s ('' for none)",
    )
    parser.add_argument("--step-seconds", type=int, default=20, help="each saturation step's measured time")
    parser.add_argument("--json", type=Path, help="write the figures there as JSON too")
    parser.add_argument("--sqlite", type=Path, help="SQLite files in this folder instead of PostgreSQL")
    args = parser.parse_args(argv)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))  # (the build's events: not the run's)
    args.saturation = [int(x) for x in args.saturation.split(",") if x.strip()]
    sizes = [int(x) for x in args.sizes.split(",")]
    if min(sizes) < 45:  # (the recommendation stage closes on five projects of each of the nine cities)
        parser.error("--sizes: at least 45 projects (five for each city to recommend)")
    if args.workers > 1 and not serve_has_workers():
        parser.error(f"--workers {args.workers}: this evalflow serve has no --workers (run with --workers 1)")
    url = os.environ.get("EVALFLOW_BENCH_PG_URL", DEFAULT_URL)
    dbs = Databases(url, args.sqlite)
    results = []
    print(f"evalflow bench-web — {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; loopback only", flush=True)
    for n in sizes:
        result = run_size(n, dbs, args)
        print("\n".join(report(result, args.readers, args.scorers)), flush=True)
        results.append(result)
    if args.json:
        args.json.write_text(json.dumps({"sizes": results}, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
