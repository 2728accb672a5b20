"""The first page of each document of the demo's cycle (`evalflow demo`'s), drawn as an image
into docs/documents/ (``.venv/bin/python docs/documents.py``): the notice, the official list, the
first project's decision letter and its certificate, as sheets/documents.py makes them as PDF."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sheets.documents import render  # noqa: E402
from store.sql import SqlStore  # noqa: E402
from workflow.engine import Engine  # noqa: E402
from workflow.program import ProgramRegistry  # noqa: E402
from workflow.program_code import demo_of  # noqa: E402

OUT = Path(__file__).resolve().parent / "documents"


def main() -> None:
    import pypdfium2 as pdfium

    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        store = SqlStore(f"sqlite:///{work}/demo.db")
        store.create()
        registry = ProgramRegistry()
        # (the first program with a demo, as `evalflow demo` runs it)
        first = next(p for p in registry.ids() if registry.get(p).demo.get("run"))
        demo_of(registry.get(first))(store, year=2027, per_city=24, seed=60, echo=lambda _: None)
        with store.transaction(write=False) as tx:
            lead = next(u.name for u in tx.list_users() if u.role == "lead")
        outcome = Engine(store, registry).outcome(lead)
        first = outcome.every[0]
        for kind, project in (("notice", None), ("list", None), ("letter", first), ("certificate", first)):
            pdf = pdfium.PdfDocument(render(kind, "pdf", outcome, project))
            image = pdf[0].render(scale=1.5).to_pil()
            image.save(OUT / f"{kind}.png", optimize=True)
            print(OUT / f"{kind}.png", f"{len(pdf)} page(s)")
        store.dispose()


if __name__ == "__main__":
    main()
