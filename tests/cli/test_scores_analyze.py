"""`evalflow scores analyze` on the prebuilt joint-scoring cycle with a planted home bias (hefei
+6 on its own five projects): the flagged city with its numbers, in English word for word and in
Chinese; --json; a city's user refused in one line with its exit code."""

from __future__ import annotations

import json

from tests.cli.test_appeals_cli import open_cli, snap
from tests.conftest import LEAD, admin
from tests.workflow import checkpoints
from tests.workflow.test_score_analysis import score_all

at_stage = checkpoints.at_stage
stage_templates = checkpoints.stage_templates
NOW = "2027-05-13T10:00"


def test_the_lead_reads_the_flagged_city_in_english_and_chinese(at_stage):
    s = at_stage("joint_scoring")
    score_all(s, seed=26, home_bias={"hefei": 6})
    data = s.engine.score_analysis(LEAD)
    hefei = next(r for r in data.analysis.raters if r.rater == "hefei").home_bias
    cli = open_cli(s)
    out = cli(LEAD, NOW, "--lang", "en", "scores", "analyze")
    assert "Score analysis of cycle g60-2027: 405 current sheets on 45 projects by 9 cities" in out
    ends = f"{hefei.low:+.2f} to {hefei.high:+.2f}"
    assert f"hefei scores its own projects {hefei.estimate:+.2f} points beyond its leniency ({ends}, 5 sheets)" in out
    assert "agreement (Kendall's W over the 45 projects every one scored):" in out
    flagged = [line for line in out.splitlines() if line.endswith(" (flagged)")]
    assert len(flagged) == 1 and flagged[0].startswith("  hefei: 45 sheets; leniency ")
    zh = cli(LEAD, NOW, "--lang", "zh", "scores", "analyze")
    assert "评选周期 g60-2027 评分分析：9 个城市对 45 个项目的现行评分表 405 份" in zh
    ends = f"{hefei.low:+.2f} 至 {hefei.high:+.2f}"
    assert f"合肥市 对本地项目的评分在其宽严偏差之外另高出 {hefei.estimate:+.2f} 分（{ends}，评分表 5 份）" in zh
    assert "肯德尔和谐系数" in zh and "（提示）" in zh
    found = json.loads(cli(LEAD, NOW, "--json", "scores", "analyze"))
    assert [r["rater"] for r in found["raters"] if r["flagged"]] == ["hefei"]
    assert found["raters"][-1]["home_bias"]["estimate"] == hefei.estimate
    assert found["agreement"][0]["criterion"] is None and found["sheets"] == 405


def test_a_city_administrator_is_refused_and_nothing_changes(at_stage):
    s = at_stage("joint_scoring")
    score_all(s, seed=27)
    cli = open_cli(s)
    before = snap(cli)
    out = cli(admin("wuhu"), NOW, "--lang", "en", "scores", "analyze", code=4)
    assert "the analysis compares every city; the lead reads it" in out
    zh = cli(admin("wuhu"), NOW, "--lang", "zh", "scores", "analyze", code=4, report=True).strip()
    assert zh == "错误：无权执行“分析评分”（评选周期 g60-2027）：评分分析比较各城市的评分，由牵头单位查阅。"
    assert snap(cli) == before
