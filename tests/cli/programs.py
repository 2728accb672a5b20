"""A command line on one program's database, for the sister programs' CLI tests: every call
checks its exit code; a refusal is also checked for leaving the database as it was."""

from __future__ import annotations

import json
from pathlib import Path

from store.sql import SqlStore
from tests.cli.test_full_cycle import Cli
from tests.conftest import snapshot


class ProgramCli:
    def __init__(self, tmp_path: Path, name: str):
        self.tmp = tmp_path
        self.cli = Cli(tmp_path / f"{name}.db")
        self.store = SqlStore(self.cli.url)
        self.files = 0

    def __call__(self, user: str | None, now: str, *args: str, code: int = 0) -> str:
        return self.cli(user, now, *args, code=code)

    def refused(self, user: str, now: str, *args: str, code: int = 3) -> str:
        before = snapshot(self.store)
        out = self.cli(user, now, *args, code=code)
        assert snapshot(self.store) == before
        return out

    def submit_file(self, user: str, now: str, application: dict, *extra: str, code: int = 0) -> str:
        """Submit ``application`` from a JSON file, as ``user``; a refusal (code 3) changes nothing."""
        self.files += 1
        path = self.tmp / f"application-{self.files}.json"
        path.write_text(json.dumps(application, ensure_ascii=False), encoding="utf-8")
        args = ("project", "submit", str(path), *extra)
        return self.refused(user, now, *args) if code == 3 else self(user, now, *args, code=code)
