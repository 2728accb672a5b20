"""The people of `make bench-web`, for locust (run by benchmarks/web_bench.py, never alone): the
nine cities' scorers, the readers (the lead and the city administrators) and the saturation's
dashboard readers. Who they are, their session cookies and API tokens, which projects they open
and which each scorer still has to score, come from the plan file web_bench.py writes
(EVALFLOW_WEBBENCH_PLAN): signing in is done before the run, so that no password hash is timed.

Each request is named by its kind (dashboard, project list, project page, API status, score
submission); anything but the expected status is an error."""

from __future__ import annotations

import itertools
import json
import os
import random
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, task

PLAN: dict[str, Any] = json.loads(Path(os.environ["EVALFLOW_WEBBENCH_PLAN"]).read_text(encoding="utf-8"))
SESSION_COOKIE = "evalflow_session"

# (each locust user takes the next identity of its kind: the plan's lists are walked round)
_readers = itertools.count()
_scorers = itertools.count()


def _check(response: Any, expected: int) -> None:
    if response.status_code != expected:
        response.failure(f"HTTP {response.status_code}: {(response.text or '')[:200]}")


class _Reading:
    """What a reader does: the four reads (a project page at random among its projects)."""

    client: Any
    who: dict[str, Any]

    def _page(self, path: str, kind: str) -> None:
        headers = {"Cookie": f"{SESSION_COOKIE}={self.who['session']}"}
        # (a redirect would be the sign-in page: an error here, never a page read)
        with self.client.get(path, name=kind, headers=headers, allow_redirects=False, catch_response=True) as r:
            _check(r, 200)

    def dashboard(self) -> None:
        self._page("/", "dashboard")

    def project_list(self) -> None:
        self._page("/projects", "project list")

    def project_page(self) -> None:
        self._page(f"/projects/{random.choice(self.who['projects'])}", "project page")

    def api_status(self) -> None:
        headers = {"Authorization": f"Bearer {self.who['token']}"}
        path = f"/api/cycles/{PLAN['cycle']}/status"
        with self.client.get(path, name="API status", headers=headers, catch_response=True) as r:
            _check(r, 200)


class Reader(_Reading, FastHttpUser):
    """A city's administrator (or the lead) reading the console: 1–2 s between requests."""

    fixed_count = PLAN["readers_count"]
    wait_time = between(*PLAN["wait"])

    def on_start(self) -> None:
        n = next(_readers)
        self.who = PLAN["readers"][n % len(PLAN["readers"])]
        # each reader goes round the four kinds, as a person moves from the dashboard to the list,
        # a project and the status; the readers start at different kinds, so that every kind is
        # asked from the first seconds (a random pick left a kind unasked in a short run)
        self.turn = n

    @task
    def read(self) -> None:
        kinds = (self.dashboard, self.project_list, self.project_page, self.api_status)
        kinds[self.turn % len(kinds)]()
        self.turn += 1


class Scorer(FastHttpUser):
    """A city's scorer entering its city's sheet on the next project it has not scored, through
    the API (POST /api/projects/{id}/score), 1–2 s between sheets."""

    fixed_count = PLAN["scorers_count"]
    wait_time = between(*PLAN["wait"])

    def on_start(self) -> None:
        self.who = PLAN["scorers"][next(_scorers) % len(PLAN["scorers"])]
        self.todo = list(self.who["todo"])

    @task
    def score(self) -> None:
        if not self.todo:  # (the plan holds more than a run can use; a scorer out of work waits)
            return
        project, scores = self.todo.pop(0)
        headers = {"Authorization": f"Bearer {self.who['token']}"}
        body = {"scores": scores}
        path = f"/api/projects/{project}/score"
        with self.client.post(path, name="score submission", json=body, headers=headers, catch_response=True) as r:
            _check(r, 200)


class Dashboards(_Reading, FastHttpUser):
    """The saturation's reader: dashboards one after the other, no wait (as the issue's baseline,
    dashboards a second, was measured)."""

    wait_time = between(0, 0)

    def on_start(self) -> None:
        self.who = PLAN["readers"][next(_readers) % len(PLAN["readers"])]

    @task
    def read_dashboard(self) -> None:
        self.dashboard()
