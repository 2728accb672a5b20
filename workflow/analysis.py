"""What the score sheets of a cycle say about the scorers, before a list is proposed: each rater's
leniency and home bias with their intervals, the raters' agreement (Kendall's W), and the sheets
that stand far from the others on the same project. Pure: plain rows in, findings out.

A rater is a party (a city scores for its organization department) or, in a program scored per
scorer, a member; its party is the sheet's city, and a project is its own when the project's
city is that party.

- **Offset** of a sheet: its total less the mean of the other raters' totals on the same project.
- **Leniency** of a rater: its mean offset on the projects that are not its own, with a t
  interval.
- **Home bias**: its mean offset on its own projects beyond its leniency (the difference of the
  two means), with Welch's interval.
- Intervals are simultaneous over the raters (Bonferroni: each at 1 - (1 - confidence) / k), so
  that on a fair cycle of nine cities the chance that any one of them is flagged stays within
  1 - confidence. A finding is flagged when its interval leaves out zero and the estimate is at
  least ``least_offset`` points: a real and a sizeable difference, never one of the two alone.
- **Agreement**: Kendall's W with the correction for ties, over the projects every rater counted
  has scored (a complete block), for the total and for each criterion; its p-value from
  chi-square = m (n - 1) W with n - 1 degrees of freedom (Friedman's test).
- **Outlier sheet**: a robust z-score of how far its total stands from the other raters' median
  on the project (its residual), against the cycle's own spread of residuals: residual / (1.4826 *
  the median absolute residual of every sheet). The scale is the cycle's, not the project's: eight
  other sheets that happen to agree within two points would make any ninth an "outlier". It is at
  least one point (scores are whole numbers; votes all alike have no spread), and a sheet needs
  three other sheets on its project to be judged.

Nothing here blocks an action: the lead reads the findings and decides.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# the ranking's head a chart draws: the list's places and ten more, at most this many rows (a cycle
# of 100,000 projects may have 30,000 places: a chart of them all would be 9,000 inches tall)
RANKING_SHOWN = 50
MAD_SCALE = 1.4826  # (the median absolute deviation times this estimates a normal spread's sigma)
LEAST_OTHERS = 3  # other sheets on a project needed before a sheet can be called an outlier


@dataclass(frozen=True)
class AnalysisSettings:
    """``[scoring.analysis]`` of a program file."""

    confidence: float = 0.95
    outlier_z: float = 3.5
    least_offset: float = 0.0  # points: a smaller offset is not flagged however sure it is


@dataclass(frozen=True, slots=True)  # (one per current sheet: 900,000 at 100,000 projects)
class SheetPoint:
    """One current sheet as the analysis reads it: its project, rater (a party or a scorer), the
    rater's party, its total, and its criterion scores in the program's order."""

    project_id: int
    rater: str
    party: str
    total: float
    scores: tuple[float, ...] = ()


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    sheets: int  # the sheets behind it (for a home bias: the rater's sheets on its own projects)
    flagged: bool = False

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


@dataclass(frozen=True)
class RaterFinding:
    rater: str
    party: str
    sheets: int
    leniency: Interval | None  # None: fewer than two sheets on others' projects
    home_bias: Interval | None  # None: fewer than two sheets on its own projects (or on others')

    @property
    def flagged(self) -> bool:
        return any(x is not None and x.flagged for x in (self.leniency, self.home_bias))


@dataclass(frozen=True)
class Agreement:
    """Kendall's W of ``raters`` over ``projects``: of the totals (criterion None) or of one criterion."""

    criterion: str | None
    w: float
    chi2: float
    df: int
    p: float
    projects: int
    raters: int


@dataclass(frozen=True)
class Outlier:
    project_id: int
    rater: str
    total: float
    others_median: float
    z: float


