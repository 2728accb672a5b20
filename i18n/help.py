"""The command line's help and click's own words in the reader's language.

Two kinds of words are not written as :class:`~i18n.Msg` in the code: the help of the command tree
(each command's docstring, ``short_help`` and epilog, each parameter's ``help=``) and click's own
messages ("Usage:", "Options:", "Error: No such command …", "'x' is not a valid integer."). Both
are the catalog area ``help``: the English text click shows is the message id
(:func:`help_texts` walks the tree, :func:`click_messages` extracts click's ``_``/``ngettext``
calls from the installed package), so ``--lang en`` gives today's words byte for byte.

:class:`SpeakingGroup` is the root group: before click reads a single argument it decides the
language (``--lang X`` among the root's options, else ``EVALFLOW_LANG``, else Chinese), gives every
command and parameter its help in that language (the English stays on the object, so that one
process may switch back and forth) and makes click's own ``_``/``ngettext`` read the catalog.
"""

from __future__ import annotations

import contextvars
import inspect
import os
import re
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click
import click._textwrap
import click.formatting
from click._compat import strip_ansi, term_len
from click._textwrap import TextWrapper

from i18n import DEFAULT, language, translations

# click's modules that say something to a reader: each imports gettext's ``_`` (and some
# ``ngettext``) as a module global, which :func:`install` replaces
CLICK_MODULES = (
    "click.core",
    "click.decorators",
    "click.exceptions",
    "click.formatting",
    "click.parser",
    "click.types",
    "click.termui",
    "click.utils",
    "click.shell_completion",
    "click._termui_impl",
)
CLICK_DIR = Path(click.__file__).resolve().parent
# words click passes to ``_`` or into a message without writing them as a message: a required
# option's mark in the help, and the names of the number types ("'x' is not a valid integer.")
CLICK_WORDS = (("required", "click/core.py"),) + tuple(
    (name, "click/types.py") for name in ("integer", "float", "integer range", "float range")
)

