"""`evalflow project attach | attachments | attachment` on a checkpoint's own database copy."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_full_cycle import Cli
from tests.conftest import admin, applicant
from tests.workflow.files_samples import EXE, PDF
from workflow.files import digest

NOW = "2027-01-12T10:00"


def test_attach_list_and_save_a_file(at_stage, tmp_path: Path) -> None:
    s = at_stage("collection")
    pid = s.ids["hefei"][0]
    path = s.store.sqlite_path()
    s.store.dispose()
    cli = Cli(path)
    license_pdf = tmp_path / "营业执照.pdf"
    license_pdf.write_bytes(PDF)
    said = cli(applicant("hefei"), NOW, "project", "attach", str(pid), "business_license", str(license_pdf))
    assert f"Attached 营业执照.pdf to project {pid} as business_license" in said and digest(PDF) in said
    listed = cli(admin("hefei"), NOW, "project", "attachments", str(pid))
    assert "营业执照.pdf (application/pdf" in listed and f"by {applicant('hefei')}" in listed
    rows = cli.json(admin("hefei"), NOW, "project", "attachments", str(pid))
    assert rows[0]["sha256"] == digest(PDF) and rows[0]["document"] == "business_license"
    dest = tmp_path / "copy.pdf"
    cli(admin("hefei"), NOW, "project", "attachment", str(pid), str(rows[0]["id"]), "--out", str(dest))
    assert dest.read_bytes() == PDF
    # another city's administrator: no such project; a renamed program: refused, one line
    cli(admin("wuhu"), NOW, "project", "attachments", str(pid), code=5)
    exe = tmp_path / "license.pdf"
    exe.write_bytes(EXE)
    out = cli(applicant("hefei"), NOW, "project", "attach", str(pid), "business_license", str(exe), code=7)
    assert "license.pdf is a program, not a document" in out