@dataclass(frozen=True)
class ScoreAnalysis:
    settings: AnalysisSettings
    raters: list[RaterFinding]
    agreement: list[Agreement]  # the total's first, then each criterion's; empty: no complete block
    outliers: list[Outlier]  # the largest |z| first
    sheets: int = 0
    projects: int = 0
    complete: int = 0  # the projects every rater has scored (the block W is computed over)
    level: float = 0.0  # each interval's own confidence (the simultaneous one's share)
    criteria: tuple[str, ...] = field(default=())

    @property
    def flagged(self) -> list[RaterFinding]:
        return [r for r in self.raters if r.flagged]


def analyze(
    sheets: Sequence[SheetPoint],
    homes: Mapping[int, str],
    criteria: Sequence[str] = (),
    settings: AnalysisSettings | None = None,
    raters: Sequence[str] = (),
) -> ScoreAnalysis:
    """The findings of ``sheets`` (one current sheet per rater and project), ``homes`` the city
    of each project. ``raters``: in the order they are shown (by default as first seen)."""
    import numpy as np

    order = list(dict.fromkeys([*raters, *(s.rater for s in sheets)]))
    col = {r: i for i, r in enumerate(order)}
    projects = sorted({s.project_id for s in sheets})
    row = {p: i for i, p in enumerate(projects)}
    party_of = {s.rater: s.party for s in sheets}
    totals = np.full((len(projects), len(order)), np.nan)
    scores = np.full((len(criteria), len(projects), len(order)), np.nan)
    for s in sheets:
        totals[row[s.project_id], col[s.rater]] = s.total
        if s.scores:
            scores[:, row[s.project_id], col[s.rater]] = s.scores
    own = np.array([[homes.get(p) == party_of.get(r) for r in order] for p in projects], dtype=bool)
    own = own.reshape(len(projects), len(order))
    return analyze_arrays(totals, scores, own, order, party_of, projects, criteria, settings)


def analyze_arrays(
    totals: Any,
    scores: Any,
    own: Any,
    order: Sequence[str],
    party_of: Mapping[str, str],
    projects: Sequence[int],
    criteria: Sequence[str] = (),
    settings: AnalysisSettings | None = None,
) -> ScoreAnalysis:
    """:func:`analyze` of arrays made already (a report gathers them as it writes the matrix):
    ``totals`` projects × raters (NaN: no sheet), ``scores`` criteria × projects × raters,
    ``own`` whether each project is the rater's party's own; ``party_of`` the raters' parties
    (a rater without one has sheets but no party: no home bias)."""
    import warnings

    with warnings.catch_warnings():  # (scipy's notes on near-constant data: no line for a reader)
        warnings.simplefilter("ignore", RuntimeWarning)
        return _analyze_arrays(totals, scores, own, order, party_of, projects, criteria, settings)


def _analyze_arrays(
    totals: Any,
    scores: Any,
    own: Any,
    order: Sequence[str],
    party_of: Mapping[str, str],
    projects: Sequence[int],
    criteria: Sequence[str],
    settings: AnalysisSettings | None,
) -> ScoreAnalysis:
    import numpy as np

    settings = settings or AnalysisSettings()
    has = ~np.isnan(totals)
    kept = has.any(axis=1)  # (projects without any sheet say nothing)
    totals, scores, own = totals[kept], scores[:, kept], own[kept]
    projects = [p for p, k in zip(projects, kept, strict=True) if k]
    k = max(1, int(has[kept].any(axis=0).sum()))  # (the raters with a sheet share the confidence)
    level = 1 - (1 - settings.confidence) / k
    offsets = _offsets(totals)
    findings = []
    for r, name in enumerate(order):
        d = offsets[:, r]
        has = ~np.isnan(d)
        others, mine = d[has & ~own[:, r]], d[has & own[:, r]]
        leniency = _mean_interval(others, level, settings.least_offset)
        bias = _difference_interval(mine, others, level, settings.least_offset)
        findings.append(
            RaterFinding(name, party_of.get(name, ""), int((~np.isnan(totals[:, r])).sum()), leniency, bias)
        )
    sheets = int((~np.isnan(totals)).sum())
    complete = ~np.isnan(totals).any(axis=1) if order else np.zeros(len(projects), dtype=bool)
    agreement = []
    if complete.sum() >= 2 and len(order) >= 2:
        agreement.append(kendalls_w(totals[complete], None))
        for i, criterion in enumerate(criteria):
            block = scores[i][complete]
            if not np.isnan(block).any():
                agreement.append(kendalls_w(block, criterion))
    return ScoreAnalysis(
        settings,
        findings,
        agreement,
        _outliers(totals, projects, order, settings.outlier_z),
        sheets=sheets,
        projects=len(projects),
        complete=int(complete.sum()),
        level=level,
        criteria=tuple(criteria),
    )


