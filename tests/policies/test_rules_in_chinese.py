"""The rules' refusals as a reader of Chinese reads them: the rule by the name the source
documents give it, the party by its name, the real numbers; and the English unchanged, word for
word, as scripts read it."""

from __future__ import annotations

from policies.base import CycleCounts
from tests.policies.support import CITIES, context, project, run
from workflow.ranking import rank


def test_a_quota_refusal_in_chinese_names_the_rule_the_city_and_the_numbers():
    counts = CycleCounts(results={("songjiang", "demonstration"): 10})
    ctx = context(
        project=project(city="songjiang", pid=11, state="in_library"),
        counts=counts,
        request={"result": "demonstration"},
    )
    [refused] = run("municipal_quota", ctx)
    assert refused.render("zh_CN") == (
        "市（区）级示范、优秀项目名额：松江区已评出市（区）级示范项目 10 个，名额为 10 个；项目 11 不能再评为示范项目"
    )
    assert refused.render("en") == (
        "[municipal_quota] 松江区 (songjiang) has 10 of 10 municipal demonstration projects; "
        "project 11 cannot be named demonstration"
    )


def test_a_tie_at_the_boundary_in_chinese_names_the_projects_the_score_and_the_place():
    _, ties = rank({1: [90], 2: [80], 3: [80], 4: [70]}, [("demonstration", 2), ("excellent", 2)])
    [refused] = run("boundary_tie_settled", context(request={"unsettled_ties": ties}))
    assert refused.render("zh_CN") == (
        "名次分界处并列已处理：项目 2、3 以 80.0000 分并列，跨越示范项目（第 2 名）与优秀项目之间的分界；"
        "须由牵头单位按名次先后排定其顺序"
    )
    assert refused.render("en") == (
        "[boundary_tie_settled] projects 2, 3 are tied at 80.0000 across the boundary between demonstration "
        "(place 2) and excellent; settle with --tie-order listing them best first"
    )


def test_sheets_missing_in_chinese_name_the_city_by_its_name():
    counts = CycleCounts(shortlist=45, sheets_by_city={c: 45 for c in CITIES} | {"hefei": 44})
    [refused] = run("all_sheets_in", context(counts=counts))
    assert refused.render("zh_CN") == "评分表齐全：合肥市已对重点项目库 45 个项目中的 44 个评分"
    assert refused.render("en") == "[all_sheets_in] hefei has scored 44 of 45 key-library projects"
    assert refused.parties == ("hefei",)  # (reminders go to the party's id, as before)


def test_an_eligibility_refusal_in_chinese_joins_its_problems_with_chinese_punctuation():
    app = {
        "project": {"name": "芯片"},
        "enterprise": {"registered_in_city": True, "operating_in_city": False},
        "party_organization": {"name": "无"},
    }
    [refused] = run("registered_in_corridor", context(project=project(app, city="hefei", pid=7)))
    assert refused.render("zh_CN") == (
        "九城市注册、实地经营并已建立党组织：项目 7（芯片）：企业未在合肥市实地实体经营；"
        "党组织名称填写为 '无'，未建立党的组织"
    )
    assert refused.english == (
        "project 7 (芯片): the enterprise does not operate on site in 合肥市; "
        "the party organization (党组织) is named '无', which names no organization"
    )


def test_every_registered_rule_has_a_chinese_name():
    from policies.base import REGISTRY, RULE_NAMES

    assert sorted(set(REGISTRY) - set(RULE_NAMES)) == []


def test_a_stage_window_refusal_in_chinese_names_the_action_and_the_stages():
    from i18n import Text
    from policies.windows import Window, stage_window
    from tests.policies.support import sh

    names = {"collection": "项目征集", "municipal_review": "市（区）级评审"}
    [wrong] = stage_window("submit", "collection", "municipal_review", None, sh(3, 1), stage_names=names)
    assert wrong.render("zh_CN") == "阶段时间：submit属于“项目征集”阶段，但本评选周期目前处于“市（区）级评审”阶段"
    window = Window(sh(1, 1, 0), sh(3, 1, 0), "Asia/Shanghai")
    [closed] = stage_window("submit", "collection", "collection", window, sh(3, 2), action_name=Text("submit", "申报"))
    assert closed.render("zh_CN") == (
        "阶段时间：申报的办理时间为 2027-01-01 00:00 至 2027-03-01 00:00（北京时间）；"
        "现在是 2027-03-02 09:00:00（已截止）"
    )
    assert closed.render("en") == (
        "[stage_window] submit is allowed 2027-01-01 00:00 to 2027-03-01 00:00 Asia/Shanghai; "
        "it is now 2027-03-02 09:00:00 (closed)"
    )
