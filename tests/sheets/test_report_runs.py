"""The score matrix written in runs (a sheet's cells written once for every row that shares them,
sheets/report.py) is the file the plain writers make of the same rows, byte for byte: CSV as
``write_csv`` writes it (the csv module's quoting, formula-looking text escaped) and Markdown as
each cell escaped alone, whatever the names hold."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from sheets.files import write_csv
from sheets.report import MatrixRow, Table, _flat, _write_csv_runs, markdown

TRICKY = ["plain", "a,b", 'say "yes"', "two\nlines", "cr\rhere", "=SUM(A1:A9)", "-1", "+x", "@me", "\tx", "'q", " sp"]
TRICKY += ["中文，名称|*_`"]
text = st.one_of(st.sampled_from(TRICKY), st.text(max_size=12))
cell = st.one_of(st.none(), st.integers(-5, 100), text)
sheet = st.tuples(cell, cell, cell)


def _rows(data: st.DataObject) -> list[MatrixRow]:
    shared = data.draw(st.lists(sheet, min_size=1, max_size=4))  # (sheets that scored alike share a tuple)
    empty = (None, None, None)
    rows = []
    for n in range(data.draw(st.integers(0, 12))):
        sheets = [data.draw(st.sampled_from([*shared, empty])) for _ in range(3)]
        rows.append(MatrixRow([n + 1, data.draw(text), data.draw(text)], sheets, [data.draw(cell)]))
    return rows


def _copy(rows: list[MatrixRow]) -> list[MatrixRow]:
    return [MatrixRow(list(r.head), list(r.sheets), list(r.tail)) for r in rows]


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_csv_in_runs_is_write_csvs_file(tmp_path_factory, data: st.DataObject) -> None:
    rows = _rows(data)
    header = ["id", "名称,逗号", "city", *(f"c{n}" for n in range(9)), "mean"]
    folder = tmp_path_factory.mktemp("csv")
    _write_csv_runs(folder / "runs.csv", header, _copy(rows))
    write_csv(folder / "plain.csv", header, _flat(_copy(rows)))
    assert (folder / "runs.csv").read_bytes() == (folder / "plain.csv").read_bytes()


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_markdown_in_runs_is_each_cell_escaped(data: st.DataObject) -> None:
    rows = _rows(data)
    program = SimpleNamespace(name="评审", name_en="review")
    head = SimpleNamespace(program=program, cycle=SimpleNamespace(id="c"), list=None)
    header = ["id", "name", "city", *(f"c{n}" for n in range(9)), "mean"]
    in_runs = list(markdown(head, [Table("matrix", "矩阵", header, [], _copy(rows))], "zh"))
    plain = list(markdown(head, [Table("matrix", "矩阵", header, list(_flat(_copy(rows))))], "zh"))
    assert in_runs == plain
    assert len(in_runs) == 6 + len(rows) + 1  # (the titles and their blanks, header, rule, a line a row, a blank)