def _offsets(totals: Any) -> Any:
    """Each sheet's total less the mean of the other sheets on its project (NaN without one)."""
    import numpy as np

    have = ~np.isnan(totals)
    count = have.sum(axis=1, keepdims=True)
    whole = np.where(have, totals, 0.0).sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        others = (whole - totals) / (count - 1)
    return np.where(have & (count >= 2), totals - others, np.nan)


def _mean_interval(values: Any, level: float, least: float) -> Interval | None:
    """The mean of ``values`` with its t interval at ``level``."""
    from scipy import stats

    if len(values) < 2:
        return None
    mean = float(values.mean())
    if float(values.std()) == 0.0:  # (every offset the same: the mean is exact)
        low = high = mean
    else:
        low, high = stats.ttest_1samp(values, 0.0).confidence_interval(level)
    return _interval(mean, float(low), float(high), len(values), least)


def _difference_interval(mine: Any, others: Any, level: float, least: float) -> Interval | None:
    """mean(mine) - mean(others), with Welch's interval at ``level``."""
    from scipy import stats

    if len(mine) < 2 or len(others) < 2:
        return None
    estimate = float(mine.mean() - others.mean())
    if float(mine.std()) == 0.0 and float(others.std()) == 0.0:
        low = high = estimate
    else:
        low, high = stats.ttest_ind(mine, others, equal_var=False).confidence_interval(level)
    return _interval(estimate, float(low), float(high), len(mine), least)


def _interval(estimate: float, low: float, high: float, n: int, least: float) -> Interval:
    sure = low > 0 or high < 0
    return Interval(estimate, low, high, n, flagged=sure and abs(estimate) >= least)


def kendalls_w(block: Any, criterion: str | None) -> Agreement:
    """Kendall's W of a complete block (projects × raters), ties ranked by their mean rank and
    corrected for; the p-value of Friedman's chi-square."""
    import numpy as np
    from scipy import stats

    n, m = block.shape
    ranks = stats.rankdata(block, axis=0)  # each rater ranks the projects
    sums = ranks.sum(axis=1)
    s = float(((sums - sums.mean()) ** 2).sum())
    ties = 0.0
    for j in range(m):
        _, counts = np.unique(block[:, j], return_counts=True)
        ties += float((counts**3 - counts).sum())
    denominator = m * m * (n**3 - n) - m * ties
    w = 12 * s / denominator if denominator > 0 else math.nan  # (nan: every rater gave every project the same)
    chi2 = m * (n - 1) * w
    p = float(stats.chi2.sf(chi2, n - 1)) if not math.isnan(w) else math.nan
    return Agreement(criterion, w, chi2, n - 1, p, n, m)


