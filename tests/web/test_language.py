"""The console and the API in the reader's language: Chinese by default, English when a user
switches in the header (kept with the user), or, before signing in and on the API, when the
browser or the script asks for it; the API keeps the process's language when nothing is asked
(the tests run with EVALFLOW_LANG=en)."""

from __future__ import annotations

import pytest

from tests.conftest import LEAD, admin, sh
from tests.web.conftest import csrf_of
from web.language import preferred
from workflow.errors import NotFound

PASSWORD = "松江-passw0rd"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("fr-FR,fr;q=0.9", None),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
        ("en;q=0.5,zh;q=0.8", "zh_CN"),
        ("de,en;q=0.7,zh;q=0.3", "en"),
        ("zh-Hans", "zh_CN"),
        ("en;q=0", None),
    ],
)
def test_what_the_browser_prefers_of_chinese_and_english(header, expected):
    assert preferred(header) == expected


def _language_of(w, name: str) -> str | None:
    return next(u.language for u in w.s.engine.users() if u.name == name)


def _switch(client, page_url: str, language: str):
    page = client.get(page_url)
    return client.post(
        "/language",
        data={"csrf": csrf_of(page.text), "language": language},
        headers={"referer": f"http://testserver{page_url}"},
    )


def test_a_user_switches_the_console_to_english_and_back(web):
    w = web("collection")
    w.s.clock.set(sh(1, 20))
    pid = w.s.ids["hefei"][0]
    client = w.browser(admin("hefei"))
    page = client.get(f"/projects/{pid}").text
    assert '<html lang="zh-CN">' in page and "历史记录" in page and "状态" in page
    assert 'value="en"' in page and "English</button>" in page  # the switch in the header

    r = _switch(client, f"/projects/{pid}", "en")
    assert r.status_code == 303 and r.headers["location"] == f"/projects/{pid}"  # back to the same page
    assert _language_of(w, admin("hefei")) == "en"  # kept with the user
    page = client.get(f"/projects/{pid}").text
    assert '<html lang="en">' in page
    for words in ("History", "Actions", "Sign out", f"Project {pid}: ", "Change of state"):
        assert words in page, words
    assert "历史记录" not in page and "办理" not in page
    listing = client.get("/projects?city=hefei").text
    for words in ("Projects · g60-2027", "Filter", "Actions open", "projects"):
        assert words in listing, words
    assert "筛选" not in listing
    # a refusal comes back in English too: the engine's words as the command line gives them
    r = client.get("/projects/99999")
    assert r.status_code == 404 and str(NotFound("project", 99999).render("en")) in r.text
    assert "Back to the overview" in r.text

    _switch(client, f"/projects/{pid}", "zh_CN")
    page = client.get(f"/projects/{pid}").text
    assert "历史记录" in page and "History" not in page
    assert _language_of(w, admin("hefei")) == "zh_CN"


def test_a_flash_reads_in_the_language_of_the_page_it_is_shown_on(web):
    w = web("collection")
    w.s.clock.set(sh(1, 20))
    pid = w.s.ids["hefei"][0]
    client = w.browser(admin("hefei"))
    _switch(client, f"/projects/{pid}", "en")
    page = client.get(f"/projects/{pid}")
    r = client.post(
        f"/projects/{pid}/act/accept",
        data={"csrf": csrf_of(page.text), "opinion": "同意"},
        headers={"referer": f"http://testserver/projects/{pid}"},
    )
    assert r.status_code == 303
    shown = client.get(f"/projects/{pid}").text
    assert "<strong>Done</strong>" in shown and "已完成" not in shown
    assert f"project {pid} " in shown and "现为" not in shown


