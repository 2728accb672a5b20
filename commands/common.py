"""What every command shares: the configuration of one invocation, error handling (one line and
its exit code), output (text or JSON), and the helpers several command groups use.

Heavy modules (SQLAlchemy, the engine) are imported inside functions so that `--help` is fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any

import click

from i18n import Joined, Msg, Text
from workflow.errors import term
from workflow.inputs import ID_MAX, place_pair

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
 12  the console cannot listen on its address (evalflow serve)
 13  PDF documents cannot be made here (no Chinese font, or WeasyPrint's libraries missing)
"""


# a list version's status as a reader reads it (its id in English, as scripts read it)
LIST_STATUS = {
    "proposed": Msg("proposed"),
    "objected": Msg("objected"),
    "confirmed": Msg("confirmed"),
    "published": Msg("published"),
    "superseded": Msg("superseded"),
    "corrected": Msg("corrected"),
}


def state_name(state: str, cycle_id: str) -> str:
    """A state's Chinese name, as the cycle's program names it (empty when it names none). The
    program is looked up once per cycle: a batch prints a line per project."""
    return program_of_cycle(cycle_id).state_names.get(state, "")


def state_words(state: str, cycle_id: str, strip: bool = False) -> Text:
    """A state as a line of the command line names it: in English its id then its Chinese name
    (as scripts read it today), in Chinese the program's name of it alone."""
    program = program_of_cycle(cycle_id)
    english = f"{state} {program.state_names.get(state, '')}"
    return Text(english.strip() if strip else english, program.state_name(state))


def party_words(city: str, cycle_id: str) -> Text:
    """A party (a city) as a line names it: its id in English, its name in Chinese."""
    program = program_of_cycle(cycle_id)
    names = {party.id: party.name for party in program.parties} if program is not None else {}
    return Text(city, names.get(city, city))


def stage_words(stage_id: str | None, cycle_id: str) -> Text:
    """A stage as a line names it: its id in English, its name in Chinese."""
    if stage_id is None:
        return Text("None", "无")
    program = program_of_cycle(cycle_id)
    names = {s.id: s.name for s in program.stages} if program is not None else {}
    return Text(stage_id, names.get(stage_id, stage_id))


def action_words(trigger: str, cycle_id: str, english: str) -> Text:
    """An action as a line names it: ``english`` (today's past tense, scripts read it), in
    Chinese the label the cycle's program gives the action."""
    program = program_of_cycle(cycle_id)
    action = program.actions.get(trigger) if program is not None else None
    return Text(english, action.zh if action is not None else english)


def record_words(key: str, program: Any) -> Text:
    """A key of a project's long-lived record as a line names it: the key in English, in Chinese
    the label of the action that records under it."""
    trigger = next((t for t, k in program.record_keys.items() if k == key), None) if program is not None else None
    action = program.actions.get(trigger) if trigger is not None else None
    return Text(key, action.zh if action is not None else key)


def record_details(entry: dict[str, Any], program: Any = None, key: str | None = None) -> Text:
    """An entry of the record without its time and author: ``name=value, …`` in English (as
    scripts read it), in Chinese each parameter by its label and each choice by its name."""
    params: dict[str, Any] = {}
    if program is not None and key is not None:
        for trigger, k in program.record_keys.items():
            action = program.actions.get(trigger)
            if k == key and action is not None:
                params.update({prm.id: prm for prm in action.params})
    english, chinese = [], []
    for name, value in entry.items():
        if name in ("at", "by"):
            continue
        english.append(f"{name}={value}")
        prm = params.get(name)
        if prm is None:
            chinese.append(f"{'理由' if name == 'reason' else name}：{value}")
        else:
            choice = next((c.zh for c in prm.choices if str(c.value) == str(value)), value)
            chinese.append(f"{prm.zh}：{choice}")
    return Text(", ".join(english), "；".join(chinese))


class Config:
    """The global options of one invocation, and the store and engine made from them on first use."""

    def __init__(self, db: str | None, user: str | None, now: str | None, json_out: bool) -> None:
        self.db = db
        self.user = user
        self.now_text = now
        self.json = json_out
        self._engine: Any = None
        self.config_path: str | None = None
        self.cycle_programs: dict[str, Any] = {}  # cycle id -> its program, for this command's output

    def dispatcher(self, echo: Callable[[str], None] | None = None) -> Any:
        """The reminder dispatcher on this database, with the notification settings' channels."""
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
        """The real clock, or the instant of --now held still."""
        from workflow.clock import fixed, parse_instant, utc_now

        if not self.now_text:
            return utc_now
        try:
            return fixed(parse_instant(self.now_text))
        except ValueError:
            raise click.UsageError(
                Msg(
                    "--now {value} is not an ISO date or time (e.g. 2027-03-01T09:00)", value=repr(self.now_text)
                ).render()
            ) from None

    def store(self, must_exist: bool = True) -> Any:
        """The store of --db; checked to be there and initialised unless ``must_exist`` is False."""
        from store.sql import SqlStore, database_url

        store = SqlStore(database_url(self.db))
        if must_exist:
            store.check_ready()
        return store

    def engine(self, must_exist: bool = True) -> Any:
        """The engine on this invocation's store and clock (one per invocation)."""
        if self._engine is None:
            from workflow.engine import Engine

            self._engine = Engine(self.store(must_exist), clock=self.clock())
            self._engine.audit_config = self.config_path  # (the audit checkpoints' keys: workflow/checkpoints.py)
        return self._engine


