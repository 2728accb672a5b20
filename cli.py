"""evalflow — the command line. Wires configuration, logging, the store and the engine.

Heavy modules (SQLAlchemy, the engine) are imported inside commands so that `--help` is fast.
Every user-caused error prints one line `Error: …` and exits with its own code.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any

import click

EXIT_CODES_HELP = """\b
Exit codes:
  0  done
  2  usage error
  3  refused by a rule (the message names every failed rule with its numbers)
  4  not permitted for the acting user
  5  not found
  6  changed concurrently by someone else (reload and retry)
  7  invalid input file or value
  8  invalid program file
  9  database missing or unavailable
 10  another scheduler is already running on this database
 11  the audit trail does not hold (audit verify / audit replay)
"""


def state_name(state: str, cycle_id: str) -> str:
    """A state's Chinese name, as the cycle's program names it (empty when it names none). The
    program is looked up once per cycle: a batch prints a line per project."""
    return _program_of_cycle(cycle_id).state_names.get(state, "")


class Config:
    def __init__(self, db: str | None, user: str | None, now: str | None, json_out: bool):
        self.db = db
        self.user = user
        self.now_text = now
        self.json = json_out
        self._engine: Any = None
        self.config_path: str | None = None
        self.cycle_programs: dict[str, Any] = {}  # cycle id -> its program, for this command's output

    def dispatcher(self, echo: Callable[[str], None] | None = None) -> Any:
        from datetime import timedelta

        from notify.channels import channels_for
        from notify.config import load_config
        from workflow.reminders import Dispatcher

        settings = load_config(self.config_path)
        engine = self.engine()
        return Dispatcher(
            engine.store,
            engine,
            channels_for(settings, echo),
            engine.clock,
            max_attempts=settings.max_attempts,
            backoff=timedelta(seconds=settings.backoff_seconds),
            grace=timedelta(seconds=settings.grace_seconds),
        )

    def clock(self) -> Callable[[], datetime]:
        from workflow.clock import fixed, parse_instant, utc_now

        if not self.now_text:
            return utc_now
        try:
            return fixed(parse_instant(self.now_text))
        except ValueError:
            raise click.UsageError(
                f"--now {self.now_text!r} is not an ISO date or time (e.g. 2027-03-01T09:00)"
            ) from None

    def store(self, must_exist: bool = True) -> Any:
        from store.sql import SqlStore, database_url

        store = SqlStore(database_url(self.db))
        if must_exist:
            store.check_ready()
        return store

    def engine(self, must_exist: bool = True) -> Any:
        if self._engine is None:
            from workflow.engine import Engine

            self._engine = Engine(self.store(must_exist), clock=self.clock())
        return self._engine


def configure_logging(verbose: bool) -> None:
    import logging

    import structlog

    level = logging.INFO if verbose else logging.WARNING
    if sys.stderr.isatty():
        renderer: Any = structlog.dev.ConsoleRenderer(colors=False)
    else:
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *([] if sys.stderr.isatty() else [structlog.processors.format_exc_info]),  # the traceback, as text
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


def _not_utf8(exc: UnicodeEncodeError) -> str:
    """Bytes that are not UTF-8 (a terminal or a file in another encoding) reach Python as
    stand-ins the database, and the audit's hashes, cannot take: said in one line, with where."""
    near = exc.object[max(0, exc.start - 12) : exc.end + 12] if isinstance(exc.object, str) else ""
    shown = near.encode("utf-8", "replace").decode("utf-8")
    where = f" (near {shown!r})" if shown else ""
    return (
        f"Invalid input: it holds bytes that are not UTF-8 text{where}; "
        "give it in UTF-8 (check the terminal's or the file's encoding)."
    )


def handled(func: Callable) -> Callable:
    """Turn every evalflow error into one line and its exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from workflow.errors import EvalflowError

        try:
            return func(*args, **kwargs)
        except EvalflowError as exc:
            _fail(exc.kind, str(exc), exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except OSError as exc:  # a file the user named cannot be read or written (--out, an import)
            where = f"{exc.filename}: " if exc.filename else ""
            _fail("file", f"{where}{exc.strerror or exc}", 7)
        except Exception as exc:  # an evalflow bug or an environment failure: still one line
            if isinstance(exc, UnicodeEncodeError) and "surrogates not allowed" in str(exc):
                _fail("invalid_input", _not_utf8(exc), 7)
            from workflow.log import get_logger

            get_logger("evalflow.cli").info("unexpected_error", exc_info=True)  # shown with -v
            _fail("internal", f"unexpected {type(exc).__name__}: {exc} (run with -v for the log)", 1)

    return wrapper


def _fail(kind: str, message: str, code: int) -> None:
    ctx = click.get_current_context()
    config = ctx.find_object(Config)
    if config is not None and config.json:
        click.echo(json.dumps({"error": kind, "message": message}, ensure_ascii=False), err=True)
    else:
        click.echo(f"Error: {message}", err=True)
    ctx.exit(code)


def json_option(func: Callable) -> Callable:
    """`--json` after the command too (`evalflow cycle status --json`), as well as before it."""

    def turn_on(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.ensure_object(Config).json = True

    return click.option(
        "--json", "json_out", is_flag=True, expose_value=False, callback=turn_on, help="Machine-readable output."
    )(func)


def cfg() -> Config:
    return click.get_current_context().ensure_object(Config)


def out(data: Any, text: Callable[[], None]) -> None:
    if cfg().json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_default))
    else:
        text()


def _default(value: Any) -> Any:
    import dataclasses

    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    return str(value)


def local(instant: datetime | None, zone: str = "Asia/Shanghai") -> str:
    from zoneinfo import ZoneInfo

    if instant is None:
        return "—"
    return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


@click.group(epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="evalflow", message="evalflow %(version)s")
@click.option("--db", envvar="EVALFLOW_DATABASE_URL", help="Database file or URL (default ./evalflow.db).")
@click.option("--as", "user", envvar="EVALFLOW_USER", help="Act as this user (or EVALFLOW_USER).")
@click.option("--now", envvar="EVALFLOW_NOW", help="Rehearse at this instant (ISO; naive = Asia/Shanghai).")
@click.option("--json", "json_out", is_flag=True, help="Machine-readable output for read commands.")
@click.option("-v", "--verbose", is_flag=True, help="Log every event (JSON when not on a terminal).")
@click.option(
    "--config",
    "config_path",
    envvar="EVALFLOW_CONFIG",
    help="Notification settings (SMTP, recipients, webhooks); default ./evalflow.toml if present.",
)
@click.pass_context
def main(
    ctx: click.Context,
    db: str | None,
    user: str | None,
    now: str | None,
    json_out: bool,
    verbose: bool,
    config_path: str | None,
) -> None:
    """evalflow — run multi-stage evaluation programs (G60 深度融合项目评选 and its sister programs)."""
    from workflow.log import before_first_use

    before_first_use(lambda: configure_logging(verbose))  # structlog is imported only by a command that logs
    ctx.obj = Config(db, user, now, json_out)
    ctx.obj.config_path = config_path


# ------------------------------------------------------------------------------------------ init
@main.command()
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


@main.group()
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


# ------------------------------------------------------------------------------------------ users
@main.group()
def user() -> None:
    """Users and their roles."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["lead", "city-admin", "scorer", "applicant"]), required=True)
