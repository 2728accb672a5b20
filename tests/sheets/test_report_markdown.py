"""The Markdown report shows what users typed as text: a project named like a script, a unit
named like a link, read where Markdown becomes HTML (a CommonMark renderer that passes HTML
through, as most wikis and code hosts do), is shown as those characters and runs nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from sqlalchemy import text

import sheets.report
from tests.cli.test_full_cycle import Cli
from tests.conftest import LEAD
from tests.sheets.test_report import PUBLISHED, _injected
from tests.workflow.checkpoints import at_stage, stage_templates  # noqa: F401  (fixtures)

SCRIPT = "<script>alert(1)</script>|x"
MARKDOWN = "[点击领奖](javascript:alert(1)) **加粗** _斜体_ `代码` ~~删除~~ ![图](x.png) &lt;b&gt; \\|"


def _html(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(markdown)


def _cells(html: str, text_of_cell: str) -> list[str]:
    return [c for c in re.findall(r"<td>(.*?)</td>", html) if text_of_cell in c]


def test_a_project_named_like_a_script_is_text_in_the_markdown_report(at_stage, tmp_path: Path) -> None:  # noqa: F811
    s = at_stage("published")
    with s.store.engine.begin() as conn:  # as if the applicant had typed it
        pid = conn.execute(text("SELECT min(id) FROM projects")).scalar_one()
        conn.execute(text("UPDATE projects SET project_name = :n WHERE id = :id"), {"n": SCRIPT, "id": pid})
    path = s.store.sqlite_path()
    assert path is not None
    Cli(path)(LEAD, PUBLISHED, "report", "--format", "md", "--out", str(tmp_path / "r.md"))
    report = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "<script" not in report
    assert f"| {pid} | &lt;script&gt;alert(1)&lt;/script&gt;\\|x |" in report
    html = _html(report)
    assert "<script" not in html
    # one cell holding the very characters typed (the pipe did not split the row)
    assert _cells(html, "alert(1)") == ["&lt;script&gt;alert(1)&lt;/script&gt;|x"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_markdown_in_names_is_shown_as_typed(at_stage, tmp_path: Path, lang: str) -> None:  # noqa: F811
    s = at_stage("published")
    with _injected(s, MARKDOWN) as (data, _, _):
        sheets.report.write(data, "md", lang, tmp_path / "r.md")
    html = _html((tmp_path / "r.md").read_text(encoding="utf-8"))
    for made in ("<a ", "<img", "<strong>", "<em>", "<code>", "<s>", "<del>", "<b>"):
        assert made not in html, made
    # the list's unit and the matrix's project: each one cell, the text as typed (as HTML escapes it)
    typed = MARKDOWN.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert _cells(html, "javascript") == [typed, typed]
