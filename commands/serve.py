"""`evalflow serve`: the web console and the JSON API on this database, in one process or
(``--workers N``) in several, each a whole server on the same database.

What a worker holds for itself and what is shared: the sessions, their CSRF tokens and the API
tokens live in the database, so a browser signed in on one worker is signed in on every other
(there is no signing secret to share); the sign-in throttle's counts are each worker's own (an
address gets up to N times the attempts; the lead's unlock reaches every worker through the
database); `POST /api/cli` runs at most EVALFLOW_CLI_PROCESSES commands at once per worker; an
import's progress is written beside the uploads, which every worker reads (web/shared_jobs.py);
the reminders and the audit checkpoint run in `evalflow scheduler run` alone, never in a worker
(its lease in the database keeps it single)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from commands.common import cfg, handled
from i18n import Msg
from workflow.errors import AddressUnavailable, os_reason

# what `serve --workers N` hands each worker (a process of its own builds its app from these)
IDLE_ENV = "EVALFLOW_SERVE_IDLE_MINUTES"
SECURE_ENV = "EVALFLOW_SERVE_SECURE_COOKIES"
FACTORY = "commands.serve_workers:app_from_env"  # (named, not imported: it imports the command tree)


def cli_env(engine: Any, config_path: str | None, now_text: str | None) -> dict[str, str | None]:
    """What a command sent by a city's machine (`evalflow login`) runs with: this database,
    settings and clock."""
    return {
        "EVALFLOW_DATABASE_URL": engine.store.url,
        "EVALFLOW_CONFIG": config_path or ("evalflow.toml" if Path("evalflow.toml").exists() else None),
        "EVALFLOW_NOW": now_text,
    }


def _can_listen(host: str, port: int) -> None:
    """Refuse in one line, before any worker starts, an address the console cannot listen on
    (uvicorn would say it in English and exit 3, the code of a refused rule)."""
    import socket

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # (as uvicorn binds)
            probe.bind((host, port))
    except socket.gaierror:
        raise AddressUnavailable(f"{host}:{port}", Msg("no address of this name is known")) from None
    except OSError as exc:
        raise AddressUnavailable(f"{host}:{port}", os_reason(exc)) from None


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--idle-minutes",
    default=30,
    show_default=True,
    type=click.IntRange(1),
    help="Sign a browser out after this idle time.",
)
@click.option("--secure-cookies", is_flag=True, help="Send cookies over HTTPS only (behind a TLS proxy).")
@click.option(
    "--forwarded-allow-ips",
    default="",
    metavar="ADDRESSES",
    help="The proxies (comma-separated addresses) whose X-Forwarded-For names the client; default: none.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help=(
        "Serve with this many processes (PostgreSQL: about one per core). Sessions are kept in the"
        " database, so every worker knows every browser; each worker counts wrong sign-ins on its own."
    ),
)
@handled
def serve(
    host: str, port: int, idle_minutes: int, secure_cookies: bool, forwarded_allow_ips: str, workers: int
) -> None:
    """Serve the web console and the JSON API (/api/, OpenAPI at /api/docs) on this database."""
    import uvicorn

    from web.app import create_app

    _can_listen(host, port)  # (before anything is said of the console or the database is opened)
    engine = cfg().engine()
    said = Msg(
        "evalflow console on http://{host}:{port}/ ({store}); Ctrl-C stops it",
        host=host,
        port=port,
        store=engine.store.describe(),
    )
    click.echo(said.render(), err=True)
    from store.roles import connected_as_owner

    owner = connected_as_owner(engine.store.engine)  # (PostgreSQL: the server should be the application role)
    if owner:
        warning = Msg(
            "Warning: {user} owns the audit table (or is a superuser) and could rewrite it;"
            " serve with the application role's URL ('evalflow db roles', README)",
            user=owner,
        )
        click.echo(warning.render(), err=True)
    if workers > 1 and engine.store.engine.dialect.name == "sqlite":
        note = Msg(
            "Note: {n} workers on SQLite take turns to write (one writer at a time); several workers"
            " are meant for PostgreSQL",
            n=workers,
        )
        click.echo(note.render(), err=True)
    # sign-ins are throttled by the client's address: a proxy's X-Forwarded-For is believed only
    # from the proxies named (uvicorn would otherwise believe one from 127.0.0.1)
    proxies = forwarded_allow_ips.strip()
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "access_log": False,
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
    }
    env = cli_env(engine, cfg().config_path, cfg().now_text)
    if workers == 1:
        app = create_app(engine, idle_minutes=idle_minutes, secure_cookies=secure_cookies)
        # a command sent by a city's machine (`evalflow login`) runs on this database, settings and
        # clock, read with this command tree
        app.state.cli_root = click.get_current_context().find_root().command
        app.state.cli_env = env
        uvicorn.run(app, **options)
        return
    # several processes: each worker builds the same app from what is handed it here (uvicorn
    # starts them fresh, so they take an import string and the environment, not this app)
    engine.store.dispose()
    handed = {k: v for k, v in env.items() if v}
    handed.update({IDLE_ENV: str(idle_minutes), SECURE_ENV: "1" if secure_cookies else ""})
    os.environ.update(handed)
    uvicorn.run(FACTORY, factory=True, workers=workers, **options)
