"""Which demo runs each program: `evalflow demo --program ID`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workflow.errors import NotFound
from workflow.program import ProgramRegistry


def demo_of(program_id: str) -> Callable[..., None]:
    """The demo of ``program_id``, called as run(store, year=, per_city=, seed=, echo=)."""
    if program_id == "g60-deep-integration":
        from demo.g60 import run_demo

        return run_demo
    if program_id == "kechuang-zhongyuan":
        from demo.kechuang import run_demo as review

        def run(store: Any, year: int, per_city: int, seed: int, echo: Callable[[str], None]) -> None:
            review(store, year=year, applications=max(12, per_city + 6), seed=seed, echo=echo)

        return run
    if program_id == "industry-alliance":
        from demo.alliance import run_demo as filing

        def run_filing(store: Any, year: int, per_city: int, seed: int, echo: Callable[[str], None]) -> None:
            filing(store, year=year, alliances=max(4, per_city // 3), seed=seed, echo=echo)

        return run_filing
    if program_id == "pioneer-brand":
        from demo.pioneer import run_demo as co_building

        def run_pioneer(store: Any, year: int, per_city: int, seed: int, echo: Callable[[str], None]) -> None:
            co_building(store, year=year, seed=seed, echo=echo)

        return run_pioneer
    ProgramRegistry().get(program_id)  # an unknown program is not found
    raise NotFound("demo", program_id, "this program has no demo yet")
