"""Every page of the console, read in Chinese as every role at every stage of each of the four
programs, shows only the catalog's words: no rule id (bracketed or bare), no state, stage or
trigger id, no party id, no command-line flag and no English word outside an explicit allowlist
(tests/web/words.py); the users' names, the cycle ids and what applicants typed are data.

G60 is read at every checkpoint of tests/workflow/checkpoints.py; the three sister programs at
each step of their demos (``evalflow demo --program ID``: the database is copied as each step
begins, and served at that step's instant). Every leak is reported with its program, instant,
role, page and string. Leaks whose words belong to areas converted elsewhere are listed by name
in ``KNOWN``: the test fails if one of them is no longer seen, so the list cannot go stale.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

import demo.alliance
import demo.kechuang
import demo.pioneer
from demo.g60 import DemoClock
from store.sql import SqlStore
from tests.conftest import LEAD, SettableClock, admin, applicant, scorer
from tests.web.conftest import Web, csrf_of
from tests.web.words import Vocabulary, visible_strings
from web.app import create_app
from web.auth import SESSION_COOKIE
from workflow.engine import Engine
from workflow.program import ProgramRegistry

CHINESE = {"Accept-Language": "zh-CN"}  # (the console's default; said so that nothing else decides)
G60_CHECKPOINTS = (
    "collection",
    "municipal_review",
    "recommendation",
    "joint_scoring",
    "hefei_short",
    "confirmation",
    "proposed",
    "confirmed",
    "published",
)

# (class, string) -> the area whose words these are; each is still seen (checked below)
KNOWN: dict[tuple[str, str], str] = {}


@dataclass
class Crawl:
    """What was read: pages, strings, and every leak as (where, class, string, the text)."""

    pages: int = 0
    strings: int = 0
    leaks: list[tuple[str, str, str, str]] = field(default_factory=list)

    def read(self, client: TestClient, url: str, where: str, words: Vocabulary) -> str:
        r = client.get(url, headers=CHINESE)
        assert r.status_code in (200, 403, 404), (where, url, r.status_code)
        return self.scan(r, url, where, words)

    def scan(self, r, url: str, where: str, words: Vocabulary) -> str:
        """Read one answered page (a GET's, or what a form's post answered)."""
        assert r.headers["content-type"].startswith("text/html"), (where, url)
        self.pages += 1
        for s in visible_strings(r.text):
            self.strings += 1
            for cls, found in words.leaks(s):
                self.leaks.append((f"{where} {url}", cls, found, s))
        return r.text


def _rows(store: SqlStore, sql: str) -> list[str]:
    with store.engine.connect() as conn:
        return [str(v) for (v,) in conn.execute(text(sql)) if v]


def _data(store: SqlStore) -> list[str]:
    """What users typed or named, which a page shows as it is: users' names, cycle ids, the
    applicants' units and projects, reasons and notes."""
    out = _rows(store, "SELECT name FROM users") + _rows(store, "SELECT id FROM cycles")
    out += _rows(store, "SELECT unit_name FROM projects") + _rows(store, "SELECT project_name FROM projects")
    # the names files were uploaded under, and the hashes of their contents
    out += _rows(store, "SELECT file_name FROM attachments") + _rows(store, "SELECT sha256 FROM attachments")
    return out


def _signed_in(app: object, engine: Engine, name: str) -> TestClient:
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)  # type: ignore[arg-type]
    user = next(u for u in engine.users() if u.name == name)
    token, _ = engine.open_session(user)
    client.cookies.set(SESSION_COOKIE, token)
    return client


# the administration and the account (a city's user reads the refusal, or their own)
ADMIN_PAGES = (
    "/admin",
    "/admin/cycles",
    "/admin/overrides",
    "/admin/users",
    f"/admin/users/{LEAD}/tokens",
    "/reminders",
    "/admin/audit",
    "/account",
)


# ------------------------------------------------------------------------------------------ G60
def _crawl_g60(web, crawl: Crawl) -> None:
    for checkpoint in G60_CHECKPOINTS:
        w: Web = web(checkpoint)
        program = w.s.engine.programs.get("g60-deep-integration")
        own = w.s.ids["hefei"]
        if checkpoint == "collection":  # a project page with its 证明材料 attached (and in its history)
            w.s.engine.attach(applicant("hefei"), own[0], "business_license", "营业执照.pdf", b"%PDF-1.4\n%%EOF\n")
        words = Vocabulary(program, _data(w.s.store))
        projects = [own[0], own[-1], w.s.ids["songjiang"][0]]
        for role, user in (
            ("lead", LEAD),
            ("city admin", admin("hefei")),
            ("scorer", scorer("hefei")),
            ("applicant", applicant("hefei")),
        ):
            client = w.browser(user)
            where = f"G60 {checkpoint} as {role} ({user})"
            for url in (
                "/",
                "/projects",
                "/projects?city=hefei",
                "/projects?state=in_library&action=review",
                *(f"/projects/{pid}" for pid in projects),
                "/list",
                "/appeals",
                "/projects/99999",
                "/import",
                "/scores/import",
                "/queue",
                # (a city's user reads the same refusals at every checkpoint: read once)
                *(ADMIN_PAGES if role == "lead" or checkpoint == G60_CHECKPOINTS[0] else ("/reminders", "/account")),
                "/mine",  # the applicant portal (web/portal.py)
                f"/apply/{w.s.engine.cycles()[0].id}",
                f"/projects/{own[0]}/application",
            ):
                crawl.read(client, url, where, words)
        if checkpoint == "collection":
            _crawl_sign_in_and_a_refusal(w, crawl, words, own[0])


