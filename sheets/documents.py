"""The documents a cycle's results go out as — the public notice (公示), the official list
(正式名单), each applicant's decision letter (评审结果通知书), the named projects' certificates
(命名授牌证书) — drawn from the engine's :class:`Outcome` through the program's templates
(workflow/program/documents.py): DOCX by docxtpl from a Word template the office can restyle,
PDF by WeasyPrint from an HTML one, with a Chinese font of the machine embedded.

Every template is given the same fields:

- all: ``title``, ``program``, ``year``, ``issuer``, ``date`` (the publication's, 2027年6月12日),
  ``notice_start``, ``notice_end``, ``notice_days``, ``version``, ``corrects``, ``total``;
- the notice and the list: ``categories``, each with its ``name`` and ``rows`` (``n``, ``city``,
  ``unit``, ``title``, ``score``);
- a letter and a certificate: ``unit``, ``project``, ``city``, ``category`` (the named title),
  ``result`` (the category, or 未入选), ``named``, ``rank``, ``ranked``, ``score``.

The filter ``chinese_number`` writes 1 as 一 (a heading's 一、二、).
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from i18n import Msg
from workflow.engine.documents import Outcome, Placed
from workflow.errors import InvalidInput, RendererMissing
from workflow.program.documents import FORMATS, KIND_WORDS, KINDS

# the Chinese fonts looked for, in order, where EVALFLOW_CJK_FONT names none (Debian's packages:
# fonts-wqy-microhei, fonts-wqy-zenhei, fonts-noto-cjk, fonts-arphic-uming)
FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
_DIGITS = "零一二三四五六七八九"
# what a file's name may not hold (Windows' and zip's separators, controls)
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def chinese_number(n: int) -> str:
    """1 → 一, 12 → 十二, 25 → 二十五 (up to 99: a document's headings)."""
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    return (_DIGITS[tens] if tens > 1 else "") + "十" + (_DIGITS[ones] if ones else "")


def day(at: datetime) -> str:
    """2027年6月12日."""
    return f"{at.year}年{at.month}月{at.day}日"


def _title(kind: str, o: Outcome) -> str:
    program = o.program.name
    return {
        "notice": f"关于{program}{o.cycle.year}年度评审结果的公示",
        "list": f"{program}{o.cycle.year}年度名单",
        "letter": "评审结果通知书",
        "certificate": "证书",
    }[kind]


def fields(kind: str, o: Outcome, project: Placed | None = None) -> dict[str, Any]:
    """The template's fields for ``kind`` (see the module)."""
    out: dict[str, Any] = {
        "title": _title(kind, o),
        "program": o.program.name,
        "year": o.cycle.year,
        "issuer": o.issuer,
        "date": day(o.at),
        "notice_start": day(o.at),
        "notice_end": day(o.notice_ends),
        "notice_days": o.notice_days,
        "version": o.version,
        "corrects": o.corrects,
        "total": len(o.every),
        "ranked": o.ranked,
        "categories": [
            {
                "name": name,
                "rows": [
                    {"n": n, "city": p.city_name, "unit": p.unit, "title": p.title, "score": p.score}
                    for n, p in enumerate(rows, start=1)
                ],
            }
            for name, rows in o.named()
            if rows
        ],
    }
    if project is not None:
        out.update(
            unit=project.unit,
            project=project.title,
            city=project.city_name,
            category=project.category_name if project.named else "",
            result=project.category_name,
            named=project.named,
            rank=project.rank,
            score=project.score,
        )
    return out


def _jinja_env() -> Any:
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["chinese_number"] = chinese_number
    return env


def docx(template: Path, values: dict[str, Any]) -> bytes:
    """The Word template filled in."""
    from docxtpl import DocxTemplate

    env = _jinja_env()
    env.autoescape = False  # (docxtpl escapes the XML itself: autoescape=True below)
    doc = DocxTemplate(str(template))
    doc.render(values, env, autoescape=True)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


@cache
def chinese_font() -> Path:
    """The font file a PDF's Chinese is set in (EVALFLOW_CJK_FONT, else the first of FONTS found)."""
    named = os.environ.get("EVALFLOW_CJK_FONT")
    for candidate in [named] if named else FONTS:
        if Path(candidate).is_file():
            return Path(candidate)
    if named:
        raise RendererMissing(Msg("EVALFLOW_CJK_FONT names {file}, which is no file", file=named))
    raise RendererMissing(
        Msg(
            "no Chinese font is installed (Debian: apt-get install fonts-wqy-microhei),"
            " or set EVALFLOW_CJK_FONT to a font file"
        )
    )


def _html_renderer() -> Any:
    try:
        from weasyprint import HTML
    except (OSError, ImportError):  # (its system libraries: Pango, fontconfig)
        raise RendererMissing(
            Msg("WeasyPrint cannot load its libraries (Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0)")
        ) from None
    return HTML


def pdf(template: Path, values: dict[str, Any]) -> bytes:
    """The HTML template filled in and drawn to PDF, its font embedded."""
    font = chinese_font()
    html_class = _html_renderer()
    env = _jinja_env()
    face = f'@font-face {{ font-family: "evalflow-cjk"; src: url("{font.as_uri()}"); }}'
    from markupsafe import Markup

    text = env.from_string(template.read_text(encoding="utf-8")).render(
        **values, font_face=Markup(face), font=Markup('"evalflow-cjk", sans-serif')
    )
    return bytes(html_class(string=text, base_url=str(template.parent)).write_pdf())


def render(kind: str, fmt: str, o: Outcome, project: Placed | None = None) -> bytes:
    """One document: ``kind`` (notice, list, letter, certificate) in ``fmt`` (docx, pdf); a letter
    and a certificate are ``project``'s (a certificate only of a named project)."""
    if kind not in KINDS or fmt not in FORMATS:
        raise InvalidInput("document", [Msg("{kind}.{fmt} is not a document", kind=kind, fmt=fmt)])
    if kind == "certificate" and project is not None and not project.named:
        why = Msg("project {id} was not named: it has no certificate", id=project.project_id)
        raise InvalidInput("document", [why])
    values = fields(kind, o, project)
    template = o.program.documents.template(kind, fmt)
    try:
        return (docx if fmt == "docx" else pdf)(template, values)
    except RendererMissing:
        raise
    except Exception as exc:  # (a template the office edited: its own mistake, said in one line)
        raise InvalidInput(
            Msg("document template"), [Msg("{file}: {why}", file=str(template), why=f"{type(exc).__name__}: {exc}")]
        ) from None


def file_name(kind: str, fmt: str, o: Outcome, project: Placed | None = None) -> str:
    """A document's file name: the cycle, the kind, and a letter's or certificate's project
    (its id and unit), e.g. ``CYCLE-评审结果通知书-17-某公司.pdf``."""
    parts = [o.cycle.id, KIND_WORDS[kind].zh]
    if project is not None:
        parts += [str(project.project_id), project.unit[:40]]
    return _UNSAFE.sub("_", "-".join(parts)) + f".{fmt}"


def bundle(o: Outcome, formats: Iterable[str], update: Callable[[int], None] | None = None) -> tuple[bytes, int]:
    """Every document of the cycle the user may have, in each of ``formats``, as one zip: the
    notice and the list, a letter for each project, a certificate for each named one. Returns
    the zip and how many documents it holds; ``update(n)`` after each."""
    out = io.BytesIO()
    count = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for kind, project in documents_of(o):
            for fmt in formats:
                folder = "" if project is None else f"{KIND_WORDS[kind].zh}/"
                z.writestr(folder + file_name(kind, fmt, o, project), render(kind, fmt, o, project))
                count += 1
                if update is not None:
                    update(1)
    return out.getvalue(), count


def documents_of(o: Outcome) -> list[tuple[str, Placed | None]]:
    """The documents of a bundle: the notice, the list, then each letter and certificate."""
    out: list[tuple[str, Placed | None]] = [("notice", None), ("list", None)]
    out += [("letter", p) for p in o.placed]
    out += [("certificate", p) for p in o.placed if p.named]
    return out
