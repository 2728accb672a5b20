"""The databases tests run on: SQLite always; PostgreSQL when EVALFLOW_TEST_PG_URL names a
server (`.ci/run` starts the machine's cluster and sets it). Each PostgreSQL test gets a schema
of its own, dropped afterwards. Without a server those tests are skipped with a one-line reason
(shown in pytest's summary); with EVALFLOW_REQUIRE_PG=1 (as in CI) they fail instead."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

PG_ENV = "EVALFLOW_TEST_PG_URL"
BACKENDS = ("sqlite", "postgresql")


def _unavailable(reason: str) -> None:
    if os.environ.get("EVALFLOW_REQUIRE_PG") == "1":
        pytest.fail(f"PostgreSQL is required here (EVALFLOW_REQUIRE_PG=1) but {reason}")
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


@contextmanager
def pg_schema() -> Iterator[str]:
    """A URL whose connections use a fresh schema of their own (dropped at the end)."""
    base = os.environ.get(PG_ENV)
    if not base:
        _unavailable(f"{PG_ENV} is not set (e.g. postgresql+psycopg://evalflow:evalflow@127.0.0.1/evalflow_test)")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)  # type: ignore[arg-type]
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # the server is down or refuses us: say so in one line
        admin.dispose()
        _unavailable(f"cannot reach {PG_ENV}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    sep = "&" if "?" in base else "?"  # type: ignore[operator]
    url = f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database URL (or SQLite path) of ``backend`` for one test."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'evalflow.db'}"
    else:
        with pg_schema() as url:
            yield url
