"""The public pages (/public), read without signing in: a crawler from /public at every stage of
the G60 cycle finds nothing before the publication and, once published, the named projects and
nothing else (no project left off the list, no score, no unit of an unlisted project); a cycle with
nothing published is not found, in the words of one that does not exist. The sister programs'
demo cycles at their end: 科创中原's published list, 先锋号's named holders."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest

from tests.conftest import sh
from tests.workflow.checkpoints import CHECKPOINTS
from tests.workflow.test_publication_bundle import KEY, published
from web.app import create_app
from workflow.publication import verify_bundle
from workflow.signing import fingerprint

LINK = re.compile(r'href="([^"#]+)"')


def crawl(client, start: str = "/public") -> dict[str, str]:
    """Every page reached from ``start`` by following links under /public: path -> text."""
    seen: dict[str, str] = {}
    todo = [start]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code)
        seen[path] = r.text if "json" not in r.headers["content-type"] else r.content.decode()
        if "html" in r.headers["content-type"]:
            for href in LINK.findall(r.text):
                target = urljoin(path, href)
                assert target == "/" or target.startswith(("/public", "/login", "/static/")), (path, href)
                if target.startswith("/public"):
                    todo.append(target)
    return seen


@pytest.mark.parametrize("stage", CHECKPOINTS)
def test_a_crawler_finds_what_is_published_and_nothing_else(at_stage, stage):
    from fastapi.testclient import TestClient

    s = at_stage(stage)
    s.clock.set(sh(6, 30))  # (after the notice of a publication on 06-12)
    client = TestClient(create_app(s.engine))
    pages = crawl(client)
    text = "\n".join(pages.values())
    missing = client.get("/public/g60-1999")
    if stage != "published":
        assert list(pages) == ["/public"] and "尚无公布的结果。" in text
        hidden = client.get("/public/g60-2027")
        assert hidden.status_code == 404 and hidden.text.replace("g60-2027", "X") == missing.text.replace(
            "g60-1999", "X"
        )
        bundle = client.get("/public/g60-2027/bundle.json")  # (nor its bundle: as for no cycle)
        assert bundle.status_code == 404 and "g60-2027" in bundle.text
        assert bundle.text.replace("g60-2027", "X") == missing.text.replace("g60-1999", "X")
        return
    named = [p for p in s.high + s.mid]
    with s.store.transaction(write=False) as tx:
        projects = {p.id: p for p in tx.projects_by_ids([pid for c in s.ids.values() for pid in c])}
    for pid, p in projects.items():
        title = p.project_name
        unit = p.unit_name
        if pid in named:
            assert title in text and unit in text
        else:
            assert unit not in text, f"project {pid}, not on the list, is shown"
    assert not re.search(r"\d+\.\d{4}", text)  # (no score)
    assert "公示期已于" in text and "第 1 版名单" in text


def test_the_public_bundle_verifies_against_the_fingerprint_shown(at_stage):
    from fastapi.testclient import TestClient

    s = published(at_stage)
    client = TestClient(create_app(s.engine))
    page = client.get("/public/g60-2027").text
    key = fingerprint(KEY.public_key())
    assert f"发文单位密钥指纹：{key}" in page
    assert "公示期至" in page and "剩余 5 天" in page  # (the clock stands at the publication)
    assert verify_bundle(client.get("/public/g60-2027/bundle.json").content, key).ok


def test_the_sister_programs_show_their_ends(tmp_path):
    from fastapi.testclient import TestClient

    from store.sql import SqlStore
    from workflow.engine import Engine
    from workflow.program import ProgramRegistry
    from workflow.program_code import demo_of

    registry = ProgramRegistry()
    said = {
        "kechuang-zhongyuan": ("“科创中原”科技经济融合行动项目评审 · 2027年度", "版名单", "入选项目"),
        "pioneer-brand": ("“科技筑梦先锋号”党建品牌共建 · 2027年度", "“科技筑梦先锋号”"),
    }
    for program, words in said.items():
        store = SqlStore(f"sqlite:///{tmp_path / program}.db")
        store.create()
        demo_of(registry.get(program))(store, year=2027, per_city=24, seed=1, echo=lambda _: None)
        text = "\n".join(crawl(TestClient(create_app(Engine(store, registry)))).values())
        assert all(w in text for w in words), program
        store.dispose()


def test_a_holders_targets_and_progress_are_public_and_nobody_elses(tmp_path):
    """先锋号's rules have each holder publish its targets and its progress: the public page shows
    them for the units awarded the plaque, and nothing of a unit not (or no longer) named."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from fastapi.testclient import TestClient

    from store.sql import SqlStore
    from tests.conftest import SettableClock
    from workflow.engine import Engine
    from workflow.program import ProgramRegistry
    from workflow.program_code import demo_of

    registry = ProgramRegistry()
    store = SqlStore(f"sqlite:///{tmp_path / 'pioneer.db'}")
    store.create()
    demo_of(registry.get("pioneer-brand"))(store, year=2027, per_city=24, seed=1, echo=lambda _: None)
    engine = Engine(store, registry, SettableClock(datetime(2027, 11, 2, 9, tzinfo=ZoneInfo("Asia/Shanghai"))))
    with store.transaction(write=False) as tx:
        states = {p.id: (p.state, p.unit_name) for p in tx.projects_by_ids(list(range(1, 6)))}
    holder = next(pid for pid, (state, _) in states.items() if state == "awarded")
    engine.fire("wg", holder, "progress", target="venue", note="党建阵地已按“八有”标准建成")
    page = TestClient(create_app(engine)).get("/public/pioneer-2027").text
    held = page.split(f'id="holder-{holder}"')[1].split("</section>")[0]
    assert (
        "“五个一”共建目标清单" in held and "共建目标：打造一个党建阵地" in held and "党建阵地已按“八有”标准建成" in held
    )
    for pid, (state, _unit) in states.items():
        if state != "awarded":
            assert f'id="holder-{pid}"' not in page
    store.dispose()


