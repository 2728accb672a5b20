"""`evalflow login | logout | whoami`: a city's machine signs in to the server once and from then
on sends each command to it (``POST /api/cli``), which runs it as the signed-in user and gives
back what it printed, the files it wrote and its exit code: the same output, ``--json`` and exit
codes as on the server itself. The machine keeps the server's address and its user's token in
the user's own file (mode 0600), never the database's URL.

A command runs on the machine itself when it names a database (``--db`` or
``EVALFLOW_DATABASE_URL``: the operator's, on the server), asks for help, or no one is signed in.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import click

from commands.common import handled
from i18n import Msg
from i18n.help import SpeakingGroup
from workflow.errors import EvalflowError, InvalidInput, NotSignedIn, StoreUnavailable

LOCAL = frozenset({"login", "logout", "whoami", "verify"})  # the commands run on the machine even once signed in
MAX_SENT = 40 * 2**20  # every file sent with one command
TIMEOUT = 330  # seconds to wait for the server (a little over its own limit for a command)


@dataclass
class Login:
    """The server this machine sends its commands to, and the token of its signed-in user."""

    server: str
    token: str
    user: str


def login_file() -> Path:
    """The user's own file of the sign-in: ``EVALFLOW_LOGIN``, else the user's configuration
    folder (``$XDG_CONFIG_HOME/evalflow/login.toml``, by default ``~/.config/evalflow/login.toml``)."""
    named = os.environ.get("EVALFLOW_LOGIN")
    if named:
        return Path(named)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "evalflow" / "login.toml"


def saved_login() -> Login | None:
    """The sign-in kept on this machine, or None."""
    path = login_file()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput("file", [Msg("{file}: {why}", file=path, why=str(exc))]) from None
    if not all(isinstance(data.get(k), str) for k in ("server", "token", "user")):
        raise InvalidInput("file", [Msg("{file}: it lacks server, token or user; sign in again", file=path)])
    return Login(data["server"], data["token"], data["user"])


def keep_login(login: Login) -> Path:
    """Write the sign-in to the user's own file, readable by the user alone (0600, in a 0700 folder)."""
    path = login_file()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = "".join(f"{k} = {json.dumps(v)}\n" for k, v in vars(login).items())  # (a JSON string is a TOML one)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        os.fchmod(f.fileno(), 0o600)  # (a file made before, with wider rights, is narrowed too)
        f.write(text)
    return path


