"""How evalflow's cost grows with a cycle, against the floor of its storage measured in the same run.

    .venv/bin/python benchmarks/bench.py [--sizes 1000,10000,100000] [--naive 1000] [--cli 10000] [--repeat 3]
    .venv/bin/python benchmarks/bench.py --score-batch 10000 [--runs 5] [--work DIR]

For each N it builds a synthetic G60 cycle of N projects (spread over the nine cities, every one
recommended, so that joint scoring is N × 9 sheets) and drives it through every stage with the
engine's public API: real permissions, guards, the one `transitions` machine and audit rows, on a
fresh SQLite file. Each run is a process of its own; a size under 100,000 runs --repeat times and
the run of the median total is shown, with every run's totals, floors and score stages beside it
(the machine's busy spells last seconds: a single short run can fall inside one). It prints
seconds per stage, transitions and score rows per second, and:

- the floor: the same rows written with raw sqlite3 executemany, one transaction per stage, no
  state machine, in the same process run; and the ratio engine / floor. "The same rows" are the
  engine's: every column as the engine fills it, audit data and hash texts included (the floor
  makes no hash). Each stage is printed beside the floor's seconds for that stage's rows. Beside
  it the bare floor, lighter rows (see floor_run), and the ratio to it;
- a naive baseline at one size: one ORM session and commit per transition;
- peak memory (resident set) and the engine's memory per project (tracemalloc, separately);
- whole-process CLI latency: `evalflow --help`, and `cycle status` / one `review` on a database
  of the --cli size (median of several runs);
- the same cycles on PostgreSQL (--backends), each run on throwaway databases of the local
  cluster (benchmarks/pg.py), beside the same rows written there with COPY (psycopg's
  ``cursor.copy``), one transaction per stage, and with executemany (sizes under 100,000).

Not a test: machines differ, and the figures are read, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


import structlog  # noqa: E402

from benchmarks.budgets import LONG  # noqa: E402
from benchmarks.cycle import score_batch  # noqa: E402
from benchmarks.pg_report import DBS_ENV  # noqa: E402
from benchmarks.report import run_all  # noqa: E402
from benchmarks.runs import one_size, pg_one_size, traced_memory  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="cycle sizes in projects, comma-separated")
    parser.add_argument("--naive", type=int, default=1000, help="size for the naive baseline (0: skip)")
    parser.add_argument("--cli", type=int, default=10000, help="size whose database the CLI latency uses")
    parser.add_argument("--cli-runs", type=int, default=5, help="runs of each CLI command (the median is printed)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help=f"runs of each size under {LONG:,}, each in a process of its own; the run of the median total is shown",
    )
    parser.add_argument(
        "--backends",
        default="sqlite,postgresql",
        help="the databases to run on, comma-separated: sqlite, postgresql (a throwaway database of the"
        " cluster of EVALFLOW_BENCH_PG_URL, default postgresql+psycopg://evalflow:evalflow@127.0.0.1/postgres;"
        " skipped, saying why, if no server answers)",
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # one size, in a child process
    parser.add_argument("--pg", action="store_true", help=argparse.SUPPRESS)  # --one on PostgreSQL
    parser.add_argument("--at-review", action="store_true", help=argparse.SUPPRESS)  # with a copy for review
    parser.add_argument("--traced", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument(
        "--score-batch",
        type=int,
        metavar="N",
        help="only time one city's score batch of N sheets on an N-project database (kept in --work),"
        " until its log is checkpointed",
    )
    parser.add_argument("--runs", type=int, default=5, help="runs of --score-batch (the median is printed)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder with its databases")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    if args.score_batch:
        work = Path(args.work or tempfile.mkdtemp(prefix="evalflow-bench-"))
        work.mkdir(parents=True, exist_ok=True)
        times = score_batch(args.score_batch, work, args.runs)
        median = statistics.median(times)
        print(
            f"one city's score batch of {args.score_batch:,} sheets: median {median:.3f} s"
            f" ({median / args.score_batch * 1e6:.1f} µs a sheet); runs {', '.join(f'{t:.3f}' for t in times)}"
        )
        return
    if args.one and args.pg:  # (on the databases the parent made: benchmarks/pg_report.py)
        print(json.dumps(pg_one_size(args.one, Path(args.work), os.environ[DBS_ENV].split(","))))
        return
    if args.one:
        copy = Path(args.work) / f"engine-{args.one}-at-review.db" if args.at_review else None
        print(json.dumps({**one_size(args.one, Path(args.work), copy), "at_review": copy and str(copy)}))
        return
    if args.traced:
        print(json.dumps({"peak": traced_memory(args.traced, Path(args.work))}))
        return
    sizes = [int(x) for x in args.sizes.split(",") if x]
    work = Path(tempfile.mkdtemp(prefix="evalflow-bench-"))
    try:
        run_all(args, sizes, work)
    finally:  # its databases take gigabytes at 100,000 projects
        if args.keep:
            print(f"the databases are kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