# the language click speaks in: set only while the root group runs, so that any other use of
# click in the process (a library's own command line) keeps its own words
_speaking: contextvars.ContextVar[str | None] = contextvars.ContextVar("evalflow_click_language", default=None)
# a Chinese character (or full-width punctuation) alone, or a run of anything else
_WIDE_OR_NOT = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]|[^\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+")
_CLOSING = "，。、；：）」』！？》”’"
_OPENING = "（「『《“‘"
# where a command's or a parameter's English help is kept while it speaks another language
_ENGLISH = "_evalflow_english_help"


def _clean(text: str | None) -> str:
    """The text click shows for a command's help or epilog: dedented, cut at the first form feed."""
    if not text:
        return ""
    return inspect.cleandoc(text).partition("\f")[0]


def _commands(root: click.Command, path: str = "") -> Iterator[tuple[str, click.Command]]:
    """Every command of the tree with its path (``evalflow project add``), the root first."""
    path = path or "evalflow"  # (the root is the program itself)
    yield path, root
    if isinstance(root, click.Group):
        for name in sorted(root.commands):
            yield from _commands(root.commands[name], f"{path} {name}")


def _where(command: click.Command) -> str:
    """The module that declares ``command`` as a file name (``commands/projects.py``), the same
    in every checkout (the catalog's location): its callback's, under the decorators that wrap it."""
    if command.callback is None:
        return "cli.py"
    module = getattr(inspect.unwrap(command.callback), "__module__", None) or "cli"
    return module.replace(".", "/") + ".py"


def help_entries(root: click.Command) -> Iterator[tuple[str, str, str]]:
    """Every help text of the tree as ``(where it is read, its English, the declaring file)``;
    where: ``evalflow project add`` (its help), ``… short help``, ``… epilog``, ``… --flag``."""
    for path, command in _commands(root):
        english = _english_of(command)
        where = _where(command)
        for part, text in (
            ("", english["help"]),
            (" short help", english["short_help"]),
            (" epilog", english["epilog"]),
        ):
            if text:
                yield f"{path}{part}", _clean(text), where
        for param in command.params:
            text = _english_of(param)["help"]
            if text:
                yield f"{path} {param.opts[0] if param.opts else param.name}", text, where


def help_texts(root: click.Command) -> Iterator[tuple[str, str]]:
    """Every help text of the tree as ``(English, declaring file)``, the catalog's messages."""
    for _where_read, text, where in help_entries(root):
        yield text, where


def click_messages() -> Iterator[tuple[str, str]]:
    """Every message of the installed click as ``(English, its file)``: the ``_`` and ``ngettext``
    calls of ``click/*.py``. A plural message gives both forms as messages of their own (Chinese
    has one form; the catalog's tools then treat every message alike)."""
    from babel.messages.extract import extract_from_file

    for path in sorted(CLICK_DIR.glob("*.py")):
        where = f"click/{path.name}"
        found = extract_from_file("python", str(path), keywords={"_": None, "ngettext": (1, 2)})
        for _lineno, message, _comments, _context in found:
            for text in message if isinstance(message, tuple) else (message,):
                if isinstance(text, str) and text:
                    yield text, where
    yield from CLICK_WORDS


def _english_of(obj: Any) -> dict[str, str | None]:
    """The English help of a command or a parameter, kept on it the first time it speaks."""
    kept: dict[str, str | None] | None = obj.__dict__.get(_ENGLISH)
    if kept is None:
        kept = {name: getattr(obj, name, None) for name in ("help", "short_help", "epilog")}
    return kept


def display_width(text: str) -> int:
    """The columns ``text`` takes on a terminal (a Chinese character takes two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _first_sentence(text: str, limit: int = 60) -> str:
    """A Chinese help's short form for a group's list of commands: its first sentence, cut at
    its first pause when too wide (click's own shortening counts English words and would cut a
    Chinese sentence anywhere)."""
    first = " ".join(text.split("\n\n")[0].replace("\b", "").split())
    first = first.split("。")[0]
    if display_width(first) > limit:
        cuts = [i for i, c in enumerate(first) if c in "，：；（" and display_width(first[:i]) >= 8]
        if cuts:
            first = first[: cuts[0]]
    return first


def speak(root: click.Command, lang: str) -> None:
    """Give every command and parameter of the tree its help in ``lang`` (English: the original
    objects' words exactly)."""
    catalog = translations(lang)

    def said(text: str | None) -> str | None:
        return catalog.gettext(_clean(text)) if text else text

    for _path, command in _commands(root):
        if getattr(command, "_help_option", None) is not None:
            command._help_option = None  # (click keeps the --help option it made, with its words)
        english = _english_of(command)
        if lang == "en":
            command.__dict__.pop(_ENGLISH, None)
            command.help, command.short_help, command.epilog = english["help"], english["short_help"], english["epilog"]
        else:
            command.__dict__[_ENGLISH] = english
            command.help = said(english["help"])
            command.epilog = said(english["epilog"])
            if english["short_help"]:
                command.short_help = said(english["short_help"])
            else:
                command.short_help = _first_sentence(command.help) if command.help else None
        for param in command.params:
            kept = _english_of(param)
            if lang == "en":
                param.__dict__.pop(_ENGLISH, None)
                param.help = kept["help"]
            elif kept["help"]:
                param.__dict__[_ENGLISH] = kept
                param.help = catalog.gettext(kept["help"])


def _gettext(message: str) -> str:
    """click's ``_``: the message in the language the root group speaks (as it is elsewhere)."""
    lang = _speaking.get()
    if lang is None or lang == "en" or not message:
        return message
    return translations(lang).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    """click's ``ngettext``: each form is a message of its own in the catalog."""
    return _gettext(singular if n == 1 else plural)


class _TypeName(str):
    """A number type's name (``integer``): the type's own name and its metavar (``INTEGER``, what
    one types) as before, but read in the root group's language where a message formats it."""

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        return format(_gettext(str(self)), spec)


def _write_heading(self: click.HelpFormatter, heading: str) -> None:
    """A help section's heading (``Options:``), with the full-width colon of a Chinese text."""
    colon = "：" if _speaking.get() not in (None, "en") else ":"
    self.write(f"{'':>{self.current_indent}}{heading}{colon}\n")


_WRITE_USAGE = click.HelpFormatter.write_usage


def _write_usage(self: click.HelpFormatter, prog: str, args: str = "", prefix: str | None = None) -> None:
    """The usage line; in Chinese without a space after its full-width colon (用法：evalflow …)."""
    if prefix is None and _speaks_wide():
        prefix = _gettext("Usage:")
    _WRITE_USAGE(self, prog, args, prefix)


_MISSING_MESSAGE = click.MissingParameter.format_message


def _missing_message(self: click.MissingParameter) -> str:
    """ "Missing argument 'X'." with the Chinese full stop (click writes its "." itself)."""
    text = _MISSING_MESSAGE(self)
    return text.replace(".", "。", 1).replace("。 ", "。", 1) if _speaks_wide() else text


def _speaks_wide() -> bool:
    """Whether the root group speaks a language written in wide characters (not English)."""
    return _speaking.get() not in (None, "en")


def _term_len(x: str) -> int:
    """click's measure of a help line: in Chinese the columns it takes (a Chinese character two),
    so that the help wraps at the terminal's width; else click's own."""
    return display_width(strip_ansi(x)) if _speaks_wide() else term_len(x)


class _WideTextWrapper(TextWrapper):
    """click's wrapper, free in Chinese to break a line between any two Chinese characters (a
    Chinese sentence has no spaces to break at), as Chinese text breaks."""

    def _split(self, text: str) -> list[str]:
        chunks = super()._split(text)
        if not _speaks_wide():
            return chunks
        out: list[str] = []
        glued = False
        for piece in (piece for chunk in chunks for piece in _WIDE_OR_NOT.findall(chunk)):
            # no closing mark at the start of a line, no opening one at its end
            if out and (glued or piece[0] in _CLOSING):
                out[-1] += piece
            else:
                out.append(piece)
            glued = piece[-1] in _OPENING
        return out


def install() -> None:
    """Make click's own ``_`` and ``ngettext`` read the catalog (once per process; harmless
    outside the root group, where they return the English as before)."""
    import importlib

    import click.types

    for kind in (click.types.IntParamType, click.types.FloatParamType, click.IntRange, click.FloatRange):
        if not isinstance(kind.name, _TypeName):
            kind.name = _TypeName(kind.name)
    click.HelpFormatter.write_heading = _write_heading  # type: ignore[method-assign]
    click.HelpFormatter.write_usage = _write_usage  # type: ignore[method-assign]
    click.MissingParameter.format_message = _missing_message  # type: ignore[method-assign]
    click._textwrap.TextWrapper = _WideTextWrapper  # type: ignore[misc]
    click._textwrap.term_len = _term_len
    click.formatting.term_len = _term_len

    for name in CLICK_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:  # (a module a later click may drop)
            continue
        if "_" in vars(module):
            module._ = _gettext  # type: ignore[attr-defined]
        if "ngettext" in vars(module):
            module.ngettext = _ngettext  # type: ignore[attr-defined]


def language_of(args: Sequence[str], options: click.Command) -> str:
    """The language a command line asks for: ``--lang X``/``--lang=X`` among the root's own
    options (a command's own ``--lang``, such as a report's header language, is its own), else
    ``EVALFLOW_LANG``, else Chinese. A language not understood gives the default here; the
    ``--lang`` option itself then refuses it."""
    taking_value = {
        opt
        for param in options.params
        if isinstance(param, click.Option) and not param.is_flag and not param.count
        for opt in param.opts
    }
    asked: str | None = None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--" or not arg.startswith("-") or arg == "-":
            break  # the command's name: what follows is the command's
        if arg == "--lang":
            asked = args[i + 1] if i + 1 < len(args) else None
        elif arg.startswith("--lang="):
            asked = arg.partition("=")[2]
        i += 2 if arg in taking_value else 1
    for candidate in (asked, os.environ.get("EVALFLOW_LANG")):
        if candidate:
            try:
                return language(candidate)
            except ValueError:
                continue
    return DEFAULT


class SpeakingGroup(click.Group):
    """The root group: the help and click's own words in the language the command line asks for,
    decided before click reads an argument (``evalflow --help``, ``evalflow --help --lang en``)."""

    def main(self, args: Sequence[str] | None = None, *pos: Any, **kw: Any) -> Any:
        """Run the command line in its language; the process's language is back after it."""
        import i18n

        argv = list(sys.argv[1:] if args is None else args)
        lang = language_of(argv, self)
        install()
        speak(self, lang)
        said = _speaking.set(lang)
        token = i18n.set_language(lang)
        try:
            return super().main(argv, *pos, **kw)
        finally:
            i18n.reset_language(token)
            _speaking.reset(said)
