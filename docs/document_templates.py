"""The shipped Word templates of the four documents (programs/templates/KIND.docx), written with
python-docx: ``.venv/bin/python docs/document_templates.py``. An office restyles its own copy in
Word or WPS and names it in its program file's ``[documents.templates]``; this script only makes
the defaults again when their wording changes here.

The fields in ``{{ }}`` and the ``{%p %}``/``{%tr %}`` loops are docxtpl's (Jinja in Word): the
same fields as the HTML templates beside them (workflow/engine/documents.py lists them).
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

OUT = Path(__file__).resolve().parent.parent / "programs" / "templates"
BODY = "仿宋"  # the body of an official document (仿宋_GB2312 where installed)
HEAD = "黑体"  # its headings; the title in 方正小标宋 where the office has it


def _font(run_or_style, east_asian: str, size: float, bold: bool = False) -> None:
    font = run_or_style.font
    font.size, font.bold, font.name = Pt(size), bold, "Times New Roman"
    element = run_or_style.element
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), east_asian)


def _document(landscape: bool = False) -> Document:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    if landscape:
        section.top_margin = section.bottom_margin = section.left_margin = section.right_margin = Cm(2.0)
    normal = doc.styles["Normal"]
    _font(normal, BODY, 16)
    normal.paragraph_format.line_spacing = Pt(28)
    normal.paragraph_format.space_after = Pt(0)
    return doc


def _para(doc, text: str, size: float = 16, font: str = BODY, bold: bool = False, align=None, indent: bool = True):
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    if indent and align is None:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    _font(p.add_run(text), font, size, bold)
    return p


def _title(doc, text: str = "{{ title }}") -> None:
    p = _para(doc, text, size=22, font=HEAD, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    p.paragraph_format.space_after = Pt(18)


def _sign(doc) -> None:
    doc.add_paragraph()
    for text in ("{{ issuer }}", "{{ date }}"):
        _para(doc, text, align=WD_ALIGN_PARAGRAPH.RIGHT)


def _table(doc) -> None:
    """The categories' tables: a heading and a table a category, a row a project."""
    _para(doc, "{%p for c in categories %}", indent=False)
    _para(doc, "{{ loop.index | chinese_number }}、{{ c.name }}（{{ c.rows | length }}个）", font=HEAD, indent=False)
    table = doc.add_table(rows=4, cols=4)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = (Cm(1.4), Cm(2.2), Cm(5.4), Cm(6.6))
    rows = (
        ("序号", "城市", "申报单位", "项目名称"),
        ("{%tr for r in c.rows %}", "", "", ""),
        ("{{ r.n }}", "{{ r.city }}", "{{ r.unit }}", "{{ r.title }}"),
        ("{%tr endfor %}", "", "", ""),
    )
    for i, cells in enumerate(rows):
        for j, text in enumerate(cells):
            cell = table.rows[i].cells[j]
            cell.width = widths[j]
            p = cell.paragraphs[0]
            p.paragraph_format.line_spacing = Pt(18)
            if i == 0 or j == 0:
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(p.add_run(text), HEAD if i == 0 else BODY, 11, bold=i == 0)
    _para(doc, "{%p endfor %}", indent=False)


def notice() -> Document:
    doc = _document()
    _title(doc)
    _para(doc, "经评审，{{ program }}{{ year }}年度拟命名名单已经确定，现予以公示（共{{ total }}个）。")
    _para(
        doc,
        "公示期为{{ notice_start }}至{{ notice_end }}，共{{ notice_days }}天。公示期间，对名单有异议的，请以书面形式"
        "向{{ issuer }}提出，写明姓名、联系方式和理由，并可提供相关材料。",
    )
    _table(doc)
    _sign(doc)
    return doc


def official_list() -> Document:
    doc = _document()
    _title(doc)
    _para(
        doc,
        "经评审和公示，现将{{ program }}{{ year }}年度名单（共{{ total }}个）予以公布。"
        "{% if corrects %}本名单更正第{{ corrects }}版，以本名单为准。{% endif %}",
    )
    _table(doc)
    _sign(doc)
    return doc


def letter() -> Document:
    doc = _document()
    _title(doc)
    _para(doc, "{{ unit }}：", indent=False)
    _para(
        doc,
        "贵单位申报的“{{ project }}”项目，参加{{ program }}{{ year }}年度评审。"
        "经评审{% if notice_end %}和公示{% endif %}，评审结果为：{{ result }}。"
        "{% if rank %}该项目在{{ ranked }}个参评项目中位列第{{ rank }}名"
        "{% if score %}，得分{{ score }}{% endif %}。{% endif %}",
    )
    _para(
        doc, "{% if named %}请贵单位继续发挥示范引领作用，不断深化项目成效。{% else %}感谢贵单位的积极参与。{% endif %}"
    )
    _para(doc, "特此通知。")
    _sign(doc)
    return doc


def certificate() -> Document:
    doc = _document(landscape=True)
    red = RGBColor(0x7A, 0x10, 0x10)
    centre = WD_ALIGN_PARAGRAPH.CENTER
    for text, size, font, bold, after in (
        ("证  书", 40, HEAD, True, 24),
        ("{{ unit }}", 20, BODY, False, 8),
        ("“{{ project }}”", 18, BODY, False, 16),
        ("在{{ program }}{{ year }}年度评审中被评为", 18, BODY, False, 4),
        ("{{ category }}", 28, HEAD, True, 24),
    ):
        p = _para(doc, text, size=size, font=font, bold=bold, align=centre)
        p.paragraph_format.line_spacing = Pt(size * 1.6)
        p.paragraph_format.space_after = Pt(after)
        if size >= 28:
            p.runs[0].font.color.rgb = red
    for text in ("{{ issuer }}", "{{ date }}"):
        _para(doc, text, align=WD_ALIGN_PARAGRAPH.RIGHT)
    return doc


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, make in (("notice", notice), ("list", official_list), ("letter", letter), ("certificate", certificate)):
        doc = make()
        doc.core_properties.author = "evalflow"
        doc.core_properties.title = name
        doc.save(str(OUT / f"{name}.docx"))
        print(OUT / f"{name}.docx")


if __name__ == "__main__":
    main()
