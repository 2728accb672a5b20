"""`evalflow document` on the prebuilt cycle, published (2 demonstration, 3 excellent): a document
written where asked and named by default, the whole cycle as a zip for its maker, in Chinese and
word for word in English; every refusal one line with its exit code, and the database unchanged."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.cli.test_appeals_cli import open_cli, snap
from tests.conftest import LEAD, admin, scorer
from tests.workflow import checkpoints

at_stage = checkpoints.at_stage
stage_templates = checkpoints.stage_templates
NOW = "2027-06-13T10:00"


def test_each_document_and_the_zip(at_stage, tmp_path: Path, monkeypatch) -> None:
    s = at_stage("published")
    cli = open_cli(s)
    before = snap(cli)
    monkeypatch.chdir(tmp_path)
    out = cli(LEAD, NOW, "--lang", "en", "document", "notice")
    assert out.startswith("Wrote g60-2027-公示.pdf (") and (tmp_path / "g60-2027-公示.pdf").read_bytes()[:5] == b"%PDF-"
    top = s.high[0]
    out = cli(LEAD, NOW, "--lang", "zh", "document", "letter", str(top), "--format", "docx", "--out", "letter.docx")
    assert out.strip().startswith("已写入 letter.docx（") and zipfile.is_zipfile(tmp_path / "letter.docx")
    named = sum(p in s.high + s.mid for p in s.demos["hefei"])  # (hefei's on the list: certificates)
    out = cli(admin("hefei"), NOW, "--lang", "en", "document", "all", "--format", "docx", "--out", "hefei.zip")
    assert out.strip().startswith(f"Wrote hefei.zip: {2 + 5 + named} documents (")  # (notice, list, 5 letters)
    names = zipfile.ZipFile(tmp_path / "hefei.zip").namelist()
    assert sorted(n.split("/")[0] for n in names if "/" in n) == ["命名授牌证书"] * named + ["评审结果通知书"] * 5
    assert snap(cli) == before


def test_refusals_are_one_line_each_with_its_code(at_stage, tmp_path: Path, monkeypatch) -> None:
    s = at_stage("published")
    cli = open_cli(s)
    before = snap(cli)
    monkeypatch.chdir(tmp_path)
    low = s.low[0]
    out = cli(LEAD, NOW, "--lang", "en", "document", "certificate", str(low), code=7)
    assert f"project {low} was not named: it has no certificate" in out
    wuhu = s.demos["wuhu"][0]
    out = cli(admin("hefei"), NOW, "--lang", "en", "document", "letter", str(wuhu), code=5)
    assert f"No project {wuhu}." in out
    out = cli(scorer("hefei"), NOW, "--lang", "en", "document", "all", code=4)
    assert "a cycle's documents at once are the lead's and the cities' administrators'" in out
    out = cli(scorer("hefei"), NOW, "--lang", "zh", "document", "all", code=4, report=True)
    assert out.strip().startswith("错误：") and "一次生成整个周期的文书限牵头单位和城市管理员" in out
    monkeypatch.setenv("EVALFLOW_CJK_FONT", str(tmp_path / "none.ttc"))
    from sheets import documents

    documents.chinese_font.cache_clear()
    try:
        out = cli(LEAD, NOW, "--lang", "en", "document", "list", code=13)
        assert "Cannot make PDF documents on this machine: EVALFLOW_CJK_FONT names" in out
    finally:
        documents.chinese_font.cache_clear()
    assert not list(tmp_path.glob("*.pdf")) and snap(cli) == before


def test_before_the_publication_nothing_is_made(at_stage, tmp_path: Path, monkeypatch) -> None:
    s = at_stage("confirmed")
    cli = open_cli(s)
    before = snap(cli)
    monkeypatch.chdir(tmp_path)
    out = cli(LEAD, "2027-06-11T10:00", "--lang", "en", "document", "notice", code=3)
    assert "[results_published] no list of cycle g60-2027 has been published yet" in out
    assert not list(tmp_path.glob("*.pdf")) and snap(cli) == before


def test_a_published_list_is_bundled_and_verified_with_no_database(at_stage, tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    from cli import main
    from workflow.signing import fingerprint, new_key, private_pem

    key = new_key()
    (tmp_path / "audit.pem").write_bytes(private_pem(key))
    (tmp_path / "audit.pem").chmod(0o600)
    monkeypatch.setenv("EVALFLOW_AUDIT_KEY", str(tmp_path / "audit.pem"))
    monkeypatch.chdir(tmp_path)
    s = at_stage("confirmed")
    cli = open_cli(s)
    cli(LEAD, "2027-06-12T10:00", "--lang", "en", "publish")
    out = cli(scorer("hefei"), NOW, "--lang", "en", "list", "bundle")
    assert out.startswith("Wrote g60-2027-list-v1.bundle.json (")
    runner = CliRunner()
    said = runner.invoke(
        main, ["--lang", "en", "verify", "g60-2027-list-v1.bundle.json", "--fingerprint", fingerprint(key.public_key())]
    )
    assert said.exit_code == 0, said.output
    lines = said.output.splitlines()
    assert lines[0] == f"✓ the public key is the one of fingerprint {fingerprint(key.public_key())}"
    assert (
        lines[-1].startswith("Bundle holds: list version 1 of cycle g60-2027 (长三角G60科创走廊")
        and "5 projects named" in lines[-1]
    )
    data = bytearray((tmp_path / "g60-2027-list-v1.bundle.json").read_bytes())
    at = data.index(b'"category":"') + 12
    data[at] ^= 1
    (tmp_path / "changed.json").write_bytes(bytes(data))
    said = runner.invoke(main, ["--lang", "zh", "verify", "changed.json"])
    assert said.exit_code == 11 and said.output.splitlines()[-1].startswith("错误：核验包未通过核验：")
