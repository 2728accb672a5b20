"""The score analysis's charts, drawn on the server as SVG (matplotlib, no JavaScript) for the
console, or as PNG for the report's workbook: each city's leniency and home bias with their
intervals, the score distributions by city, and the ranking with each project's spread across
the cities.

The text stays text in the SVG (``svg.fonttype = none``): the reader's browser draws the Chinese
with its own fonts, and the page can be searched and read aloud. matplotlib is imported only
when a chart is drawn (it takes a second to load)."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Sequence
from typing import Any

# fonts with Chinese, in the order a browser or matplotlib should try them
FONTS = [
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Microsoft YaHei",
    "PingFang SC",
    "sans-serif",
]
FLAGGED, PLAIN, LIGHT = "#b3261e", "#1f5fa8", "#9aa7b4"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.fonttype": "none",
            "font.family": "sans-serif",
            "font.sans-serif": FONTS,
            "font.size": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "svg.hashsalt": "evalflow",  # (the same chart, the same bytes)
        }
    )
    return plt


def _picture(fig: Any, title: str, png: bool) -> Any:
    """The figure as SVG text (see _svg) or, with ``png``, PNG bytes (a workbook's picture)."""
    if not png:
        return _svg(fig, title)
    plt = _pyplot()
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.savefig(out, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return out.getvalue()


def has_chinese_font() -> bool:
    """Whether matplotlib has a font with Chinese to draw a PNG's words in (an SVG leaves them to
    the browser); without one a PNG would show boxes, so the workbook goes without its pictures."""
    from matplotlib import font_manager

    for family in FONTS[:-1]:
        try:
            font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
            return True
        except ValueError:
            continue
    return False


def _svg(fig: Any, title: str) -> str:
    """The figure as an inline SVG element, scaled to its box, with a title for screen readers."""
    plt = _pyplot()
    out = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (glyphs matplotlib cannot measure: the browser draws them)
        fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = out.getvalue()
    text = text[text.index("<svg") :]
    # the console's Content-Security-Policy refuses inline styles (a style attribute, a <style>
    # element): each style becomes the presentation attributes it holds, which the policy leaves
    # alone, and the sheet's one rule goes on the root, where its children inherit it
    text = re.sub(r"\s*<style[^>]*>.*?</style>", "", text, flags=re.S)
    text = _STYLE.sub(_attributes, text)
    root = r'<svg\1 class="chart" role="img" stroke-linejoin="round" stroke-linecap="butt"'
    text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', root, text, count=1)
    return text.replace(">", f"><title>{_escape(title)}</title>", 1)


_STYLE = re.compile(r'style="([^"]*)"')
# what matplotlib's SVG styles: each a presentation attribute of SVG
_PRESENTATION = {
    "fill",
    "fill-opacity",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "opacity",
    "stroke",
    "stroke-dasharray",
    "stroke-dashoffset",
    "stroke-linecap",
    "stroke-linejoin",
    "stroke-miterlimit",
    "stroke-opacity",
    "stroke-width",
    "text-anchor",
}


def _attributes(found: re.Match[str]) -> str:
    """A style attribute's declarations as presentation attributes (one SVG has no other kind)."""
    out = []
    for declaration in found.group(1).split(";"):
        name, _, value = declaration.partition(":")
        name, value = name.strip(), value.strip()
        if name in _PRESENTATION and value:
            out.append(f'{name}="{value}"')
    return " ".join(out)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def offsets(
    rows: Sequence[tuple[str, Any, Any]],
    title: str,
    leniency_label: str,
    bias_label: str,
    unit: str,
    png: bool = False,
) -> Any:
    """Each rater's leniency and home bias as a point with its interval (flagged ones in red), a
    panel each, the raters down the side. ``rows``: (name, leniency, home bias) Intervals or None."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, sharey=True, figsize=(8.4, 0.42 * len(rows) + 1.3))
    names = [name for name, _, _ in rows]
    for ax, which, label in ((axes[0], 1, leniency_label), (axes[1], 2, bias_label)):
        for y, row in enumerate(rows):
            x: Any = row[which]
            if x is None:
                continue
            color = FLAGGED if x.flagged else PLAIN
            ax.errorbar(
                x.estimate,
                y,
                xerr=[[x.estimate - x.low], [x.high - x.estimate]],
                fmt="o",
                color=color,
                ecolor=color,
                capsize=3,
                markersize=5,
            )
        ax.axvline(0, color=LIGHT, linewidth=1)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel(unit)
        ax.grid(axis="x", color="#e5e9ee")
    axes[0].set_yticks(range(len(names)), names)
    axes[0].invert_yaxis()
    fig.suptitle(title, fontsize=11)
    return _picture(fig, title, png)


def distributions(rows: Sequence[tuple[str, Sequence[float]]], title: str, unit: str, png: bool = False) -> Any:
    """Each rater's sheet totals as a box (median, quartiles, whiskers at 1.5 IQR), the raters
    down the side."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8.4, 0.42 * len(rows) + 1.3))
    shown = [(name, values) for name, values in rows if len(values)]  # (arrays as they are: 900,000 totals)
    if shown:
        ax.boxplot(
            [values for _, values in shown],
            orientation="horizontal",
            tick_labels=[name for name, _ in shown],
            widths=0.6,
            flierprops={"markersize": 3, "markerfacecolor": LIGHT, "markeredgecolor": LIGHT},
            medianprops={"color": PLAIN},
        )
        ax.invert_yaxis()
    ax.set_xlabel(unit)
    ax.grid(axis="x", color="#e5e9ee")
    ax.set_title(title, fontsize=11)
    return _picture(fig, title, png)


def ranking(
    rows: Sequence[tuple[str, float, float, float]],
    edges: Sequence[tuple[int, str]],
    title: str,
    unit: str,
    png: bool = False,
) -> Any:
    """The best projects by rank, each its score with the range of the cities' totals, and a
    line after each category's last place. ``rows``: (label, score, lowest, highest), best first;
    ``edges``: (places so far, the category's name)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8.4, 0.3 * len(rows) + 1.3))
    for y, (_, score, low, high) in enumerate(rows):
        ax.plot([low, high], [y, y], color=LIGHT, linewidth=2, solid_capstyle="round")
        ax.plot(score, y, "o", color=PLAIN, markersize=4)
    for edge, name in edges:
        if 0 < edge < len(rows):
            ax.axhline(edge - 0.5, color=FLAGGED, linewidth=0.8, linestyle="--")
            ax.text(ax.get_xlim()[0], edge - 0.6, name, color=FLAGGED, fontsize=8, va="bottom")
    ax.set_yticks(range(len(rows)), [label for label, *_ in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(unit)
    ax.grid(axis="x", color="#e5e9ee")
    ax.set_title(title, fontsize=11)
    return _picture(fig, title, png)
