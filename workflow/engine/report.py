"""What `evalflow report` writes, read as it is written: the heads (the list version, per-city
counts, the parties' statistics) at once, the official list's entries and the score matrix's rows
a page at a time from the report's one read transaction, so that a report of 100,000 projects
holds one page of projects and their sheets, never the cycle."""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from workflow.ports import StoreTx
from workflow.program import Program
from workflow.records import Cycle, ListEntry, ListVersion

REPORT_PAGE = 2000  # projects to a page of the score matrix (with nine cities, 18,000 sheets)


# One current sheet as the score matrix shows it: its cells, the criteria's scores in the
# program's order (None where one is missing) and its total last (a plain tuple: 900,000 sheets
# in a report of 100,000 projects, one tuple shared by the page's sheets that scored alike)
MatrixSheet = tuple[Any, ...]


class MatrixProject(NamedTuple):
    """One row of the score matrix: a project and its current sheets by city (or by scorer where
    each member's sheet is its own), in the order the sheets were read (city, then id)."""

    id: int
    project_name: str
    city: str
    sheets: dict[str, MatrixSheet]


@dataclass
class ReportData:
    """A report's heads, and its long parts as iterators over the open read transaction (valid
    inside ``Engine.report``'s ``with`` only)."""

    cycle: Cycle
    program: Program
    list: ListVersion | None  # the version shown (its head: the entries come from ``entries``)
    count: int  # the projects of the score matrix
    scorers: builtins.list[str]  # every scorer with a current sheet (a program scored per scorer)
    status: dict[str, Any]
    by_city_state: Mapping[tuple[str, str], int]
    awarded_as: Mapping[tuple[str, str], int]  # (city, category) -> awarded projects of that category
    tx: StoreTx = field(repr=False)
    states: tuple[str, ...] = ()  # the states whose projects the matrix shows
    page: int = REPORT_PAGE

    def entries(self) -> Iterator[ListEntry]:
        """The shown list version's entries, in rank order."""
        if self.list is not None and self.list.id is not None:
            yield from self.tx.list_entries(self.list.id)

    def matrix(self) -> Iterator[MatrixProject]:
        """The matrix's projects in id order, each with its current sheets (see :func:`matrix`)."""
        return matrix(self.tx, self.cycle, self.program, self.states, self.page)


def matrix(
    tx: StoreTx, cycle: Cycle, program: Program, states: tuple[str, ...], page: int = REPORT_PAGE
) -> Iterator[MatrixProject]:
    """The cycle's projects in ``states`` in id order, each with its current sheets, a page at a
    time: a page of projects (keyset: ids above the last page's), then the sheets of that page's
    id range, grouped by project; the page is dropped before the next is read."""
    by_scorer = program.sheets_per == "scorer"
    criteria = [c.id for c in program.criteria]
    cities = tx.report_sheet_cities(cycle.id)
    after = 0
    while True:
        found = tx.report_projects(cycle.id, states, after, page)
        if not found:
            return
        sheets = tx.report_sheets(cycle.id, cities, found[0][0], found[-1][0], criteria, by_scorer)
        none: dict[str, MatrixSheet] = {}
        for pid, name, city in found:
            yield MatrixProject(pid, name, city, sheets.get(pid, none))
        if len(found) < page:
            return
        after = found[-1][0]
