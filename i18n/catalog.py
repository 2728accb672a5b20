"""``python -m i18n.catalog``: extract every message of the code into the catalog, update each
language's ``.po`` (the English ones fill themselves: an id is its English text) and compile them
to the ``.mo`` files the program reads. ``--check`` changes nothing and fails when a ``.po`` or a
``.mo`` is not what the code and the translations make (the test suite runs it).

Each area of the code has its own ``.po`` per language, so that work on one area never touches
another's file: ``errors`` (the engine and the store), ``rules`` (the policies and the stage
kinds), ``cli`` (the command line, the sheets and the demos), ``web`` (the console's pages and
templates), ``help`` (the command line's help texts and click's own words, which are not ``Msg``
calls: the command tree is walked and click's installed source extracted, see :mod:`i18n.help`).
"""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from i18n import DOMAINS, LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).resolve().parent.parent

# where each area's messages are written: every file of these folders goes to the first area
# whose patterns match its path (the console's dashboard, list and appeals pages apart from the
# rest of the web, so that work on one never touches the other's catalog)
SOURCES: dict[str, tuple[str, ...]] = {
    "errors": ("workflow/**", "store/**", "notify/**", "i18n/**"),
    "rules": ("policies/**", "stages/**"),
    "cli": ("commands/**", "cli.py", "sheets/**", "demo/**"),
    "console": (
        "web/views.py",
        "web/templates/dashboard.html",
        "web/templates/list.html",
        "web/templates/appeals.html",
    ),
    "web": ("web/**",),
    "help": (),  # (no file of its own: see extracted)
}
ROOTS = ("workflow", "store", "notify", "i18n", "policies", "stages", "commands", "cli.py", "sheets", "demo", "web")
# the date every catalog carries: a file changes only when its messages do
FIXED = datetime(2026, 1, 1, tzinfo=UTC)
KEYWORDS = {"Msg": None, "_": None, "gettext": None, "ngettext": (1, 2)}
OPTIONS = {"extensions": "jinja2.ext.i18n", "trimmed": "true"}


def extracted(domain: str) -> Catalog:
    """Every message the code of ``domain`` writes, with where."""
    template = Catalog(
        domain=domain, project="evalflow", copyright_holder="evalflow", charset="utf-8", creation_date=FIXED
    )
    for path in _files(domain):
        method = "python" if path.suffix == ".py" else "jinja2.ext:babel_extract"
        options = {} if path.suffix == ".py" else OPTIONS
        name = str(path.relative_to(ROOT))
        for lineno, message, comments, context in extract_from_file(
            method, str(path), keywords=KEYWORDS, options=options
        ):
            text = message[0] if isinstance(message, tuple) else message
            if not isinstance(text, str) or not text:
                continue
            template.add(text, locations=[(name, lineno)], auto_comments=comments, context=context)
    if domain == "help":
        _add_help(template)
    return template


def _add_help(template: Catalog) -> None:
    """The command tree's help texts and click's own messages (where: the declaring file; no
    line numbers, no absolute paths, so the catalog stays the same from one checkout to another)."""
    from cli import main
    from i18n.help import click_messages, help_texts

    for text, where in (*help_texts(main), *click_messages()):
        template.add(text, locations=[(where, 0)])


def area_of(path: str) -> str | None:
    """The area a file's messages belong to (its path from the checkout's root)."""
    for domain, patterns in SOURCES.items():
        if any(_matches(path, p) for p in patterns):
            return domain
    return None


def _matches(path: str, pattern: str) -> bool:
    """``folder/**``: every file under the folder; else the file itself."""
    if pattern.endswith("/**"):
        return path.startswith(pattern[:-2])
    return path == pattern


def _files(domain: str) -> list[Path]:
    found: list[Path] = []
    for root in ROOTS:
        top = ROOT / root
        candidates = [top] if top.is_file() else sorted(top.rglob("*"))
        for path in candidates:
            if path.suffix not in (".py", ".html") or "migrations" in path.parts:
                continue
            if area_of(str(path.relative_to(ROOT))) == domain:
                found.append(path)
    return found


def updated(domain: str, lang: str, template: Catalog) -> Catalog:
    """The ``.po`` of ``domain`` in ``lang`` brought up to the code: new messages added (in
    English, filled with their id; in Chinese, left for a translator), gone ones dropped."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
    if po.exists():
        with po.open("rb") as f:
            catalog = read_po(f, locale=lang, domain=domain)
    else:
        catalog = Catalog(locale=lang, domain=domain, project="evalflow", copyright_holder="evalflow", charset="utf-8")
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    catalog.creation_date = catalog.revision_date = FIXED  # (the files change only with their messages)
    if lang == "en":
        for message in catalog:
            if message.id and not message.string:
                message.string = message.id
    return catalog


def _po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    # file names without line numbers: moving code does not change the catalog
    write_po(out, catalog, width=0, omit_header=False, ignore_obsolete=True, include_lineno=False)
    return _stable(out.getvalue())


def _stable(po: bytes) -> bytes:
    """A ``.po`` without the header lines that change with the day or the tool's version."""
    changing = (
        b'"POT-Creation-Date:',
        b'"PO-Revision-Date:',
        b'"Generated-By:',
        b"# Copyright (C)",
        b"# FIRST AUTHOR",
        b"#, fuzzy",
    )
    keep = [line for line in po.splitlines(keepends=True) if not line.startswith(changing)]
    return b"".join(keep)


def _mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def run(check: bool = False) -> list[str]:
    """Bring every ``.po`` and ``.mo`` up to the code; with ``check``, only say which are not."""
    stale: list[str] = []
    for domain in DOMAINS:
        template = extracted(domain)
        for lang in LANGUAGES:
            catalog = updated(domain, lang, template)
            folder = LOCALE_DIR / lang / "LC_MESSAGES"
            made = ((folder / f"{domain}.po", _po_bytes(catalog)), (folder / f"{domain}.mo", _mo_bytes(catalog)))
            for path, data in made:
                if path.exists() and path.read_bytes() == data:
                    continue
                stale.append(str(path.relative_to(ROOT)))
                if not check:
                    folder.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
    return stale


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = run(check=check)
    for path in stale:
        print(("out of date: " if check else "written: ") + path)
    return 1 if check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
