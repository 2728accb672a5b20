"""`evalflow init` and `evalflow db`: create, inspect, upgrade and back up the database."""

from __future__ import annotations

from pathlib import Path

import click

from commands.common import cfg, handled


@click.command()
@handled
def init() -> None:
    """Create the database (default ./evalflow.db, or EVALFLOW_DATABASE_URL), or upgrade it."""
    store = cfg().store(must_exist=False)
    before = store.schema_version() if store.sqlite_path() is None or store.sqlite_path().exists() else None
    created = store.create()
    after = store.schema_version()
    if created:
        click.echo(f"Created {store.describe()} (schema {after})")
    elif before != after:
        click.echo(f"Upgraded {store.describe()} from schema {before or 'before migrations'} to {after}")
    else:
        click.echo(f"Already initialised: {store.describe()} (schema {after})")


@click.group()
def db() -> None:
    """The database: its schema revision, upgrades (Alembic migrations) and backups."""


@db.command("current")
@handled
def db_current() -> None:
    """The schema revision of the database, and the one this evalflow needs."""
    from store.sql import HEAD

    store = cfg().store(must_exist=False)
    path = store.sqlite_path()
    if path is not None and not path.exists():
        from workflow.errors import StoreUnavailable

        raise StoreUnavailable(f"No database at {path}; run 'evalflow init' first (or pass --db)")
    if store.is_empty():
        from workflow.errors import StoreUnavailable

        raise StoreUnavailable(f"The database at {store.describe()} is not initialised; run 'evalflow init'")
    version = store.schema_version()
    state = "up to date" if version == HEAD else f"needs 'evalflow db upgrade' to {HEAD}"
    click.echo(f"{store.describe()}: schema {version or 'from before migrations'} ({state})")


@db.command("upgrade")
@handled
def db_upgrade() -> None:
    """Bring the database's schema up to this evalflow's (back it up first: `db backup`, or see README)."""
    store = cfg().store(must_exist=False)
    path = store.sqlite_path()
    if path is not None and not path.exists():
        from workflow.errors import StoreUnavailable

        raise StoreUnavailable(f"No database at {path}; run 'evalflow init' to create one")
    empty = store.is_empty()
    before, after = store.upgrade()
    if empty:
        click.echo(f"Created {store.describe()} (schema {after})")
    elif before == after:
        click.echo(f"{store.describe()} is already at schema {after}")
    else:
        click.echo(f"Upgraded {store.describe()} from schema {before or 'before migrations'} to {after}")


@db.command("backup")
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace DEST if it is there already.")
@handled
def db_backup(dest: Path, force: bool) -> None:
    """Copy the SQLite database to DEST while evalflow runs: consistent as of one instant,
    checked, never half-written. Take one before `db upgrade`. (PostgreSQL: pg_dump, see README.)"""
    from workflow.audit import combined
    from workflow.errors import InvalidInput, StoreUnavailable

    store = cfg().store(must_exist=False)
    path = store.sqlite_path()
    if path is None:
        raise InvalidInput(
            "database to back up",
            [f"{store.describe()} is not a SQLite file; back up PostgreSQL with pg_dump -Fc (README, Backups)"],
        )
    if not path.exists():
        raise StoreUnavailable(f"No database at {path}; nothing to back up (pass --db)")
    if dest.exists() and dest.resolve() == path.resolve():
        raise InvalidInput("backup file", [f"{dest} is the database itself"])
    if dest.exists() and not force:
        raise InvalidInput("backup file", [f"{dest} is there already; pass --force to replace it"])
    if not dest.parent.is_dir():
        raise InvalidInput("backup file", [f"there is no folder {dest.parent}"])
    size, revision, heads = store.backup(dest)
    click.echo(f"Backed up {path} to {dest}: {size / 2**20:.1f} MiB, schema {revision or 'none'}, checked")
    if heads:
        click.echo(f"The copy's audit head: {combined(heads)}")
        click.echo(f"  keep it apart from the copy: 'evalflow --db {dest} audit verify --head HASH' shows it whole")
