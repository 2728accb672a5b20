"""An example application for each program's template (the 示例 row): made by the program's
demo, so that it is complete and passes the program's rules."""

from __future__ import annotations

import random
from typing import Any

from workflow.program import Program


def example_application(program: Program, year: int) -> dict[str, Any] | None:
    """A complete example for ``program``'s form, or None when its demo makes none."""
    if program.id == "g60-deep-integration":
        from demo.synthetic import application

        city = program.party("hefei")
        return application(random.Random(1), city.id, city.name, year, 1)
    return None
