"""What an uploaded file is, judged by its bytes, never by its name: pure functions.

A document of an application (营业执照, 高新技术企业证书…) is accepted as PDF, JPEG, PNG, DOCX or
XLSX, each recognised by its magic number (DOCX and XLSX as a zip whose ``[Content_Types].xml``
declares the right main part). Refused, each with one sentence naming the file and what is
wrong: an empty or oversized file, a program (a renamed .exe, an ELF or Mach-O binary, a script),
a macro document or workbook (a ``vbaProject.bin`` part or a macro-enabled content type: .docm,
.xlsm), a zip bomb (judged from the zip's central directory — entries, total uncompressed size,
ratio — without extracting anything but the small content-types part), an old binary Office
file (it may carry macros unseen), and a type the document does not take.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from i18n import Joined, Msg, Text
from workflow.errors import InvalidInput

MB = 1024 * 1024
DEFAULT_MAX_MB = 20  # a document's size limit unless the program says otherwise
MAX_DOCUMENT_MB = 200  # the most a program may let a document be (its form's max_mb)
# a zip (DOCX, XLSX) is refused beyond these, read from its directory before anything is unpacked
MAX_ENTRIES = 2000
MAX_UNZIPPED = 200 * MB
MAX_RATIO = 100  # uncompressed / compressed, over the whole archive
_CONTENT_TYPES = "[Content_Types].xml"
_CONTENT_TYPES_MAX = 1 * MB


@dataclass(frozen=True)
class Kind:
    """A type of file a document may take: its id (as programs name it), media type, names."""

    id: str
    media_type: str
    en: str
    zh: str
    suffix: str

    def words(self) -> Text:
        """The type as a message names it."""
        return Text(self.en, self.zh)


KINDS: dict[str, Kind] = {
    k.id: k
    for k in (
        Kind("pdf", "application/pdf", "a PDF document", "PDF文件", ".pdf"),
        Kind("jpeg", "image/jpeg", "a JPEG image", "JPEG图片", ".jpg"),
        Kind("png", "image/png", "a PNG image", "PNG图片", ".png"),
        Kind(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "a Word document (DOCX)",
            "DOCX文档",
            ".docx",
        ),
        Kind(
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "an Excel workbook (XLSX)",
            "XLSX工作簿",
            ".xlsx",
        ),
    )
}

# the main part a zip's [Content_Types].xml declares for each Office kind
_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
}
# the first bytes of programs: Windows (MZ), Linux (ELF), macOS (Mach-O, fat), scripts (#!)
_PROGRAMS = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",
)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc, .xls of old: may hold macros unseen


@dataclass(frozen=True)
class Checked:
    """A file that passed: its type (by content), size in bytes and sha256 (hex)."""

    kind: Kind
    size: int
    sha256: str


def digest(data: bytes) -> str:
    """The sha256 of ``data`` in hex: the name it is stored under."""
    return hashlib.sha256(data).hexdigest()


def size_words(size: int) -> str:
    """A size as a reader reads it: KB below a megabyte, MB (one decimal) above."""
    if size < MB:
        return f"{max(1, round(size / 1024))} KB" if size else "0 KB"
    return f"{size / MB:.1f} MB"


def check_file(
    name: str,
    data: bytes,
    allowed: Sequence[str],
    max_bytes: int = DEFAULT_MAX_MB * MB,
    document: Text | str = "",
) -> Checked:
    """``data`` (uploaded as ``name``) as a document of one of the ``allowed`` kinds, or
    InvalidInput with the one sentence that says what is wrong with it."""
    problem = _problem(name, data, allowed, max_bytes, document)
    if problem is not None:
        raise InvalidInput(Msg("file"), [problem])
    kind = KINDS[sniff(data) or ""]
    return Checked(kind, len(data), digest(data))


def sniff(data: bytes) -> str | None:
    """The kind ``data`` is by its first bytes (a zip: by its content-types part); None if none.
    Assumes a zip has passed :func:`zip_problem`."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                return _office_kind(_content_types(z))
        except (zipfile.BadZipFile, OSError, KeyError, ValueError):
            return None
    return None


