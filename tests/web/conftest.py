"""Web-console fixtures: the engine's prebuilt checkpoints (tests/workflow/checkpoints.py)
served by the console's app, with signed-in browsers and API tokens for any user."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from tests.conftest import CITIES, LEAD, admin, applicant, scorer
from tests.web.browser import artifacts, chromium, story_of  # noqa: F401  (fixtures of the browser tests)
from tests.workflow.checkpoints import Staged, at_stage, stage_templates  # noqa: F401  (fixtures)
from web.app import create_app
from web.auth import SESSION_COOKIE

EVERY_USER = (LEAD, *(f(c) for c in CITIES for f in (admin, scorer, applicant)))


@dataclass
class Web:
    """A checkpoint served by the console: ``browser(user)`` is a client signed in as ``user``
    (a session opened by the engine, as a sign-in would); ``api(user)`` sends that user's token."""

    s: Staged
    app: object

    def anonymous(self) -> TestClient:
        return TestClient(self.app, base_url="http://testserver", follow_redirects=False)

    def browser(self, user: str) -> TestClient:
        client = self.anonymous()
        token, _ = self.s.engine.open_session(_user(self.s, user))
        client.cookies.set(SESSION_COOKIE, token)
        return client

    def api(self, user: str) -> TestClient:
        secret, _ = self.s.engine.new_token(LEAD, user, "tests")
        client = self.anonymous()
        client.headers["Authorization"] = f"Bearer {secret}"
        return client


def _user(s: Staged, name: str):
    return next(u for u in s.engine.users() if u.name == name)


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@pytest.fixture
def web(at_stage) -> Callable[[str], Web]:  # noqa: F811
    """A factory: ``web("collection")`` serves a private copy of that checkpoint."""

    def make(checkpoint: str) -> Web:
        s = at_stage(checkpoint)
        return Web(s, create_app(s.engine))

    return make
