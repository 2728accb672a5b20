"""Example applications for programs' templates (the 示例 row), named by a program file's
``[demo] example``: made by the program's demo, so that they are complete and pass its rules."""

from __future__ import annotations

import random
from typing import Any

from workflow.program import Program


def g60_application(program: Program, year: int) -> dict[str, Any]:
    """A complete G60 application of ``year``: Hefei's first synthetic one."""
    from demo.synthetic import application

    city = program.party("hefei")
    return application(random.Random(1), city.id, city.name, year, 1)
