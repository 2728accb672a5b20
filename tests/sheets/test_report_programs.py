"""A program that ranks nothing (industry alliances: no listable or placed state, statistics in the
columns of its `cycle status`) reports as it did before the report streamed: an empty list and
matrix, the statistics table, in each format (fixture ``report_before/alliance.json``)."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_alliance_cli import opened, unqualified
from tests.sheets.reports_as_before import as_before, read_back


def test_a_program_that_ranks_nothing_reports_as_before(tmp_path: Path) -> None:
    o = opened(tmp_path)
    unqualified(o)
    got = {}
    for fmt in ("xlsx", "csv", "md"):
        out = tmp_path / ("report" if fmt == "csv" else f"report.{fmt}")
        o("lead", "2027-08-03T09:00", "report", "--format", fmt, "--out", str(out))
        got[fmt] = read_back(fmt, out)
    as_before("alliance", got)
