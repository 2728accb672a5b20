"""The command line through the server: `evalflow login --server URL` gets a token here, and from
then on each command a city's machine runs is sent to ``POST /api/cli`` and run by the server as
the token's user. The server is then the only database client of city staff: their machines hold
the server's address and their own token, never the database's URL.

The command runs as the same click command in a process of its own (the command line's
configuration, its language and the capture of its output are a process's, not a thread's), with
the acting user set by the server from the token (``EVALFLOW_REMOTE_USER``): ``--as`` naming
anyone else is refused, as are the options that name a database, settings or another clock, and
every command that is the operator's (an allowlist: the groups a city's staff use). Every file
the command line names is put in a folder of the call's own (mode 0700): the files it reads are
sent with the call, the files it writes are sent back. Sizes and time are bounded.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Annotated, Any

import click
from fastapi import APIRouter, Request
from pydantic import Field

import i18n
from i18n import Joined, Msg
from web.api import ERRORS, Eng, Me, Strict
from web.auth import client_address
from workflow.accounts import digest
from workflow.errors import EvalflowError, InvalidInput, NotFound, NotPermitted, StoreUnavailable

router = APIRouter(prefix="/api", tags=["command line"], responses=ERRORS)

ROOT = Path(__file__).resolve().parent.parent  # the checkout (or site-packages) holding cli.py

# the commands a city's machine may run through the server: a group named alone is allowed whole,
# one with a set only those of its commands (the rest, and every command not named, is the
# operator's, on the server: init, db, serve, scheduler, demo, remind due, audit keys…)
ALLOWED: dict[str, frozenset[str] | None] = {
    "user": None,
    "program": None,
    "cycle": None,
    "project": None,
    "unit": None,
    "review": None,
    "recommend": None,
    "score": None,
    "template": None,
    "report": None,
    "document": None,
    "list": None,
    "publish": None,
    "vote": None,
    "award": None,
    "appeal": None,
    "override": None,
    "remind": frozenset({"plan", "list"}),
    "audit": frozenset({"verify", "head", "replay"}),
}
# the global options a server does not take from a caller: its database, its settings, its clock
# and its log (which may name what only the operator reads) are its own
SERVER_OWN = {"db": "--db", "config_path": "--config", "now": "--now", "verbose": "--verbose"}

# the server's own environment is the command's, but for who acts, in which language, on which
# database, settings and clock: those are the call's, or what `evalflow serve` was given
NOT_PASSED = frozenset(
    {"EVALFLOW_USER", "EVALFLOW_LOGIN", "EVALFLOW_LANG", "EVALFLOW_DATABASE_URL", "EVALFLOW_CONFIG", "EVALFLOW_NOW"}
)
MAX_ARGS = 200
MAX_ARG = 10_000
MAX_FILE = 20 * 2**20  # one file sent or sent back (a full report of a cycle is well under it)
MAX_FILES = 40 * 2**20  # every file of one call together
MAX_OUTPUT = 8 * 2**20  # the command's printed output
TIMEOUT = 300  # seconds a command may run
RUNNING = threading.BoundedSemaphore(int(os.environ.get("EVALFLOW_CLI_PROCESSES", "4")))


class Call(Strict):
    argv: list[Annotated[str, Field(max_length=MAX_ARG)]] = Field(
        max_length=MAX_ARGS, description="The command line after `evalflow`, as typed"
    )
    lang: Annotated[str, Field(max_length=10)] | None = Field(None, description="zh or en (default zh)")
    stdin: Annotated[str, Field(max_length=2**20)] = Field("", description="Standard input (a password)")
    files: dict[Annotated[str, Field(max_length=MAX_ARG)], Annotated[str, Field(max_length=MAX_FILE * 4 // 3 + 4)]] = (
        Field(
            default_factory=dict,
            max_length=MAX_ARGS,
            description="Each file the command reads, by its name as typed: its bytes in base64",
        )
    )


class SignIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    password: Annotated[str, Field(max_length=1000)]
    label: Annotated[str, Field(max_length=100)] = "evalflow login"


@router.post("/login", summary="Sign in with a name and password: a new API token for the command line")
def login(body: SignIn, engine: Eng, request: Request) -> dict[str, Any]:
    # (throttled by the caller's address as the console's sign-in is, with the same answer)
    user = engine.sign_in(body.name, body.password, client_address(request))
    secret, token = engine.new_token(user.name, user.name, body.label)
    return {"token": secret, "id": token.id, "name": user.name, "role": user.role, "city": user.city}


@router.post("/logout", summary="Revoke the token of this call")
def logout(request: Request, user: Me, engine: Eng) -> dict[str, Any]:
    secret = request.headers.get("authorization", "").partition(" ")[2]
    with engine.store.transaction() as tx:
        token = tx.find_token(digest(secret))
    if token is not None and token.id is not None:
        engine.revoke_token(user.name, token.id)
    return {"name": user.name, "revoked": token.id if token is not None else None}


@router.post("/cli", summary="Run a command of the command line as the token's user")
def run_cli(call: Call, user: Me, engine: Eng, request: Request) -> dict[str, Any]:
    try:
        lang = i18n.language(call.lang)
    except ValueError:
        lang = i18n.DEFAULT
    token = i18n.set_language(lang)  # (a refusal is said in the command line's language)
    try:
        return _run(call, user.name, lang, request.app.state)
    finally:
        i18n.reset_language(token)


def _run(call: Call, user: str, lang: str, state: Any) -> dict[str, Any]:
    from commands.argv import read

    main = getattr(state, "cli_root", None)  # the command tree, given by `evalflow serve`
    if main is None:
        raise NotFound("page", "/api/cli")
    try:
        line = read(main, call.argv)
    except click.ClickException as exc:
        return {"stdout": "", "stderr": f"{exc.format_message()}\n", "exit_code": exc.exit_code, "files": []}
    json_out = "--json" in call.argv  # (before the command or after it)
    try:
        _check(line, user)
    except EvalflowError as exc:
        return _refused(exc, json_out)
    sizes = 0
    with tempfile.TemporaryDirectory(prefix="evalflow-cli-") as folder:
        work = Path(folder)
        os.chmod(work, 0o700)
        mapping: dict[str, Path] = {}
        try:
            for n, f in enumerate(line.files()):
                if f.value in mapping:
                    continue
                place = work / f"{'out' if f.output else 'in'}-{n}" / (Path(f.value).name or "file")
                place.parent.mkdir(mode=0o700)
                if not f.output:
                    data = _decoded(call.files, f.value)
                    sizes += len(data)
                    if sizes > MAX_FILES:
                        raise InvalidInput("file", [Msg("the files sent are over {size} MiB", size=MAX_FILES >> 20)])
                    place.write_bytes(data)
                mapping[f.value] = place
            argv = _rewritten(main, call.argv, line, mapping)
        except EvalflowError as exc:
            return _refused(exc, json_out)
        done = _process(argv, call.stdin, work, _environment(state, user, lang))
        if done is None:
            return _refused(StoreUnavailable(Msg("the command ran over {seconds} seconds", seconds=TIMEOUT)), json_out)
        out, err, code = done
        inputs = {p for v, p in mapping.items() if p.parent.name.startswith("in-")}
        files = _sent_back(work, mapping, inputs)
    shown = {str(p): v for v, p in mapping.items()}
    return {"stdout": _named(out, shown, work), "stderr": _named(err, shown, work), "exit_code": code, "files": files}


def _check(line: Any, user: str) -> None:
    """Refuse what the server does not run for a caller: its own options, another user, an operator's command."""
    for name, option in SERVER_OWN.items():
        if line.given(name):
            why = Msg("the server uses its own; {option} is taken only on the server itself", option=option)
            raise NotPermitted(Msg("give"), option, why)
    claimed = line.root.params.get("user")
    if line.given("user") and claimed and claimed != user:
        why = Msg("every command through the server acts as the signed-in user {name}", name=user)
        raise NotPermitted(Msg("act as"), Msg("user {name}", name=claimed), why)
    if not line.path:
        return
    allowed = ALLOWED.get(line.path[0], frozenset())
    if line.path[0] not in ALLOWED or (allowed is not None and len(line.path) > 1 and line.path[1] not in allowed):
        why = Msg(
            "it is the operator's, run on the server itself; commands of a city's machine: {groups}",
            groups=Joined(sorted(ALLOWED), ", "),
        )
        command = Msg("`evalflow {command}` through the server", command=" ".join(line.path))
        raise NotPermitted(Msg("run"), command, why)


