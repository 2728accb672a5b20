"""The benchmark's PostgreSQL part: each size's engine run on a throwaway database of the local
cluster, beside the floor of its rows written there with COPY (and with executemany), in the same
process run; printed as the SQLite part is, growth included."""

from __future__ import annotations

import argparse
import os
import shutil
from contextlib import ExitStack
from pathlib import Path

from benchmarks.budgets import LONG, TARGET
from benchmarks.pg import PG_ENV, maintenance_url, server_settings, server_version, throwaway, unavailable
from benchmarks.runs import child

DBS_ENV = "EVALFLOW_BENCH_PG_DBS"  # the child's databases (URLs, comma-separated), made by the parent


def _each(values: list[float], unit: str = " s", digits: int = 2) -> str:
    return ", ".join(f"{v:.{digits}f}" for v in values) + unit


def run_postgresql(args: argparse.Namespace, sizes: list[int], work: Path, figures: dict[str, float]) -> None:
    """Each size on PostgreSQL (``args.repeat`` runs under LONG, the run of the median total
    shown), or one line saying why PostgreSQL is skipped. Fills ``figures`` for the budgets."""
    why = unavailable()
    if why is not None:
        print(f"PostgreSQL skipped: {why}\n", flush=True)
        return
    from sqlalchemy.engine import make_url

    shown = make_url(maintenance_url()).render_as_string(hide_password=True)
    print(
        f"PostgreSQL {server_version()} ({shown}, {PG_ENV}): each run on throwaway databases"
        f" evalflow_bench_{os.getpid()}_<n>, dropped after; the floor is the same rows written with COPY,"
        " one transaction per stage",
        flush=True,
    )
    settings = server_settings()
    print(
        "the cluster's settings that decide its checkpoints: "
        + ", ".join(f"{name} {value}" for name, value in settings.items())
        + "\n",
        flush=True,
    )
    rows = []
    for n in sizes:
        runs = []
        for k in range(1 if n >= LONG else max(1, args.repeat)):
            folder = work / f"pg-{n}-{k + 1}"
            folder.mkdir()
            with ExitStack() as made:  # (dropped when the run ends, however it ends)
                urls = [made.enter_context(throwaway()) for _ in range(2 if n >= LONG else 3)]
                r = child(["--one", str(n), "--work", str(folder), "--pg"], env={DBS_ENV: ",".join(urls)})
            shutil.rmtree(folder, ignore_errors=True)
            r["total"] = sum(r["stages"].values())
            runs.append(r)
        r = sorted(runs, key=lambda x: x["total"])[len(runs) // 2]
        total, floor, stages = r["total"], r["floor"], r["stages"]
        rows.append((n, total, floor, r.get("checkpoints", 0)))
        print(f"N = {n:,} on PostgreSQL: engine {total:.2f} s, COPY floor {floor:.2f} s, ratio {total / floor:.1f}×")
        if r["many"]:
            print(f"    executemany floor {r['many']:.2f} s, ratio {total / r['many']:.1f}×")
        if len(runs) > 1:
            print(
                f"    the {len(runs)} runs: engine {_each([x['total'] for x in runs])};"
                f" COPY floor {_each([x['floor'] for x in runs])}"
            )
            print(
                f"      ratio {_each([x['total'] / x['floor'] for x in runs], '×', 1)};"
                f" score stage {_each([x['stages']['4 score'] for x in runs])}"
            )
        print(f"    {'stage':<12} {'engine':>8}   {'COPY':>7}  (the floor's rows of the stage)")
        for name, sec in sorted(stages.items()):
            own = r["floor_stages"].get(name)
            beside = f"{own:7.3f} s  {sec / own:4.1f}×" if own else f"{'—':>7}"
            print(f"    {name:<12} {sec:8.3f} s {beside}")
        transitions = r["transitions"]
        print(
            f"    transitions/s {transitions / total:,.0f}; score rows/s {r['sheets'] / stages['4 score']:,.0f};"
            f" the engine beyond the floor: {(total - floor) / transitions * 1e6:.1f} µs per transition"
        )
        print(f"    peak resident memory of this size's process {max(x['rss'] for x in runs) / 2**20:.0f} MiB")
        if "wal" in r:
            print(
                f"    the cluster during the engine's run: {r['wal'] / 2**20:,.1f} MiB of WAL,"
                f" {r['checkpoints']} checkpoints\n"
            )
        else:
            print()
        if n == TARGET:
            figures["pg_ratio"] = total / floor
    for (n1, t1, f1, c1), (n2, t2, f2, c2) in zip(rows, rows[1:], strict=False):
        print(
            f"growth {n1:,} → {n2:,} on PostgreSQL: ×{t2 / t1:.1f} for ×{n2 / n1:.0f} projects"
            f" (the COPY floor's ×{f2 / f1:.1f})"
        )
        if c2 and not c1:  # (the larger run alone paid for checkpoints: the growth holds them)
            print(
                f"  the {n2:,} run checkpointed {c2} times and the {n1:,} run never: the growth includes"
                f" the cluster's checkpoints (max_wal_size {settings['max_wal_size']}; benchmarks/RESULTS.md)"
            )
        if (n1, n2) == (TARGET, LONG):
            figures["pg_growth"] = t2 / t1
    if len(rows) > 1:
        print()
