"""`evalflow report`: the official list, the full score matrix, per-city statistics and municipal
funding, as XLSX (one sheet each), CSV (one file each, in a folder) or Markdown (one file).
Headers in Chinese, or English with ``lang="en"``."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from sheets import report_analysis
from sheets.files import csv_field, write_csv
from sheets.xlsx_stream import write_xlsx_stream
from workflow.analysis import Gather
from workflow.program import Program
from workflow.ranking import aggregate, show

FORMATS = ("xlsx", "csv", "md")
_Row = TypeVar("_Row")

T = {
    "zh": {
        "list": "正式名单",
        "matrix": "评分矩阵",
        "cities": "城市统计",
        "funding": "市级资金",
        "rank": "名次",
        "id": "项目编号",
        "project": "项目名称",
        "enterprise": "企业名称",
        "city": "所在城市",
        "category": "类别",
        "mean": "平均分",
        "sum": "票数合计",
        "parties": "统计",
        "party": "单位",
        "trimmed": "去掉最高最低分后平均分",
        "total": "合计",
        "applications": "申报数",
        "eligible": "入库数（符合条件）",
        "rejected": "未通过",
        "demonstration": "市级示范",
        "demonstration_quota": "市级示范限额",
        "excellent": "市级优秀",
        "excellent_quota": "市级优秀限额",
        "recommended": "推荐数",
        "awarded": "已授牌",
        "demo_count": "市级示范项目数",
        "demo_each": "示范每项支持（元）",
        "exc_count": "市级优秀项目数",
        "exc_each": "优秀每项支持（元）",
        "funding_total": "合计（元）",
        "all": "合计",
        "status": "名单状态",
        "version": "版本",
    },
    "en": {
        "list": "official list",
        "matrix": "score matrix",
        "cities": "per-city statistics",
        "funding": "municipal funding",
        "rank": "rank",
        "id": "project id",
        "project": "project",
        "enterprise": "enterprise",
        "city": "city",
        "category": "category",
        "mean": "mean score",
        "sum": "votes",
        "parties": "statistics",
        "party": "party",
        "trimmed": "trimmed mean",
        "total": "total",
        "applications": "applications",
        "eligible": "eligible (accepted)",
        "rejected": "rejected",
        "demonstration": "municipal demonstration",
        "demonstration_quota": "demonstration quota",
        "excellent": "municipal excellent",
        "excellent_quota": "excellent quota",
        "recommended": "recommended",
        "awarded": "awarded",
        "demo_count": "municipal demonstration projects",
        "demo_each": "support per demonstration (yuan)",
        "exc_count": "municipal excellent projects",
        "exc_each": "support per excellent (yuan)",
        "funding_total": "total (yuan)",
        "all": "total",
        "status": "list status",
        "version": "version",
    },
}


def municipal_results(program: Program) -> bool:
    """Whether a program's report shows the cities' municipal results (its statistics and
    funding tables), which a status with demonstration and excellent columns holds; else the
    report's statistics are `cycle status`'s own columns."""
    return bool(program.parties) and {"demonstration", "excellent"} <= {c.id for c in program.status_columns}


def counts_status_sheets(program: Program) -> bool:
    """Whether the report's statistics are `cycle status`'s own columns, whose sheet counts it
    then reads (Engine.report's ``counts_sheets``): a program without municipal results."""
    return not municipal_results(program)


class MatrixRow(NamedTuple):
    """One row of the score matrix in its three runs: the project (id, name, city), each column
    group's cells (a sheet's, shared by the sheets of a page that scored alike, or the empty
    group's), and the aggregate (and the trimmed mean where the program trims)."""

    head: list[Any]
    sheets: list[tuple[Any, ...]]
    tail: list[Any]


@dataclass
class Table:
    """One sheet of the report. ``rows`` of the official list and the score matrix are read from
    the report's transaction as they are written (once). The matrix gives its rows as runs too
    (``runs``, the same rows unflattened): a text format writes a sheet's cells once for every
    row that shares them; either ``rows`` or ``runs`` is read, never both."""

    key: str
    title: str
    header: list[str]
    rows: Iterable[list[Any]]
    runs: Iterable[MatrixRow] | None = None
    pictures: Callable[[], list[bytes]] | None = None  # (PNGs beside the table, asked after its rows)


def build(data: Any, lang: str = "zh", analysis: bool = False) -> list[Table]:
    """The four tables of a report from the engine's ReportData (``analysis``: and a fifth, the
    score analysis, gathered as the matrix is written: sheets/report_analysis.py)."""
    t = T[lang]
    program = data.program
    party_name = {p.id: (p.name if lang == "zh" else p.id) for p in program.parties}
    category_name = {c.id: program.category_name(c.id, lang) for c in program.categories}
    state_name = program.state_names if lang == "zh" else program.state_names_en  # (the program's words)
    method = program.list_settings.get("aggregate", "mean")

    # the list's score is what its version was ranked by
    method_used = data.list.method if data.list is not None else "mean"
    score_header = {"trimmed_mean": t["trimmed"], "sum": t["sum"]}.get(method_used, t["mean"])
    unit_header = program.form.field(program.form.unit).zh if lang == "zh" and program.form else t["enterprise"]
    official = (
        [
            e.rank,
            e.project_id,
            e.project_name,
            e.unit_name,
            party_name.get(e.city, e.city),
            category_name.get(e.category, e.category),
            e.score,
        ]
        for e in data.entries()
        if e.category != "none"
    )
    tables = [
        Table(
            "list",
            t["list"],
            [t["rank"], t["id"], t["project"], unit_header, t["city"], t["category"], score_header],
            official,
        )
    ]

    # a column group per party, or per scorer where each member's sheet is its own (votes)
    per_scorer = program.sheets_per == "scorer"
    sheet_columns = (
        [(x, x) for x in data.scorers] if per_scorer else [(p.id, party_name[p.id]) for p in program.parties]
    )
    criteria = program.criteria
    header = [t["id"], t["project"], t["city"]]
    for _, label in sheet_columns:
        for c in criteria:
            header.append(f"{label}·{c.short if lang == 'zh' else c.id}")
        header.append(f"{label}·{t['total']}")
    header.append(t["sum"] if method == "sum" else t["mean"])
    if method == "trimmed_mean":
        header.append(t["trimmed"])
    keys = [key for key, _ in sheet_columns]
    # (the analysis: a member of a program scored per scorer has no party here, no own projects)
    gather = Gather(keys, len(criteria), {} if per_scorer else None) if analysis else None
    runs = _matrix(data, sheet_columns, party_name, gather)
    tables.append(Table("matrix", t["matrix"], header, _flat(runs), runs))
    last: list[Table] = []  # (the analysis is read last: after the matrix, whose pass gathers it)
    if gather is not None:
        title = report_analysis.WORDS[lang]["title"]
        drawn = report_analysis.Drawn()
        shown = report_analysis.rows(data, gather, lang, drawn)
        drawing = lambda: report_analysis.pictures(data, drawn, lang)  # noqa: E731
        last.append(Table("analysis", title, report_analysis.header(lang), shown, pictures=drawing))

    if not municipal_results(program):
        tables.append(_status_table(data, party_name, t))  # a program without municipal results
        return tables + last
    count = data.by_city_state
    cities = []
    sums = [0] * 8
    for c in data.status["cities"]:
        awarded = count.get((c["city"], "awarded"), 0)
        listed_demo = count.get((c["city"], "listed_demonstration"), 0) + data.awarded_as.get(
            (c["city"], "demonstration"), 0
        )
        listed_exc = count.get((c["city"], "listed_excellent"), 0) + data.awarded_as.get((c["city"], "excellent"), 0)
        values = [
            c["submitted"],
            c["accepted"],
            c["rejected"],
            c["demonstration"],
            c["excellent"],
            c["recommended"],
            listed_demo,
            listed_exc,
        ]
        cities.append(
            [
                party_name[c["city"]],
                c["submitted"],
                c["accepted"],
                c["rejected"],
                c["demonstration"],
                c["demonstration_quota"],  # a number in its own column (never "5/10", which Excel reads as a date)
                c["excellent"],
                c["excellent_quota"],
                c["recommended"],
                listed_demo,
                listed_exc,
                awarded,
            ]
        )
        sums = [a + b for a, b in zip(sums, values, strict=True)]
    cities.append(
        [
            t["all"],
            *sums[:3],
            sums[3],
            None,
            sums[4],
            None,
            sums[5],
            sums[6],
            sums[7],
            sum(count.get((c["city"], "awarded"), 0) for c in data.status["cities"]),
        ]
    )
    tables.append(
        Table(
            "cities",
            t["cities"],
            [
                t["city"],
                t["applications"],
                t["eligible"],
                t["rejected"],
                t["demonstration"],
                t["demonstration_quota"],
                t["excellent"],
                t["excellent_quota"],
                t["recommended"],
                state_name.get("listed_demonstration", "listed_demonstration"),
                state_name.get("listed_excellent", "listed_excellent"),
                t["awarded"],
            ],
            cities,
        )
    )

    funding = []
    grand = 0
    for c in data.status["cities"]:
        fund = program.funding.get(c["city"])
        if not fund:
            continue
        total = c["demonstration"] * fund.get("demonstration", 0) + c["excellent"] * fund.get("excellent", 0)
        grand += total
        funding.append(
            [
                party_name[c["city"]],
                c["demonstration"],
                fund.get("demonstration", 0),
                c["excellent"],
                fund.get("excellent", 0),
                total,
            ]
        )
    funding.append([t["all"], None, None, None, None, grand])
    tables.append(
        Table(
            "funding",
            t["funding"],
            [t["city"], t["demo_count"], t["demo_each"], t["exc_count"], t["exc_each"], t["funding_total"]],
            funding,
        )
    )
    return tables + last


def _matrix(
    data: Any,
    sheet_columns: Sequence[tuple[str, str]],
    party_name: Mapping[str, str],
    gather: Gather | None = None,
) -> Iterator[MatrixRow]:
    """The score matrix's rows, one project at a time as the report's read gives them (each
    project's sheets also to ``gather``, for the analysis)."""
    program = data.program
    method = program.list_settings.get("aggregate", "mean")
    trim = int(program.list_settings.get("trim", 0))
    keys = [key for key, _ in sheet_columns]
    empty = (None,) * (len(program.criteria) + 1)
    plain = "sum" if method == "sum" else "mean"
    # a mean (or a sum) is a function of the totals' sum and count, which repeat from project to
    # project: each is worked out once, by the ranking's own functions
    shown: dict[tuple[int, int], str] = {}
    for project in data.matrix():
        sheets = project.sheets
        head = [project.id, project.project_name, party_name.get(project.city, project.city)]
        # (a sheet's cells: its scores in the criteria's order, then its total)
        cells = [sheets.get(key, empty) for key in keys]
        if gather is not None and sheets:
            gather.add(project.id, project.city, cells)
        totals = [s[-1] for s in sheets.values()]
        tail: list[Any] = [None]
        if totals:
            alike = (sum(totals), len(totals))
            value = shown.get(alike)
            if value is None:
                value = shown[alike] = show(aggregate(totals, plain))
            tail[0] = value
        if method == "trimmed_mean":
            tail.append(show(aggregate(totals, method, trim)) if len(totals) > 2 * trim else None)
        yield MatrixRow(head, cells, tail)


def _flat(runs: Iterable[MatrixRow]) -> Iterator[list[Any]]:
    """The matrix's rows as flat lists of cells (as XLSX writes them)."""
    for head, sheets, tail in runs:
        row = head
        for cells in sheets:
            row += cells
        row += tail
        yield row


def _joined_runs(runs: Iterable[MatrixRow], field: Callable[[Any], str], sep: str) -> Iterator[str]:
    """Each row's cells as ``field`` writes them, joined by ``sep``: a sheet's cells are written
    once and the text reused for each row that shares them (the matrix's 5 million cells at
    100,000 projects are a few thousand sheets' cells written over and over)."""
    made: dict[tuple[Any, ...], str] = {}
    for head, sheets, tail in runs:
        parts = [field(v) for v in head]
        for cells in sheets:
            text = made.get(cells)
            if text is None:
                if len(made) >= 100_000:  # (kept bounded: a cycle of scores that never repeat)
                    made.clear()
                text = made[cells] = sep.join(map(field, cells))
            parts.append(text)
        parts += map(field, tail)
        yield sep.join(parts)


def _write_csv_runs(path: Path, header: Sequence[str], runs: Iterable[MatrixRow]) -> None:
    """``write_csv``'s file, byte for byte, of the matrix's runs (tests/sheets/test_report_runs.py)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        f.write(",".join(map(csv_field, header)) + "\r\n")
        for line in _joined_runs(runs, csv_field, ","):
            f.write(line + "\r\n")


def _status_table(data: Any, party_name: Mapping[str, str], t: Mapping[str, str]) -> Table:
    """Per-party statistics with the columns of the program's `cycle status`."""
    columns = data.status["columns"]
    rows = []
    for c in data.status["cities"]:
        row: list[Any] = [party_name.get(c["city"], c["city"])]
        for col in columns:
            value = c[col["id"]]
            row.append(("是" if value else "否") if col["kind"] == "confirmed" else value)
        rows.append(row)
    return Table("cities", t["parties"], [t["party"], *(col["zh"] for col in columns)], rows)


def write(data: Any, fmt: str, lang: str, out: Path, progress: Callable[[int], None] | None = None) -> list[Path]:
    """Write the report of ``data`` (read inside ``Engine.report``'s ``with``) as its rows are
    read; returns the files written. ``progress`` is told the matrix's projects written so far."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    tables = build(data, lang, analysis=fmt == "xlsx")  # (the analysis: a sheet of the workbook)
    if progress is not None:
        matrix = tables[1]
        matrix.runs = _counted(matrix.runs or (), progress)
        matrix.rows = _flat(matrix.runs)
    if fmt == "xlsx":
        with _replacing(out) as part:
            write_xlsx_stream(part, [(tb.title, tb.header, tb.rows, tb.pictures) for tb in tables])
        return [out]
    if fmt == "csv":
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for tb in tables:
            path = out / f"{tb.key}.csv"
            with _replacing(path) as part:
                if tb.runs is not None:
                    _write_csv_runs(part, tb.header, tb.runs)
                else:
                    write_csv(part, tb.header, tb.rows)
            written.append(path)
        return written
    with _replacing(out) as part, open(part, "w", encoding="utf-8", newline="") as f:
        f.writelines(_joined(markdown(data, tables, lang)))
    return [out]


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A file beside ``path`` to write, put in its place once written whole. A report is written
    as the cycle is read, for many seconds at 100,000 projects: stopped half-way (Ctrl-C, a full
    disk, the database gone) it leaves the report that was there before, never half a file. An
    error names ``path``, the file the user asked for."""
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        yield part
        os.replace(part, path)
    except OSError as exc:
        if exc.filename not in (str(part), part):
            raise
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    finally:
        part.unlink(missing_ok=True)


def _counted(rows: Iterable[_Row], progress: Callable[[int], None], every: int = 1000) -> Iterator[_Row]:
    done = 0
    for row in rows:
        yield row
        done += 1
        if done % every == 0:
            progress(done)
    progress(done)


def _joined(lines: Iterable[str]) -> Iterator[str]:
    """The lines joined with newlines (as ``"\\n".join`` would), a line at a time."""
    first = True
    for line in lines:
        yield line if first else "\n" + line
        first = False


def markdown(data: Any, tables: Sequence[Table], lang: str) -> Iterator[str]:
    """The report as one Markdown file, a line at a time. Every text in it is escaped
    (:func:`md_text`): names and reasons come from users, and a report is read where Markdown
    becomes HTML."""
    t = T[lang]
    title = data.program.name if lang == "zh" else data.program.name_en
    yield from (f"# {md_text(title)} — {md_text(data.cycle.id)}", "")
    if data.list is not None:
        yield from (f"{t['status']}: {t['version']} {data.list.number} ({md_text(data.list.status)})", "")
    for tb in tables:
        yield from (
            f"## {md_text(tb.title)}",
            "",
            "| " + " | ".join(_md(h) for h in tb.header) + " |",
            "|" + "---|" * len(tb.header),
        )
        if tb.runs is not None:  # (the matrix: each sheet's cells written once, see _joined_runs)
            yield from ("| " + line + " |" for line in _joined_runs(tb.runs, _md_cell, " | "))
        else:
            for row in tb.rows:
                yield "| " + " | ".join(map(_md_cell, row)) + " |"
        yield ""


def _md_cell(value: Any) -> str:
    """A cell as Markdown: numbers, most of the matrix's cells, need no escaping; a text is
    escaped by one translate, as md_text does (a call less for each of 5 million cells)."""
    if type(value) is int:
        return str(value)
    if type(value) is str:
        return value.translate(_MD_LINE)
    return _md(value)


# HTML's own characters as entities (no tag, comment or entity of the text's survives), and
# Markdown's inline punctuation behind a backslash (no emphasis, code, link, image or table cell
# edge): CommonMark shows both as the characters themselves
_MD_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        **{c: "\\" + c for c in "\\`*_[]|~"},
    }
)


# the same with a line's end as a space: md_text in one call
_MD_LINE = {**_MD_ESCAPES, ord("\r"): " ", ord("\n"): " "}


def md_text(text: str) -> str:
    """``text`` as Markdown that renders as that very text, on one line."""
    return text.translate(_MD_LINE)


def _md(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return md_text(str(value))
