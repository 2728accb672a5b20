"""The audit table is append-only in the database itself (SQLite: triggers; PostgreSQL: a trigger
and no UPDATE/DELETE/TRUNCATE grant for the application's role), whether the database was made
new or upgraded from before the chain existed; and no secret reaches logs, errors, --json output
or audit rows."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from cli import main
from store.sql import SqlStore
from tests.backends import BACKENDS, database
from tests.conftest import LEAD, SettableClock, make_app, sh
from tests.store.test_migrations import alembic
from workflow.engine import Engine


def _written(url: str) -> None:
    engine = Engine(SqlStore(url), clock=SettableClock(sh(1, 2)))
    engine.add_user(None, LEAD, "lead", "songjiang")
    engine.open_cycle(LEAD, "g60-deep-integration", 2027)
    engine.store.dispose()


def _append_only(url: str) -> None:
    store = SqlStore(url)
    with store.engine.connect() as conn:
        before = [tuple(r) for r in conn.execute(text("SELECT * FROM audit ORDER BY id"))]
    assert before
    for statement in ("UPDATE audit SET reason = 'x'", "DELETE FROM audit", "DELETE FROM audit WHERE id = 1"):
        with pytest.raises(Exception, match="append-only|permission denied"):
            with store.engine.begin() as conn:
                conn.execute(text(statement))
    with store.engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(text("SELECT * FROM audit ORDER BY id"))] == before
        if conn.dialect.name == "postgresql":
            for privilege in ("UPDATE", "DELETE", "TRUNCATE"):
                granted = conn.execute(text(f"SELECT has_table_privilege(current_user, 'audit', '{privilege}')"))
                assert granted.scalar() is False, privilege
            assert conn.execute(text("SELECT has_table_privilege(current_user, 'audit', 'INSERT')")).scalar()
    store.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_new_database_keeps_audit_rows_append_only(backend: str, tmp_path: Path) -> None:
    with database(backend, tmp_path) as url:
        SqlStore(url).create()
        _written(url)
        _append_only(url)
        engine = Engine(SqlStore(url), clock=SettableClock(sh(1, 3)))
        assert engine.audit_verify(LEAD).ok  # and the engine still appends
        engine.add_user(LEAD, "hf", "city-admin", "hefei")
        assert engine.audit_verify(LEAD).ok
        engine.store.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_upgraded_database_is_sealed_and_guarded_too(backend: str, tmp_path: Path) -> None:
    with database(backend, tmp_path) as url:
        alembic(url, "upgrade", "0003")
        store = SqlStore(url)
        with store.engine.begin() as conn:  # rows written before the chain existed
            conn.execute(
                text(
                    "INSERT INTO audit (at, cycle_id, subject, subject_id, actor, action, reason, data)"
                    " VALUES ('2027-01-02 01:00:00', NULL, 'user', 'lead', 'lead', 'add_user', '', '{}')"
                )
            )
        store.dispose()
        alembic(url, "upgrade", "head")
        engine = Engine(SqlStore(url), clock=SettableClock(sh(1, 3)))
        with engine.store.engine.connect() as conn:
            row = conn.execute(text("SELECT prev_hash, hash FROM audit")).one()
        assert row[0] == "0" * 64 and len(row[1]) == 64
        engine.add_user(None, LEAD, "lead", "songjiang")
        assert engine.audit_verify(LEAD).ok
        engine.store.dispose()
        _append_only(url)


def test_no_secret_reaches_logs_errors_json_or_the_audit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    smtp, token, db_password = "smtp-s3cret", "tok3n-s3cret", "db-s3cret"
    monkeypatch.setenv("EVALFLOW_SMTP_PASSWORD", smtp)
    config = tmp_path / "evalflow.toml"
    config.write_text(
        '[smtp]\nhost = "127.0.0.1"\nport = 1\nuser = "evalflow"\nsender = "evalflow@example.gov.cn"\n\n'
        f'[recipients.hefei]\nemail = ["hefei@example.gov.cn"]\n'
        f'webhook = "http://127.0.0.1:1/robot/send?access_token={token}"\n\n'
        '[recipients.lead]\nemail = ["lead@example.gov.cn"]\n',
        encoding="utf-8",
    )
    db = tmp_path / "e.db"
    runner = CliRunner()
    said: list[str] = []

    def run(*args: str, user: str | None = LEAD, now: str = "2027-01-10T09:00") -> None:
        argv = ["-v", "--config", str(config), "--db", str(db), "--now", now, *(["--as", user] if user else [])]
        result = runner.invoke(main, [*argv, *args])
        said.append(result.output + (result.stderr or ""))

    run("init", user=None)
    assert stat.S_IMODE(db.stat().st_mode) == 0o600  # readable by its owner only
    run("user", "add", LEAD, "--role", "lead", "--city", "songjiang", user=None)
    run("user", "add", "hfa", "--role", "applicant", "--city", "hefei")
    run("cycle", "open", "g60-deep-integration", "--year", "2027")
    app = tmp_path / "a.json"
    app.write_text(json.dumps(make_app("hefei", 1), ensure_ascii=False), encoding="utf-8")
    run("project", "submit", str(app), user="hfa")
    run("remind", "due", user=None, now="2027-02-22T00:05")  # SMTP and webhook fail: the errors are logged
    run("--json", "remind", "list")
    run("--json", "cycle", "history")
    run("--json", "audit", "verify")
    bad = f"postgresql+psycopg://evalflow:{db_password}@127.0.0.1:1/evalflow_test"
    said.append(runner.invoke(main, ["-v", "--db", bad, "--as", LEAD, "cycle", "list"]).output)
    SqlStore(bad).dispose()
    everything = "\n".join(said)
    assert "remind" in everything.lower() or "Reminders" in everything
    for secret in (smtp, token, db_password):
        assert secret not in everything, secret
    store = SqlStore(f"sqlite:///{db}")
    with store.engine.connect() as conn:
        rows = " ".join(str(tuple(r)) for t in ("audit", "reminders") for r in conn.execute(text(f"SELECT * FROM {t}")))
    store.dispose()
    for secret in (smtp, token, db_password):
        assert secret not in rows, secret
