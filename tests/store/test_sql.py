"""The store as a user meets it: a missing or foreign database file is one clear line (exit 9)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cli import main


def _status(db: Path):
    return CliRunner().invoke(main, ["--db", str(db), "--as", "lead", "cycle", "status"])


def test_a_file_that_is_not_a_database_is_reported_in_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "notes.db"
    junk.write_text("meeting notes, not a database " * 10, encoding="utf-8")
    result = _status(junk)
    assert result.exit_code == 9
    assert result.output.strip().splitlines() == [
        f"Error: Cannot open the database at sqlite:///{junk}: file is not a database"
    ]


def test_a_missing_database_asks_for_init(tmp_path: Path) -> None:
    result = _status(tmp_path / "none.db")
    assert result.exit_code == 9
    assert "run 'evalflow init' first" in result.output
    assert not (tmp_path / "none.db").exists()


def test_init_creates_the_file_readable_by_its_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    result = CliRunner().invoke(main, ["--db", str(db), "init"])
    assert result.exit_code == 0, result.output
    assert db.stat().st_mode & 0o777 == 0o600


def test_init_in_a_folder_that_is_not_there_names_the_folder(tmp_path: Path) -> None:
    db = tmp_path / "data" / "evalflow.db"
    result = CliRunner().invoke(main, ["--db", str(db), "init"])
    assert result.exit_code == 9
    assert result.output.strip().splitlines() == [
        f"Error: Cannot create the database at {db}: there is no folder {db.parent}"
    ]
    assert not db.parent.exists()
