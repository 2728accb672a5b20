"""An XLSX workbook written as its rows come: each sheet's XML goes straight into the zip file
(deflated as it is written), so that a sheet of 100,000 rows and 50 columns is never in memory.

What it writes is what the report wrote with openpyxl: a bold header row, frozen below it, every
column 18 wide; numbers as numbers; every text as a text cell (inline, never a formula, whatever
it starts with), a carriage return as OOXML's ``_x000D_`` escape (XML readers would turn a raw CR
into LF) and the other control characters XML cannot hold likewise.

Why not a library's streaming mode: on 20,000 rows of the score matrix's shape (49 cells each),
in one run, XlsxWriter's ``constant_memory`` took 6 × as long as this module (9.05 s against
1.44 s) and openpyxl's write-only mode 14 × (20.2 s), and the report of 100,000 projects is
5 million cells, to be written within 20 s (issue 25)."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import quoteattr

WIDTH = 18
_FLUSH = 1 << 20  # characters of XML gathered before they are written to the zip file

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# the characters XML 1.0 cannot hold (and CR, which it would read as LF) as _xHHHH_
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\ufffe\uffff]")
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _escaped(text: str) -> str:
    text = text.translate(_TEXT)
    if _CONTROL.search(text):
        text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    return text


class _Columns:
    """Each column's letters, made once for the widest row seen."""

    def __init__(self) -> None:
        self.letters: list[str] = []

    def __call__(self, n: int) -> list[str]:
        from openpyxl.utils.cell import get_column_letter  # (1 → A, 27 → AA)

        while len(self.letters) < n:
            self.letters.append(get_column_letter(len(self.letters) + 1))
        return self.letters


def _cells(number: int, values: Sequence[Any], letters: list[str], style: str = "") -> str:
    """One row's XML (None: no cell)."""
    out = [f'<row r="{number}">']
    for letter, value in zip(letters, values, strict=False):
        kind = type(value)
        if value is None:
            continue
        if kind is int or kind is float:
            out.append(f'<c r="{letter}{number}"{style}><v>{value!r}</v></c>')
        elif kind is str:
            out.append(
                f'<c r="{letter}{number}"{style} t="inlineStr"><is><t xml:space="preserve">'
                f"{_escaped(value)}</t></is></c>"
            )
        elif kind is bool:
            out.append(f'<c r="{letter}{number}"{style} t="b"><v>{int(value)}</v></c>')
        else:
            out.append(_other(letter, number, value, style))
    out.append("</row>")
    return "".join(out)


def _other(letter: str, number: int, value: Any, style: str) -> str:
    """A value of another kind: a number kind as a number, a list as its items joined with 、,
    an instant or a date as its ISO text, anything else as its text."""
    if isinstance(value, bool):
        return f'<c r="{letter}{number}"{style} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{letter}{number}"{style}><v>{value!r}</v></c>'
    if isinstance(value, list | tuple):
        value = "、".join(str(v) for v in value)
    elif isinstance(value, datetime | date):
        value = value.isoformat()
    text = _escaped(str(value))
    return f'<c r="{letter}{number}"{style} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _widths(n: int) -> str:
    """Every column ``WIDTH`` wide, one <col> each (as openpyxl wrote them: readers see each)."""
    if not n:
        return ""
    each = "".join(f'<col min="{i}" max="{i}" width="{WIDTH}" customWidth="1"/>' for i in range(1, n + 1))
    return f"<cols>{each}</cols>"


def _sheet(
    out: IO[bytes],
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    columns: _Columns,
    pictures: Callable[[], list[bytes]] | None = None,
) -> list[bytes]:
    """Write one sheet; ``pictures`` (asked once its rows are written: they may be drawn from what
    the rows gathered) are PNGs it shows beside its table, their drawing named here and written
    by the caller. Returns them."""
    out.write(
        (
            f'{_HEAD}<worksheet xmlns="{_NS}" xmlns:r="{_REL}"><sheetViews><sheetView workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
            + _widths(len(header))
            + "<sheetData>"
            + _cells(1, list(header), columns(len(header)), ' s="1"')
        ).encode()
    )
    buffered: list[str] = []
    size = 0
    for number, row in enumerate(rows, start=2):
        xml = _cells(number, row, columns(len(row)))
        buffered.append(xml)
        size += len(xml)
        if size >= _FLUSH:
            out.write("".join(buffered).encode())
            buffered, size = [], 0
    shown = pictures() if pictures is not None else []
    drawing = '<drawing r:id="rId1"/>' if shown else ""  # (after sheetData, as the schema orders it)
    out.write(("".join(buffered) + "</sheetData>" + drawing + "</worksheet>").encode())
    return shown


