"""A program file's ``[scoring]``: whether a party scores its own projects (``own_party``) and the
score analysis's settings (``[scoring.analysis]``, workflow/analysis.py)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from i18n import Joined, Msg
from workflow.analysis import AnalysisSettings

# a party on its own projects: scores them and its sheet counts; may not score them; or scores
# them and its sheet is kept and shown but left out of the mean
OWN_PARTY = ("scores", "recused", "excluded")

# each analysis setting: (least, most, whether the least itself is allowed)
_BOUNDS = {
    "confidence": (0.0, 1.0, False),
    "outlier_z": (0.0, math.inf, False),
    "least_offset": (0.0, math.inf, True),
}


def read_scoring(table: Mapping[str, Any]) -> tuple[str, AnalysisSettings, list[Msg]]:
    """``own_party``, the analysis's settings, and every problem of the table."""
    problems: list[Msg] = []
    own = table.get("own_party", "scores")
    if own not in OWN_PARTY:
        problems.append(Msg("[scoring] own_party = {value!r} must be scores, recused or excluded", value=own))
        own = "scores"
    for key in sorted(set(table) - {"own_party", "analysis"}):
        problems.append(Msg("[scoring] {key!r} is not a setting (own_party, analysis)", key=key))
    given = table.get("analysis", {})
    if not isinstance(given, dict):
        problems.append(Msg("[scoring.analysis] must be a table, not {given!r}", given=given))
        given = {}
    values: dict[str, float] = {}
    for key, value in given.items():
        if key not in _BOUNDS:
            settings = Joined(_BOUNDS, ", ")
            problems.append(Msg("[scoring.analysis] {key!r} is not a setting ({settings})", key=key, settings=settings))
            continue
        least, most, closed = _BOUNDS[key]
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or not (least <= value if closed else least < value) or not value < most:
            problems.append(Msg("[scoring.analysis] {key} = {value!r} is out of range", key=key, value=value))
            continue
        values[key] = float(value)
    return own, AnalysisSettings(**values), problems


# what a cycle that does not simply count a party's sheets on its own projects says of it
OWN_PARTY_WORDS = {
    "recused": Msg("Own projects recused: a city may not score its own projects, and no sheet of it is awaited there"),
    "excluded": Msg("Own projects excluded: a city scores its own projects; its sheet is kept and shown, not counted"),
}
