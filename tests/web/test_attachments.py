"""Attachments in the console and the API: the project page's 证明材料, uploads checked by their
content with nothing stored on a refusal, downloads with the right type and a UTF-8 name, the
project's export with every file's hash; and the matrix — every new route, page and API, denied
to another city's users and to a wrong role before the joint stage, with nothing changed."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from tests.conftest import LEAD, admin, applicant, scorer, snapshot
from tests.web.conftest import csrf_of
from tests.workflow.files_samples import EXE, PDF, PNG, XLSM, zip_bomb
from workflow.files import MB, digest

OWN, OTHER = "hefei", "wuhu"


def blobs(w) -> list[Path]:
    path = w.s.store.sqlite_path()
    root = path.with_name(path.name + ".files")
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def upload(client, pid: int, document: str, name: str, data: bytes, referer: bool = True):
    page = client.get(f"/projects/{pid}")
    assert page.status_code == 200
    headers = {"referer": f"http://testserver/projects/{pid}"} if referer else {}
    return client.post(
        f"/projects/{pid}/attachments",
        data={"csrf": csrf_of(page.text), "document": document},
        files={"file": (name, data, "application/octet-stream")},
        headers=headers,
    )


@pytest.fixture
def w(web):
    return web("collection")


def test_the_page_shows_the_declared_documents_and_the_applicant_uploads_two_files(w) -> None:
    pid = w.s.ids[OWN][0]
    me = w.browser(applicant(OWN))
    page = me.get(f"/projects/{pid}").text
    assert 'id="attachments"' in page and "证明材料" in page
    assert "营业执照" in page and "高新技术企业证书" in page and "（必需）" in page
    assert "缺少必需的证明材料：营业执照" in page
    r = upload(me, pid, "business_license", "营业执照.pdf", PDF)
    assert r.status_code == 303 and r.headers["location"] == f"/projects/{pid}#attachments"
    r = upload(me, pid, "high_tech_certificate", "高企证书.png", PNG)
    assert r.status_code == 303
    page = me.get(f"/projects/{pid}").text
    assert "营业执照.pdf" in page and "高企证书.png" in page and "缺少必需的证明材料" not in page
    assert "<td>上传证明材料</td>" in page and "文件：营业执照.pdf" in page  # (the history names the action and file)
    files = w.s.engine.attachments(applicant(OWN), pid)
    got = me.get(f"/projects/{pid}/attachments/{files[0].id}")
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.pdf" in got.headers["content-disposition"]
    assert got.headers["content-disposition"].startswith("attachment;")
    assert [p.name for p in blobs(w)] == sorted([digest(PDF), digest(PNG)])


@pytest.mark.parametrize(
    ("name", "data", "document", "zh"),
    [
        ("营业执照.pdf", EXE, "business_license", "营业执照.pdf是程序，不是文件，不予接受"),
        ("big.pdf", PDF + b"\x00" * (21 * MB), "business_license", "big.pdf大小为21.0 MB，超过单个文件20.0 MB的上限"),
        ("bomb.docx", zip_bomb(), "results_evidence", "bomb.docx解压后将达60.0 MB"),
        ("表.xlsm", XLSM, "results_evidence", "表.xlsm含有宏（VBA代码）"),
        ("空.pdf", b"", "business_license", "空.pdf是空文件"),
        ("证书.png", PNG, "results_evidence", None),  # (accepted: the control case)
    ],
    ids=["exe", "oversized", "zip-bomb", "macro", "empty", "good"],
)
def test_a_refused_upload_comes_back_to_the_page_in_chinese_with_nothing_stored(w, name, data, document, zh) -> None:
    pid = w.s.ids[OWN][0]
    me = w.browser(applicant(OWN))
    before = snapshot(w.s.store)
    r = upload(me, pid, document, name, data)
    assert r.status_code == 303
    page = me.get(r.headers["location"]).text
    if zh is None:
        assert name in page and snapshot(w.s.store)["attachments"] != before["attachments"]
        return
    assert zh in page and "文件有误" in page
    assert snapshot(w.s.store) == before and blobs(w) == []


def test_the_api_lists_uploads_downloads_and_exports(w) -> None:
    pid = w.s.ids[OWN][0]
    api = w.api(applicant(OWN))
    r = api.post(
        f"/api/projects/{pid}/attachments",
        data={"document": "business_license"},
        files={"file": ("营业执照.pdf", PDF, "application/pdf")},
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["sha256"] == digest(PDF) and made["media_type"] == "application/pdf" and made["size"] == len(PDF)
    listed = api.get(f"/api/projects/{pid}/attachments").json()
    assert [a["id"] for a in listed] == [made["id"]]
    got = api.get(f"/api/projects/{pid}/attachments/{made['id']}")
    assert got.content == PDF and got.headers["content-type"] == "application/pdf"
    bad = api.post(
        f"/api/projects/{pid}/attachments", data={"document": "business_license"}, files={"file": ("x.pdf", EXE)}
    )
    assert bad.status_code == 400 and "x.pdf is a program, not a document" in bad.json()["message"]
    export = api.get(f"/api/projects/{pid}/export")
    assert export.status_code == 200 and export.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(export.content)) as z:
        manifest = json.loads(z.read("manifest.json"))
        assert manifest["attachments"][0]["sha256"] == digest(PDF)
        assert z.read(manifest["attachments"][0]["path"]) == PDF
        assert json.loads(z.read("application.json"))["id"] == pid
        assert z.read("SHA256SUMS").decode().startswith(digest(PDF))
    removed = api.delete(f"/api/projects/{pid}/attachments/{made['id']}")
    assert removed.status_code == 200 and api.get(f"/api/projects/{pid}/attachments").json() == []
    spec = w.anonymous().get("/api/openapi.json").json()
    assert "/api/projects/{project_id}/attachments" in spec["paths"]
    assert "/api/projects/{project_id}/export" in spec["paths"]


# ------------------------------------------------------------------------------ the matrix
# every new route: (name, page or API, method, path of (project, attachment), whether it writes)
ROUTES = [
    ("page download", "page", "GET", "/projects/{p}/attachments/{a}"),
    ("page export", "page", "GET", "/projects/{p}/export"),
    ("page upload", "page", "POST", "/projects/{p}/attachments"),
    ("page remove", "page", "POST", "/projects/{p}/attachments/{a}/remove"),
    ("api list", "api", "GET", "/api/projects/{p}/attachments"),
    ("api download", "api", "GET", "/api/projects/{p}/attachments/{a}"),
    ("api upload", "api", "POST", "/api/projects/{p}/attachments"),
    ("api remove", "api", "DELETE", "/api/projects/{p}/attachments/{a}"),
    ("api export", "api", "GET", "/api/projects/{p}/export"),
]
# who must be denied: another city's every role, and the own city's scorer (a wrong role) and
# another applicant of the city (not this project's)
DENIED = [admin(OTHER), scorer(OTHER), applicant(OTHER), scorer(OWN)]


def _caller(w, who: str, kind: str, method: str):
    """The call, made with a client signed in (or holding a token) before the snapshot is taken."""
    if kind == "api":
        client = w.api(who)
        if method == "POST":
            return lambda path: client.post(path, data={"document": "business_license"}, files={"file": ("l.pdf", PDF)})
        return lambda path: client.request(method, path)
    client = w.browser(who)
    if method == "GET":
        return client.get
    csrf = csrf_of(client.get("/").text)

    def post(path: str):
        files = {"file": ("l.pdf", PDF)} if path.endswith("/attachments") else None
        return client.post(path, data={"csrf": csrf, "document": "business_license"}, files=files)

    return post


@pytest.mark.parametrize("who", DENIED)
@pytest.mark.parametrize(("name", "kind", "method", "path"), ROUTES, ids=[r[0] for r in ROUTES])
def test_every_new_route_is_denied_to_another_city_and_a_wrong_role(w, who, name, kind, method, path) -> None:
    pid = w.s.ids[OWN][0]
    a = w.s.engine.attach(applicant(OWN), pid, "business_license", "l.pdf", PDF)
    call = _caller(w, who, kind, method)
    before = snapshot(w.s.store)
    r = call(path.format(p=pid, a=a.id))
    assert r.status_code == 404, (name, who, r.status_code, r.text[:300])
    if kind == "api":
        assert r.json()["message"] == f"No project {pid}."
    assert snapshot(w.s.store) == before
    assert PDF not in r.content


def test_the_lead_reads_but_is_not_permitted_to_upload(w) -> None:
    pid = w.s.ids[OWN][0]
    w.s.engine.attach(applicant(OWN), pid, "business_license", "l.pdf", PDF)
    api = w.api(LEAD)
    page = w.browser(LEAD).get(f"/projects/{pid}").text
    assert len(api.get(f"/api/projects/{pid}/attachments").json()) == 1
    before = snapshot(w.s.store)
    r = api.post(
        f"/api/projects/{pid}/attachments", data={"document": "business_license"}, files={"file": ("x.pdf", PDF)}
    )
    assert r.status_code == 403 and snapshot(w.s.store) == before
    assert 'enctype="multipart/form-data"' not in page  # no upload form for whoever may not attach


def test_every_form_of_the_section_is_refused_without_its_token(w) -> None:
    pid = w.s.ids[OWN][0]
    a = w.s.engine.attach(applicant(OWN), pid, "business_license", "l.pdf", PDF)
    client = w.browser(applicant(OWN))
    before = snapshot(w.s.store)
    for path in (f"/projects/{pid}/attachments", f"/projects/{pid}/attachments/{a.id}/remove"):
        r = client.post(path, data={"csrf": "forged", "document": "business_license"}, files={"file": ("x.pdf", PDF)})
        assert r.status_code == 403, (path, r.status_code)
        assert "页面的安全令牌缺失或已过期" in r.text
    assert snapshot(w.s.store) == before and len(blobs(w)) == 1


def test_the_applicant_removes_a_file_on_the_page(w) -> None:
    pid = w.s.ids[OWN][0]
    a = w.s.engine.attach(applicant(OWN), pid, "business_license", "旧执照.pdf", PDF)
    me = w.browser(applicant(OWN))
    page = me.get(f"/projects/{pid}").text
    r = me.post(f"/projects/{pid}/attachments/{a.id}/remove", data={"csrf": csrf_of(page)})
    assert r.status_code == 303
    page = me.get(r.headers["location"]).text
    assert "已删除旧执照.pdf" in page and "缺少必需的证明材料：营业执照" in page
    assert me.get(f"/projects/{pid}/attachments/{a.id}").status_code == 404


def test_a_version_that_is_no_decimal_number_is_ignored_not_a_server_error(w) -> None:
    # "²" is a digit to str.isdigit but not to int(); the upload goes on without a version check
    pid = w.s.ids[OWN][0]
    me = w.browser(applicant(OWN))
    page = me.get(f"/projects/{pid}").text
    r = me.post(
        f"/projects/{pid}/attachments",
        data={"csrf": csrf_of(page), "document": "business_license", "expected_version": "²"},
        files={"file": ("执照.pdf", PDF, "application/octet-stream")},
        headers={"referer": f"http://testserver/projects/{pid}"},
    )
    assert r.status_code == 303 and [a.file_name for a in w.s.engine.attachments(applicant(OWN), pid)] == ["执照.pdf"]


def test_the_section_reads_in_english_for_an_english_reader(w) -> None:
    pid = w.s.ids[OWN][0]
    page = w.browser(applicant(OWN)).get(f"/projects/{pid}", headers={"accept-language": "en"}).text
    assert "Supporting documents" in page and "Business licence" in page
    assert "Required documents missing: Business licence" in page