def _png_size(png: bytes) -> tuple[int, int]:
    """A PNG's width and height in pixels, from its header."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


_XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"


def _drawing(pngs: Sequence[bytes], first_column: int) -> str:
    """A sheet's drawing: each picture at its own size, one below the other, beside the table
    (``first_column``, counted from 0), the first at the top."""
    emu = 9525  # (English metric units a pixel, at 96 pixels an inch)
    anchors = []
    row = 1
    for k, png in enumerate(pngs, start=1):
        width, height = _png_size(png)
        cx, cy = width * emu, height * emu
        anchors.append(
            f"<xdr:oneCellAnchor><xdr:from><xdr:col>{first_column}</xdr:col><xdr:colOff>0</xdr:colOff>"
            f'<xdr:row>{row}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:ext cx="{cx}" cy="{cy}"/>'
            f'<xdr:pic><xdr:nvPicPr><xdr:cNvPr id="{k + 1}" name="chart {k}"/><xdr:cNvPicPr>'
            '<a:picLocks noChangeAspect="1"/></xdr:cNvPicPr></xdr:nvPicPr>'
            f'<xdr:blipFill><a:blip r:embed="rId{k}"/><a:stretch><a:fillRect/></a:stretch></xdr:blipFill>'
            f'<xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
            '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:pic><xdr:clientData/>'
            "</xdr:oneCellAnchor>"
        )
        row += -(-height // 20) + 1  # (rows of 15 points, 20 pixels each, and one between)
    return f'{_HEAD}<xdr:wsDr xmlns:xdr="{_XDR}" xmlns:a="{_A}" xmlns:r="{_REL}">' + "".join(anchors) + "</xdr:wsDr>"


_STYLES = (
    f'{_HEAD}<styleSheet xmlns="{_NS}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)


def write_xlsx_stream(path: Path, sheets: Iterable[tuple[Any, ...]], level: int = 1) -> None:
    """Write sheets of (name, header, rows) or (name, header, rows, pictures), each sheet's rows
    read once, as they are written; ``pictures``: a callable giving PNGs to show beside the
    table, asked when its rows are written. ``level``: the deflate level (1: the XML of a large
    sheet compresses about as well at a fraction of the time of the default 6)."""
    names: list[str] = []
    drawings: list[int] = []  # the sheets (numbered from 1) that have a drawing
    media = 0
    columns = _Columns()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, header, rows, *more in sheets:
            names.append(name[:31])
            number = len(names)
            with z.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=True) as out:
                pngs = _sheet(out, header, rows, columns, more[0] if more else None)
            if not pngs:
                continue
            drawings.append(number)
            k = len(drawings)
            z.writestr(
                f"xl/worksheets/_rels/sheet{number}.xml.rels",
                f'{_HEAD}<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="{_REL}/drawing"'
                f' Target="../drawings/drawing{k}.xml"/></Relationships>',
            )
            z.writestr(f"xl/drawings/drawing{k}.xml", _drawing(pngs, len(header) + 1))
            targets = []
            for i, png in enumerate(pngs, start=1):
                media += 1
                z.writestr(f"xl/media/image{media}.png", png, compress_type=zipfile.ZIP_STORED)
                targets.append(f'<Relationship Id="rId{i}" Type="{_REL}/image" Target="../media/image{media}.png"/>')
            z.writestr(
                f"xl/drawings/_rels/drawing{k}.xml.rels",
                f'{_HEAD}<Relationships xmlns="{_PKG}">' + "".join(targets) + "</Relationships>",
            )
        n = len(names)
        pictures = ('<Default Extension="png" ContentType="image/png"/>' if media else "") + "".join(
            f'<Override PartName="/xl/drawings/drawing{k}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.drawing+xml"/>'
            for k in range(1, len(drawings) + 1)
        )
        z.writestr(
            "[Content_Types].xml",
            f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            + pictures
            + '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            + "".join(
                f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                for i in range(1, n + 1)
            )
            + "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            f'{_HEAD}<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'{_HEAD}<workbook xmlns="{_NS}" xmlns:r="{_REL}"><bookViews><workbookView/></bookViews><sheets>'
            + "".join(
                f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>' for i, name in enumerate(names, start=1)
            )
            + "</sheets></workbook>",
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'{_HEAD}<Relationships xmlns="{_PKG}">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, n + 1)
            )
            + f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>',
        )
        z.writestr("xl/styles.xml", _STYLES)
