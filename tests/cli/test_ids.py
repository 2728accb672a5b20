"""An id a command takes is a whole number the database's column holds: a larger one (or 0) is
refused by the command line in one line, exit 2, the range named, in either language, and
never reaches the database (SQLite cannot even bind it: it used to end in "unexpected
OverflowError")."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.sql import SqlStore
from tests.cli.test_cycle_open import WHEN, lead_only
from tests.conftest import snapshot

TOO_BIG = "99999999999999999999"


@pytest.mark.parametrize(
    "args",
    [
        ("project", "show", TOO_BIG),
        ("list", "explain", TOO_BIG),
        ("review", TOO_BIG, "--result", "demonstration", "--method", "site"),
        ("recommend", "1", TOO_BIG),
        ("appeal", "decide", TOO_BIG, "--uphold", "--reason", "x"),
        ("project", "attachments", "0"),
    ],
)
def test_an_id_out_of_range_is_refused_before_the_database(tmp_path: Path, args) -> None:
    cli = lead_only(tmp_path)
    store = SqlStore(cli.url)
    before = snapshot(store)
    out = cli("lead", WHEN, "--lang", "en", *args, code=2)
    assert "is not in the range 1<=x<=2147483647" in out and "OverflowError" not in out
    zh = cli("lead", WHEN, "--lang", "zh", *args, code=2)
    assert "不在范围 1<=x<=2147483647 内" in zh
    assert snapshot(store) == before
    store.dispose()
