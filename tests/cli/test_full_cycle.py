"""A whole G60 cycle through the command line, as administrators would type it.

Every step goes through `evalflow` (click's CliRunner): init, users, cycle open, submissions
from TOML and JSON files, acceptance and rejection, municipal review with the Songjiang quota,
recommendation, scoring by all nine cities, list proposal with a tie, an objection, nine
confirmations, publication and plaques. Refusals are checked for their exit code, their one
line message and for leaving the database unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from store.sql import SqlStore
from tests.backends import BACKENDS, database
from tests.conftest import CITIES, make_app, snapshot

SHEETS = {
    "high": ["--value", "19", "--organization", "28", "--effectiveness", "28", "--mechanism", "19"],
    "mid": ["--value", "16", "--organization", "23", "--effectiveness", "23", "--mechanism", "16"],
    "low": ["--value", "13", "--organization", "18", "--effectiveness", "18", "--mechanism", "13"],
}


class Cli:
    def __init__(self, db: Path | str):
        self.db = db  # a SQLite file, or a database URL
        self.runner = CliRunner()

    @property
    def url(self) -> str:
        return self.db if isinstance(self.db, str) and "://" in self.db else f"sqlite:///{self.db}"

    def __call__(self, user: str | None, now: str, *args: str, code: int = 0, report: bool = False) -> str:
        argv = ["--db", str(self.db), "--now", now]
        if user:
            argv += ["--as", user]
        result = self.runner.invoke(main, [*argv, *args], catch_exceptions=False)
        output = result.output
        assert result.exit_code == code, f"{args}: exit {result.exit_code} (wanted {code}):\n{output}"
        if code not in (0, 2) and not report:
            lines = [x for x in result.stderr.splitlines() if x.strip()] if result.stderr else output.splitlines()
            assert len(lines) == 1 and lines[0].startswith("Error: "), output
            assert "Traceback" not in output
        return output

    def json(self, user: str, now: str, *args: str):
        return json.loads(self._json(user, now, *args))

    def _json(self, user: str, now: str, *args: str) -> str:
        argv = ["--db", str(self.db), "--now", now, "--as", user, "--json", *args]
        result = self.runner.invoke(main, argv, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout


def toml_application(app: dict) -> str:
    """Write an application as TOML by hand (the standard library reads TOML but does not write it)."""

    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v, ensure_ascii=False)

    lines = [f"{k} = {value(v)}" for k, v in app.items() if not isinstance(v, dict | list) or k == "evidence"]
    for section, body in app.items():
        if isinstance(body, dict):
            lines.append(f"\n[{section}]")
            lines += [f"{k} = {value(v)}" for k, v in body.items()]
    for member in app["team"]:
        lines.append("\n[[team]]")
        lines += [f"{k} = {value(v)}" for k, v in member.items()]
    return "\n".join(lines) + "\n"


def open_nine_city_cycle(cli: Cli, when: str) -> str:
    """The lead, an admin, a scorer and an applicant per city, and cycle g60-2027 with 3 + 6 places."""
    cli(None, when, "user", "add", "lead", "--role", "lead", "--city", "songjiang")
    for c in CITIES:
        for role in ("city-admin", "scorer", "applicant"):
            cli("lead", when, "user", "add", f"{c}-{role.split('-')[-1]}", "--role", role, "--city", c)
    return cli(
        "lead",
        when,
        "cycle",
        "open",
        "g60-deep-integration",
        "--year",
        "2027",
        "--demonstration-places",
        "3",
        "--excellent-places",
        "6",
    )


def submitted_id(output: str) -> int:
    """The project id in 'Submitted project 17: …'."""
    return int(output.split("project ")[1].split(":")[0])


@pytest.fixture(params=BACKENDS)
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cli]:
    """The whole cycle runs on SQLite and on PostgreSQL (see tests/backends.py)."""
    with database(request.param, tmp_path) as url:
        yield Cli(url)


def test_collection_review_and_recommendation_refusals(cli: Cli, tmp_path: Path) -> None:
    jan = "2027-01-03T09:00"
    assert "Created" in cli(None, jan, "init")
    assert "g60-2027" in open_nine_city_cycle(cli, jan)

    # 1. collection: 5 eligible per city (TOML for even, JSON for odd), one ineligible in hefei
    ids: dict[str, list[int]] = {c: [] for c in CITIES}
    serial = 0
    for c in CITIES:
        for _ in range(5):
            serial += 1
            app = make_app(c, serial)
            if serial % 2:
                f = tmp_path / f"app{serial}.json"
                f.write_text(json.dumps(app, ensure_ascii=False), encoding="utf-8")
            else:
                f = tmp_path / f"app{serial}.toml"
                f.write_text(toml_application(app), encoding="utf-8")
            out = cli(f"{c}-applicant", "2027-01-10T10:00", "project", "submit", str(f))
            ids[c].append(submitted_id(out))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(make_app("hefei", 99, flaw="non_member_lead"), ensure_ascii=False), encoding="utf-8")
    bad_id = submitted_id(cli("hefei-applicant", "2027-01-11T10:00", "project", "submit", str(bad)))

    # submitting after the window is refused with the window in the message
    store = SqlStore(cli.url)
    before = snapshot(store)
    out = cli("hefei-applicant", "2027-03-01T00:00", "project", "submit", str(bad), code=3)
    assert "[stage_window]" in out and "2027-01-01 00:00" in out and "Asia/Shanghai" in out
    assert snapshot(store) == before

    # incomplete application: every missing field listed, exit 7
    incomplete = tmp_path / "incomplete.json"
    incomplete.write_text(json.dumps({"filler": "王敏"}), encoding="utf-8")
    out = cli("hefei-applicant", "2027-01-12T10:00", "project", "submit", str(incomplete), code=7)
    assert "enterprise.name (企业名称) is missing" in out and "team (主要团队成员) is missing" in out

    feb = "2027-02-20T10:00"
    for c in CITIES:
        for pid in ids[c]:
            cli(f"{c}-admin", feb, "project", "accept", str(pid), "--opinion", "同意入库")
    # another city's admin may not accept hefei's project: before joint scoring it is not even
    # there for them (not found, without saying whose it is)
    out = cli("jiaxing-admin", feb, "project", "accept", str(bad_id), code=5)
    assert f"No project {bad_id}" in out and "hefei" not in out
    out = cli("hefei-admin", feb, "project", "accept", str(bad_id), code=3)
    assert "[party_member_team]" in out
    # the lead cannot close collection before the window ends, nor with an undecided submission
    out = cli("lead", feb, "cycle", "advance", code=3)
    assert "[window_ended]" in out and "[all_submissions_decided] hefei has 1 submission" in out
    cli("hefei-admin", feb, "project", "reject", str(bad_id), "--reason", "项目负责人非党员")
    cli("lead", "2027-03-01T08:00", "cycle", "advance")

    # 2. municipal review: 5 demonstration and 1 excellent... each city has 5 projects: 4 + 1
    mar = "2027-03-15T10:00"
    out = cli(
        "hefei-admin",
        "2027-02-28T23:59:59",
        "review",
        str(ids["hefei"][0]),
        "--result",
        "none",
        "--method",
        "site",
        code=3,
    )
    assert "[stage_window]" in out and "not yet open" in out
    for c in CITIES:
        for i, pid in enumerate(ids[c]):
            result = "excellent" if i == 4 else "demonstration"
            cli(f"{c}-admin", mar, "review", str(pid), "--result", result, "--method", "site")
    status = cli.json("lead", mar, "cycle", "status")
    assert status["stage"] == "municipal_review"
    sj = next(x for x in status["cities"] if x["city"] == "songjiang")
    assert (sj["demonstration"], sj["demonstration_quota"]) == (4, 10)
    assert sj["funding"] == 4 * 20000 + 1 * 8000
    cli("lead", "2027-05-01T08:00", "cycle", "advance")

    # 3. recommendation: only municipal demonstration projects; closing needs 5 per city
    may = "2027-05-05T10:00"
    out = cli("hefei-admin", may, "recommend", str(ids["hefei"][4]), code=3)
    assert "[recommend_own_demonstration]" in out
    for c in CITIES:
        cli(f"{c}-admin", may, "recommend", *map(str, ids[c][:4]))
    out = cli("lead", may, "cycle", "advance", "--dry-run", code=3, report=True)
    assert "[min_recommendations] hangzhou has 4 of the 5 required recommendations" in out
    store_before = snapshot(store)
    out = cli("lead", may, "cycle", "advance", code=3)
    assert "hefei has 4 of the 5 required recommendations" in out and "songjiang has 4 of the 5" in out
    assert snapshot(store) == store_before


def test_whole_cycle_to_plaques(cli: Cli, tmp_path: Path) -> None:
    """All six stages, each city recommending exactly five; ends with plaques and the history."""
    jan = "2027-01-03T09:00"
    cli(None, jan, "init")
    open_nine_city_cycle(cli, jan)
    ids: dict[str, list[int]] = {c: [] for c in CITIES}
    for n, c in enumerate(c for c in CITIES for _ in range(5)):
        f = tmp_path / f"app{n}.json"
        f.write_text(json.dumps(make_app(c, n + 1), ensure_ascii=False), encoding="utf-8")
        out = cli(f"{c}-applicant", "2027-01-10T10:00", "project", "submit", str(f))
        ids[c].append(submitted_id(out))
    for c in CITIES:
        for pid in ids[c]:
            cli(f"{c}-admin", "2027-02-01T10:00", "project", "accept", str(pid))
    cli("lead", "2027-03-01T00:00:00", "cycle", "advance")
    for c in CITIES:
        for pid in ids[c]:
            cli(
                f"{c}-admin", "2027-03-10T10:00", "review", str(pid), "--result", "demonstration", "--method", "written"
            )
    cli("lead", "2027-04-20T10:00", "cycle", "advance")  # early: every library project has a result
    for c in CITIES:
        cli(f"{c}-admin", "2027-05-02T10:00", "recommend", *map(str, ids[c]))
    cli("lead", "2027-05-03T10:00", "cycle", "advance")

    # 4. joint scoring: project k gets total 56 + k from every city, except that the 4th-best
    # is given the 3rd-best's sheet: a tie across the demonstration boundary (3 places).
    key = sorted(pid for c in CITIES for pid in ids[c])

    def sheet(offset: int) -> list[str]:
        org = min(offset, 14)
        rest = offset - org
        eff = min(rest, 14)
        rest -= eff
        val = min(rest, 8)
        mech = rest - val
        return [
            "--value",
            str(12 + val),
            "--organization",
            str(16 + org),
            "--effectiveness",
            str(16 + eff),
            "--mechanism",
            str(12 + mech),
        ]

    offsets = {pid: k for k, pid in enumerate(key)}
    offsets[key[-4]] = offsets[key[-3]]
    out = cli(
        "hefei-scorer",
        "2027-05-04T10:00",
        "score",
        str(key[0]),
        "--value",
        "11",
        "--organization",
        "16",
        "--effectiveness",
        "16",
        "--mechanism",
        "12",
        code=3,
    )
    assert "[score_in_bands] value = 11 is outside every band" in out
    out = cli("hefei-admin", "2027-05-04T10:00", "score", str(key[0]), *sheet(0), code=4)
    assert "scorer" in out
    for c in CITIES:
        for pid in key:
            cli(f"{c}-scorer", "2027-05-04T10:00", "score", str(pid), *sheet(offsets[pid]))
    # re-scoring replaces the city's own sheet, kept in history
    cli("hefei-scorer", "2027-05-05T10:00", "score", str(key[0]), *sheet(1))
    cli("hefei-scorer", "2027-05-05T11:00", "score", str(key[0]), *sheet(offsets[key[0]]))
    shown = cli.json("lead", "2027-05-05T11:00", "project", "show", str(key[0]))
    hefei_sheets = [s for s in shown["sheets"] if s["city"] == "hefei"]
    assert [s["current"] for s in hefei_sheets] == [False, False, True]
    cli("lead", "2027-05-06T10:00", "cycle", "advance")

    # 5. confirmation: the tie must be settled explicitly
    jun = "2027-06-01T10:00"
    out = cli("lead", jun, "list", "propose", code=3)
    assert "[boundary_tie_settled]" in out and str(key[-3]) in out and str(key[-4]) in out
    out = cli("lead", jun, "list", "propose", "--tie-order", f"{key[-4]},{key[-3]}")
    assert "List version 1" in out
    lst = cli.json("lead", jun, "list", "show")[0]["list"]
    top = [e["project_id"] for e in lst["entries"] if e["category"] == "demonstration"]
    assert top == [key[-1], key[-2], key[-4]]
    cli("hefei-admin", jun, "list", "object", "--reason", "请复核并列项目")
    out = cli("jiaxing-admin", jun, "list", "confirm", code=3)
    assert "objected" in out
    cli("lead", jun, "list", "propose", "--tie-order", f"{key[-3]},{key[-4]}")
    for c in CITIES[:-1]:
        cli(f"{c}-admin", jun, "list", "confirm")
    out = cli("lead", jun, "cycle", "advance", code=3)
    assert "8 of 9 confirmations; waiting for hefei" in out
    cli("hefei-admin", jun, "list", "confirm")
    cli("lead", jun, "cycle", "advance")
    versions = cli.json("lead", jun, "list", "show", "--all")
    assert [v["list"]["status"] for v in versions] == ["superseded", "confirmed"]

    # 6. publication and plaques
    out = cli("lead", "2027-06-20T10:00", "publish")
    assert "9 projects named" in out
    listed = [
        e["project_id"]
        for e in cli.json("lead", "2027-06-20T10:00", "list", "show")[0]["list"]["entries"]
        if e["category"] != "none"
    ]
    out = cli("lead", "2027-06-21T10:00", "award", str(key[0]), code=3)
    assert "not_listed" in out
    cli("lead", "2027-06-21T10:00", "award", *map(str, listed))
    states = [p["state"] for p in cli.json("lead", "2027-06-22T10:00", "project", "list")]
    assert states.count("awarded") == 9 and states.count("not_listed") == 36
    history = cli("lead", "2027-06-22T10:00", "project", "history", str(key[-3]))
    for step in ("submit", "accept", "review", "recommend", "score", "place", "award"):
        assert step in history
    assert history.index("submit") < history.index("accept") < history.index("award")

    # its report, each format as the report wrote it before it streamed, on each backend
    from tests.sheets.reports_as_before import report_as_before

    report_as_before(cli, tmp_path)


def test_quota_refusal_through_cli(cli: Cli, tmp_path: Path) -> None:
    """Songjiang's 11th municipal demonstration project is refused with '10 of 10'; nothing changes."""
    jan = "2027-01-03T09:00"
    cli(None, jan, "init")
    cli(None, jan, "user", "add", "lead", "--role", "lead", "--city", "songjiang")
    cli("lead", jan, "user", "add", "sj", "--role", "city-admin", "--city", "songjiang")
    cli("lead", jan, "user", "add", "sja", "--role", "applicant", "--city", "songjiang")
    cli("lead", jan, "cycle", "open", "g60-deep-integration", "--year", "2027")
    ids = []
    for n in range(11):
        f = tmp_path / f"a{n}.json"
        f.write_text(json.dumps(make_app("songjiang", n + 1), ensure_ascii=False), encoding="utf-8")
        ids.append(submitted_id(cli("sja", "2027-01-10T09:00", "project", "submit", str(f))))
    for pid in ids:
        cli("sj", "2027-02-01T09:00", "project", "accept", str(pid))
    cli("lead", "2027-03-01T09:00", "cycle", "advance")
    for pid in ids[:10]:
        cli("sj", "2027-03-02T09:00", "review", str(pid), "--result", "demonstration", "--method", "onsite")
    store = SqlStore(cli.url)
    before = snapshot(store)
    out = cli(
        "sj", "2027-03-02T09:00", "review", str(ids[10]), "--result", "demonstration", "--method", "onsite", code=3
    )
    assert "[municipal_quota]" in out and "10 of 10" in out
    assert snapshot(store) == before


def test_text_that_is_not_utf8_is_refused_in_one_line(cli: Cli) -> None:
    """Bytes that are not UTF-8 on the command line (Python carries them as stand-ins the database
    and the audit's hashes cannot take) are refused in one line, exit 7, with nothing written."""
    jan = "2027-01-03T09:00"
    cli(None, jan, "init")
    cli(None, jan, "user", "add", "lead", "--role", "lead", "--city", "songjiang")
    store = SqlStore(cli.url)
    before = snapshot(store)
    out = cli("lead", jan, "user", "add", "x\udcff", "--role", "scorer", "--city", "hefei", code=7)
    assert "Invalid input: it holds bytes that are not UTF-8 text (near 'x?')" in out
    assert snapshot(store) == before
    store.dispose()