def configure_logging(verbose: bool) -> None:
    """structlog to stderr: readable on a terminal, JSON lines otherwise; every event with -v."""
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


def _not_utf8(exc: UnicodeEncodeError) -> Msg:
    """Bytes that are not UTF-8 (a terminal or a file in another encoding) reach Python as
    stand-ins the database, and the audit's hashes, cannot take: said in one line, with where."""
    near = exc.object[max(0, exc.start - 12) : exc.end + 12] if isinstance(exc.object, str) else ""
    shown = near.encode("utf-8", "replace").decode("utf-8")
    where = Msg(" (near {text})", text=repr(shown)) if shown else ""
    return Msg(
        "Invalid input: it holds bytes that are not UTF-8 text{where}; "
        "give it in UTF-8 (check the terminal's or the file's encoding).",
        where=where,
    )


def handled(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn every evalflow error into one line and its exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from workflow.errors import EvalflowError

        try:
            return func(*args, **kwargs)
        except EvalflowError as exc:
            _fail(exc.kind, exc, exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except OSError as exc:  # a file the user named cannot be read or written (--out, an import)
            from workflow.errors import os_reason

            why = os_reason(exc)
            _fail("file", Msg("{file}: {why}", file=exc.filename, why=why) if exc.filename else why, 7)
        except Exception as exc:  # an evalflow bug or an environment failure: still one line
            if isinstance(exc, UnicodeEncodeError) and "surrogates not allowed" in str(exc):
                _fail("invalid_input", _not_utf8(exc), 7)
            from workflow.log import get_logger

            get_logger("evalflow.cli").info("unexpected_error", exc_info=True)  # shown with -v
            _fail(
                "internal",
                Msg("unexpected {kind}: {error} (run with -v for the log)", kind=type(exc).__name__, error=str(exc)),
                1,
            )

    return wrapper


def _fail(kind: str, message: Any, code: int) -> None:
    """One line on stderr and the exit code; with ``--json``, the message rendered, its id and
    parameters, and for a refusal each rule with its own."""
    ctx = click.get_current_context()
    config = ctx.find_object(Config)
    if config is not None and config.json:
        body: dict[str, Any] = {"error": kind, "message": str(message)}
        said = getattr(message, "message", None)
        if isinstance(said, Msg):
            body["message_id"] = said.as_dict()
        rejections = getattr(message, "rejections", None)
        if rejections:
            body["reasons"] = [
                {
                    "rule": r.rule,
                    "message": r.text,
                    **({"message_id": r.message.as_dict()} if isinstance(r.message, Msg) else {}),
                }
                for r in rejections
            ]
        click.echo(json.dumps(body, ensure_ascii=False), err=True)
    else:
        click.echo(Msg("Error: {message}", message=str(message)).render(), err=True)
    ctx.exit(code)


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--json` after the command too (`evalflow cycle status --json`), as well as before it."""

    def turn_on(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.ensure_object(Config).json = True

    return click.option(
        "--json", "json_out", is_flag=True, expose_value=False, callback=turn_on, help="Machine-readable output."
    )(func)


def cfg() -> Config:
    """The configuration of the running command."""
    return click.get_current_context().ensure_object(Config)


def out(data: Any, text: Callable[[], None]) -> None:
    """Print ``data`` as JSON under --json, else call ``text`` to print it for people."""
    if cfg().json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_default))
    else:
        text()


def _default(value: Any) -> Any:
    import dataclasses

    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


def local(instant: datetime | None, zone: str = "Asia/Shanghai") -> str:
    """An instant as local minutes (``—`` for none)."""
    from zoneinfo import ZoneInfo

    if instant is None:
        return "—"
    return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


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
    from policies.base import Rejection, name_rule
    from workflow.errors import InvalidInput, RuleRefused, at_most

    try:
        yield
    except InvalidInput as exc:
        if len(exc.problems) <= shown:
            raise
        errors = file.with_name(file.name + ".errors.txt")
        errors.write_text("\n".join(str(x) for x in exc.problems) + "\n", encoding="utf-8")
        listed = at_most(exc.problems, shown)[:-1]
        every = Msg("… {count} problems in all, every one in {file}", count=len(exc.problems), file=errors)
        raise InvalidInput(exc.what, [*listed, every]) from None
    except RuleRefused as exc:
        if len(exc.rejections) <= shown:
            raise
        errors = file.with_name(file.name + ".errors.txt")
        errors.write_text("\n".join(str(r) for r in exc.rejections) + "\n", encoding="utf-8")
        name_rule("more", "其余")  # (the line that stands for the rules not shown)
        more = Rejection(
            "more", Msg("{count} more; every one is listed in {file}", count=len(exc.rejections) - shown, file=errors)
        )
        raise RuleRefused(exc.verb, exc.subject, [*exc.rejections[:shown], more], exc.state) from None


def _pad(text: str, columns: int) -> str:
    """``text`` filled with spaces to ``columns`` columns of a terminal (a Chinese character takes two)."""
    from i18n.help import display_width

    return text + " " * (columns - display_width(text))


def print_audit(e: Any) -> None:
    """One audit entry as a line: when, what, the move, who, why, and the program's telling of it."""
    from workflow import story

    program = program_of_cycle(e.cycle_id)
    # (ids in English, as scripts read them; the program's names of states and actions in Chinese)
    move = story.move(e, program).render()
    action = story.action(e, program).render()
    why = f"  «{e.reason}»" if e.reason else ""
    said = story.tell(e, program)
    said = f"  — {said}" if said else ""
    # (what the entry is about: "project 49" in English, "项目 49" in Chinese)
    who = Msg("{subject} {id}", subject=term(e.subject), id=e.subject_id).render()
    line = Msg(
        "{at}  {who} {action} {move} by {actor}{why}{said}",
        at=local(e.at),
        who=_pad(who, 18),
        action=_pad(action, 16),
        move=_pad(move, 44),
        actor=e.actor,
        why=why,
        said=said,
    )
    click.echo(line.render())


def program_of_cycle(cycle_id: str | None) -> Any:
    """The program of a cycle (read once per cycle in a command: a long history asks per entry), or None."""
    if cycle_id is None:
        return None
    known = cfg().cycle_programs
    if cycle_id not in known:
        engine = cfg().engine()
        known[cycle_id] = engine.program_of(engine.get_cycle(cycle_id))
    return known[cycle_id]


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
    raise click.UsageError(Msg("name the program with --program (one of: {ids})", ids=Joined(ids, ", ")).render())


def expect_version_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--expect-version N`: act only if the project is still at version N (as you last saw it);
    otherwise nothing is done and the error names both versions (exit 6)."""
    return click.option(
        "--expect-version",
        "expected_version",
        type=int,
        help="Act only if the project is still at this version (see `project show`); else exit 6.",
    )(func)


def fire_cmd(
    trigger: str, ids: tuple[int, ...] | int, reason: str = "", verb: str | None = None, **request: Any
) -> None:
    """Fire ``trigger`` on the projects as the acting user and say where each one is now."""
    if request.get("expected_version") is None:
        request.pop("expected_version", None)
    done = cfg().engine().fire(cfg().user, ids, trigger, reason=reason, **request)
    for p in done:
        said = action_words(trigger, p.cycle_id, verb or trigger.capitalize() + "ed")
        now = state_words(p.state, p.cycle_id)
        click.echo(Msg("{verb} project {id}: now {state}", verb=said, id=p.id, state=now).render())


def parse_places(args: Sequence[str]) -> dict[str, int]:
    """``--places CATEGORY=N`` options as {category: N}; a value that is no whole number is a
    usage error (exit 2), naming the option as it was typed."""
    places: dict[str, int] = {}
    for arg in args:
        pair = place_pair(arg)
        if pair is None:
            said = Msg("--places {value}: expected CATEGORY=N with N a whole number", value=repr(arg))
            raise click.UsageError(said.render())
        places[pair[0]] = pair[1]
    return places


class _Id(click.IntRange):
    """A whole number in range, which a word that is no number calls an integer as it always has
    ("'x' is not a valid integer.": click's range would say "integer range"), in the language the
    catalog gives click's own integer type (i18n/help.py)."""

    @property
    def name(self) -> str:  # type: ignore[override]
        return click.types.IntParamType.name


# an id a command takes (a project, an appeal, an attachment, …): a whole number the database's
# column holds; anything else is refused by click in one line (exit 2), never sent to the database
ID = _Id(1, ID_MAX)
