"""The language a request is answered in: the signed-in user's choice (the console's header
switches it), else what the browser prefers of Chinese and English, else Chinese on the console
and the process's own language on the API (so that scripts and the tests, run with
``EVALFLOW_LANG=en``, read the API's English as before).

The language is set for the whole request, so that the pages, the flashes, the error pages and
the engine's refusals are all rendered in it, and reset once the answer is made.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

import i18n
from web.auth import api_user_of, session_of
from workflow.errors import EvalflowError


def preferred(header: str | None) -> str | None:
    """What an ``Accept-Language`` header prefers of Chinese and English (None if it names
    neither): the one with the higher weight, the first named on a tie."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        base = tag.strip().lower().split("-")[0].split("_")[0]
        if base not in ("zh", "en"):
            continue
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight <= 0:
            continue
        candidate = (-weight, position, "en" if base == "en" else "zh_CN")
        if best is None or candidate < best:
            best = candidate
    return best[2] if best else None


def language_of(request: Request) -> str:
    """The language to answer ``request`` in (it reads the session or the token once; the
    pages and the API reuse what it found)."""
    path = request.url.path
    engine: Any = request.app.state.engine
    if path.startswith("/static/"):
        return i18n.current()
    asked = preferred(request.headers.get("accept-language"))
    api = path.startswith("/api/")
    chosen: str | None = None
    if engine is not None:
        try:
            if api:
                user = api_user_of(request)
                chosen = user.language if user is not None else None
            else:
                me = session_of(request)
                chosen = me.user.language if me is not None else None
        except EvalflowError:
            # (the store is unavailable: the request itself meets it again and answers with it,
            # in the language the reader asked for)
            chosen = None
    return chosen or asked or (i18n.current() if api else i18n.DEFAULT)
