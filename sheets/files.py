"""Reading tables from the files administrators have: XLSX, CSV (UTF-8 with or without BOM,
GB18030/GBK, UTF-16) and JSON; writing XLSX and CSV safely.

Safety first: an input file is refused when it is too large, carries macros, or unpacks into far
more than it weighs (a zip bomb); openpyxl parses XML with defusedxml (installed with evalflow),
so entity tricks ("billion laughs") are refused too. A cell that holds a formula is refused:
evalflow never evaluates one, and a formula's last cached value may be stale. On export, a text
that a spreadsheet would take for a formula (it starts with = + - @, a tab or a carriage return)
is written as text.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from i18n import Msg
from workflow.errors import InvalidInput, os_reason
from workflow.inputs import max_import_rows, rows_limit_message

MAX_IMPORT_MB = 50  # EVALFLOW_MAX_IMPORT_MB overrides
MAX_UNPACKED_RATIO = 100  # an XLSX may unpack to at most this many times its size
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MACRO_PARTS = ("vbaProject.bin", "vbaProjectSignature.bin")
MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlsb", ".xls")


@dataclass
class Table:
    """One sheet of an input file: its header and its rows (each with its row number in the file)."""

    name: str
    header: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """Rows as {header: value}, skipping rows that are entirely empty."""
        for number, row in self.rows:
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                continue
            padded = list(row) + [None] * (len(self.header) - len(row))
            yield number, {h: v for h, v in zip(self.header, padded, strict=False) if h}


class Formula(str):
    """The text of a formula found in an input cell (refused by the readers of tables)."""


def max_import_bytes() -> int:
    try:
        mb = float(os.environ.get("EVALFLOW_MAX_IMPORT_MB", MAX_IMPORT_MB))
    except ValueError:
        mb = MAX_IMPORT_MB
    return int(mb * 1024 * 1024)


class Label(Msg):
    """A row's label: a message read in the reader's language (申报表 第5行) that equals its
    English text (申报表 row 5), which the engine's callers, scripts and tests key on."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.render("en") == other
        return super().__eq__(other)

    def __hash__(self) -> int:
        return hash(self.render("en"))  # (equal to its English text, so hashed as it)


def label(message: Msg) -> Label:
    """``message`` as a row's label (see :class:`Label`)."""
    return Label(message.id, **message.params)


def _file(path: Path) -> Msg:
    """What a refusal names: the file."""
    return Msg("file {file}", file=str(path))


def _check_size(path: Path) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InvalidInput(_file(path), [Msg("cannot be read: {why}", why=os_reason(exc))]) from None
    too_large(path, size)


def too_large(path: Path, size: int) -> None:
    limit = max_import_bytes()
    if size > limit:
        raise InvalidInput(
            _file(path),
            [
                Msg(
                    "it is {size} MB; the limit is {limit} MB (split it, or set EVALFLOW_MAX_IMPORT_MB)",
                    size=_mb(size),
                    limit=_mb(limit),
                )
            ],
        )


def _mb(size: int) -> str:
    mb = size / 1024 / 1024
    return f"{mb:.1f}" if mb >= 0.1 else f"{mb:.2g}"


def read_tables(path: Path) -> list[Table]:
    """Every sheet of an XLSX file, or the one table of a CSV file, with the first row as header."""
    path = Path(path)
    _check_size(path)
    suffix = path.suffix.lower()
    if suffix in MACRO_SUFFIXES:
        raise InvalidInput(
            _file(path),
            [Msg("{suffix} files are not accepted (macros or old formats); save it as .xlsx or .csv", suffix=suffix)],
        )
    if suffix == ".xlsx":
        return _read_xlsx(path)
    if suffix in (".csv", ".txt"):
        return [_read_csv(path)]
    raise InvalidInput(
        _file(path), [Msg("unknown kind {suffix}; use .xlsx, .csv or .json", suffix=suffix or Msg("(no suffix)"))]
    )


def _read_xlsx(path: Path) -> list[Table]:
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError):
        raise InvalidInput(_file(path), [Msg("not a valid .xlsx file (is it an old .xls? save it as .xlsx)")]) from None
    names = [i.filename for i in infos]
    if any(n.rsplit("/", 1)[-1] in MACRO_PARTS for n in names):
        raise InvalidInput(_file(path), [Msg("it contains macros (vbaProject.bin); save it without macros as .xlsx")])
    unpacked = sum(i.file_size for i in infos)
    limit = max(path.stat().st_size * MAX_UNPACKED_RATIO, 10 * 1024 * 1024)
    if unpacked > limit:
        raise InvalidInput(
            _file(path),
            [
                Msg(
                    "it unpacks to {unpacked:.0f} MB from {packed:.0f} KB; refused as unsafe",
                    unpacked=unpacked / 1024 / 1024,
                    packed=path.stat().st_size / 1024,
                )
            ],
        )
    formulas = _scan_xml(path, names)
    if not formulas:
        return _read_xlsx_fast(path)
    return _read_xlsx_openpyxl(path)