def _crawl_sign_in_and_a_refusal(w: Web, crawl: Crawl, words: Vocabulary, project: int) -> None:
    """What a reader meets outside the pages' GETs: the sign-in page, a sign-in refused, and a
    refused form's message (the flash) on the page it came back to."""
    where = "G60 collection"
    anonymous = w.anonymous()
    page = crawl.read(anonymous, "/login", f"{where} signed out", words)
    token = re.search(r'name="csrf" value="([^"]*)"', page)
    wrong = {"name": admin("hefei"), "password": "not-the-password", "csrf": token.group(1) if token else ""}
    refused = anonymous.post("/login", data=wrong, headers=CHINESE)
    assert refused.status_code == 401, refused.text[:200]
    crawl.scan(refused, "/login (a wrong password)", f"{where} signed out", words)
    # a rejection without its required reason: refused, back on the project page with the message
    client = w.browser(admin("hefei"))
    shown = client.get(f"/projects/{project}", headers=CHINESE).text
    form = {"csrf": csrf_of(shown), "reason": "", "expected_version": "1"}
    posted = client.post(
        f"/projects/{project}/act/reject",
        data=form,
        headers={**CHINESE, "referer": f"http://testserver/projects/{project}"},
    )
    assert posted.status_code == 303, posted.text[:200]
    back = client.get(posted.headers["location"], headers=CHINESE)
    assert 'class="flash' in back.text  # (the refusal is on the page)
    crawl.scan(back, f"/projects/{project} after a refused rejection", f"{where} as city admin", words)


# ------------------------------------------------------------------------------------------ sister programs
@dataclass
class Step:
    name: str
    db: Path
    at: datetime


def _demo_steps(module, program_id: str, root: Path, monkeypatch: pytest.MonkeyPatch) -> list[Step]:
    """Run the program's demo, copying its database as each numbered step begins and at the end."""
    clocks: list[DemoClock] = []

    class Recorded(DemoClock):
        def __init__(self, year: int):
            super().__init__(year)
            clocks.append(self)

    monkeypatch.setattr(module, "DemoClock", Recorded)
    root.mkdir(parents=True, exist_ok=True)
    store = SqlStore(f"sqlite:///{root / 'demo.db'}")
    store.create()
    steps: list[Step] = []

    def copy(name: str) -> None:
        store.dispose()  # (the WAL goes into the main file)
        dest = root / f"{len(steps)}.db"
        main = store.sqlite_path()
        assert main is not None
        shutil.copyfile(main, dest)
        steps.append(Step(name, dest, clocks[-1]()))

    def echo(line: str) -> None:
        if line[:1].isdigit() and clocks:
            copy(line.split(" ")[0].rstrip("."))

    module.run(store, year=2027, per_city=8, seed=1, echo=echo)
    copy("end")
    store.dispose()
    return steps


def _crawl_sister(module, program_id: str, root: Path, monkeypatch: pytest.MonkeyPatch, crawl: Crawl) -> None:
    programs = ProgramRegistry()
    for step in _demo_steps(module, program_id, root, monkeypatch):
        store = SqlStore(f"sqlite:///{step.db}")
        try:
            engine = Engine(store, programs, SettableClock(step.at))
            app = create_app(engine)
            program = programs.get(program_id)
            words = Vocabulary(program, _data(store))
            cycles = _rows(store, "SELECT id FROM cycles ORDER BY id")
            pids = [int(p) for p in _rows(store, "SELECT id FROM projects ORDER BY id")]
            sample = sorted({*pids[:2], *pids[-2:]})
            users: dict[str, str] = {}
            for u in engine.users():
                users.setdefault(u.role, u.name)  # one user of each role
            for role, name in users.items():
                client = _signed_in(app, engine, name)
                where = f"{program_id} step {step.name} as {role} ({name})"
                urls = ["/", "/projects", "/list", "/appeals", "/projects/99999", "/import", "/scores/import", "/queue"]
                urls += ADMIN_PAGES
                urls += [f"/projects?cycle={c}" for c in cycles[1:]]
                urls += [f"/projects/{pid}" for pid in sample]
                urls += ["/mine", *(f"/apply/{c}" for c in cycles), *(f"/projects/{pid}/application" for pid in sample)]
                for url in urls:
                    crawl.read(client, url, where, words)
        finally:
            store.dispose()


