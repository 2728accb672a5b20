"""Bounded input through the JSON API: a NUL byte, an over-long text, a number out of range, an
unknown key and hostile nesting are refused with 400 and the field named, and nothing is stored."""

from __future__ import annotations

import json

import pytest

from tests.conftest import applicant, make_app, sh, snapshot

CYCLE = "g60-2027"


def _refused(w, body: dict | str) -> str:
    api = w.api(applicant("hefei"))
    before = snapshot(w.s.store)
    if isinstance(body, str):
        r = api.post(f"/api/cycles/{CYCLE}/projects", content=body, headers={"content-type": "application/json"})
    else:
        r = api.post(f"/api/cycles/{CYCLE}/projects", json=body)
    assert r.status_code == 400, r.text
    assert snapshot(w.s.store) == before
    return r.json()["message"]


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda a: a["project"].update(name="智能\x00工厂"), "holds the control character U+0000 at character 3"),
        (lambda a: a["project"].update(name="项" * 1_000_000), "is 1000000 characters long; the limit is 200"),
        (lambda a: a["party_organization"].update(members=10**12), "out of range: it must be from 0 to 1000000000"),
        (lambda a: a.update(budget=1), "budget is not a field of the form"),
    ],
    ids=["nul", "long-name", "members", "unknown-key"],
)
def test_the_api_refuses_what_is_out_of_bounds_with_400(web, change, said: str) -> None:
    w = web("collection")
    w.s.clock.set(sh(1, 20))
    app = make_app("hefei", 901)
    change(app)
    assert said in _refused(w, {"application": app})


def test_the_api_refuses_deep_nesting_and_non_finite_numbers_with_400(web) -> None:
    w = web("collection")
    w.s.clock.set(sh(1, 20))
    app = make_app("hefei", 902)
    text = json.dumps({"application": app}, ensure_ascii=False)
    members = f'"members": {app["party_organization"]["members"]}'
    assert "党员数" in _refused(w, text.replace(members, '"members": NaN'))
    assert "党员数" in _refused(w, text.replace(members, '"members": 1e400'))
    deep = text.replace('"filler": ', '"filler": ' + "[" * 5000 + "]" * 5000 + ', "x": ')
    assert "There was an error parsing the body" in _refused(w, deep)  # (FastAPI: its own one line)
