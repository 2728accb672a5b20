"""A new SQLite database is made with 16 KiB pages (store.sql.PAGE_SIZE); a database made with
SQLite's 4 KiB pages, as every database before, keeps them and is read and written as before."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from store.sql import PAGE_SIZE, SqlStore
from workflow.engine import Engine


def _page_size(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute("PRAGMA page_size").fetchone()[0]
    finally:
        con.close()


def test_a_new_database_has_pages_of_16_kib(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    store = SqlStore(f"sqlite:///{db}")
    store.create()
    store.dispose()
    assert PAGE_SIZE == 16_384
    assert _page_size(db) == PAGE_SIZE


def test_a_database_with_4_kib_pages_keeps_them(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    con = sqlite3.connect(db)
    con.execute("PRAGMA page_size=4096")
    con.execute("VACUUM")  # (an empty file takes its page size when first written)
    con.close()
    store = SqlStore(f"sqlite:///{db}")
    store.create()
    engine = Engine(store)
    engine.add_user(None, "lead", "lead", "songjiang")
    store.dispose()
    assert _page_size(db) == 4096
    store = SqlStore(f"sqlite:///{db}")
    assert [u.name for u in Engine(store).users()] == ["lead"]
    store.dispose()
