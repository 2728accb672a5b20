"""The budgets a run's figures are read against, and the lines that show each beside its figure."""

from __future__ import annotations

from collections.abc import Mapping

LONG = 100_000  # a size this large runs once: its run lasts over a minute, which evens out the machine's spells
TARGET = 10_000  # the size most budgets are set at

# What the figures are read against (the project's budgets, issue 7's targets): the figure's key,
# what it is, the budget and its unit. A run ends with each figure beside its budget, marked
# within or over; nothing is asserted (machines differ). The engine's overhead a transition is
# shown in both readings: the machine's own cost, and the whole engine beyond its floor.
BUDGETS: tuple[tuple[str, str, float, str], ...] = (
    ("ratio", f"a {TARGET:,}-project cycle, engine / the floor of its rows", 4, "×"),
    ("growth", f"growth from {TARGET:,} to {LONG:,} projects", 11, "×"),
    ("pg_ratio", f"a {TARGET:,}-project cycle on PostgreSQL, engine / the COPY floor of its rows", 3, "×"),
    ("pg_growth", f"growth from {TARGET:,} to {LONG:,} projects on PostgreSQL", 11, "×"),
    ("peak", f"peak resident memory at {LONG:,} projects", 400, "MiB"),
    ("machine", "engine overhead a transition, read as the machine's (a fired trigger)", 10, "µs"),
    ("beyond", f"engine overhead a transition, read as the engine beyond its floor ({TARGET:,})", 10, "µs"),
    ("load", f"loading {TARGET:,} projects into records", 0.2, "s"),
    ("score", f"importing {TARGET * 36:,} criterion scores (the score stage at {TARGET:,}, median)", 3, "s"),
    ("help", "evalflow --help", 0.2, "s"),
    ("status", f"cycle status on a {TARGET:,}-project database", 0.6, "s"),
    ("show", f"project show on a {TARGET:,}-project database", 0.6, "s"),
    ("review", f"one review on a {TARGET:,}-project database", 0.6, "s"),
)
_SHOWN = {"×": "{:.2f}×", "MiB": "{:.0f} MiB", "µs": "{:.1f} µs", "s": "{:.3f} s"}


def budget_lines(figures: Mapping[str, float]) -> list[str]:
    """Each budget with this run's figure beside it, marked within or OVER (or not measured: the
    run's sizes did not include the one it is set at)."""
    lines = []
    for key, what, budget, unit in BUDGETS:
        shown = _SHOWN[unit]
        value = figures.get(key)
        if value is None:
            lines.append(f"  {what}: not measured (its size is not among this run's --sizes / --cli)")
        else:
            # judged as shown: "10.0 µs, budget 10.0 µs: OVER" (10.04 > 10) would read as a contradiction
            said, limit = shown.format(value), shown.format(budget)
            mark = "within" if float(said.split()[0].rstrip("×")) <= float(limit.split()[0].rstrip("×")) else "OVER"
            lines.append(f"  {what}: {said}, budget {limit}: {mark}")
    return lines
