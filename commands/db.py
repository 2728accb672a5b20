"""`evalflow init` and `evalflow db`: create, inspect, upgrade and back up the database."""

from __future__ import annotations

from pathlib import Path

import click

from commands.common import cfg, handled
from i18n import Msg

# a database from before the schema was versioned, as a line names it
BEFORE = Msg("before migrations")
BACKUP_FILE = Msg("backup file")


@click.command()
@handled
def init() -> None:
    """Create the database (default ./evalflow.db, or EVALFLOW_DATABASE_URL), or upgrade it."""
    store = cfg().store(must_exist=False)
    before = store.schema_version() if store.sqlite_path() is None or store.sqlite_path().exists() else None
    created = store.create()
    after = store.schema_version()
    if created:
        said = Msg("Created {store} (schema {after})", store=store.describe(), after=after)
    elif before != after:
        said = Msg(
            "Upgraded {store} from schema {before} to {after}",
            store=store.describe(),
            before=before or BEFORE,
            after=after,
        )
    else:
        said = Msg("Already initialised: {store} (schema {after})", store=store.describe(), after=after)
    click.echo(said.render())


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

        raise StoreUnavailable(Msg("No database at {path}; run 'evalflow init' first (or pass --db)", path=path))
    if store.is_empty():
        from workflow.errors import StoreUnavailable

        raise StoreUnavailable(
            Msg("The database at {store} is not initialised; run 'evalflow init'", store=store.describe())
        )
    version = store.schema_version()
    state = Msg("up to date") if version == HEAD else Msg("needs 'evalflow db upgrade' to {head}", head=HEAD)
    said = Msg(
        "{store}: schema {version} ({state})",
        store=store.describe(),
        version=version or Msg("from before migrations"),
        state=state,
    )
    click.echo(said.render())


@db.command("upgrade")
@handled
def db_upgrade() -> None:
    """Bring the database's schema up to this evalflow's (back it up first: `db backup`, or see README)."""
    store = cfg().store(must_exist=False)
    path = store.sqlite_path()
    if path is not None and not path.exists():
        from workflow.errors import StoreUnavailable

        raise StoreUnavailable(Msg("No database at {path}; run 'evalflow init' to create one", path=path))
    empty = store.is_empty()
    before, after = store.upgrade()
    if empty:
        said = Msg("Created {store} (schema {after})", store=store.describe(), after=after)
    elif before == after:
        said = Msg("{store} is already at schema {after}", store=store.describe(), after=after)
    else:
        said = Msg(
            "Upgraded {store} from schema {before} to {after}",
            store=store.describe(),
            before=before or BEFORE,
            after=after,
        )
    click.echo(said.render())


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
            Msg("database to back up"),
            [
                Msg(
                    "{store} is not a SQLite file; back up PostgreSQL with pg_dump -Fc (README, Backups)",
                    store=store.describe(),
                )
            ],
        )
    if not path.exists():
        raise StoreUnavailable(Msg("No database at {path}; nothing to back up (pass --db)", path=path))
    if dest.exists() and dest.resolve() == path.resolve():
        raise InvalidInput(BACKUP_FILE, [Msg("{dest} is the database itself", dest=dest)])
    if dest.exists() and not force:
        raise InvalidInput(BACKUP_FILE, [Msg("{dest} is there already; pass --force to replace it", dest=dest)])
    if not dest.parent.is_dir():
        raise InvalidInput(BACKUP_FILE, [Msg("there is no folder {folder}", folder=dest.parent)])
    size, revision, heads = store.backup(dest)
    said = Msg(
        "Backed up {path} to {dest}: {size:.1f} MiB, schema {revision}, checked",
        path=path,
        dest=dest,
        size=size / 2**20,
        revision=revision or Msg("none"),
    )
    click.echo(said.render())
    if heads:
        click.echo(Msg("The copy's audit head: {head}", head=combined(heads)).render())
        keep = Msg(
            "  keep it apart from the copy: 'evalflow --db {dest} audit verify --head HASH' shows it whole", dest=dest
        )
        click.echo(keep.render())
