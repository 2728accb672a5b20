"""The dashboard's to-do in Chinese: each project counted once by the decision it waits for,
never an action that undoes one nor one already taken, each item linking to exactly its
projects; the missing score sheets named with links; parties, times and rules by name."""

from __future__ import annotations

import re

import i18n
from tests.conftest import LEAD, admin, applicant, scorer, sh


def _todo(html: str) -> str:
    return html.split('id="todo"')[1].split("</section>")[0]


def _listed(client, link: str) -> list[int]:
    page = client.get(link.replace("&amp;", "&")).text
    return [int(x) for x in re.findall(r'<td><a href="/projects/(\d+)">\d+</a></td>', page)]


def _items(todo: str) -> list[tuple[str, str]]:
    return re.findall(r'<a href="(/projects\?[^"]+)">([^<]+)</a>', todo)


def test_a_project_that_may_be_accepted_or_rejected_is_counted_once_and_linked(web):
    w = web("collection")
    hefei = w.browser(admin("hefei"))
    with i18n.using("zh_CN"):
        todo = _todo(hefei.get("/").text)
        [(link, text)] = _items(todo)
        assert text == "6 个项目待确认入库或退回"
        assert "可退回" not in todo and "可确认入库" not in todo
        listed = _listed(hefei, link)
        assert len(set(listed)) == len(listed) == 6 and set(w.s.demos["hefei"]) <= set(listed)
        assert all(p.state == "submitted" for p in w.s.engine.projects(LEAD, city="hefei") if p.id in listed)


def test_projects_already_reviewed_are_not_left_to_do(web):
    w = web("municipal_review")
    w.s.clock.set(sh(4, 1))
    first, *rest = [p.id for p in w.s.engine.projects(LEAD, city="hefei") if p.state == "in_library"]
    w.s.engine.fire(admin("hefei"), first, "review", result="excellent")
    hefei = w.browser(admin("hefei"))
    with i18n.using("zh_CN"):
        [(link, text)] = _items(_todo(hefei.get("/").text))
        assert text == f"{len(rest)} 个项目待市级评审"
        assert sorted(_listed(hefei, link)) == sorted(rest)


def test_an_undo_is_not_a_to_do(web):
    w = web("recommendation")
    hefei = w.browser(admin("hefei"))
    with i18n.using("zh_CN"):
        before = _items(_todo(hefei.get("/").text))
        [(link, text)] = before
        waiting = _listed(hefei, link)
        w.s.engine.fire(admin("hefei"), waiting[0], "recommend")
        todo = _todo(hefei.get("/").text)
        assert "撤回推荐" not in todo
        [(link, text)] = _items(todo)
        assert text == f"{len(waiting) - 1} 个项目待推荐入重点项目库"
        assert sorted(_listed(hefei, link)) == sorted(waiting[1:])


def test_the_missing_sheets_are_named_with_links_by_the_city_s_name_in_beijing_time(web):
    w = web("hefei_short")
    w.s.clock.set(sh(5, 15))
    with i18n.using("zh_CN"):
        page = w.browser(scorer("hefei")).get("/").text
        todo = _todo(page)
        assert "合肥市 未评分：" in todo
        missing = [int(x) for x in re.findall(r'<a href="/projects/(\d+)">项目 \1</a>', todo)]
        assert 0 < len(missing) <= 20
        if len(missing) == 20:
            assert re.search(r"…等，另有 \d+ 个", todo)
        assert "hefei" not in todo and "[all_sheets_in]" not in page
        assert "北京时间" in page and "Asia/Shanghai" not in page
        lead = w.browser(LEAD).get("/").text
        assert "[all_sheets_in]" not in lead and "评分表齐全：" in lead.split('id="advance"')[1]
        jiaxing = w.browser(scorer("jiaxing")).get("/").text
        assert "未评分" not in _todo(jiaxing)


def test_the_list_and_appeals_pages_read_chinese(web):
    w = web("proposed")
    lead = w.browser(LEAD)
    with i18n.using("zh_CN"):
        listing = lead.get("/list").text
        assert "第 1 版" in listing and "--tie-order" not in listing and "同分排序" in listing
        appeals = lead.get("/appeals").text
        assert "没有您可查看的申诉。" in appeals and "--reopen-to" not in appeals


def test_an_open_appeal_is_on_the_decider_s_to_do_and_a_reopened_project_on_the_city_s(web):
    w = web("recommendation")
    pid = w.s.demos["hefei"][0]
    hefei = w.browser(admin("hefei"))
    with i18n.using("zh_CN"):
        [(_, before)] = _items(_todo(hefei.get("/").text))
        waiting = int(before.split()[0])
        appeal = w.s.engine.file_appeal(applicant("hefei"), pid, "市级评审结果有误，申请复核")
        todo = _todo(hefei.get("/").text)
        # the city decides an appeal against its own review: on its to-do, linked to the appeals
        assert re.search(r'<a href="/appeals[^"]*">1 件申诉待决定</a>', todo), todo
        w.s.engine.decide_appeal(admin("hefei"), appeal.id, "uphold", "municipal_review", "经复核，重新评审")
        todo = _todo(hefei.get("/").text)
        items = dict((text, link) for link, text in _items(todo))
        # reopened to the municipal review: reviewed again by the city, and no longer to recommend
        assert _listed(hefei, items["1 个项目待市级评审"]) == [pid]
        assert f"{waiting - 1} 个项目待推荐入重点项目库" in items
        assert "申诉待决定" not in todo
