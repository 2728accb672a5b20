"""`evalflow report`: the official list, the full score matrix, per-city statistics and municipal
funding, as XLSX (one sheet each), CSV (one file each, in a folder) or Markdown (one file).
Headers in Chinese, or English with ``lang="en"``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sheets.files import write_csv, write_xlsx
from workflow.ranking import aggregate, show

FORMATS = ("xlsx", "csv", "md")

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


@dataclass
class Table:
    key: str
    title: str
    header: list[str]
    rows: list[list[Any]]


def build(data: Any, lang: str = "zh") -> list[Table]:
    """The four tables of a report from the engine's ReportData."""
    t = T[lang]
    program = data.program
    party_name = {p.id: (p.name if lang == "zh" else p.id) for p in program.parties}
    category_name = {c.id: program.category_name(c.id, lang) for c in program.categories}
    state_name = program.state_names if lang == "zh" else program.state_names_en  # (the program's words)
    method = program.list_settings.get("aggregate", "mean")
    trim = int(program.list_settings.get("trim", 0))

    # the list's score is what its version was ranked by
    method_used = data.list.method if data.list is not None else "mean"
    score_header = {"trimmed_mean": t["trimmed"], "sum": t["sum"]}.get(method_used, t["mean"])
    unit_header = program.form.field(program.form.unit).zh if lang == "zh" and program.form else t["enterprise"]
    official = []
    if data.list is not None:
        for e in data.list.entries:
            if e.category == "none":
                continue
            official.append(
                [
                    e.rank,
                    e.project_id,
                    e.project_name,
                    e.unit_name,
                    party_name.get(e.city, e.city),
                    category_name.get(e.category, e.category),
                    e.score,
                ]
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
    by_project: dict[int, dict[str, Any]] = {}
    for s in data.sheets:
        by_project.setdefault(s.project_id, {})[s.scorer if per_scorer else s.city] = s
    sheet_columns = (
        [(x, x) for x in sorted({s.scorer for s in data.sheets})]
        if per_scorer
        else [(p.id, party_name[p.id]) for p in program.parties]
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
    matrix = []
    for project in data.projects:
        sheets = by_project.get(project.id, {})
        row: list[Any] = [project.id, project.project_name, party_name.get(project.city, project.city)]
        for key, _ in sheet_columns:
            s = sheets.get(key)
            row += [s.scores.get(c.id) if s else None for c in criteria]
            row.append(s.total if s else None)
        totals = [s.total for s in sheets.values()]
        row.append(show(aggregate(totals, "sum" if method == "sum" else "mean")) if totals else None)
        if method == "trimmed_mean":
            row.append(show(aggregate(totals, method, trim)) if len(totals) > 2 * trim else None)
        matrix.append(row)
    tables.append(Table("matrix", t["matrix"], header, matrix))

    if not {"demonstration", "excellent"} <= set(data.status["cities"][0] if data.status["cities"] else {}):
        tables.append(_status_table(data, party_name, t))  # a program without municipal results
        return tables
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
    return tables


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
    """Write the report; returns the files written."""
    tables = build(data, lang)
    if progress is not None:
        progress(len(data.projects))
    if fmt == "xlsx":
        write_xlsx(out, [(tb.title, tb.header, tb.rows) for tb in tables])
        return [out]
    if fmt == "csv":
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for tb in tables:
            path = out / f"{tb.key}.csv"
            write_csv(path, tb.header, tb.rows)
            written.append(path)
        return written
    if fmt == "md":
        out.write_text(markdown(data, tables, lang), encoding="utf-8")
        return [out]
    raise ValueError(f"unknown format {fmt!r}")


def markdown(data: Any, tables: Sequence[Table], lang: str) -> str:
    """The report as one Markdown file. Every text in it is escaped (:func:`md_text`): names and
    reasons come from users, and a report is read where Markdown becomes HTML."""
    t = T[lang]
    title = data.program.name if lang == "zh" else data.program.name_en
    lines = [f"# {md_text(title)} — {md_text(data.cycle.id)}", ""]
    if data.list is not None:
        lines += [f"{t['status']}: {t['version']} {data.list.number} ({md_text(data.list.status)})", ""]
    for tb in tables:
        lines += [
            f"## {md_text(tb.title)}",
            "",
            "| " + " | ".join(_md(h) for h in tb.header) + " |",
            "|" + "---|" * len(tb.header),
        ]
        for row in tb.rows:
            lines.append("| " + " | ".join(_md(v) for v in row) + " |")
        lines.append("")
    return "\n".join(lines)


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


def md_text(text: str) -> str:
    """``text`` as Markdown that renders as that very text, on one line."""
    return text.replace("\r", " ").replace("\n", " ").translate(_MD_ESCAPES)


def _md(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return md_text(str(value))
