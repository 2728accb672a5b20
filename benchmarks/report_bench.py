"""What `evalflow report` costs on a published cycle of N projects, each format against a floor
measured in the same run.

    .venv/bin/python benchmarks/report_bench.py [--sizes 10000,100000] [--formats xlsx,csv,md]
        [--work DIR] [--before CHECKOUT]

The cycle is the engine benchmark's (benchmarks/cycle.py ``engine_run``: N projects over the
nine cities, every one scored by all nine, the list proposed, confirmed and published, the
listed projects awarded), built once into --work (default: evalflow-report-bench in the system's
temporary folder) and kept there: 100,000 projects take several minutes and 1.2 GB.

Each figure is one process: the command, `evalflow report --format F` on the cycle's SQLite file,
started from a small measuring process that waits for it and reads its peak resident memory
(``getrusage(RUSAGE_CHILDREN)``, the largest of that process's children: the one command), with the
wall time of the whole command, interpreter start and imports included, as a user sees it, its
modules' bytecode cached as an installation has it (in --work/bytecode, filled by a first run of
each format that is not timed; where PYTHONDONTWRITEBYTECODE is set, as in a development shell,
every command would otherwise compile evalflow's modules again, about 1 s). Beside it the floor,
measured the same way in the same run: the score matrix's rows (every project the report shows,
with its nine sheets) read with raw sqlite3 in two queries, the scores parsed with orjson, and
written with csv.writer (CSV), as Markdown table lines (Markdown), or as bare worksheet XML
deflated into a zip (XLSX: the bytes an XLSX of those cells is made of, no escaping, no styles).
``--before`` runs the same command from another checkout (e.g. a worktree of main) for the
before/after figures.

Targets (issue 25), each printed beside its figure: at 100,000 projects XLSX within 20 s and
300 MiB peak, CSV and Markdown within 5 s. Not a test: the figures are read, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FORMATS = ("xlsx", "csv", "md")
TARGETS = {"xlsx": (20.0, 300.0), "csv": (5.0, None), "md": (5.0, None)}  # seconds, MiB at 100,000
AT = 100_000  # the size the targets are set at
CYCLE = "g60-2027"
LISTED = ("awarded", "listed_demonstration", "listed_excellent", "not_listed", "recommended")


def build(n: int, work: Path) -> Path:
    """The published cycle of ``n`` projects, made once (in a process of its own) and kept."""
    db = work / f"engine-{n}.db"
    if not db.exists():
        started = time.perf_counter()
        code = (
            "import sys, structlog; sys.path.insert(0, sys.argv[1]);"
            "structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40));"
            "from pathlib import Path; from benchmarks.cycle import PROGRAM, Applications, engine_run;"
            "from workflow.program import ProgramRegistry;"
            "cities = list(ProgramRegistry().get(PROGRAM).parties); n = int(sys.argv[2]);"
            "engine_run(n, Path(sys.argv[3]), Applications(n, cities))"
        )
        subprocess.run([sys.executable, "-c", code, str(ROOT), str(n), str(work)], check=True)
        print(f"built the {n:,}-project cycle in {time.perf_counter() - started:.0f} s: {db}", flush=True)
    else:  # (kept from an earlier run: brought to this checkout's schema, as `evalflow db upgrade` does)
        from store.sql import SqlStore

        store = SqlStore(f"sqlite:///{db}")
        before, after = store.upgrade()
        store.dispose()
        if before != after:
            print(f"upgraded the kept {n:,}-project cycle from schema {before} to {after}", flush=True)
    return db


def measured(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Seconds, CPU seconds and peak MiB of ``command``, run by a measuring process of its own
    (so that RUSAGE_CHILDREN's largest child is that command alone)."""
    out = subprocess.run(
        [sys.executable, __file__, "--measure", "--", *command], check=False, capture_output=True, text=True, env=env
    )
    if out.returncode != 0:
        sys.exit(out.stderr.strip())
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    return figures["seconds"], figures["cpu"], figures["mib"]


def _measure(command: list[str]) -> None:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr.strip()}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    # (the CPU time beside the wall time: on a shared machine the wall time moves with the load)
    print(json.dumps({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "mib": usage.ru_maxrss / 1024}))


def report_command(checkout: Path, db: Path, fmt: str, out: Path) -> list[str]:
    """`evalflow report` as the checkout's code runs it."""
    code = "import sys; sys.path.insert(0, sys.argv.pop(1)); from cli import main; main()"
    args = ["--db", str(db), "--as", "lead", "report", "--format", fmt, "--out", str(out)]
    return [sys.executable, "-c", code, str(checkout), *args]