def _refused(exc: EvalflowError, json_out: bool) -> dict[str, Any]:
    """A refusal as the command line says it: one line on standard error and its exit code."""
    if json_out:
        line = json.dumps(
            {"error": exc.kind, "message": str(exc), "message_id": exc.message.as_dict()}, ensure_ascii=False
        )
    else:
        line = Msg("Error: {message}", message=str(exc)).render()
    return {"stdout": "", "stderr": line + "\n", "exit_code": exc.exit_code, "files": []}


def _decoded(files: dict[str, str], name: str) -> bytes:
    if name not in files:
        raise InvalidInput("file", [Msg("{file} was not sent with the command", file=name)])
    try:
        data = base64.b64decode(files[name], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("file", [Msg("{file} was not sent as base64", file=name)]) from None
    if len(data) > MAX_FILE:
        raise InvalidInput("file", [Msg("{file} is over {size} MiB", file=name, size=MAX_FILE >> 20)])
    return data


def _rewritten(main: Any, argv: list[str], line: Any, mapping: dict[str, Path]) -> list[str]:
    """The command line with each file it names in the call's folder; read again, it must name
    the same command with the same values but for those files (else it is refused)."""
    from commands.argv import read

    start = 0
    for name in line.path:  # (a file named like the command, `report --out report`, is still a file)
        start = argv.index(name, start) + 1 if name in argv[start:] else start
    new = list(argv)
    for i in range(start, len(new)):
        token = new[i]
        if token in mapping:
            new[i] = str(mapping[token])
        elif token.startswith("--") and "=" in token and token.partition("=")[2] in mapping:
            option, _, value = token.partition("=")
            new[i] = f"{option}={mapping[value]}"
    again = read(main, new)
    placed = {str(p) for p in mapping.values()}
    same = again.path == line.path and all(f.value in placed for f in again.files())
    if not same or again.values() != line.values({v: str(p) for v, p in mapping.items()}):
        why = Msg("a file's name is also another value of the command line; name the file by another path")
        raise InvalidInput("file", [why])
    return new


def _environment(state: Any, user: str, lang: str) -> dict[str, str]:
    """The command's environment: the server's database and settings, the token's user, the language."""
    env = {k: v for k, v in os.environ.items() if k not in NOT_PASSED}
    if env.get("EVALFLOW_PROGRAMS"):  # (absolute: the command runs in the call's folder)
        env["EVALFLOW_PROGRAMS"] = os.pathsep.join(
            str(Path(p).resolve()) for p in env["EVALFLOW_PROGRAMS"].split(os.pathsep) if p
        )
    given = {k: v for k, v in getattr(state, "cli_env", {}).items() if v}
    env.update(given)
    url: str = given.get("EVALFLOW_DATABASE_URL") or state.engine.store.url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):  # (a file beside the server)
        url = "sqlite:///" + str(Path(url.removeprefix("sqlite:///")).resolve())
    env["EVALFLOW_DATABASE_URL"] = url
    if env.get("EVALFLOW_CONFIG"):
        env["EVALFLOW_CONFIG"] = str(Path(env["EVALFLOW_CONFIG"]).resolve())
    env["EVALFLOW_REMOTE_USER"] = user
    env["EVALFLOW_LANG"] = lang
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    return env


