"""The lead's score analysis on the console (/scores/analysis): on the prebuilt joint-scoring
cycle scored with a planted home bias (hefei +6 on its own five projects), the flagged finding in
Chinese and in English, the cities' table, the agreement, three charts drawn as SVG with their
text as text, and a what-if of other places; anyone but the lead refused; nothing saved."""

from __future__ import annotations

import re

from tests.conftest import LEAD, admin, scorer, snapshot
from tests.workflow.test_score_analysis import score_all

CYCLE = "g60-2027"


def test_the_lead_reads_the_analysis_with_its_charts(web) -> None:
    w = web("joint_scoring")
    score_all(w.s, seed=26, home_bias={"hefei": 6})
    hefei = next(r for r in w.s.engine.score_analysis(LEAD).analysis.raters if r.rater == "hefei").home_bias
    client = w.browser(LEAD)
    before = snapshot(w.s.store)
    client.headers["accept-language"] = "zh-CN"
    zh = client.get(f"/scores/analysis?cycle={CYCLE}").text
    assert "评分分析 · g60-2027" in zh and 'id="nav-analysis"' in zh
    ends = f"{hefei.low:+.2f} 至 {hefei.high:+.2f}"
    said = f"合肥市 对本地项目的评分在其宽严偏差之外另高出 {hefei.estimate:+.2f} 分（区间 {ends}"
    assert said in zh
    cities = zh.split('id="cities"')[1].split("</table>")[0]
    assert cities.count("<tr") == 10 and cities.count('class="flagged"') == 1  # (a head and nine cities)
    assert "肯德尔和谐系数" in zh or "Kendall" in zh
    for chart in ("chart-offsets", "chart-distributions", "chart-ranking"):
        figure = zh.split(f'id="{chart}"')[1].split("</figure>")[0]
        assert "<svg" in figure and 'role="img"' in figure and "<title>" in figure
        # (the console's Content-Security-Policy refuses inline styles: a chart holds none)
        assert "style=" not in figure and "<style" not in figure and 'fill="#ffffff"' in figure
    offsets = zh.split('id="chart-offsets"')[1].split("</figure>")[0]
    assert "合肥市" in re.sub(r"<[^>]+>", " ", offsets)  # (the cities' names are text in the SVG)
    client.headers["accept-language"] = "en"
    en = client.get(f"/scores/analysis?cycle={CYCLE}").text
    assert f"hefei scores its own projects {hefei.estimate:+.2f} points beyond its leniency" not in en  # (names)
    assert f"scores its own projects {hefei.estimate:+.2f} points beyond its leniency (interval" in en
    assert snapshot(w.s.store) == before


def test_the_what_if_names_the_moves_and_saves_nothing(web) -> None:
    w = web("confirmation")  # 2 high, 3 mid, 40 low; places 2 and 3
    client = w.browser(LEAD)
    client.headers["accept-language"] = "en"
    before = snapshot(w.s.store)
    page = client.get(f"/scores/analysis?cycle={CYCLE}&places.demonstration=2&places.excellent=2").text
    assert "1 projects would change category." in page
    typed = client.get(f"/scores/analysis?cycle={CYCLE}&places.demonstration=２&places.excellent=２").text
    assert "1 projects would change category." in typed  # (full-width digits, as an input method types)
    moves = page.split('id="moves"')[1].split("</table>")[0]
    assert f'href="/projects/{max(w.s.mid)}"' in moves
    assert "are tied at 78.0000 across the boundary" in page
    bad = client.get(f"/scores/analysis?cycle={CYCLE}&places.excellent=²")
    assert bad.status_code == 400 and "excellent places = &#39;²&#39; must be a whole number ≥ 0" in bad.text
    client.headers["accept-language"] = "zh-CN"
    bad = client.get(f"/scores/analysis?cycle={CYCLE}&places.excellent=abc")
    assert bad.status_code == 400 and "G60深度融合优秀项目 名额 = &#39;abc&#39;" in bad.text  # (the category's name)
    assert snapshot(w.s.store) == before


def test_only_the_lead_reads_it(web) -> None:
    w = web("joint_scoring")
    for user in (admin("hefei"), scorer("wuhu")):
        client = w.browser(user)
        client.headers["accept-language"] = "en"
        r = client.get(f"/scores/analysis?cycle={CYCLE}")
        assert r.status_code == 403 and "the analysis compares every city; the lead reads it" in r.text
        assert 'id="nav-analysis"' not in client.get("/").text


def test_the_project_page_tells_the_lead_why_its_rank(web) -> None:
    w = web("confirmation")  # 2 high, 3 mid, 40 low; places 2 and 3
    top_mid = min(w.s.mid)
    client = w.browser(LEAD)
    client.headers["accept-language"] = "en"
    page = client.get(f"/projects/{top_mid}").text
    panel = page.split('id="why-rank"')[1].split("</section>")[0]
    assert "score 78.0000: the mean of 9 sheets" in panel
    assert "rank 3 of 45: excellent (places: demonstration 2, excellent 3)" in panel
    assert "ordered by project id: the tie crosses no place boundary" in panel
    client.headers["accept-language"] = "zh-CN"
    zh = client.get(f"/projects/{top_mid}").text.split('id="why-rank"')[1].split("</section>")[0]
    assert "名次由来" in zh and "第 3 名（共 45 个）：G60深度融合优秀项目" in zh
    city = w.browser(admin("hefei"))
    assert 'id="why-rank"' not in city.get(f"/projects/{w.s.demos['hefei'][0]}").text