@pytest.mark.parametrize("stage", ["collection", "voting", "approval", "published"])
def test_a_crawler_at_each_stage_of_a_committee_review(tmp_path, stage):
    """科创中原 at the end of each stage: nothing before the publication (its proposed and
    approved list included), then the two selected projects and not the third."""
    from fastapi.testclient import TestClient

    from tests.web.test_journey_public_objection import published as kechuang

    store, engine, _ = kechuang(tmp_path / "kczy.db", stage)
    text = "\n".join(crawl(TestClient(create_app(engine))).values())
    if stage != "published":
        assert "尚无公布的结果。" in text and "科技经济融合项目" not in text
    else:
        assert "科技经济融合项目2" in text and "科技经济融合项目3" in text and "河南省第1学会" not in text
    store.dispose()


@pytest.mark.parametrize("program", ["industry-alliance", "pioneer-brand"])
def test_a_crawler_at_every_act_of_a_program_without_a_list(tmp_path, program):
    """The alliances and 先锋号 through their demos, crawled at every line the demo prints (each
    act of the cycle as it goes: applications, evaluations, the meeting's or the party group's
    decision, plaques, rectification, removal, a new year): each cycle's public page lists
    exactly the units named at that moment, and a cycle naming none is not there."""
    from fastapi.testclient import TestClient

    from store.sql import SqlStore
    from workflow.engine import Engine
    from workflow.program import ProgramRegistry
    from workflow.program_code import demo_of

    registry = ProgramRegistry()
    store = SqlStore(f"sqlite:///{tmp_path / 'demo.db'}")
    store.create()
    engine = Engine(store, registry)
    client = TestClient(create_app(engine))
    states = registry.get(program).named_states
    crawled = compared = 0

    def check(_line: str) -> None:
        nonlocal crawled, compared
        with store.transaction(write=False) as tx:
            cycles = [c.id for c in tx.list_cycles()]
            named = {c: {unit for _, unit, _ in tx.project_names(c, list(states)).values()} for c in cycles}
        pages = crawl(client)
        crawled += 1
        for cycle_id in cycles:
            path = f"/public/{cycle_id}"
            if not named[cycle_id]:
                assert path not in pages and client.get(path).status_code == 404
                continue
            table = pages[path].split("<tbody>")[1].split("</tbody>")[0]
            shown = set(re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td>", table))
            assert shown == named[cycle_id], (cycle_id, _line)
            compared += 1

    demo_of(registry.get(program))(store, year=2027, per_city=24, seed=1, echo=check)
    assert crawled >= 8 and compared >= 3  # (the lists were there to compare, more than once)
    store.dispose()
