"""Attachments through the engine's door: who may attach and read, what a refusal leaves (nothing),
one blob per content, the audit entry's hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.blobs import FolderBlobs, TableBlobs
from tests.conftest import admin, applicant, scorer, snapshot
from tests.workflow.files_samples import DOCX, EXE, PDF, PNG, XLSM, zip_bomb
from workflow.errors import InvalidInput, NotFound, NotPermitted, RuleRefused
from workflow.files import MB, digest


def blob_files(store) -> list[Path]:
    root = store.sqlite_path().with_name(store.sqlite_path().name + ".files")
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def s(at_stage):
    return at_stage("collection")


def test_the_applicant_attaches_a_pdf_and_a_png_each_kept_once_by_its_hash(s) -> None:
    pid = s.ids["hefei"][0]
    who = applicant("hefei")
    a = s.engine.attach(who, pid, "business_license", "营业执照.pdf", PDF)
    b = s.engine.attach(who, pid, "high_tech_certificate", "证书.png", PNG)
    c = s.engine.attach(who, pid, "municipal_recognition", "同一份.pdf", PDF)  # the same bytes again
    assert (a.media_type, b.media_type) == ("application/pdf", "image/png")
    listed = s.engine.attachments(who, pid)
    assert [x.id for x in listed] == [a.id, b.id, c.id]
    assert [p.name for p in blob_files(s.store)] == sorted([digest(PDF), digest(PNG)])  # one blob per content
    assert blob_files(s.store)[0].parent.name == blob_files(s.store)[0].name[:2]
    found, data = s.engine.attachment_content(who, pid, b.id)
    assert data == PNG and found.file_name == "证书.png"
    assert [(x.id, d) for x, d in s.engine.attachment_contents(who, pid)] == [(a.id, PDF), (b.id, PNG), (c.id, PDF)]
    _, _, history = s.engine.project(who, pid)
    entry = next(e for e in history if e.action == "attach" and e.data["attachment"] == a.id)
    assert entry.data["sha256"] == digest(PDF) and entry.data["size"] == len(PDF)
    assert entry.data["file_name"] == "营业执照.pdf" and entry.data["document"] == "business_license"
    assert entry.actor == who


def test_the_city_admin_attaches_for_its_own_city(s) -> None:
    pid = s.ids["hefei"][0]
    s.engine.attach(admin("hefei"), pid, "business_license", "l.pdf", PDF)
    assert len(s.engine.attachments(admin("hefei"), pid)) == 1
    assert len(s.engine.attachments(applicant("hefei"), pid)) == 1


@pytest.mark.parametrize(
    ("name", "data", "document", "zh"),
    [
        ("营业执照.pdf", EXE, "business_license", "营业执照.pdf是程序，不是文件"),
        ("big.pdf", PDF + b"\x00" * (21 * MB), "business_license", "big.pdf大小为21.0 MB，超过单个文件20.0 MB的上限"),
        ("bomb.docx", zip_bomb(), "results_evidence", "bomb.docx解压后将达60.0 MB"),
        ("成效.xlsm", XLSM, "results_evidence", "成效.xlsm含有宏（VBA代码）"),
        (
            "执照.docx",
            DOCX,
            "business_license",
            "执照.docx是DOCX文档，营业执照只接受PDF文件、JPEG图片、PNG图片",
        ),
    ],
    ids=["exe", "oversized", "zip-bomb", "macro", "wrong-type"],
)
def test_a_bad_upload_is_refused_in_chinese_and_nothing_is_stored(s, name, data, document, zh) -> None:
    pid = s.ids["hefei"][0]
    before = snapshot(s.store)
    with pytest.raises(InvalidInput) as err:
        s.engine.attach(applicant("hefei"), pid, document, name, data)
    assert zh in err.value.render("zh_CN")
    assert snapshot(s.store) == before  # no row, no audit entry
    assert blob_files(s.store) == []  # no blob


def test_an_undeclared_document_is_refused(s) -> None:
    with pytest.raises(InvalidInput) as err:
        s.engine.attach(applicant("hefei"), s.ids["hefei"][0], "passport", "p.pdf", PDF)
    assert "declares no document 'passport'" in err.value.render("en")


def test_another_citys_admin_finds_no_such_project_before_the_joint_stage(s) -> None:
    pid = s.ids["hefei"][0]
    a = s.engine.attach(applicant("hefei"), pid, "business_license", "l.pdf", PDF)
    before = snapshot(s.store)
    for who in (admin("wuhu"), applicant("wuhu"), scorer("hefei"), scorer("wuhu")):
        with pytest.raises(NotFound):
            s.engine.attachments(who, pid)
        with pytest.raises(NotFound):
            s.engine.attachment_content(who, pid, a.id)
        with pytest.raises(NotFound):
            s.engine.attachment_contents(who, pid)
        with pytest.raises(NotFound):
            s.engine.attach(who, pid, "business_license", "l.pdf", PDF)
    assert snapshot(s.store) == before


def test_an_attachment_of_another_project_is_not_found_through_this_one(s) -> None:
    mine, other = s.ids["hefei"][0], s.ids["hefei"][1]
    a = s.engine.attach(admin("hefei"), other, "business_license", "l.pdf", PDF)
    with pytest.raises(NotFound):
        s.engine.attachment_content(admin("hefei"), mine, a.id)


def test_the_lead_reads_but_may_not_attach(s) -> None:
    pid = s.ids["hefei"][0]
    s.engine.attach(applicant("hefei"), pid, "business_license", "l.pdf", PDF)
    assert len(s.engine.attachments("lead", pid)) == 1
    listed, may = s.engine.attachments_and_may_attach("lead", pid)
    assert [a.file_name for a in listed] == ["l.pdf"] and may is False
    assert s.engine.attachments_and_may_attach(applicant("hefei"), pid)[1] is True
    before = snapshot(s.store)
    with pytest.raises(NotPermitted):
        s.engine.attach("lead", pid, "business_license", "l.pdf", PDF)
    assert snapshot(s.store) == before


def test_documents_are_attached_only_while_the_project_awaits_its_first_decision(at_stage) -> None:
    s = at_stage("municipal_review")
    pid = s.ids["hefei"][0]
    before = snapshot(s.store)
    with pytest.raises(RuleRefused) as err:
        s.engine.attach(admin("hefei"), pid, "business_license", "l.pdf", PDF)
    assert err.value.rules == ["attach_state"]
    assert s.engine.attachments_and_may_attach(admin("hefei"), pid) == ([], False)
    assert "is 'in_library'; documents are attached only while it awaits its first decision" in err.value.render("en")
    assert snapshot(s.store) == before and blob_files(s.store) == []


def test_a_removed_attachment_is_kept_but_no_longer_listed(s) -> None:
    pid = s.ids["hefei"][0]
    a = s.engine.attach(applicant("hefei"), pid, "business_license", "l.pdf", PDF)
    s.engine.remove_attachment(applicant("hefei"), pid, a.id)
    assert s.engine.attachments(applicant("hefei"), pid) == []
    assert s.engine.attachment_contents(applicant("hefei"), pid) == []
    with pytest.raises(NotFound):
        s.engine.attachment_content(applicant("hefei"), pid, a.id)
    _, _, history = s.engine.project("lead", pid)
    assert [e.action for e in history if e.action in ("attach", "remove_attachment")] == ["attach", "remove_attachment"]


def test_the_database_keeps_the_contents_once_when_told_to(s) -> None:
    s.store._blobs = TableBlobs()
    pid = s.ids["hefei"][0]
    s.engine.attach(applicant("hefei"), pid, "business_license", "a.pdf", PDF)
    s.engine.attach(applicant("hefei"), pid, "municipal_recognition", "b.pdf", PDF)
    rows = snapshot(s.store)["blobs"]
    assert [r[0] for r in rows] == [digest(PDF)] and bytes(rows[0][2]) == PDF
    assert blob_files(s.store) == []
    assert s.engine.attachment_content(applicant("hefei"), pid, 1)[1] == PDF


def test_a_folder_store_refuses_a_name_that_is_not_a_hash(tmp_path: Path) -> None:
    blobs = FolderBlobs(tmp_path)
    with pytest.raises(ValueError):
        blobs.path("../../etc/passwd")


class _Missing(Exception):
    response = {"Error": {"Code": "404"}}


class _Bucket:
    """An S3 client as far as S3Blobs uses one (the shape boto3's has), keeping objects in a dict."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def head_object(self, Bucket: str, Key: str) -> dict:  # noqa: N803  (boto3's names)
        if (Bucket, Key) not in self.objects:
            raise _Missing()
        return {}

    def put_object(self, Bucket: str, Key: str, Body: bytes, **_: object) -> dict:  # noqa: N803
        self.objects[(Bucket, Key)] = Body
        return {}

    def get_object(self, Bucket: str, Key: str) -> dict:  # noqa: N803
        import io

        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}


