"""/api/docs without third-party scripts: Swagger UI's files come from this server, the page is
started by a script file of its own (no inline script), and it carries the console's
Content-Security-Policy, which allows scripts, styles and connections to 'self' only. In a real
browser the page renders the API's operations and asks no other host."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from store.sql import SqlStore
from tests.web.browser import Server
from web.app import create_app

CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"


def _client() -> TestClient:
    return TestClient(create_app(None), base_url="http://testserver", follow_redirects=False)


def test_the_docs_page_names_no_other_host_and_carries_the_csp() -> None:
    client = _client()
    r = client.get("/api/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == CSP
    assert "unsafe" not in r.headers["content-security-policy"]
    page = r.text
    assert "://" not in page and "//cdn" not in page  # no other host, not even protocol-relative
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all('src="/' in attrs and not body.strip() for attrs, body in scripts)  # no inline script
    # every file the page names is this server's, and is there
    named = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert len(named) == 4
    for url in named:
        assert url.startswith("/") and not url.startswith("//"), url
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert answer.headers["content-security-policy"] == CSP
    assert "SwaggerUIBundle" in client.get("/api/docs/assets/swagger-ui-bundle.js").text


def test_the_openapi_document_still_loads() -> None:
    client = _client()
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    document = r.json()
    assert document["openapi"].startswith("3.") and document["info"]["title"] == "evalflow"
    assert "/api/users/{name}/unlock" in document["paths"]
    assert "/api/docs" not in document["paths"]
    # FastAPI's own page and its helper are gone (the page above replaces them)
    assert client.get("/docs/oauth2-redirect").status_code == 404


def test_the_docs_page_renders_in_a_browser_from_this_server_only(chromium, artifacts, tmp_path: Path) -> None:
    db = tmp_path / "evalflow.db"
    store = SqlStore(f"sqlite:///{db}")
    store.create()
    store.dispose()
    server = Server(db, tmp_path / "serve.log")
    server.start("2027-01-05T09:00")
    try:
        ctx = chromium.new_context(viewport={"width": 1366, "height": 900})
        page = ctx.new_page()
        asked: list[str] = []
        complaints: list[str] = []
        page.on("request", lambda req: asked.append(req.url))
        page.on("console", lambda msg: complaints.append(msg.text) if msg.type == "error" else None)
        page.goto(f"{server.base}/api/docs")
        page.wait_for_selector(".opblock-summary", timeout=30_000)  # the operations, drawn from the document
        page.locator(".opblock-summary").first.click()  # an operation opened: its responses and schemas
        page.wait_for_selector(".responses-table")
        page.screenshot(path=str(artifacts / "api-docs-1366.png"))
        assert page.locator(".opblock").count() > 20
        assert "evalflow" in page.locator(".info .title").inner_text()
        ctx.close()
    finally:
        server.stop()
    own = urlsplit(server.base).netloc
    assert {urlsplit(u).netloc for u in asked if not u.startswith("data:")} == {own}
    assert not [c for c in complaints if "Content Security Policy" in c or "Refused" in c], complaints
