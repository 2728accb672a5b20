"""What a reader of a console page reads, and the words in it that are not the catalog's.

``visible_strings(html)`` is a page's visible text, one string per text run: the text between
tags (not scripts, styles or the document's hidden inputs) and the attribute values a reader
reads (placeholder, title, aria-label, alt, an input button's value, an option's label).

``Vocabulary`` is what must not be read on a Chinese page of one program: its rule ids (the
policies' and the engine's named rules), its state, stage and trigger ids, its declared action
ids, its party ids, command-line flags, and English words. ``Vocabulary.leaks(text)`` says which
of them a string holds, after taking out what is data: the users' names, the cycle ids, the
applicants' and projects' names, the words of an explicit allowlist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser

from policies.base import REGISTRY, RULE_NAMES

# words a Chinese page may carry in ASCII: program and file-format names, the language switch
ALLOWED_WORDS = frozenset(
    {
        "G60",
        "XLSX",
        "xlsx",
        "CSV",
        "csv",
        "PDF",
        "pdf",
        "JPEG",  # the other types of an attached document, and the hash that names its content
        "PNG",
        "DOCX",
        "Word",  # the program a DOCX is edited in, as Chinese offices name it (and WPS, the other)
        "WPS",
        "SHA",
        "zip",
        "md",
        "evalflow",
        "English",  # the language switch names the other language in its own words
        "JSON",
        "json",
        "API",  # 接口文档 links to the API's documentation, which keeps its name
    }
)

_SKIPPED = frozenset({"script", "style", "template", "noscript"})
_READ_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt", "label")
_BUTTON_INPUTS = frozenset({"submit", "button", "reset"})


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.strings: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skipping += 1
            return
        values = dict(attrs)
        for name in _READ_ATTRIBUTES:
            self._add(values.get(name))
        if tag == "input" and (values.get("type") or "").lower() in _BUTTON_INPUTS:
            self._add(values.get("value"))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._add(data)

    def _add(self, text: str | None) -> None:
        words = " ".join((text or "").split())
        if words:
            self.strings.append(words)


def visible_strings(html: str) -> list[str]:
    """The page's visible text runs, whitespace collapsed, in document order."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.strings


def _word(ident: str) -> re.Pattern[str]:
    """``ident`` standing alone (not inside a longer identifier or word)."""
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(ident)}(?![A-Za-z0-9_])")


ENGLISH = re.compile(r"[A-Za-z]{3,}")
FLAG = re.compile(r"(?<![\w-])--[A-Za-z][\w-]*")
BRACKETED_RULE = re.compile(r"\[[a-z][a-z0-9_]*\]")


@dataclass
class Vocabulary:
    """The ids of one program that a page must not show, and the data it may."""

    program: object
    data: Iterable[str] = ()
    allowed: frozenset[str] = ALLOWED_WORDS
    rule_ids: tuple[str, ...] = field(init=False)
    state_ids: tuple[str, ...] = field(init=False)
    party_ids: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        p: object = self.program
        self.rule_ids = tuple(sorted({*REGISTRY, *RULE_NAMES}, key=len, reverse=True))
        ids = {*p.states, *(s.id for s in p.stages)}  # type: ignore[attr-defined]
        ids |= {t.trigger for t in p.transition_specs}  # type: ignore[attr-defined]
        ids |= {trigger for s in p.stages for trigger in s.kind.cycle_actions}  # type: ignore[attr-defined]
        ids |= set(p.actions)  # type: ignore[attr-defined]
        self.state_ids = tuple(sorted(ids, key=len, reverse=True))
        self.party_ids = tuple(sorted((q.id for q in p.parties), key=len, reverse=True))  # type: ignore[attr-defined]
        # data is taken out longest first, so that a user name goes before the party id in it
        self._data = sorted({d for d in self.data if d}, key=len, reverse=True)
        self._patterns = {i: _word(i) for i in (*self.rule_ids, *self.state_ids, *self.party_ids)}

    def without_data(self, text: str) -> str:
        for d in self._data:
            text = text.replace(d, " ")
        return text

    def leaks(self, text: str) -> list[tuple[str, str]]:
        """(class, offending string) for every id, flag or English word ``text`` shows."""
        rest = self.without_data(text)
        found: list[tuple[str, str]] = []
        for m in BRACKETED_RULE.finditer(rest):
            found.append(("rule id", m.group()))
        for m in FLAG.finditer(rest):
            found.append(("flag", m.group()))
        rest = FLAG.sub(" ", rest)
        for cls, ids in (
            ("rule id", self.rule_ids),
            ("state or trigger id", self.state_ids),
            ("party id", self.party_ids),
        ):
            for ident in ids:
                if self._patterns[ident].search(rest):
                    found.append((cls, ident))
                    rest = self._patterns[ident].sub(" ", rest)  # (its words are not counted again)
        for m in ENGLISH.finditer(rest):
            if m.group() not in self.allowed:
                found.append(("English word", m.group()))
        return found
