"""The lead's administration in a real browser (Debian's chromium under Playwright, against
`evalflow serve`): the lead opens a cycle from the form, lifts a rule with a reason, adds a user
with a generated password (who then signs in with it and changes it), and verifies the audit
trail. Each page of the administration and the account page is shot at 1366 and 390 pixels wide
into the artifacts folder, and nothing may be wider than the phone."""

from __future__ import annotations

from typing import Any

from tests.web.browser import expect, ok, sign_in

JAN = "2027-01-03T09:00"


def _shoot(story: Any, page: Any, name: str) -> None:
    """The page at 1366 and at 390 pixels wide; at 390 nothing overflows the phone's width."""
    page.set_viewport_size({"width": 1366, "height": 900})
    page.screenshot(path=str(story.artifacts / f"admin-{name}-1366.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(story.artifacts / f"admin-{name}-390.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{name}: the page is {width} px wide on a phone"
    page.set_viewport_size({"width": 1366, "height": 900})


def test_the_lead_opens_a_cycle_lifts_a_rule_adds_a_user_and_verifies_the_trail(story_of) -> None:
    story = story_of("admin")
    story.users(JAN, ("lead", "songjiang"), ("hefei-admin", "city-admin", "hefei"), signed=("lead",))
    story.server.start(JAN)
    page = story.page("lead")

    # the header leads to the administration
    page.get_by_role("link", name="管理", exact=True).first.click()
    expect(page.locator("h1")).to_have_text("管理")
    _shoot(story, page, "index")

    # open a cycle: no program chosen until the lead chooses; places and quotas typed
    page.goto(f"{story.base}/admin/cycles")
    form = page.locator("#open-cycle")
    form.get_by_label("年度").fill("2027")
    form.get_by_role("button", name="开启评选").click()  # no program: the browser asks for one
    assert "/admin/cycles" in page.url
    form.locator('input[name="program"][value="g60-deep-integration"]').check()
    _shoot(story, page, "cycles")
    expect(form.locator("#settings-g60-deep-integration")).to_have_attribute("open", "")  # (unfolded on choosing)
    form.locator('input[name="g60-deep-integration.quota.hefei.demonstration"]').fill("两")
    form.get_by_role("button", name="开启评选").click()
    expect(page.locator(".flash.error")).to_contain_text("应填写不小于 0 的整数")
    expect(form.get_by_label("年度")).to_have_value("2027")  # everything typed is kept, the settings open
    form.locator('input[name="g60-deep-integration.quota.hefei.demonstration"]').fill("4")
    form.get_by_role("button", name="开启评选").click()
    ok(page, "g60-2027")

    # lift a rule, by its name, with a reason
    page.goto(f"{story.base}/admin/overrides")
    add = page.locator("#add-override")
    add.get_by_label("要豁免的规则").select_option(label="评分表齐全")
    add.get_by_label("适用城市").select_option(label="合肥市")
    add.get_by_label("理由").fill("合肥市回避本市项目评分")
    add.get_by_role("button", name="豁免该规则").click()
    ok(page, "评分表齐全")
    expect(page.locator("#override-1")).to_contain_text("合肥市回避本市项目评分")
    _shoot(story, page, "overrides")

    # add a user with a generated password, shown once
    page.goto(f"{story.base}/admin/users")
    add = page.locator("#add-user")
    add.get_by_label("用户名（登录用）").fill("hefei-clerk")
    add.get_by_label("角色").select_option(label="城市管理员")
    add.get_by_label("所属城市").select_option(label="合肥市")
    add.get_by_label("由系统生成，只显示一次").check()
    add.get_by_role("button", name="添加用户").click()
    secret = page.locator("#secret-value").input_value()
    assert len(secret) >= 12
    _shoot(story, page, "secret")
    page.goto(f"{story.base}/admin/users")
    expect(page.locator("#user-hefei-clerk")).to_contain_text("合肥市")
    _shoot(story, page, "users")
    page.goto(f"{story.base}/admin/users/hefei-clerk/tokens")
    _shoot(story, page, "tokens")
    page.goto(f"{story.base}/reminders")
    expect(page.locator("h1")).to_contain_text("提醒")
    _shoot(story, page, "reminders")

    # verify the trail: it holds, its head is shown to be kept elsewhere, the history names things
    page.goto(f"{story.base}/admin/audit")
    expect(page.locator("#verify")).to_contain_text("审计记录完整")
    assert len(page.locator("#head").input_value()) == 64
    expect(page.locator("#history")).to_contain_text("合肥市回避本市项目评分")
    _shoot(story, page, "audit")

    # the new user signs in with the generated password and changes it on their account page
    clerk = story.pages.new()
    sign_in(clerk, story.base, "hefei-clerk", secret)
    clerk.get_by_role("link", name="账户").click()
    form = clerk.locator("#change-password")
    form.get_by_label("当前密码").fill(secret)
    form.locator('input[name="new_password"]').fill("合肥-new-passw0rd")
    form.get_by_label("再次输入新密码").fill("合肥-new-passw0rd")
    form.get_by_role("button", name="修改密码").click()
    ok(clerk, "密码已修改")
    _shoot(story, clerk, "account")
    assert clerk.get_by_role("link", name="管理", exact=True).count() == 0  # the lead's alone
