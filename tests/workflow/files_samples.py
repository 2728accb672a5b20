"""Sample files for the attachment tests: small real-shaped documents and the bad uploads the
checks must refuse (a renamed program, a macro workbook, a zip bomb…)."""

from __future__ import annotations

import io
import zipfile

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200  # a Windows program
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 100

_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="{part}" ContentType="{type}"/></Types>'
)


def office(main_type: str, part: str, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal Office zip: its content types declaring ``main_type`` for ``part``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _TYPES.format(part=part, type=main_type))
        z.writestr(part.lstrip("/"), "<document/>")
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


DOCX = office("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml", "/word/document.xml")
XLSX = office("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", "/xl/workbook.xml")
XLSM = office(
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml", "/xl/workbook.xml", {"xl/vbaProject.bin": b"\xd0\xcf"}
)
# a macro part hidden in a workbook that declares itself an ordinary one
XLSX_WITH_VBA = office(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "/xl/workbook.xml",
    {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0"},
)


def zip_bomb(unpacked_mb: int = 60) -> bytes:
    """A DOCX-looking zip whose one entry unpacks to ``unpacked_mb`` MB of zeros (about a
    thousand times its packed size)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            _TYPES.format(
                part="/word/document.xml",
                type="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            ),
        )
        z.writestr("word/document.xml", b"\x00" * (unpacked_mb * 1024 * 1024))
    return out.getvalue()


def many_entries(count: int = 2500) -> bytes:
    """A zip of ``count`` tiny entries."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for i in range(count):
            z.writestr(f"x/{i}.xml", b"")
    return out.getvalue()
