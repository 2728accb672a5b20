"""The console's project list: search, sort by every column, page size and numbers, filter chips
that remove themselves, select-all, the export of the view, the score column, and who sees
what (pages, exports and the API alike), read a page at a time."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook

import i18n
from tests.conftest import CITIES, LEAD, admin, applicant, scorer, snapshot
from tests.web.conftest import csrf_of

CYCLE = "g60-2027"
ZH = {"Accept-Language": "zh-CN"}


def browse(w, user: str):
    """A signed-in browser reading English (the assertions' language; Chinese where asked)."""
    client = w.browser(user)
    client.headers["Accept-Language"] = "en"
    return client


def listed(html: str) -> list[int]:
    """The project ids a list page shows, in order."""
    return [int(x) for x in re.findall(r'<td><a href="/projects/(\d+)">\d+</a></td>', html)]


def api_ids(client, **params) -> list[int]:
    r = client.get(f"/api/cycles/{CYCLE}/projects", params=params)
    assert r.status_code == 200, r.text
    return [p["id"] for p in r.json()]


def test_search_by_project_name_unit_name_or_id(web):
    w = web("municipal_review")
    lead = browse(w, LEAD)
    everything = w.s.engine.projects(LEAD, CYCLE, with_application=False)
    p = everything[7]
    assert listed(lead.get("/projects", params={"q": p.project_name}).text) == [
        q.id for q in everything if p.project_name in q.project_name
    ]
    assert p.id in listed(lead.get("/projects", params={"q": p.unit_name}).text)
    assert listed(lead.get("/projects", params={"q": str(p.id)}).text)[0] == p.id
    page = lead.get("/projects", params={"q": "没有这样的项目"}).text
    assert listed(page) == [] and "0 projects" in page and "No project matches this view." in page
    # the search is a chip, removable, and kept by the other filters' form
    page = lead.get("/projects", params={"q": p.unit_name, "city": p.city}).text
    assert f'value="{p.unit_name}"' in page and "Search: " in page


SORTS = ["id", "city", "unit", "project", "state", "category"]


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_every_column_sorts_both_ways_then_by_id(web, direction):
    w = web("recommendation")
    program = w.s.engine.program_of(w.s.engine.get_cycle(CYCLE))
    everything = w.s.engine.projects(LEAD, CYCLE, with_application=False)
    parties = [p.id for p in program.parties]
    states = list(program.states)
    results = list(program.results)
    keys = {
        "id": lambda p: p.id,
        "city": lambda p: parties.index(p.city),
        "unit": lambda p: p.unit_name,
        "project": lambda p: p.project_name,
        "state": lambda p: states.index(p.state),
        "category": lambda p: (states.index(p.state), results.index(p.review_result) if p.review_result else 99),
    }
    api = w.api(LEAD)
    for column in SORTS:
        key = keys[column]
        # the id breaks ties, always ascending
        expected = sorted(everything, key=lambda p: p.id)
        expected = sorted(expected, key=key, reverse=direction == "desc")
        if direction == "desc":  # (a stable reverse keeps the ids of a tie ascending)
            groups: dict = {}
            for p in sorted(everything, key=lambda p: p.id):
                groups.setdefault(key(p), []).append(p.id)
            want = [pid for k in sorted(groups, reverse=True) for pid in groups[k]]
        else:
            want = [p.id for p in expected]
        assert api_ids(api, sort=column, dir=direction) == want, column
        page = browse(w, LEAD).get("/projects", params={"sort": column, "dir": direction, "size": 20}).text
        assert listed(page) == want[:20], column
        arrow = "▼" if direction == "desc" else "▲"
        assert f"{arrow}</a></th>" in page


def test_paging_with_sizes_numbers_and_counts(web):
    w = web("municipal_review")
    lead = browse(w, LEAD)
    every = sorted(pid for c in CITIES for pid in w.s.ids[c])
    n = len(every)
    first = lead.get("/projects", params={"size": 20}).text
    assert listed(first) == every[:20]
    assert f"{n} projects, 1–20 (page 1 of {-(-n // 20)})" in first
    last = -(-n // 20)
    assert f'size=20&amp;page={last}">Last page</a>' in first or f"page={last}&amp;size=20" in first
    page2 = lead.get("/projects", params={"size": 20, "page": 2}).text
    assert listed(page2) == every[20:40] and 'aria-current="page">2<' in page2
    assert "First page" in page2 and "Previous page" in page2
    tail = lead.get("/projects", params={"size": 20, "page": 999}).text  # past the end: the last page
    assert listed(tail) == every[(last - 1) * 20 :]
    r = lead.get("/projects", params={"size": 7})
    assert r.status_code == 400 and "7 is not one of 20, 50, 100, 200" in r.text
    with i18n.using("zh_CN"):
        zh = lead.get("/projects", params={"size": 20}, headers=ZH).text
    assert f"{n} 个项目，第 1–20 个（第 1/{last} 页）" in zh and "末页" in zh and "每页条数" in zh


def test_filters_are_chips_each_removable_and_clear_all(web):
    w = web("municipal_review")
    lead = browse(w, LEAD)
    page = lead.get(
        "/projects", params={"city": "hefei", "state": "in_library", "q": "项目", "sort": "unit", "size": 50}
    ).text
    chips = re.findall(r'<span class="chip">(.*?) <a href="([^"]+)" class="remove"', page)
    words = [c[0] for c in chips]
    assert words == ["Search: 项目", "City: 合肥市", "State: " + _state(w, "in_library")]
    links = {c[0].split(":")[0]: c[1].replace("&amp;", "&") for c in chips}
    assert "q=" not in links["Search"] and "city=hefei" in links["Search"]
    assert "city=&" in links["City"] and "state=in_library" in links["City"] and "sort=unit" in links["City"]
    assert "state=&" in links["State"] and "size=50" in links["State"]
    assert 'id="clear"' in page and f'href="/projects?cycle={CYCLE}" id="clear"' in page
    # a filter reached from the dashboard's to-do is a chip too, and its × removes it
    admin_ = browse(w, admin("hefei"))
    board = admin_.get("/").text
    todo = re.search(r'href="(/projects\?cycle=[^"]*action=[^"]*)"', board)
    assert todo, "the dashboard links its to-do to the list"
    link = todo.group(1).replace("&amp;", "&")
    filtered = admin_.get(link).text
    chip = re.search(r'<span class="chip">Open to: [^<]*<a href="([^"]+)" class="remove"', filtered)
    assert chip and "action=&" in chip.group(1)
    cleared = admin_.get(chip.group(1).replace("&amp;", "&")).text
    assert 'class="chip"' not in cleared and len(listed(cleared)) == len(w.s.ids["hefei"])


def _state(w, state: str) -> str:
    return w.s.engine.program_of(w.s.engine.get_cycle(CYCLE)).state_name(state, "en")


def test_the_todo_filter_lists_what_the_dashboard_counts(web):
    w = web("municipal_review")
    hefei = browse(w, admin("hefei"))
    board = hefei.get("/").text
    todos = re.findall(r'<a href="(/projects\?[^"]*action=[^"]*)">(\d+) projects to ', board)
    assert todos, "the city has projects to review"
    for link, n in todos:
        page = hefei.get(link.replace("&amp;", "&")).text
        assert f"{n} projects" in page.split('id="count">')[1][:40] and len(listed(page)) == int(n)


def test_select_all_on_the_page_ticks_every_box_and_the_bulk_action_stays_all_or_none(web):
    w = web("recommendation")
    hefei = browse(w, admin("hefei"))
    page = hefei.get("/projects", params={"action": "recommend"}).text
    assert 'id="select-all"' in page and 'id="select-page"' in page
    boxes = re.findall(r'<input type="checkbox" name="ids" value="(\d+)"[^>]*>', page)
    assert boxes and " checked" not in page.split("<tbody>")[1]
    link = re.search(r'href="([^"]+)" id="select-page"', page).group(1).replace("&amp;", "&")
    ticked = hefei.get(link).text
    assert len(re.findall(r'name="ids" value="\d+"[^>]*checked', ticked)) == len(boxes)
    # a refused bulk action (another city's project among the ticked) changes nothing
    other = w.s.demos["jiaxing"][0]
    before = snapshot(w.s.store)
    r = hefei.post(
        "/bulk/recommend",
        data={"csrf": csrf_of(ticked), "ids": [*boxes, str(other)]},
        headers={"referer": "http://testserver" + link},
    )
    assert r.status_code == 303 and snapshot(w.s.store) == before
    assert f"project {other}" in hefei.get(link).text


def _xlsx_rows(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def test_the_export_is_the_whole_view_with_chinese_headings_and_names(web):
    w = web("municipal_review")
    lead = browse(w, LEAD)
    w.s.engine.set_language(LEAD, "zh_CN")
    wanted = [p for p in w.s.engine.projects(LEAD, CYCLE, city="hefei", with_application=False)]
    wanted.sort(key=lambda p: p.unit_name, reverse=True)
    params = {"city": "hefei", "sort": "unit", "dir": "desc", "size": 20, "page": 1}
    r = lead.get("/projects/export", params={**params, "format": "xlsx"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = _xlsx_rows(r.content)
    assert rows[0] == ["编号", "城市", "单位", "项目", "状态", "类别"]
    assert [row[0] for row in rows[1:]] == [p.id for p in sorted(wanted, key=lambda p: p.id)] or [
        row[0] for row in rows[1:]
    ] == [p.id for p in _stable(wanted)]
    assert {row[1] for row in rows[1:]} == {"合肥市"}  # the party's name, not its id
    program = w.s.engine.program_of(w.s.engine.get_cycle(CYCLE))
    assert {row[4] for row in rows[1:]} == {program.state_name(p.state) for p in wanted}
    r = lead.get("/projects/export", params={**params, "format": "csv"})
    assert r.status_code == 200 and r.content.startswith("\ufeff".encode())
    # named after the cycle, with an ASCII name old clients take too
    said = r.headers["content-disposition"]
    assert f'filename="projects-{CYCLE}.csv"' in said and f"filename*=UTF-8''projects-{CYCLE}.csv" in said
    text = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert text[0] == rows[0] and [int(x[0]) for x in text[1:]] == [row[0] for row in rows[1:]]
    # every page of a bigger view, not the one shown
    every = lead.get("/projects/export", params={"size": 20, "format": "csv"}).content.decode("utf-8-sig")
    assert len(every.strip().splitlines()) - 1 == sum(len(w.s.ids[c]) for c in CITIES)
    assert lead.get("/projects/export", params={"format": "pdf"}).status_code == 400
    # the API's export: the same file
    api = w.api(LEAD).get(f"/api/cycles/{CYCLE}/projects/export", params={**params, "format": "csv"})
    assert api.status_code == 200 and api.content == r.content


def _stable(projects):
    """Unit names descending, ties by id."""
    out = sorted(projects, key=lambda p: p.id)
    return sorted(out, key=lambda p: p.unit_name, reverse=True)


def test_the_score_column_appears_once_there_are_scores(web):
    w = web("municipal_review")
    head = browse(w, LEAD).get("/projects").text.split("<thead>")[1].split("</thead>")[0]
    assert ">Score" not in head and ">Category" in head  # (the table's columns, not the navigation)
    w = web("proposed")
    engine = w.s.engine
    _, versions, _ = engine.list_versions(LEAD, CYCLE)
    scores = {e.project_id: e.score for e in versions[-1].entries}
    lead = browse(w, LEAD)
    page = lead.get("/projects", params={"sort": "score", "size": 200}).text
    assert "Score ▼" in page
    shown = dict(
        re.findall(r'<td><a href="/projects/(\d+)">\d+</a></td>.*?<td class="score"[^>]*>([^<]*)</td>', page, re.S)
    )
    assert {int(k): v for k, v in shown.items() if v != "—"} == scores  # the ranking's, as the list has it
    order = [pid for pid in listed(page) if pid in scores]
    assert order == [e.project_id for e in versions[-1].entries]  # best first, as ranked
    asc = listed(lead.get("/projects", params={"sort": "score", "dir": "asc"}).text)
    assert [pid for pid in asc if pid in scores] == list(reversed(order))
    # a city's administrator reads the scores of the proposed list, no other; a scorer (the
    # program's read_unpublished_list) only those of a published one
    hefei = browse(w, admin("hefei")).get("/projects", params={"sort": "score"}).text
    assert "Score ▼" in hefei
    page_api = w.api(scorer("hefei")).get(f"/api/cycles/{CYCLE}/project-page", params={"limit": 5, "sort": "score"})
    assert not page_api.json()["scored"] and all(p.get("score") is None for p in page_api.json()["projects"])
    page_api = w.api(admin("hefei")).get(f"/api/cycles/{CYCLE}/project-page", params={"limit": 5, "sort": "score"})
    body = page_api.json()
    assert body["scored"] and [p["score"] for p in body["projects"]] == [scores[p["id"]] for p in body["projects"]]
    with i18n.using("zh_CN"):
        assert "得分" in lead.get("/projects", headers=ZH).text


@pytest.mark.parametrize("user", [admin("jiaxing"), scorer("jiaxing"), applicant("jiaxing")])
def test_a_city_never_sees_another_citys_rows_or_counts_before_joint_scoring(web, user):
    w = web("municipal_review")
    own = w.s.engine.projects(user, CYCLE, with_application=False)
    assert all(p.city == "jiaxing" for p in own)
    client = browse(w, user)
    page = client.get("/projects", params={"size": 20}).text
    assert f"{len(own)} projects" in page.split('id="count">')[1][:80]
    assert set(listed(page)) <= {p.id for p in own}
    for params in ({"city": "hefei"}, {"q": "合肥"}, {"q": str(w.s.ids["hefei"][0])}):
        shown = client.get("/projects", params=params).text
        assert listed(shown) == [] and "0 projects" in shown
    csv_ = client.get("/projects/export", params={"format": "csv"}).content.decode("utf-8-sig")
    assert sorted(int(r[0]) for r in list(csv.reader(io.StringIO(csv_)))[1:]) == sorted(p.id for p in own)
    api = w.api(user)
    assert sorted(api_ids(api)) == sorted(p.id for p in own)
    assert api_ids(api, city="hefei") == []
    r = api.get(f"/api/cycles/{CYCLE}/projects", params={"limit": 2})
    assert r.headers["X-Total-Count"] == str(len(own))
    body = api.get(f"/api/cycles/{CYCLE}/project-page", params={"city": "hefei"}).json()
    assert body["total"] == 0 and body["projects"] == []
    exported = api.get(f"/api/cycles/{CYCLE}/projects/export", params={"format": "csv", "city": "hefei"})
    assert exported.content.decode("utf-8-sig").strip().count("\n") == 0  # the headings alone


def test_after_joint_scoring_begins_a_city_reads_the_shortlist(web):
    w = web("joint_scoring")
    client = w.api(scorer("jiaxing"))
    ids = api_ids(client)
    assert sorted(ids) == sorted(p.id for p in w.s.engine.projects(scorer("jiaxing"), CYCLE))
    assert any(pid in ids for pid in w.s.demos["hefei"])


NEW_ROUTES = [
    ("page", "/projects?cycle=" + CYCLE),
    ("page-export", f"/projects/export?cycle={CYCLE}&format=csv"),
    ("api-page", f"/api/cycles/{CYCLE}/project-page"),
    ("api-export", f"/api/cycles/{CYCLE}/projects/export?format=csv"),
    ("api-list", f"/api/cycles/{CYCLE}/projects?limit=5&sort=unit"),
]


@pytest.mark.parametrize(("name", "path"), NEW_ROUTES, ids=[n for n, _ in NEW_ROUTES])
def test_every_new_route_needs_a_user_and_hides_other_cities(web, name, path):
    w = web("municipal_review")
    anonymous = w.anonymous().get(path)
    assert anonymous.status_code in (303, 401)
    hefei_ids = {str(i) for i in w.s.ids["hefei"]}
    for user in (admin("jiaxing"), scorer("jiaxing"), applicant("jiaxing"), applicant("hefei")):
        client = w.api(user) if name.startswith("api") else browse(w, user)
        r = client.get(path)
        assert r.status_code == 200, r.text
        mine = {str(p.id) for p in w.s.engine.projects(user, CYCLE, with_application=False)}
        if "json" in r.headers["content-type"]:
            data = r.json()
            got = {str(p["id"]) for p in (data["projects"] if isinstance(data, dict) else data)}
        elif "csv" in r.headers["content-type"]:
            got = {row[0] for row in list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))[1:]}
        else:
            got = {str(i) for i in listed(r.text)}
        assert got <= mine and not (got & hefei_ids - mine), (user, got)


def test_a_wrong_sort_is_refused_in_words_and_changes_nothing(web):
    w = web("municipal_review")
    lead, api = browse(w, LEAD), w.api(LEAD)
    before = snapshot(w.s.store)
    r = lead.get("/projects", params={"sort": "application"})
    assert r.status_code == 400 and "&#39;application&#39; is not a column of the list" in r.text
    r = lead.get("/projects", params={"sort": "id", "dir": "up"})
    assert r.status_code == 400 and "is neither asc nor desc" in r.text
    assert api.get(f"/api/cycles/{CYCLE}/projects", params={"sort": "nope"}).status_code in (400, 422)
    assert snapshot(w.s.store) == before


def test_a_page_reads_no_application(web, monkeypatch):
    """The list reads its page through the store's page read alone: a read of whole projects
    (with their applications) fails the test."""
    from store.projects import ProjectRows

    w = web("municipal_review")

    def refused(*args, **kwargs):
        raise AssertionError("the project list read whole projects")

    monkeypatch.setattr(ProjectRows, "_project_rows", refused)
    monkeypatch.setattr(ProjectRows, "get_projects", refused)
    lead = browse(w, LEAD)
    assert len(listed(lead.get("/projects", params={"size": 20}).text)) == 20
    assert lead.get("/projects/export", params={"format": "xlsx"}).status_code == 200
    assert len(api_ids(w.api(LEAD), limit=5)) == 5
    hefei = browse(w, admin("hefei"))
    assert listed(hefei.get("/projects").text) == w.s.ids["hefei"]


CHECKPOINTS = ["collection", "municipal_review", "recommendation", "joint_scoring", "hefei_short", "published"]


@pytest.mark.parametrize("checkpoint", CHECKPOINTS)
def test_the_page_read_holds_exactly_what_each_user_may_read(at_stage, checkpoint):
    """The SQL terms of the reader's rule, the to-do filter and the category filter select the
    same projects as the engine's own reads and the views' rules, for every user."""
    from tests.web.conftest import EVERY_USER
    from web import project_views, views
    from workflow.page_query import PageQuery

    s = at_stage(checkpoint)
    engine = s.engine
    cycle = engine.get_cycle(CYCLE)
    program = engine.program_of(cycle)
    users = {u.name: u for u in engine.users()}
    listed_ = views.published_categories(engine, users[LEAD], cycle)
    for name in EVERY_USER:
        user = users[name]
        readable = engine.projects(name, CYCLE, with_application=False)
        page = engine.project_page(name, CYCLE, PageQuery())
        assert [p.id for p in page.projects] == [p.id for p in readable] and page.total == len(readable), name
        with_record = {p.id: p for p in engine.projects(name, CYCLE)}
        wanted = {",".join(views.todo_actions(user, p, cycle, program)) for p in with_record.values()} - {""}
        for action in sorted(wanted):
            query = PageQuery([project_views.action_terms(program, action, user, cycle)])
            got = [p.id for p in engine.project_page(name, CYCLE, query).projects]
            expected = [
                p.id
                for p in with_record.values()
                if views.action_matches(program, action, user, p, cycle, views.actions_for(user, p, cycle, program))
            ]
            assert got == expected, (name, action)
        for key in views.category_choices(program):
            query = PageQuery([project_views.category_terms(program, key, listed_)])
            got = [p.id for p in engine.project_page(name, CYCLE, query).projects]
            assert got == [p.id for p in readable if views.category_key(program, p, listed_) == key], (name, key)
