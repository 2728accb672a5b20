"""A whole benchmark run and its printed report: each size's runs, the stages beside the floor,
growth, memory, the machine alone, loading, the naive baseline, CLI latency, and the budgets."""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

from benchmarks.budgets import LONG, TARGET, budget_lines
from benchmarks.cli_latency import cli_latency
from benchmarks.cycle import PROGRAM, Applications, load_projects, machine_overhead
from benchmarks.naive import naive_run
from benchmarks.pg_report import run_postgresql
from benchmarks.runs import child


def _each(runs: list[dict], what: Callable[[dict], float], unit: str = " s", digits: int = 2) -> str:
    """A figure of every run, in the order they ran."""
    return ", ".join(f"{what(x):.{digits}f}" for x in runs) + unit


def run_all(args: argparse.Namespace, sizes: list[int], work: Path) -> None:
    """Every part of the run the arguments ask for, printed as it goes; the budgets last."""
    backends = {x.strip() for x in args.backends.split(",") if x.strip()}
    figures: dict[str, float] = {}  # what the budgets are read against (BUDGETS)
    if "sqlite" in backends:
        run_sqlite(args, sizes, work, figures)
    if "postgresql" in backends:
        print()
        run_postgresql(args, sizes, work, figures)
    print("\nagainst the budgets (read, not asserted):")
    print("\n".join(budget_lines(figures)))


def run_sqlite(args: argparse.Namespace, sizes: list[int], work: Path, figures: dict[str, float]) -> None:
    """The SQLite part: each size against its floors, and the engine's parts apart."""
    from workflow.program import ProgramRegistry

    cities = list(ProgramRegistry().get(PROGRAM).parties)
    print(
        f"evalflow benchmark — {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
        f" ({os.path.realpath(sys.executable)}: its build counts, see RESULTS.md), SQLite {sqlite3.sqlite_version}"
    )
    print(
        f"work folder {work}; each run in a process of its own; sizes under {LONG:,} run {args.repeat} times"
        " and the run of the median total is shown\n",
        flush=True,
    )
    at_review: dict[int, Path] = {}  # the copy taken when municipal review opens, of the CLI's size
    rows = []
    dbs: dict[int, Path] = {}
    for n in sizes:
        runs = []
        for k in range(1 if n >= LONG else max(1, args.repeat)):
            folder = work / f"{n}-{k + 1}"
            folder.mkdir()
            first = k == 0 and n == args.cli  # (its databases serve the CLI latency)
            r = child(["--one", str(n), "--work", str(folder), *(["--at-review"] if first else [])])
            r["total"] = sum(r["stages"].values())
            runs.append(r)
            if k == 0:
                dbs[n] = Path(r["db"])
                if first:
                    at_review[n] = Path(r["at_review"])
            else:  # (a 10,000-project run leaves about 300 MB of databases)
                shutil.rmtree(folder, ignore_errors=True)
        r = sorted(runs, key=lambda x: x["total"])[len(runs) // 2]  # (of an even number, the slower middle one)
        stages, floor, transitions, sheets, total = r["stages"], r["floor"], r["transitions"], r["sheets"], r["total"]
        rows.append((n, total, floor, transitions, sheets, stages))
        print(f"N = {n:,}: engine {total:.2f} s, floor {floor:.2f} s, ratio {total / floor:.1f}×")
        print(f"    bare floor {r['bare']:.2f} s (lighter rows, see floor_run), ratio {total / r['bare']:.1f}×")
        if len(runs) > 1:
            print(
                f"    the {len(runs)} runs: engine {_each(runs, lambda x: x['total'])};"
                f" floor {_each(runs, lambda x: x['floor'])}"
            )
            print(
                f"      ratio {_each(runs, lambda x: x['total'] / x['floor'], '×', 1)};"
                f" score stage {_each(runs, lambda x: x['stages']['4 score'])}"
                f" (median {statistics.median(x['stages']['4 score'] for x in runs):.2f} s)"
            )
        print(f"    {'stage':<12} {'engine':>8}   {'floor':>7}  (the floor's rows of the stage)")
        for name, sec in sorted(stages.items()):
            own = r["floor_stages"].get(name)
            beside = f"{own:7.3f} s  {sec / own:4.1f}×" if own else f"{'—':>7}"
            print(f"    {name:<12} {sec:8.3f} s {beside}")
        print(
            f"    transitions/s {transitions / total:,.0f}; score rows/s {sheets / stages['4 score']:,.0f}"
            f" ({sheets:,} sheets = {sheets * 4:,} criterion scores)"
        )
        # what the engine adds to the storage's own work: guards, permission, machine, audit text
        # and hash, the rows' making, the reads the floor does not make
        beyond = (total - floor) / transitions * 1e6
        print(f"    the engine beyond the floor: {beyond:.1f} µs per transition")
        rss = max(x["rss"] for x in runs)
        print(f"    peak resident memory of this size's process {rss / 2**20:.0f} MiB\n", flush=True)
        if n == TARGET:
            figures["ratio"] = total / floor
            figures["beyond"] = beyond
            figures["score"] = statistics.median(x["stages"]["4 score"] for x in runs)
        elif n == LONG:
            figures["peak"] = rss / 2**20
    if len(rows) > 1:
        for (n1, t1, f1, *_), (n2, t2, f2, *_) in zip(rows, rows[1:], strict=False):
            # (the storage's own growth in the same run, beside it: its B-trees deepen too)
            print(f"growth {n1:,} → {n2:,}: ×{t2 / t1:.1f} for ×{n2 / n1:.0f} projects (the floor's ×{f2 / f1:.1f})")
            if (n1, n2) == (TARGET, LONG):
                figures["growth"] = t2 / t1
    n0 = sizes[0]
    (work / "trace").mkdir()
    peak = child(["--traced", str(n0), "--work", str(work / "trace")])["peak"]
    print(f"engine memory: peak {peak / 2**20:.1f} MiB traced at N = {n0:,} ({peak / n0 / 1024:.1f} KiB/project)")
    per = machine_overhead()
    print(f"the transitions machine alone: {per * 1e6:.1f} µs per fired trigger")
    figures["machine"] = per * 1e6
    biggest = TARGET if TARGET in dbs else max(dbs)  # (the budget is set at TARGET)
    bare, whole = load_projects(dbs[biggest])
    print(f"loading {biggest:,} projects into records: {bare:.3f} s ({whole:.3f} s with their applications)")
    if biggest == TARGET:
        figures["load"] = bare
    if args.naive and args.naive not in sizes:
        print(f"naive baseline skipped: N = {args.naive:,} is not among --sizes (its floor is measured there)")
    elif args.naive:
        n = args.naive
        naive = naive_run(n, work, Applications(n, cities))
        engine_total = next(t for m, t, *_ in rows if m == n)
        floor = next(f for m, _, f, *_ in rows if m == n)
        print(
            f"naive, one ORM commit per transition, N = {n:,}: {naive:.2f} s = {naive / floor:.0f}× the floor"
            f" (engine {engine_total / floor:.1f}×)"
        )
    if args.cli in dbs:
        latency = cli_latency(dbs[args.cli], at_review[args.cli], args.cli, work / "bytecode", args.cli_runs)
        print(
            f"CLI whole-process runs, the median of {args.cli_runs}: as run here; with every module's bytecode cached"
        )
        for key, (name, here, warm) in latency.items():
            print(f"CLI {name}: {here:.3f} s; {warm:.3f} s with bytecode cached")
            if key == "help" or args.cli == TARGET:  # (as run here; --help whatever the database's size)
                figures[key] = here
