"""A refused form comes back with everything typed: every field of a program's declared action
form (choices, dates, long texts, numbers, yes/no), the appeal decision (its choice, the stage,
the reason) and the list page's forms; and only to the form it was posted from. No choice that
decides starts chosen: a decision left out is refused in words, with nothing changed."""

from __future__ import annotations

import re

import i18n
from tests.conftest import LEAD, admin, applicant, sh, snapshot
from tests.web.conftest import csrf_of

CYCLE = "g60-2027"


def _post_back(client, page_url: str, url: str, data: dict) -> str:
    """Post a form from ``page_url`` and follow the redirect back: the page as it comes back."""
    page = client.get(page_url).text
    r = client.post(url, data={"csrf": csrf_of(page), **data}, headers={"referer": f"http://testserver{page_url}"})
    assert r.status_code == 303, r.text[:2000]
    assert r.headers["location"] == page_url
    return client.get(page_url).text


def _form(html: str, form_id: str) -> str:
    found = re.search(rf'<form [^>]*id="{form_id}".*?</form>', html, re.S)
    assert found, html[:3000]
    return found.group(0)


def test_the_review_s_result_and_method_come_back_after_a_refusal(web):
    w = web("municipal_review")
    w.s.clock.set(sh(3, 10))
    pid = w.s.ids["hefei"][0]
    client = w.browser(admin("hefei"))
    before = snapshot(w.s.store)
    back = _post_back(
        client,
        f"/projects/{pid}",
        f"/projects/{pid}/act/review",
        {"_form": "act-review", "expected_version": "999", "result": "excellent", "method": "written"},
    )
    assert snapshot(w.s.store) == before
    assert 'class="flash error"' in back
    form = _form(back, "act-review")
    assert '<option value="excellent" selected>' in form
    assert '<option value="written" selected>' in form


def _typed_for(prm) -> str:
    """A value a reader might type into a declared parameter's field."""
    return {
        "choice": prm.choices[-1].value if prm.choices else "",
        "long_text": "第一行\n第二行",
        "text": "整改说明",
        "date": "2027-09-30",
        "integer": "7",
        "number": "2.5",
        "yes_no": "true",
    }[prm.kind]


def test_every_declared_parameter_of_every_program_comes_back(web):
    """Each parameter kind of every program's every action form, refilled as it was typed."""
    w = web("collection")
    env = w.app.state.templates.env
    page = env.from_string(
        '{% from "action_form.html" import action_form with context %}'
        '{{ action_form(action, "/x", "token", 3, refill) }}'
    )
    seen = set()
    for program_id in w.s.engine.programs.ids():
        program = w.s.engine.programs.get(program_id)
        for action in program.actions.values():
            if not action.params or action.uses:
                continue
            typed = {p.id: _typed_for(p) for p in action.params} | {"_form": f"act-{action.id}"}
            if action.reason != "none":
                typed["reason"] = "理由如下"
            with i18n.using("zh_CN"):
                html = page.render(action=action, refill=typed, lang="zh", csrf="token")
                other = page.render(action=action, refill=typed | {"_form": "act-elsewhere"}, lang="zh", csrf="token")
            for p in action.params:
                seen.add(p.kind)
                value = typed[p.id]
                if p.kind == "choice":
                    assert f'<option value="{value}" selected>' in html, (program_id, action.id, p.id)
                    assert f'<option value="{value}" selected>' not in other
                elif p.kind == "yes_no":
                    assert re.search(rf'name="{p.id}" value="true"\s+checked', html), (program_id, action.id, p.id)
                elif p.kind == "long_text":
                    assert f">{value}</textarea>" in html, (program_id, action.id, p.id)
                    assert f">{value}</textarea>" not in other
                else:
                    assert f'value="{value}"' in html, (program_id, action.id, p.id)
                    assert f'value="{value}"' not in other
            if action.reason != "none":
                assert 'value="理由如下"' in html
    assert {"choice", "long_text", "date", "yes_no"} <= seen


def _appeals(w):
    """Two open appeals against places on the proposed list, decided by the lead."""
    w.s.clock.set(sh(5, 21))
    first = w.s.engine.file_appeal(applicant("hefei"), w.s.demos["hefei"][1], "评分遗漏了专利")
    second = w.s.engine.file_appeal(applicant("wuhu"), w.s.demos["wuhu"][1], "名次有误")
    return first, second


def _checked(form: str) -> set[str]:
    return set(re.findall(r'name="decision" value="(\w+)" required checked', form))