@click.option("--city", help="The user's city (required for city-admin and scorer).")
@handled
def user_add(name: str, role: str, city: str | None) -> None:
    """Add a user. The first user must be the lead; after that only the lead adds users."""
    u = cfg().engine().add_user(cfg().user, name, role, city)
    click.echo(f"Added {u.name} ({u.role}{', ' + u.city if u.city else ''})")


@user.command("list")
@json_option
@handled
def user_list() -> None:
    """List users."""
    users = cfg().engine().users()
    out(users, lambda: [click.echo(f"{u.name:<20} {u.role:<11} {u.city or ''}") for u in users])


@user.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@handled
def user_passwd(name: str, password_stdin: bool) -> None:
    """Set NAME's password for the web console (the lead for anyone, a user for themself).

    Only an Argon2id hash is kept; the user's browser sessions end."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(f"New password for {name}", hide_input=True, confirmation_prompt=True)
    cfg().engine().set_password(cfg().user, name, password)
    click.echo(f"Password set for {name}; their sessions have ended")


@user.group("token")
def user_token() -> None:
    """API tokens for scripts (`Authorization: Bearer TOKEN` on /api/)."""


@user_token.command("add")
@click.argument("name")
@click.option("--label", default="script", show_default=True, help="What the token is for (shown in `token list`).")
@handled
def user_token_add(name: str, label: str) -> None:
    """Make an API token acting as NAME. It is printed once; keep it secret."""
    secret, token = cfg().engine().new_token(cfg().user, name, label)
    click.echo(secret)
    click.echo(
        f"Token {token.id} for {name} ({label}): shown only now; revoke with `evalflow user token revoke {token.id}`",
        err=True,
    )


@user_token.command("list")
@json_option
@click.option("--user", "name", help="Only this user's tokens (the lead may name anyone).")
@handled
def user_token_list(name: str | None) -> None:
    """List API tokens (never their secrets)."""
    tokens = cfg().engine().tokens(cfg().user, name)
    out(
        [{k: v for k, v in vars(t).items() if k != "token_hash"} for t in tokens],
        lambda: [
            click.echo(
                f"{t.id:>4} {t.user_name:<16} {t.label:<20} made {local(t.created_at)}  "
                f"{'revoked ' + local(t.revoked_at) if t.revoked_at else 'last used ' + local(t.last_used)}"
            )
            for t in tokens
        ],
    )


@user_token.command("revoke")
@click.argument("token_id", type=int)
@handled
def user_token_revoke(token_id: int) -> None:
    """Revoke an API token at once."""
    token = cfg().engine().revoke_token(cfg().user, token_id)
    click.echo(f"Token {token.id} of {token.user_name} is revoked")


# ------------------------------------------------------------------------------------------ programs
@main.group()
def program() -> None:
    """Program files (programs/*.toml)."""


@program.command("list")
@json_option
@handled
def program_list() -> None:
    """List the programs evalflow can run."""
    from workflow.program import ProgramRegistry

    reg = ProgramRegistry()
    items = [reg.get(pid) for pid in reg.ids()]
    out(
        [{"id": p.id, "name": p.name, "version": p.version, "stages": [s.id for s in p.stages]} for p in items],
        lambda: [click.echo(f"{p.id:<24} v{p.version}  {p.name}") for p in items],
    )


@program.command("show")
@json_option
@click.argument("program_id")
@handled
def program_show(program_id: str) -> None:
    """Show a program: parties, stages and windows, guards, quotas and score sheet."""
    from workflow.program import ProgramRegistry, describe_offset

    p = ProgramRegistry().get(program_id)
    data = {
        "id": p.id,
        "name": p.name,
        "version": p.version,
        "digest": p.digest,
        "timezone": p.timezone,
        "parties": [{"id": x.id, "name": x.name, "role": x.role} for x in p.parties],
        "stages": [
            {
                "id": s.id,
                "name": s.name,
                "kind": s.kind.id,
                "window": (
                    f"{s.window.start.month:02d}-{s.window.start.day:02d}..{s.window.end.month:02d}-{s.window.end.day:02d}"
                    if s.window
                    else None
                ),
                "close_when": list(s.close_when),
            }
            for s in p.stages
        ],
        "guards": {k: list(v) for k, v in p.guards.items()},
        "quotas": p.quotas,
        "funding": p.funding,
        "criteria": [
            {"id": c.id, "name": c.name, "max": c.max, "bands": [f"{b.label} {b.min}-{b.max}" for b in c.bands]}
            for c in p.criteria
        ],
        "appeals": None
        if p.appeals is None
        else {
            "after_publication": describe_offset(p.appeals.after_publication),
            "decided_by": {sid: list(perm.roles) for sid, perm in p.appeals.decided_by.items()},
            "within": {sid: describe_offset(d) for sid, d in p.appeals.within.items()},
            "reopen_to": [s.id for s in p.reopenable],
        },
        "overridable": list(p.overridable),
    }

    def text() -> None:
        click.echo(f"{p.name}\n{p.id} v{p.version} ({p.digest}), {p.timezone}, lead {p.lead}")
        click.echo("Parties: " + ", ".join(f"{x.name}({x.id})" for x in p.parties))
        click.echo("Stages:")
        for i, s in enumerate(data["stages"], 1):
            click.echo(
                f"  {i}. {s['id']:<18} {s['name']:<10} window {s['window'] or 'after previous'}; "
                f"closes when {', '.join(s['close_when']) or '—'}"
            )
        click.echo("Guards:")
        for k, v in p.guards.items():
            click.echo(f"  {k:<10} {', '.join(v)}")
        click.echo("Quotas: " + (", ".join(f"{c} {q}" for c, q in p.quotas.items()) or "none"))
        click.echo("Score sheet:")
        for c in p.criteria:
            click.echo(f"  {c.id:<14} max {c.max:<3} " + " · ".join(f"{b.label} {b.min}-{b.max}" for b in c.bands))
        if data["appeals"]:
            a = data["appeals"]
            click.echo(f"Appeals: until {a['after_publication']} after publication; decided by")
            for sid, roles in a["decided_by"].items():
                within = f", closes {a['within'][sid]} after its window" if sid in a["within"] else ""
                click.echo(f"  {sid:<18} {' or '.join(roles)}{within}")
            click.echo("  a project may be reopened to: " + ", ".join(a["reopen_to"]))
        click.echo("Overridable rules: " + (", ".join(p.overridable) or "none"))

    out(data, text)


@program.command("diagram")
@click.argument("program_id")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot"]),
    default="mermaid",
    show_default=True,
    help="Mermaid text, or Graphviz DOT (render with `dot -Tsvg`).",
)
@handled
def program_diagram(program_id: str, fmt: str) -> None:
    """Print the program's project states and guarded transitions (guards named on the arrows)."""
    from workflow.program import ProgramRegistry

    p = ProgramRegistry().get(program_id)
    click.echo(p.dot() if fmt == "dot" else p.mermaid(), nl=False)


# ------------------------------------------------------------------------------------------ cycles
@main.group()
def cycle() -> None:
    """Cycles: open, status, advance."""


def _parse_quota(values: tuple[str, ...]) -> dict[str, dict[str, int]]:
    quotas: dict[str, dict[str, int]] = {}
    for v in values:
        try:
            city, rest = v.split(":", 1)
            for part in rest.split(","):
                key, num = part.split("=")
                if key not in ("demonstration", "excellent"):
                    raise ValueError
                quotas.setdefault(city.strip(), {})[key.strip()] = int(num)
        except ValueError:
            raise click.BadParameter(f"{v!r}: use CITY:demonstration=N,excellent=M", param_hint="--quota") from None
    return quotas


@cycle.command("open")
@click.argument("program_id")
@click.option("--year", type=int, required=True, help="The cycle year (windows are computed for it).")
@click.option(
    "--places",
    "place_args",
    multiple=True,
    metavar="CATEGORY=N",
    help="Places of a list category in this cycle (default: the program's), e.g. demonstration=12.",
)
@click.option("--demonstration-places", type=click.IntRange(0), hidden=True)  # = --places demonstration=N
@click.option("--excellent-places", type=click.IntRange(0), hidden=True)
@click.option("--quota", multiple=True, help="Municipal quota for this cycle: CITY:demonstration=N,excellent=M.")
@handled
def cycle_open(
    program_id: str,
    year: int,
    place_args: tuple[str, ...],
    demonstration_places: int | None,
    excellent_places: int | None,
    quota: tuple[str, ...],
) -> None:
    """Open a cycle of a program for a year (lead only)."""
    places = {
        k: v for k, v in (("demonstration", demonstration_places), ("excellent", excellent_places)) if v is not None
    }
    for arg in place_args:
        category, _, number = arg.partition("=")
        if not number.strip().isdigit():
            raise click.UsageError(f"--places {arg!r}: expected CATEGORY=N with N a whole number")
        places[category.strip()] = int(number)
    c = cfg().engine().open_cycle(cfg().user, program_id, year, places, _parse_quota(quota))
    click.echo(f"Opened cycle {c.id} ({program_id} v{c.program_version}); stage {c.stage}")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "no closing date"
    if seconds <= 0:
        return "window closed"
    days, rem = divmod(int(seconds), 86400)
    hours = rem // 3600
    return f"{days} d {hours} h left" if days else f"{hours} h {(rem % 3600) // 60} min left"


def _of(n: int, limit: int | None) -> str:
    return f"{n}/{limit}" if limit is not None else str(n)


_WIDTH = {"count": 5, "result": 7, "minimum": 6, "sheets": 8, "confirmed": 5, "funding": 10}


def _status_cell(col: dict[str, Any], row: dict[str, Any]) -> str:
    """One cell of the status table, as wide as its column's header."""
    v, kind = row[col["id"]], col["kind"]
    if kind == "result":
        return f"{_of(v, row[col['id'] + '_quota']):>7}"
    if kind == "minimum":
        return f"{v:>3}/{row[col['id'] + '_minimum']:<2}"
    if kind == "sheets":
        return f"{v:>4}/{row[col['id'] + '_needed']:<3}"
    if kind == "confirmed":
        return f"{'✓' if v else '·':>5}"
    if kind == "funding":
        return f"{v:>10,}"
    return f"{v:>5}"


@cycle.command("status")
@json_option
@click.argument("cycle_id", required=False)
@handled
def cycle_status(cycle_id: str | None) -> None:
    """Current stage, window and time left, per-city progress against quotas and minimums."""
    s = cfg().engine().status(cfg().user, cycle_id)

    def text() -> None:
        click.echo(f"{s['cycle']}  {s['program_name']}")
        click.echo(
            f"Stage {s['stage_number']}/{s['stages']}: {s['stage']} {s['stage_name']} — window {s['window']} "
            f"({_duration(s['seconds_left'])})"
        )
        if s["list"]:
            click.echo(f"List: version {s['list']['version']} {s['list']['status']}")
        columns = s["columns"]
        click.echo(f"{'city':<10}" + "".join(f"{col['zh']:>{_WIDTH[col['kind']]}}" for col in columns))
        for c in s["cities"]:
            click.echo(f"{c['city']:<10}" + "".join(_status_cell(col, c) for col in columns))
        funding = next((col["id"] for col in columns if col["kind"] == "funding"), None)
        funded = [c for c in s["cities"] if funding and c[funding]]
        if funded:
            click.echo("Municipal support: " + ", ".join(f"{c['name']} ¥{c[funding]:,}" for c in funded))
        if s.get("program_changed"):
            click.echo(f"Note: {s['program_changed']}")
        for o in s.get("overrides", ()):
            scope = f"project {o['project']}" if o.get("project") is not None else (o.get("city") or "every party")
            click.echo(f"Override {o['id']}: {o['rule']} lifted for {scope} by {o['by']} «{o['reason']}»")
        if s.get("open_appeals"):
            shown = ", ".join(f"{a['appeal']} (project {a['project']}, {a['city']})" for a in s["open_appeals"])
            click.echo(f"Open appeals: {shown}")
        if s.get("correction"):
            c = s["correction"]
            click.echo(
                f"List reopened by appeals {', '.join(map(str, c['appeals']))} (was version {c['list']}): "
                "the lead proposes a new version, all parties confirm it, then it is published"
            )
        for note in s.get("closing_overridden", ()):
            click.echo(f"  overridden: {note}")
        if s["can_close"]:
            click.echo("Closing rules hold: the lead may advance.")
        else:
            click.echo("Before this stage can close:")
            for r in s["closing_rules"]:
                click.echo(f"  {r}")

    out(s, text)


@cycle.command("advance")
@click.argument("cycle_id", required=False)
@click.option("--dry-run", is_flag=True, help="Only list what would stop the stage from closing.")
@handled
def cycle_advance(cycle_id: str | None, dry_run: bool) -> None:
    """Close the current stage and open the next (lead only)."""
    r = cfg().engine().advance(cfg().user, cycle_id, dry_run)
    if dry_run:
        if r.rejections:
            click.echo(f"Stage '{r.from_stage}' cannot close yet:")
            for rej in r.rejections:
                click.echo(f"  {rej}")
            sys.exit(3)
        click.echo(f"Stage '{r.from_stage}' can close; next: {r.to_stage}")
    else:
        click.echo(f"Closed '{r.from_stage}'; cycle {r.cycle.id} is now in stage '{r.to_stage}'")


@cycle.command("list")
@json_option
@handled
def cycle_list() -> None:
    """List cycles."""
    cycles = cfg().engine().cycles()
    out(cycles, lambda: [click.echo(f"{c.id:<12} {c.program_id:<24} {c.year} {c.stage}") for c in cycles])


@cycle.command("history")
@json_option
@click.argument("cycle_id", required=False)
@handled
def cycle_history(cycle_id: str | None) -> None:
    """The cycle's whole audit trail (lead only)."""
    entries = cfg().engine().history(cfg().user, cycle_id)
    out(entries, lambda: [_print_audit(e) for e in entries])


def _print_audit(e: Any) -> None:
    from workflow.story import tell

    move = f"{e.from_state or ''} → {e.to_state or ''}" if (e.from_state or e.to_state) else ""
    why = f"  «{e.reason}»" if e.reason else ""
    said = tell(e, _program_of_cycle(e.cycle_id))
    said = f"  — {said}" if said else ""
    who = f"{e.subject} {e.subject_id}"
    click.echo(f"{local(e.at)}  {who:<18} {e.action:<16} {move:<44} by {e.actor}{why}{said}")


def _program_of_cycle(cycle_id: str | None) -> Any:
    """The program of a cycle (read once per cycle in a command: a long history asks per entry), or None."""
    if cycle_id is None:
        return None
    known = cfg().cycle_programs
    if cycle_id not in known:
        engine = cfg().engine()
        known[cycle_id] = engine.program_of(engine.get_cycle(cycle_id))
    return known[cycle_id]


# ------------------------------------------------------------------------------------------ projects
@main.group()
def project() -> None:
    """Applications and projects."""


@project.command("submit")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--cycle", "cycle_id", help="Cycle (default: the only open cycle, or the file's 'cycle').")
@handled
def project_submit(file: Path, cycle_id: str | None) -> None:
    """Submit an application (附件1) from a TOML or JSON file."""
    from workflow.application import read_application

    p = cfg().engine().submit(cfg().user, read_application(file), cycle_id)
    click.echo(f"Submitted project {p.id}: {p.project_name} ({p.enterprise_name}, {p.city})")


def _project_row(p: Any) -> str:
    return f"{p.id:>5}  {p.city:<10} {p.state:<24} {p.enterprise_name}  《{p.project_name}》"


@project.command("list")
@json_option
@click.option("--cycle", "cycle_id")
@click.option("--city")
@click.option("--state")
@handled
def project_list(cycle_id: str | None, city: str | None, state: str | None) -> None:
    """List the projects you may see."""
    items = cfg().engine().projects(cfg().user, cycle_id, city, state)
    out(items, lambda: ([click.echo(_project_row(p)) for p in items], click.echo(f"{len(items)} projects")))


@project.command("show")
@json_option
@click.argument("project_id", type=int)
@handled
def project_show(project_id: int) -> None:
    """Show a project with its application, sheets and history."""
    p, sheets, hist = cfg().engine().project(cfg().user, project_id)

    def text() -> None:
        from zoneinfo import ZoneInfo

        from workflow.form import shown

        program = _program_of_cycle(p.cycle_id)
        form = program.form
        app = p.application
        click.echo(f"Project {p.id}: {p.project_name}")
        state = f"{p.state} {state_name(p.state, p.cycle_id)}".strip()
        click.echo(f"  {form.field(form.unit).zh} {p.enterprise_name} ({p.city}), 状态 {state}, version {p.version}")
        if p.municipal_result:
            result = program.results.get(p.municipal_result, "")
            click.echo(f"  评审结果 {p.municipal_result} {result} ({p.review_method})")
        for f in form.fields:
            if f.path not in (form.unit, form.title, form.party):
                click.echo(f"  {f.zh}: {shown(f, f.get(app))}")
        if form.group is not None:
            g = form.group
            for m in app.get(g.key, []):
                marks = " ".join(flag.zh for flag in g.flags if m.get(flag.name))
                values = " ".join(shown(f, m.get(f.name)) for f in g.fields)
                click.echo(f"  {g.zh}: {values}" + (f" ({marks})" if marks else ""))
        if program.review_criteria_field:
            kind = form.field(program.review_criteria_field).get(app)
            for n, item in enumerate(program.review_criteria.get(kind, ()), start=1):
                click.echo(f"  评审内容 {n}. {item}")
        for key, entries in p.record.items():  # the long-lived record: decisions, grades, orders, progress
            for e in entries:
                details = ", ".join(f"{k}={v}" for k, v in e.items() if k not in ("at", "by"))
                at = datetime.fromisoformat(e["at"]).astimezone(ZoneInfo(program.timezone))
                click.echo(f"  {key} {at:%Y-%m-%d %H:%M} {e.get('by', '')}: {details}".rstrip(": "))
        for s in sheets:
            who = s.scorer if program.sheets_per == "scorer" else s.city
            click.echo(f"  评分 {who:<10} total {s.total:>3} {s.scores} {'' if s.current else '(replaced)'}")
        click.echo(f"  history: {len(hist)} entries (evalflow project history {p.id})")

    out({"project": p, "sheets": sheets, "history": hist}, text)


@main.group()
def unit() -> None:
    """A unit's record across the years (every cycle of a program)."""


@unit.command("show")
@json_option
@click.argument("name")
@click.option("--program", "program_id", help="The program (default: the current cycle's).")
@handled
def unit_show(name: str, program_id: str | None) -> None:
    """Every application of the unit NAME in every cycle of the program, with its state and record."""
    from zoneinfo import ZoneInfo

    program = chosen_program(program_id)
    found = cfg().engine().unit(cfg().user, name, program.id)

    def text() -> None:
        click.echo(f"{name} — {program.name}")
        for cycle, p in found:
            state = f"{p.state} {state_name(p.state, p.cycle_id)}".strip()
            click.echo(f"  {cycle.id}  project {p.id} 《{p.project_name}》: {state}")
            for key, entries in p.record.items():
                for e in entries:
                    at = datetime.fromisoformat(e["at"]).astimezone(ZoneInfo(program.timezone))
                    details = ", ".join(f"{k}={v}" for k, v in e.items() if k not in ("at", "by"))
                    click.echo(f"    {at:%Y-%m-%d} {key}: {details}".rstrip(": "))

    out([{"cycle": c.id, "project": p} for c, p in found], text)


@project.command("history")
@json_option
@click.argument("project_id", type=int)
@handled
def project_history(project_id: int) -> None:
    """Every change of a project, oldest first."""
    _, _, hist = cfg().engine().project(cfg().user, project_id)
    out(hist, lambda: [_print_audit(e) for e in hist])


@contextmanager
def progress(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """An ``update(done)`` callable: a progress bar on a terminal for long work, silent when piped."""
    if total < 100 or cfg().json or not sys.stderr.isatty():
        yield lambda _done: None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        last = 0

        def update(done: int) -> None:
            nonlocal last
            bar.update(done - last)
            last = done

        yield update


@contextmanager
def full_report(file: Path, shown: int = 40) -> Iterator[None]:
    """An import refused for more problems than a message can hold writes every one of them to
    FILE.errors.txt (one per line) and names that file in its one-line error."""
    from policies.base import Rejection
    from workflow.errors import InvalidInput, RuleRefused, at_most

    try:
        yield
    except InvalidInput as exc:
        if len(exc.problems) <= shown:
            raise
        errors = file.with_name(file.name + ".errors.txt")
        errors.write_text("\n".join(exc.problems) + "\n", encoding="utf-8")
        what = str(exc).split(":", 1)[0].removeprefix("Invalid ")
        listed = at_most(exc.problems, shown)[:-1]
        raise InvalidInput(what, [*listed, f"… {len(exc.problems)} problems in all, every one in {errors}"]) from None
    except RuleRefused as exc:
        if len(exc.rejections) <= shown:
            raise
        errors = file.with_name(file.name + ".errors.txt")
        errors.write_text("\n".join(str(r) for r in exc.rejections) + "\n", encoding="utf-8")
        more = Rejection("more", f"{len(exc.rejections) - shown} more; every one is listed in {errors}")
        raise RuleRefused(exc.verb, exc.subject, [*exc.rejections[:shown], more], exc.state) from None


@project.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--cycle", "cycle_id", help="Cycle (default: the only open cycle).")
@click.option("--dry-run", is_flag=True, help="Check every row; import nothing.")
@handled
def project_import(file: Path, cycle_id: str | None, dry_run: bool) -> None:
    """Import many applications (附件1) from XLSX, CSV or JSON, all or nothing.

    \b
    XLSX: sheet 申报表 (one row per application, keyed by 申报序号) and sheet
    团队成员 (one row per member, with the 申报序号 of its application); see
    `evalflow template application`. CSV (UTF-8, GB18030/GBK): the two joined,
    one row per team member, the application's fields on its first row.
    JSON: a list of applications. Importing the same file again adds nothing.
    """
    from sheets.applications import read_applications

    engine = cfg().engine()
    cycle = engine.get_cycle(cycle_id)
    with full_report(file):
        program = engine.program_of(cycle)
        items = read_applications(file, program.form, program.parties)
        with progress(len(items), f"checking {len(items)} applications") as update:
            result = engine.submit_batch(cfg().user, items, cycle.id, dry_run, update)
    new = len(result.created)
    same = f"; {len(result.unchanged)} already imported, left as they are" if result.unchanged else ""
    if dry_run:
        click.echo(
            f"Checked {len(items)} applications: {new} would be imported{same}. Nothing was imported (--dry-run)."
        )
        return
    ids = [p.id for p in result.created]
    where = f": projects {ids[0]}–{ids[-1]}" if ids else ""
    click.echo(f"Imported {new} applications into {cycle.id}{where}{same}")


def expect_version_option(func: Callable) -> Callable:
    """`--expect-version N`: act only if the project is still at version N (as you last saw it);
    otherwise nothing is done and the error names both versions (exit 6)."""
    return click.option(
        "--expect-version",
        "expected_version",
        type=int,
        help="Act only if the project is still at this version (see `project show`); else exit 6.",
    )(func)


def _fire_cmd(
    trigger: str, ids: tuple[int, ...] | int, reason: str = "", verb: str | None = None, **request: Any
) -> None:
    if request.get("expected_version") is None:
        request.pop("expected_version", None)
    done = cfg().engine().fire(cfg().user, ids, trigger, reason=reason, **request)
    for p in done:
        click.echo(
            f"{verb or trigger.capitalize() + 'ed'} project {p.id}: now {p.state} {state_name(p.state, p.cycle_id)}"
        )


@project.command("act")
@click.argument("trigger")
@click.argument("project_ids", type=int, nargs=-1, required=True)
@click.option(
    "-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="A parameter of the action (repeatable)."
)
@click.option("--reason", default="", help="Why (kept in the history).")
@handled
def project_act(trigger: str, project_ids: tuple[int, ...], params: tuple[str, ...], reason: str) -> None:
    """Take any action of the program on projects, e.g. `project act decide 3 -p result=approve`,
    `project act order_rectification 3 -p deadline=2029-03-31 --reason …`, `project act assess 3 -p
    grade=qualified`. The actions of a program are listed by `program show`."""
    from workflow.common import FIRE_ARGUMENTS, typed_value

    request: dict[str, Any] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"--param {item!r}: expected KEY=VALUE")
        if key.strip() in FIRE_ARGUMENTS or key.strip() == "verb":
            raise click.UsageError(f"--param {item!r}: {key.strip()} is not a parameter of an action (see --reason)")
        request[key.strip()] = typed_value(value.strip())
    _fire_cmd(trigger, project_ids, reason=reason, verb=f"{trigger}:", **request)


@project.command("accept")
@click.argument("project_id", type=int)
@click.option("--opinion", default="", help="所在城市组织部门意见 (recorded on the application).")
@expect_version_option
@handled
def project_accept(project_id: int, opinion: str, expected_version: int | None) -> None:
    """Confirm an eligible application into the city project library (checks the four conditions)."""
    _fire_cmd("accept", project_id, verb="Accepted", opinion=opinion, expected_version=expected_version)


@project.command("reject")
@click.argument("project_id", type=int)
@click.option("--reason", required=True, help="Why the application is not accepted.")
@expect_version_option
@handled
def project_reject(project_id: int, reason: str, expected_version: int | None) -> None:
    """Reject an application (with a reason)."""
    _fire_cmd("reject", project_id, reason=reason, verb="Rejected", expected_version=expected_version)


@main.command()
@click.argument("project_id", type=int)
@click.option("--result", type=click.Choice(["demonstration", "excellent", "none"]), required=True)
@click.option(
    "--method",
    type=click.Choice(["onsite", "site", "written"]),
    required=True,
    help="onsite 实地走访 · site 现场评审 · written 书面评审",
)
@expect_version_option
@handled
def review(project_id: int, result: str, method: str, expected_version: int | None) -> None:
    """Record the municipal review result of a library project."""
    _fire_cmd("review", project_id, verb="Reviewed", result=result, method=method, expected_version=expected_version)


@main.command()
@click.argument("project_ids", type=int, nargs=-1, required=True)
@click.option("--withdraw", is_flag=True, help="Withdraw the recommendations instead.")
@handled
def recommend(project_ids: tuple[int, ...], withdraw: bool) -> None:
    """Recommend municipal demonstration projects into the key-project library (all or none)."""
    _fire_cmd("withdraw" if withdraw else "recommend", project_ids, verb="Withdrew" if withdraw else "Recommended")


class _DefaultCommandGroup(click.Group):
    """A group whose first argument, when it is not one of its commands, goes to a default
    command: `evalflow score 12 --value …` enters one sheet, `evalflow score import FILE` many."""

    default = "sheet"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [self.default, *args]
        return super().parse_args(ctx, args)


@main.group("score", cls=_DefaultCommandGroup)
def score_group() -> None:
    """Score sheets (附件2): `score PROJECT --value …` enters one; `score import FILE` a city's whole sheet."""


@score_group.command("sheet")
@click.argument("project_id", type=int)
@click.option("--value", type=int, required=True, help="项目价值 (bands 12-14 · 15-17 · 18-20)")
@click.option("--organization", type=int, required=True, help="组织有力 (16-20 · 21-25 · 26-30)")
@click.option("--effectiveness", type=int, required=True, help="成效显著 (16-20 · 21-25 · 26-30)")
@click.option("--mechanism", type=int, required=True, help="创新机制 (12-14 · 15-17 · 18-20)")
@click.option("--completion", default="", help="项目完成情况")
@handled
def score(project_id: int, value: int, organization: int, effectiveness: int, mechanism: int, completion: str) -> None:
    """Enter (or replace) your city's score sheet (附件2) for a key-library project."""
    scores = {"value": value, "organization": organization, "effectiveness": effectiveness, "mechanism": mechanism}
    cfg().engine().score(cfg().user, project_id, scores, completion)
    click.echo(f"Scored project {project_id}: total {sum(scores.values())}")


@main.group()
def template() -> None:
    """Blank spreadsheets to fill in: the 附件1 application form, a city's 附件2 score sheet."""


@template.command("application")
@click.option("--program", "program_id", help="The program whose form to write (default: the current cycle's program).")
@click.option("--out", type=click.Path(path_type=Path), help="The file to write (default: the form's name, .xlsx).")
@handled
def template_application(program_id: str | None, out: Path | None) -> None:
    """Write a program's application template (XLSX): exact columns, Chinese headers, an example row."""
    from sheets.applications import write_template
    from workflow.program_code import example_application

    program = chosen_program(program_id)
    form = program.form
    out = out or Path(f"{form.name.replace(' ', '-')}.xlsx")
    write_template(out, form, example_application(program, program.year_at(cfg().clock()())))
    sheets = form.sheet + (f" and {form.group.sheet}" if form.group else "")
    click.echo(f"Wrote {out}: sheets {sheets} (the 示例 rows are never imported) and 填表说明")


def chosen_program(program_id: str | None) -> Any:
    """The program named, else the current cycle's (when the database has one), else the only one."""
    from workflow.errors import EvalflowError
    from workflow.program import ProgramRegistry

    registry = ProgramRegistry()
    if program_id:
        return registry.get(program_id)
    try:
        return cfg().engine().program_of(cfg().engine().get_cycle(None))
    except EvalflowError:
        pass
    ids = registry.ids()
    if len(ids) == 1:
        return registry.get(ids[0])
    raise click.UsageError(f"name the program with --program (one of: {', '.join(ids)})")


@template.command("scores")
@click.option("--city", required=True, help="The scoring city (its id, e.g. hefei).")
@click.option("--cycle", "cycle_id")
@click.option("--out", type=click.Path(path_type=Path), help="Default: 附件2-评分表-CITY.xlsx")
@handled
def template_scores(city: str, cycle_id: str | None, out: Path | None) -> None:
    """Write CITY's pre-filled 附件2 score sheet: every key-library project, the criteria with their bands."""
    from sheets.scores import write_template

    cycle, program, projects = cfg().engine().key_library(cfg().user, cycle_id, city)
    party = program.party(city)
    out = out or Path(f"附件2-评分表-{city}.xlsx")
    write_template(out, party, projects, program.criteria, cycle.id, program.parties)
    click.echo(f"Wrote {out}: {len(projects)} key-library projects for {party.unit} to score")


@score_group.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--cycle", "cycle_id")
@handled
def score_import(file: Path, cycle_id: str | None) -> None:
    """Record every filled row of your city's 附件2 sheet, all or nothing (same band rules as `score`)."""
    from sheets.scores import read_scores
    from workflow.errors import InvalidInput

    engine = cfg().engine()
    cycle, program, _ = engine.key_library(cfg().user, cycle_id)
    with full_report(file):
        named, items, skipped = read_scores(file, program.criteria)
    user = next((u for u in engine.users() if u.name == cfg().user), None)
    if named is not None and user is not None and user.city != named:
        raise InvalidInput(f"score sheet {file.name}", [f"it is {named}'s sheet; {user.name} scores for {user.city}"])
    if not items:
        raise InvalidInput(f"score sheet {file.name}", ["no row is filled in"])
    with full_report(file), progress(len(items), f"checking {len(items)} score sheets") as update:
        done = engine.fire_each(cfg().user, [(pid, req) for _, pid, req in items], "score", progress=update)
    left = f"; {skipped} rows left empty" if skipped else ""
    click.echo(f"Recorded {len(done)} score sheets for {named or (user.city if user else '?')}{left}")


@main.command()
@click.option("--cycle", "cycle_id")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "md"]), default="xlsx", show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Header language.")
@click.option("--out", type=click.Path(path_type=Path), help="File (xlsx, md) or folder (csv); default report-CYCLE.")
@handled
def report(cycle_id: str | None, fmt: str, lang: str, out: Path | None) -> None:
    """Write the official list, the score matrix, per-city statistics and municipal funding (lead)."""
    from sheets.report import write

    data = cfg().engine().report_data(cfg().user, cycle_id)
    out = out or Path(f"report-{data.cycle.id}" + ("" if fmt == "csv" else f".{fmt}"))
    with progress(len(data.projects), f"writing the report of {len(data.projects)} projects") as update:
        written = write(data, fmt, lang, out, update)
    click.echo("Wrote " + ", ".join(str(p) for p in written))


# ------------------------------------------------------------------------------------------ the list
@main.group("list")
def list_group() -> None:
    """The proposed G60 list: propose, show, confirm, object."""


def _print_list(lst: Any, confirmations: list[Any] | None = None, previous: Any = None) -> None:
    from workflow.ranking import list_changes
    from workflow.story import tell_changes

    click.echo(f"List version {lst.number} ({lst.status}, {lst.method}), proposed by {lst.proposed_by} {local(lst.at)}")
    for e in lst.entries:
        click.echo(
            f"  {e.rank:>3}. {e.score:>9}  {e.category:<13} #{e.project_id:<5} {e.city:<10} "
            f"{e.enterprise_name}  《{e.project_name}》"
        )
    if previous is not None:
        changes = tell_changes(list_changes(previous.entries, lst.entries))
        click.echo(f"  changes from version {previous.number}: " + ("none" if not changes else str(len(changes))))
        for line in changes:
            click.echo(f"    {line}")
    if confirmations is not None:
        done = [c.city for c in confirmations if c.decision == "confirm"]
        click.echo(f"  confirmed by {len(done)}: {', '.join(done) or '—'}")
        for c in confirmations:
            if c.decision == "object":
                click.echo(f"  objection by {c.city} ({c.user}): {c.reason}")


@list_group.command("propose")
@click.argument("cycle_id", required=False)
@click.option("--tie-order", default="", help="Settle a boundary tie: project ids, best first, comma-separated.")
@handled
def list_propose(cycle_id: str | None, tie_order: str) -> None:
    """Aggregate the score sheets into a new proposed list version (lead)."""
    try:
        order = [int(x) for x in tie_order.split(",") if x.strip()]
    except ValueError:
        raise click.BadParameter("use project ids separated by commas", param_hint="--tie-order") from None
    engine = cfg().engine()
    lst = engine.propose_list(cfg().user, cycle_id, order)
    _, versions, _ = engine.list_versions(cfg().user, lst.cycle_id)
    _print_list(lst, previous=_previous(versions, lst))


def _previous(versions: list[Any], lst: Any) -> Any:
    earlier = [v for v in versions if v.number < lst.number]
    return earlier[-1] if earlier else None


@list_group.command("show")
@json_option
@click.argument("cycle_id", required=False)
@click.option("--all", "all_versions", is_flag=True, help="Show every version, not only the latest.")
@handled
def list_show(cycle_id: str | None, all_versions: bool) -> None:
    """Show the proposed list and its confirmations."""
    cyc, versions, confs = cfg().engine().list_versions(cfg().user, cycle_id)
    shown = versions if all_versions else versions[-1:]
    if not shown and not cfg().json:
        click.echo(f"No list has been proposed for {cyc.id} yet.")
        return
    from workflow.ranking import list_changes

    out(
        [
            {
                "list": v,
                "confirmations": confs[v.id],
                "changes": list_changes(_previous(versions, v).entries, v.entries) if _previous(versions, v) else [],
            }
            for v in shown
        ],
        lambda: [_print_list(v, confs[v.id], _previous(versions, v)) for v in shown],
    )


@list_group.command("confirm")
@click.argument("cycle_id", required=False)
@handled
def list_confirm(cycle_id: str | None) -> None:
    """Confirm the current proposed list for your city."""
    lst = cfg().engine().confirm_list(cfg().user, cycle_id, "confirm")
    click.echo(f"Confirmed list version {lst.number}")


@list_group.command("object")
@click.argument("cycle_id", required=False)
@click.option("--reason", required=True)
@handled
def list_object(cycle_id: str | None, reason: str) -> None:
    """Object to the current proposed list; the lead must propose a new version."""
    lst = cfg().engine().confirm_list(cfg().user, cycle_id, "object", reason)
    click.echo(f"Objected to list version {lst.number}: the lead must propose a new version")


@main.command()
@click.argument("cycle_id", required=False)
@handled
def publish(cycle_id: str | None) -> None:
    """Publish the confirmed list as the official list (lead)."""
    engine = cfg().engine()
    lst = engine.publish(cfg().user, cycle_id)
    listed = [e for e in lst.entries if e.category != "none"]
    _, versions, _ = engine.list_versions(cfg().user, lst.cycle_id)
    corrected = [v for v in versions if v.status == "corrected"]
    if corrected:
        click.echo(f"Published list version {lst.number} correcting version {corrected[-1].number}, because of:")
        for a in engine.publication_appeals(cfg().user, lst.cycle_id, lst.number):
            decided = f" — {a.decision_reason}" if a.decision_reason else ""
            click.echo(f"  appeal {a.id} (project {a.project_id}, {a.city}): {a.reason}{decided}")
    else:
        click.echo(f"Published list version {lst.number}: {len(listed)} projects named")
    _print_list(lst, previous=corrected[-1] if corrected else None)


@main.command()
@click.argument("project_ids", type=int, nargs=-1, required=True)
@click.option("--for", "in_favour", flag_value=True, default=None, help="Vote for (赞成).")
@click.option("--against", "in_favour", flag_value=False, help="Vote against (不赞成).")
@handled
def vote(project_ids: tuple[int, ...], in_favour: bool | None) -> None:
    """Vote for or against projects under review (a committee member: role scorer). Voting again
    on a project replaces your earlier vote; the history keeps both."""
    if in_favour is None:
        raise click.UsageError("say --for or --against")
    done = cfg().engine().fire(cfg().user, project_ids, "vote", scores={"vote": int(in_favour)})
    for p in done:
        click.echo(f"Voted {'for' if in_favour else 'against'} project {p.id} ({p.project_name})")


@main.command()
@click.argument("project_ids", type=int, nargs=-1, required=True)
@handled
def award(project_ids: tuple[int, ...]) -> None:
    """Name a listed project and award its plaque (命名授牌) (lead)."""
    _fire_cmd("award", project_ids, verb="Awarded")


# ------------------------------------------------------------------------------------------ appeals
@main.group()
def appeal() -> None:
    """Appeals against a project's result: file, decide (uphold and reopen, or dismiss), list, show."""


def _print_appeal(a: Any, detail: bool = False) -> None:
    decided = ""
    if a.status != "open":
        decided = f" — {a.status} by {a.decided_by} {local(a.decided_at)}"
        if a.reopen_to:
            decided += f", reopened to {a.reopen_to}"
        if a.decision_reason:
            decided += f" «{a.decision_reason}»"
    click.echo(
        f"appeal {a.id:<4} project {a.project_id:<5} {a.city:<10} against {a.against_state} ({a.against_stage}) "
        f"filed by {a.filed_by} {local(a.filed_at)} [{a.status}]{decided}"
    )
    if detail:
        click.echo(f"  reason: {a.reason}")
        if a.list_version:
            click.echo(f"  list version: {a.list_version}")


@appeal.command("file")
@click.argument("project_id", type=int)
@click.option("--reason", required=True, help="What is wrong with the result, and why.")
@handled
def appeal_file(project_id: int, reason: str) -> None:
    """Appeal against a project's current result (its applicant or its city's administrator)."""
    a = cfg().engine().file_appeal(cfg().user, project_id, reason)
    click.echo(
        f"Filed appeal {a.id} against project {a.project_id}'s result '{a.against_state}' "
        f"(decided by whoever made results of '{a.against_stage}')"
    )


@appeal.command("decide")
@click.argument("appeal_id", type=int)
@click.option("--uphold", is_flag=True, help="Uphold the appeal (needs --reopen-to).")
@click.option("--dismiss", is_flag=True, help="Dismiss the appeal (needs --reason).")
@click.option("--reopen-to", "reopen_to", help="The stage to reopen the project to (e.g. municipal_review).")
@click.option("--reason", default="", help="Why (required to dismiss).")
@handled
def appeal_decide(appeal_id: int, uphold: bool, dismiss: bool, reopen_to: str | None, reason: str) -> None:
    """Decide an appeal, by whoever made the contested result."""
    if uphold == dismiss:
        raise click.UsageError("say either --uphold --reopen-to STAGE or --dismiss --reason TEXT")
    decision = "uphold" if uphold else "dismiss"
    if decision == "dismiss" and reopen_to:
        raise click.UsageError("--reopen-to goes with --uphold, not --dismiss")
    a, p = cfg().engine().decide_appeal(cfg().user, appeal_id, decision, reopen_to, reason)
    if a.status == "upheld":
        click.echo(
            f"Upheld appeal {a.id}: project {p.id} reopened to '{a.reopen_to}', "
            f"now {p.state} {state_name(p.state, p.cycle_id)}"
        )
    else:
        click.echo(f"Dismissed appeal {a.id}: project {p.id} stays {p.state} {state_name(p.state, p.cycle_id)}")


@appeal.command("list")
@json_option
@click.option("--cycle", "cycle_id")
@click.option("--status", type=click.Choice(["open", "upheld", "dismissed"]))
@handled
def appeal_list(cycle_id: str | None, status: str | None) -> None:
    """The appeals you may see."""
    _, items = cfg().engine().appeals(cfg().user, cycle_id, status)
    out(items, lambda: ([_print_appeal(a) for a in items], click.echo(f"{len(items)} appeals")))


@appeal.command("show")
@json_option
@click.argument("appeal_id", type=int)
@handled
def appeal_show(appeal_id: int) -> None:
    """One appeal, with its reason and decision."""
    a, p = cfg().engine().appeal(cfg().user, appeal_id)
    out({"appeal": a, "project": p}, lambda: _print_appeal(a, detail=True))


# ------------------------------------------------------------------------------------------ overrides
@main.group()
def override() -> None:
    """The lead's overrides of rules the program marks overridable."""


@override.command("add")
@click.argument("rule")
@click.option("--reason", required=True, help="Why the rule is lifted (shown in status and history).")
@click.option("--city", help="Lift it for this city only.")
@click.option("--project", "project_id", type=int, help="Lift it for this project only.")
@click.option("--cycle", "cycle_id")
@handled
def override_add(rule: str, reason: str, city: str | None, project_id: int | None, cycle_id: str | None) -> None:
    """Override RULE (lead), e.g. `override add min_recommendations --city hefei --reason …`."""
    o = cfg().engine().override(cfg().user, rule, reason, city, project_id, cycle_id)
    click.echo(f"Override {o.id}: {o.rule} no longer holds back {o.scope()}")


@override.command("list")
@json_option
@click.option("--cycle", "cycle_id")
@handled
def override_list(cycle_id: str | None) -> None:
    """Every override of the cycle, revoked ones too."""
    _, items = cfg().engine().overrides(cfg().user, cycle_id)

    def text() -> None:
        for o in items:
            state = f"revoked by {o.revoked['by']} «{o.revoked['reason']}»" if o.revoked else "active"
            click.echo(f"override {o.id}: {o.rule} for {o.scope()} by {o.by} «{o.reason}» [{state}]")
        click.echo(f"{len(items)} overrides")

    out(items, text)


@override.command("revoke")
@click.argument("override_id", type=int)
@click.option("--reason", required=True)
@click.option("--cycle", "cycle_id")
@handled
def override_revoke(override_id: int, reason: str, cycle_id: str | None) -> None:
    """Withdraw an override: the rule applies again from now on."""
    o = cfg().engine().revoke_override(cfg().user, override_id, reason, cycle_id)
    click.echo(f"Revoked override {o.id}: {o.rule} applies again to {o.scope()}")


# ------------------------------------------------------------------------------------------ reminders
@main.group()
def remind() -> None:
    """Reminders before stage windows close: plan, send what is due, list."""


@remind.command("plan")
@click.argument("cycle_id", required=False)
@handled
def remind_plan(cycle_id: str | None) -> None:
    """Re-plan a cycle's reminders after a program or cycle change (unsent replaced, sent kept)."""
    c, added, moved, removed = cfg().engine().replan_reminders(cfg().user, cycle_id)
    click.echo(f"Re-planned reminders of {c.id}: {added} added, {moved} moved, {removed} removed")


@remind.command("due")
@handled
def remind_due() -> None:
    """Send every reminder that is due, once, and exit (for cron)."""
    report = cfg().dispatcher(click.echo).dispatch()
    click.echo(f"Reminders: {report.summary()}")


@remind.command("list")
@click.option("--cycle", "cycle_id")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(["planned", "sending", "retry", "sent", "late", "skipped", "failed"]),
)
@json_option
@handled
def remind_list(cycle_id: str | None, statuses: tuple[str, ...]) -> None:
    """Planned, sent, late, skipped and failed reminders (a city's users see their own)."""
    items = cfg().engine().reminders(cfg().user, cycle_id, list(statuses) or None)

    def text() -> None:
        for r in items:
            sent = f" at {local(r.sent_at)}" if r.sent_at else ""
            err = f"  ({r.last_error})" if r.last_error else ""
            click.echo(
                f"{local(r.due_at)}  {r.status:<8} {r.stage:<17} {r.offset:>3}  {r.recipient:<10}{sent}"
                f"{' via ' + ','.join(r.channels_done) if r.channels_done else ''}{err}"
            )
        counts: dict[str, int] = {}
        for r in items:
            counts[r.status] = counts.get(r.status, 0) + 1
        click.echo(f"{len(items)} reminders: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))

    out(items, text)


@main.group()
def scheduler() -> None:
    """The reminder service."""


@scheduler.command("run")
@click.option("--poll", default=60, show_default=True, type=click.IntRange(1), help="Seconds between safety passes.")
@handled
def scheduler_run(poll: int) -> None:
    """Run the reminder service until stopped (SIGTERM/Ctrl-C). One per database."""
    import signal
    from datetime import timedelta

    from workflow.service import SchedulerService

    dispatcher = cfg().dispatcher(click.echo)
    service = SchedulerService(dispatcher.store, dispatcher, dispatcher.clock, poll=timedelta(seconds=poll))
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: service.stop())
    service.start()
    click.echo(f"Scheduler running as {service.holder}; Ctrl-C to stop")
    try:
        while not service.wait(1.0):
            pass
    finally:
        service.stop()
    click.echo("Scheduler stopped")


# ------------------------------------------------------------------------------------------ audit
@main.group()
def audit() -> None:
    """The audit trail: verify its hash chains, print their head, rebuild state from it (lead)."""


@audit.command("verify")
@json_option
@click.option("--cycle", "cycle_id", help="Only this cycle's chain (default: every chain).")
@click.option("--head", help="The head you kept from `audit head`: a trail cut off before it is caught.")
@handled
def audit_verify(cycle_id: str | None, head: str | None) -> None:
    """Recompute every hash of the trail; name the first broken entry of each chain (exit 11)."""
    from workflow.audit import as_dicts
    from workflow.errors import TrailBroken

    report = cfg().engine().audit_verify(cfg().user, cycle_id, head)
    data = {"ok": report.ok, "entries": report.entries, "chains": report.chains, "breaks": as_dicts(report.breaks)}
    if report.ok:
        out(data, lambda: click.echo(f"The audit trail holds: {report.entries} entries in {len(report.chains)} chains"))
        return
    if cfg().json:
        click.echo(json.dumps(data, ensure_ascii=False))
    more = f" (and {len(report.breaks) - 1} more chains broken)" if len(report.breaks) > 1 else ""
    raise TrailBroken(f"The audit trail does not hold: {report.breaks[0]}{more}")


@audit.command("head")
@click.option("--cycle", "cycle_id", help="One cycle's chain (default: all chains at once).")
@handled
def audit_head(cycle_id: str | None) -> None:
    """Print the trail's head hash: keep it outside the database, then `audit verify --head HASH`."""
    click.echo(cfg().engine().audit_head(cfg().user, cycle_id))


@audit.command("replay")
@json_option
@click.option("--cycle", "cycle_id", help="Only this cycle (default: every cycle).")
@handled
def audit_replay(cycle_id: str | None) -> None:
    """Rebuild every project's state from the trail alone and compare it with the stored state (exit 11)."""
    from workflow.errors import TrailBroken

    report = cfg().engine().audit_replay(cfg().user, cycle_id)
    data = {
        "ok": report.ok,
        "projects": report.projects,
        "entries": report.entries,
        "differences": [str(d) for d in report.differences],
    }
    if report.ok:
        out(
            data,
            lambda: click.echo(
                f"The trail gives every stored state: {report.projects} projects from {report.entries} entries"
            ),
        )
        return
    if cfg().json:
        click.echo(json.dumps(data, ensure_ascii=False))
    more = f" (and {len(report.differences) - 1} more)" if len(report.differences) > 1 else ""
    raise TrailBroken(f"The trail does not give the stored state: {report.differences[0]}{more}")


# ------------------------------------------------------------------------------------------ demo
@main.command()
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
@handled
def serve(host: str, port: int, idle_minutes: int, secure_cookies: bool) -> None:
    """Serve the web console and the JSON API (/api/, OpenAPI at /api/docs) on this database."""
    import uvicorn

    from web.app import create_app

    engine = cfg().engine()
    app = create_app(engine, idle_minutes=idle_minutes, secure_cookies=secure_cookies)
    click.echo(f"evalflow console on http://{host}:{port}/ ({engine.store.describe()}); Ctrl-C stops it", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


@main.command()
@click.option("--per-city", default=24, show_default=True, type=click.IntRange(8, 500), help="Applications per city.")
@click.option("--year", default=2027, show_default=True, type=int)
@click.option("--seed", default=60, show_default=True, type=int, help="Random seed of the synthetic data.")
@click.option("--keep", is_flag=True, help="Reuse an existing database file instead of starting fresh.")
@click.option(
    "--program",
    "program_id",
    default="g60-deep-integration",
    show_default=True,
    help="The program whose cycle to run (see `evalflow program list`).",
)
@handled
def demo(per_city: int, year: int, seed: int, keep: bool, program_id: str) -> None:
    """Run a whole synthetic cycle of a program on a fresh SQLite file (default ./evalflow-demo.db)."""
    from store.sql import SqlStore, database_url
    from workflow.program import ProgramRegistry
    from workflow.program_code import demo_of

    run_demo = demo_of(ProgramRegistry().get(program_id))

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


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    main(prog_name="evalflow")
