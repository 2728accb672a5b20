"""A read request writes nothing: every GET route of the route matrix, called by the user it is
for (a browser session for the pages, a bearer token for the API), issues no INSERT, UPDATE or
DELETE and, on SQLite, takes no write lock (BEGIN IMMEDIATE). A session's last-seen time and a
token's last use are written at most every few minutes (workflow/accounts.py), so that nine
cities reading at once never queue behind one another or behind a long batch."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, text

from tests.conftest import admin
from tests.web.test_route_matrix import PLACES, ctx  # noqa: F401  (the prepared collection cycle)
from web.auth import SESSION_COOKIE

WRITES = ("INSERT", "UPDATE", "DELETE", "BEGIN IMMEDIATE")


@contextmanager
def writes(store: Any) -> Iterator[list[str]]:
    """The writing statements issued while the block runs (the first words of each)."""
    seen: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        head = " ".join(statement.split()[:2]).upper()
        if head.startswith(WRITES):
            seen.append(" ".join(statement.split()[:4]))

    def begin(conn: Any) -> None:  # (SQLite's write lock is taken in the store's begin event)
        if conn.info.get("write", True):
            seen.append("BEGIN IMMEDIATE")

    event.listen(store.engine, "before_cursor_execute", before)
    event.listen(store.engine, "begin", begin)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", before)
        event.remove(store.engine, "begin", begin)


def test_no_get_route_writes(ctx):  # noqa: F811
    gets = [(key, place) for key, place in PLACES.items() if key[0] == "GET"]
    assert len(gets) > 30  # (every page and every API read of the matrix)
    written: dict[str, list[str]] = {}
    for key, place in gets:
        api = key[1].startswith("/api/")
        client, _ = ctx.client(place.rightful(), api=api)
        client.get("/api/me" if api else "/account")  # (a fresh session or token is marked once)
        path, _ = place.call(ctx)
        with writes(ctx.s.store) as seen:
            r = client.get(path, follow_redirects=False)
        assert r.status_code < 500, (key, r.status_code)
        if seen:
            written[f"{key[1]} ({r.status_code})"] = seen
    assert written == {}


def test_a_session_is_touched_once_in_a_tenth_of_the_idle_time(web):
    w = web("collection")
    client = w.browser(admin("hefei"))
    store = w.s.store
    assert client.get("/").status_code == 200
    with writes(store) as seen:  # seen a moment ago: nothing written
        assert client.get("/").status_code == 200
    assert seen == []
    with store.engine.begin() as conn:  # last seen 4 minutes ago (the idle limit is 30)
        conn.execute(text("UPDATE web_sessions SET seen_at = :t"), {"t": _naive_utc(timedelta(minutes=-4))})
    with writes(store) as seen:
        assert client.get("/").status_code == 200
    assert any(s.startswith("UPDATE web_sessions") for s in seen)
    with store.engine.connect() as conn:
        (seen_at,) = conn.execute(text("SELECT seen_at FROM web_sessions")).one()
    assert _naive_utc(timedelta(seconds=-30)) < datetime.fromisoformat(str(seen_at)).replace(tzinfo=None)
    session = w.s.engine.session_of(client.cookies[SESSION_COOKIE], timedelta(minutes=30))
    assert session is not None and session[0].name == admin("hefei")


def test_a_flash_is_cleared_by_the_page_that_shows_it_only(web):
    w = web("collection")
    client = w.browser(admin("hefei"))
    store = w.s.store
    token = client.cookies[SESSION_COOKIE]
    found = w.s.engine.session_of(token, timedelta(minutes=30))
    assert found is not None
    w.s.engine.flash(found[1], {"kind": "ok", "title": {"en": "Done"}, "text": {"en": "Saved."}})
    found = w.s.engine.session_of(token, timedelta(minutes=30))
    assert found is not None and found[1].flash
    with writes(store) as seen:  # the page that shows the flash takes it
        assert "Saved." in client.get("/account", headers={"accept-language": "en"}).text
    assert any(s.startswith("UPDATE web_sessions") for s in seen)
    with writes(store) as seen:  # the next one writes nothing
        assert "Saved." not in client.get("/account", headers={"accept-language": "en"}).text
    assert seen == []


def _naive_utc(delta: timedelta) -> Any:
    from workflow.clock import utc_now

    return (utc_now() + delta).replace(tzinfo=None)
