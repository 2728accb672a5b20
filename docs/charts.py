"""The score analysis's charts of the demo's cycle (`evalflow demo`'s), drawn as the console draws them, into
docs/charts/ (``.venv/bin/python docs/charts.py``): the leniency and home bias of each city with
their intervals, the sheet totals by city, and the ranking's head with each project's spread."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from i18n import Msg, using  # noqa: E402
from store.sql import SqlStore  # noqa: E402
from web import charts  # noqa: E402
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
    program, a = data.program, data.analysis
    names = {p.id: p.name for p in program.parties}
    with using("zh"):
        unit = Msg("points").render()
        shown = [r for r in a.raters if r.sheets]
        pictures = {
            "offsets": charts.offsets(
                [(names.get(r.rater, r.rater), r.leniency, r.home_bias) for r in shown],
                Msg("Leniency and home bias, with their intervals").render(),
                Msg("Leniency").render(),
                Msg("Home bias").render(),
                unit,
            ),
            "distributions": charts.distributions(
                [(names.get(r.rater, r.rater), data.totals_by_rater.get(r.rater, [])) for r in shown],
                Msg("Sheet totals by city").render(),
                unit,
            ),
        }
        edges, edge = [], 0
        for category, n in data.places:
            edge += n
            edges.append((edge, str(program.category_words(category))))
        rows = [
            (
                f"{r.rank}. {data.projects[r.project_id][1][:18]}",
                float(r.score),
                *(float(x) for x in data.spread[r.project_id]),
            )
            for r in data.ranked
        ]
        title = Msg("The ranking's head, each score with the cities' lowest and highest").render()
        pictures["ranking"] = charts.ranking(rows, edges, title, unit)
    for name, svg in pictures.items():
        (OUT / f"{name}.svg").write_text(svg, encoding="utf-8")
        print(OUT / f"{name}.svg")


if __name__ == "__main__":
    main()
