"""A cycle's projects as a range of ids, for reads in id order.

A read of one cycle's projects in id order (a page of the list, a whole cycle's projects) could
be answered by the projects' primary key read from the first id, each row tested for its cycle:
the planner takes that path because it supposes a cycle's rows spread evenly over the ids, but a
cycle's ids are one run, and the newest cycle's come after every older one's. The first page of
the newest of four cycles of 10,000 projects read 30,000 rows of the others (95 ms) before its
own first. Bounded by the cycle's first and last id (each one probe of the (cycle, id) index),
either index reads only the cycle's run (tests/store/test_query_plans.py)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func, select

from store import schema

# the projects again, under another name, for the range's two probes (made once: an alias made
# for each read made its forty columns again every time, a few milliseconds a page)
_RUN = schema.projects.alias("cycle_run")


def within_cycle_ids(cycle_id: str) -> ColumnElement[bool]:
    """The projects' ids from the first to the last of ``cycle_id``'s: added to a read that also
    asks for the cycle, it changes no row read, only how they are found."""
    t = schema.projects
    inner = _RUN
    first = select(func.min(inner.c.id)).where(inner.c.cycle_id == cycle_id).scalar_subquery()
    last = select(func.max(inner.c.id)).where(inner.c.cycle_id == cycle_id).scalar_subquery()
    return and_(t.c.id >= first, t.c.id <= last)
