"""How long spreadsheet imports take: 5,000 applications from one XLSX file, and the nine cities'
score sheets for 500 key-library projects (4,500 sheets), through the engine's public API (real
guards, permissions and audit rows), on a fresh SQLite database.

    .venv/bin/python benchmarks/bench_import.py [--applications 5000] [--projects 500]

Prints seconds per phase and rows per second. Not a test: machines differ; read the figures.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import openpyxl  # noqa: E402
import structlog  # noqa: E402

from demo.g60 import DemoClock, id_of  # noqa: E402
from demo.synthetic import application  # noqa: E402
from sheets.applications import flat_row, read_applications, team_rows, write_template  # noqa: E402
from sheets.scores import read_scores  # noqa: E402
from sheets.scores import write_template as write_scores  # noqa: E402
from store.sql import SqlStore  # noqa: E402
from workflow.engine import Engine  # noqa: E402
from workflow.form import Form  # noqa: E402
from workflow.program import ProgramRegistry  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
PROGRAM = "g60-deep-integration"

_G60 = ProgramRegistry().get("g60-deep-integration")
assert _G60.form is not None  # (the program file declares its application form)
FORM: Form = _G60.form

T = TypeVar("T")


def timed(label: str, rows: int, func: Callable[[], T], results: list) -> T:
    start = time.perf_counter()
    out = func()
    seconds = time.perf_counter() - start
    results.append((label, rows, seconds))
    print(
        f"  {label:<44} {rows:>7} rows {seconds:>8.2f} s {rows / seconds if seconds else 0:>10,.0f} rows/s", flush=True
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=5000)
    parser.add_argument("--projects", type=int, default=500)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    work = Path(tempfile.mkdtemp(prefix="evalflow-bench-"))
    results: list = []
    rng = random.Random(7)

    print(f"evalflow import benchmark — {args.applications} applications, {args.projects} projects × 9 cities")

    def setup(name: str) -> tuple[Engine, DemoClock]:
        store = SqlStore(f"sqlite:///{work / name}")
        store.create()
        clock = DemoClock(2027)
        clock.set(1, 10)
        engine = Engine(store, clock=clock)
        program = engine.programs.get(PROGRAM)
        engine.add_user(None, "lead", "lead", program.lead)
        for p in program.parties:
            engine.add_user("lead", f"{p.id}-admin", "city-admin", p.id)
            engine.add_user("lead", f"{p.id}-scorer", "scorer", p.id)
        quotas = {p.id: {"demonstration": 100_000, "excellent": 100_000} for p in program.parties}
        engine.open_cycle("lead", PROGRAM, 2027, quotas=quotas)
        return engine, clock

    engine, clock = setup("applications.db")
    program = engine.programs.get(PROGRAM)
    cities = list(program.parties)

    # 1. one city's XLSX of N applications
    city = cities[-1]
    path = work / "applications.xlsx"
    write_template(path, FORM)
    wb = openpyxl.load_workbook(path)
    for i in range(1, args.applications + 1):
        app = application(rng, city.id, city.name, 2027, i)
        wb["申报表"].append(flat_row(FORM, app, i))
        for row in team_rows(FORM, app, i):
            wb["团队成员"].append(row)
    wb.save(path)
    print(f"  ({path.stat().st_size / 1024 / 1024:.1f} MB file)")
    items = timed(
        "read the XLSX (parse and check every cell)",
        args.applications,
        lambda: read_applications(path, FORM, program.parties),
        results,
    )
    timed(
        "import: check and submit, one transaction",
        args.applications,
        lambda: engine.submit_batch(f"{city.id}-admin", items),
        results,
    )
    timed(
        "import the same file again (adds nothing)",
        args.applications,
        lambda: engine.submit_batch(f"{city.id}-admin", items),
        results,
    )

    # 2. a key library of P projects, scored by nine cities from their sheets
    engine, clock = setup("scores.db")
    per_city = -(-args.projects // len(cities))
    keys: list[int] = []
    for p in cities:
        batch = [(f"{p.id} {i}", application(rng, p.id, p.name, 2027, 10_000 + len(keys) + i)) for i in range(per_city)]
        created = engine.submit_batch(f"{p.id}-admin", batch).created
        keys += [id_of(c) for c in created]
    clock.set(2, 20)
    projects = {p.id: p for p in engine.projects("lead")}
    for p in cities:
        mine = [pid for pid in keys if projects[pid].city == p.id]
        engine.fire(f"{p.id}-admin", mine, "accept")
    clock.set(3, 2)
    engine.advance("lead")
    for p in cities:
        mine = [pid for pid in keys if projects[pid].city == p.id]
        engine.fire(f"{p.id}-admin", mine, "review", result="demonstration", method="site")
    clock.set(5, 2)
    engine.advance("lead")
    for p in cities:
        mine = [pid for pid in keys if projects[pid].city == p.id]
        engine.fire(f"{p.id}-admin", mine, "recommend")
    clock.set(5, 11)
    engine.advance("lead")

    cycle, _, library = engine.shortlist("lead")
    files = []
    for p in cities:
        f = work / f"scores-{p.id}.xlsx"
        write_scores(f, p, library, program.criteria, cycle.id, program.parties)
        wb = openpyxl.load_workbook(f)
        ws = wb["评分表"]
        for r in range(2, ws.max_row + 1):
            for col, c in enumerate(program.criteria, start=5):
                band = rng.choice(c.bands)
                ws.cell(row=r, column=col).value = rng.randint(band.min, band.max)
        wb.save(f)
        files.append((p, f))
    sheets = len(library) * len(cities)

    def score_all() -> None:
        for p, f in files:
            _, rows, _ = read_scores(f, program.criteria)
            engine.fire_each(f"{p.id}-scorer", [(pid, req) for _, pid, req in rows], "score")

    timed(f"score import: 9 cities × {len(library)} projects", sheets, score_all, results)
    status = engine.status("lead")
    assert all(c["sheets"] == len(library) for c in status["cities"]), "every sheet must be in"
    print(f"  databases in {work}")


if __name__ == "__main__":
    main()