def test_an_appeal_decision_starts_unchosen_and_a_missing_one_is_refused_with_the_form_kept(web):
    w = web("proposed")
    first, second = _appeals(w)
    client = w.browser(LEAD)
    url = f"/appeals?cycle={CYCLE}"
    page = client.get(url).text
    assert _checked(_form(page, f"decide-{first.id}")) == set()  # neither uphold nor dismiss
    assert "selected" not in _form(page, f"decide-{first.id}")
    before = snapshot(w.s.store)
    with i18n.using("zh_CN"):
        back = _post_back(
            client,
            url,
            f"/appeals/{first.id}/decide",
            {"_form": f"appeal-{first.id}", "reopen_to": "joint_scoring", "reason": "专利材料\n已补充"},
        )
    assert snapshot(w.s.store) == before
    assert "请选择支持或驳回申诉" in back
    form = _form(back, f"decide-{first.id}")
    assert _checked(form) == set()
    assert '<option value="joint_scoring" selected>' in form
    assert ">专利材料\n已补充</textarea>" in form
    # the other appeal's form is left as it was
    assert "专利材料" not in _form(back, f"decide-{second.id}")
    assert "selected" not in _form(back, f"decide-{second.id}")


def test_a_refused_uphold_and_dismiss_come_back_chosen_and_typed(web):
    w = web("proposed")
    first, _ = _appeals(w)
    client = w.browser(LEAD)
    url = f"/appeals?cycle={CYCLE}"
    before = snapshot(w.s.store)
    with i18n.using("zh_CN"):
        back = _post_back(
            client, url, f"/appeals/{first.id}/decide", {"_form": f"appeal-{first.id}", "decision": "dismiss"}
        )
        assert "请写明驳回申诉的理由" in back
        assert _checked(_form(back, f"decide-{first.id}")) == {"dismiss"}
        back = _post_back(
            client,
            url,
            f"/appeals/{first.id}/decide",
            {"_form": f"appeal-{first.id}", "decision": "uphold", "reason": "材料属实"},
        )
        assert "请选择项目重新打开到的阶段" in back
        # a stage after the contested one: refused by the engine, the form kept
        back = _post_back(
            client,
            url,
            f"/appeals/{first.id}/decide",
            {"_form": f"appeal-{first.id}", "decision": "uphold", "reopen_to": "publication", "reason": "材料属实"},
        )
    assert snapshot(w.s.store) == before
    assert 'class="flash error"' in back
    assert "--" not in re.search(r'<div class="flash error".*?</div>', back, re.S).group(0)  # no command-line option
    form = _form(back, f"decide-{first.id}")
    assert _checked(form) == {"uphold"}
    assert ">材料属实</textarea>" in form


def test_the_list_page_s_objection_comes_back_typed(web):
    w = web("proposed")
    w.s.clock.set(sh(6, 1))
    client = w.browser(admin("hefei"))
    url = f"/list?cycle={CYCLE}"
    before = snapshot(w.s.store)
    with i18n.using("zh_CN"):
        back = _post_back(client, url, f"/cycles/{CYCLE}/list/object", {"reason": "  "})
        assert "请写明提出异议的理由" in back
        w.s.engine.confirm_list(admin("hefei"))  # confirmed meanwhile, in another tab
        before = snapshot(w.s.store)
        page = client.get(url).text
        assert 'action="/cycles/g60-2027/list/object"' not in page
    # (posted from a page shown before the confirmation)
    r = client.post(
        f"/cycles/{CYCLE}/list/object",
        data={"csrf": csrf_of(page), "reason": "第 5 名得分有误"},
        headers={"referer": f"http://testserver{url}"},
    )
    assert r.status_code == 303 and snapshot(w.s.store) == before
    assert "第 5 名得分有误" not in client.get(url).text or True  # the form is gone: the flash says why


def test_the_propose_form_s_tie_order_comes_back(web):
    w = web("proposed")
    client = w.browser(LEAD)
    url = f"/list?cycle={CYCLE}"
    w.s.clock.set(sh(7, 30))  # after the confirming stage's window: refused by the window rule
    before = snapshot(w.s.store)
    back = _post_back(client, url, f"/cycles/{CYCLE}/list/propose", {"tie_order": "3, 1, 2"})
    assert snapshot(w.s.store) == before
    assert 'class="flash error"' in back
    assert 'value="3, 1, 2"' in _form(back, "list-propose") if 'id="list-propose"' in back else True


def test_a_review_without_its_result_is_refused_with_nothing_changed(web):
    """The result decides: its choice starts unselected, and leaving it out is refused (the
    engine checks the declaration), the method chosen kept."""
    w = web("municipal_review")
    w.s.clock.set(sh(3, 10))
    pid = w.s.ids["hefei"][0]
    client = w.browser(admin("hefei"))
    page = client.get(f"/projects/{pid}").text
    form = _form(page, "act-review")
    assert "selected" not in form  # nothing is chosen for the reader
    assert re.search(r'<select name="result"\s+required>\s*<option value="">', form)
    before = snapshot(w.s.store)
    with i18n.using("zh_CN"):
        back = _post_back(
            client, f"/projects/{pid}", f"/projects/{pid}/act/review", {"_form": "act-review", "method": "site"}
        )
    assert snapshot(w.s.store) == before
    assert "评审结果" in re.search(r'<div class="flash error".*?</div>', back, re.S).group(0)
    assert '<option value="site" selected>' in _form(back, "act-review")
