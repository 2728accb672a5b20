"""Appeals through the command line: filing, deciding, reopening and walking forward again.

Every action goes through `evalflow` (click's CliRunner, see tests/cli/test_full_cycle.py); only
the snapshots that prove a refusal or a dismissal changed nothing read the database directly.
The cycles start from the prebuilt checkpoints of tests/workflow/checkpoints.py: per city six
projects, five municipal demonstration (recommended, the key library of 45) and one excellent;
2 demonstration and 3 excellent places; ``high`` scored 94 by every city, ``mid`` 78, ``low`` 62.
The list was proposed on 05-20, confirmed by all nine and published on 2027-06-12 09:00, so
appeals against it close on 2027-06-19 09:00.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from store.sql import SqlStore
from tests.cli.test_full_cycle import SHEETS, Cli, submitted_id
from tests.conftest import CITIES, make_app, snapshot
from tests.workflow import checkpoints

# the prebuilt-cycle fixtures, registered in tests/workflow/conftest.py only
at_stage = checkpoints.at_stage
stage_templates = checkpoints.stage_templates

AFTER_PUBLICATION = "2027-06-13T10:00"  # a day after the list was published


# ------------------------------------------------------------------------------ helpers
def open_cli(s) -> Cli:
    """A Cli on the checkpoint's own database copy (the fixture's connection is closed first)."""
    path = s.store.sqlite_path()
    s.store.dispose()
    return Cli(path)


def snap(cli: Cli) -> dict[str, list[tuple]]:
    store = SqlStore(f"sqlite:///{cli.db}")
    try:
        return snapshot(store)
    finally:
        store.dispose()


def without(tables: dict[str, list[tuple]], *names: str) -> dict[str, list[tuple]]:
    return {k: v for k, v in tables.items() if k not in names}


def file_appeal(cli: Cli, user: str, now: str, project: int, reason: str = "结果有误，申请复核") -> int:
    out = cli(user, now, "appeal", "file", str(project), "--reason", reason)
    found = re.search(r"Filed appeal (\d+) against project (\d+)'s result", out)
    assert found is not None, out
    assert int(found.group(2)) == project
    return int(found.group(1))


def refused(cli: Cli, user: str | None, now: str, *args: str, code: int, says: tuple[str, ...]) -> str:
    """Run a command expected to fail with ``code``, its message containing every ``says``, and
    prove the database did not change."""
    before = snap(cli)
    out = cli(user, now, *args, code=code)
    for part in says:
        assert part in out, f"{part!r} not in {out!r}"
    assert snap(cli) == before
    return out


def actions(lines: list[str]) -> list[str]:
    """The action column of `project history` (date, time, 'project', id, action, …)."""
    return [line.split()[4] for line in lines if line.strip()]


def history_lines(cli: Cli, project: int, now: str, user: str = "lead") -> list[str]:
    return [x for x in cli(user, now, "project", "history", str(project)).splitlines() if x.strip()]


def line_of(lines: list[str], action: str, nth: int = -1) -> str:
    found = [x for x in lines if x.split()[4] == action]
    assert found, f"no {action} line in {lines}"
    return found[nth]


# ------------------------------------------------------------------------------ 1. upheld, walked forward again
def test_rejected_project_reopened_to_collection_is_accepted_after_the_window(at_stage) -> None:
    s = at_stage("collection")
    cli = open_cli(s)
    pid, other = s.ids["hefei"][0], s.ids["hefei"][1]
    out = cli("hefei-admin", "2027-02-20T10:00", "project", "reject", str(pid), "--reason", "材料不全")
    assert f"Rejected project {pid}: now rejected" in out

    appeal = file_appeal(cli, "hefei-applicant", "2027-02-25T10:00", pid, "材料已补齐")
    shown = cli("hefei-admin", "2027-02-25T10:00", "appeal", "show", str(appeal))
    assert "against rejected (collection)" in shown and "[open]" in shown and "材料已补齐" in shown
    out = cli(
        "hefei-admin",
        "2027-02-26T10:00",
        "appeal",
        "decide",
        str(appeal),
        "--uphold",
        "--reopen-to",
        "collection",
        "--reason",
        "材料齐全",
    )
    assert f"Upheld appeal {appeal}: project {pid} reopened to 'collection', now submitted" in out

    # April: the collection window closed at the end of February. Only the reopened project may act.
    april = "2027-04-10T10:00"
    refused(
        cli, "hefei-admin", april, "project", "accept", str(other), code=3, says=("[stage_window]", f"project {other}")
    )
    out = cli("hefei-admin", april, "project", "accept", str(pid), "--opinion", "同意入库")
    assert f"Accepted project {pid}: now in_library" in out

    lines = history_lines(cli, pid, april)
    assert actions(lines) == ["submit", "reject", "appeal", "appeal_upheld", "reopen", "accept"]
    assert "rejected → submitted" in line_of(lines, "reopen")
    assert "reopened to stage collection by appeal" in line_of(lines, "reopen")
    assert "nothing superseded" in line_of(lines, "reopen")
    accepted = line_of(lines, "accept")
    assert accepted.startswith("2027-04-10 10:00") and "submitted → in_library" in accepted
    assert "opinion: 同意入库" in accepted
    listed = cli("hefei-admin", april, "appeal", "list")
    assert f"appeal {appeal}" in listed and "[upheld]" in listed and "reopened to collection" in listed


def _reopened_municipal(at_stage) -> tuple[Cli, int, int]:
    """Checkpoint recommendation (05-02): jiaxing's municipal excellent project appealed by its
    applicant, upheld by the jiaxing admin and reopened to municipal_review, then reviewed again
    as demonstration on 05-03 — the municipal window closed on 04-30."""
    s = at_stage("recommendation")
    cli = open_cli(s)
    pid = s.excellent["jiaxing"]
    appeal = file_appeal(cli, "jiaxing-applicant", "2027-05-03T09:00", pid, "应评为示范项目")
    out = cli(
        "jiaxing-admin",
        "2027-05-03T10:00",
        "appeal",
        "decide",
        str(appeal),
        "--uphold",
        "--reopen-to",
        "municipal_review",
        "--reason",
        "重新评审",
    )
    assert f"project {pid} reopened to 'municipal_review', now in_library" in out
    # another jiaxing project's municipal result cannot be changed any more: the window closed
    demo = s.demos["jiaxing"][0]
    refused(
        cli,
        "jiaxing-admin",
        "2027-05-03T11:00",
        "review",
        str(demo),
        "--result",
        "excellent",
        "--method",
        "site",
        code=3,
        says=("[stage_window]",),
    )
    out = cli(
        "jiaxing-admin", "2027-05-03T11:00", "review", str(pid), "--result", "demonstration", "--method", "onsite"
    )
    assert f"Reviewed project {pid}: now municipal_demonstration" in out
    return cli, pid, appeal


def test_review_result_reopened_and_reviewed_again_after_the_stage_closed(at_stage) -> None:
    cli, pid, appeal = _reopened_municipal(at_stage)
    now = "2027-05-04T09:00"
    status = cli.json("lead", now, "cycle", "status")
    assert status["stage"] == "recommendation" and status["open_appeals"] == []
    jx = next(c for c in status["cities"] if c["city"] == "jiaxing")
    assert (jx["demonstration"], jx["excellent"]) == (6, 0)
    # walking on: the re-reviewed project can be recommended in the current stage
    out = cli("jiaxing-admin", now, "recommend", str(pid))
    assert f"Recommended project {pid}: now recommended" in out
    shown = cli.json("jiaxing-admin", now, "appeal", "show", str(appeal))
    assert shown["appeal"]["status"] == "upheld" and shown["appeal"]["reopen_to"] == "municipal_review"
    assert shown["project"]["state"] == "recommended"


# ------------------------------------------------------------------------------ 6. history in order
def test_history_of_a_rereviewed_project_reads_in_order_text_and_json(at_stage) -> None:
    cli, pid, appeal = _reopened_municipal(at_stage)
    now = "2027-05-04T09:00"
    lines = history_lines(cli, pid, now)
    want = ["submit", "accept", "review", "appeal", "appeal_upheld", "reopen", "review"]
    assert actions(lines) == want
    assert [line.split()[3] for line in lines] == [str(pid)] * len(want)
    stamps = [line[:16] for line in lines]
    assert stamps == sorted(stamps)

    assert "submitted 《" in lines[0]
    assert "accepted into the city project library" in lines[1]
    assert "in_library → municipal_excellent" in lines[2]
    assert "municipal result: excellent (method written)" in lines[2]
    assert "by jiaxing-applicant" in lines[3] and "«应评为示范项目»" in lines[3]
    assert f"appeal {appeal} filed against 'municipal_excellent' (a result of municipal_review)" in lines[3]
    assert "by jiaxing-admin" in lines[4] and f"appeal {appeal} upheld; reopened to municipal_review" in lines[4]
    assert "municipal_excellent → in_library" in lines[5]
    assert f"reopened to stage municipal_review by appeal {appeal}" in lines[5]
    assert "superseded: review result excellent (written)" in lines[5]
    assert "in_library → municipal_demonstration" in lines[6]
    assert "municipal result: demonstration (method onsite)" in lines[6]

    entries = cli.json("lead", now, "project", "history", str(pid))
    assert [e["action"] for e in entries] == want
    reopen = entries[5]
    assert (reopen["from_state"], reopen["to_state"]) == ("municipal_excellent", "in_library")
    assert reopen["data"]["superseded"] == {"review_result": "excellent", "review_method": "written"}
    assert reopen["data"]["appeal"] == appeal
    # the applicant reads the same story of their own project
    assert actions(history_lines(cli, pid, now, "jiaxing-applicant")) == want


def test_proposed_list_place_reopened_to_confirmation_is_confirmed_again(at_stage) -> None:
    s = at_stage("proposed")
    cli = open_cli(s)
    jun = "2027-06-01T10:00"
    for c in CITIES:
        cli(f"{c}-admin", jun, "list", "confirm")
    pid = s.low[0]
    appeal = file_appeal(cli, "songjiang-applicant", "2027-06-02T10:00", pid, "名单排序有误")
    shown = cli("lead", "2027-06-02T10:00", "appeal", "show", str(appeal))
    assert "against recommended (confirmation)" in shown and "list version: 1" in shown
    out = cli(
        "songjiang-admin", "2027-06-02T11:00", "appeal", "decide", str(appeal), "--dismiss", "--reason", "x", code=4
    )
    assert "lead" in out
    out = cli("lead", "2027-06-02T11:00", "appeal", "decide", str(appeal), "--uphold", "--reopen-to", "confirmation")
    assert f"project {pid} reopened to 'confirmation', now recommended" in out

    # the proposed version that held it is superseded, the nine confirmations with it
    out = cli("lead", "2027-06-02T11:00", "cycle", "advance", code=3)
    assert "[all_parties_confirmed]" in out
    versions = cli.json("lead", "2027-06-02T11:00", "list", "show", "--all")
    assert [v["list"]["status"] for v in versions] == ["superseded"]
    # the sheets were kept: the new version ranks exactly as before
    out = cli("lead", "2027-06-03T10:00", "list", "propose")
    assert "List version 2 (proposed" in out and "changes from version 1: none" in out
    shown = cli("lead", "2027-06-03T10:00", "list", "show", "--all")
    assert "List version 1 (superseded" in shown and "confirmed by 9" in shown
    assert "List version 2 (proposed" in shown and "changes from version 1: none" in shown
    assert shown.rstrip().endswith("confirmed by 0: —")
    lines = history_lines(cli, pid, "2027-06-03T10:00")
    assert "superseded: list version 1 (proposed; rank 6, none, 62.0000)" in line_of(lines, "reopen")
    assert sum(1 for x in lines if x.split()[4] == "score") == 9  # nine sheets, none superseded

    # all nine are asked again; at the ninth the lead may close the stage
    for c in CITIES[:-1]:
        cli(f"{c}-admin", "2027-06-04T10:00", "list", "confirm")
    out = cli("lead", "2027-06-04T10:00", "cycle", "advance", code=3)
    assert "list version 2 has 8 of 9 confirmations; waiting for hefei" in out
    cli("hefei-admin", "2027-06-04T10:00", "list", "confirm")
    cli("lead", "2027-06-05T10:00", "cycle", "advance")
    out = cli("lead", "2027-06-06T10:00", "publish")
    assert "Published list version 2: 5 projects named" in out


def test_proposed_list_place_reopened_to_joint_scoring_shows_the_changes(at_stage) -> None:
    s = at_stage("proposed")
    cli = open_cli(s)
    pid = s.low[0]
    now = "2027-05-21T10:00"
    appeal = file_appeal(cli, "songjiang-admin", now, pid, "评分录入有误")
    cli("lead", now, "appeal", "decide", str(appeal), "--uphold", "--reopen-to", "joint_scoring")
    # the stage is confirmation: only the reopened project may be scored again
    refused(cli, "hefei-scorer", now, "score", str(s.low[1]), *SHEETS["mid"], code=3, says=("[stage_window]",))
    for c in CITIES:
        cli(f"{c}-scorer", now, "score", str(pid), *SHEETS["mid"])
    out = cli("lead", now, "list", "propose", code=3)
    assert "[boundary_tie_settled]" in out and f"{pid}" in out
    order = [*s.mid, pid]
    out = cli("lead", now, "list", "propose", "--tie-order", ",".join(map(str, order)))
    assert "changes from version 1: 1" in out
    shown = cli("lead", now, "list", "show", "--all")
    assert "List version 1 (superseded" in shown and "List version 2 (proposed" in shown
    diff = [x.strip() for x in shown.splitlines() if x.startswith("    #")]
    assert len(diff) == 1
    assert diff[0].startswith(f"#{pid} songjiang 《") and diff[0].endswith("》: score 62.0000 → 78.0000")
    data = cli.json("lead", now, "list", "show")
    assert [c["project"] for c in data[0]["changes"]] == [pid]


def test_published_place_reopened_to_joint_scoring_gives_a_corrected_publication(at_stage) -> None:
    s = at_stage("published")
    cli = open_cli(s)
    now = AFTER_PUBLICATION
    pid = s.low[0]  # not_listed, 62 from every city
    cli("lead", "2027-06-12T10:00", "award", *map(str, [*s.high, *s.mid]))  # the five plaques
    appeal = file_appeal(cli, "songjiang-applicant", now, pid, "评分录入有误")
    status = cli("lead", now, "cycle", "status")
    assert f"Open appeals: {appeal} (project {pid}, songjiang)" in status
    assert "List reopened by appeals" not in status
    out = cli(
        "lead", now, "appeal", "decide", str(appeal), "--uphold", "--reopen-to", "joint_scoring", "--reason", "核实"
    )
    assert f"Upheld appeal {appeal}: project {pid} reopened to 'joint_scoring', now recommended" in out
    status = cli("lead", now, "cycle", "status")
    assert "Open appeals" not in status
    assert f"List reopened by appeals {appeal} (was version 1)" in status

    # 2. its nine sheets are superseded: no list until every city has scored it again
    out = refused(
        cli, "lead", now, "list", "propose", code=3, says=("[all_sheets_in]", "songjiang has scored 44 of 45")
    )
    assert all(f"{c} has scored 44 of 45 key-library projects" in out for c in CITIES)
    for c in CITIES[:-1]:
        assert "Scored project" in cli(f"{c}-scorer", now, "score", str(pid), *SHEETS["high"])
    out = refused(cli, "lead", now, "list", "propose", code=3, says=("[all_sheets_in] hefei has scored 44 of 45",))
    assert "jiaxing has scored" not in out
    cli("hefei-scorer", now, "score", str(pid), *SHEETS["high"])

    # 94 from everyone: tied with both demonstration projects, which pushes a 78 tie onto the boundary
    out = refused(cli, "lead", now, "list", "propose", code=3, says=("[boundary_tie_settled]",))
    for tied in (pid, *s.high, *s.mid):
        assert str(tied) in out
    order = [pid, *s.high, *s.mid]
    out = cli("lead", now, "list", "propose", "--tie-order", ",".join(map(str, order)))
    assert "List version 2 (proposed" in out and "changes from version 1: 6" in out

    # all nine confirm; the ninth confirms the corrected list (no stage to advance)
    out = refused(cli, "lead", now, "publish", code=3, says=("[list_status]", "list version 2 is proposed"))
    for c in CITIES:
        assert "Confirmed list version 2" in cli(f"{c}-admin", now, "list", "confirm")
    assert cli.json("lead", now, "cycle", "status")["list"] == {"version": 2, "status": "confirmed"}

    out = cli("lead", now, "publish")
    assert "Published list version 2 correcting version 1" in out
    assert f"#{pid} songjiang 《" in out and "category none → demonstration" in out
    status = cli("lead", now, "cycle", "status")
    assert "List reopened by appeals" not in status and "List: version 2 published" in status

    shown = cli("lead", now, "list", "show", "--all")
    assert "List version 1 (corrected" in shown and "List version 2 (published" in shown
    diff = [x.strip() for x in shown.splitlines() if x.startswith("    #")]
    by_project = {int(x.split()[0][1:]): x for x in diff}
    assert set(by_project) == {pid, *s.high, *s.mid}
    assert "rank 6 → 1, category none → demonstration, score 62.0000 → 94.0000" in by_project[pid]
    assert "category demonstration → excellent" in by_project[s.high[1]]
    assert "category excellent → none" in by_project[s.mid[2]]
    assert by_project[s.high[0]].endswith("rank 1 → 2")

    # placed again where the category changed; a plaque of an unchanged category stays
    states = {p["id"]: p["state"] for p in cli.json("lead", now, "project", "list")}
    assert states[pid] == "listed_demonstration"
    assert states[s.high[1]] == "listed_excellent" and states[s.mid[2]] == "not_listed"
    assert [states[x] for x in (s.high[0], s.mid[0], s.mid[1])] == ["awarded"] * 3
    assert states[s.low[1]] == "not_listed"

    # the project whose category changed has a second place line; one that kept it has not
    lines = history_lines(cli, s.high[1], now)
    places = [x for x in lines if x.split()[4] == "place"]
    assert len(places) == 2
    assert "awarded → listed_excellent" in places[1]
    assert "placed 'excellent' by list version 2" in places[1]
    assert "«corrected publication, list version 2»" in places[1]
    assert sum(1 for x in history_lines(cli, s.high[0], now) if x.split()[4] == "place") == 1
    lines = history_lines(cli, pid, now)
    reopen = line_of(lines, "reopen")
    assert "superseded: 9 score sheets (songjiang 62," in reopen
    assert "list version 1 (published; rank 6, none, 62.0000)" in reopen
    assert actions(lines)[-13:] == ["appeal", "appeal_upheld", "reopen", *["score"] * 9, "place"]
    assert "recommended → listed_demonstration" in lines[-1]
    # the cycle's history says which appeal opened the correction, and why the list was corrected
    told = [x for x in cli("lead", now, "cycle", "history").splitlines() if x.strip()]
    opened = line_of(told, "correction")
    assert f"list version 1 opened for correction by appeals {appeal}" in opened
    assert line_of(told, "correct").split()[2:4] == ["list", "1"] and "published → corrected" in line_of(
        told, "correct"
    )
    published = line_of(told, "publish")
    assert "confirmed → published" in published and f"«appeal {appeal}: 评分录入有误»" in published
    assert "corrected publication of version 1: 6 changes" in published
    assert told.index(opened) < told.index(published)
    # the plaques of the corrected categories are awarded again
    out = cli("lead", now, "award", str(pid), str(s.high[1]))
    assert f"Awarded project {pid}: now awarded" in out and f"Awarded project {s.high[1]}: now awarded" in out


def test_confirmed_list_reopened_opens_a_correction_confirmed_at_the_ninth(at_stage) -> None:
    s = at_stage("confirmed")
    cli = open_cli(s)
    now = "2027-06-11T10:00"
    pid = s.mid[0]
    appeal = file_appeal(cli, "jiaxing-applicant", now, pid, "应列为示范")
    assert "list version: 1" in cli("lead", now, "appeal", "show", str(appeal))
    cli("lead", now, "appeal", "decide", str(appeal), "--uphold", "--reopen-to", "confirmation")
    status = cli("lead", now, "cycle", "status")
    assert f"List reopened by appeals {appeal} (was version 1)" in status
    refused(cli, "lead", now, "publish", code=3, says=("[list_status]",))
    out = cli("lead", now, "list", "propose")
    assert "List version 2 (proposed" in out and "changes from version 1: none" in out
    for c in CITIES[:-1]:
        cli(f"{c}-admin", now, "list", "confirm")
    assert cli.json("lead", now, "cycle", "status")["list"]["status"] == "proposed"
    cli("hefei-admin", now, "list", "confirm")
    assert cli.json("lead", now, "cycle", "status")["list"]["status"] == "confirmed"
    out = cli("lead", now, "publish")
    assert "Published list version 2: 5 projects named" in out
    versions = cli.json("lead", now, "list", "show", "--all")
    assert [v["list"]["status"] for v in versions] == ["superseded", "published"]


def test_publish_refused_while_another_appeal_is_open(at_stage) -> None:
    s = at_stage("published")
    cli = open_cli(s)
    now = AFTER_PUBLICATION
    first = file_appeal(cli, "songjiang-applicant", now, s.low[0])
    cli("lead", now, "appeal", "decide", str(first), "--uphold", "--reopen-to", "confirmation")
    cli("lead", now, "list", "propose")
    for c in CITIES:
        cli(f"{c}-admin", now, "list", "confirm")
    second = file_appeal(cli, "hefei-applicant", now, s.low[-1])
    refused(
        cli,
        "lead",
        now,
        "publish",
        code=3,
        says=("[appeals_decided]", f"appeal {second} against project {s.low[-1]} (hefei) is not decided yet"),
    )
    cli("lead", now, "appeal", "decide", str(second), "--dismiss", "--reason", "维持原结果")
    out = cli("lead", now, "publish")
    assert "Published list version 2 correcting version 1" in out
    assert "changes from version 1: none" in out


# ------------------------------------------------------------------------------ 3. quota after a reopen
def test_rereview_after_reopen_is_refused_by_the_quota(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "quota.db")
    jan = "2027-01-03T09:00"
    cli(None, jan, "init")
    cli(None, jan, "user", "add", "lead", "--role", "lead", "--city", "songjiang")
    cli("lead", jan, "user", "add", "sj-admin", "--role", "city-admin", "--city", "songjiang")
    cli("lead", jan, "user", "add", "sj-applicant", "--role", "applicant", "--city", "songjiang")
    out = cli(
        "lead", jan, "cycle", "open", "g60-deep-integration", "--year", "2027", "--quota", "songjiang:demonstration=5"
    )
    assert "Opened cycle g60-2027" in out
    ids = []
    for n in range(6):
        f = tmp_path / f"app{n}.json"
        f.write_text(json.dumps(make_app("songjiang", n + 1), ensure_ascii=False), encoding="utf-8")
        ids.append(submitted_id(cli("sj-applicant", "2027-01-10T09:00", "project", "submit", str(f))))
    for pid in ids:
        cli("sj-admin", "2027-02-01T09:00", "project", "accept", str(pid))
    cli("lead", "2027-03-01T09:00", "cycle", "advance")
    for pid in ids[:5]:
        cli("sj-admin", "2027-03-10T09:00", "review", str(pid), "--result", "demonstration", "--method", "site")
    cli("sj-admin", "2027-03-10T09:00", "review", str(ids[5]), "--result", "excellent", "--method", "written")
    cli("lead", "2027-04-20T09:00", "cycle", "advance")  # early: every library project has a result

    may = "2027-05-03T09:00"
    appeal = file_appeal(cli, "sj-applicant", may, ids[5], "应评为示范项目")
    cli("sj-admin", may, "appeal", "decide", str(appeal), "--uphold", "--reopen-to", "municipal_review")
    status = cli.json("lead", may, "cycle", "status")
    sj = next(c for c in status["cities"] if c["city"] == "songjiang")
    assert status["stage"] == "recommendation"
    assert (sj["demonstration"], sj["demonstration_quota"], sj["excellent"]) == (5, 5, 0)  # its result is gone
    out = refused(
        cli,
        "sj-admin",
        may,
        "review",
        str(ids[5]),
        "--result",
        "demonstration",
        "--method",
        "onsite",
        code=3,
        says=("[municipal_quota]", "(songjiang) has 5 of 5 municipal demonstration projects", f"project {ids[5]}"),
    )
    assert "[stage_window]" not in out  # the window is lifted for the reopened project, the quota is not
    out = cli("sj-admin", may, "review", str(ids[5]), "--result", "excellent", "--method", "onsite")
    assert f"Reviewed project {ids[5]}: now municipal_excellent" in out


# ------------------------------------------------------------------------------ 4. dismissal
@pytest.mark.parametrize(
    ("checkpoint", "now", "who"),
    [
        ("published", AFTER_PUBLICATION, "lead"),
        ("recommendation", "2027-05-03T10:00", "hefei-admin"),
    ],
)
def test_dismissed_appeal_changes_nothing_but_the_appeal_and_the_audit(at_stage, checkpoint, now, who) -> None:
    s = at_stage(checkpoint)
    cli = open_cli(s)
    pid = s.high[1] if checkpoint == "published" else s.excellent["hefei"]
    state = "listed_demonstration" if checkpoint == "published" else "municipal_excellent"
    before = snap(cli)
    appeal = file_appeal(cli, "hefei-applicant", now, pid)
    out = cli(who, now, "appeal", "decide", str(appeal), "--dismiss", "--reason", "经复核，维持原结果")
    assert out.strip().startswith(f"Dismissed appeal {appeal}: project {pid} stays {state}")
    after = snap(cli)
    assert without(after, "appeals", "audit", "audit_heads") == without(before, "appeals", "audit", "audit_heads")
    assert len(after["appeals"]) == len(before["appeals"]) + 1
    new_audit = after["audit"][len(before["audit"]) :]
    assert after["audit"][: len(before["audit"])] == before["audit"]
    assert len(new_audit) == 2
    lines = history_lines(cli, pid, now)
    assert actions(lines)[-2:] == ["appeal", "appeal_dismissed"]
    assert f"appeal {appeal} dismissed; nothing changes" in lines[-1] and "«经复核，维持原结果»" in lines[-1]
    shown = cli(who, now, "appeal", "show", str(appeal))
    assert f"[dismissed] — dismissed by {who}" in shown and "«经复核，维持原结果»" in shown


# ------------------------------------------------------------------------------ 5. refusals
def test_appeal_against_a_project_without_a_result_is_refused(at_stage) -> None:
    s = at_stage("municipal_review")
    cli = open_cli(s)
    pid = s.ids["hefei"][0]  # in_library: accepted, not yet reviewed
    refused(
        cli,
        "hefei-applicant",
        "2027-03-05T10:00",
        "appeal",
        "file",
        str(pid),
        "--reason",
        "请复核",
        code=3,
        says=("[appealable]", f"project {pid} is 'in_library'; it holds no result to appeal"),
    )


def test_second_open_appeal_is_refused(at_stage) -> None:
    s = at_stage("published")
    cli = open_cli(s)
    pid = s.low[0]
    first = file_appeal(cli, "songjiang-applicant", AFTER_PUBLICATION, pid)
    refused(
        cli,
        "songjiang-admin",
        "2027-06-14T10:00",
        "appeal",
        "file",
        str(pid),
        "--reason",
        "再次申请",
        code=3,
        says=("[one_open_appeal]", f"project {pid} already has appeal {first} open", "songjiang-applicant"),
    )
    # once decided, a new appeal may be filed
    cli("lead", "2027-06-14T10:00", "appeal", "decide", str(first), "--dismiss", "--reason", "维持")
    file_appeal(cli, "songjiang-admin", "2027-06-14T11:00", pid)


def test_deciding_twice_is_refused(at_stage) -> None:
    s = at_stage("published")
    cli = open_cli(s)
    now = AFTER_PUBLICATION
    appeal = file_appeal(cli, "songjiang-applicant", now, s.low[0])
    cli("lead", now, "appeal", "decide", str(appeal), "--dismiss", "--reason", "维持原结果")
    refused(
        cli,
        "lead",
        "2027-06-14T10:00",
        "appeal",
        "decide",
        str(appeal),
        "--uphold",
        "--reopen-to",
        "joint_scoring",
        code=3,
        says=("[appeal_open]", f"appeal {appeal} was already dismissed by lead on 2027-06-13 10:00"),
    )


@pytest.mark.parametrize(
    ("checkpoint", "now", "project", "decider", "target", "says"),
    [
        # a rejection was made in collection: municipal_review comes after it
        ("rejected", "2027-02-21T10:00", "rejected", "hefei-admin", "municipal_review", "comes after 'collection'"),
        # a municipal result: the list stages come after it
        ("recommendation", "2027-05-03T10:00", "excellent", "hefei-admin", "joint_scoring", "comes after"),
        # publication is a stage, but no project waits in it
        ("published", AFTER_PUBLICATION, "low", "lead", "publication", "no project can be reopened to 'publication'"),
        ("published", AFTER_PUBLICATION, "low", "lead", "appeals", "'appeals' is not a stage of"),
    ],
)
def test_wrong_reopen_stage_is_refused(at_stage, checkpoint, now, project, decider, target, says) -> None:
    s = at_stage("collection" if checkpoint == "rejected" else checkpoint)
    cli = open_cli(s)
    if project == "rejected":
        pid = s.ids["hefei"][0]
        cli("hefei-admin", "2027-02-20T10:00", "project", "reject", str(pid), "--reason", "材料不全")
    elif project == "excellent":
        pid = s.excellent["hefei"]
    else:
        pid = s.low[-1]
    appeal = file_appeal(cli, "hefei-applicant", now, pid)
    out = refused(
        cli,
        decider,
        now,
        "appeal",
        "decide",
        str(appeal),
        "--uphold",
        "--reopen-to",
        target,
        code=3,
        says=("[reopen_target]", says, f"project {pid} can be reopened to:"),
    )
    if project == "rejected":
        assert out.rstrip().endswith("can be reopened to: collection.")
    if project == "excellent":
        assert "can be reopened to: collection, municipal_review." in out


def test_appeal_after_the_seven_days_is_refused(at_stage) -> None:
    s = at_stage("published")
    cli = open_cli(s)
    file_appeal(cli, "hefei-applicant", "2027-06-19T08:59", s.low[-1])
    refused(
        cli,
        "songjiang-applicant",
        "2027-06-19T09:00",
        "appeal",
        "file",
        str(s.low[0]),
        "--reason",
        "迟到的申诉",
        code=3,
        says=(
            "[appeal_window]",
            "appeals against results of stage 'publication' closed at 2027-06-19 09:00 Asia/Shanghai",
            "it is now 2027-06-19 09:00",
        ),
    )


def test_decide_by_the_wrong_user_is_not_permitted(at_stage) -> None:
    s = at_stage("published")
    cli = open_cli(s)
    now = AFTER_PUBLICATION
    appeal = file_appeal(cli, "hefei-applicant", now, s.low[-1])
    for user in ("hefei-admin", "hefei-applicant", "hefei-scorer"):
        refused(
            cli,
            user,
            now,
            "appeal",
            "decide",
            str(appeal),
            "--uphold",
            "--reopen-to",
            "joint_scoring",
            code=4,
            says=("Not permitted", "is done by lead"),
        )


def test_municipal_appeal_is_decided_by_its_own_city_admin_only(at_stage) -> None:
    s = at_stage("recommendation")
    cli = open_cli(s)
    now = "2027-05-03T10:00"
    appeal = file_appeal(cli, "hefei-applicant", now, s.excellent["hefei"])
    args = ("appeal", "decide", str(appeal), "--uphold", "--reopen-to", "municipal_review")
    refused(cli, "lead", now, *args, code=4, says=("lead is lead", "city-admin"))
    # another city's admin does not even see hefei's project
    refused(cli, "jiaxing-admin", now, *args, code=5, says=(f"No appeal {appeal}",))


def test_decide_usage_and_input_errors(at_stage) -> None:
    s = at_stage("published")
    cli = open_cli(s)
    now = AFTER_PUBLICATION
    appeal = file_appeal(cli, "hefei-applicant", now, s.low[-1])
    a = str(appeal)
    refused(cli, "lead", now, "appeal", "decide", a, "--dismiss", code=7, says=("dismissing an appeal needs --reason",))
    refused(cli, "lead", now, "appeal", "decide", a, "--dismiss", "--reason", "  ", code=7, says=("needs --reason",))
    refused(cli, "lead", now, "appeal", "decide", a, "--uphold", code=7, says=("needs --reopen-to STAGE",))
    refused(cli, "lead", now, "appeal", "decide", a, code=2, says=("--uphold --reopen-to STAGE or --dismiss",))
    refused(cli, "lead", now, "appeal", "decide", a, "--reason", "x", code=2, says=("--dismiss --reason TEXT",))
    refused(
        cli,
        "lead",
        now,
        "appeal",
        "decide",
        a,
        "--dismiss",
        "--reopen-to",
        "joint_scoring",
        "--reason",
        "x",
        code=2,
        says=("--reopen-to goes with --uphold",),
    )
    refused(cli, "lead", now, "appeal", "decide", "999", "--dismiss", "--reason", "x", code=5, says=("No appeal 999",))
    refused(cli, "lead", now, "appeal", "show", "999", code=5, says=("No appeal 999",))
    refused(
        cli,
        "hefei-applicant",
        now,
        "appeal",
        "file",
        str(s.low[0]),
        "--reason",
        "   ",
        code=7,
        says=("an appeal needs --reason",),
    )
    refused(cli, "hefei-applicant", now, "appeal", "file", "9999", "--reason", "x", code=5, says=("No project 9999",))


def test_appeal_by_someone_else_is_not_permitted(at_stage) -> None:
    s = at_stage("published")
    cli = open_cli(s)
    now = AFTER_PUBLICATION
    pid = s.low[0]  # songjiang's
    refused(
        cli, "hefei-admin", now, "appeal", "file", str(pid), "--reason", "x", code=4, says=("belongs to songjiang",)
    )
    refused(cli, "hefei-scorer", now, "appeal", "file", str(pid), "--reason", "x", code=4, says=("scorer",))
    refused(cli, "lead", now, "appeal", "file", str(pid), "--reason", "x", code=4, says=("lead is lead",))


# ------------------------------------------------------------------------------ 7. who sees which appeal
def test_appeal_list_and_show_are_scoped(at_stage) -> None:
    s = at_stage("recommendation")
    cli = open_cli(s)
    now = "2027-05-03T10:00"
    hefei = file_appeal(cli, "hefei-applicant", now, s.excellent["hefei"])
    jiaxing = file_appeal(cli, "jiaxing-admin", now, s.excellent["jiaxing"])

    out = cli("jiaxing-admin", now, "appeal", "list")
    assert f"appeal {jiaxing}" in out and f"appeal {hefei} " not in out and "1 appeals" in out
    refused(cli, "jiaxing-admin", now, "appeal", "show", str(hefei), code=5, says=(f"No appeal {hefei}",))
    assert "project" in cli("jiaxing-admin", now, "appeal", "show", str(jiaxing))
    status = cli("jiaxing-admin", now, "cycle", "status")
    assert f"Open appeals: {jiaxing} (project {s.excellent['jiaxing']}, jiaxing)" in status
    assert f"{hefei} (project" not in status

    # an applicant sees the appeals they filed
    assert [a["id"] for a in cli.json("hefei-applicant", now, "appeal", "list")] == [hefei]
    assert cli.json("jiaxing-applicant", now, "appeal", "list") == []
    refused(cli, "jiaxing-applicant", now, "appeal", "show", str(jiaxing), code=5, says=(f"No appeal {jiaxing}",))
    assert "0 appeals" in cli("hefei-scorer", now, "appeal", "list")

    # the lead sees all, and filters by status
    listed = cli.json("lead", now, "appeal", "list")
    assert [(a["id"], a["city"], a["status"]) for a in listed] == [
        (hefei, "hefei", "open"),
        (jiaxing, "jiaxing", "open"),
    ]
    cli("hefei-admin", now, "appeal", "decide", str(hefei), "--dismiss", "--reason", "维持")
    assert [a["id"] for a in cli.json("lead", now, "appeal", "list", "--status", "open")] == [jiaxing]
    assert [a["id"] for a in cli.json("lead", now, "appeal", "list", "--status", "dismissed")] == [hefei]
    shown = cli.json("lead", now, "appeal", "show", str(hefei))
    assert shown["appeal"]["decided_by"] == "hefei-admin" and shown["project"]["id"] == s.excellent["hefei"]
    assert "2 appeals" in cli("lead", now, "appeal", "list")


# ------------------------------------------------------------------------------ found while testing
def test_an_open_appeal_never_blocks_the_corrected_publication_for_good(at_stage) -> None:
    """An appeal whose result was overtaken (the plaque went out meanwhile) can still be dismissed,
    so it never holds back the publication for good; upholding it is refused."""
    s = at_stage("published")
    cli = open_cli(s)
    now = AFTER_PUBLICATION
    stuck = file_appeal(cli, "wuhu-applicant", now, s.mid[2], "应列为示范项目")  # against 'listed_excellent'
    cli("lead", now, "award", str(s.mid[2]))
    out = cli("lead", now, "appeal", "decide", str(stuck), "--uphold", "--reopen-to", "confirmation", code=3)
    assert f"[appeal_current] project {s.mid[2]} is now 'awarded'" in out
    cli("lead", now, "appeal", "decide", str(stuck), "--dismiss", "--reason", "维持原结果")
    other = file_appeal(cli, "songjiang-applicant", now, s.low[0])
    cli("lead", now, "appeal", "decide", str(other), "--uphold", "--reopen-to", "confirmation")
    cli("lead", now, "list", "propose")
    for c in CITIES:
        cli(f"{c}-admin", now, "list", "confirm")
    out = cli("lead", now, "publish")
    assert "Published list version 2 correcting version 1, because of:" in out
    assert f"appeal {other} (project {s.low[0]}, songjiang)" in out


def test_the_published_correction_agrees_with_the_current_sheets(at_stage) -> None:
    """A sheet changed after the nine confirmed: publishing is refused ([list_current], with the
    numbers), and the next version, once confirmed, publishes the score the sheets give."""
    s = at_stage("published")
    cli = open_cli(s)
    now = AFTER_PUBLICATION
    pid = s.low[0]
    appeal = file_appeal(cli, "songjiang-applicant", now, pid)
    cli("lead", now, "appeal", "decide", str(appeal), "--uphold", "--reopen-to", "joint_scoring")
    for c in CITIES:
        cli(f"{c}-scorer", now, "score", str(pid), *SHEETS["low"])
    cli("lead", now, "list", "propose")
    for c in CITIES:
        cli(f"{c}-admin", now, "list", "confirm")
    # the nine confirmed a list ranking the project at 62; now one city changes its sheet
    cli("hefei-scorer", "2027-06-14T10:00", "score", str(pid), *SHEETS["high"])
    before = snapshot(SqlStore(f"sqlite:///{cli.db}"))
    out = cli("lead", "2027-06-14T11:00", "publish", code=3)
    assert (
        f"[list_current] the score sheets changed since list version 2 was proposed (project {pid} 62.0000 → 65.5556)"
        in out
    )
    assert snapshot(SqlStore(f"sqlite:///{cli.db}")) == before
    cli("lead", "2027-06-14T11:00", "list", "propose")
    for c in CITIES:
        cli(f"{c}-admin", "2027-06-14T11:00", "list", "confirm")
    cli("lead", "2027-06-14T12:00", "publish")
    latest = cli.json("lead", "2027-06-14T12:00", "list", "show")[0]["list"]
    assert (latest["number"], latest["status"]) == (3, "published")
    entry = next(e for e in latest["entries"] if e["project_id"] == pid)
    assert entry["score"] == "65.5556"


def test_uphold_and_dismiss_together_is_a_usage_error(at_stage) -> None:
    s = at_stage("published")
    cli = open_cli(s)
    now = AFTER_PUBLICATION
    appeal = file_appeal(cli, "hefei-applicant", now, s.high[1])
    refused(
        cli,
        "lead",
        now,
        "appeal",
        "decide",
        str(appeal),
        "--uphold",
        "--dismiss",
        "--reason",
        "维持原结果",
        code=2,
        says=("--uphold", "--dismiss"),
    )


def test_another_citys_appeal_stays_hidden_in_project_history(at_stage) -> None:
    s = at_stage("published")
    cli = open_cli(s)
    now = AFTER_PUBLICATION
    appeal = file_appeal(cli, "hefei-applicant", now, s.high[1], "合肥内部申诉理由")
    refused(cli, "jiaxing-admin", now, "appeal", "show", str(appeal), code=5, says=(f"No appeal {appeal}",))
    assert cli.json("jiaxing-admin", now, "appeal", "list") == []
    history = cli("jiaxing-admin", now, "project", "history", str(s.high[1]))  # readable: a key-library project
    assert "合肥内部申诉理由" not in history and f"appeal {appeal}" not in history
