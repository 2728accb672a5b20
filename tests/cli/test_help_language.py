"""The command line's help and click's own words (usage, usage errors) in Chinese by default, and
today's English word for word under ``--lang en`` or ``EVALFLOW_LANG=en`` (scripts read it), in
any order within one process."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

import i18n
from cli import main
from i18n.help import help_entries


@pytest.fixture(autouse=True)
def no_language_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """As a user runs evalflow: no EVALFLOW_LANG (the test suite sets English for every other test)."""
    monkeypatch.delenv("EVALFLOW_LANG", raising=False)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="evalflow")


def lines(*args: str) -> list[str]:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_the_root_help_in_chinese_by_default() -> None:
    out = lines("--help")
    assert out[0] == "用法：evalflow [OPTIONS] COMMAND [ARGS]..."
    assert out[2] == "  evalflow — 运行多阶段评选项目，每个评选项目由一个评选项目文件定义。"
    assert "选项：" in out and "命令：" in out
    assert "  --db TEXT      数据库文件或 URL（默认 ./evalflow.db）。" in out
    assert "  -h, --help     显示本帮助信息并退出。" in out
    assert "  project    申报和项目" in out
    assert "  appeal     对项目结果的申诉" in out  # (a long first sentence cut at its first pause)
    assert out[-14:-11] == ["  退出码：", "    0  完成", "    2  用法错误"]
    assert out[-2] == "   12  控制台无法在指定地址上启动（evalflow serve）"
    assert out[-1] == "   13  无法在本机生成 PDF 文书（未安装中文字体，或缺少 WeasyPrint 所需的系统库）"
    assert "    3  被规则拒绝（信息列出每条未满足的规则及其数字）" in out
    assert not any(word in "\n".join(out) for word in ("Usage", "Options", "Commands", "Show this"))


@pytest.mark.parametrize(
    "args",
    [("--lang", "en", "--help"), ("--help", "--lang", "en"), ("--lang=en", "--help"), ("--lang", "en_US", "-h")],
)
def test_the_root_help_in_today_s_english(args: tuple[str, ...]) -> None:
    out = lines(*args)
    assert out[:5] == [
        "Usage: evalflow [OPTIONS] COMMAND [ARGS]...",
        "",
        "  evalflow — run multi-stage evaluation programs, each declared in a program",
        "  file.",
        "",
    ]
    assert out[5:8] == [
        "Options:",
        "  --version      Show the version and exit.",
        "  --db TEXT      Database file or URL (default ./evalflow.db).",
    ]
    assert "  -h, --help     Show this message and exit." in out
    assert "  project    Applications and projects." in out
    assert "  appeal     Appeals against a project's result: file, decide (uphold and..." in out
    assert out[-14:-11] == ["  Exit codes:", "    0  done", "    2  usage error"]
    assert out[-2] == "   12  the console cannot listen on its address (evalflow serve)"
    assert out[-1] == "   13  PDF documents cannot be made here (no Chinese font, or WeasyPrint's libraries missing)"


def test_the_english_of_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALFLOW_LANG", "en")
    assert lines("project", "--help")[0] == "Usage: evalflow project [OPTIONS] COMMAND [ARGS]..."
    assert lines("--lang", "zh", "project", "--help")[0] == "用法：evalflow project [OPTIONS] COMMAND [ARGS]..."


def test_a_group_and_a_command_in_chinese_and_in_english() -> None:
    group = lines("project", "--help")
    assert group[:3] == ["用法：evalflow project [OPTIONS] COMMAND [ARGS]...", "", "  申报和项目。"]
    listed = [line.split(maxsplit=1) for line in group if line.startswith("  ") and not line.startswith("   ")]
    assert ["accept", "将符合申报条件的申报确认入库"] in listed and [
        "show",
        "查看项目及其申报材料、评分表和历史记录",
    ] in listed
    group = lines("--lang", "en", "project", "--help")
    assert group[:3] == ["Usage: evalflow project [OPTIONS] COMMAND [ARGS]...", "", "  Applications and projects."]
    shown = [line.split(maxsplit=1) for line in group if line.startswith("  ")]
    assert ["show", "Show a project with its application, sheets and history."] in shown

    command = lines("cycle", "open", "--help")
    assert command[0] == "用法：evalflow cycle open [OPTIONS] PROGRAM_ID"
    assert command[2] == "  为某一年度开启一个评选项目的评选周期（仅限牵头单位）。"
    assert "  --year INTEGER            评选年度（各阶段时间据此计算）。  [必填]" in command
    # (wrapped at the width, 80 here, as Chinese is: a Chinese character takes two columns, a line
    # breaks between two characters but never before a closing mark nor after an opening one)
    assert "  --places CATEGORY=N       本评选周期中某一名单类别的名额（默认：评选项目文件中" in command
    assert "                            的名额），例如 CATEGORY=12。" in command
    assert "  --excellent-places N      g60-deep-integration：G60深度融合优秀项目的名额（同" in command
    command = lines("--lang", "en", "cycle", "open", "--help")
    assert command[0] == "Usage: evalflow cycle open [OPTIONS] PROGRAM_ID"
    assert command[2] == "  Open a cycle of a program for a year (lead only)."
    assert "  --year INTEGER            The cycle year (windows are computed for it)." in command
    assert "                            [required]" in command
    assert "  --selected-places N       kechuang-zhongyuan: places of 入选项目 (as --places" in command


def test_a_report_s_own_lang_option_is_not_the_command_line_s() -> None:
    """`report --lang en` names the report's header language; the help stays in Chinese."""
    out = run("report", "--lang", "en", "--help").output
    assert out.startswith("用法：evalflow report ") and "表头语言。" in out


