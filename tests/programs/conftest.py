"""A program kept in tests/ is run in the console too: the browser tests' fixtures."""

from __future__ import annotations

from tests.web.browser import artifacts, chromium, story_of  # noqa: F401  (fixtures)
