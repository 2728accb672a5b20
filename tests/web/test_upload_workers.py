"""An import of a 附件1 upload under several workers (`evalflow serve --workers N`): the worker
that runs it writes its progress and result beside the uploads, so that the upload's page, asked
of another worker, shows the import (not a second check of a file already imported), and another
worker does not start the same import twice. Two apps on one database and one uploads folder
stand for two workers."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import admin
from tests.web.conftest import csrf_of
from tests.web.test_uploads import (  # noqa: F401  (fixtures)
    _uploads_in_tmp,
    collection,
    count,
    english,
    finished,
    hefei_apps,
    upload,
    workbook,
)
from web import shared_jobs
from web.app import create_app
from web.auth import SESSION_COOKIE
from web.uploads import Job, Jobs


def test_another_worker_shows_the_import_and_does_not_run_it_again(collection, tmp_path: Path) -> None:  # noqa: F811
    w = collection
    first = english(w.browser(admin("hefei")))
    other = english(TestClient(create_app(w.s.engine), base_url="http://testserver", follow_redirects=False))
    other.cookies.set(SESSION_COOKIE, first.cookies[SESSION_COOKIE])  # (the same browser, the other worker)
    n = count(w)
    status = upload(first, workbook(tmp_path / "合肥.xlsx", hefei_apps(30))).headers["location"]
    page = finished(first, status)
    r = first.post(f"{status}/run", data={"csrf": csrf_of(page)})
    assert r.status_code == 303
    done = finished(other, status)  # (asked of the worker that did not run it)
    assert "Imported 30 applications" in done, done
    assert count(w) == n + 30
    assert re.search(r"Imported 30 applications", finished(first, status))
    # an import of the upload that another live worker is running is not started here again;
    # one whose worker is gone (a restart) is no one's
    upload_id = status.rsplit("/", 1)[1]
    root = w.app.state.uploads.root
    path = root / ".jobs" / f"{upload_id}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**data, "finished": False, "pid": os.getppid()}), encoding="utf-8")
    assert shared_jobs.running_elsewhere(root, upload_id, 3600)
    jobs = Jobs(root)
    assert jobs.start(upload_id, Job("import", "x", "g60-2027"), lambda job: None) is False
    dead = 2**22 + 7  # (above any process id Linux gives)
    path.write_text(json.dumps({**data, "finished": False, "pid": dead}), encoding="utf-8")
    assert shared_jobs.read(root, upload_id, 3600) is None
