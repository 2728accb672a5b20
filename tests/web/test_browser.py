"""The console in a real browser: Debian's chromium driven by Playwright, against `evalflow serve`.

A small G60 cycle (five projects per city, two demonstration and three excellent places) is
carried from collection to the plaques. The bulk of it (the other cities, most projects) is done
through the command line and the engine on the same SQLite file while the server is stopped; the
steps a person takes are done in the browser:

- hefei-admin signs in, accepts an application, records a municipal result, recommends its
  projects with the list's checkboxes, and confirms the proposed list;
- jiaxing-scorer fills the 附件2 sheet: an out-of-band value is refused on the page (the
  same words as the command line) and nothing is saved; then a valid sheet;
- the lead sees the rules that still stop a stage, advances from the dashboard, proposes,
  publishes and awards.

The stage windows are dated, so the server's clock is the `--now` rehearsal instant: it is
restarted with a new `--now` when the story moves on. Sessions live in the database, so the
browsers stay signed in across restarts.

Chromium is the Debian package (`.ci/run` installs it); without it the test is skipped, unless
EVALFLOW_REQUIRE_BROWSER=1 (CI), where it fails. Screenshots of each signed-in user's dashboard
go to EVALFLOW_ARTIFACTS (default tests/web/artifacts). EVALFLOW_UPDATE_DOCS=1 also writes the
lead's dashboard in the middle of the cycle to docs/console-dashboard.png (the README's picture).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from store.sql import SqlStore
from tests.conftest import CITIES, PROGRAM, SHEET_HIGH, SHEET_LOW, SHEET_MID, SettableClock, make_app, sh
from tests.web.browser import PASSWORD, ROOT, TIMEOUT_MS, Cli, Server, expect, ok, sign_in
from workflow.engine import Engine
from workflow.program import ProgramRegistry

LEAD, ADMIN, SCORER = "lead", "hefei-admin", "jiaxing-scorer"


class Story:
    """The database prepared through the CLI, and the engine for the bulk work in between."""

    def __init__(self, db: Path):
        self.db = db
        self.cli = Cli(db)
        self.ids: dict[str, list[int]] = {}

    def engine(self, at) -> tuple[Engine, SqlStore]:
        store = SqlStore(f"sqlite:///{self.db}")
        return Engine(store, ProgramRegistry(), SettableClock(at)), store


def _advance(page, base: str, stage_from: str, stage_to: str) -> None:
    page.goto(f"{base}/")
    expect(page.locator("#advance")).to_contain_text("所有关闭条件均已满足")
    page.locator("#advance").get_by_role("button", name=f"关闭「{stage_from}」并进入下一阶段").click()
    ok(page, f"已关闭「{stage_from}」，进入「{stage_to}」")
    expect(page.locator("#stage")).to_contain_text(stage_to)


def test_a_cycle_to_the_plaques_in_a_browser(chromium, artifacts: Path, tmp_path: Path) -> None:
    db = tmp_path / "console.db"
    story = Story(db)
    cli = story.cli
    jan = "2027-01-03T09:00"

    # --- prepared through the command line: the database, users, passwords, the cycle
    cli(None, jan, "init")
    cli(None, jan, "user", "add", LEAD, "--role", "lead", "--city", "songjiang")
    for c in CITIES:
        cli(LEAD, jan, "user", "add", f"{c}-admin", "--role", "city-admin", "--city", c)
        cli(LEAD, jan, "user", "add", f"{c}-scorer", "--role", "scorer", "--city", c)
    for name in (LEAD, ADMIN, SCORER):
        cli(LEAD, jan, "user", "passwd", name, "--password-stdin", stdin=PASSWORD + "\n")
    out = cli(
        LEAD, jan, "cycle", "open", PROGRAM, "--year", "2027", "--places", "demonstration=2", "--places", "excellent=3"
    )
    assert "g60-2027" in out

    # --- the engine, server stopped: five applications per city, all but hefei's last accepted
    engine, store = story.engine(sh(1, 10))
    ids = {
        c: [engine.submit(f"{c}-admin", make_app(c, 10 * n + k + 1)).id for k in range(5)] for n, c in enumerate(CITIES)
    }
    engine.clock.set(sh(2, 1))  # type: ignore[attr-defined]
    for c in CITIES:
        engine.fire(f"{c}-admin", ids[c] if c != "hefei" else ids[c][:4], "accept")
    store.dispose()
    mine = ids["hefei"][4]  # the project hefei-admin takes through the browser
    high = [mine, ids["songjiang"][0]]
    mid = [ids["jiaxing"][0], ids["hangzhou"][0], ids["wuhu"][0]]

    server = Server(db, tmp_path / "serve.log")
    contexts = []

    def context():
        ctx = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        return ctx.new_page()

    try:
        base = server.base
        # === 1. 项目征集 (Feb 20): hefei-admin accepts the last application
        server.start("2027-02-20T10:00")
        admin = context()
        sign_in(admin, base, ADMIN)
        expect(admin.locator("#stage")).to_contain_text("项目征集")
        expect(admin.locator("#todo")).to_contain_text("1 个项目待确认入库或退回")
        expect(admin.locator("#whoami")).to_contain_text("城市管理员")
        admin.screenshot(path=str(artifacts / "dashboard-city-admin.png"), full_page=True)
        admin.locator("#todo").get_by_role("link", name="1 个项目待确认入库或退回").click()
        admin.get_by_role("link", name=str(mine), exact=True).first.click()
        expect(admin.locator("#state")).to_have_text("已申报")
        admin.get_by_label("所在城市组织部门意见").fill("同意入库")
        admin.get_by_role("button", name="确认入库").click()
        ok(admin, f"项目 {mine}", "入城市项目库")
        expect(admin.locator("#state")).to_have_text("入城市项目库")
        expect(admin.locator("#history")).to_contain_text("同意入库")

        # the lead: collection stays open for its whole window, and the dashboard says so
        lead = context()
        sign_in(lead, base, LEAD)
        expect(lead.locator("#advance ul.rules")).to_contain_text("阶段时间已届满")
        # (the close is offered only when it can be taken: the rules say why not)
        expect(lead.locator("#advance").get_by_role("button")).to_have_count(0)
        expect(lead.locator("#stage")).to_contain_text("项目征集")

        # === (Mar 2) the window has ended: the same browser is still signed in after a restart
        server.start("2027-03-02T09:00")
        lead.goto(f"{base}/")
        assert "/login" not in lead.url, "the session is kept in the database across a restart"
        expect(lead.locator("#whoami")).to_contain_text(LEAD)
        _advance(lead, base, "项目征集", "市（区）级评审")
        server.stop()

        # === 2. 市（区）级评审 (Mar 10): every result but hefei's last through the engine
        engine, store = story.engine(sh(3, 10))
        for c in CITIES:
            engine.fire(f"{c}-admin", [p for p in ids[c] if p != mine], "review", result="demonstration", method="site")
        store.dispose()
        server.start("2027-03-10T10:00")
        lead.goto(f"{base}/")
        expect(lead.locator("#advance ul.rules")).to_contain_text("项目库内项目均已完成市（区）级评审")
        admin.goto(f"{base}/projects/{mine}")
        expect(admin.locator("#state")).to_have_text("入城市项目库")
        admin.get_by_label("评审结果").select_option(label="示范项目")
        admin.get_by_label("评审方式").select_option(label="实地走访")
        admin.get_by_role("button", name="保存评审结果").click()
        ok(admin, f"项目 {mine}", "市级示范")
        expect(admin.locator("#state")).to_have_text("市级示范")
        expect(admin.locator("#state").locator("xpath=..")).to_contain_text("示范项目（实地走访）")
        _advance(lead, base, "市（区）级评审", "九城市推荐")
        server.stop()

        # === 3. 九城市推荐 (May 5): eight cities through the engine, hefei ticks its five
        engine, store = story.engine(sh(5, 5))
        for c in CITIES:
            if c != "hefei":
                engine.fire(f"{c}-admin", ids[c], "recommend")
        store.dispose()
        server.start("2027-05-05T10:00")
        lead.goto(f"{base}/")
        expect(lead.locator("#advance ul.rules")).to_contain_text(
            "推荐不少于5个：合肥市已推荐 0 个项目，应推荐不少于 5 个"
        )
        admin.goto(f"{base}/")
        expect(admin.locator("#todo")).to_contain_text("5 个项目待推荐入重点项目库")
        admin.goto(f"{base}/projects?action=recommend")
        boxes = admin.locator("#projects input[type=checkbox][name=ids]")
        expect(boxes).to_have_count(5)
        # a municipal 示范 is not yet a place on the G60 list
        expect(admin.locator("#projects tbody")).to_contain_text("示范项目")
        expect(admin.locator("#projects tbody")).not_to_contain_text("G60")
        for box in boxes.all():
            box.check()
        bulk = admin.locator('#bulk button[formaction="/bulk/recommend"]')
        expect(bulk).to_contain_text("所选项目")
        bulk.click()
        ok(admin, *(f"项目 {p}" for p in ids["hefei"]))
        expect(admin.locator(".flash.ok")).to_contain_text("重点项目库")
        _advance(lead, base, "九城市推荐", "九城市联合评分")
        server.stop()

        # === 4. 九城市联合评分 (May 11): every sheet but jiaxing's for hefei's project
        engine, store = story.engine(sh(5, 11))
        key = [p for c in CITIES for p in ids[c]]
        for c in CITIES:
            for group, sheet in ((high, SHEET_HIGH), (mid, SHEET_MID)):
                for p in group:
                    if (c, p) != ("jiaxing", mine):
                        engine.score(f"{c}-scorer", p, sheet, "基本完成")
            low = [p for p in key if p not in high and p not in mid]
            engine.fire(f"{c}-scorer", low, "score", scores=SHEET_LOW, completion="基本完成")
        store.dispose()
        now = "2027-05-11T10:00"
        server.start(now)

        # the lead's dashboard in the middle of the cycle: jiaxing still owes one sheet
        lead.goto(f"{base}/")
        expect(lead.locator("#advance ul.rules")).to_contain_text("评分表齐全：嘉兴市")
        expect(lead.locator("#progress")).to_contain_text("嘉兴市")
        lead.screenshot(path=str(artifacts / "dashboard-lead.png"), full_page=True)
        if os.environ.get("EVALFLOW_UPDATE_DOCS") == "1":
            lead.screenshot(path=str(ROOT / "docs" / "console-dashboard.png"), full_page=True)

        scorer = context()
        sign_in(scorer, base, SCORER)
        expect(scorer.locator("#whoami")).to_contain_text("评分人")
        expect(scorer.locator("#todo")).to_contain_text("嘉兴市 未评分：")
        scorer.screenshot(path=str(artifacts / "dashboard-scorer.png"), full_page=True)

        # an out-of-band value: refused on the page, in the command line's words; nothing saved
        scorer.goto(f"{base}/projects/{mine}")
        expect(scorer.locator("main section.card").first).not_to_contain_text("G60深度融合")
        form = scorer.locator("#score-form")
        bad = {"value": 11, "organization": 28, "effectiveness": 28, "mechanism": 19}
        for criterion in ("value", "organization", "effectiveness", "mechanism"):
            form.locator(f'input[name="score_{criterion}"]').fill(str(bad[criterion]))
        form.get_by_label("项目完成情况").fill("基本完成")
        form.get_by_role("button", name="提交评分").click()
        error = scorer.locator(".flash.error")
        expect(error).to_contain_text("按评分标准档次评分")
        expect(error).to_contain_text("评分指标“价值”的分数 11 不在任何档次内")
        options = [arg for criterion, value in bad.items() for arg in (f"--{criterion}", str(value))]
        refused = cli(SCORER, now, "--lang", "zh", "score", str(mine), *options, code=3)  # (the page reads Chinese)
        cli_message = refused.strip().removeprefix("错误：")
        assert cli_message in error.inner_text(), (cli_message, error.inner_text())
        scorer.screenshot(path=str(artifacts / "score-refused.png"))
        shown = cli.json(LEAD, now, "project", "show", str(mine))
        assert not [s for s in shown["sheets"] if s["city"] == "jiaxing"], "a refused sheet is not saved"

        # then a valid sheet
        for criterion, value in SHEET_HIGH.items():
            scorer.locator(f'#score-form input[name="score_{criterion}"]').fill(str(value))
        scorer.locator("#score-form").get_by_role("button", name="提交评分").click()
        ok(scorer, f"项目 {mine} 评分已保存：总分 {sum(SHEET_HIGH.values())}")
        expect(scorer.locator("#sheets")).to_contain_text(re.compile("嘉兴市|jiaxing"))
        scorer.goto(f"{base}/")
        expect(scorer.locator("#todo")).not_to_contain_text("未评分")

        _advance(lead, base, "九城市联合评分", "确认")

        # === 5. 确认: the lead proposes the list
        lead.goto(f"{base}/list")
        lead.get_by_role("button", name="根据评分提出名单").click()
        ok(lead, "名单第 1 版已提出（45 个项目）")
        version = lead.locator("#version-1")
        expect(version).to_contain_text("第 1 版 · 已提出")
        expect(version).to_contain_text("G60深度融合示范项目")
        server.stop()

        engine, store = story.engine(sh(5, 20))
        for c in CITIES:
            if c != "hefei":
                engine.confirm_list(f"{c}-admin")
        store.dispose()
        server.start("2027-05-20T10:00")
        lead.goto(f"{base}/")
        expect(lead.locator("#advance ul.rules")).to_contain_text("九城市组织部门均已确认")
        admin.goto(f"{base}/list")
        admin.locator("#version-1").get_by_role("button", name="确认名单").click()
        ok(admin, "名单第 1 版：已确认")
        expect(admin.locator("#version-1")).to_contain_text("合肥市 确认")
        _advance(lead, base, "确认", "公布与授牌")

        # === 6. 公布与授牌: publication, then plaques for the five listed projects
        lead.goto(f"{base}/list")
        lead.get_by_role("button", name="公布已确认的名单").click()
        ok(lead, "名单第 1 版已公布")
        lead.goto(f"{base}/projects?action=award")
        boxes = lead.locator("#projects input[type=checkbox][name=ids]")
        expect(boxes).to_have_count(5)
        for box in boxes.all():
            box.check()
        lead.locator('#bulk button[formaction="/bulk/award"]').click()
        ok(lead, f"项目 {mine} 授牌：现为 已授牌")
        lead.goto(f"{base}/projects/{mine}")
        expect(lead.locator("#state")).to_have_text("已授牌")
        expect(lead.locator("main section.card").first).to_contain_text("G60深度融合示范项目")
        # each plaque under the category it was listed in (all five were municipal 示范)
        lead.goto(f"{base}/projects?state=awarded")
        rows = lead.locator("#projects tbody tr")
        expect(rows).to_have_count(5)
        for pid, category in [(p, "G60深度融合示范项目") for p in high] + [(p, "G60深度融合优秀项目") for p in mid]:
            expect(rows.filter(has=lead.get_by_role("link", name=str(pid), exact=True))).to_contain_text(category)
    except Exception:
        for n, ctx in enumerate(contexts):
            for page in ctx.pages:
                page.screenshot(path=str(artifacts / f"failure-{n}.png"), full_page=True)
        raise
    finally:
        for ctx in contexts:
            ctx.close()
        server.stop()

    # --- the final states, as the command line reads them
    at = "2027-06-01T10:00"
    states = {p["id"]: p["state"] for p in cli.json(LEAD, at, "project", "list")}
    assert sorted(p for p, s in states.items() if s == "awarded") == sorted(high + mid)
    assert list(states.values()).count("not_listed") == 40
    shown = cli.json(LEAD, at, "project", "show", str(mine))
    assert shown["project"]["state"] == "awarded"
    assert len([s for s in shown["sheets"] if s["current"]]) == 9
    actors = {e["actor"] for e in shown["history"]}
    assert {ADMIN, SCORER, LEAD} <= actors, "the browser's steps are the signed-in users' own"
