"""The message catalog: up to date with the code, every message in Chinese and in English with
the same placeholders, English word for word; rendering in the reader's language."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner

import i18n
from cli import main
from i18n import Joined, Msg, Text
from i18n.catalog import run
from policies.base import Rejection
from workflow.errors import NotFound, RuleRefused


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _catalog(domain: str, lang: str):
    with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po").open("rb") as f:
        return read_po(f, locale=lang, domain=domain)


def test_the_catalog_is_what_the_code_and_the_translations_make() -> None:
    """`python -m i18n.catalog` has been run after the last change of a message: every .po holds
    the code's messages and every .mo is compiled from its .po."""
    assert run(check=True) == []


@pytest.mark.parametrize("domain", i18n.DOMAINS)
def test_every_message_has_chinese_and_english_with_the_same_placeholders(domain: str) -> None:
    zh, en = _catalog(domain, "zh_CN"), _catalog(domain, "en")
    ids = [m.id for m in zh if m.id]
    assert ids == [m.id for m in en if m.id]
    problems = []
    for m in zh:
        if not m.id:
            continue
        english = en[m.id].string
        if not m.string:
            problems.append(f"{m.id!r}: no Chinese")
        elif _fields(m.string) != _fields(m.id):
            problems.append(f"{m.id!r}: Chinese placeholders {sorted(_fields(m.string))}")
        if english != m.id:  # today's English, word for word (scripts read it)
            problems.append(f"{m.id!r}: English {english!r}")
    assert problems == []


def test_a_message_in_several_areas_reads_the_same_in_each() -> None:
    """The areas' catalogs are merged into one for reading: a message two areas share must have
    one Chinese, or whichever area is read last would speak for both (a status "open" read as
    the verb, a column heading read as a link's label)."""
    chinese: dict[str, dict[str, str]] = {}
    for domain in i18n.DOMAINS:
        for m in _catalog(domain, "zh_CN"):
            if m.id and m.string:
                chinese.setdefault(str(m.id), {})[domain] = str(m.string)
    differ = {text: areas for text, areas in chinese.items() if len(set(areas.values())) > 1}
    assert differ == {}


def test_a_message_is_rendered_in_the_reader_s_language() -> None:
    refused = RuleRefused("accept", "project 3", [Rejection("x", "a"), Rejection("y", "b")], state="submitted")
    assert refused.render("en") == "Cannot accept project 3 (in state 'submitted'): [x] a; [y] b."
    assert NotFound("project", 999).render("zh_CN") == "没有项目 999。"
    assert NotFound("project", 999).render("en") == "No project 999."
    words = Msg("project {id}: {message}", id=4, message=Text("closed", "已截止"))
    assert words.render("zh_CN") == "项目 4：已截止" and words.render("en") == "project 4: closed"
    assert Joined([1, 2, 3], ", ").render("zh_CN") == "1、2、3"
    with i18n.using("en"):
        assert str(NotFound("user", "bob")) == "No user 'bob'."
    with i18n.using("zh"):
        assert str(NotFound("user", "bob")) == "没有用户 'bob'。"


def test_a_language_by_any_usual_name_and_an_unknown_one_refused() -> None:
    assert [i18n.language(x) for x in ("zh", "zh-CN", "zh_CN", "en", "en_US.UTF-8", None)] == [
        "zh_CN",
        "zh_CN",
        "zh_CN",
        "en",
        "en",
        "zh_CN",
    ]
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        i18n.language("fr")


def test_the_command_line_speaks_chinese_by_default_and_english_on_request(tmp_path: Path, monkeypatch) -> None:
    """A refusal is one line in Chinese unless --lang en or EVALFLOW_LANG=en asks for today's
    English; --json keeps the message's id and parameters beside the text; the language of one
    command does not stay behind for the next."""
    monkeypatch.delenv("EVALFLOW_LANG", raising=False)
    db = str(tmp_path / "e.db")
    runner = CliRunner()
    assert runner.invoke(main, ["--db", db, "init"]).exit_code == 0
    runner.invoke(main, ["--db", db, "user", "add", "lead", "--role", "lead", "--city", "songjiang"])
    zh = runner.invoke(main, ["--db", db, "--as", "lead", "project", "show", "999"])
    assert (zh.exit_code, zh.stderr.strip()) == (5, "错误：没有项目 999。")
    en = runner.invoke(main, ["--db", db, "--lang", "en", "--as", "lead", "project", "show", "999"])
    assert (en.exit_code, en.stderr.strip()) == (5, "Error: No project 999.")
    monkeypatch.setenv("EVALFLOW_LANG", "en")
    by_env = runner.invoke(main, ["--db", db, "--as", "lead", "project", "show", "999"])
    assert by_env.stderr.strip() == "Error: No project 999."
    as_json = runner.invoke(main, ["--db", db, "--lang", "zh", "--json", "--as", "lead", "project", "show", "999"])
    assert '"message": "没有项目 999。"' in as_json.stderr and '"id": "No {what} {ident}."' in as_json.stderr
    assert i18n.current() == "en"  # (this process's own, as the tests read it)
    bad = runner.invoke(main, ["--db", db, "--lang", "fr", "init"])
    assert bad.exit_code == 2 and "unknown language 'fr'" in bad.output
