"""`evalflow db backup DEST`: a consistent copy of the SQLite database while others write to it,
checked before it takes its name, with the copy's audit head to keep apart from it; every refusal
in one line with its exit code, the database and an existing DEST untouched."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from store.sql import HEAD

NOW = ["--now", "2027-01-05T09:00"]


def _database(tmp_path: Path) -> Path:
    db = tmp_path / "evalflow.db"
    runner = CliRunner()
    base = ["--db", str(db), *NOW]
    for argv in (
        ["init"],
        ["user", "add", "lead", "--role", "lead", "--city", "songjiang"],
        ["--as", "lead", "cycle", "open", "g60-deep-integration", "--year", "2027"],
    ):
        result = runner.invoke(main, [*base, *argv])
        assert result.exit_code == 0, result.output
    return db


def _digest(db: Path) -> str:
    """The database's content (its file's bytes move as its log is checkpointed)."""
    con = sqlite3.connect(db)
    try:
        return hashlib.sha256("\n".join(con.iterdump()).encode()).hexdigest()
    finally:
        con.close()


def _count(db: Path, table: str) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def test_a_backup_is_the_database_as_of_one_instant_while_a_writer_goes_on(tmp_path: Path) -> None:
    db = _database(tmp_path)
    users, entries = _count(db, "users"), _count(db, "audit")
    # another process is writing: its transaction, open during the backup, is not in the copy
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    others = ", ".join(r[1] for r in writer.execute("PRAGMA table_info(users)") if r[1] not in ("id", "name"))
    writer.execute(f"INSERT INTO users (name, {others}) SELECT 'late', {others} FROM users WHERE name = 'lead'")
    copy = tmp_path / "backups" / "evalflow-2027-01-05.db"
    copy.parent.mkdir()
    result = CliRunner().invoke(main, ["--db", str(db), *NOW, "db", "backup", str(copy)])
    writer.execute("COMMIT")
    writer.close()
    assert result.exit_code == 0, result.output
    assert f"Backed up {db} to {copy}" in result.output and f"schema {HEAD}, checked" in result.output
    assert _count(copy, "users") == users and _count(db, "users") == users + 1
    assert _count(copy, "audit") == entries
    assert not list(copy.parent.glob("*.partial"))
    # the head it printed is the copy's own: the copy's trail verifies against it, whole
    head = next(line.split(": ")[1] for line in result.output.splitlines() if line.startswith("The copy's audit head"))
    runner = CliRunner()
    assert runner.invoke(main, ["--db", str(db), *NOW, "--as", "lead", "audit", "head"]).output.strip() == head
    verified = runner.invoke(main, ["--db", str(copy), *NOW, "--as", "lead", "audit", "verify", "--head", head])
    assert verified.exit_code == 0 and "The audit trail holds" in verified.output, verified.output
    # and it is a database evalflow works on
    status = runner.invoke(main, ["--db", str(copy), *NOW, "--as", "lead", "cycle", "status"])
    assert status.exit_code == 0, status.output


def test_an_existing_file_is_replaced_only_when_asked(tmp_path: Path) -> None:
    db = _database(tmp_path)
    dest = tmp_path / "kept.db"
    dest.write_bytes(b"last week's copy")
    before = _digest(db)
    refused = CliRunner().invoke(main, ["--db", str(db), "db", "backup", str(dest)])
    assert refused.exit_code == 7
    assert refused.output.strip() == f"Error: Invalid backup file: {dest} is there already; pass --force to replace it."
    assert dest.read_bytes() == b"last week's copy" and _digest(db) == before
    forced = CliRunner().invoke(main, ["--db", str(db), "db", "backup", str(dest), "--force"])
    assert forced.exit_code == 0, forced.output
    assert _count(dest, "users") == _count(db, "users")


@pytest.mark.parametrize(
    ("source", "dest", "code", "message"),
    [
        ("missing.db", "copy.db", 9, "Error: No database at {tmp}/missing.db; nothing to back up (pass --db)"),
        ("evalflow.db", "nowhere/copy.db", 7, "Error: Invalid backup file: there is no folder {tmp}/nowhere."),
        ("evalflow.db", "evalflow.db", 7, "Error: Invalid backup file: {tmp}/evalflow.db is the database itself."),
        (
            "postgresql+psycopg://evalflow:secret@db.example.gov.cn/evalflow",
            "copy.db",
            7,
            "Error: Invalid database to back up: postgresql+psycopg://evalflow:***@db.example.gov.cn/evalflow"
            " is not a SQLite file; back up PostgreSQL with pg_dump -Fc (README, Backups).",
        ),
    ],
)
def test_a_backup_that_cannot_be_made_is_refused_in_one_line(
    tmp_path: Path, source: str, dest: str, code: int, message: str
) -> None:
    db = _database(tmp_path)
    before = _digest(db)
    url = source if "://" in source else str(tmp_path / source)
    result = CliRunner().invoke(main, ["--db", url, "db", "backup", str(tmp_path / dest)])
    assert result.exit_code == code
    assert result.output.strip() == message.format(tmp=tmp_path)
    assert _digest(db) == before
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("evalflow.db")] == []


def test_a_file_that_is_not_a_database_leaves_no_copy(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("not a database at all " * 100, encoding="utf-8")
    result = CliRunner().invoke(main, ["--db", str(notes), "db", "backup", str(tmp_path / "copy.db")])
    assert result.exit_code == 9
    assert result.output.startswith(f"Error: Cannot back up the database at {notes}: file is not a database")
    assert len(result.output.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]
