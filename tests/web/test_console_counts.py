"""The console's pages fetch only what they show, and show what they showed: on every checkpoint
of the cycle, the dashboard's to-do counts and missing sheets (counted by the database) equal
those worked out from the projects and sheets loaded whole, and the lead's project list scores
(its page's projects only) equal the whole ranking's; and loading the dashboard, the project
list, the queue or the API's status and list reads projects only counted, windowed or by id,
never an application (except on the project page)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import event

from tests.conftest import LEAD, admin, applicant, scorer
from web import views
from workflow.page_query import PageQuery

CYCLE = "g60-2027"
CHECKPOINTS = ("collection", "municipal_review", "recommendation", "hefei_short", "proposed", "published")
USERS = (LEAD, admin("hefei"), scorer("hefei"), applicant("hefei"), admin("jiaxing"))


def _old_todo(engine: Any, user: Any, cycle: Any, program: Any) -> dict[tuple[str, ...], int]:
    """The dashboard's to-do counts as it made them before: every readable project loaded."""
    found = Counter(
        tuple(views.todo_actions(user, p, cycle, program))
        for p in engine.projects(user.name, cycle.id, with_application=False)
    )
    return {k: n for k, n in found.items() if k}


@pytest.mark.parametrize("checkpoint", CHECKPOINTS)
def test_the_dashboard_counts_what_the_loaded_projects_count(at_stage, checkpoint):
    s = at_stage(checkpoint)
    e = s.engine
    cycle = e.get_cycle(CYCLE)
    program = e.program_of(cycle)
    for name in USERS:
        user = next(u for u in e.users() if u.name == name)
        assert views.todo_groups(e, user, cycle, program) == _old_todo(e, user, cycle, program), name
        # the missing sheets: the first projects and how many, party by party
        if program.sheet_trigger is None or user.role not in ("lead", "city-admin", "scorer"):
            continue
        shortlist = sorted(
            p.id for p in e.projects(name, cycle.id, with_application=False) if p.state in program.listable_states
        )
        done = e.scored(name, cycle.id)
        parties = [p.id for p in program.parties] if user.role == "lead" else [user.city]
        for party in parties:
            missing = [pid for pid in shortlist if pid not in done.get(party, set())]
            first, n = e.unscored(name, cycle.id, party, limit=views.MISSING_SHOWN)
            assert ([p.id for p in first], n) == (missing[: views.MISSING_SHOWN], len(missing)), (name, party)
        assert e.unscored(name, cycle.id, None, limit=0)[1] == len(shortlist)
        left, total, first = e.unscored_counts(name, cycle.id, first=views.MISSING_SHOWN)
        assert total == len(shortlist)
        missing_of = {party: [pid for pid in shortlist if pid not in done.get(party, set())] for party in parties}
        assert left == {party: len(m) for party, m in missing_of.items()}
        assert first == {party: m[: views.MISSING_SHOWN] for party, m in missing_of.items() if m}


@pytest.mark.parametrize("checkpoint", ["hefei_short", "proposed", "published"])
def test_the_lead_list_scores_are_the_rankings(at_stage, checkpoint):
    s = at_stage(checkpoint)
    e = s.engine
    page = e.project_page(LEAD, CYCLE, PageQuery())  # (scores of its own projects' sheets)
    ranked = e.project_page(LEAD, CYCLE, PageQuery(), by_score="desc")  # (the whole ranking's)
    assert page.scores and page.scores == ranked.scores and page.scored is ranked.scored is True
    window = PageQuery()
    window.limit, window.offset = 7, 3
    some = e.project_page(LEAD, CYCLE, window)
    assert some.scores == {p.id: ranked.scores[p.id] for p in some.projects if p.id in ranked.scores}


READS = ("/?cycle={c}", "/projects?cycle={c}", "/queue?cycle={c}", "/queue?cycle={c}&city=hefei", "/list?cycle={c}")
API_READS = ("/api/cycles/{c}/status", "/api/cycles/{c}/projects?limit=20", "/api/cycles/{c}/project-page")


def _statements(store: Any) -> tuple[list[str], Any]:
    seen: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(store.engine, "before_cursor_execute", before)
    return seen, lambda: event.remove(store.engine, "before_cursor_execute", before)


def _whole_reads(seen: list[str]) -> list[str]:
    """The statements that read projects' rows neither counted, windowed nor by id."""
    out = []
    for st in seen:
        head = st.split(" FROM ", 1)[0]
        if not re.search(r"\bFROM projects\b", st) or "projects." not in head:
            continue  # (no project row read: a count's subquery names projects, reads none)
        if re.search(r"count\(|GROUP BY|LIMIT|projects\.id = |projects\.id IN \(", st):
            continue
        if "NOT (EXISTS (SELECT" in st:
            continue  # (a city's queue lists every project it has left to score: those rows only)
        out.append(st[:200])
    return out


@pytest.mark.parametrize("checkpoint", ["hefei_short", "published"])
def test_a_page_reads_only_its_rows(web, checkpoint):
    w = web(checkpoint)
    store = w.s.store
    for name in (LEAD, admin("hefei"), scorer("hefei")):
        browser, api = w.browser(name), w.api(name)
        for path in (*READS, *API_READS):
            client = api if path.startswith("/api/") else browser
            seen, stop = _statements(store)
            try:
                r = client.get(path.format(c=CYCLE))
            finally:
                stop()
            assert r.status_code in (200, 403), (name, path, r.status_code)
            assert _whole_reads(seen) == [], (name, path)
            assert not any("projects.application" in st for st in seen), (name, path)
    # the project page reads its own project's application, and only that one
    pid = w.s.shortlist[0]
    seen, stop = _statements(store)
    try:
        assert w.browser(LEAD).get(f"/projects/{pid}").status_code == 200
    finally:
        stop()
    reading = [st for st in seen if "projects.application" in st]
    assert reading and all("projects.id = " in st for st in reading)
