"""The report's sheet of the score analysis (XLSX): what `evalflow scores analyze` says, gathered
while the score matrix is written, in the same one pass over the sheets. The gathering keeps
arrays of numbers (a total and the criteria's scores for each project and column), not a record
per sheet: 900,000 sheets at 100,000 projects fit in about 40 MB."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

from workflow.analysis import Gather

WORDS = {
    "zh": {
        "title": "评分分析",
        "rater": "评分方",
        "sheets": "评分表",
        "leniency": "宽严偏差",
        "home_bias": "本地偏向",
        "low": "区间下限",
        "high": "区间上限",
        "own": "本地项目评分表",
        "flagged": "提示",
        "yes": "是",
        "agreement": "评分一致性（肯德尔和谐系数 W）",
        "of": "指标",
        "total": "总分",
        "projects": "项目数",
        "outliers": "异常评分表（稳健 z 值）",
        "project": "项目",
        "home": "项目所在城市",
        "given": "总分",
        "median": "其他各方中位数",
        "settings": "置信度 {confidence}（各方同时成立，每个区间 {each}）；"
        "偏差至少 {least} 分时提示；异常：稳健 z ≥ {z}",
    },
    "en": {
        "title": "score analysis",
        "rater": "rater",
        "sheets": "sheets",
        "leniency": "leniency",
        "home_bias": "home bias",
        "low": "interval low",
        "high": "interval high",
        "own": "sheets on its own",
        "flagged": "flagged",
        "yes": "yes",
        "agreement": "agreement (Kendall's W)",
        "of": "of",
        "total": "total",
        "projects": "projects",
        "outliers": "outlier sheets (robust z)",
        "project": "project",
        "home": "project's city",
        "given": "total",
        "median": "others' median",
        "settings": "confidence {confidence} (together over the raters, each interval {each}); flagged at an offset"
        " of at least {least} points; outliers at a robust z of {z} or more",
    },
}


def header(lang: str) -> list[str]:
    """The head of the sheet's first part, each rater's row."""
    w = WORDS[lang]
    return [
        w["rater"],
        w["sheets"],
        w["leniency"],
        w["low"],
        w["high"],
        w["flagged"],
        w["home_bias"],
        w["low"],
        w["high"],
        w["own"],
        w["flagged"],
    ]


class Drawn:
    """What the sheet's rows worked out, kept for its pictures (asked after the rows)."""

    def __init__(self) -> None:
        self.analysis: Any = None
        self.by_rater: list[tuple[str, Any]] = []
        self.head: list[tuple[int, float, float, float]] = []  # the ranking's head: id, score, low, high


def ranking_head(data: Any, totals: Any, own: Any, ids: Sequence[int]) -> list[tuple[int, float, float, float]]:
    """The ranking's head as the engine orders it (workflow.ranking.ordered: ties by project id;
    the list's own order is the list sheet's), each project's score the program's aggregate of its
    counted sheets (a city's own left out where the cycle excludes it): the places and ten more,
    RANKING_SHOWN at most, as (id, score, lowest, highest total)."""
    from fractions import Fraction

    import numpy as np

    from workflow.analysis import RANKING_SHOWN
    from workflow.ranking import aggregate, ordered

    program, cycle = data.program, data.cycle
    method = program.list_settings.get("aggregate", "mean")
    trim = int(program.list_settings.get("trim", 0)) if method == "trimmed_mean" else 0
    excluded = program.own_party_in(cycle.config) == "excluded"
    shown = min(sum(n for _, n in program.places_in(cycle.config)) + 10, RANKING_SHOWN)
    have = ~np.isnan(totals)
    scores: dict[int, Fraction] = {}
    if method in ("mean", "sum") and not excluded:  # (each project's sum and count by arrays)
        count = have.sum(axis=1)
        sums = np.where(have, totals, 0.0).sum(axis=1)
        for k in np.flatnonzero(count).tolist():
            total = int(sums[k])
            scores[int(ids[k])] = Fraction(total, int(count[k])) if method == "mean" else Fraction(total)
    else:
        for k, pid in enumerate(ids):
            counted = totals[k][have[k] & ~own[k]] if excluded else totals[k][have[k]]
            if len(counted) > 2 * trim:
                scores[pid] = aggregate([int(x) for x in counted], method, trim)
    index = {pid: k for k, pid in enumerate(ids)}
    out = []
    for r in ordered(scores)[:shown]:
        row = totals[index[r.project_id]]
        out.append((r.project_id, float(r.score), float(np.nanmin(row)), float(np.nanmax(row))))
    return out


