"""Attachments on both databases: on the nine cities' shared PostgreSQL the contents are kept in the
database's own table (bytea) by default; one office's SQLite keeps them in a folder beside the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.blobs import FolderBlobs, TableBlobs
from store.sql import SqlStore
from tests.backends import BACKENDS, database
from tests.conftest import LEAD, SettableClock, admin, applicant, make_app, sh, snapshot
from tests.workflow.files_samples import EXE, PDF, PNG
from workflow.engine import Engine
from workflow.errors import InvalidInput
from workflow.files import digest


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_content_is_kept_once_and_read_back_whole_on_each_database(backend: str, tmp_path: Path, programs) -> None:
    with database(backend, tmp_path) as url:
        store = SqlStore(url)
        store.create()
        try:
            engine = Engine(store, programs, SettableClock(sh(1, 20)))
            engine.add_user(None, LEAD, "lead", "songjiang")
            engine.add_user(LEAD, admin("hefei"), "city-admin", "hefei")
            engine.add_user(LEAD, applicant("hefei"), "applicant", "hefei")
            engine.open_cycle(LEAD, "g60-deep-integration", 2027)
            pid = engine.submit(applicant("hefei"), make_app("hefei", 1)).id
            assert pid is not None
            # the default store of each database: the table on PostgreSQL, a folder beside SQLite
            expected = FolderBlobs if backend == "sqlite" else TableBlobs
            assert isinstance(store.blobs, expected)
            engine.attach(applicant("hefei"), pid, "business_license", "营业执照.pdf", PDF)
            engine.attach(admin("hefei"), pid, "municipal_recognition", "认可.pdf", PDF)  # the same bytes
            engine.attach(applicant("hefei"), pid, "high_tech_certificate", "证书.png", PNG)  # NUL bytes in it
            listed = engine.attachments(admin("hefei"), pid)
            assert [(a.document, a.sha256) for a in listed] == [
                ("business_license", digest(PDF)),
                ("municipal_recognition", digest(PDF)),
                ("high_tech_certificate", digest(PNG)),
            ]
            for a in listed:
                assert a.id is not None
                _, data = engine.attachment_content(applicant("hefei"), pid, a.id)
                assert data == (PNG if a.document == "high_tech_certificate" else PDF)
            if backend != "sqlite":
                assert sorted(r[0] for r in snapshot(store)["blobs"]) == sorted({digest(PDF), digest(PNG)})
            # a refused file leaves both the rows and the contents as they were
            before = snapshot(store)
            with pytest.raises(InvalidInput):
                engine.attach(applicant("hefei"), pid, "business_license", "licence.pdf", EXE)
            assert snapshot(store) == before
        finally:
            store.dispose()