ROOT_USAGE = "Usage: evalflow [OPTIONS] COMMAND [ARGS]...\nTry 'evalflow --help' for help.\n\n"
SHOW_USAGE = "Usage: evalflow project show [OPTIONS] PROJECT_ID\nTry 'evalflow project show --help' for help.\n\n"


@pytest.mark.parametrize(
    ("args", "chinese", "english"),
    [
        (("nosuch",), "错误：没有命令 'nosuch'。", ROOT_USAGE + "Error: No such command 'nosuch'.\n"),
        (("project", "show"), "错误：缺少参数 'PROJECT_ID'。", SHOW_USAGE + "Error: Missing argument 'PROJECT_ID'.\n"),
        (
            ("project", "show", "x"),
            "错误：'PROJECT_ID' 的取值无效：'x' 不是有效的整数。",
            SHOW_USAGE + "Error: Invalid value for 'PROJECT_ID': 'x' is not a valid integer.\n",
        ),
    ],
)
def test_a_usage_error_in_chinese_and_in_today_s_english(args: tuple[str, ...], chinese: str, english: str) -> None:
    """The error itself one line (after click's usage and hint), exit code 2; English word for word."""
    zh = run(*args)
    assert zh.exit_code == 2
    usage, hint, blank, error = zh.output.splitlines()
    assert usage.startswith("用法：evalflow ") and hint.startswith("请运行 'evalflow ") and hint.endswith(" 查看帮助。")
    assert (blank, error) == ("", chinese)
    en = run("--lang", "en", *args)
    assert (en.exit_code, en.output) == (2, english)


def test_switching_languages_in_one_process_is_exact() -> None:
    """The tests run many commands in one process: each speaks its own language, exactly."""
    asked = ("user", "token", "add", "--help")
    zh, en = run(*asked).output, run("--lang", "en", *asked).output
    assert "生成以 NAME 身份操作的 API 令牌。" in zh and "Make an API token acting as NAME." in en
    for _ in range(2):
        assert run(*asked).output == zh
        assert run("--lang", "en", *asked).output == en
        assert run("--lang", "en", "project", "show", "x").output.endswith("'x' is not a valid integer.\n")
        assert run("project", "show", "x").output.endswith("'x' 不是有效的整数。\n")
    assert i18n.current() == "en"  # (this process's own, as the tests read it)


def test_every_command_and_option_has_its_chinese_help() -> None:
    """A command or an option added without its Chinese fails here, named; the Chinese goes to
    the catalog area ``help`` (``python -m i18n.catalog``, then the translation)."""
    chinese = i18n.translations("zh_CN")
    missing = [
        f"{where}: {text!r}"
        for where, text, _file in help_entries(main)
        if chinese.gettext(text) == text or not any("\u4e00" <= c <= "\u9fff" for c in chinese.gettext(text))
    ]
    assert missing == [], (
        "no Chinese help (catalog area help: python -m i18n.catalog, then its Chinese) for:\n" + "\n".join(missing)
    )
    assert len(list(help_entries(main))) > 150  # (the whole tree was walked)


def test_every_command_s_english_help_is_the_same_after_chinese() -> None:
    """The English kept on each command and option comes back exactly, for the whole tree."""
    paths = sorted(
        {
            where.split(" --")[0].removesuffix(" short help").removesuffix(" epilog")
            for where, _t, _f in help_entries(main)
        }
    )
    commands = [path.split()[1:] for path in paths]
    english = {tuple(c): run("--lang", "en", *c, "--help").output for c in commands}
    chinese = {tuple(c): run(*c, "--help").output for c in commands}
    assert all("Usage:" in text for text in english.values()) and not any("Usage:" in t for t in chinese.values())
    assert {tuple(c): run("--lang", "en", *c, "--help").output for c in commands} == english
