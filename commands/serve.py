"""`evalflow serve`: the web console and the JSON API on this database."""

from __future__ import annotations

from pathlib import Path

import click

from commands.common import cfg, handled
from i18n import Msg


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
@handled
def serve(host: str, port: int, idle_minutes: int, secure_cookies: bool, forwarded_allow_ips: str) -> None:
    """Serve the web console and the JSON API (/api/, OpenAPI at /api/docs) on this database."""
    import uvicorn

    from web.app import create_app

    engine = cfg().engine()
    app = create_app(engine, idle_minutes=idle_minutes, secure_cookies=secure_cookies)
    # a command sent by a city's machine (`evalflow login`) runs on this database, settings and
    # clock, read with this command tree
    app.state.cli_root = click.get_current_context().find_root().command
    app.state.cli_env = {
        "EVALFLOW_DATABASE_URL": engine.store.url,
        "EVALFLOW_CONFIG": cfg().config_path or ("evalflow.toml" if Path("evalflow.toml").exists() else None),
        "EVALFLOW_NOW": cfg().now_text,
    }
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
    # sign-ins are throttled by the client's address: a proxy's X-Forwarded-For is believed only
    # from the proxies named (uvicorn would otherwise believe one from 127.0.0.1)
    proxies = forwarded_allow_ips.strip()
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
    )
