"""PostgreSQL for the benchmark: throwaway databases of a local cluster, one per run, dropped after.

The cluster is named by EVALFLOW_BENCH_PG_URL, a URL of its maintenance database (default
``postgresql+psycopg://evalflow:evalflow@127.0.0.1/postgres``; its role needs CREATEDB). Each run
makes ``evalflow_bench_<pid>_<n>`` and drops it when done, also on an error or Ctrl-C; the parent
process sweeps what a child killed outright left behind (its process id is in the names).
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

PG_ENV = "EVALFLOW_BENCH_PG_URL"
DEFAULT_URL = "postgresql+psycopg://evalflow:evalflow@127.0.0.1/postgres"
PREFIX = "evalflow_bench_"
_numbers = itertools.count(1)


def maintenance_url() -> str:
    """The URL of the cluster's maintenance database the benchmark connects to."""
    return os.environ.get(PG_ENV) or DEFAULT_URL


def driver_url(url: str) -> str:
    """``url`` as psycopg itself takes it (without SQLAlchemy's ``+psycopg``)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _admin() -> Any:
    import psycopg

    return psycopg.connect(driver_url(maintenance_url()), autocommit=True, connect_timeout=5)


def unavailable() -> str | None:
    """Why PostgreSQL cannot be benchmarked here (one line), or None if its server answers and
    lets the role make databases."""
    url = maintenance_url()
    try:
        with _admin() as con:
            row = con.execute(
                "SELECT rolcreatedb OR rolsuper, current_setting('server_version') FROM pg_roles"
                " WHERE rolname = current_user"
            ).fetchone()
    except Exception as exc:  # (the driver's reasons are many: refused, no such role, bad password)
        from sqlalchemy.engine import make_url

        shown = make_url(url).render_as_string(hide_password=True)
        return f"no server answers at {shown} ({PG_ENV}): {' '.join(str(exc).split())}"
    if not row or not row[0]:
        return f"the role of {PG_ENV} may not create databases (it needs CREATEDB)"
    return None


def server_version() -> str:
    """The server's version, as it says it."""
    with _admin() as con:
        row = con.execute("SELECT current_setting('server_version')").fetchone()
    return str(row[0]) if row else "?"


def server_settings() -> dict[str, str]:
    """The cluster's settings that decide how often it checkpoints, as it shows them."""
    names = ("shared_buffers", "max_wal_size", "checkpoint_timeout")
    with _admin() as con:
        return {name: str(con.execute(f"SHOW {name}").fetchone()[0]) for name in names}


def server_activity() -> dict[str, int]:
    """The cluster's WAL written (bytes) and checkpoints taken so far: read before and after a
    run, their difference is the run's (the statistics are the whole cluster's)."""
    with _admin() as con:
        wal = con.execute("SELECT wal_bytes FROM pg_stat_wal").fetchone()
        done = con.execute("SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter").fetchone()
    return {"wal": int(wal[0]) if wal else 0, "checkpoints": int(done[0]) if done else 0}


@contextmanager
def throwaway() -> Iterator[str]:
    """A new empty database of the cluster (its SQLAlchemy URL), dropped afterwards whatever
    happens (its connections ended first: a run stopped midway may have left one open)."""
    name = f"{PREFIX}{os.getpid()}_{next(_numbers)}"
    with _admin() as con:
        con.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(maintenance_url(), name)
    finally:
        _drop([name])


def sweep(pid: int) -> None:
    """Drop the databases a benchmark process ``pid`` made and left (it was killed outright)."""
    with _admin() as con:
        names = [
            r[0] for r in con.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{PREFIX}{pid}\\_%",))
        ]
    _drop(names)


def _drop(names: list[str]) -> None:
    from sqlalchemy import make_url

    from store.sql import _ENGINES

    for url, engine in list(_ENGINES.items()):  # this process's pools on them, closed first
        if make_url(url).database in names:
            engine.dispose()
            del _ENGINES[url]
    import psycopg

    with _admin() as con:
        for name in names:
            # an autovacuum worker may still be in it for a moment (a role without superuser
            # cannot end it, WITH (FORCE) or not): wait for it, then drop
            for attempt in range(60):
                try:
                    con.execute(f'DROP DATABASE IF EXISTS "{name}"')
                    break
                except psycopg.errors.ObjectInUse:
                    if attempt == 59:
                        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    time.sleep(0.5)
