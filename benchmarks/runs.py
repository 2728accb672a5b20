"""A run in a process of its own: one size (the engine, then the floors), or the engine's traced
memory; the parent starts bench.py again for each and reads its last line of JSON."""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import tracemalloc
from pathlib import Path

from benchmarks.cycle import PROGRAM, Applications, engine_run
from benchmarks.floor import floor_run, same_rows_run

BENCH = Path(__file__).with_name("bench.py")  # the script a child process runs


def one_size(n: int, work: Path, at_review: Path | None = None) -> dict:
    """One size, in a process of its own: the engine, then the two floors, on the same synthetic
    applications. The process's peak memory is read when the engine is done, before the floors
    run: it is the engine's (and the benchmark's applications')."""
    from workflow.program import ProgramRegistry

    cities = list(ProgramRegistry().get(PROGRAM).parties)
    apps = Applications(n, cities)
    stages, transitions, sheets, db = engine_run(n, work, apps, at_review=at_review)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    gc.collect()
    floor, floor_stages = same_rows_run(n, work, apps)
    gc.collect()
    bare = floor_run(n, work, apps)
    return {
        "n": n,
        "floor": floor,
        "floor_stages": floor_stages,
        "bare": bare,
        "stages": stages,
        "transitions": transitions,
        "sheets": sheets,
        "db": str(db),
        "rss": rss,
    }


def pg_one_size(n: int, work: Path, urls: list[str]) -> dict:
    """One size on PostgreSQL, in a process of its own: the engine on the first of ``urls``
    (empty databases the parent made, benchmarks/pg.py), then the floor of the same rows by COPY
    on the second, and by executemany on the third (if given)."""
    from benchmarks.pg import server_activity
    from benchmarks.pg_floor import PgRows
    from workflow.program import ProgramRegistry

    cities = list(ProgramRegistry().get(PROGRAM).parties)
    apps = Applications(n, cities)
    before = server_activity()
    stages, transitions, sheets, _ = engine_run(n, work, apps, url=urls[0])  # (its connections closed)
    after = server_activity()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    gc.collect()
    floor, floor_stages = same_rows_run(n, work, apps, PgRows(urls[1], copy=True))
    many = None
    if len(urls) > 2:
        gc.collect()
        many = same_rows_run(n, work, apps, PgRows(urls[2], copy=False))[0]
    return {
        "n": n,
        "floor": floor,
        "floor_stages": floor_stages,
        "many": many,
        "stages": stages,
        "transitions": transitions,
        "sheets": sheets,
        "rss": rss,
        # what the cluster did during the engine's run: a run that writes past max_wal_size
        # checkpoints, and pays for the pages it writes whole after each checkpoint
        "wal": after["wal"] - before["wal"],
        "checkpoints": after["checkpoints"] - before["checkpoints"],
    }


def traced_memory(n: int, work: Path) -> int:
    """The engine's own peak allocations over a whole cycle of N (tracemalloc; the synthetic
    applications are made and dropped one city at a time). A small cycle runs first, not traced,
    so that the modules the engine imports when first needed are not counted as its memory."""
    from workflow.program import ProgramRegistry

    cities = list(ProgramRegistry().get(PROGRAM).parties)
    (work / "warm").mkdir()
    engine_run(len(cities) * 5, work / "warm", Applications(len(cities) * 5, cities))
    tracemalloc.start()
    engine_run(n, work, Applications(n, cities))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def child(args: list[str], env: dict[str, str] | None = None) -> dict:
    """Run bench.py with ``args`` (and ``env`` added to its environment) in a new process; its
    last line of output is JSON."""
    out = subprocess.run(
        [sys.executable, str(BENCH), *args],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, **env} if env else None,
    )
    if out.returncode != 0:
        sys.exit(f"bench {' '.join(args)} failed:\n{out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])
