"""`evalflow audit keygen | checkpoint | checkpoints` and the checkpoints' part of `audit verify`:
the key files (mode 0600, never overwritten unasked), the configuration naming the key, the
owner's reseal refused with exit 11 naming the entry (in English and in Chinese), an auditor who
holds only the public key, and no key at all (a warning, not a failure)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from click.testing import CliRunner, Result

from cli import main
from tests.conftest import snapshot
from tests.store.test_audit_signing import rewrite_and_reseal
from workflow.signing import fingerprint, read_private, read_public

NOW = ["--now", "2027-01-05T09:00"]


class Cli:
    """evalflow on one database, with one configuration file (maybe absent)."""

    def __init__(self, tmp_path: Path):
        self.db = tmp_path / "evalflow.db"
        self.config = tmp_path / "evalflow.toml"
        self.runner = CliRunner()

    def __call__(self, *args: str, user: str | None = "lead", env: dict[str, str] | None = None) -> Result:
        argv = ["--db", str(self.db), "--config", str(self.config), "--lang", "en", *NOW]
        argv += ["--as", user] if user else []
        return self.runner.invoke(main, [*argv, *args], env={"EVALFLOW_AUDIT_KEY": "", **(env or {})})

    def setup(self) -> None:
        for args in (("init",), ("user", "add", "lead", "--role", "lead", "--city", "songjiang")):
            result = self(*args, user=None)
            assert result.exit_code == 0, result.output
        result = self("user", "add", "hf", "--role", "applicant", "--city", "hefei")
        assert result.exit_code == 0, result.output


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites_unasked(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    key = tmp_path / "keys" / "audit.key"
    key.parent.mkdir()
    result = cli("--json", "audit", "keygen", "--out", str(key), user=None)
    assert result.exit_code == 0, result.output
    said = json.loads(result.stdout)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    public = read_public(Path(said["public_key"]).read_bytes())
    assert said["public_key"] == f"{key}.pub" and said["fingerprint"] == fingerprint(public)
    assert fingerprint(read_private(key.read_bytes()).public_key()) == said["fingerprint"]
    before = key.read_bytes(), Path(f"{key}.pub").read_bytes()
    again = cli("audit", "keygen", "--out", str(key), user=None)
    assert again.exit_code == 7
    assert again.stderr == (
        f"Error: Invalid key file: {key} already exists; pass --force to replace it (checkpoints signed with the "
        "old key then verify only while its public key stays in [audit] trusted_keys).\n"
    )
    assert (key.read_bytes(), Path(f"{key}.pub").read_bytes()) == before
    forced = cli("audit", "keygen", "--out", str(key), "--force", user=None)
    assert forced.exit_code == 0 and forced.stdout.startswith(f"Wrote the private key to {key} ")
    assert key.read_bytes() != before[0] and stat.S_IMODE(key.stat().st_mode) == 0o600


def test_no_key_verify_warns_and_checkpoint_is_refused_leaving_the_database_unchanged(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli.setup()
    verified = cli("audit", "verify")
    assert verified.exit_code == 0
    assert verified.stdout == "The audit trail holds: 2 entries in 1 chains\n"
    assert verified.stderr.startswith("Warning: No checkpoint of the trail is signed: ")
    from store.sql import SqlStore

    store = SqlStore(f"sqlite:///{cli.db}")
    before = snapshot(store)
    refused = cli("audit", "checkpoint")
    assert refused.exit_code == 7
    assert refused.stderr == (
        "Error: Invalid audit signing key: none is configured: set [audit] signing_key in the configuration file, "
        "or EVALFLOW_AUDIT_KEY, to a key made by 'evalflow audit keygen'.\n"
    )
    assert snapshot(store) == before
    store.dispose()


def test_the_owners_reseal_is_refused_with_exit_11_naming_the_entry(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli.setup()
    key = tmp_path / "audit.key"
    assert cli("audit", "keygen", "--out", str(key), user=None).exit_code == 0
    cli.config.write_text(f'[audit]\nsigning_key = "{key}"\n', encoding="utf-8")
    signed = cli("audit", "checkpoint")
    assert signed.exit_code == 0 and signed.stdout.startswith("Signed checkpoint 1: head ")
    for name in ("a", "b"):
        assert cli("user", "add", name, "--role", "applicant", "--city", "hefei").exit_code == 0
    verified = cli("audit", "verify")
    assert verified.exit_code == 0 and verified.stderr == ""
    assert verified.stdout.splitlines()[1].startswith(
        "Every one of its 1 signed checkpoints holds; the newest, 1 ("
    ) and verified.stdout.endswith("covers entries up to 2\n")
    listed = json.loads(cli("audit", "checkpoints", "--json").stdout)
    assert [c["id"] for c in listed] == [1] and listed[0]["why"] == "manual"
    assert set(listed[0]) == {"id", "at", "why", "head", "heads", "last_entry_id", "previous", "key", "signature"}
    assert cli("audit", "checkpoint").exit_code == 0  # checkpoint 2, at entry 4
    rewrite_and_reseal(f"sqlite:///{cli.db}", 4)  # (entries 3 and 4 came after checkpoint 1)
    broken = cli("audit", "verify")
    assert broken.exit_code == 11
    at = listed[0]["at"]
    assert broken.stderr == (
        "Error: The audit trail does not hold: chain -: entry 3: the trail does not run through the head that "
        f"checkpoint 2 ({at[:10]} {at[11:16]} UTC) signed at entry 4: "
        "entries from here on were rewritten or removed after checkpoint 1\n"
    )
    chinese = CliRunner().invoke(
        main,
        ["--db", str(cli.db), "--config", str(cli.config), "--lang", "zh", *NOW, "--as", "lead", "audit", "verify"],
    )
    assert chinese.exit_code == 11 and chinese.stderr.startswith("错误：审计记录不完整：链 -：第 3 条记录：")
    assert "检查点 2" in chinese.stderr


def test_an_auditor_verifies_with_the_public_key_alone(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli.setup()
    key = tmp_path / "audit.key"
    assert cli("audit", "keygen", "--out", str(key), user=None).exit_code == 0
    assert cli("audit", "checkpoint", env={"EVALFLOW_AUDIT_KEY": str(key)}).exit_code == 0  # (the environment's key)
    unchecked = cli("--json", "audit", "verify")  # no key configured here: the signatures are not checked
    assert unchecked.exit_code == 0
    assert json.loads(unchecked.stdout)["warnings"] == [
        "The signatures of 1 checkpoints are not checked: no public key is configured "
        "([audit] signing_key or trusted_keys)"
    ]
    checked = cli("--json", "audit", "verify", "--public-key", f"{key}.pub")
    data = json.loads(checked.stdout)
    assert checked.exit_code == 0 and data["ok"] and data["warnings"] == [] and data["checkpoints"] == 1
    other = tmp_path / "other.key"
    assert cli("audit", "keygen", "--out", str(other), user=None).exit_code == 0
    wrong = cli("audit", "verify", "--public-key", f"{other}.pub")
    assert wrong.exit_code == 11
    assert "checkpoint 1 is signed with key" in wrong.stderr and "not one of the trusted public keys" in wrong.stderr


def test_a_file_the_system_refuses_is_named_with_the_reason_in_the_readers_language(tmp_path: Path) -> None:
    """The system's reason after 错误： is Chinese too; under --lang en it stays the system's words."""
    cli = Cli(tmp_path)
    missing = tmp_path / "no-such-folder" / "audit.key"
    english = cli("audit", "keygen", "--out", str(missing), user=None)
    assert english.exit_code == 7
    assert english.stderr == f"Error: {missing}: No such file or directory\n"
    runner = CliRunner()
    chinese = runner.invoke(main, ["--db", str(cli.db), "--lang", "zh", *NOW, "audit", "keygen", "--out", str(missing)])
    assert chinese.exit_code == 7
    assert chinese.stderr == f"错误：{missing}：文件或文件夹不存在\n"
    assert not missing.parent.exists()