_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def _scan_xml(path: Path, names: list[str]) -> bool:
    """Refuse XML with document type or entity declarations (never in a genuine XLSX; the way to
    an "XML bomb"), whichever parser reads it later. Returns whether any sheet holds a formula."""
    formulas = False
    limit = max_import_rows()
    with zipfile.ZipFile(path) as z:
        for name in names:
            if not name.endswith((".xml", ".rels", ".vml")):
                continue
            tail = b""
            rows = 0  # rows with cells in a sheet, counted as the XML streams by: refused before parsing
            sheet = name.startswith("xl/worksheets/")
            with z.open(name) as f:
                while chunk := f.read(1 << 20):
                    block = tail + chunk
                    if sheet:
                        rows += block.count(b"</row>") - tail.count(b"</row>")
                        if rows > limit + 1:  # (the header row besides)
                            raise InvalidInput(_file(path), [rows_limit_message(limit)])
                    if _DECLARATION.search(block):
                        raise InvalidInput(
                            _file(path),
                            [Msg("{part} declares XML entities (an XML bomb?); refused as unsafe", part=name)],
                        )
                    if _FORMULA.search(block):  # any part: a sheet may live anywhere its relationships say
                        formulas = True
                    tail = chunk[-64:]
    return formulas


def _read_xlsx_fast(path: Path) -> list[Table]:
    """Read with calamine (Rust; about ten times faster than openpyxl on big imports). Used when
    no sheet holds a formula, so every value read is a value typed in."""
    from python_calamine import CalamineWorkbook

    limit = max_import_rows()
    try:
        wb = CalamineWorkbook.from_path(str(path))
        tables = []
        for name in wb.sheet_names:
            rows = iter(wb.get_sheet_by_name(name).iter_rows())  # one row at a time, never the whole list
            first = next(rows, None)
            if not first:
                tables.append(Table(name, []))
                continue
            table = Table(name, [_header(v) for v in first])
            for number, row in enumerate(rows, start=2):
                values = [None if v == "" else v for v in row]
                _keep(table, number, values, limit, path)
            tables.append(table)
    except InvalidInput:
        raise
    except Exception as exc:  # calamine raises its own kinds for broken files
        raise InvalidInput(_file(path), [Msg("cannot be read as .xlsx: {why}", why=_one_line(exc))]) from None
    return tables


def _read_xlsx_openpyxl(path: Path) -> list[Table]:
    """Read with openpyxl (XML parsed by defusedxml), which tells formula cells apart."""
    import openpyxl  # lazily: the command line stays quick
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:  # pragma: no cover - defusedxml is a dependency
        raise InvalidInput(_file(path), [Msg("defusedxml is not installed; evalflow will not parse untrusted XLSX")])
    tables: list[Table] = []
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
        try:
            for ws in wb.worksheets:
                rows = ws.iter_rows()
                header_cells = next(rows, None)
                if header_cells is None:
                    tables.append(Table(ws.title, []))
                    continue
                table = Table(ws.title, [_header(c.value) for c in header_cells])
                for number, cells in enumerate(rows, start=2):
                    values = []
                    for c in cells:
                        v = c.value
                        if getattr(c, "data_type", None) == "f":
                            v = Formula(str(v))
                        values.append(v)
                    _keep(table, number, values, max_import_rows(), path)
                tables.append(table)
        finally:
            wb.close()
    except InvalidInput:
        raise
    except Exception as exc:  # openpyxl raises many kinds for broken or hostile files
        raise InvalidInput(_file(path), [Msg("cannot be read as .xlsx: {why}", why=_one_line(exc))]) from None
    return tables


def _blank_row(values: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _keep(table: Table, number: int, values: list[Any], limit: int, path: Path) -> None:
    """Add a row read from a file to ``table``; refuse the file as soon as a row with content lies
    beyond the row limit (the header is row 1), before anything more is read. Blank rows are not
    kept (every reader skips them), so a file of empty rows takes no memory either."""
    if _blank_row(values):
        return
    if number > limit + 1:
        raise InvalidInput(_file(path), [rows_limit_message(limit)])
    table.rows.append((number, values))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}"