def floor(db: Path, fmt: str, out: Path) -> None:
    """The floor: the matrix's rows read with raw sqlite3 and written as plainly as the format
    allows (see the module's docstring)."""
    import csv
    import sqlite3
    import zipfile

    import orjson

    con = sqlite3.connect(db)
    marks = ", ".join("?" * len(LISTED))
    projects = con.execute(
        f"SELECT id, project_name, city FROM projects WHERE cycle_id = ? AND state IN ({marks}) ORDER BY id",
        (CYCLE, *LISTED),
    )
    sheets = con.execute(
        "SELECT project_id, total, scores FROM score_sheets WHERE cycle_id = ? AND current = 1"
        " ORDER BY project_id, city",
        (CYCLE,),
    )

    def rows():
        sheet = sheets.fetchone()
        for pid, name, city in projects:
            row = [pid, name, city]
            while sheet is not None and sheet[0] <= pid:
                if sheet[0] == pid:
                    row += orjson.loads(sheet[2]).values()
                    row.append(sheet[1])
                sheet = sheets.fetchone()
            yield row

    if fmt == "csv":
        with open(out, "w", encoding="utf-8-sig", newline="") as f:
            csv.writer(f).writerows(rows())
    elif fmt == "md":
        with open(out, "w", encoding="utf-8") as f:
            f.writelines("| " + " | ".join(map(str, row)) + " |\n" for row in rows())
    else:
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
            with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
                for r, row in enumerate(rows(), start=2):
                    cells = "".join(f"<c><v>{v}</v></c>" for v in row)
                    sheet.write(f'<row r="{r}">{cells}</row>'.encode())
    con.close()


def _mark(value: float, limit: float | None, unit: str) -> str:
    if limit is None:
        return ""
    return f" (target {limit:g} {unit}: {'within' if value <= limit else 'OVER'})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="cycle sizes in projects, comma-separated")
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "evalflow-report-bench"))
    parser.add_argument("--before", help="another checkout whose `evalflow report` is measured too")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # the measuring process
    parser.add_argument("--floor", nargs=3, metavar=("DB", "FMT", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("command", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        _measure(args.command)
        return
    if args.floor:
        floor(Path(args.floor[0]), args.floor[1], Path(args.floor[2]))
        return
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    formats = [f for f in args.formats.split(",") if f]
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; work folder {work}", flush=True)
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cached["PYTHONPYCACHEPREFIX"] = str(work / "bytecode")
    warm: set[Any] = set()
    for n in [int(x) for x in args.sizes.split(",") if x]:
        db = build(n, work)
        print(f"\nN = {n:,} (published; the matrix {n:,} projects x 9 sheets)", flush=True)
        for fmt in formats:
            out = work / f"report-{n}.{fmt}"
            if fmt == "csv":
                out.mkdir(exist_ok=True)
            if fmt not in warm:  # (the modules this format imports compiled once, not timed)
                measured(report_command(ROOT, db, fmt, out), cached)
                warm.add(fmt)
            seconds, cpu, mib = measured(report_command(ROOT, db, fmt, out), cached)
            floor_command = [sys.executable, __file__, "--floor", str(db), fmt, str(work / f"floor.{fmt}")]
            bottom, bottom_cpu, bottom_mib = measured(floor_command)
            target, target_mib = TARGETS[fmt] if n == AT else (None, None)
            line = (
                f"  {fmt:4}  report {seconds:6.2f} s{_mark(seconds, target, 's')} (CPU {cpu:.2f} s),"
                f" peak {mib:5.0f} MiB{_mark(mib, target_mib, 'MiB')};"
                f"  floor {bottom:6.2f} s (CPU {bottom_cpu:.2f} s), {bottom_mib:4.0f} MiB;"
                f"  ratio {seconds / bottom:4.2f}x (CPU {cpu / bottom_cpu:4.2f}x)"
            )
            if args.before:
                old = work / f"before-{n}.{fmt}"
                if fmt == "csv":
                    old.mkdir(exist_ok=True)
                if ("before", fmt) not in warm:
                    measured(report_command(Path(args.before), db, fmt, old), cached)
                    warm.add(("before", fmt))
                then, then_cpu, then_mib = measured(report_command(Path(args.before), db, fmt, old), cached)
                line += (
                    f";  before {then:6.2f} s (CPU {then_cpu:.2f} s), {then_mib:5.0f} MiB"
                    f" ({then / seconds:.1f}x the time now)"
                )
            print(line, flush=True)


if __name__ == "__main__":
    main()
