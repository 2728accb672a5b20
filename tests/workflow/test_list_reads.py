"""Reads of the list scoped by the program's data (issue 24): who reads a list version before it is
published (``read_unpublished_list``) and who reads why a city objected (``read_objection_reasons``).

For G60 the lead and the cities' administrators read a proposed list; scorers and applicants only
the published versions (a corrected one was published too), and before any publication they are
refused, naming the rule. An objection's reasons are read by the lead and the objecting city; the
other cities read that it objected, not why. The engine's read decides, so the command line, the
console and the API all follow it (the web's cells: tests/web/test_route_matrix_lists.py).
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

import i18n
from policies.permissions import ReadRule
from store.sql import SqlStore
from tests.backends import BACKENDS, database
from tests.cli.test_full_cycle import Cli
from tests.conftest import LEAD, SettableClock, admin, applicant, scorer, sh, snapshot
from workflow.engine import Engine
from workflow.engine.reads import _scoped
from workflow.errors import NotPermitted, ProgramInvalid
from workflow.page_query import PageQuery
from workflow.program import ProgramRegistry, build_program, default_program_dirs
from workflow.program.reads import READ_OBJECTION_REASONS, READ_UNPUBLISHED_LIST, default_reads
from workflow.records import AuditEntry, Confirmation, ListEntry, ListVersion, User

CYCLE = "g60-2027"
REASON = "合肥市认为第三名得分统计有误"
MEANS = ("94.0000", "78.0000", "62.0000")  # the proposed list's means (every city scored alike)
REFUSED = (
    "Not permitted to read the list of cycle g60-2027: {user} is {role}; a list version before its"
    " publication is read by lead or city-admin ([permissions] read_unpublished_list)."
)
PROGRAMS = ("g60-deep-integration", "kechuang-zhongyuan", "industry-alliance", "pioneer-brand")


def shipped(program_id: str = "g60-deep-integration") -> dict:
    path = default_program_dirs()[-1] / f"{program_id}.toml"
    return copy.deepcopy(tomllib.loads(path.read_text(encoding="utf-8")))


def problems(data: dict) -> str:
    with pytest.raises(ProgramInvalid) as info:
        build_program(data)
    return str(info.value)


# ------------------------------------------------------------------------------ the program's data
def test_each_program_declares_who_reads_its_list_and_its_objections() -> None:
    reads = {pid: dict(ProgramRegistry().get(pid).reads) for pid in PROGRAMS}
    cities = {
        READ_UNPUBLISHED_LIST: ReadRule(("lead", "city-admin")),
        READ_OBJECTION_REASONS: ReadRule(("lead",), ("city-admin",)),
    }
    lead = {READ_UNPUBLISHED_LIST: ReadRule(("lead",)), READ_OBJECTION_REASONS: ReadRule(("lead",))}
    assert reads == {
        "g60-deep-integration": cities,
        "kechuang-zhongyuan": cities,
        "industry-alliance": lead,
        "pioneer-brand": lead,
    }
    for pid in PROGRAMS:  # declared in the files, not left to the defaults
        assert {READ_UNPUBLISHED_LIST, READ_OBJECTION_REASONS} <= set(shipped(pid)["permissions"])


def test_undeclared_the_list_actions_say_who_reads() -> None:
    """A program without read rules: whoever acts on the list reads it; the lead, the proposer and
    the publisher read every objection's reasons, an objecting city its own (G60's are the same)."""
    data = shipped()
    del data["permissions"][READ_UNPUBLISHED_LIST], data["permissions"][READ_OBJECTION_REASONS]
    program = build_program(data)
    assert dict(program.reads) == dict(ProgramRegistry().get("g60-deep-integration").reads)
    lead = ReadRule(("lead",))
    assert default_reads({}) == {READ_UNPUBLISHED_LIST: lead, READ_OBJECTION_REASONS: lead}


def test_every_problem_of_the_read_rules_is_reported_at_once() -> None:
    data = shipped()
    data["permissions"][READ_UNPUBLISHED_LIST] = {"roles": ["lead"], "own_city_roles": ["city-admin"], "who": 1}
    data["permissions"][READ_OBJECTION_REASONS] = {"roles": ["lead", "mayor"]}
    said = problems(data)
    assert "[permissions] read_unpublished_list: unknown keys who (known: roles, own_city_roles)" in said
    known = "(known: lead, city-admin, scorer, applicant)"
    assert f"[permissions] read_objection_reasons: unknown roles mayor {known}" in said
    assert (
        "[permissions] read_unpublished_list: own_city_roles has no city to match (a list version holds every"
        " city's projects); name the roles in roles"
    ) in said
    # the cities confirm and object to a list they could not read
    assert (
        "[permissions] read_unpublished_list: city-admin act on the list before its publication (confirm, object)"
        " but may not read it"
    ) in said
    data = shipped()
    data["permissions"][READ_OBJECTION_REASONS] = {"roles": "lead"}
    assert '[permissions] read_objection_reasons must be a table like { roles = ["lead"] }' in problems(data)


# ------------------------------------------------------------------------------ the engine's read
def test_before_publication_scorers_and_applicants_are_refused_the_list(at_stage) -> None:
    s = at_stage("proposed")
    e = s.engine
    e.confirm_list(admin("hefei"), CYCLE, "object", REASON)
    before = snapshot(s.store)
    for user, role in ((scorer("hefei"), "scorer"), (applicant("hefei"), "applicant")):
        with pytest.raises(NotPermitted) as info:
            e.list_versions(user, CYCLE)
        assert str(info.value) == REFUSED.format(user=user, role=role)
        assert info.value.exit_code == 4
    with i18n.using("zh_CN"):
        assert str(info.value) == (
            "无权执行“查看”（评选周期 g60-2027 的名单）：hefei-applicant 的角色为申报单位；"
            "名单公布前仅限牵头单位或城市管理员查看（评选方案规定的名单查阅范围）。"
        )
    assert snapshot(s.store) == before
    # the lead and every city's administrator read the proposed version and its means
    for user in (LEAD, admin("hefei"), admin("jiaxing")):
        _, versions, _ = e.list_versions(user, CYCLE)
        assert [v.number for v in versions] == [1] and {x.score for x in versions[0].entries} == set(MEANS)


def test_an_objections_reasons_are_read_by_the_lead_and_the_objecting_city_only(at_stage) -> None:
    s = at_stage("proposed")
    e = s.engine
    e.confirm_list(admin("hefei"), CYCLE, "object", REASON)
    seen = {}
    for user in (LEAD, admin("hefei"), admin("jiaxing"), admin("songjiang")):
        _, versions, confs = e.list_versions(user, CYCLE)
        seen[user] = [(c.city, c.user, c.decision, c.reason) for c in confs[versions[0].id]]
    told = [("hefei", admin("hefei"), "object", REASON)]
    withheld = [("hefei", admin("hefei"), "object", "")]  # that hefei objected, and who: not why
    assert seen == {LEAD: told, admin("hefei"): told, admin("jiaxing"): withheld, admin("songjiang"): withheld}
    assert e.list_actions(admin("jiaxing"), CYCLE).objected == ("hefei",)


@pytest.fixture
def proposed_with_objection(at_stage):
    s = at_stage("proposed")
    s.engine.confirm_list(admin("hefei"), CYCLE, "object", REASON)
    return s


def test_the_project_list_shows_a_scorer_no_unpublished_mean(at_stage) -> None:
    s = at_stage("proposed")
    q = PageQuery()
    assert s.engine.project_page(scorer("hefei"), CYCLE, q).scores == {}
    assert not s.engine.project_page(applicant("hefei"), CYCLE, q).scored
    assert set(s.engine.project_page(admin("hefei"), CYCLE, q).scores.values()) <= set(MEANS)
    s = at_stage("published")
    page = s.engine.project_page(scorer("hefei"), CYCLE, q)
    assert page.scored and set(page.scores.values()) <= set(MEANS)


def test_after_publication_everyone_reads_the_published_list(at_stage) -> None:
    s = at_stage("published")
    for user in (scorer("hefei"), applicant("wuhu"), admin("jiaxing"), LEAD):
        _, versions, _ = s.engine.list_versions(user, CYCLE)
        assert [(v.number, v.status) for v in versions] == [(1, "published")]


def test_a_reopened_projects_place_on_an_unpublished_list_is_kept_from_its_applicant() -> None:
    place = {"rank": 3, "score": "78.0000", "category": "excellent"}
    entry = AuditEntry(
        datetime(2027, 6, 1),
        CYCLE,
        "project",
        "7",
        "hefei-admin",
        "reopen",
        data={"appeal": 1, "list": {"version": 1, "status": "proposed", "place": place}},
    )
    user = User("hefei-applicant", "applicant", "hefei")
    assert _scoped(entry, user, {1}, lists=False).data["list"] == {"version": 1, "status": "proposed"}  # type: ignore[union-attr]
    assert _scoped(entry, user, {1}, lists=True).data["list"]["place"] == place  # type: ignore[union-attr]
    published = replace(entry, data={"appeal": 1, "list": {"version": 1, "status": "published", "place": place}})
    assert _scoped(published, user, {1}, lists=False).data["list"]["place"] == place  # type: ignore[union-attr]


# ------------------------------------------------------------------------------ both databases
def _version(number: int, status: str) -> ListVersion:
    entries = [ListEntry(1, 1, "hefei", "合肥某单位", "某项目", MEANS[number % 3], "demonstration")]
    return ListVersion(CYCLE, number, status, "mean", entries, LEAD, sh(5, 20 + number))


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_scoped_read_on_each_database(backend: str, tmp_path: Path, programs) -> None:
    """Versions as a corrected publication leaves them — v1 corrected, v2 published, v3 objected by
    hefei, v4 proposed — read by each role on SQLite and PostgreSQL."""
    with database(backend, tmp_path) as url:
        store = SqlStore(url)
        store.create()
        try:
            e = Engine(store, programs, SettableClock(sh(5, 20)))
            e.add_user(None, LEAD, "lead", "songjiang")
            for city in ("hefei", "jiaxing"):
                e.add_user(LEAD, admin(city), "city-admin", city)
                e.add_user(LEAD, scorer(city), "scorer", city)
                e.add_user(LEAD, applicant(city), "applicant", city)
            e.open_cycle(LEAD, "g60-deep-integration", 2027)
            with store.transaction() as tx:
                tx.insert_list(_version(1, "proposed"))
            before = snapshot(store)
            with pytest.raises(NotPermitted, match=r"\(\[permissions\] read_unpublished_list\)"):
                e.list_versions(applicant("hefei"), CYCLE)
            assert snapshot(store) == before
            with store.transaction() as tx:
                first = tx.latest_list(CYCLE, entries=False)
                assert first is not None
                tx.save_list_status(replace(first, status="corrected"))
                for n, status in ((2, "published"), (3, "objected"), (4, "proposed")):
                    tx.insert_list(_version(n, status))
                third = tx.list_versions(CYCLE)[2]
                assert third.id is not None
                tx.add_confirmation(Confirmation(third.id, "hefei", admin("hefei"), "object", REASON, sh(5, 24)))
            for user in (scorer("hefei"), applicant("jiaxing")):
                _, versions, _ = e.list_versions(user, CYCLE)
                assert [(v.number, v.status) for v in versions] == [(1, "corrected"), (2, "published")]
            for user, reason in ((LEAD, REASON), (admin("hefei"), REASON), (admin("jiaxing"), "")):
                _, versions, confs = e.list_versions(user, CYCLE)
                assert [v.number for v in versions] == [1, 2, 3, 4]
                assert [(c.city, c.decision, c.reason) for c in confs[versions[2].id]] == [("hefei", "object", reason)]
        finally:
            store.dispose()


# ------------------------------------------------------------------------------ the command line
def test_list_show_follows_the_program(proposed_with_objection) -> None:
    s = proposed_with_objection
    path = s.store.sqlite_path()
    s.store.dispose()
    cli = Cli(path)
    now = "2027-05-21T10:00"
    out = cli(scorer("hefei"), now, "list", "show", code=4)
    assert out.strip() == "Error: " + REFUSED.format(user=scorer("hefei"), role="scorer")
    shown = cli(admin("jiaxing"), now, "list", "show")
    assert "objection by hefei (hefei-admin), its reasons withheld" in shown.replace("合肥市", "hefei")
    assert REASON not in shown and "94.0000" in shown
    assert REASON in cli(admin("hefei"), now, "list", "show")
    assert REASON in cli(LEAD, now, "list", "show")
    listed = cli.json(admin("jiaxing"), now, "list", "show")
    assert listed[0]["confirmations"][0]["reason"] == ""