# ------------------------------------------------------------------------------------------ the test
@pytest.fixture(scope="module")
def crawl() -> Iterator[Crawl]:
    yield Crawl()


def test_every_page_as_every_role_reads_only_the_catalog(web, tmp_path: Path, monkeypatch, crawl: Crawl) -> None:
    _crawl_g60(web, crawl)
    for module, program_id in (
        (demo.kechuang, "kechuang-zhongyuan"),
        (demo.alliance, "industry-alliance"),
        (demo.pioneer, "pioneer-brand"),
    ):
        _crawl_sister(module, program_id, tmp_path / program_id, monkeypatch, crawl)
    print(f"\nconsole words: {crawl.pages} pages, {crawl.strings} strings checked, {len(crawl.leaks)} leaks")

    seen = {(cls, found) for _, cls, found, _ in crawl.leaks}
    unknown = [leak for leak in crawl.leaks if (leak[1], leak[2]) not in KNOWN]
    first: dict[tuple[str, str], tuple[str, str, str, str]] = {}
    for leak in unknown:
        first.setdefault((leak[1], leak[2]), leak)
    report = "\n".join(f"{cls}: {found!r} on {where}: {shown!r}" for where, cls, found, shown in first.values())
    assert not unknown, f"{len(unknown)} leaks ({len(first)} distinct):\n{report}"
    stale = [k for k in KNOWN if k not in seen]
    assert not stale, f"known leaks no longer seen (take them off KNOWN): {stale}"


# ------------------------------------------------------------------------------------------ the reader itself
def test_the_reader_reads_what_a_user_reads_and_finds_each_kind_of_leak(programs) -> None:
    html = (
        "<html><head><title>项目</title><style>.x{color:red}</style><script>let submitted = 1;</script></head>"
        '<body><p>状态 <b>已申报</b></p><input type="hidden" name="trigger" value="accept">'
        '<input type="submit" value="提交"><input placeholder="理由" title="说明" aria-label="选择">'
        '<option value="in_library" label="入库">入城市项目库</option><img alt="图"></body></html>'
    )
    assert visible_strings(html) == [
        "项目",
        "状态",
        "已申报",
        "提交",
        "理由",
        "说明",
        "选择",
        "入库",
        "入城市项目库",
        "图",
    ]
    words = Vocabulary(programs.get("g60-deep-integration"), ["hefei-admin", "g60-2027"])
    assert words.leaks("hefei-admin · 城市管理员 · 合肥市 · g60-2027 · G60 · XLSX · English") == []
    assert words.leaks("[min_recommendations] 合肥市") == [
        ("rule id", "[min_recommendations]"),
        ("rule id", "min_recommendations"),
    ]
    assert words.leaks("用 --now 设定") == [("flag", "--now")]
    assert words.leaks("in_library") == [("state or trigger id", "in_library")]
    assert words.leaks("城市 hefei") == [("party id", "hefei")]
    assert words.leaks("Project list") == [("English word", "Project"), ("English word", "list")]


def test_the_ids_taken_off_the_chinese_pages_stay_in_english(web) -> None:
    w = web("published")
    pid = w.s.demos["hefei"][-1]  # (a recommended project that did not make the list)
    w.s.engine.override(LEAD, "all_sheets_in", "合肥市评分人回避", city="hefei")
    lead = w.browser(LEAD)
    english = {"Accept-Language": "en"}
    page = lead.get(f"/projects/{pid}", headers=english).text
    assert '<td title="score">' in page  # the trigger's id as a tooltip, as before
    assert "<td>hefei</td>" in page.split('id="sheets"')[1]  # a party's sheet by the party's id
    assert "[all_sheets_in] " in page
    assert "<th>所在城市</th><td>hefei</td>" in page  # the application's party field
    listing = lead.get("/projects?city=hefei", headers=english).text
    assert "<td>none</td>" in listing
    chinese = lead.get(f"/projects/{pid}", headers=CHINESE).text
    assert "title=" not in chinese.split('id="history"')[1].split("</table>")[0]
    assert "<td>合肥市</td>" in chinese.split('id="sheets"')[1] and "评分表齐全 · " in chinese
    assert "<th>所在城市</th><td>合肥市</td>" in chinese
    assert "<td>未入选</td>" in lead.get("/projects?city=hefei", headers=CHINESE).text
