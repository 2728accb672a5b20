"""Bounds on what users give evalflow: the characters a text may hold, how deep and how large a
value may be, and JSON read without surprises.

The nine cities share one server, so whatever a user types, uploads or sends to the API is
untrusted. PostgreSQL refuses a NUL byte and a lone surrogate in text (the store would answer
"database unavailable") while SQLite keeps them, and control characters make a name print
differently from what it is. So they are refused before anything reaches the database: the
engine's every public action checks the strings it is given (:func:`checked_inputs`), and the
application form checks each field against its own limits (workflow/form.py).
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from i18n import Msg
from workflow.errors import InvalidInput

# C0 controls other than tab, line feed and carriage return; DEL; lone UTF-16 surrogates (which
# PostgreSQL cannot store and no text typed in holds)
_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# what a one-line text (a name, a phone number) may not hold besides: a line break or a tab
_BAD_ONE_LINE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
ID_MAX = 2**31 - 1  # the largest id the database's integer columns hold (projects, appeals, …)
MAX_DEPTH = 32  # tables and lists inside one another: an application needs five
MAX_IMPORT_ROWS = 20_000  # EVALFLOW_MAX_IMPORT_ROWS overrides
# a JSON file may hold at most this many tables and lists per row of the limit (an application
# with its team is about a dozen): a bound on the memory it can take once parsed
JSON_CONTAINERS_PER_ROW = 64


def max_import_rows() -> int:
    """The most rows (or applications) one import may hold: EVALFLOW_MAX_IMPORT_ROWS, else 20,000."""
    try:
        rows = int(os.environ.get("EVALFLOW_MAX_IMPORT_ROWS", MAX_IMPORT_ROWS))
    except ValueError:
        rows = MAX_IMPORT_ROWS
    return max(rows, 1)


# a number of list places has at most six digits: beyond 999,999 it is a slip, not a list
PLACES_DIGITS = 6
# the digits a Chinese input method types (０–９), read as the digits they are
_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def whole_number(text: str, digits: int = PLACES_DIGITS) -> int | None:
    """``text`` (spaces around it aside) as a whole number ≥ 0 of at most ``digits`` digits, or
    None: ASCII or full-width digits only (no sign, no superscript, no other script's digits)."""
    t = text.translate(_FULL_WIDTH).strip()
    return int(t) if t.isascii() and t.isdecimal() and len(t) <= digits else None


def place_pair(given: str) -> tuple[str, int] | None:
    """``CATEGORY=N`` (``--places``, the API's ``places``) as (category, N), or None where it is not
    one (no ``=``, or N no whole number of places)."""
    category, sep, number = given.partition("=")
    n = whole_number(number)
    return (category.strip(), n) if sep and n is not None else None


def rows_limit_message(limit: int) -> Msg:
    """What a file over the row limit is told."""
    return Msg(
        "it holds more than {limit} rows; the limit is {limit} (split it, or set EVALFLOW_MAX_IMPORT_ROWS)",
        limit=limit,
    )


def bad_character(text: str, one_line: bool = False) -> Msg | None:
    """What is wrong with ``text``'s characters (a control character, a NUL byte, a lone
    surrogate; with ``one_line`` also a line break or tab), or None."""
    if text.isprintable():  # (the common case, in C: no control character at all)
        return None
    found = (_BAD_ONE_LINE if one_line else _BAD).search(text)
    if found is None:
        return None
    char = found.group()
    code = f"U+{ord(char):04X}"
    if one_line and char in "\t\n\r":
        return Msg(
            "holds a line break or tab ({code}) at character {at}; it must be one line", code=code, at=found.start() + 1
        )
    return Msg("holds the control character {code} at character {at}", code=code, at=found.start() + 1)


def shown_value(value: Any) -> str | Msg:
    """A value as a message quotes it: short, whatever its size (a 5,000-digit number cannot even
    be written out by str)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**18:
        digits = int(value.bit_length() * 0.30103) + 1
        if digits > 4000:  # (str gives up at 4,300 digits)
            return Msg("a number of about {digits} digits", digits=digits)
        text = str(abs(value))
        return f"{'-' if value < 0 else ''}{text[0]}.{text[1:3]}e{len(text) - 1}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def input_problems(value: Any, where: str) -> list[Msg]:
    """Every string in ``value`` (tables, lists and their keys) with a character no input may
    hold, and any nesting deeper than MAX_DEPTH: each named by its place. Walked without recursion,
    so a hostile depth cannot exhaust the stack."""
    if _clean(value):  # the common case: one quick pass, no place named
        return []
    problems: list[Msg] = []
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        item, at, depth = stack.pop()
        if isinstance(item, str):
            why = bad_character(item)
            surrogate = _SURROGATE.search(item) if why is not None else None
            if surrogate is not None:
                problems.append(_not_utf8(item, surrogate.start()))
            elif why is not None:
                problems.append(Msg("{where} {why}", where=at, why=why))
        elif isinstance(item, Mapping | list | tuple):
            if depth >= MAX_DEPTH:
                problems.append(Msg("{where} is nested more than {depth} levels deep", where=at, depth=MAX_DEPTH))
                continue
            if isinstance(item, Mapping):
                for k, v in item.items():
                    key = f"{at}.{k}" if isinstance(k, str) and not bad_character(k) else f"{at}[{k!r}]"
                    if isinstance(k, str) and (why := bad_character(k)) is not None:
                        problems.append(Msg("{where} (a key) {why}", where=key, why=why))
                    stack.append((v, key, depth + 1))
            else:
                stack.extend((v, f"{at}[{i}]", depth + 1) for i, v in enumerate(item, start=1))
        if len(problems) >= 20:  # enough to see the pattern; the message stays one readable line
            break
    return problems


def _clean(value: Any) -> bool:
    """Whether ``value`` has nothing :func:`input_problems` would name, found quickly, a level of
    nesting at a time: exact types only (anything else is left to the careful pass), no place
    written out."""
    level = [value]
    for _ in range(MAX_DEPTH + 1):
        deeper: list[Any] = []
        for item in level:
            kind = type(item)
            if kind is str:
                if not item.isprintable() and _BAD.search(item):
                    return False
            elif kind is dict:
                for k in item:
                    if type(k) is not str or (not k.isprintable() and _BAD.search(k)):
                        return False
                deeper.extend(item.values())
            elif kind is list or kind is tuple:
                deeper.extend(item)
            elif isinstance(item, str | Mapping | list | tuple):
                return False
        if not deeper:
            return True
        level = deeper
    return False  # (nested deeper than MAX_DEPTH)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _not_utf8(text: str, at: int) -> Msg:
    """A text holding a stand-in for bytes that are not UTF-8 (a terminal or a file in another
    encoding), said as the command line has always said it: with the text near it."""
    near = text[max(0, at - 12) : at + 13].encode("utf-8", "replace").decode("utf-8")
    return Msg(
        "it holds bytes that are not UTF-8 text{where}; give it in UTF-8 (check the terminal's or the file's encoding)",
        where=Msg(" (near {text})", text=repr(near)),
    )


F = TypeVar("F", bound=Callable[..., Any])


def checked(fn: F) -> F:
    """``fn`` refusing (InvalidInput, exit 7) any argument that holds a character no input may
    hold, before it runs: nothing of it reaches the database."""
    names = [p for p in inspect.signature(fn).parameters if p != "self"]

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        problems: list[Msg] = []
        for name, value in [*zip(names, args[1:], strict=False), *kwargs.items()]:
            if isinstance(value, str | Mapping | list | tuple):
                problems += input_problems(value, name)
        if problems:
            raise InvalidInput("input", problems)
        return fn(*args, **kwargs)

    return run  # type: ignore[return-value]


C = TypeVar("C", bound=type)


def checked_inputs(cls: C) -> C:
    """Make every public action of ``cls`` (and of the classes it is made of) :func:`checked`."""
    for name in dir(cls):
        if name.startswith("_"):
            continue
        attr = inspect.getattr_static(cls, name)
        if inspect.isfunction(attr):
            setattr(cls, name, checked(attr))
    return cls


# ------------------------------------------------------------------------------------------ JSON
class _Refused(ValueError):
    def __init__(self, message: Msg):
        super().__init__(str(message))
        self.message = message


def _constant(name: str) -> Any:
    raise _Refused(Msg("{value} is not a number evalflow accepts", value=name))


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(Msg("the number {value} is too large", value=text[:40]))
    return value


def load_json(text: str, what: Any, rows: int | None = None) -> Any:
    """``text`` parsed as JSON, or InvalidInput (exit 7) naming ``what`` and the problem in one
    line: not JSON, nested too deep, a number too long to read (Python's 4,300 digits), NaN,
    Infinity or a number too large for a float, or more tables and lists than ``rows`` rows of
    an import could need (so that a small file cannot take gigabytes once parsed)."""
    limit = (rows or max_import_rows()) * JSON_CONTAINERS_PER_ROW
    # counted in C over the text: an upper bound (a brace inside a string counts too)
    if text.count("{") + text.count("[") > limit:
        raise InvalidInput(what, [Msg("it holds more than {limit} tables and lists; split it", limit=limit)])
    try:
        return json.loads(text, parse_constant=_constant, parse_float=_float)
    except _Refused as exc:
        raise InvalidInput(what, [exc.message]) from None
    except RecursionError:
        raise InvalidInput(what, [Msg("it is nested too deeply to read")]) from None
    except ValueError as exc:  # json.JSONDecodeError, and int's limit on digits
        raise InvalidInput(what, [Msg("not valid JSON: {why}", why=" ".join(str(exc).split())[:200])]) from None