def test_an_s3_bucket_keeps_each_content_once_under_its_hash() -> None:
    from store.blobs import S3Blobs

    bucket = _Bucket()
    blobs = S3Blobs("evidence", "g60/", client=bucket)
    sha = digest(PDF)
    assert blobs.put(None, sha, PDF) is True  # type: ignore[arg-type]
    assert blobs.put(None, sha, PDF) is False  # type: ignore[arg-type]
    assert list(bucket.objects) == [("evidence", f"g60/{sha[:2]}/{sha}")]
    assert blobs.get(None, sha) == PDF  # type: ignore[arg-type]
    assert blobs.get(None, digest(PNG)) is None  # type: ignore[arg-type]


def test_the_file_store_is_chosen_by_its_setting(tmp_path: Path) -> None:
    from store.blobs import blob_store

    db = tmp_path / "evalflow.db"
    assert isinstance(blob_store(db, {}), FolderBlobs) and blob_store(db, {}).root == tmp_path / "evalflow.db.files"
    assert isinstance(blob_store(None, {}), TableBlobs)  # (PostgreSQL: the database's own table)
    assert isinstance(blob_store(db, {"store": "database"}), TableBlobs)
    assert blob_store(db, {"store": f"folder:{tmp_path / 'files'}"}).root == tmp_path / "files"
    with pytest.raises(InvalidInput) as err:
        blob_store(db, {"store": "ftp://x"})
    assert "is not folder:PATH, database or s3://BUCKET/PREFIX" in err.value.render("en")
