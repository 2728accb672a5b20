"""A program file's problems in the reader's language: an office's staff who edit a program file
read every problem at once, in Chinese, with the file's own keys and values as they typed them;
in English the words are today's, word for word."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import i18n
from workflow.errors import ProgramInvalid
from workflow.program import default_program_dirs, load_program

SHIPPED = default_program_dirs()[-1] / "g60-deep-integration.toml"

# three distinct mistakes, each in its own section of the file
EDITS = (
    ('timezone = "Asia/Shanghai"', 'timezone = "Mars/Olympus"'),
    ('submit = ["application_city_in_program"]', 'submit = ["application_city_in_program", "no_such_rule"]'),
    ('aggregate = "mean"', 'aggregate = "median"'),
)
ENGLISH = (
    "[program] timezone 'Mars/Olympus' is not a known time zone",
    "[guards] submit: unknown policy 'no_such_rule'",
    "[list] aggregate = 'median' must be mean, trimmed_mean or sum",
)
CHINESE = (
    "[program] timezone 'Mars/Olympus' 不是已知的时区",
    "[guards] submit：未知的规则 'no_such_rule'",
    "[list] aggregate = 'median' 取值应为 mean、trimmed_mean 或 sum",
)


def _broken(folder: Path) -> Path:
    """The shipped program with three mistakes, as an office would have edited it."""
    text = SHIPPED.read_text(encoding="utf-8")
    for old, new in EDITS:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = folder / SHIPPED.name
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path) -> ProgramInvalid:
    with pytest.raises(ProgramInvalid) as info:
        load_program(path)
    return info.value


def test_three_problems_in_chinese_and_in_english_word_for_word(tmp_path: Path) -> None:
    path = _broken(tmp_path)
    err = _error(path)
    # the problems are messages, rendered when read: the same error reads in either language
    with i18n.using("zh_CN"):
        assert err.problems == CHINESE
        assert str(err) == f"评选项目文件 {path}有误：{'；'.join(CHINESE)}。"
    with i18n.using("en"):
        assert err.problems == ENGLISH
        assert str(err) == f"Invalid program file {path}: {'; '.join(ENGLISH)}."
    assert err.render("zh_CN") == f"评选项目文件 {path}有误：{'；'.join(CHINESE)}。"
    assert err.exit_code == 8


def test_lists_of_keys_read_in_the_readers_language(tmp_path: Path) -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace(
        'submit = { roles = ["applicant", "city-admin"], own_city = true }',
        'submit = { roles = ["applicant", "clerk", "typist"], own_city = true }',
    )
    path = tmp_path / SHIPPED.name
    path.write_text(text, encoding="utf-8")
    err = _error(path)
    [problem] = err.messages
    english = problem.render("en")
    assert english.startswith("[permissions] submit: unknown roles clerk, typist (known: ")
    assert problem.render("zh_CN").startswith("[permissions] submit：未知的角色 clerk、typist（可用角色：")


def test_the_command_line_says_them_in_chinese_and_exits_8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cli import main

    _broken(tmp_path)
    monkeypatch.setenv("EVALFLOW_PROGRAMS", str(tmp_path))
    runner = CliRunner()
    chinese = runner.invoke(main, ["--lang", "zh", "program", "show", "g60-deep-integration"])
    assert chinese.exit_code == 8, chinese.output
    for problem in CHINESE:
        assert problem in chinese.output
    english = runner.invoke(main, ["--lang", "en", "program", "show", "g60-deep-integration"])
    assert english.exit_code == 8, english.output
    for problem in ENGLISH:
        assert problem in english.output


def test_a_bad_date_or_duration_is_said_in_chinese_too(tmp_path: Path) -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    start = text.index('start = "', text.index("[windows"))
    end = text.index('"', start + len('start = "'))
    path = tmp_path / SHIPPED.name
    path.write_text(text[:start] + 'start = "3/1"' + text[end + 1 :], encoding="utf-8")
    [problem] = [m for m in _error(path).messages if m.render("en").startswith("window ")]
    assert problem.render("en").endswith(": '3/1' is not a month-day like '03-01'")
    assert problem.render("zh_CN").endswith("：'3/1' 不是形如 '03-01' 的月-日")
    assert problem.render("zh_CN").startswith("时间窗口 ")
