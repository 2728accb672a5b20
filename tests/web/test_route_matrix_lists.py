"""The route matrix's cells for the list's scoped reads (issue 24; the engine's tests:
tests/workflow/test_list_reads.py).

The cycle holds a proposed list (every project's mean: 94, 78 or 62 to four places) to which
hefei objected. Every read route of the matrix (tests/web/test_route_matrix.py's PLACES, each GET)
is called by hefei's scorer and applicant, who read no list before its publication, and by
jiaxing's administrator, who reads the proposed list but not why hefei objected: no answer holds
a mean of the unpublished list for the first two, nor hefei's reason for any of the three. The
list's own reads (the API's and the page) refuse the first two with the program's rule, the
database unchanged; once the list is published they read it.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import LEAD, admin, applicant, scorer, snapshot
from tests.web.test_route_matrix import CYCLE, MISSING, MISSING_UPLOAD, PLACES

REASON = "合肥市认为第三名得分统计有误"
MEANS = ("94.0000", "78.0000", "62.0000")
SCORER, APPLICANT, OTHER_ADMIN = scorer("hefei"), applicant("hefei"), admin("jiaxing")
LIST_READS = (f"/api/cycles/{CYCLE}/list", f"/list?cycle={CYCLE}")


@pytest.fixture(scope="module")
def proposed(stage_templates, programs, tmp_path_factory) -> Any:
    """The proposed checkpoint with hefei's objection, served once for the module (every cell reads)."""
    from tests.web.conftest import Web
    from tests.workflow.checkpoints import copy_checkpoint
    from web.app import create_app

    templates, meta = stage_templates
    s = copy_checkpoint(templates["proposed"], meta, programs, tmp_path_factory.mktemp("list-reads") / "p.db")
    s.engine.confirm_list(admin("hefei"), CYCLE, "object", REASON)
    w = Web(s, create_app(s.engine))
    clients = {
        (u, api): (w.api(u) if api else w.browser(u)) for u in (SCORER, APPLICANT, OTHER_ADMIN) for api in (0, 1)
    }
    for c in clients.values():
        c.headers["accept-language"] = "en"
    yield w, clients
    for c in clients.values():
        c.close()
    s.store.dispose()


def _paths(s: Any) -> list[str]:
    """Every GET route of the matrix, on hefei's first shortlisted project (ids of other things: none)."""
    ctx = SimpleNamespace(
        first=s.demos["hefei"][0],
        appealed=MISSING,
        appeal=MISSING,
        attachment=MISSING,
        token=MISSING,
        override=MISSING,
        upload=MISSING_UPLOAD,
        sheet_upload=MISSING_UPLOAD,
    )
    return [place.call(ctx)[0] for (method, _), place in PLACES.items() if method == "GET"]  # type: ignore[arg-type]


def test_no_read_route_shows_an_unpublished_mean_or_a_withheld_reason(proposed) -> None:
    w, clients = proposed
    paths = _paths(w.s)
    assert len(paths) >= 40 and f"/api/cycles/{CYCLE}/list" in paths and "/list" in paths
    leaks = []
    for user in (SCORER, APPLICANT, OTHER_ADMIN):
        for path in paths:
            client = clients[(user, int(path.startswith("/api/")))]
            r = client.get(path)
            text = r.text if "spreadsheet" not in r.headers.get("content-type", "") else ""
            hidden = [REASON] + ([] if user == OTHER_ADMIN else list(MEANS))
            shown = [m for m in hidden if m in text]
            if shown:
                leaks.append(f"GET {path} as {user}: {r.status_code} shows {shown}")
    assert leaks == [], "\n".join(leaks)


@pytest.mark.parametrize("user", [SCORER, APPLICANT])
@pytest.mark.parametrize("path", LIST_READS)
def test_a_scorer_or_applicant_is_refused_the_unpublished_list_by_the_rule(proposed, user, path) -> None:
    w, clients = proposed
    before = snapshot(w.s.store)
    r = clients[(user, int(path.startswith("/api/")))].get(path)
    assert r.status_code == 403
    role = "scorer" if user == SCORER else "applicant"
    said = (
        f"Not permitted to read the list of cycle {CYCLE}: {user} is {role}; a list version before its"
        " publication is read by lead or city-admin ([permissions] read_unpublished_list)."
    )
    assert (r.json()["message"] if path.startswith("/api/") else r.text.replace("&#39;", "'")).count(said) == 1
    assert snapshot(w.s.store) == before


def test_another_citys_administrator_reads_that_hefei_objected_not_why(proposed) -> None:
    w, clients = proposed
    body = clients[(OTHER_ADMIN, 1)].get(f"/api/cycles/{CYCLE}/list").json()
    (version,) = body["versions"]
    assert {e["score"] for e in version["entries"]} == set(MEANS)
    assert [(c["city"], c["decision"], c["reason"], c["reason_withheld"]) for c in version["confirmations"]] == [
        ("hefei", "object", "", True)
    ]
    page = clients[(OTHER_ADMIN, 0)].get(f"/list?cycle={CYCLE}").text
    assert "objected (its reasons are read by the lead and that city)" in page and REASON not in page
    # the control: the lead and hefei read the reason
    for user in (LEAD, admin("hefei")):
        api = w.api(user).get(f"/api/cycles/{CYCLE}/list").json()
        assert api["versions"][0]["confirmations"][0]["reason"] == REASON
        assert REASON in w.browser(user).get(f"/list?cycle={CYCLE}").text


@pytest.mark.parametrize("user", [SCORER, APPLICANT])
def test_after_publication_a_scorer_or_applicant_reads_the_list(web, user) -> None:
    w = web("published")
    body = w.api(user).get(f"/api/cycles/{CYCLE}/list").json()
    assert [(v["number"], v["status"]) for v in body["versions"]] == [(1, "published")]
    page = w.browser(user).get(f"/list?cycle={CYCLE}")
    assert page.status_code == 200 and all(m in page.text for m in MEANS)
