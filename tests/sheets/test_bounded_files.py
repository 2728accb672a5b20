"""Bounded imports: a file is read as a stream and refused at the row limit before anything large
is built (the one-million-row CSV took 7.5 GB and 72 s); any file that cannot be parsed is exit 7
in one line naming the file and the problem (deep JSON, a 5,000-digit number, NaN, bad UTF-8, a
truncated XLSX), with nothing imported."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sheets.applications import application_columns, flat_row, team_columns, team_rows
from sheets.files import write_xlsx
from tests.cli.test_full_cycle import Cli
from tests.conftest import FORM, admin, applicant, make_app, sh, snapshot
from workflow.inputs import MAX_IMPORT_ROWS

JAN = "2027-01-10T10:00"  # inside the collection window
ROOT = Path(__file__).resolve().parents[2]


class Env:
    def __init__(self, store, tmp_path: Path):
        self.store, self.tmp = store, tmp_path
        self.cli = Cli(store.sqlite_path())

    def refused(self, *args: str, user: str = admin("hefei")) -> str:
        """The command expecting exit 7 with one 'Error:' line, and no change at all."""
        before = snapshot(self.store)
        out = self.cli(user, JAN, *args, code=7)
        assert snapshot(self.store) == before
        return out


@pytest.fixture
def env(store, engine, cycle, clock, tmp_path: Path) -> Env:
    clock.set(sh(1, 10))
    return Env(store, tmp_path)


def million_rows(path: Path) -> Path:
    """A 9.9 MB CSV: the header, then one million nearly empty rows."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(application_columns(FORM)) + "\n")
        f.write("1,,,,,,,\n" * 1_000_000)
    return path


MEASURE = textwrap.dedent(
    """
    import json, sys, time, tracemalloc
    from pathlib import Path
    from sheets.applications import read_applications
    from workflow.errors import InvalidInput
    from workflow.program import ProgramRegistry

    program = ProgramRegistry().get("g60-deep-integration")
    tracemalloc.start()
    started = time.perf_counter()
    try:
        read_applications(Path(sys.argv[1]), program.form, program.parties)
        said = "accepted"
    except InvalidInput as exc:
        said = str(exc)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    print(json.dumps({"said": said, "seconds": seconds, "peak": peak}))
    """
)


def test_a_million_row_csv_is_refused_at_the_row_limit_in_bounded_memory(tmp_path: Path) -> None:
    path = million_rows(tmp_path / "million.csv")
    assert 9 * 10**6 < path.stat().st_size < 11 * 10**6
    run = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, cwd=ROOT, timeout=300, check=True
    )
    measured = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"\nmillion-row CSV refused in {measured['seconds']:.2f} s, peak {measured['peak'] / 2**20:.1f} MiB (traced)")
    assert f"it holds more than {MAX_IMPORT_ROWS} rows; the limit is {MAX_IMPORT_ROWS}" in measured["said"]
    assert "EVALFLOW_MAX_IMPORT_ROWS" in measured["said"]
    assert measured["peak"] < 200 * 2**20  # (far below: the rows up to the limit, never the file's million)
    assert measured["seconds"] < 60  # (a bound that cannot flake; typically about a second)