def _header(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def decode_text(raw: bytes, what: Any) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, or GB18030 (which includes GBK and GB2312)."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise InvalidInput(what, [Msg("it starts like UTF-16 text but is not")]) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise InvalidInput(what, [Msg("its text is neither UTF-8 nor GB18030/GBK; save it as UTF-8 CSV")]) from None


def text_encoding(path: Path, what: Any) -> str:
    """The encoding :func:`decode_text` would read the file in, found by reading it in pieces
    (never whole): ``utf-8-sig``, ``utf-16`` or ``gb18030``; or InvalidInput as decode_text says."""
    with open(path, "rb") as f:
        head = f.read(4)
        candidates: tuple[str, ...] = ("utf-8", "gb18030")
        if head.startswith(codecs.BOM_UTF8):
            candidates = ("utf-8-sig",)
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            candidates = ("utf-16",)
        for encoding in candidates:
            f.seek(0)
            decoder = codecs.getincrementaldecoder(encoding)()
            try:
                while chunk := f.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
                return encoding
            except UnicodeDecodeError:
                continue
    if candidates == ("utf-16",):
        raise InvalidInput(what, [Msg("it starts like UTF-16 text but is not")])
    if candidates == ("utf-8-sig",):
        raise InvalidInput(what, [Msg("not UTF-8 text")])
    raise InvalidInput(what, [Msg("its text is neither UTF-8 nor GB18030/GBK; save it as UTF-8 CSV")])


def _read_csv(path: Path) -> Table:
    """One table; rows are numbered as a spreadsheet shows them (the header is row 1), whatever
    line breaks a cell holds. Only the delimiter is guessed; quoting is the standard one. The file
    is read as a stream, row by row, and refused at the first row beyond the row limit."""
    limit = max_import_rows()
    number = 1
    try:
        encoding = text_encoding(path, _file(path))
        with open(path, encoding=encoding, newline="", errors="strict") as f:
            try:
                delimiter = csv.Sniffer().sniff(f.read(4096), delimiters=",;\t").delimiter
            except csv.Error:
                delimiter = ","
            f.seek(0)
            reader = csv.reader(f, delimiter=delimiter, doublequote=True, quotechar='"')
            header = [_header(h) for h in next(reader, [])]
            table = Table(path.stem, header)
            for number, row in enumerate(reader, start=2):
                _keep(table, number, [_unescape(v) for v in row], limit, path)
    except csv.Error as exc:
        raise InvalidInput(
            _file(path), [Msg("{where}: {why}", where=Msg("row {n}", n=number + 1), why=str(exc))]
        ) from None
    except OSError as exc:
        raise InvalidInput(_file(path), [Msg("cannot be read: {why}", why=os_reason(exc))]) from None
    return table


def _unescape(value: str) -> str | None:
    """A CSV cell as its text; evalflow's own escape (a leading ' before = + - @) is undone."""
    if value == "":
        return None
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_START:
        return value[1:]
    return value


# ------------------------------------------------------------------------------------------ writing
def safe_text(value: Any) -> Any:
    """A value as it may go into a CSV cell: text a spreadsheet would run as a formula gets a
    leading apostrophe, which spreadsheets show as text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_xlsx(
    path: Path, sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]], widths: int = 18
) -> None:
    """Write sheets of (name, header, rows). Every text is stored as a text cell, never a formula."""
    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, header, rows in sheets:
        ws = wb.create_sheet(title=name[:31])
        ws.append(list(header))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([_cell(v) for v in row])
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                    cell.data_type = "s"  # a text that looks like a formula stays text
                if isinstance(cell.value, str) and "\r" in cell.value:
                    # XML readers turn a raw CR into LF; the OOXML escape keeps it as written
                    cell.value = cell.value.replace("\r", "_x000D_")
                    cell.data_type = "s"
        for i in range(1, len(header) + 1):
            ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width = widths
        ws.freeze_panes = "A2"
    wb.save(path)


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date | int | float | str) or value is None:
        return value
    return str(value)


def csv_value(value: Any) -> Any:
    """A cell as ``write_csv`` gives it to the csv writer: a number or nothing as it is, a text
    escaped where it looks like a formula, anything else as text."""
    if value is None or type(value) is int:
        return value
    if type(value) is str:
        return "'" + value if value.startswith(FORMULA_START) else value
    return safe_text(_cell(value))


_CSV_QUOTED = re.compile('[,"\r\n]')


def csv_field(value: Any) -> str:
    """A cell as ``write_csv`` writes it between its commas (the csv module's excel dialect,
    quoting only where needed): for a writer that joins a row's fields itself, some of them
    written once for many rows."""
    value = csv_value(value)
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    if _CSV_QUOTED.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """UTF-8 with a BOM (so that Excel opens Chinese text correctly); formula-looking text escaped."""
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(header))
        for row in rows:
            # (a number or nothing goes in as it is, a text is only looked at for a formula's start)
            w.writerow(
                [
                    v
                    if v is None or type(v) is int
                    else ("'" + v if v.startswith(FORMULA_START) else v)
                    if type(v) is str
                    else safe_text(_cell(v))
                    for v in row
                ]
            )
