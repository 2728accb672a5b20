"""Uploads on the console and the API: a city's 附件1 workbook (a dry run lists every row's
verdict and imports nothing; then all or nothing, in the background, with its progress) and a
scorer's 附件2 sheet (a check, then all or nothing). Every refusal is checked for its words and
for leaving the database unchanged; every new route for another city's and a wrong role's users."""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

import openpyxl
import pytest

from sheets.applications import flat_row, team_rows, write_template
from tests.conftest import FORM, LEAD, admin, applicant, make_app, scorer, sh, snapshot
from tests.web.conftest import csrf_of

CYCLE = "g60-2027"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(path: Path, apps: list[dict], change: dict[int, tuple[int, object]] | None = None) -> Path:
    """A 附件1 workbook of ``apps`` (the program's own template); ``change``: {row index: (column, value)}."""
    write_template(path, FORM)
    wb = openpyxl.load_workbook(path)
    for i, app in enumerate(apps, start=1):
        row = flat_row(FORM, app, i)
        if change and i in change:
            row[change[i][0]] = change[i][1]
        wb["申报表"].append(row)
        for member in team_rows(FORM, app, i):
            wb["团队成员"].append(member)
    wb.save(path)
    return path


def hefei_apps(n: int, start: int = 1000) -> list[dict]:
    return [make_app("hefei", start + i) for i in range(n)]


def upload(client, path: Path, url: str = "/import", page: str = "/import") -> object:
    csrf = csrf_of(client.get(f"{page}?cycle={CYCLE}").text)
    with path.open("rb") as f:
        return client.post(
            url,
            data={"csrf": csrf, "cycle": CYCLE},
            files={"file": (path.name, f, XLSX)},
            headers={"referer": f"http://testserver{page}?cycle={CYCLE}"},
        )


