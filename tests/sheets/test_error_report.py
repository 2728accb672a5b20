"""An import refused for more problems than one line can hold lists every one of them in a file
beside the input, and says so in its one-line error."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from sheets.applications import flat_row, team_rows, write_template
from store.sql import SqlStore
from tests.cli.test_full_cycle import Cli
from tests.conftest import FORM, admin, make_app, snapshot


def test_every_problem_of_a_large_refused_import_is_in_the_error_file(store: SqlStore, cycle, tmp_path: Path) -> None:
    path = tmp_path / "合肥申报.xlsx"
    write_template(path, FORM)
    wb = openpyxl.load_workbook(path)
    for i in range(1, 61):
        row = flat_row(FORM, make_app("hefei", i), i)
        row[6] = f"约{i}人"  # 党员数 must be a whole number
        wb["申报表"].append(row)
        for member in team_rows(FORM, make_app("hefei", i), i):
            wb["团队成员"].append(member)
    wb.save(path)
    db = store.sqlite_path()
    store.dispose()
    before = snapshot(SqlStore(f"sqlite:///{db}"))
    out = Cli(db)(admin("hefei"), "2027-01-20T09:00", "project", "import", str(path), code=7)
    errors = tmp_path / "合肥申报.xlsx.errors.txt"
    assert f"… 60 problems in all, every one in {errors}" in out
    assert out.count("is not a whole number") == 40  # the line shows the first 40
    lines = errors.read_text(encoding="utf-8").splitlines()
    assert lines == [f"[申报表 row {i + 1} 党员数] '约{i}人' is not a whole number" for i in range(1, 61)]
    assert snapshot(SqlStore(f"sqlite:///{db}")) == before


def test_an_output_file_that_cannot_be_written_is_one_line_with_exit_7(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli import main

    result = CliRunner().invoke(
        main,
        ["template", "application", "--program", "g60-deep-integration", "--out", str(tmp_path / "missing" / "x.xlsx")],
    )
    assert result.exit_code == 7
    assert result.stderr.strip() == f"Error: {tmp_path / 'missing' / 'x.xlsx'}: No such file or directory"


def test_without_a_cycle_the_template_asks_which_program(tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    from cli import main

    monkeypatch.chdir(tmp_path)  # no database here: no current cycle to take the program from
    result = CliRunner().invoke(main, ["template", "application"])
    assert result.exit_code == 2
    assert (
        "name the program with --program "
        "(one of: g60-deep-integration, industry-alliance, kechuang-zhongyuan, pioneer-brand)" in result.output
    )
    assert not list(tmp_path.glob("*.xlsx"))
