"""Uploaded files judged by their content (workflow/files.py) and the form's declared documents."""

from __future__ import annotations

import pytest

from i18n import using
from tests.workflow.files_samples import (
    DOCX,
    ELF,
    EXE,
    JPEG,
    PDF,
    PNG,
    XLSM,
    XLSX,
    XLSX_WITH_VBA,
    many_entries,
    zip_bomb,
)
from workflow.errors import InvalidInput
from workflow.files import MAX_DOCUMENT_MB, MB, check_file, safe_name, sniff
from workflow.form import build_form

ALL = ("pdf", "jpeg", "png", "docx", "xlsx")


@pytest.mark.parametrize(
    ("data", "kind"),
    [(PDF, "pdf"), (PNG, "png"), (JPEG, "jpeg"), (DOCX, "docx"), (XLSX, "xlsx"), (EXE, None), (b"hello", None)],
    ids=["pdf", "png", "jpeg", "docx", "xlsx", "exe", "text"],
)
def test_a_file_is_known_by_its_bytes(data: bytes, kind: str | None) -> None:
    assert sniff(data) == kind


def test_a_good_file_is_checked_with_its_type_size_and_hash() -> None:
    checked = check_file("执照.pdf", PDF, ALL)
    assert checked.kind.id == "pdf" and checked.kind.media_type == "application/pdf"
    assert checked.size == len(PDF) and len(checked.sha256) == 64
    # the name does not decide: a PNG called .pdf is a PNG
    assert check_file("photo.pdf", PNG, ALL).kind.id == "png"


def refusal(name: str, data: bytes, allowed=ALL, **kw) -> tuple[str, str]:
    with pytest.raises(InvalidInput) as err:
        check_file(name, data, allowed, **kw)
    return err.value.render("en"), err.value.render("zh_CN")


@pytest.mark.parametrize(
    ("name", "data", "allowed", "en", "zh"),
    [
        ("营业执照.pdf", EXE, ALL, "营业执照.pdf is a program, not a document", "营业执照.pdf是程序，不是文件"),
        ("scan.png", ELF, ALL, "scan.png is a program, not a document", "scan.png是程序，不是文件"),
        ("表.xlsm", XLSM, ALL, "表.xlsm contains macros (VBA code)", "表.xlsm含有宏（VBA代码）"),
        ("表.xlsx", XLSX_WITH_VBA, ALL, "表.xlsx contains macros (VBA code)", "表.xlsx含有宏（VBA代码）"),
        ("bomb.docx", zip_bomb(), ALL, "bomb.docx would unpack to 60.0 MB", "bomb.docx解压后将达60.0 MB"),
        ("many.docx", many_entries(), ALL, "many.docx holds 2500 packed files", "many.docx内含2500个压缩文件"),
        (
            "执照.docx",
            DOCX,
            ("pdf", "jpeg", "png"),
            "执照.docx is a Word document (DOCX);",
            "执照.docx是DOCX文档",
        ),
        (
            "note.txt",
            b"just text",
            ALL,
            "note.txt is not a file of a type accepted here",
            "note.txt不是此处接受的文件类型",
        ),
        ("empty.pdf", b"", ALL, "empty.pdf is empty", "empty.pdf是空文件"),
        (
            "old.doc",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50,
            ALL,
            "old.doc is an old-format Office file",
            "old.doc是旧格式的Office文件",
        ),
    ],
    ids=["exe", "elf", "xlsm", "hidden-vba", "zip-bomb", "entries", "wrong-type", "unknown", "empty", "ole2"],
)
def test_each_bad_file_is_refused_in_one_sentence_naming_it(name, data, allowed, en, zh) -> None:
    said_en, said_zh = refusal(name, data, allowed)
    assert en in said_en
    assert zh in said_zh


def test_an_oversized_file_is_refused_with_both_sizes() -> None:
    big = PDF + b"\x00" * (2 * MB)
    en, zh = refusal("大文件.pdf", big, max_bytes=1 * MB)
    assert "大文件.pdf is 2.0 MB; a document may be at most 1.0 MB" in en
    assert "大文件.pdf大小为2.0 MB，超过单个文件1.0 MB的上限" in zh


def test_a_name_loses_its_folders_and_control_characters() -> None:
    assert safe_name("C:\\Users\\a\\..\\营业执照.pdf") == "营业执照.pdf"
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("a\x00b\n.pdf") == "ab.pdf"
    assert safe_name("") == "file"
    assert len(safe_name("x" * 300 + ".pdf")) <= 200 and safe_name("x" * 300 + ".pdf").endswith(".pdf")


def test_documents_are_declared_and_checked_by_the_loader() -> None:
    raw = {
        "unit": "u",
        "title": "t",
        "fields": [{"path": "u", "zh": "单位"}, {"path": "t", "zh": "项目"}],
        "documents": [
            {"id": "license", "zh": "营业执照", "en": "Licence", "required": True, "types": ["pdf", "exe"]},
            {"id": "license", "zh": "营业执照", "en": "Licence"},
            {"id": "cert", "zh": "证书", "en": "Certificate", "max_mb": 0, "colour": "red"},
        ],
    }
    form, problems = build_form(raw)
    assert form is None
    assert "[form] documents[0] 'license': unknown types 'exe' (known: pdf, jpeg, png, docx, xlsx)" in problems
    assert "[form] documents[1] 'license': the id is declared twice" in problems
    assert any("documents[2] 'cert': unknown keys colour" in p for p in problems)
    assert any("documents[2] 'cert': max_mb must be" in p for p in problems)
    raw["documents"] = [{"id": "license", "zh": "营业执照", "en": "Licence", "required": True}]
    form, problems = build_form(raw)
    assert problems == [] and form is not None
    doc = form.document("license")
    assert doc is not None and doc.required and doc.types == ("pdf", "jpeg", "png") and doc.max_mb == 20
    # the largest a program may declare (the most the console lets a request upload)
    raw["documents"] = [{"id": "big", "zh": "大文件", "en": "Big", "max_mb": MAX_DOCUMENT_MB}]
    assert build_form(raw)[1] == []
    raw["documents"] = [{"id": "big", "zh": "大文件", "en": "Big", "max_mb": MAX_DOCUMENT_MB + 1}]
    assert build_form(raw)[1] == ["[form] documents[0] 'big': max_mb must be a whole number of megabytes from 1 to 200"]
    with using("zh_CN"):
        assert str(doc.words()) == "营业执照"


def test_every_program_declares_documents_and_who_attaches_them(programs) -> None:
    for program_id in ("g60-deep-integration", "industry-alliance", "kechuang-zhongyuan", "pioneer-brand"):
        program = programs.get(program_id)
        assert program.form is not None and program.form.documents
        assert any(d.required for d in program.form.documents)
        assert set(program.permissions["attach"].roles) == {"applicant", "city-admin"}


def test_documents_need_someone_who_attaches_them_and_attaching_needs_documents() -> None:
    from tests.workflow.test_program import problems_of, shipped_data

    data = shipped_data()
    data["permissions"].pop("attach")
    assert problems_of(data).problems == ("[permissions] nobody may do: attach",)
    data = shipped_data()
    data["form"].pop("documents")
    assert problems_of(data).problems == ("[permissions] 'attach' is not an action of this program",)
    data["permissions"].pop("attach")
    from workflow.program import build_program

    assert build_program(data).form.documents == ()  # a form with no documents: nothing to attach
