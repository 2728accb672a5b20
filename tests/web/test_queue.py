"""The scorer's queue, 待评分: exactly the projects the city has not scored, each a link to its
sheet, shrinking as sheets are saved; reached from the dashboard's to-do; the project list no
longer offers a scored project as still to score; the sheet shows bands and a total."""

from __future__ import annotations

import re

import pytest

from tests.conftest import LEAD, SHEET_MID, admin, applicant, scorer, snapshot
from tests.web.conftest import csrf_of
from tests.web.test_api_scoping import ROLES

CYCLE = "g60-2027"


def listed(html: str) -> list[int]:
    body = html.split('id="left"')[1].split("</table>")[0] if 'id="left"' in html else ""
    return sorted({int(x) for x in re.findall(r'href="/projects/(\d+)#score-form"', body)})


def english(client):
    client.headers["accept-language"] = "en"
    return client


def test_the_queue_lists_exactly_the_unscored_and_shrinks(web) -> None:
    w = web("joint_scoring")
    first, second, *rest = w.s.shortlist
    w.s.engine.score(scorer("hefei"), first, SHEET_MID)
    w.s.engine.score(scorer("jiaxing"), second, SHEET_MID)  # another city's sheet: hefei's queue keeps it
    client = english(w.browser(scorer("hefei")))
    page = client.get(f"/queue?cycle={CYCLE}").text
    assert listed(page) == sorted([second, *rest])
    assert f"has {len(rest) + 1} of {len(w.s.shortlist)} projects left to score" in page
    # scoring from the project page shrinks it
    form = client.get(f"/projects/{second}").text
    data = {"csrf": csrf_of(form), **{f"score_{k}": str(v) for k, v in SHEET_MID.items()}, "completion": "已完成"}
    r = client.post(f"/projects/{second}/score", data=data, headers={"referer": f"http://testserver/projects/{second}"})
    assert r.status_code == 303
    assert listed(client.get(f"/queue?cycle={CYCLE}").text) == sorted(rest)
    # in Chinese
    client.headers["accept-language"] = "zh-CN"
    zh = client.get(f"/queue?cycle={CYCLE}").text
    assert f"合肥市还有 {len(rest)} 个项目待评分（共 {len(w.s.shortlist)} 个）" in zh


def test_next_walks_the_queue(web) -> None:
    w = web("joint_scoring")
    first, second, third, *_ = w.s.shortlist
    client = w.browser(scorer("hefei"))
    r = client.get(f"/queue/next?cycle={CYCLE}&after={first}")
    assert r.status_code == 303 and r.headers["location"] == f"/projects/{second}#score-form"
    w.s.engine.score(scorer("hefei"), second, SHEET_MID)
    r = client.get(f"/queue/next?cycle={CYCLE}&after={first}")
    assert r.headers["location"] == f"/projects/{third}#score-form"
    # the sheet's form links to it
    page = client.get(f"/projects/{first}").text
    assert f'href="/queue/next?cycle={CYCLE}&amp;after={first}"' in page


def test_the_dashboard_to_do_links_to_the_queue(web) -> None:
    w = web("joint_scoring")
    page = w.browser(scorer("hefei")).get(f"/?cycle={CYCLE}").text
    todo = page.split('id="todo"')[1].split("</section>")[0]
    assert f'<a href="/queue?cycle={CYCLE}">' in todo
    lead = w.browser(LEAD).get(f"/?cycle={CYCLE}").text
    assert f'href="/queue?cycle={CYCLE}&amp;city=hefei"' in lead or f'href="/queue?cycle={CYCLE}&city=hefei"' in lead


def test_the_project_list_does_not_offer_a_scored_project_to_score(web) -> None:
    w = web("joint_scoring")
    first = w.s.shortlist[0]
    w.s.engine.score(scorer("hefei"), first, SHEET_MID)
    page = english(w.browser(scorer("hefei"))).get(f"/projects?cycle={CYCLE}").text
    rows = dict(re.findall(r'<td><a href="/projects/(\d+)">\d+</a></td>(.*?)</tr>', page, re.S))
    label = "Score"
    assert label not in rows[str(first)]
    assert all(label in cells for pid, cells in rows.items() if int(pid) in w.s.shortlist[1:])


def test_the_lead_sees_every_partys_count(web) -> None:
    w = web("joint_scoring")
    w.s.engine.score(scorer("hefei"), w.s.shortlist[0], SHEET_MID)
    page = english(w.browser(LEAD)).get(f"/queue?cycle={CYCLE}").text
    counts = dict(re.findall(r'city=(\w+)">[^<]+</a></td><td>(\d+)</td>', page))
    n = len(w.s.shortlist)
    assert counts["hefei"] == str(n - 1) and counts["jiaxing"] == str(n) and len(counts) == 9


def test_outside_the_scoring_stage_the_queue_is_empty(web) -> None:
    w = web("recommendation")
    page = english(w.browser(scorer("hefei"))).get(f"/queue?cycle={CYCLE}").text
    assert "not in its scoring stage" in page and listed(page) == []


