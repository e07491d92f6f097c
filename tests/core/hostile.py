"""Hostile uploads any channel must refuse, built from a genuine workbook of that channel.

structural(good, sheet, rows=..., columns=..., ...) → {name: () → bytes}: the file-type, zip, macro,
DTD, size and shape attacks; the tests hold the exact message each must give."""

from __future__ import annotations

import io
import zipfile

from defusedxml import ElementTree as DET
from xlsxwriter.utility import xl_col_to_name

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol9 "&lol3;&lol3;&lol3;">]>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets>&lol9;</sheets></workbook>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x>&xxe;</x></styleSheet>"""
MAIN = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def rezip(data: bytes, *, replace=None, add=None, drop=()) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            if info.filename in drop:
                continue
            z.writestr(info.filename, (replace or {}).get(info.filename, src.read(info.filename)))
        for name, content in (add or {}).items():
            z.writestr(name, content)
    return out.getvalue()


def sheet_part(data: bytes, sheet: str) -> str:
    z = zipfile.ZipFile(io.BytesIO(data))
    book = DET.fromstring(z.read("xl/workbook.xml"))
    rels = DET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", _NS)}
    for s in book.iterfind("m:sheets/m:sheet", _NS):
        if s.get("name") == sheet:
            target = targets[s.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")]
            return target.lstrip("/") if target.startswith("/") else "xl/" + target
    raise KeyError(sheet)


def inject(data: bytes, sheet: str, xml: bytes) -> bytes:
    """`xml` (rows) added at the end of the sheet's data."""
    part = sheet_part(data, sheet)
    content = zipfile.ZipFile(io.BytesIO(data)).read(part)
    if b"<sheetData/>" in content:
        content = content.replace(b"<sheetData/>", b"<sheetData>" + xml + b"</sheetData>")
    else:
        content = content.replace(b"</sheetData>", xml + b"</sheetData>")
    return rezip(data, replace={part: content})


def ods() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>")
        z.writestr("META-INF/manifest.xml", "<manifest/>")
    return out.getvalue()


def structural(good: bytes, sheet: str, *, rows: int, columns: int, max_bytes: int, expanded: int) -> dict:
    """Hostile variants of `good` for a channel whose limits are given; `sheet` is the sheet it reads."""

    def content_types():
        return zipfile.ZipFile(io.BytesIO(good)).read("[Content_Types].xml")

    far_column = xl_col_to_name(columns)  # the first column beyond the limit, e.g. AE for 30
    return {
        "empty": lambda: b"",
        "xls-renamed": lambda: OLE + b"\x00" * 504 + "Workbook".encode("utf-16-le") + b"\x00" * 2000,
        "encrypted": lambda: (
            OLE
            + b"\x00" * 504
            + "EncryptionInfo".encode("utf-16-le")
            + b"\x00" * 64
            + "EncryptedPackage".encode("utf-16-le")
            + b"\x00" * 2000
        ),
        "ods-renamed": lambda: ods(),
        "csv-renamed": lambda: "统一社会信用代码,机构名称\n91510100MA61234567,成都某担保\n".encode(),
        "gbk-csv-renamed": lambda: "统一社会信用代码,机构名称\n91510100MA61234567,成都某担保\n".encode("gbk"),
        "pdf-renamed": lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n",
        "random-bytes": lambda: bytes(range(256)) * 64,
        "over-bytes": lambda: b"PK\x03\x04" + b"\x00" * (max_bytes - 3),
        "truncated": lambda: good[: len(good) // 2],
        "truncated-tail": lambda: good[:-200],
        "no-content-types": lambda: rezip(good, drop=["[Content_Types].xml"]),
        "broken-xml": lambda: rezip(good, replace={"xl/workbook.xml": b"<workbook><sheets><sheet name='x'"}),
        "zip-bomb-total": lambda: rezip(good, add={"xl/media/bomb.bin": b"\x00" * (expanded + 1)}),
        "zip-bomb-ratio": lambda: rezip(good, add={"xl/media/ratio.bin": b"\x00" * (5 * 1024 * 1024)}),
        "too-many-entries": lambda: rezip(good, add={f"xl/media/x{i}.bin": b"x" for i in range(150)}),
        "path-traversal": lambda: rezip(good, add={"../../evil.sh": b"rm -rf /"}),
        "macro-vba": lambda: rezip(good, add={"xl/vbaProject.bin": OLE + b"\x00" * 100}),
        "macro-content-type": lambda: rezip(
            good,
            replace={
                "[Content_Types].xml": content_types().replace(
                    MAIN, b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"
                )
            },
        ),
        "billion-laughs": lambda: rezip(good, replace={"xl/workbook.xml": BILLION_LAUGHS}),
        "xxe": lambda: rezip(good, replace={"xl/styles.xml": XXE}),
        "rows-over": lambda: inject(
            good, sheet, f'<row r="{rows + 1}"><c r="A{rows + 1}"><v>1</v></c></row>'.encode()
        ),
        "far-cell": lambda: inject(good, sheet, b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'),
        "columns-over": lambda: inject(
            good, sheet, f'<row r="{rows}"><c r="{far_column}{rows}"><v>1</v></c></row>'.encode()
        ),
        # cells without references: the parser places each after the one before
        "implicit-rows-over": lambda: inject(good, sheet, b"<row><c><v>1</v></c></row>" * (rows + 1)),
        "implicit-columns-over": lambda: inject(
            good, sheet, f'<row r="{rows}">'.encode() + b"<c><v>1</v></c>" * (columns + 1) + b"</row>"
        ),
    }
