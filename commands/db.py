"""`evalflow init` and `evalflow db`: create, inspect, upgrade and back up the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from commands.common import cfg, handled, json_option, out
from i18n import Msg

# a database from before the schema was versioned, as a line names it
BEFORE = Msg("before migrations")
BACKUP_FILE = Msg("backup file")

# The owner's URL: for the commands that change the schema or the roles (init, db upgrade, db
# roles) only; the server and every other command connect with --db (the application role's).
owner_url_option = click.option(
    "--owner-url",
    envvar="EVALFLOW_OWNER_URL",
    help="PostgreSQL: the URL of the tables' owner or of a superuser (or EVALFLOW_OWNER_URL), used here instead"
    " of --db.",
)


def _owner_store(owner_url: str | None) -> Any:
    """The store this command changes the schema through: the owner's URL when given, else --db."""
    from store.sql import SqlStore, database_url

    return SqlStore(database_url(owner_url)) if owner_url else cfg().store(must_exist=False)


def _regranted(store: Any) -> None:
    """After a migration on PostgreSQL: each application role set up by `db roles` is granted the
    tables as they are now (a new one included), and said so; with none, a hint to stderr."""
    from store.roles import connected_as_owner, is_postgres, regrant

    if not is_postgres(store.engine):
        return
    reports = regrant(store.engine)
    for report in reports:
        said = Msg(
            "Granted {app} its privileges on the {count} tables of {schema} (owner {owner})",
            app=report.app,
            count=len(report.privileges),
            schema=report.schema,
            owner=report.owner,
        )
        click.echo(said.render())
    if not reports and connected_as_owner(store.engine):
        hint = Msg(
            "Note: no application role is set up on {store}; one that may only append to the audit table:"
            " 'evalflow db roles' (README, Nine cities on one shared PostgreSQL)",
            store=store.describe(),
        )
        click.echo(hint.render(), err=True)


@click.command()
@owner_url_option
@handled
def init(owner_url: str | None) -> None:
    """Create the database (default ./evalflow.db, or EVALFLOW_DATABASE_URL), or upgrade it."""
    # (PostgreSQL: as the tables' owner; it makes no roles, `db roles` does, and grants the
    # application roles set up there the tables it makes)
    from store.roles import require_owner
    from store.sql import HEAD

    store = _owner_store(owner_url)
    before = store.schema_version() if store.sqlite_path() is None or store.sqlite_path().exists() else None
    if store.sqlite_path() is None and (before != HEAD or store.is_empty()):
        require_owner(store.engine, "evalflow init")
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
    if created or before != after:
        _regranted(store)


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
@owner_url_option
@handled
def db_upgrade(owner_url: str | None) -> None:
    """Bring the database's schema up to this evalflow's (back it up first: `db backup`, or see README)."""
    # (PostgreSQL: as the tables' owner; the application roles set up by `db roles` are then
    # granted every table again, a new one included)
    from store.roles import require_owner

    store = _owner_store(owner_url)
    path = store.sqlite_path()
    if path is not None and not path.exists():
        from workflow.errors import StoreUnavailable

        raise StoreUnavailable(Msg("No database at {path}; run 'evalflow init' to create one", path=path))
    require_owner(store.engine, "evalflow db upgrade")
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
    _regranted(store)


@db.command("roles")
@owner_url_option
@click.option("--owner", "owner", default="evalflow_owner", show_default=True, help="The owner role's name.")
@click.option("--app", "app", default="evalflow_app", show_default=True, help="The application role's name.")
@json_option
@handled
def db_roles(owner_url: str | None, owner: str, app: str) -> None:
    """PostgreSQL: make (when missing) an owner role, which owns the tables and runs the migrations,
    and an application role, which owns nothing and may only read and append to the audit trail;
    the server connects as the latter. Run it with a superuser's (or the owner's, with CREATEROLE)
    URL; again at any time: it changes only what differs. A new role's password is generated and
    printed this once. On SQLite: exit 7 (roles are PostgreSQL's)."""
    from sqlalchemy.engine import make_url

    from store.roles import require_owner, set_up
    from workflow.errors import InvalidInput

    store = _owner_store(owner_url)
    if store.engine.dialect.name != "postgresql":
        raise InvalidInput(
            Msg("database"),
            [
                Msg(
                    "{store} is SQLite: database roles are PostgreSQL's ('evalflow db roles' is for PostgreSQL only)",
                    store=store.describe(),
                )
            ],
        )
    require_owner(store.engine, "evalflow db roles")
    report = set_up(store.engine, owner, app)
    url = make_url(store.url)
    # a new role's URL with its password; an existing one's with *** (its password is not known here)
    urls = {
        role: url.set(username=name, password=report.passwords.get(name, "***")).render_as_string(
            hide_password=name not in report.passwords
        )
        for role, name in (("owner", owner), ("app", app))
    }
    data = {
        "store": store.describe(),
        "schema": report.schema,
        "owner": owner,
        "app": app,
        "created": report.created,
        "passwords": report.passwords,
        "urls": {"EVALFLOW_OWNER_URL": urls["owner"], "EVALFLOW_DATABASE_URL": urls["app"]},
        "steps": [step.render() for step in report.steps],
        "privileges": report.privileges,
    }

    def text() -> None:
        click.echo(
            Msg("Database roles on {store} (schema {schema}):", store=store.describe(), schema=report.schema).render()
        )
        for step in report.steps:
            click.echo(f"  {step.render()}")
        for role in (owner, app):
            if role not in report.created:
                click.echo(Msg("  {role} was there already; its password is unchanged", role=role).render())
        if report.passwords:
            click.echo(
                Msg("Passwords of the new roles, shown this once (keep them in the server's configuration):").render()
            )
        click.echo(f"  EVALFLOW_OWNER_URL={urls['owner']}")
        click.echo(f"  EVALFLOW_DATABASE_URL={urls['app']}")

    out(data, text)


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
