"""The applicant portal in a real browser (Debian's chromium under Playwright, `evalflow serve`):
hefei's applicant signs in, opens 我的申报, fills in the 附件1 form made from the program's
declaration, saves a draft, comes back to it, adds a team member row, submits inside the window,
lands on the project and finds it under 我的申报. The form and the list are screenshot at 1366 and
390 pixels wide into the artifacts folder; nothing is wider than a phone.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import PROGRAM, make_app
from tests.web.browser import Story, expect, ok

APPLICANT = "hefei-applicant"
JAN = "2027-01-03T09:00"


def shoot(s: Story, page: Any, name: str, part: str = "") -> None:
    """The page at 1366 and at 390 pixels wide (and ``part`` of it alone, to be read at full
    size); at 390 nothing overflows the page's width."""
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900 if width > 390 else 844})
        page.screenshot(path=str(s.artifacts / f"{name}-{width}.png"), full_page=True)
        if part:
            page.locator(part).screenshot(path=str(s.artifacts / f"{name}-{width}-{part.strip('#')}.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "nothing overflows a phone's width"
    page.set_viewport_size({"width": 1366, "height": 900})


def fill(page: Any, app: dict, members: int) -> None:
    """Type the application into the form, as an applicant would: by the fields' names."""

    def field(path: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                field(f"{path}.{k}", v)
        elif isinstance(value, bool):
            page.locator(f'[name="f:{path}"][value="{"true" if value else "false"}"]').check()
        elif isinstance(value, list):
            for code in value:
                page.locator(f'[name="f:{path}"][value="{code}"]').check()
        elif path != "enterprise.city":  # (the city is the applicant's own, not typed)
            page.locator(f'[name="f:{path}"]').fill(str(value))

    for key, value in app.items():
        if key != "team":
            field(key, value)
    for i, member in enumerate(app["team"][:members]):
        for name, value in member.items():
            box = page.locator(f'[name="g:{i}:{name}"]')
            if isinstance(value, bool):
                box.set_checked(value)
            else:
                box.fill(str(value))


def test_an_applicant_drafts_and_submits_in_a_browser(story_of) -> None:
    s: Story = story_of("portal")
    s.users(JAN, ("lead", "songjiang"), (APPLICANT, "applicant", "hefei"), signed=(APPLICANT,))
    s.cli("lead", JAN, "cycle", "open", PROGRAM, "--year", "2027", "--places", "demonstration=2")
    s.server.start("2027-01-10T09:00")
    page = s.page(APPLICANT)
    base = s.base

    # 我的申报 from the header: nothing yet, a button to fill in the form
    page.get_by_role("link", name="我的申报").click()
    expect(page.locator("#none")).to_contain_text("您还没有提交申报")
    page.get_by_role("link", name="填写申报表").click()
    page.wait_for_url(f"{base}/apply/g60-2027")
    expect(page.locator("#party")).to_have_text("合肥市")

    # a draft: part of the form, saved, nobody else sees it
    app = make_app("hefei", 1)
    page.locator('[name="f:project.name"]').fill(app["project"]["name"])
    page.locator('[name="f:project.evidence"][value="high_tech_enterprise"]').check()
    page.get_by_role("button", name="保存草稿").click()
    ok(page, "草稿已保存")
    expect(page.locator('[name="f:project.name"]')).to_have_value(app["project"]["name"])
    expect(page.locator('[name="f:project.evidence"][value="high_tech_enterprise"]')).to_be_checked()
    page.get_by_role("link", name="我的申报").click()
    expect(page.locator("#drafts")).to_contain_text("2027年度")
    page.locator("#drafts a").click()

    # the rest of the form; a fourth team member's row added on the page
    page.get_by_role("button", name="增加成员（更多行）").click()
    expect(page.locator(".member")).to_have_count(4)
    fill(page, app, members=4)
    shoot(s, page, "portal-form", "#group")

    page.get_by_role("button", name="提交申报").click()
    ok(page, "申报已提交：项目")
    pid = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("#state")).to_have_text("已申报")

    # under 我的申报, its state by name, a link to change it while the city has not decided
    page.get_by_role("link", name="我的申报").click()
    row = page.locator(f"#p-{pid}")
    expect(row).to_contain_text(app["project"]["name"])
    expect(row).to_contain_text("已申报")
    expect(row.get_by_role("link", name="修改")).to_be_visible()
    assert page.locator("#drafts").count() == 0  # the draft went with the submission
    shoot(s, page, "portal-mine")