def pictures(data: Any, drawn: Drawn, lang: str) -> list[bytes]:
    """The sheet's pictures as PNG (each city's leniency and home bias; the sheet totals by city),
    in the sheet's language; none without an analysis, or (in Chinese) without a font to draw
    Chinese in."""
    from i18n import Msg, using
    from sheets import charts

    a = drawn.analysis
    if a is None or not a.sheets or (lang == "zh" and not charts.has_chinese_font()):
        return []
    program = data.program
    per_scorer = program.sheets_per == "scorer"
    party_name = {p.id: (p.name if lang == "zh" else p.id) for p in program.parties}

    def name(rater: str) -> str:
        return rater if per_scorer else party_name.get(rater, rater)

    shown = [r for r in a.raters if r.sheets]
    with using(lang):
        unit = Msg("points").render()
        offsets = charts.offsets(
            [(name(r.rater), r.leniency, r.home_bias) for r in shown],
            Msg("Leniency and home bias, with their intervals").render(),
            Msg("Leniency").render(),
            Msg("Home bias").render(),
            unit,
            png=True,
        )
        spread = charts.distributions(
            [(name(key), values) for key, values in drawn.by_rater],
            Msg("Sheet totals by city").render(),
            unit,
            png=True,
        )
        shown_head = []
        if drawn.head:
            named = {p.id: p.project_name for p in data.tx.projects_by_ids([pid for pid, *_ in drawn.head])}
            for rank, (pid, score, low, high) in enumerate(drawn.head, start=1):
                shown_head.append((f"{rank}. {named.get(pid, str(pid))[:18]}", score, low, high))
        edges, edge = [], 0
        for category, n in data.program.places_in(data.cycle.config):
            edge += n
            edges.append((edge, str(data.program.category_words(category))))
        title = Msg("The ranking's head, each score with the cities' lowest and highest").render()
        ranking = charts.ranking(shown_head, edges, title, unit, png=True) if shown_head else None
    return [offsets, spread] + ([ranking] if ranking is not None else [])


def rows(data: Any, gather: Gather, lang: str, drawn: Drawn | None = None) -> Iterator[list[Any]]:
    """The sheet's rows, worked out when first read: after the matrix, whose pass gathered them."""
    import numpy as np

    w = WORDS[lang]
    program = data.program
    per_scorer = program.sheets_per == "scorer"
    party_name = {p.id: (p.name if lang == "zh" else p.id) for p in program.parties}
    criteria = [c.id for c in program.criteria]
    if not gather.ids:
        return
    found = gather.finish(criteria, program.analysis)
    a, totals, own = found.analysis, found.totals, found.own
    if drawn is not None:
        drawn.analysis = a
        drawn.by_rater = [(key, totals[:, r][~np.isnan(totals[:, r])]) for r, key in enumerate(gather.keys)]
        drawn.by_rater = [(key, values) for key, values in drawn.by_rater if len(values)]
        drawn.head = ranking_head(data, totals, own, found.ids)
    s = a.settings
    for r in a.raters:
        if not r.sheets:
            continue
        who = r.rater if per_scorer else party_name.get(r.rater, r.rater)
        le, hb = r.leniency, r.home_bias
        lenient: list[Any] = ["", "", "", ""]
        if le is not None:
            lenient = [_round(le.estimate), _round(le.low), _round(le.high), w["yes"] if le.flagged else ""]
        biased: list[Any] = ["", "", "", 0, ""]
        if hb is not None:
            flag = w["yes"] if hb.flagged else ""
            biased = [_round(hb.estimate), _round(hb.low), _round(hb.high), hb.sheets, flag]
        yield [who, r.sheets, *lenient, *biased]
    yield []
    settings = w["settings"].format(
        confidence=f"{s.confidence:.0%}", each=f"{a.level:.2%}", least=f"{s.least_offset:g}", z=f"{s.outlier_z:g}"
    )
    yield [settings]
    yield []
    yield [w["agreement"]]
    yield [w["of"], "W", "p", w["projects"]]
    names = {c.id: (c.short or c.name) if lang == "zh" else c.id for c in program.criteria}
    for g in a.agreement:
        of = w["total"] if g.criterion is None else names.get(g.criterion, g.criterion)
        yield [of, _round(g.w, 4), _round(g.p, 6), g.projects]
    yield []
    yield [w["outliers"]]
    yield [w["project"], w["home"], w["rater"], w["given"], w["median"], "z"]
    named = {p.id: p for p in data.tx.projects_by_ids([o.project_id for o in a.outliers])} if a.outliers else {}
    for o in a.outliers:
        who = o.rater if per_scorer else party_name.get(o.rater, o.rater)
        project = named.get(o.project_id)
        name, home = (project.project_name, party_name.get(project.city, project.city)) if project else ("", "")
        yield [f"{o.project_id} {name}", home, who, o.total, o.others_median, _round(o.z)]


def _round(value: float, digits: int = 2) -> float | str:
    return "" if value is None or math.isnan(value) else round(value, digits)
