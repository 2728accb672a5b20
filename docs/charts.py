"""The score analysis's charts of the demo's cycle (`evalflow demo`'s), drawn as the console draws them, into
docs/charts/ (``.venv/bin/python docs/charts.py``): the leniency and home bias of each city with
their intervals, the sheet totals by city, and the ranking's head with each project's spread."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from i18n import using  # noqa: E402
from store.sql import SqlStore  # noqa: E402
from web.analysis_page import draw  # noqa: E402
from workflow.engine import Engine  # noqa: E402
from workflow.program import ProgramRegistry  # noqa: E402
from workflow.program_code import demo_of  # noqa: E402

OUT = Path(__file__).resolve().parent / "charts"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        store = SqlStore(f"sqlite:///{work}/demo.db")
        store.create()
        registry = ProgramRegistry()  # (the first program with a demo, as `evalflow demo` runs it)
        first = next(p for p in registry.ids() if registry.get(p).demo.get("run"))
        demo_of(registry.get(first))(store, echo=lambda _: None)
        engine = Engine(store)
        lead = next(u.name for u in engine.users() if u.role == "lead")
        data = engine.score_analysis(lead)
        store.dispose()
    with using("zh"):
        pictures = draw(data)
    for name, svg in pictures.items():
        (OUT / f"{name}.svg").write_text(svg, encoding="utf-8")
        print(OUT / f"{name}.svg")


if __name__ == "__main__":
    main()
