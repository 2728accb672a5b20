"""`evalflow demo`: a whole synthetic cycle of a program, on a fresh SQLite file."""

from __future__ import annotations

from pathlib import Path

import click

from commands.common import cfg, handled


@click.command()
@click.option("--per-city", default=24, show_default=True, type=click.IntRange(8, 500), help="Applications per city.")
@click.option("--year", default=2027, show_default=True, type=int)
@click.option("--seed", default=60, show_default=True, type=int, help="Random seed of the synthetic data.")
@click.option("--keep", is_flag=True, help="Reuse an existing database file instead of starting fresh.")
@click.option(
    "--program",
    "program_id",
    help="The program whose cycle to run (see `evalflow program list`; default: the first that has a demo).",
)
@handled
def demo(per_city: int, year: int, seed: int, keep: bool, program_id: str | None) -> None:
    """Run a whole synthetic cycle of a program on a fresh SQLite file (default ./evalflow-demo.db)."""
    from store.sql import SqlStore, database_url
    from workflow.program import ProgramRegistry
    from workflow.program_code import demo_of

    registry = ProgramRegistry()
    if program_id is None:  # (the programs in id order; a program names its demo in its file)
        program_id = next((p for p in registry.ids() if registry.get(p).demo.get("run")), "")
    run_demo = demo_of(registry.get(program_id))

    url = database_url(cfg().db or "evalflow-demo.db")
    store = SqlStore(url)
    path = store.sqlite_path()
    if path is not None and path.exists() and not keep:
        store.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        store = SqlStore(url)
    store.create()
    run_demo(store, year=year, per_city=per_city, seed=seed, echo=click.echo)
    store.dispose()