def _problem(name: str, data: bytes, allowed: Sequence[str], max_bytes: int, document: Text | str) -> Msg | None:
    if not data:
        return Msg("{name} is empty", name=name)
    if len(data) > max_bytes:
        return Msg(
            "{name} is {size}; a document may be at most {limit}",
            name=name,
            size=size_words(len(data)),
            limit=size_words(max_bytes),
        )
    if data.startswith(_PROGRAMS):
        return Msg("{name} is a program, not a document; it is refused", name=name)
    if data.startswith(_OLE2):
        return Msg(
            "{name} is an old-format Office file (.doc, .xls), which may hide macros; save it as DOCX, XLSX or PDF",
            name=name,
        )
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        found = zip_problem(name, data)
        if found is not None:
            return found
    kind = sniff(data)
    takes = Joined([KINDS[k].words() for k in allowed if k in KINDS], ", ")
    if kind is None:
        return Msg("{name} is not a file of a type accepted here ({types})", name=name, types=takes)
    if kind not in allowed:
        return Msg(
            "{name} is {kind}; {document} takes only {types}",
            name=name,
            kind=KINDS[kind].words(),
            document=document or Msg("this document"),
            types=takes,
        )
    return None


def zip_problem(name: str, data: bytes) -> Msg | None:
    """What is wrong with a zip (an Office file) before anything of it is unpacked: too many
    entries, too large or too compressed unpacked (a zip bomb, from the central directory's
    sizes), a macro part, or not a document at all."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            entries = z.infolist()
            if len(entries) > MAX_ENTRIES:
                return Msg(
                    "{name} holds {count} packed files, more than the {limit} a document may; it is refused",
                    name=name,
                    count=len(entries),
                    limit=MAX_ENTRIES,
                )
            unpacked = sum(e.file_size for e in entries)
            packed = max(1, sum(e.compress_size for e in entries))
            if unpacked > MAX_UNZIPPED or (unpacked > MB and unpacked / packed > MAX_RATIO):
                return Msg(
                    "{name} would unpack to {size} from {packed} (a zip bomb); it is refused",
                    name=name,
                    size=size_words(unpacked),
                    packed=size_words(len(data)),
                )
            if any(e.filename.rsplit("/", 1)[-1].lower() == "vbaproject.bin" for e in entries):
                return _macro(name)
            types = _content_types(z)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return Msg("{name} is a damaged or unreadable zip file", name=name)
    if "macroenabled" in types.lower() or "vbaproject" in types.lower():
        return _macro(name)
    return None


def _macro(name: str) -> Msg:
    return Msg("{name} contains macros (VBA code); save it without macros (DOCX, XLSX) or as PDF", name=name)


def _content_types(z: zipfile.ZipFile) -> str:
    """The text of a zip's ``[Content_Types].xml`` (KeyError when it has none; ValueError when
    it is too large to be one)."""
    info = z.getinfo(_CONTENT_TYPES)
    if info.file_size > _CONTENT_TYPES_MAX:
        raise ValueError("content types too large")
    return z.read(info).decode("utf-8", "replace")


def _office_kind(types: str) -> str | None:
    """DOCX or XLSX by the main part its content types declare (None: neither, or a macro one)."""
    lowered = types.lower()
    for content_type, kind in _MAIN_PARTS.items():
        if f'contenttype="{content_type}"' in lowered:
            return kind
    return None


def safe_name(name: str) -> str:
    """A file name as uploaded, without any folder a browser or client sent with it, nor
    control characters; at most 200 characters (its suffix kept)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    if len(base) > 200:
        stem, dot, suffix = base.rpartition(".")
        base = (stem[:190] + dot + suffix[:9]) if dot and len(suffix) < 10 else base[:200]
    return base or "file"
