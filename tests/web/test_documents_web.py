"""The results' documents on the console (/documents, a project page's 文书) and through the API, on
the prebuilt cycle published: the page names what there is in Chinese, each link gives its file
(a PDF with the project's name in it, a Word file, a zip), and each user has only their own;
before a publication the page says why; nothing is saved by any of it."""

from __future__ import annotations

import io
import zipfile

from tests.conftest import LEAD, admin, applicant, scorer, snapshot
from tests.workflow.test_documents import docx_text, flat, pdf_text_and_fonts

CYCLE = "g60-2027"


def test_the_documents_page_and_its_files(web) -> None:
    w = web("published")
    before = snapshot(w.s.store)
    client = w.browser(LEAD)
    page = client.get(f"/documents?cycle={CYCLE}").text
    assert "文书 · g60-2027" in page and "第 1 版名单于 2027-06-12" in page and "发文单位：松江区委组织部。" in page
    assert f'href="/documents/{CYCLE}/notice.pdf"' in page and 'id="zip-pdf"' in page
    top = w.s.high[0]
    assert f'href="/projects/{top}/documents/certificate.pdf"' in page
    assert page.count("/documents/letter.pdf") == 45  # (every project ranked: a letter each)
    notice = client.get(f"/documents/{CYCLE}/notice.pdf")
    assert notice.status_code == 200 and notice.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''g60-2027-%E5%85%AC%E7%A4%BA.pdf" in notice.headers["content-disposition"]
    name = w.s.engine.outcome(LEAD).of(top).title
    letter = client.get(f"/projects/{top}/documents/letter.pdf")
    assert flat(name) in flat(pdf_text_and_fonts(letter.content)[0])
    cert = client.get(f"/projects/{top}/documents/certificate.docx")
    assert cert.status_code == 200 and name in docx_text(cert.content)
    project = client.get(f"/projects/{top}").text
    assert 'id="project-documents"' in project and f"/projects/{top}/documents/certificate.pdf" in project
    assert snapshot(w.s.store) == before


def test_each_user_has_their_own(web) -> None:
    w = web("published")
    before = snapshot(w.s.store)
    hefei, wuhu = w.s.demos["hefei"][0], w.s.demos["wuhu"][0]
    city = w.browser(admin("hefei"))
    page = city.get(f"/documents?cycle={CYCLE}").text
    assert page.count("/documents/letter.pdf") == 5 and "（本市项目。）" in page
    zipped = city.get(f"/documents/{CYCLE}/all.zip?format=docx")
    names = zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
    assert sum(n.startswith("评审结果通知书/") for n in names) == 5
    assert city.get(f"/projects/{wuhu}/documents/letter.pdf").status_code == 404  # (not its city's)
    mine = w.browser(applicant("hefei"))
    assert mine.get(f"/projects/{hefei}/documents/letter.docx").status_code == 200
    judge = w.browser(scorer("hefei"))
    page = judge.get(f"/documents?cycle={CYCLE}").text
    assert f'href="/documents/{CYCLE}/list.pdf"' in page and 'id="zip-pdf"' not in page and "letter.pdf" not in page
    assert judge.get(f"/documents/{CYCLE}/all.zip").status_code == 403
    assert city.get(f"/documents/{CYCLE}/notice.txt").status_code == 400
    for huge in (2**31, int("9" * 19)):  # (past the database's column: invalid, never a 500)
        assert city.get(f"/projects/{huge}/documents/letter.pdf").status_code == 400
    assert snapshot(w.s.store) == before


def test_before_the_publication_the_page_says_why(web) -> None:
    w = web("confirmed")
    client = w.browser(LEAD)
    page = client.get(f"/documents?cycle={CYCLE}").text
    assert "名单公布后，可在此生成公示、正式名单" in page and "评选周期 g60-2027 尚未公布名单" in page
    refused = client.get(f"/documents/{CYCLE}/notice.pdf")
    assert refused.status_code == 422 and "尚未公布名单" in refused.text


def test_the_api_gives_each_document(web) -> None:
    w = web("published")
    api, city = w.api(LEAD), w.api(admin("hefei"))
    before = snapshot(w.s.store)
    got = api.get(f"/api/cycles/{CYCLE}/documents/list", params={"format": "docx"})
    assert got.status_code == 200 and "G60深度融合示范项目" in docx_text(got.content)
    top = w.s.high[0]
    assert api.get(f"/api/projects/{top}/documents/certificate").content[:5] == b"%PDF-"
    both = api.get(f"/api/cycles/{CYCLE}/documents", params={"format": ["pdf", "docx"]})
    names = zipfile.ZipFile(io.BytesIO(both.content)).namelist()
    assert {n.rsplit(".", 1)[1] for n in names} == {"pdf", "docx"}
    assert api.get(f"/api/cycles/{CYCLE}/documents/poster").status_code == 400  # (no such document)
    assert city.get(f"/api/projects/{w.s.demos['wuhu'][0]}/documents/letter").status_code == 404
    assert snapshot(w.s.store) == before


def test_the_bundle_on_the_console_and_the_api_verifies(at_stage) -> None:
    from tests.web.conftest import Web
    from tests.workflow.test_publication_bundle import KEY, published
    from web.app import create_app
    from workflow.publication import verify_bundle
    from workflow.signing import fingerprint

    s = published(at_stage)
    w = Web(s, create_app(s.engine))
    page = w.browser(admin("hefei")).get(f"/documents?cycle={CYCLE}").text
    assert 'href="/documents/g60-2027/bundle.json"' in page and "人人可核验的名单" in page
    got = w.browser(applicant("wuhu")).get(f"/documents/{CYCLE}/bundle.json")
    assert got.status_code == 200 and verify_bundle(got.content, fingerprint(KEY.public_key())).ok
    api = w.api(scorer("hefei")).get(f"/api/cycles/{CYCLE}/list/bundle")
    assert api.content == got.content
