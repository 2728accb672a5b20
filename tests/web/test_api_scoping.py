"""Scoping on the server, through the API: before the joint stage a city's administrator, scorer
or applicant cannot see or change another city's applications, by any endpoint or by guessing ids.

The matrix: every role of a city (city-admin, scorer, applicant) × the project's own city (hefei)
or another city (jiaxing) × every project- or city-scoped endpoint, each at the pre-joint
checkpoint where the action belongs. Another city's call is always denied — 403, or 404 worded
exactly as for a project that does not exist, or (for a listing) the project left out — and
changes nothing; the own city gets what the engine's permission grid says. Every cell is a test
of its own, and one more counts them: 100 % of the other-city cells denied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.conftest import LEAD, SHEET_MID, admin, applicant, make_app, scorer, sh, snapshot
from tests.workflow.checkpoints import Staged

CYCLE = "g60-2027"
OWN, OTHER = "hefei", "jiaxing"
ROLES: dict[str, Callable[[str], str]] = {"city-admin": admin, "scorer": scorer, "applicant": applicant}
PRE_JOINT = ("collection", "municipal_review", "recommendation")
CLOCK = {"collection": (1, 20), "municipal_review": (3, 10), "recommendation": (5, 5)}

# what a cell expects: "ok" (done, as the success check says), "shown" (a listing holding the
# project), "hidden" (a listing without it), or an HTTP status
Expect = str | int


@dataclass(frozen=True)
class Endpoint:
    """One API call on a hefei project (or on hefei's score sheet) at a pre-joint checkpoint."""

    checkpoint: str
    subject: Callable[[Staged], int]  # the hefei project (or appeal) the call names
    call: Callable[[Staged], tuple[str, str, dict | None]]  # method, path, JSON body
    own: dict[str, Expect]  # role -> what hefei's own user of that role gets
    other: Expect  # what every other-city user gets
    done: Callable[[Staged, int], bool] | None = None  # the engine's state after an "ok"
    prepare: Callable[[Staged], None] | None = None
    clock: tuple[int, int] | None = None
    not_found: str = "project"  # the thing a 404 names

    @property
    def listing(self) -> bool:
        return "shown" in self.own.values() or "hidden" in self.own.values()


def _first(s: Staged) -> int:
    return s.ids[OWN][0]


def _demo(s: Staged) -> int:
    return s.demos[OWN][0]


def _excellent(s: Staged) -> int:
    return s.excellent[OWN]


def _state(s: Staged, pid: int) -> str:
    return s.engine.project(LEAD, pid)[0].state


def _recommend(s: Staged) -> None:
    s.clock.set(sh(5, 5))
    s.engine.fire(admin(OWN), _demo(s), "recommend")


def _appealed(s: Staged) -> None:
    s.engine.file_appeal(applicant(OWN), _excellent(s), "评审遗漏了专利材料")


def _appeal(s: Staged) -> int:
    return s.engine.appeals(LEAD)[1][0].id


def _projects(params: str = "") -> Callable[[Staged], tuple[str, str, None]]:
    return lambda s: ("GET", f"/api/cycles/{CYCLE}/projects{params}", None)


# a scorer sees nothing of its own city before the joint stage (it scores the key library then),
# an applicant sees only the applications it made (every hefei one here)
READ = {"city-admin": "ok", "scorer": 404, "applicant": "ok"}
LIST = {"city-admin": "shown", "scorer": "hidden", "applicant": "shown"}
ADMIN_ACTION = {"city-admin": "ok", "scorer": 404, "applicant": 403}

ENDPOINTS: dict[str, Endpoint] = {}
for _cp in PRE_JOINT:
    _subject = _first if _cp == "collection" else _demo
    ENDPOINTS[f"get-project@{_cp}"] = Endpoint(
        _cp, _subject, lambda s, f=_subject: ("GET", f"/api/projects/{f(s)}", None), READ, 404
    )
    ENDPOINTS[f"list-projects@{_cp}"] = Endpoint(_cp, _subject, _projects(), LIST, "hidden")
    ENDPOINTS[f"list-projects-of-hefei@{_cp}"] = Endpoint(_cp, _subject, _projects("?city=hefei"), LIST, "hidden")

ENDPOINTS.update(
    {
        "accept": Endpoint(
            "collection",
            _first,
            lambda s: ("POST", f"/api/projects/{_first(s)}/accept", {"opinion": "材料齐全"}),
            ADMIN_ACTION,
            404,
            done=lambda s, pid: _state(s, pid) == "in_library",
        ),
        "reject": Endpoint(
            "collection",
            _first,
            lambda s: ("POST", f"/api/projects/{_first(s)}/reject", {"reason": "材料不全"}),
            ADMIN_ACTION,
            404,
            done=lambda s, pid: _state(s, pid) == "rejected",
        ),
        "actions-accept": Endpoint(
            "collection",
            _first,
            lambda s: ("POST", f"/api/projects/{_first(s)}/actions/accept", {}),
            ADMIN_ACTION,
            404,
            done=lambda s, pid: _state(s, pid) == "in_library",
        ),
        # a stale version on a project the user cannot read must not say that it exists
        "accept-stale-version": Endpoint(
            "collection",
            _first,
            lambda s: ("POST", f"/api/projects/{_first(s)}/accept", {"expected_version": 0}),
            {"city-admin": 409, "scorer": 404, "applicant": 409},
            404,
        ),
        "submit-hefei-application": Endpoint(
            "collection",
            _first,
            lambda s: ("POST", f"/api/cycles/{CYCLE}/projects", {"application": make_app(OWN, 901)}),
            {"city-admin": "ok", "scorer": 403, "applicant": "ok"},
            403,
            done=lambda s, pid: len(s.engine.projects(LEAD, CYCLE, city=OWN)) == 7,
        ),
        # the applicant portal (web/api_portal.py): changing and withdrawing an application
        "edit-application": Endpoint(
            "collection",
            _first,
            lambda s: (
                "PUT",
                f"/api/projects/{_first(s)}/application",
                {"application": {**s.engine.project(LEAD, _first(s))[0].application, "contact": "0551-1"}},
            ),
            {"city-admin": "ok", "scorer": 404, "applicant": "ok"},
            404,
            done=lambda s, pid: s.engine.project(LEAD, pid)[0].application["contact"] == "0551-1",
        ),
        "withdraw-application": Endpoint(
            "collection",
            _first,
            lambda s: ("POST", f"/api/projects/{_first(s)}/withdrawal", {}),
            {"city-admin": 403, "scorer": 404, "applicant": "ok"},
            404,
            done=lambda s, pid: _state(s, pid) == "withdrawn",
        ),
        "review": Endpoint(
            "municipal_review",
            _first,
            lambda s: (
                "POST",
                f"/api/projects/{_first(s)}/review",
                {"result": "demonstration", "method": "onsite"},
            ),
            ADMIN_ACTION,
            404,
            done=lambda s, pid: _state(s, pid) == "municipal_demonstration",
        ),
        "actions-review": Endpoint(
            "municipal_review",
            _first,
            lambda s: (
                "POST",
                f"/api/projects/{_first(s)}/actions/review",
                {"params": {"result": "excellent", "method": "written"}},
            ),
            ADMIN_ACTION,
            404,
            done=lambda s, pid: _state(s, pid) == "municipal_excellent",
        ),
        "recommend": Endpoint(
            "recommendation",
            _demo,
            lambda s: ("POST", f"/api/projects/{_demo(s)}/recommend", {}),
            ADMIN_ACTION,
            404,
            done=lambda s, pid: _state(s, pid) == "recommended",
        ),
        "recommend-batch": Endpoint(
            "recommendation",
            _demo,
            lambda s: ("POST", f"/api/cycles/{CYCLE}/recommend", {"project_ids": [_demo(s)]}),
            ADMIN_ACTION,
            404,
            done=lambda s, pid: _state(s, pid) == "recommended",
        ),
        "withdraw": Endpoint(
            "recommendation",
            _demo,
            lambda s: ("POST", f"/api/projects/{_demo(s)}/withdraw", {}),
            ADMIN_ACTION,
            404,
            done=lambda s, pid: _state(s, pid) == "municipal_demonstration",
            prepare=_recommend,
            clock=(5, 6),
        ),
        "actions-withdraw": Endpoint(
            "recommendation",
            _demo,
            lambda s: ("POST", f"/api/projects/{_demo(s)}/actions/withdraw", {"reason": "重新遴选"}),
            ADMIN_ACTION,
            404,
            done=lambda s, pid: _state(s, pid) == "municipal_demonstration",
            prepare=_recommend,
            clock=(5, 6),
        ),
        # scoring belongs to the joint stage: before it, a scorer does not even see the project
        "score": Endpoint(
            "recommendation",
            _demo,
            lambda s: ("POST", f"/api/projects/{_demo(s)}/score", {"scores": SHEET_MID}),
            {"city-admin": 403, "scorer": 404, "applicant": 403},
            404,
            prepare=_recommend,
            clock=(5, 6),
        ),
        "award": Endpoint(
            "recommendation",
            _demo,
            lambda s: ("POST", f"/api/cycles/{CYCLE}/award", {"project_ids": [_demo(s)]}),
            {"city-admin": 403, "scorer": 404, "applicant": 403},
            404,
        ),
        "file-appeal": Endpoint(
            "recommendation",
            _excellent,
            lambda s: ("POST", f"/api/projects/{_excellent(s)}/appeals", {"reason": "评审遗漏了专利材料"}),
            {"city-admin": "ok", "scorer": 404, "applicant": "ok"},
            404,
            done=lambda s, pid: [a.project_id for a in s.engine.appeals(LEAD)[1]] == [pid],
        ),
        "decide-appeal": Endpoint(
            "recommendation",
            _appeal,
            lambda s: ("POST", f"/api/appeals/{_appeal(s)}/decide", {"decision": "dismiss", "reason": "材料已审"}),
            {"city-admin": "ok", "scorer": 404, "applicant": 403},
            404,
            done=lambda s, aid: [(a.id, a.status) for a in s.engine.appeals(LEAD)[1]] == [(aid, "dismissed")],
            prepare=_appealed,
            not_found="appeal",
        ),
        "list-appeals": Endpoint(
            "recommendation",
            _appeal,
            lambda s: ("GET", f"/api/cycles/{CYCLE}/appeals", None),
            {"city-admin": "shown", "scorer": "hidden", "applicant": "shown"},
            "hidden",
            prepare=_appealed,
        ),
        "score-template-of-hefei": Endpoint(
            "recommendation",
            _demo,
            lambda s: ("GET", f"/api/cycles/{CYCLE}/templates/scores?city=hefei", None),
            {"city-admin": "ok", "scorer": "ok", "applicant": 403},
            403,
            done=lambda s, pid: True,  # a download: it changes nothing (checked on every cell)
        ),
        "report": Endpoint(
            "recommendation",
            _demo,
            lambda s: ("GET", f"/api/cycles/{CYCLE}/report", None),
            {"city-admin": 403, "scorer": 403, "applicant": 403},
            403,
        ),
    }
)


# ------------------------------------------------------------------------------ attachments (web/api_files.py)
_PDF = b"%PDF-1.4\n%%EOF\n"


def _attached(s: Staged) -> None:
    s.engine.attach(applicant(OWN), _first(s), "business_license", "营业执照.pdf", _PDF)


def _file_of(s: Staged) -> int:
    found = s.engine.attachments(LEAD, _first(s))
    return found[0].id if found else 1  # (the matrix's coverage check names the route without a file)


def _files(s: Staged, pid: int) -> int:
    return len(s.engine.attachments(LEAD, pid))


ENDPOINTS.update(
    {
        # why a project holds its rank is the lead's: every other role is refused alike, its own
        # city's project or another's (whether the project exists or not: see explain_rank)
        "rank": Endpoint(
            "recommendation",
            _demo,
            lambda s: ("GET", f"/api/projects/{_demo(s)}/rank", None),
            {"city-admin": 403, "scorer": 403, "applicant": 403},
            403,
        ),
        "list-attachments": Endpoint(
            "collection", _first, lambda s: ("GET", f"/api/projects/{_first(s)}/attachments", None), READ, 404
        ),
        "upload-attachment": Endpoint(
            "collection",
            _first,
            lambda s: (
                "POST",
                f"/api/projects/{_first(s)}/attachments",
                {"data": {"document": "business_license"}, "files": {"file": ("营业执照.pdf", _PDF)}},
            ),
            {"city-admin": "ok", "scorer": 404, "applicant": "ok"},
            404,
            done=lambda s, pid: _files(s, pid) == 1,
        ),
        "download-attachment": Endpoint(
            "collection",
            _first,
            lambda s: ("GET", f"/api/projects/{_first(s)}/attachments/{_file_of(s)}", None),
            READ,
            404,
            prepare=_attached,
        ),
        "remove-attachment": Endpoint(
            "collection",
            _first,
            lambda s: ("DELETE", f"/api/projects/{_first(s)}/attachments/{_file_of(s)}", None),
            {"city-admin": "ok", "scorer": 404, "applicant": "ok"},
            404,
            done=lambda s, pid: _files(s, pid) == 0,
            prepare=_attached,
        ),
        # a project's letter: nothing is published at collection (422, past the permission), and
        # another city's, or a scorer's before the joint stage, is no project at all
        "project-letter": Endpoint(
            "collection",
            _first,
            lambda s: ("GET", f"/api/projects/{_first(s)}/documents/letter", None),
            {"city-admin": 422, "scorer": 404, "applicant": 422},
            404,
        ),
        "export-project": Endpoint(
            "collection",
            _first,
            lambda s: ("GET", f"/api/projects/{_first(s)}/export", None),
            READ,
            404,
            prepare=_attached,
        ),
    }
)


@dataclass
class Outcome:
    status: int
    body: object
    text: str
    changed: bool
    listed: bool | None  # for a listing: whether the subject is in it


OUTCOMES: dict[tuple[str, str, str], Outcome] = {}


def _run(web, name: str, role: str, city: str) -> tuple[Staged, Outcome]:
    ep = ENDPOINTS[name]
    w = web(ep.checkpoint)
    s = w.s
    s.clock.set(sh(*CLOCK[ep.checkpoint]))
    if ep.prepare is not None:
        ep.prepare(s)
    s.clock.set(sh(*(ep.clock or CLOCK[ep.checkpoint])))
    client = w.api(ROLES[role](city))
    method, path, body = ep.call(s)
    subject = ep.subject(s)
    before = snapshot(s.store)
    # (an upload is multipart: its fields and files; every other call's body is JSON)
    sent = (
        {"data": body["data"], "files": body["files"]} if isinstance(body, dict) and "files" in body else {"json": body}
    )
    r = client.request(method, path, **sent)
    changed = snapshot(s.store) != before
    is_json = r.headers.get("content-type", "").startswith("application/json")
    data = r.json() if is_json else None
    listed = None
    if ep.listing and r.status_code == 200:
        key = "project_id" if name == "list-appeals" else "id"
        wanted = subject if name != "list-appeals" else _excellent(s)
        listed = any(item[key] == wanted for item in data)
        if name.startswith("list-projects"):
            # the whole city, not only the subject: any hefei project shown counts
            listed = listed or any(item["city"] == OWN for item in data)
    outcome = Outcome(r.status_code, data, r.text if is_json else "", changed, listed)
    OUTCOMES[(name, role, city)] = outcome
    return s, outcome


def _denied(o: Outcome) -> bool:
    return not o.changed and (o.status in (403, 404) or (o.status == 200 and o.listed is False))


CASES = [
    pytest.param(name, role, side, id=f"{name}-{role}-{side}")
    for name in ENDPOINTS
    for role in ROLES
    for side in ("own-city", "other-city")
]


@pytest.mark.parametrize(("name", "role", "side"), CASES)
def test_scoping_matrix(web, name, role, side):
    ep = ENDPOINTS[name]
    city = OWN if side == "own-city" else OTHER
    s, o = _run(web, name, role, city)
    expected = ep.own[role] if side == "own-city" else ep.other
    if expected == "ok":
        assert 200 <= o.status < 300, o.text
        assert ep.done is None or ep.done(s, ep.subject(s))
        return
    assert not o.changed, "a refused or read-only call changed the database"
    if expected in ("shown", "hidden"):
        assert o.status == 200, o.text
        assert o.listed is (expected == "shown")
        return
    assert o.status == expected, o.text
    if expected == 404:
        # worded as for a thing that does not exist: nothing says whose it is
        assert o.body == {"error": "not_found", "message": f"No {ep.not_found} {ep.subject(s)}."}
        assert OWN not in o.text and "合肥" not in o.text
    elif expected == 403:
        assert o.body["error"] == "not_permitted"
        assert o.body["message"].startswith("Not permitted to ")
    elif expected == 422:  # (past the permission, refused by a rule: nothing is published yet)
        assert o.body["error"] == "refused" and "[results_published]" in o.body["message"]
    else:
        assert (expected, o.body["error"]) == (409, "conflict")


def test_every_other_city_call_is_denied(web):
    """The matrix's other-city half, counted: 100 % denied and nothing changed."""
    cells = [(name, role) for name in ENDPOINTS for role in ROLES]
    denied = []
    for name, role in cells:
        outcome = OUTCOMES.get((name, role, OTHER)) or _run(web, name, role, OTHER)[1]
        if _denied(outcome):
            denied.append((name, role))
    allowed = sorted(set(cells) - set(denied))
    share = 100 * len(denied) / len(cells)
    print(f"other-city access denied: {len(denied)} of {len(cells)} calls ({share:.0f} %)")
    assert len(cells) == 3 * len(ENDPOINTS) >= 60
    assert allowed == [] and share == 100


def test_the_matrix_covers_every_project_and_city_scoped_endpoint(web):
    """Every API route naming a project, an appeal, or a city's data is in the matrix."""
    w = web("collection")
    doc = w.anonymous().get("/api/openapi.json").json()
    called = set()
    for ep in ENDPOINTS.values():
        s = w.s
        try:
            method, path, _ = ep.call(s)
        except IndexError:  # an appeal id, made by the endpoint's preparation
            method, path = "POST", "/api/appeals/1/decide"
        called.add((method, path.split("?")[0]))

    def matches(template: str, method: str) -> bool:
        parts = template.split("/")
        return any(
            m == method
            and len(p.split("/")) == len(parts)
            and all(a.startswith("{") or a == b for a, b in zip(parts, p.split("/"), strict=True))
            for m, p in called
        )

    scoped = [
        (method.upper(), path)
        for path, ops in doc["paths"].items()
        for method in ops
        if "{project_id}" in path
        or "{appeal_id}" in path
        or path.endswith(("/projects", "/appeals", "/templates/scores", "/report", "/award", "/recommend"))
    ]
    missing = [(m, p) for m, p in scoped if not matches(p, m)]
    assert scoped and missing == []


# ------------------------------------------------------------------------------ beyond the matrix


def test_guessing_every_project_id_finds_only_the_own_citys(web):
    """jiaxing's administrator walks the ids: another city's project answers exactly like one
    that does not exist."""
    w = web("recommendation")
    api = w.api(admin(OTHER))
    before = snapshot(w.s.store)
    own = set(w.s.ids[OTHER])
    every = sorted(pid for ids in w.s.ids.values() for pid in ids)
    for pid in range(1, every[-1] + 10):
        r = api.get(f"/api/projects/{pid}")
        if pid in own:
            assert (r.status_code, r.json()["city"]) == (200, OTHER)
        else:
            assert (r.status_code, r.json()) == (404, {"error": "not_found", "message": f"No project {pid}."})
        for action in ("accept", "recommend", "withdraw"):
            if pid not in own:
                r = api.post(f"/api/projects/{pid}/{action}", json={})
                assert (r.status_code, r.json()["message"]) == (404, f"No project {pid}."), (pid, action)
    assert snapshot(w.s.store) == before


@pytest.mark.parametrize("checkpoint", PRE_JOINT)
def test_a_scorer_probing_before_the_joint_stage_finds_nothing(web, checkpoint):
    """A scorer may score every city's key-library projects once joint scoring begins; before it,
    a score sent to any project is answered as for one that does not exist (not with the stage
    rule, which would tell that the project exists and its state)."""
    w = web(checkpoint)
    api = w.api(scorer(OTHER))
    before = snapshot(w.s.store)
    for pid in [*w.s.ids[OWN], *w.s.ids[OTHER], 999]:
        r = api.post(f"/api/projects/{pid}/score", json={"scores": SHEET_MID})
        assert (r.status_code, r.json()) == (404, {"error": "not_found", "message": f"No project {pid}."})
    assert snapshot(w.s.store) == before


def test_a_batch_with_another_citys_project_is_refused_whole(web):
    w = web("recommendation")
    w.s.clock.set(sh(5, 5))
    api = w.api(admin(OTHER))
    before = snapshot(w.s.store)
    hefei = w.s.demos[OWN][0]
    r = api.post(f"/api/cycles/{CYCLE}/recommend", json={"project_ids": [*w.s.demos[OTHER], hefei]})
    assert (r.status_code, r.json()["message"]) == (404, f"No project {hefei}.")
    assert snapshot(w.s.store) == before


def test_the_own_score_template_holds_no_other_citys_project_before_the_joint_stage(web):
    w = web("recommendation")
    w.s.clock.set(sh(5, 5))
    w.s.engine.fire(admin(OWN), w.s.demos[OWN], "recommend")
    w.s.engine.fire(admin(OTHER), w.s.demos[OTHER], "recommend")
    import io

    import openpyxl

    r = w.api(admin(OTHER)).get(f"/api/cycles/{CYCLE}/templates/scores")
    assert r.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    assert sorted(row[0] for row in ws.iter_rows(min_row=2, values_only=True)) == w.s.demos[OTHER]


def test_the_status_names_no_other_citys_appeal(web):
    w = web("recommendation")
    w.s.clock.set(sh(5, 5))
    w.s.engine.file_appeal(applicant(OWN), w.s.excellent[OWN], "复核")
    assert [a["city"] for a in w.api(LEAD).get(f"/api/cycles/{CYCLE}/status").json()["open_appeals"]] == [OWN]
    for role in ROLES.values():
        status = w.api(role(OTHER)).get(f"/api/cycles/{CYCLE}/status").json()
        assert status["open_appeals"] == []


def test_from_the_joint_stage_another_city_reads_the_shortlist_but_cannot_change_it(web):
    w = web("joint_scoring")
    w.s.clock.set(sh(5, 12))
    api = w.api(admin(OTHER))
    key, kept_home = w.s.demos[OWN][0], w.s.excellent[OWN]
    before = snapshot(w.s.store)
    assert api.get(f"/api/projects/{key}").status_code == 200
    listed = {p["id"] for p in api.get(f"/api/cycles/{CYCLE}/projects", params={"city": OWN}).json()}
    assert listed == set(w.s.demos[OWN])  # the key library, not the city's other projects
    r = api.get(f"/api/projects/{kept_home}")
    assert (r.status_code, r.json()["message"]) == (404, f"No project {kept_home}.")
    r = api.post(f"/api/projects/{key}/withdraw", json={})
    assert r.status_code == 403
    assert "jiaxing-admin acts for jiaxing; this project belongs to hefei" in r.json()["message"]
    assert snapshot(w.s.store) == before