def _outliers(totals: Any, projects: Sequence[int], raters: Sequence[str], threshold: float) -> list[Outlier]:
    import numpy as np

    if not raters or not len(projects):
        return []
    medians = np.full(totals.shape, np.nan)  # each sheet's other raters' median (NaN: too few)
    for r in range(len(raters)):
        others = np.delete(totals, r, axis=1)
        enough = ((~np.isnan(others)).sum(axis=1) >= LEAST_OTHERS) & ~np.isnan(totals[:, r])
        if enough.any():
            medians[enough, r] = np.nanmedian(others[enough], axis=1)
    judged = ~np.isnan(medians)
    if not judged.any():
        return []
    residuals = totals - medians
    scale = max(MAD_SCALE * float(np.median(np.abs(residuals[judged]))), 1.0)
    found: list[Outlier] = []
    for p, r in zip(*np.nonzero(judged & (np.abs(residuals) >= threshold * scale)), strict=True):
        found.append(
            Outlier(projects[p], raters[r], float(totals[p, r]), float(medians[p, r]), float(residuals[p, r] / scale))
        )
    found.sort(key=lambda o: (-abs(o.z), o.project_id, o.rater))
    return found


@dataclass(frozen=True)
class Gathered:
    """A gatherer's analysis, with the arrays it was made from: ``totals`` projects × raters
    (NaN: no sheet) and ``own`` whether each project is the rater's party's own, in the order of
    ``ids``."""

    analysis: ScoreAnalysis
    totals: Any
    own: Any
    ids: list[int]


class Gather:
    """Sheets as numbers, one project at a time as they are read (the report's score matrix, the
    engine's analysis): for each rater (``keys``) one float32 array of its sheets' cells in a row
    (the criteria's scores, then the total; NaN for none), the projects' ids and their cities as
    small indexes. 900,000 sheets at 100,000 projects fit in about 40 MB, not a record each.
    ``party_of``: each rater's party (by default the rater itself: a city scores for itself; a
    rater without one has no own projects)."""

    def __init__(self, keys: Sequence[str], criteria: int, party_of: Mapping[str, str] | None = None):
        self.keys = list(keys)
        self.criteria = criteria
        self.party_of = {k: k for k in self.keys} if party_of is None else {k: p for k, p in party_of.items() if p}
        self.ids: array[int] = array("q")
        self.homes: array[int] = array("h")  # the project's city, an index of ``cities``
        self.cities: dict[str, int] = {}
        self.columns = [array("f") for _ in self.keys]
        self._none = (math.nan,) * (criteria + 1)

    def add(self, project_id: int, home: str, cells: Sequence[tuple[Any, ...]]) -> None:
        """A project's sheets, a cell tuple for each rater in ``keys``' order (all None: none)."""
        self.ids.append(project_id)
        self.homes.append(self.cities.setdefault(home, len(self.cities)))
        none = self._none
        for column, sheet in zip(self.columns, cells, strict=True):
            if sheet[-1] is None:
                column.extend(none)
            else:
                try:
                    column.extend(sheet)
                except TypeError:  # (a criterion without its score on a sheet: NaN there)
                    column.extend([math.nan if v is None else v for v in sheet])

    def finish(self, criteria: Sequence[str], settings: AnalysisSettings | None = None) -> Gathered:
        """The analysis of what was gathered, the gathered cells released as they are copied out."""
        import numpy as np

        width = self.criteria + 1
        views = [np.frombuffer(c, dtype=np.float32).reshape(-1, width) for c in self.columns]
        totals = np.stack([v[:, -1] for v in views], axis=1).astype(np.float64)
        if self.criteria:
            scores = np.stack([np.stack([v[:, i] for v in views], axis=1) for i in range(self.criteria)])
        else:
            scores = np.empty((0, len(self.ids), len(self.keys)), dtype=np.float32)
        del views
        self.columns = []
        homes = np.frombuffer(self.homes, dtype=np.int16)
        parties = np.array([self.cities.get(self.party_of.get(k, ""), -1) for k in self.keys], dtype=np.int16)
        own = homes[:, None] == parties[None, :]  # (-1: a rater of no party, whose own are none)
        ids = list(self.ids)
        found = analyze_arrays(totals, scores, own, self.keys, self.party_of, ids, criteria, settings)
        return Gathered(found, totals, own, ids)