def test_the_sheet_shows_bands_and_a_total_and_keeps_a_refused_sheet(web) -> None:
    w = web("joint_scoring")
    pid = w.s.shortlist[0]
    client = english(w.browser(scorer("hefei")))
    page = client.get(f"/projects/{pid}").text
    assert 'src="/static/sheet.js"' in page and 'id="sheet-total"' in page and "data-bands=" in page
    assert client.get("/static/sheet.js").status_code == 200
    before = snapshot(w.s.store)
    typed = {**{f"score_{k}": str(v) for k, v in SHEET_MID.items()}, "score_value": "11"}
    r = client.post(
        f"/projects/{pid}/score",
        data={"csrf": csrf_of(page), **typed},
        headers={"referer": f"http://testserver/projects/{pid}"},
    )
    shown = client.get(r.headers["location"]).text
    assert snapshot(w.s.store) == before
    assert "score_in_bands" in shown or "band" in shown.lower()
    assert 'value="11"' in shown  # the typed sheet comes back
    assert re.search(r'id="band_value"[^>]*>not in a band<', shown)
    assert re.search(r'id="band_organization"[^>]*>[^<]+<', shown)  # the band of a score in one


def test_who_may_read_the_queue(web) -> None:
    w = web("joint_scoring")
    assert w.browser(applicant("hefei")).get(f"/queue?cycle={CYCLE}").status_code == 403
    assert w.browser(scorer("hefei")).get(f"/queue?cycle={CYCLE}&city=jiaxing").status_code == 403
    assert w.browser(admin("jiaxing")).get(f"/queue?cycle={CYCLE}&city=hefei").status_code == 403
    assert w.browser(applicant("hefei")).get(f"/queue/next?cycle={CYCLE}").status_code == 403
    assert w.browser(admin("hefei")).get(f"/queue?cycle={CYCLE}").status_code == 200


# the matrix of tests/web/test_api_scoping.py for the queue: every role of the own city (hefei)
# and of another (jiaxing) asks for hefei's queue, by the API and by the page, before and during
# joint scoring; another city's call is always denied and nothing changes
QUEUE_OWN = {"city-admin": 200, "scorer": 200, "applicant": 403}


@pytest.mark.parametrize("checkpoint", ["recommendation", "joint_scoring"])
@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize("side", ["own-city", "other-city"])
def test_the_queue_matrix(web, checkpoint: str, role: str, side: str) -> None:
    w = web(checkpoint)
    user = ROLES[role]("hefei" if side == "own-city" else "jiaxing")
    api, page = w.api(user), w.browser(user)
    before = snapshot(w.s.store)
    expected = QUEUE_OWN[role] if side == "own-city" else 403
    r = api.get(f"/api/cycles/{CYCLE}/queue?city=hefei")
    assert r.status_code == expected, r.text
    if expected == 403:
        assert r.json()["error"] == "not_permitted"
    assert page.get(f"/queue?cycle={CYCLE}&city=hefei").status_code == expected
    assert snapshot(w.s.store) == before


def test_a_long_queue_lists_its_first_projects_and_counts_them_all(web, monkeypatch) -> None:
    """A city's queue lists the first ``SHOWN`` projects it has left (a page of 10,000 rows helps
    nobody), counts every one, says that only the first are listed, and walks on past them as
    they are scored; the API's queue says the same."""
    from web import queue as queue_module

    monkeypatch.setattr(queue_module, "SHOWN", 3)
    w = web("joint_scoring")
    shortlist = sorted(w.s.shortlist)
    client = english(w.browser(scorer("hefei")))
    page = client.get(f"/queue?cycle={CYCLE}").text
    assert listed(page) == shortlist[:3]
    assert f"has {len(shortlist)} of {len(shortlist)} projects left to score" in page
    assert "The first 3 are listed here; each one scored leaves the list." in page
    client.headers["accept-language"] = "zh-CN"
    assert "此处列出前 3 个，每评完一个即从列表中移出。" in client.get(f"/queue?cycle={CYCLE}").text
    w.s.engine.score(scorer("hefei"), shortlist[0], SHEET_MID)
    assert listed(client.get(f"/queue?cycle={CYCLE}").text) == shortlist[1:4]  # (the next one comes in)
    r = client.get(f"/queue/next?cycle={CYCLE}&after={shortlist[0]}")
    assert r.headers["location"] == f"/projects/{shortlist[1]}#score-form"
    token, _ = w.s.engine.new_token(LEAD, scorer("hefei"), "queue")
    said = client.get(f"/api/cycles/{CYCLE}/queue", headers={"Authorization": f"Bearer {token}"}).json()
    assert said["left"] == len(shortlist) - 1 and [p["id"] for p in said["projects"]] == shortlist[1:4]
    # a short queue says nothing of the kind
    monkeypatch.setattr(queue_module, "SHOWN", 200)
    assert "listed here" not in english(client).get(f"/queue?cycle={CYCLE}").text
