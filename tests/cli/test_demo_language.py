"""The sister programs' demos tell their story in the reader's language: Chinese by default (what
an office reads in `make demo`), and the English lines scripts read under --lang en, unchanged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.test_full_cycle import Cli

CJK = re.compile(r"[\u4e00-\u9fff]")
# a run of English words, as the narration had before it was in the catalog (ids such as
# kczy-2027, member7 or alliance-2027 are not words a reader reads as English prose)
ENGLISH = re.compile(r"\b[a-z]{3,}\s+[a-z]{3,}\b")

DEMOS = {
    "kechuang-zhongyuan": (
        ["评审 2027：评选周期 kczy-2027", "member7 投出最后三票", "异议第 1 号不予支持：经核查，投票统计无误"],
        ["2027: cycle kczy-2027", "member7 casts the last three votes", "objection 1 dismissed: 经核查，投票统计无误"],
    ),
    "industry-alliance": (
        ["：备案批次 alliance-2027", "个联盟中", "成员单位中没有高校或科研院所"],
        [": filing round alliance-2027", "pass the pre-review", "no member unit is a university or research institute"],
    ),
    "pioneer-brand": (
        [
            "：评选周期 pioneer-2027",
            "9 月评估：一个通过，一个未通过",
            "被摘牌单位重新申报",
            "pioneer-2027 项目 1 已摘牌",
        ],
        [": cycle pioneer-2027", "September round: one passes, one does not", "the removed unit applies again"],
    ),
}


@pytest.mark.parametrize("program", sorted(DEMOS))
def test_a_sister_demo_speaks_chinese_by_default_and_today_s_english_under_lang_en(
    program: str, tmp_path: Path
) -> None:
    zh_lines, en_lines = DEMOS[program]
    zh = Cli(tmp_path / "zh.db")(None, "2027-01-01T00:00", "--lang", "zh", "demo", "--program", program)
    for line in zh_lines:
        assert line in zh
    for line in zh.splitlines():
        if line.strip():
            assert CJK.search(line), line  # every line of the story has Chinese words
            assert not ENGLISH.search(line), line  # and no English prose
    en = Cli(tmp_path / "en.db")(None, "2027-01-01T00:00", "--lang", "en", "demo", "--program", program)
    for line in en_lines:
        assert line in en
