"""An objection from the public during a notice (/public/{cycle}): on the prebuilt G60 cycle just
published (the notice runs 5 days from 06-12), anyone sends one against a project on the list,
without signing in; it is filed as an appeal by the public, its sender's name and contact read by
the lead alone; each refusal (no form token, a project not on the list, after the notice, one
address sending too many) is said in one line and leaves the database as it was."""

from __future__ import annotations

import re

import pytest

from tests.conftest import LEAD, admin, sh, snapshot
from web import public

CYCLE = "g60-2027"
NAME, CONTACT = "王建国", "13800138000"


@pytest.fixture(autouse=True)
def fresh_limits(monkeypatch):
    monkeypatch.setattr(public, "_LIMITER", None)  # (each test counts its own address afresh)


def form(client, cycle: str = CYCLE) -> str:
    page = client.get(f"/public/{cycle}").text
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the objection form is on the page"
    return found.group(1)


def send(client, token: str, project: int | str, reason: str = "该项目申报材料与实际不符，请核查。"):
    data = {"csrf": token, "project": str(project), "name": NAME, "contact": CONTACT, "reason": reason}
    return client.post(f"/public/{CYCLE}/objection", data=data)


def test_anyone_objects_during_the_notice_and_the_lead_reads_who(web) -> None:
    w = web("published")
    w.s.clock.set(sh(6, 13))
    client = w.anonymous()
    top = w.s.high[0]
    r = send(client, form(client), top)
    assert r.status_code == 200 and "异议已收到" in r.text
    with w.s.store.transaction(write=False) as tx:
        appeals = tx.appeals(project_id=top)
        entry = [e for e in tx.history("project", str(top), CYCLE) if e.action == "appeal"][-1]
    assert [(a.filed_by, a.status) for a in appeals] == [("public", "open")]
    assert entry.actor == "public" and entry.data["objector"] == {"name": NAME, "contact": CONTACT}
    lead = w.browser(LEAD).get(f"/appeals?cycle={CYCLE}").text
    assert f"公众（{NAME}，{CONTACT}）" in lead
    city = w.browser(admin("hefei")).get(f"/appeals?cycle={CYCLE}").text
    assert CONTACT not in city
    history = w.browser(admin("hefei")).get(f"/projects/{top}").text
    assert CONTACT not in history


def test_each_refusal_is_one_line_and_changes_nothing(web) -> None:
    w = web("published")
    w.s.clock.set(sh(6, 13))
    client = w.anonymous()
    token = form(client)
    before = snapshot(w.s.store)
    r = client.post(f"/public/{CYCLE}/objection", data={"csrf": "forged", "project": str(w.s.high[0])})
    assert r.status_code == 400 and "表单已失效" in r.text
    r = client.post(f"/public/{CYCLE}/objection", data={"csrf": "é", "project": str(w.s.high[0])})
    assert r.status_code == 400 and "表单已失效" in r.text  # (any text is compared, never a 500)
    low = w.s.low[0]  # (not on the list: as no project at all)
    r = send(client, token, low)
    assert r.status_code == 404 and f"没有项目 {low}" in r.text
    for huge in (str(2**31), "9" * 19):  # (past the database's column: no project, never a 500)
        r = send(client, token, huge)
        assert r.status_code == 400 and "请选择有异议的项目" in r.text
    r = send(client, token, w.s.high[0], reason="   ")
    assert r.status_code == 400 and "须填写" in r.text
    assert snapshot(w.s.store) == before
    w.s.clock.set(sh(6, 18))  # (the notice ended on 06-17)
    r = send(client, token, w.s.high[0])
    assert r.status_code == 422 and "公示期已于" in r.text
    assert snapshot(w.s.store) == before
    for _ in range(2):  # (five sent from this address this hour: the sixth waits)
        send(client, token, w.s.high[0])
    r = send(client, token, w.s.high[0])
    assert r.status_code == 400 and "此地址已提交 5 条异议" in r.text
    assert snapshot(w.s.store) == before


def test_no_form_when_the_notice_is_over_or_nothing_is_published(web) -> None:
    w = web("published")
    w.s.clock.set(sh(6, 30))
    assert 'id="objection"' not in w.anonymous().get(f"/public/{CYCLE}").text
    w2 = web("confirmed")
    assert w2.anonymous().post(f"/public/{CYCLE}/objection", data={}).status_code == 404


def test_no_user_may_be_named_as_the_public(web) -> None:
    """The public's objections are filed under 'public': no user may take the name."""
    from workflow.errors import InvalidInput

    w = web("published")
    before = snapshot(w.s.store)
    with pytest.raises(InvalidInput) as err:
        w.s.engine.add_user(LEAD, "public", "applicant", "hefei")
    assert "the name 'public' is kept for the public's objections" in str(err.value)
    assert snapshot(w.s.store) == before