def finished(client, url: str) -> str:
    """The page of a background job once it is done (the page asks to be refreshed until then)."""
    for _ in range(1200):
        r = client.get(url)
        assert r.status_code == 200, r.text
        if "refresh" not in r.headers:
            return r.text
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def verdicts(html: str) -> list[tuple[str, str]]:
    """(row, verdict) of each row of the dry run's table."""
    body = html.split('id="rows"')[1].split("</table>")[0]
    cells = r'<tr class="verdict-\w+"><td>(.*?)</td><td>.*?</td><td>.*?</td>\s*<td>(.*?)</td></tr>'
    return [(row, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", v)).strip()) for row, v in re.findall(cells, body, re.S)]


def english(client):
    """The client reads the console in English (the console's default is Chinese)."""
    client.headers["accept-language"] = "en"
    return client


def count(w, city: str = "hefei") -> int:
    return len(w.s.engine.projects(LEAD, CYCLE, city=city, with_application=False))


@pytest.fixture(autouse=True)
def _uploads_in_tmp(tmp_path: Path, monkeypatch) -> None:
    """The uploads kept between steps go to the test's own folder (the server's temporary folder)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()


@pytest.fixture
def collection(web):
    w = web("collection")
    w.s.clock.set(sh(1, 20))
    return w


# ------------------------------------------------------------------------------------------ 附件1
def test_a_200_row_workbook_is_checked_row_by_row_then_imported_whole(collection, tmp_path: Path) -> None:
    w = collection
    path = workbook(tmp_path / "合肥.xlsx", hefei_apps(200))
    client = english(w.browser(admin("hefei")))
    before, n = snapshot(w.s.store), count(w)
    r = upload(client, path)
    assert r.status_code == 303 and r.headers["location"].startswith("/import/")
    status = r.headers["location"]
    page = finished(client, status)
    rows = verdicts(page)
    assert len(rows) == 200 and all(v == "would be imported" for _, v in rows)
    assert rows[0][0] == "申报表 row 2 (申报序号 1)" and rows[-1][0] == "申报表 row 201 (申报序号 200)"
    assert "Checked 200 applications: 200 would be imported, 0 already imported, 0 refused." in page
    assert snapshot(w.s.store) == before  # a dry run imports nothing
    # the rows in Chinese, with their project and unit
    client.headers["accept-language"] = "zh-CN"
    zh = client.get(status).text
    assert "第2行" in zh and "将导入" in zh and hefei_apps(1)[0]["project"]["name"] in zh
    # import all: in the background, then the result
    r = client.post(f"{status}/run", data={"csrf": csrf_of(page)})
    assert r.status_code == 303
    done = finished(client, status)
    assert count(w) == n + 200
    assert re.search(r"导入.*200", done), done
    # the file is gone: the same upload cannot be imported twice
    assert client.post(f"{status}/run", data={"csrf": csrf_of(page)}).status_code == 404


def test_importing_again_says_already_there(collection, tmp_path: Path) -> None:
    w = collection
    path = workbook(tmp_path / "合肥.xlsx", hefei_apps(3))
    client = english(w.browser(admin("hefei")))
    status = upload(client, path).headers["location"]
    page = finished(client, status)
    client.post(f"{status}/run", data={"csrf": csrf_of(page)})
    finished(client, status)
    page = finished(client, upload(client, path).headers["location"])
    assert [v for _, v in verdicts(page)] == [
        v for v in [v for _, v in verdicts(page)] if "already imported as project" in v
    ]
    assert "Import all" not in page


def test_a_bad_row_refuses_the_whole_file_naming_the_row(collection, tmp_path: Path) -> None:
    w = collection
    party_members = next(i for i, f in enumerate(FORM.fields, start=1) if f.zh == "党员数")
    path = workbook(tmp_path / "合肥.xlsx", hefei_apps(5), change={4: (party_members, "约十人")})
    client = english(w.browser(admin("hefei")))
    before = snapshot(w.s.store)
    status = upload(client, path).headers["location"]
    page = finished(client, status)
    assert "The file is refused; nothing was imported" in page
    assert "[申报表 row 5 党员数] &#39;约十人&#39; is not a whole number" in page
    assert "Import all" not in page
    assert snapshot(w.s.store) == before
    client.headers["accept-language"] = "zh-CN"
    zh = client.get(status).text
    assert "文件未通过检查，未导入任何申报" in zh and "[申报表 第5行 党员数]" in zh


def test_another_citys_rows_are_refused_for_a_city_administrator(collection, tmp_path: Path) -> None:
    w = collection
    apps = [*hefei_apps(3), make_app("jiaxing", 2001)]
    path = workbook(tmp_path / "混合.xlsx", apps)
    client = english(w.browser(admin("hefei")))
    before = snapshot(w.s.store)
    status = upload(client, path).headers["location"]
    page = finished(client, status)
    rows = verdicts(page)
    assert [v for _, v in rows[:3]] == ["no problem in this row"] * 3
    assert rows[3][0].startswith("申报表 row 5") and "not permitted" in rows[3][1] and "hefei-admin" in rows[3][1]
    assert "1 refused" in page and "Import all" not in page
    # posted anyway: the engine refuses it all, with the CLI's words
    r = client.post(f"{status}/run", data={"csrf": csrf_of(page)})
    done = finished(client, r.headers["location"])
    assert "Nothing was imported" in done and "not permitted" in done and "row 5" in done
    assert snapshot(w.s.store) == before


def test_a_file_of_the_wrong_kind_or_too_large_is_refused_in_chinese(collection, tmp_path: Path, monkeypatch) -> None:
    w = collection
    client = w.browser(admin("hefei"))  # (in Chinese, the console's own language)
    before = snapshot(w.s.store)
    exe = tmp_path / "申报.exe"
    exe.write_bytes(b"MZ" + b"\0" * 100)
    r = upload(client, exe)
    assert r.status_code == 303 and r.headers["location"] == f"/import?cycle={CYCLE}"
    page = client.get(r.headers["location"]).text
    assert "不能读取 .exe 文件" in page
    monkeypatch.setenv("EVALFLOW_MAX_IMPORT_MB", "0.01")
    big = workbook(tmp_path / "大.xlsx", hefei_apps(10))
    page = client.get(upload(client, big).headers["location"]).text
    assert "超过 0.01 MB" in page
    assert snapshot(w.s.store) == before


def test_progress_is_shown_while_the_import_runs(collection, tmp_path: Path) -> None:
    from web.uploads import Job

    w = collection
    client = english(w.browser(admin("hefei")))
    path = workbook(tmp_path / "合肥.xlsx", hefei_apps(2))
    status = upload(client, path).headers["location"]
    finished(client, status)
    jobs = w.app.state.upload_jobs  # type: ignore[attr-defined]
    key = status.rsplit("/", 1)[1]
    session = next(iter(jobs.jobs.values())).owner
    jobs.jobs[key] = Job("import", session, CYCLE, total=200, done=57)
    r = client.get(status)
    assert r.headers["refresh"] == "1" and "Importing: 57 of 200 rows" in r.text


# ------------------------------------------------------------------------------------------ 附件2
def test_a_scorers_sheet_is_checked_then_recorded(web, tmp_path: Path) -> None:
    from tests.sheets.test_score_import import fill, sheet_for

    w = web("joint_scoring")
    client = english(w.browser(scorer("hefei")))
    template = tmp_path / "t.xlsx"
    r = client.get(f"/download/scores?cycle={CYCLE}")
    assert r.status_code == 200
    template.write_bytes(r.content)
    first, second = w.s.shortlist[:2]
    path = fill(
        w.s, template, tmp_path / "合肥评分.xlsx", {first: (sheet_for(1), "已完成"), second: (sheet_for(2), None)}
    )
    before = snapshot(w.s.store)
    r = upload(client, path, "/scores/import", "/scores/import")
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"]).text
    assert "2 filled rows would be recorded" in page and f"project {first}" in page
    assert snapshot(w.s.store) == before  # the check records nothing
    r = client.post(f"{r.headers['location']}/record", data={"csrf": csrf_of(page)})
    assert r.status_code == 303 and r.headers["location"] == f"/queue?cycle={CYCLE}"
    assert {first, second} <= w.s.engine.scored(scorer("hefei"), CYCLE)["hefei"]


def test_a_sheet_with_a_score_outside_the_bands_records_nothing(web, tmp_path: Path) -> None:
    from tests.sheets.test_score_import import fill, sheet_for

    w = web("joint_scoring")
    client = english(w.browser(scorer("hefei")))
    template = tmp_path / "t.xlsx"
    template.write_bytes(client.get(f"/download/scores?cycle={CYCLE}").content)
    first, second = w.s.shortlist[:2]
    wrong = {**sheet_for(2), "value": 11}
    path = fill(w.s, template, tmp_path / "合肥评分.xlsx", {first: (sheet_for(1), None), second: (wrong, None)})
    before = snapshot(w.s.store)
    check = upload(client, path, "/scores/import", "/scores/import").headers["location"]
    page = client.get(check).text
    assert "not in a band" in page
    r = client.post(f"{check}/record", data={"csrf": csrf_of(page)}, headers={"referer": f"http://testserver{check}"})
    shown = client.get(r.headers["location"]).text
    assert "score_in_bands" in shown or "band" in shown
    assert snapshot(w.s.store) == before


# ------------------------------------------------------------------------------------------ who may
PAGES = ["/import", "/scores/import", "/queue"]


@pytest.mark.parametrize(
    ("user", "path", "status"),
    [
        (applicant("hefei"), "/import", 403),
        (scorer("hefei"), "/import", 403),
        (applicant("hefei"), "/scores/import", 403),
        (admin("hefei"), "/scores/import", 403),
        (LEAD, "/scores/import", 403),
        (applicant("hefei"), "/queue", 403),
        (scorer("hefei"), "/queue?city=jiaxing", 403),
        (admin("hefei"), "/queue?city=jiaxing", 403),
        (admin("hefei"), "/import", 200),
        (LEAD, "/import", 200),
        (scorer("hefei"), "/scores/import", 200),
        (scorer("hefei"), "/queue", 200),
        (LEAD, "/queue?city=jiaxing", 200),
    ],
    ids=lambda v: str(v),
)
def test_who_may_open_each_page(web, user: str, path: str, status: int) -> None:
    w = web("joint_scoring")
    sep = "&" if "?" in path else "?"
    assert w.browser(user).get(f"{path}{sep}cycle={CYCLE}").status_code == status


def test_anyone_elses_upload_is_not_found(collection, tmp_path: Path) -> None:
    w = collection
    path = workbook(tmp_path / "合肥.xlsx", hefei_apps(2))
    owner = english(w.browser(admin("hefei")))
    status = upload(owner, path).headers["location"]
    page = finished(owner, status)
    before = snapshot(w.s.store)
    for other in (admin("jiaxing"), LEAD, applicant("hefei"), admin("hefei")):  # the last: another session
        client = w.browser(other)
        csrf = csrf_of(client.get("/").text)
        assert client.get(status).status_code == 404
        assert client.post(f"{status}/run", data={"csrf": csrf}).status_code == 404
    assert owner.post(f"{status}/run", data={"csrf": csrf_of(page)}).status_code == 303
    finished(owner, status)
    assert snapshot(w.s.store) != before


def test_uploads_and_the_queue_need_a_session_and_a_token(web) -> None:
    w = web("joint_scoring")
    anon = w.anonymous()
    for path in (*PAGES, "/import/x" * 1, "/queue/next"):
        r = anon.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    for method, path in (
        ("POST", f"/api/cycles/{CYCLE}/applications/import"),
        ("POST", f"/api/cycles/{CYCLE}/scores/import"),
        ("GET", f"/api/cycles/{CYCLE}/queue"),
    ):
        assert anon.request(method, path).status_code == 401


# ------------------------------------------------------------------------------------------ the API
def test_the_api_dry_runs_and_imports_a_workbook(collection, tmp_path: Path) -> None:
    w = collection
    path = workbook(tmp_path / "合肥.xlsx", hefei_apps(4))
    api = w.api(admin("hefei"))
    before, n = snapshot(w.s.store), count(w)
    url = f"/api/cycles/{CYCLE}/applications/import"
    with path.open("rb") as f:
        r = api.post(url, files={"file": (path.name, f, XLSX)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dry_run"] and body["count"] == body["new"] == 4 and len(body["rows"]) == 4
    assert snapshot(w.s.store) == before
    with path.open("rb") as f:
        r = api.post(url, files={"file": (path.name, f, XLSX)}, data={"dry_run": "false"})
    assert r.status_code == 200 and len(r.json()["created"]) == 4 and count(w) == n + 4
    # a scorer, an applicant: not permitted, nothing done
    others = {user: w.api(user) for user in (scorer("hefei"), applicant("hefei"), admin("jiaxing"))}
    before = snapshot(w.s.store)
    for user in (scorer("hefei"), applicant("hefei")):
        with path.open("rb") as f:
            assert others[user].post(url, files={"file": (path.name, f, XLSX)}).status_code == 403
    # another city's administrator: every row refused, nothing done
    with path.open("rb") as f:
        r = others[admin("jiaxing")].post(url, files={"file": (path.name, f, XLSX)}, data={"dry_run": "false"})
    assert r.status_code == 400 and "nothing was imported" in r.json()["message"]
    assert snapshot(w.s.store) == before


def test_the_api_checks_and_records_a_sheet_and_lists_the_queue(web, tmp_path: Path) -> None:
    from tests.sheets.test_score_import import fill, sheet_for

    w = web("joint_scoring")
    api = w.api(scorer("hefei"))
    queue = api.get(f"/api/cycles/{CYCLE}/queue").json()
    assert queue["scoring"] and queue["left"] == queue["total"] == len(w.s.shortlist)
    template = tmp_path / "t.xlsx"
    template.write_bytes(api.get(f"/api/cycles/{CYCLE}/templates/scores").content)
    first = w.s.shortlist[0]
    path = fill(w.s, template, tmp_path / "s.xlsx", {first: (sheet_for(1), None)})
    url = f"/api/cycles/{CYCLE}/scores/import"
    with path.open("rb") as f:
        checked = api.post(url, files={"file": (path.name, f, XLSX)}).json()
    assert not checked["recorded"] and checked["count"] == 1 and checked["rows"][0]["project_id"] == first
    others = {user: w.api(user) for user in (admin("hefei"), applicant("hefei"), LEAD, scorer("jiaxing"))}
    before = snapshot(w.s.store)
    for user in (admin("hefei"), applicant("hefei"), LEAD):
        with path.open("rb") as f:
            r = others[user].post(url, files={"file": (path.name, f, XLSX)}, data={"record": "true"})
            assert r.status_code == 403
    with path.open("rb") as f:  # another city's scorer: the sheet is hefei's
        r = others[scorer("jiaxing")].post(url, files={"file": (path.name, f, XLSX)}, data={"record": "true"})
    assert r.status_code == 400 and "scores for" in r.json()["message"]
    assert snapshot(w.s.store) == before
    with path.open("rb") as f:
        assert api.post(url, files={"file": (path.name, f, XLSX)}, data={"record": "true"}).json()["recorded"]
    after = api.get(f"/api/cycles/{CYCLE}/queue").json()
    assert after["left"] == queue["left"] - 1 and first not in [p["id"] for p in after["projects"]]
    assert w.api(applicant("hefei")).get(f"/api/cycles/{CYCLE}/queue").status_code == 403
    assert w.api(scorer("jiaxing")).get(f"/api/cycles/{CYCLE}/queue?city=hefei").status_code == 403
    assert w.api(LEAD).get(f"/api/cycles/{CYCLE}/queue").json()["parties"]["hefei"] == queue["left"] - 1


@pytest.mark.parametrize(
    ("user", "page"),
    [
        (scorer("hefei"), "/import"),
        (applicant("hefei"), "/import"),
        (admin("hefei"), "/scores/import"),
        (applicant("hefei"), "/scores/import"),
        (LEAD, "/scores/import"),
    ],
    ids=lambda v: str(v),
)
def test_a_wrong_role_uploads_nothing(web, tmp_path: Path, user: str, page: str) -> None:
    w = web("joint_scoring")
    path = workbook(tmp_path / "合肥.xlsx", hefei_apps(2))
    client = english(w.browser(user))
    csrf = csrf_of(client.get("/").text)
    before = snapshot(w.s.store)
    with path.open("rb") as f:
        r = client.post(page, data={"csrf": csrf, "cycle": CYCLE}, files={"file": (path.name, f, XLSX)})
    assert r.status_code == 403 and "Not permitted to upload" in r.text
    assert snapshot(w.s.store) == before


def test_a_refused_workbooks_problems_read_in_chinese_on_the_console(collection, tmp_path: Path) -> None:
    """A formula, a date that is not one and a repeated 申报序号, each named by its row in Chinese,
    then in English word for word; a missing column likewise; nothing is imported."""
    import html

    from sheets.applications import application_columns

    w = collection
    columns = application_columns(FORM)
    path = workbook(
        tmp_path / "附件1.xlsx",
        hefei_apps(2),
        change={1: (columns.index("项目启动时间"), "明年"), 2: (columns.index("党员数"), "=1+1")},
    )
    wb = openpyxl.load_workbook(path)
    wb["申报表"].append(flat_row(FORM, make_app("hefei", 1900), 1))  # row 4: 申报序号 1 again
    wb.save(path)
    missing = tmp_path / "缺列.xlsx"
    wb = openpyxl.load_workbook(path)
    wb["申报表"].delete_cols(columns.index("党员数") + 1)
    wb.save(missing)
    client = w.browser(admin("hefei"))
    client.headers["accept-language"] = "zh-CN"
    before = snapshot(w.s.store)
    status = upload(client, path).headers["location"]
    zh = html.unescape(finished(client, status))
    assert "[申报表 第4行] 申报序号 1 重复使用（第2行和第4行）" in zh
    assert "[申报表 第2行 项目启动时间] “明年”不是有效日期（日期格式 YYYY-MM-DD）" in zh
    assert "[申报表 第3行 党员数] 含有公式（=1+1），请直接填写数值本身" in zh
    assert " row " not in zh and "formula" not in zh
    en = html.unescape(english(client).get(status).text)
    assert "[申报表 row 4] 申报序号 1 is used twice (rows 2 and 4)" in en
    assert "[申报表 row 2 项目启动时间] '明年' is not a date (YYYY-MM-DD)" in en
    assert "[申报表 row 3 党员数] holds a formula (=1+1); enter the value itself" in en
    client.headers["accept-language"] = "zh-CN"
    status = upload(client, missing).headers["location"]
    assert "[申报表] 缺少列：党员数" in html.unescape(finished(client, status))
    assert "[申报表] missing columns: 党员数" in html.unescape(english(client).get(status).text)
    assert snapshot(w.s.store) == before


def test_a_file_named_like_the_uploads_own_notes_is_kept_as_uploaded(tmp_path: Path) -> None:
    """A file called upload.json is the user's file, not the note kept beside it (which would
    otherwise overwrite it, and the import then read the note as applications)."""
    import asyncio
    import io
    from concurrent.futures import ThreadPoolExecutor

    from fastapi import UploadFile

    from web.uploads import SUFFIXES, UploadBox

    box = UploadBox(tmp_path / "box")
    body = b'[{"applications": "the user\'s own"}]'
    saving = box.save(UploadFile(io.BytesIO(body), filename="upload.json"), "applications", CYCLE, "s", "u", SUFFIXES)
    # (in a thread of its own: the browser tests' one chromium keeps an event loop in this one)
    with ThreadPoolExecutor(1) as thread:
        up = thread.submit(asyncio.run, saving).result()
    again = box.get(up.id, "s", "applications")
    assert again.name == "upload.json" and again.path.read_bytes() == body
