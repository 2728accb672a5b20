"""One message catalog: every word a user reads, in Chinese (``zh_CN``) by default, in English
on request.

A message is written once, in English, as a :class:`Msg` with named parameters
(``Msg("No {what} {ident!r}{extra}.", what=…, ident=…, extra=…)``); its id is that English text,
so ``--lang en`` gives today's words exactly and the Chinese comes from the catalog
(``i18n/locale/zh_CN/LC_MESSAGES/*.po``, compiled to ``.mo`` beside it and shipped in the
wheel). A message is rendered when it is read, in the reader's language: the command line's
(``--lang``, ``EVALFLOW_LANG``), or the signed-in user's on the console. Parameters may be
messages themselves, words given in both languages by a program file (:class:`Text`: an
action's label, a state's name, a party's name) or lists (:class:`Joined`).

The catalog is split by area (``errors``, ``rules``, ``cli``, ``web``, ``console``, ``help``), one ``.po`` per area and
language, merged when loaded: ``python -m i18n.catalog`` extracts the messages, updates the
``.po`` files (the English ones fill themselves) and compiles them.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any

LANGUAGES = ("zh_CN", "en")
DEFAULT = "zh_CN"
DOMAINS = ("help", "errors", "rules", "cli", "web", "console")  # (merged in this order: an area's own words win)
LOCALE_DIR = Path(__file__).parent / "locale"

# what a reader may type for each language
_ALIASES = {
    "zh_CN": "zh_CN",
    "zh_cn": "zh_CN",
    "zh-cn": "zh_CN",
    "zh": "zh_CN",
    "zh_hans": "zh_CN",
    "zh-hans": "zh_CN",
    "cn": "zh_CN",
    "中文": "zh_CN",
    "en": "en",
    "en_us": "en",
    "en-us": "en",
    "en_gb": "en",
    "en-gb": "en",
    "english": "en",
}


def language(name: str | None) -> str:
    """The language ``name`` means (``zh``, ``zh-CN``, ``en``, ``en_US``…); ValueError if none."""
    if name is None or not name.strip():
        return DEFAULT
    key = name.strip().split(".")[0]  # (a locale such as en_US.UTF-8)
    found = _ALIASES.get(key) or _ALIASES.get(key.lower())
    if found is None:
        raise ValueError(f"unknown language {name!r} (zh or en)")
    return found


def _process_default() -> str:
    """The language of a process that names none: ``EVALFLOW_LANG`` (the command line's
    ``--lang`` reads it too), else Chinese."""
    try:
        return language(os.environ.get("EVALFLOW_LANG"))
    except ValueError:
        return DEFAULT


_PROCESS_DEFAULT = _process_default()
_current: contextvars.ContextVar[str] = contextvars.ContextVar("evalflow_language", default=_PROCESS_DEFAULT)


def current() -> str:
    """The language of what is being rendered now."""
    return _current.get()


def set_language(lang: str) -> contextvars.Token[str]:
    """Render in ``lang`` from now on in this context (a command, a request); the token undoes it."""
    return _current.set(language(lang))


def reset_language(token: contextvars.Token[str]) -> None:
    """Render again in the language before :func:`set_language` gave ``token``."""
    _current.reset(token)


@contextmanager
def using(lang: str) -> Iterator[None]:
    """Render in ``lang`` inside the block."""
    token = _current.set(language(lang))
    try:
        yield
    finally:
        _current.reset(token)


@cache
def translations(lang: str) -> NullTranslations:
    """The catalog of ``lang``: every area's compiled ``.mo`` merged (an area not yet compiled
    gives the English ids)."""
    from babel.support import Translations

    out: NullTranslations = NullTranslations()
    for domain in DOMAINS:
        mo = LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.mo"
        if not mo.exists():
            continue
        with mo.open("rb") as f:
            loaded = Translations(f, domain=domain)
        if isinstance(out, Translations):
            out.merge(loaded)
        else:
            out = loaded
    return out


def gettext(message: str, lang: str | None = None) -> str:
    """``message`` (an English id) in ``lang`` (the current language by default)."""
    return translations(lang or current()).gettext(message)


def _(message: str) -> str:
    """``message`` in the current language (the templates' and the pages' shorthand)."""
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """``singular`` or ``plural`` by ``n``, in the current language (Chinese has one form)."""
    return translations(current()).ngettext(singular, plural, n)


class Msg:
    """A message of the catalog with its parameters, rendered when read (``str()`` renders in
    the current language; :meth:`render` in one named)."""

    __slots__ = ("id", "params")

    def __init__(self, id: str, /, **params: Any) -> None:
        self.id = id
        self.params = params

    def render(self, lang: str | None = None) -> str:
        lang = lang or current()
        text = translations(lang).gettext(self.id)
        if not self.params:
            return text
        return text.format(**{k: rendered(v, lang) for k, v in self.params.items()})

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Msg({self.id!r}, {self.params!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Msg) and (self.id, self.params) == (other.id, other.params)

    def __hash__(self) -> int:
        return hash(self.id)

    def as_dict(self) -> dict[str, Any]:
        """The message id and its parameters as plain values (``--json`` keeps them beside the
        rendered text)."""
        return {"id": self.id, "params": {k: plain(v) for k, v in self.params.items()}}


class Text:
    """Words a program file (or the engine's own table) gives in both languages: an action's
    label, a state's or a party's name."""

    __slots__ = ("en", "zh")

    def __init__(self, en: str, zh: str) -> None:
        self.en = en
        self.zh = zh or en

    def render(self, lang: str | None = None) -> str:
        return self.en if (lang or current()) == "en" else self.zh

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Text({self.en!r}, {self.zh!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and (self.en, self.zh) == (other.en, other.zh)

    def __hash__(self) -> int:
        return hash((self.en, self.zh))


class Joined:
    """Items read as one list, with the separator of the reader's language (``; `` or ``；``)."""

    __slots__ = ("items", "sep")

    def __init__(self, items: Iterable[Any], sep: str = "; ") -> None:
        self.items = tuple(items)
        self.sep = sep

    def render(self, lang: str | None = None) -> str:
        lang = lang or current()
        return translations(lang).gettext(self.sep).join(str(rendered(i, lang)) for i in self.items)

    def __str__(self) -> str:
        return self.render()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Joined) and (self.items, self.sep) == (other.items, other.sep)

    def __hash__(self) -> int:
        return hash(self.items)


def rendered(value: Any, lang: str | None = None) -> Any:
    """A parameter as the reader reads it: messages and words in their language; any other value
    as it is (so that ``{score:.4f}`` still formats a number)."""
    if isinstance(value, Msg | Text | Joined):
        return value.render(lang)
    render = getattr(value, "render", None)  # (a rule's rejection renders itself)
    if callable(render) and not isinstance(value, str | type):
        return render(lang)
    return value


def plain(value: Any) -> Any:
    """A parameter as JSON keeps it: a message as its English text, words as both."""
    if isinstance(value, Msg):
        return value.render("en")
    if isinstance(value, Text):
        return {"en": value.en, "zh": value.zh}
    if isinstance(value, Joined):
        return [plain(i) for i in value.items]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


# the separators Joined uses, so that extraction finds them
_SEPARATORS = (Msg("; "), Msg(", "))