def request(server: str, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    """Call the server's API; its answer as JSON. A refusal is raised as the error it names."""
    import urllib.error
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(server.rstrip("/") + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as answer:
            return json.loads(answer.read().decode())
    except urllib.error.HTTPError as exc:
        try:
            said = json.loads(exc.read().decode())
        except ValueError:
            said = {}
        if exc.code == 401:
            if token is None:
                raise NotSignedIn(Msg("the name or the password is wrong")) from None
            raise NotSignedIn(
                Msg("the sign-in to {server} has ended; sign in again: evalflow login --server {server}", server=server)
            ) from None
        raise ServerRefused(exc.code, str(said.get("message") or exc.reason), str(said.get("error") or "")) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        why = getattr(exc, "reason", None) or exc
        raise StoreUnavailable(Msg("cannot reach the server {server}: {why}", server=server, why=str(why))) from None


class ServerRefused(EvalflowError):
    """The server refused the call itself (too large, busy): its own one line, its exit code."""

    CODES = {400: 7, 403: 4, 404: 5, 409: 6, 413: 7, 422: 3, 429: 9, 503: 9}

    def __init__(self, status: int, message: str, kind: str):
        self.exit_code = self.CODES.get(status, 1)
        self.kind = kind or "error"
        self._say(Msg("the server refused: {message}", message=message))


# ------------------------------------------------------------------------------------------ commands
@click.command()
@click.option("--server", required=True, help="The server's address, e.g. https://evalflow.example.gov.cn")
@click.option("--name", help="Your user name (asked if not given).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@handled
def login(server: str, name: str | None, password_stdin: bool) -> None:
    """Sign in to the server: from then on every command runs there as you."""
    name = name or click.prompt(Msg("User name").render())
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(Msg("Password").render(), hide_input=True)
    server = server.rstrip("/")
    from urllib.parse import urlsplit

    where = urlsplit(server)
    if where.scheme != "https" and where.hostname not in ("localhost", "127.0.0.1", "::1"):
        note = Msg("Note: {server} is not HTTPS: the password and the token cross the network in clear", server=server)
        click.echo(note.render(), err=True)
    got = request(server, "POST", "/api/login", {"name": name, "password": password})
    path = keep_login(Login(server, got["token"], got["name"]))
    said = Msg(
        "Signed in to {server} as {name}; the token is kept in {file}", server=server, name=got["name"], file=path
    )
    click.echo(said.render())


@click.command()
@handled
def logout() -> None:
    """Sign out of the server: its token is revoked and this machine forgets it."""
    login = saved_login()
    if login is None:
        click.echo(Msg("Not signed in to a server").render())
        return
    try:
        request(login.server, "POST", "/api/logout", {}, token=login.token)
    except NotSignedIn:
        pass  # (a token already ended: the machine forgets it all the same)
    login_file().unlink(missing_ok=True)
    click.echo(Msg("Signed out of {server}", server=login.server).render())


@click.command()
@click.option("--json", "json_out", is_flag=True, help="Machine-readable output.")
@click.pass_context
@handled
def whoami(ctx: click.Context, json_out: bool) -> None:
    """Who this machine's commands act as, on which server."""
    login = saved_login()
    if login is None:
        raise NotSignedIn(Msg("sign in with: evalflow login --server URL"))
    me = request(login.server, "GET", "/api/me", token=login.token)
    if json_out or ctx.find_root().params.get("json_out"):
        click.echo(json.dumps({**me, "server": login.server}, ensure_ascii=False, indent=2))
        return
    city = Msg(", {city}", city=me["city"]) if me.get("city") else ""
    from workflow.common import role_of

    role = role_of(me["role"])
    said = Msg("{name} ({role}{city}) on {server}", name=me["name"], role=role, city=city, server=login.server)
    click.echo(said.render())


# ------------------------------------------------------------------------------------------ sending
class ForwardingGroup(SpeakingGroup):
    """The root group: once the machine is signed in to a server, a command is sent there."""

    def invoke(self, ctx: click.Context) -> Any:
        args = [*getattr(ctx, "_protected_args", []), *ctx.args]
        login = _sending(ctx, args)
        if login is None:
            return super().invoke(ctx)
        with ctx:
            click.Command.invoke(self, ctx)  # the global options: the language, the configuration
            return send(ctx, login, args)


def _sending(ctx: click.Context, args: list[str]) -> Login | None:
    from commands.argv import wants_help

    if not args or args[0] in LOCAL or wants_help(args):
        return None
    from click.core import ParameterSource

    if os.environ.get("EVALFLOW_REMOTE_USER"):
        return None  # (the server running a command sent to it)
    if ctx.params.get("db") and ctx.get_parameter_source("db") != ParameterSource.COMMANDLINE:
        return None  # (EVALFLOW_DATABASE_URL: the operator's machine; `--db` typed is sent, and refused)
    try:
        return saved_login()
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from None


def send(ctx: click.Context, login: Login, args: list[str]) -> None:
    """Send the command to the server, print what it printed, write the files it wrote, exit with its code."""
    from commands.argv import read

    argv = _global_options(ctx) + args
    line = read(cast(click.Group, ctx.command), argv)  # (the root is a group)
    stdin = ""
    if line.path[:2] == ["user", "passwd"] and not line.contexts[-1].params.get("password_stdin"):
        asked = Msg("New password for {name}", name=line.contexts[-1].params.get("name")).render()
        stdin = click.prompt(asked, hide_input=True, confirmation_prompt=True) + "\n"
        argv.append("--password-stdin")
    elif not sys.stdin.isatty() and "--password-stdin" in argv:
        stdin = sys.stdin.readline()
    files: dict[str, str] = {}
    total = 0
    for f in line.files():
        if f.output or f.value in files:
            continue
        try:
            data = Path(f.value).read_bytes()
        except OSError as exc:
            _exit(ctx, InvalidInput("file", [Msg("{file}: {why}", file=f.value, why=exc.strerror or str(exc))]))
        total += len(data)
        if total > MAX_SENT:
            _exit(ctx, InvalidInput("file", [Msg("the files sent are over {size} MiB", size=MAX_SENT >> 20)]))
        files[f.value] = base64.b64encode(data).decode()
    body = {"argv": argv, "lang": ctx.params.get("lang"), "stdin": stdin, "files": files}
    try:
        got = request(login.server, "POST", "/api/cli", body, token=login.token)
    except EvalflowError as exc:
        _exit(ctx, exc)
    allowed = {f.value for f in line.files()}
    for item in got.get("files", []):
        _write_back(item["path"], base64.b64decode(item["content"]), allowed)
    sys.stdout.write(got.get("stdout", ""))
    sys.stderr.write(got.get("stderr", ""))
    sys.stdout.flush()
    ctx.exit(int(got.get("exit_code", 1)))


def _global_options(ctx: click.Context) -> list[str]:
    """The global options typed before the command, as the server reads them again."""
    from click.core import ParameterSource

    given = {n for n in ctx.params if ctx.get_parameter_source(n) == ParameterSource.COMMANDLINE}
    argv: list[str] = []
    for name, option in (("db", "--db"), ("user", "--as"), ("now", "--now"), ("config_path", "--config")):
        if ctx.params.get(name) and (name in given or name == "user"):  # (EVALFLOW_USER too: a claim all the same)
            argv += [option, str(ctx.params[name])]
    if ctx.params.get("lang") and "lang" in given:
        argv += ["--lang", str(ctx.params["lang"])]
    if ctx.params.get("json_out"):
        argv.append("--json")
    if ctx.params.get("verbose"):
        argv.append("--verbose")
    return argv


def _write_back(target: str, data: bytes, allowed: set[str]) -> None:
    """Write a file the command wrote: where the command line named it, or below where it was run
    (a server does not choose a path elsewhere on this machine)."""
    path = Path(target)
    named = any(
        path == Path(a)
        or Path(a) in path.parents
        or (path.parent == Path(a).parent and path.name.startswith(Path(a).name))
        for a in allowed
    )
    if not named and (path.is_absolute() or ".." in path.parts):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _exit(ctx: click.Context, exc: Any) -> Any:
    from commands.common import _fail

    _fail(exc.kind, exc, exc.exit_code)