def test_the_row_limit_is_configurable_and_holds_for_every_kind_of_file(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    apps = [make_app("hefei", n) for n in range(1, 5)]
    items = list(enumerate(apps, start=1))
    xlsx = env.tmp / "four.xlsx"
    write_xlsx(
        xlsx,
        [
            (FORM.sheet, application_columns(FORM), [flat_row(FORM, a, r) for r, a in items]),
            (FORM.group.sheet, team_columns(FORM), [m for r, a in items for m in team_rows(FORM, a, r)]),
        ],
    )
    js = env.tmp / "four.json"
    js.write_text(json.dumps(apps, ensure_ascii=False), encoding="utf-8")
    csv = env.tmp / "five.csv"
    csv.write_text(",".join(application_columns(FORM)) + "\n" + "1,x\n" * 5, encoding="utf-8")
    monkeypatch.setenv("EVALFLOW_MAX_IMPORT_ROWS", "3")
    for path in (xlsx, js, csv):
        out = env.refused("project", "import", str(path))
        assert str(path) in out or path.name in out
        assert "it holds more than 3 rows; the limit is 3 (split it, or set EVALFLOW_MAX_IMPORT_ROWS)" in out
    monkeypatch.setenv("EVALFLOW_MAX_IMPORT_ROWS", "100")  # (the team sheet has a row per member)
    assert "Imported 4 applications" in env.cli(admin("hefei"), JAN, "project", "import", str(xlsx))


def deep_json(path: Path) -> None:
    path.write_text("[" * 5_000 + "]" * 5_000, encoding="utf-8")


def long_number(path: Path) -> None:
    app = json.dumps(make_app("hefei", 1), ensure_ascii=False)
    path.write_text(re.sub(r'"members": \d+', '"members": ' + "9" * 5000, app), encoding="utf-8")


def huge_float(path: Path) -> None:
    app = json.dumps(make_app("hefei", 1), ensure_ascii=False)
    path.write_text(re.sub(r'"members": \d+', '"members": 1e400', app), encoding="utf-8")


def not_a_number(path: Path) -> None:
    app = json.dumps(make_app("hefei", 1), ensure_ascii=False)
    path.write_text(re.sub(r'"members": \d+', '"members": NaN', app), encoding="utf-8")


def bad_utf8(path: Path) -> None:
    path.write_bytes(b'{"project": {"name": "\xff\xfe\xfa"}}')


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (deep_json, "it is nested too deeply to read"),
        (long_number, "Exceeds the limit (4300 digits) for integer string conversion"),
        (huge_float, "the number 1e400 is too large"),
        (not_a_number, "NaN is not a number evalflow accepts"),
    ],
    ids=["deep", "5000-digits", "1e400", "nan"],
)
@pytest.mark.parametrize("command", ["import", "submit"])
def test_a_json_file_that_cannot_be_read_is_exit_7_in_one_line(env: Env, make, said: str, command: str) -> None:
    path = env.tmp / "application.json"
    make(path)
    if make in (long_number, huge_float, not_a_number) and command == "import":
        path.write_text("[" + path.read_text(encoding="utf-8") + "]", encoding="utf-8")
    user = admin("hefei") if command == "import" else applicant("hefei")
    out = env.refused("project", command, str(path), user=user)
    assert "application.json" in out and said in out


def test_a_toml_application_with_a_5000_digit_number_or_deep_nesting_is_exit_7(env: Env) -> None:
    path = env.tmp / "application.toml"
    path.write_text("members = " + "9" * 5000 + "\n", encoding="utf-8")
    out = env.refused("project", "submit", str(path), user=applicant("hefei"))
    assert "application.toml" in out and "cannot be parsed: Exceeds the limit (4300 digits)" in out
    path.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    out = env.refused("project", "submit", str(path), user=applicant("hefei"))
    assert "it is nested too deeply to read" in out


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_bad_utf8_in_a_single_application_is_exit_7(env: Env, suffix: str) -> None:
    path = env.tmp / f"application{suffix}"
    bad_utf8(path)
    out = env.refused("project", "submit", str(path), user=applicant("hefei"))
    assert f"application{suffix}" in out and "not UTF-8 text" in out


def test_a_truncated_xlsx_and_a_csv_of_no_known_encoding_are_exit_7(env: Env) -> None:
    good = env.tmp / "good.xlsx"
    write_xlsx(good, [(FORM.sheet, application_columns(FORM), [flat_row(FORM, make_app("hefei", 1), 1)])])
    truncated = env.tmp / "truncated.xlsx"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    out = env.refused("project", "import", str(truncated))
    assert "truncated.xlsx" in out and "not a valid .xlsx file" in out
    bad = env.tmp / "bad.csv"
    bad.write_bytes(",".join(application_columns(FORM)).encode() + b"\n1,\xff\xff\xff\x80\n")
    out = env.refused("project", "import", str(bad))
    assert "bad.csv" in out and "its text is neither UTF-8 nor GB18030/GBK" in out


def test_a_count_of_1e308_in_a_spreadsheet_is_refused_naming_the_field_and_its_range(env: Env) -> None:
    app = make_app("hefei", 1)
    app["party_organization"]["members"] = 1e308  # a spreadsheet keeps every number as a float
    path = env.tmp / "huge.xlsx"
    write_xlsx(
        path,
        [
            (FORM.sheet, application_columns(FORM), [flat_row(FORM, app, 1)]),
            (FORM.group.sheet, team_columns(FORM), team_rows(FORM, app, 1)),
        ],
    )
    out = env.refused("project", "import", str(path))
    assert "party_organization.members (党员数) = 1.00e308 is out of range" in out
    assert "it must be from 0 to 1000000000" in out
