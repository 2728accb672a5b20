"""The documents of a cycle's published results (sheets/documents.py, workflow/engine/documents.py):
the notice, the official list, a decision letter and a certificate, as DOCX and PDF, on the
published checkpoint (2 demonstration and 3 excellent projects, the rest not listed).

A PDF is read back by text extraction (pypdf): the program's name and every listed project's
name are in it, and every font it uses is embedded. A DOCX by python-docx. Who may have which is
the engine's: the lead every one, a city's administrator their city's letters, an applicant their
own; before a publication nothing is made, naming the rule."""

from __future__ import annotations

import io
import re

import pytest

from sheets.documents import bundle, chinese_number, documents_of, file_name, render
from tests.conftest import CITIES, LEAD, admin, applicant, scorer, snapshot
from workflow.errors import InvalidInput, NotFound, NotPermitted, RendererMissing, RuleRefused

PROGRAM_NAME = "长三角G60科创走廊科技创新、党建创新深度融合项目评选"


def flat(text: str) -> str:
    """Text without its line breaks and spaces (a table cell wraps a long name)."""
    return re.sub(r"\s+", "", text)


def pdf_text_and_fonts(data: bytes) -> tuple[str, list[tuple[str, bool]]]:
    """Every page's text, and each font used with whether its glyphs are embedded."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    fonts: list[tuple[str, bool]] = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            inner = font.get("/DescendantFonts")
            descriptor = (inner[0].get_object() if inner else font).get("/FontDescriptor")
            held = descriptor.get_object() if descriptor is not None else {}
            fonts.append(
                (str(font.get("/BaseFont")), any(k in held for k in ("/FontFile", "/FontFile2", "/FontFile3")))
            )
    return "".join(page.extract_text() for page in reader.pages), fonts


def docx_text(data: bytes) -> str:
    import docx

    doc = docx.Document(io.BytesIO(data))
    cells = [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_the_notice_and_the_list_name_the_program_and_every_listed_project_in_both_formats(at_stage):
    s = at_stage("published")
    o = s.engine.outcome(LEAD)
    assert (o.version, o.corrects, o.ranked, len(o.every)) == (1, None, 45, 5)
    listed = [p.title for p in o.every]
    assert [p.project_id for p in o.every] == s.high + s.mid  # (best first)
    for kind in ("notice", "list"):
        text, fonts = pdf_text_and_fonts(render(kind, "pdf", o))
        assert flat(PROGRAM_NAME) in flat(text) and all(flat(t) in flat(text) for t in listed)
        assert fonts and all(embedded for _, embedded in fonts), fonts
        words = docx_text(render(kind, "docx", o))
        assert PROGRAM_NAME in words and all(t in words for t in listed)
        assert "一、G60深度融合示范项目（2个）" in words and "二、G60深度融合优秀项目（3个）" in words
    notice = flat(pdf_text_and_fonts(render("notice", "pdf", o))[0])
    assert "公示期为2027年6月12日至2027年6月17日，共5天" in notice  # (the publication's day, 5 days: the file's)


def test_a_letter_says_the_result_and_only_a_named_project_has_a_certificate(at_stage, store):
    s = at_stage("published")
    o = s.engine.outcome(LEAD)
    top, out = o.of(s.high[0]), o.of(s.low[0])
    words = docx_text(render("letter", "docx", o, top))
    assert f"{top.unit}：" in words and "评审结果为：G60深度融合示范项目" in words
    assert f"位列第1名，得分{top.score}" in words
    text = flat(pdf_text_and_fonts(render("letter", "pdf", o, out))[0])
    assert "评审结果为：未入选" in text and flat(out.title) in text
    cert = flat(pdf_text_and_fonts(render("certificate", "pdf", o, top))[0])
    assert flat(top.unit) in cert and "G60深度融合示范项目" in cert
    before = snapshot(s.store)
    with pytest.raises(InvalidInput) as err:
        render("certificate", "docx", o, out)
    assert f"project {out.project_id} was not named: it has no certificate" in str(err.value)
    assert snapshot(s.store) == before


def test_who_has_which_document(at_stage):
    s = at_stage("published")
    hefei = s.engine.outcome(admin("hefei"))
    assert {p.city for p in hefei.placed} == {"hefei"} and len(hefei.placed) == 5
    assert len(hefei.every) == 5  # (the notice and the list are everyone's once published)
    mine = s.engine.outcome(applicant("wuhu"))
    assert {p.city for p in mine.placed} == {"wuhu"}
    assert s.engine.outcome(scorer("suzhou")).placed == ()
    with pytest.raises(NotFound):
        hefei.of(s.demos["wuhu"][0])  # (another city's letter: no such project, as for one absent)
    for user in (scorer("suzhou"), applicant("wuhu")):
        with pytest.raises(NotPermitted) as err:
            s.engine.outcome_for_all(user)
        assert "a cycle's documents at once are the lead's and the cities' administrators'" in str(err.value)
    # a zip holds what its maker may have: hefei's letters and certificates, the notice, the list
    data, count = bundle(hefei, ["docx"])
    assert count == len(documents_of(hefei)) == 2 + 5 + sum(p.named for p in hefei.placed)
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert f"{file_name('notice', 'docx', hefei)}" in names
    assert sum(n.startswith("评审结果通知书/") for n in names) == 5


def test_nothing_is_made_before_the_list_is_published(at_stage):
    s = at_stage("confirmed")
    before = snapshot(s.store)
    with pytest.raises(RuleRefused) as err:
        s.engine.outcome(LEAD)
    said = (
        "Cannot make the documents of cycle g60-2027:"
        " [results_published] no list of cycle g60-2027 has been published yet."
    )
    assert str(err.value) == said
    assert "结果已公布：评选周期 g60-2027 尚未公布名单" in err.value.render("zh_CN")
    assert snapshot(s.store) == before


def test_without_a_chinese_font_a_pdf_is_refused_in_one_line_and_a_docx_is_made(at_stage, monkeypatch):
    from sheets import documents

    s = at_stage("published")
    o = s.engine.outcome(LEAD)
    monkeypatch.setenv("EVALFLOW_CJK_FONT", "/nowhere/font.ttc")
    documents.chinese_font.cache_clear()
    try:
        with pytest.raises(RendererMissing) as err:
            render("notice", "pdf", o)
        assert str(err.value) == (
            "Cannot make PDF documents on this machine: EVALFLOW_CJK_FONT names /nowhere/font.ttc, which is no file"
        )
        assert err.value.exit_code == 13
        assert PROGRAM_NAME in docx_text(render("notice", "docx", o))
    finally:
        documents.chinese_font.cache_clear()


def test_a_template_the_office_broke_is_named_in_one_line(at_stage, tmp_path):
    from dataclasses import replace

    s = at_stage("published")
    o = s.engine.outcome(LEAD)
    broken = tmp_path / "notice"
    broken.with_suffix(".html").write_text("<p>{{ program }</p>", encoding="utf-8")
    program = replace(o.program, documents=replace(o.program.documents, templates={"notice": broken}))
    with pytest.raises(InvalidInput) as err:
        render("notice", "pdf", replace(o, program=program))
    assert f"Invalid document template: {broken.with_suffix('.html')}: TemplateSyntaxError" in str(err.value)


def test_chinese_numbers_of_headings():
    assert [chinese_number(n) for n in (1, 2, 9, 10, 11, 20, 25, 99)] == [
        "一", "二", "九", "十", "十一", "二十", "二十五", "九十九"
    ]  # fmt: skip


def test_every_city_has_its_own_letters(at_stage):
    s = at_stage("published")
    for c in CITIES:
        assert {p.project_id for p in s.engine.outcome(admin(c)).placed} == set(s.demos[c])


def test_a_program_file_names_its_templates_and_each_problem_is_said(tmp_path):
    import copy
    import tomllib

    from workflow.errors import ProgramInvalid
    from workflow.program import build_program, default_program_dirs

    path = default_program_dirs()[-1] / "g60-deep-integration.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    program = build_program(copy.deepcopy(data), path=path)
    assert program.documents.issuer == "松江区委组织部" and program.documents.notice_days == 5
    assert program.documents.template("letter", "docx") == path.parent / "templates" / "letter.docx"
    data["documents"].update(stamp="red", notice_days=0, public_fields=["plan.nowhere"], public_records=["sing"])
    data["documents"]["templates"].update(poster="templates/poster", letter="templates/missing")
    with pytest.raises(ProgramInvalid) as err:
        build_program(data, path=tmp_path / "g60.toml")
    said = str(err.value)
    assert (
        "[documents] 'stamp' is not a setting"
        " (issuer, notice_days, named, named_states, public_fields, public_records, templates)" in said
    )
    assert "[documents] notice_days = 0 must be a whole number of days, 1 to 60" in said
    assert "[documents] public_fields names 'plan.nowhere', no field of the form" in said
    assert "[documents] public_records names 'sing', no action of the program" in said
    assert "[documents.templates] 'poster' is not a document (notice, list, letter, certificate)" in said
    assert (
        f"[documents.templates] letter: the docx template {tmp_path / 'templates' / 'missing.docx'} does not exist"
        in said
    )


def test_a_program_without_a_list_speaks_of_the_projects_its_award_named(tmp_path):
    """先锋号 has no list: its documents name the units awarded the plaque (its demo's cycle)."""
    from store.sql import SqlStore
    from workflow.engine import Engine
    from workflow.program import ProgramRegistry
    from workflow.program_code import demo_of

    store = SqlStore(f"sqlite:///{tmp_path / 'pioneer.db'}")
    store.create()
    registry = ProgramRegistry()
    demo_of(registry.get("pioneer-brand"))(store, year=2027, per_city=1, seed=1, echo=lambda _: None)
    with store.transaction(write=False) as tx:
        lead = next(u.name for u in tx.list_users() if u.role == "lead")
        cycles = [c.id for c in tx.list_cycles()]
        named = [c for c in cycles if tx.project_names(c, ["awarded"])]
    engine = Engine(store, registry)
    o = engine.outcome(lead, named[0])
    assert o.at.strftime("%Y-%m-%d") == "2027-09-20"  # (the day the plaques were awarded, not today)
    for c in set(cycles) - set(named):  # (a year that named nobody has no documents)
        with pytest.raises(RuleRefused, match=f"no project of cycle {c} has been named yet"):
            engine.outcome(lead, c)
    assert o.version is None and o.every and all(p.category_name == "“科技筑梦先锋号”" for p in o.every)
    text = flat(pdf_text_and_fonts(render("certificate", "pdf", o, o.every[0]))[0])
    assert "“科技筑梦先锋号”" in text and flat(o.every[0].unit) in text and "市科学技术局" in text
    store.dispose()