def _process(argv: list[str], stdin: str, work: Path, env: dict[str, str]) -> tuple[str, str, int] | None:
    """Run the command in a process of its own; its output, and its exit code (None: over time)."""
    if not RUNNING.acquire(timeout=30):
        raise StoreUnavailable(Msg("the server is running too many commands; try again in a minute"))
    try:
        done = subprocess.run(
            [sys.executable, "-c", "import cli; cli.main(prog_name='evalflow')", *argv],
            input=stdin.encode(),
            capture_output=True,
            cwd=work,
            env=env,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return None
    finally:
        RUNNING.release()
    out = done.stdout[:MAX_OUTPUT].decode("utf-8", "replace")
    err = done.stderr[:MAX_OUTPUT].decode("utf-8", "replace")
    return out, err, done.returncode


def _sent_back(work: Path, mapping: dict[str, Path], inputs: set[Path]) -> list[dict[str, str]]:
    """Every file the command wrote, by the path the caller's machine writes it to: a file named
    on the command line (or inside a folder so named) by that name, a file beside one (an import's
    FILE.errors.txt) beside it, any other relative to where the command was run."""
    back: list[dict[str, str]] = []
    total = 0
    for path in sorted(p for p in work.rglob("*") if p.is_file() and p not in inputs):
        target = _client_path(path, work, mapping)
        size = path.stat().st_size
        total += size
        if size > MAX_FILE or total > MAX_FILES:
            raise InvalidInput("file", [Msg("{file} is over {size} MiB", file=target, size=MAX_FILE >> 20)])
        back.append({"path": target, "content": base64.b64encode(path.read_bytes()).decode()})
    return back


def _client_path(path: Path, work: Path, mapping: dict[str, Path]) -> str:
    for value, placed in mapping.items():
        if path == placed:
            return value
        if placed in path.parents:
            return str(Path(value) / path.relative_to(placed))
        if path.parent == placed.parent and path.name.startswith(placed.name):
            return str(Path(value).with_name(Path(value).name + path.name[len(placed.name) :]))
    return str(path.relative_to(work))


def _named(text: str, shown: dict[str, str], work: Path) -> str:
    """The output with the call's folder replaced by the names the caller typed."""
    for placed, value in sorted(shown.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(placed, value)
    return text.replace(str(work) + os.sep, "").replace(str(work), ".")
