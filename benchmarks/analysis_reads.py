"""What the lead's reads of the ranking cost on a large cycle: why a project holds its rank
(`list explain`), a what-if of other places, and the score analysis (first, then read again with
nothing changed), each against a floor measured in the same run: every current sheet of the
cycle read once, as the analysis must read them (the report's read, workflow/engine/report.py).

It reads a cycle already scored (the web benchmark's, `make bench-web`, leaves one at 100,000
projects), and changes nothing:

    .venv/bin/python benchmarks/analysis_reads.py postgresql+psycopg://…/evalflow_webbench_100000

Each figure is the median of ``--repeat`` calls after one call that warms the process."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from store.sql import SqlStore  # noqa: E402
from workflow.engine import Engine  # noqa: E402
from workflow.engine.report import matrix  # noqa: E402


def timed(call: Callable[[], Any], repeat: int, warm: bool = True) -> float:
    if warm:
        call()
    found = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        found.append(time.perf_counter() - start)
    return statistics.median(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the database of a scored cycle")
    parser.add_argument("--lead", default="lead")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    store = SqlStore(args.url)
    engine = Engine(store)
    cycle = engine.get_cycle(None)
    program = engine.program_of(cycle)
    states = tuple(dict.fromkeys([*program.listable_states, *program.placed_states]))

    def floor() -> None:
        with engine.store.transaction(write=False) as tx:
            for _ in matrix(tx, cycle, program, states):
                pass

    base = timed(floor, args.repeat)
    first = timed(lambda: engine.score_analysis(args.lead, cycle.id), 1, warm=False)
    data = engine.score_analysis(args.lead, cycle.id)
    project = data.ranked[0].project_id
    places = dict(program.places_in(cycle.config))
    more = {next(iter(places)): next(iter(places.values())) + 2}
    rows = [
        ("every current sheet read once (the floor)", base),
        ("score analysis, first", first),
        (
            "score analysis, again (nothing changed)",
            timed(lambda: engine.score_analysis(args.lead, cycle.id), args.repeat),
        ),
        ("why a project holds its rank", timed(lambda: engine.explain_rank(args.lead, project), args.repeat)),
        (f"what-if {more}", timed(lambda: engine.what_if(args.lead, cycle.id, more), args.repeat)),
    ]
    print(f"cycle {cycle.id}: {data.analysis.projects} projects, {data.analysis.sheets} sheets")
    for name, seconds in rows:
        print(f"{name:48} {seconds:8.3f} s  {seconds / base:6.2f} × the floor")
    store.dispose()


if __name__ == "__main__":
    main()
