"""Whole-process CLI latency: `evalflow --help`, and reads and one review on a cycle's database."""

from __future__ import annotations

import os
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_REVIEWED = ("--result", "demonstration", "--method", "site")  # as the engine's run reviews


def _review(db: Path, admin: str, project: int) -> list[str]:
    return ["--db", str(db), "--as", admin, "review", str(project), *_REVIEWED]


def cli_latency(db: Path, at_review: Path, n: int, cache: Path, runs: int = 5) -> dict[str, tuple[str, float, float]]:
    """Whole-process wall times, the median of ``runs``: --help; cycle status and project show on
    the finished cycle's database; one review on the copy taken when municipal review opened
    (each run reviews another project, as its city's admin). Each twice: as this environment
    runs them, and with every module's bytecode cached (in ``cache``, filled by a first run of
    cycle status, not timed; a module only another command imports is cached by its first of
    five runs), as an installation has it after its first run. Here the two differ where
    PYTHONDONTWRITEBYTECODE is set, as in the development sandbox: the project's own modules are
    compiled again by every command. A command that fails stops the benchmark: its time would
    not be a command's. Returns, by its budget's key (BUDGETS), each command's name and times."""
    exe = str(ROOT / ".venv" / "bin" / "evalflow")
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cached["PYTHONPYCACHEPREFIX"] = str(cache)

    def run(argv: list[str], env: dict[str, str]) -> float:
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, check=False)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"{' '.join(argv[1:])} failed (exit {done.returncode}): {done.stderr.decode().strip()}")
        return seconds

    con = sqlite3.connect(at_review)
    # each run reviews a project of its own, as its city's admin (who submitted it)
    reviewed = iter(
        con.execute(
            "SELECT applicant, id FROM projects WHERE state = 'in_library' ORDER BY city, id LIMIT ?", (2 * runs,)
        ).fetchall()
    )
    con.close()
    status = ["--db", str(db), "--as", "lead", "cycle", "status"]
    run([exe, *status], {**cached, "EVALFLOW_NOW": "2027-06-03T09:00"})  # (fills the cache: not timed)
    commands: dict[str, tuple[str, Callable[[], list[str]], str]] = {
        "help": ("evalflow --help", lambda: ["--help"], "2027-06-03T09:00"),
        "status": (f"cycle status ({n:,}-project db)", lambda: status, "2027-06-03T09:00"),
        "show": (
            f"project show ({n:,}-project db)",
            lambda: ["--db", str(db), "--as", "lead", "project", "show", "1"],
            "2027-06-03T09:00",
        ),
        "review": (
            f"one review ({n:,}-project db)",
            lambda: _review(at_review, *next(reviewed)),
            "2027-03-10T09:00",
        ),
    }
    out = {}
    for key, (name, argv, now) in commands.items():
        here, warm = (
            statistics.median(run([exe, *argv()], {**env, "EVALFLOW_NOW": now}) for _ in range(runs))
            for env in (dict(os.environ), cached)
        )
        out[key] = (name, here, warm)
    return out