def test_the_sign_in_page_and_its_failure_are_chinese_unless_the_browser_prefers_english(web):
    w = web("collection")
    w.s.engine.set_password(LEAD, admin("hefei"), PASSWORD)
    for language, words, failure in (
        (None, "登录", "未登录："),
        ("zh-CN,zh;q=0.9,en;q=0.5", "登录", "未登录："),
        ("en-US,en;q=0.9", "Sign in", "Not signed in: the name or the password is wrong."),
    ):
        client = w.anonymous()
        headers = {"Accept-Language": language} if language else {}
        page = client.get("/login", headers=headers)
        assert f"<h1>{words}</h1>" in page.text
        assert "evalflow user passwd" not in page.text  # what to do, not a command to run
        r = client.post(
            "/login",
            data={"name": admin("hefei"), "password": "wrong-wrong-wrong", "csrf": csrf_of(page.text), "next": "/"},
            headers=headers,
        )
        assert r.status_code == 401 and failure in r.text


@pytest.mark.parametrize(
    ("url", "sentence"),
    [("/projects?page=0", "页码不能小于 1"), ("/projects?page=abc", "页码应为整数")],
)
def test_a_malformed_address_says_in_chinese_which_field_is_wrong(web, url, sentence):
    w = web("collection")
    r = w.browser(admin("hefei")).get(url)
    assert r.status_code == 400
    assert sentence in r.text and "输入有误" in r.text
    assert "query.page" not in r.text and "Input should" not in r.text


def test_an_api_error_in_the_language_asked_for(web):
    w = web("collection")
    api = w.api(admin("hefei"))
    zh = api.get("/api/projects/99999", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    en = api.get("/api/projects/99999", headers={"Accept-Language": "en"})
    default = api.get("/api/projects/99999")  # nothing asked: the process's language (English here)
    assert zh.status_code == en.status_code == default.status_code == 404
    assert zh.json()["message"] == NotFound("project", 99999).render("zh_CN")
    assert en.json()["message"] == default.json()["message"] == "No project 99999."
    assert zh.json()["error"] == en.json()["error"] == "not_found"
    # the framework's own refusals too: the field by its label in Chinese, pydantic's words in English
    zh = api.get("/api/projects/0", headers={"Accept-Language": "zh"}).json()
    en = api.get("/api/projects/0", headers={"Accept-Language": "en"}).json()
    assert zh["problems"] == ["项目编号不能小于 1"]
    assert en["problems"] == ["path.project_id: Input should be greater than or equal to 1"]
    assert en["message"] == "Invalid request: path.project_id: Input should be greater than or equal to 1."


def test_the_api_speaks_the_user_s_chosen_language(web):
    w = web("collection")
    w.s.engine.set_language(admin("hefei"), "zh_CN")
    r = w.api(admin("hefei")).get("/api/projects/99999", headers={"Accept-Language": "en"})
    assert r.json()["message"] == NotFound("project", 99999).render("zh_CN")
    r = w.api(LEAD).get("/api/projects/99999")  # the lead chose nothing
    assert r.json()["message"] == "No project 99999."


def test_choosing_the_language_reads_the_session_or_the_token_once(web, monkeypatch):
    """The language is chosen before the page's own sign-in check; both use one read."""
    w = web("collection")
    client, api = w.browser(admin("hefei")), w.api(admin("hefei"))
    sessions: list[str] = []
    tokens: list[str] = []
    session_of, token_user = w.s.engine.session_of, w.s.engine.token_user
    monkeypatch.setattr(w.s.engine, "session_of", lambda *a: sessions.append("read") or session_of(*a))
    monkeypatch.setattr(w.s.engine, "token_user", lambda *a: tokens.append("read") or token_user(*a))
    assert client.get("/projects").status_code == 200
    assert api.get("/api/me").status_code == 200
    assert sessions == tokens == ["read"]


def test_a_store_that_cannot_be_read_is_still_answered_as_such(web, monkeypatch):
    """Choosing the language meets the unavailable store first; the API call answers with it
    (503, in the language asked for), not with a server error."""
    from workflow.errors import StoreUnavailable

    w = web("collection")
    api = w.api(admin("hefei"))

    def down(*args):
        raise StoreUnavailable("the database cannot be reached")

    monkeypatch.setattr(w.s.engine, "token_user", down)
    r = api.get("/api/me", headers={"Accept-Language": "en"})
    assert r.status_code == 503 and r.json()["message"] == "the database cannot be reached"
