"""Spreadsheets in and out: the one guarded reader every upload goes through and the one formula-safe
writer every xlsx/CSV export goes through.

Reading — `read_upload(upload, channel=..., sheets=[...])`. Limits come per channel from
`settings.UPLOAD_LIMITS` (bytes, rows, columns, zip entries, expanded bytes, compression ratio, whether
CSV is accepted). Everything that can cost memory or time is checked on the raw bytes before a parser
sees them: the byte size; what the file really is (a legacy .xls, an encrypted workbook, a PDF, an .ods,
an .xlsb, a renamed CSV or random bytes are named as such and refused); the zip directory (entry count,
total uncompressed size, compression ratio per entry, entry names); macros (vbaProject.bin, macro-enabled
content types); DTDs and entities in every XML part; and, streaming through each worksheet's XML, the last
row and column it addresses (one far cell such as XFD1048576 makes the parser allocate the whole
rectangle: a 4 KB file that aborts the process) and cells holding formulas. Only then python-calamine
reads the values. Every problem names sheet, row and column where it has them, in Chinese and English.

Writing — `Table` (sheet name, header, rows), `xlsx_bytes`, `csv_text` and `export_response`. A string
is always written as text: in xlsx with write_string (never a formula), in CSV prefixed with a single
quote when it begins with = + - @ tab or CR. Numbers (Decimal, int, float) stay numbers, negative ones
included; dates stay dates.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import PurePosixPath
from typing import TypeVar

import xlsxwriter
from defusedxml import ElementTree as DET
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext, gettext_lazy
from python_calamine import CalamineWorkbook
from xlsxwriter.utility import xl_col_to_name

from .exceptions import AppError, Text, deferred

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {
    ".xlsx": XLSX_CONTENT_TYPE,
    ".csv": "text/csv; charset=utf-8",
}
# Options for every xlsxwriter workbook: a string is never turned into a formula, a link or a number.
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MIB = 1024 * 1024

CellValue = str | int | float | bool | dt.date | dt.datetime | dt.time | dt.timedelta
Value = str | int | float | Decimal | bool | dt.date | dt.datetime | None
View = TypeVar("View", bound=Callable)


# ================================================================================================ problems
@dataclass(frozen=True)
class UploadProblem:
    """One problem with an upload: `text` is a deferred message (core.exceptions.deferred), so the
    problem reads in the language of whoever is shown it; `message` leads with where it is."""

    text: Text
    sheet: str = ""
    row: int | None = None
    column: str = ""  # letter(s)

    @property
    def cell(self) -> str:
        return f"{self.column}{self.row}" if self.column and self.row else ""

    @property
    def message(self) -> str:
        where = {"sheet": self.sheet, "row": self.row, "column": self.column, "text": self.text}
        if self.sheet and self.row and self.column:
            return gettext("工作表「%(sheet)s」第%(row)s行 %(column)s列：%(text)s") % where
        if self.sheet and self.row:
            return gettext("工作表「%(sheet)s」第%(row)s行：%(text)s") % where
        return gettext("工作表「%(sheet)s」：%(text)s") % where if self.sheet else str(self.text)

    @property
    def message_zh(self) -> str:
        with translation.override("zh-hans"):
            return self.message

    @property
    def message_en(self) -> str:
        with translation.override("en"):
            return self.message

    def __str__(self) -> str:
        return self.message


class UploadRejected(AppError):
    """The upload cannot be read; nothing was parsed or stored. `problems` names each; through the API
    the body's `errors` has them under "file"."""

    def __init__(self, problems: list[UploadProblem]) -> None:
        super().__init__(str(problems[0]), errors={"file": [str(p) for p in problems]})
        self.problems = problems


def _reject(text: Text, **where: object) -> UploadRejected:
    return UploadRejected([UploadProblem(text, **where)])


def column_letter(index: int) -> str:
    """0-based column index → Excel letters (0 → A)."""
    return xl_col_to_name(index)


def not_a_template_column(label: str, *, sheet: str, row: int, index: int) -> UploadProblem:
    """A header cell naming no column of the template: refused, not ignored (what a column the template
    does not have holds would otherwise be dropped unseen)."""
    return UploadProblem(
        deferred(gettext_lazy("表头“%(label)s”不是本模板的列（请使用下载的模板）"), label=label),
        sheet=sheet,
        row=row,
        column=column_letter(index),
    )


# ================================================================================================ limits
@dataclass(frozen=True)
class Limits:
    bytes: int
    rows: int  # last row a sheet may address (header included)
    columns: int
    entries: int = 100  # zip entries
    expanded_bytes: int = 30 * MIB  # total uncompressed size of the zip entries
    ratio: int = 100  # uncompressed ÷ compressed, for entries above 1 MiB
    csv: bool = False  # the channel also accepts CSV (UTF-8, UTF-8 with BOM, GBK/GB18030)


def limits_for(channel: str) -> Limits:
    try:
        return Limits(**settings.UPLOAD_LIMITS[channel])
    except (KeyError, TypeError) as exc:
        raise ImproperlyConfigured(f"UPLOAD_LIMITS has no valid entry for channel {channel!r}") from exc


def upload_channel(channel: str) -> Callable[[View], View]:
    """Marks a view as taking uploads of `channel`: core.middleware.UploadLimitMiddleware then refuses a
    body above that channel's byte limit by its Content-Length, before anything reads it."""
    limits_for(channel)  # an unknown channel fails when the view module is imported

    def mark(view: View) -> View:
        view.upload_channel = channel
        return view

    return mark


def megabytes(n: int) -> str:
    """Bytes as MB with up to two decimals, rounded up (a size just above a limit never shows equal)."""
    return f"{-(-n * 100 // MIB) / 100:.2f}".rstrip("0").rstrip(".")


# ================================================================================================ reading
@dataclass(frozen=True, slots=True)
class Row:
    sheet: str
    number: int  # as Excel shows it, 1-based
    values: list[CellValue]

    def get(self, column: int) -> CellValue:
        return self.values[column] if column < len(self.values) else ""

    def cell(self, column: int) -> str:
        return f"{column_letter(column)}{self.number}"

    def problem(self, column: int, text: Text) -> UploadProblem:
        return UploadProblem(text, sheet=self.sheet, row=self.number, column=column_letter(column))


@dataclass(frozen=True)
class Sheet:
    """A sheet's values from A1: row n of the sheet is `values[n - 1]`; an empty cell is ""."""

    name: str
    values: list[list[CellValue]] = field(repr=False)

    def __iter__(self) -> Iterator[Row]:
        for i, values in enumerate(self.values):
            yield Row(self.name, i + 1, values)

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class SheetStream:
    """A worksheet handed over row by row (read_upload(..., stream=True)), after the same guards: `rows()`
    yields each row's values from A1 down, so a large sheet is never held as Python lists at once
    (the parser keeps its own compact copy). Row n of the sheet is the n-th item."""

    name: str
    sheet: object = field(repr=False)

    def rows(self) -> Iterator[list[CellValue]]:
        start = self.sheet.start  # (row, column) of the first used cell, 0-based; None when empty
        if start is None:
            return
        top, left = start
        for _ in range(top):
            yield []
        pad = [""] * left
        for values in self.sheet.iter_rows():
            yield pad + values if left else values

    def __iter__(self) -> Iterator[Row]:
        for i, values in enumerate(self.rows()):
            yield Row(self.name, i + 1, values)


def read_upload(
    upload: bytes | UploadedFile,
    *,
    channel: str,
    sheets: Sequence[str] | None = None,
    filename: str = "",
    stream: bool = False,
) -> dict[str, Sheet | SheetStream]:
    """The named `sheets` (all when None) that the file has, by name; a CSV (where the channel accepts
    one) is a single sheet named after the file. With `stream`, an xlsx's sheets come as SheetStream
    (rows produced one at a time; the checks before parsing are the same). Raises UploadRejected naming
    what is wrong."""
    limits = limits_for(channel)
    size = len(upload) if isinstance(upload, bytes) else upload.size
    if size == 0:
        raise _reject(gettext_lazy("文件为空"))
    if size > limits.bytes:
        raise _too_large(size, limits)
    data = upload if isinstance(upload, bytes) else upload.read()
    kind = _sniff(data)
    if kind == "zip":
        return _read_xlsx(data, limits, sheets, stream=stream)
    if kind == "text" and limits.csv:
        return _read_csv(data, limits, PurePosixPath(filename or "CSV").name)
    raise _reject(_NOT_XLSX[kind])


def _too_large(size: int, limits: Limits) -> UploadRejected:
    return _reject(
        deferred(
            gettext_lazy("文件大小 %(size)s MB，超过上限 %(limit)s MB"),
            size=megabytes(size),
            limit=megabytes(limits.bytes),
        )
    )


def precheck_upload(upload: UploadedFile, *, channel: str) -> None:
    """The checks of `read_upload` that cost next to nothing — size, kind of file, the zip directory
    (entries, uncompressed total, ratio, paths) — for a large upload about to wait for a background job
    that reads it in full: what they find is refused at once. Leaves the upload at its start."""
    limits = limits_for(channel)
    if upload.size == 0:
        raise _reject(gettext_lazy("文件为空"))
    if upload.size > limits.bytes:
        raise _too_large(upload.size, limits)
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    kind = _sniff(data)
    if kind == "text" and limits.csv:
        return
    if kind != "zip":
        raise _reject(_NOT_XLSX[kind])
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _reject(_BAD_ZIP) from exc
    _check_directory(zf, infos, limits)


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_NOT_XLSX = {
    "xls": gettext_lazy("这是旧版 Excel 97-2003（.xls）文件，请在 Excel 中另存为 .xlsx 后上传"),
    "encrypted": gettext_lazy("文件已加密（设置了打开密码），请取消密码后上传"),
    "pdf": gettext_lazy("这是 PDF 文件，不是 Excel（.xlsx）文件，请上传 .xlsx"),
    "text": gettext_lazy(
        "这是文本文件（可能是改了扩展名的 CSV），不是 Excel（.xlsx）文件；请在 Excel 中另存为 .xlsx 后上传"
    ),
    "unknown": gettext_lazy("无法识别的文件格式，不是 Excel（.xlsx）文件，请上传 .xlsx"),
}
_BAD_ZIP = gettext_lazy("文件已损坏或不完整（zip 结构无法读取）")


def _sniff(data: bytes) -> str:
    if data[:8] == OLE_MAGIC:  # an OLE compound file: a legacy .xls or an encrypted OOXML package
        if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
            return "encrypted"
        return "xls"
    if data[:4] == b"PK\x03\x04":
        return "zip"
    if data[:5] == b"%PDF-":
        return "pdf"
    head = data[:8192]
    if b"\x00" not in head:
        for encoding in ("utf-8", "gb18030"):
            try:
                codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            except UnicodeDecodeError:
                continue
            return "text"
    return "unknown"


# ------------------------------------------------------------------------------------------------ xlsx
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_REQUIRED_PARTS = ("[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels")
_XML_PARTS = (".xml", ".rels", ".vml")
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
# The tags that place cells — <sheetData>, <row>, <c> and <f> (a formula), opening or closing, with or
# without a namespace prefix; the attribute part allows quoted values that contain ">".
_TAG = re.compile(
    rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(sheetData|row|c|f)(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>"
)
_R_ATTR = re.compile(rb"""\sr\s*=\s*["']([A-Za-z]*)(\d+)["']""")
_CHUNK = 1024 * 1024
_MAX_CARRY = 4 * MIB  # a single tag longer than this is no spreadsheet
_FORMULA_CELLS_SHOWN = 20
_BROKEN = gettext_lazy("工作簿内部结构损坏，无法读取")


def _read_xlsx(
    data: bytes, limits: Limits, sheets: Sequence[str] | None, *, stream: bool = False
) -> dict[str, Sheet | SheetStream]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _reject(_BAD_ZIP) from exc
    try:
        _check_directory(zf, infos, limits)
        by_name = {i.filename: i for i in infos}
        for name in _REQUIRED_PARTS[1:]:  # before parsing them for the sheet names
            _scan_part(zf, by_name[name], name, limits, formulas=False)
        parts = _sheet_parts(zf)
        wanted = {path: name for path, name in parts.items() if sheets is None or name in sheets}
        # every other XML part and every sheet's part: a worksheet the parser might reach by another path
        # still has its cells bounded; formulas are refused in the sheets read
        for info in infos:
            if info.filename not in _REQUIRED_PARTS[1:] and (
                info.filename.endswith(_XML_PARTS) or info.filename in parts
            ):
                name = parts.get(info.filename, info.filename)
                _scan_part(zf, info, name, limits, formulas=info.filename in wanted)
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        if stream:
            return {name: SheetStream(name, book.get_sheet_by_name(name)) for name in wanted.values()}
        return {
            name: Sheet(name, book.get_sheet_by_name(name).to_python(skip_empty_area=False))
            for name in wanted.values()
        }
    except UploadRejected:
        raise
    except Exception as exc:  # zlib, CRC, XML and calamine's own errors: all a broken file to the user
        raise _reject(_BROKEN) from exc


def _check_directory(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    if len(infos) > limits.entries:
        raise _reject(
            deferred(
                gettext_lazy("压缩包条目过多（%(count)s 个，上限 %(limit)s 个）"),
                count=len(infos),
                limit=limits.entries,
            )
        )
    total = sum(i.file_size for i in infos)
    if total > limits.expanded_bytes:
        raise _reject(
            deferred(
                gettext_lazy("解压后总大小超过上限 %(limit)s MB（疑似压缩炸弹）"),
                limit=megabytes(limits.expanded_bytes),
            )
        )
    for i in infos:
        if i.file_size > MIB and i.file_size > limits.ratio * max(i.compress_size, 1):
            raise _reject(
                deferred(
                    gettext_lazy("条目 %(entry)s 的压缩比超过上限 %(ratio)s:1（疑似压缩炸弹）"),
                    entry=i.filename[:80],
                    ratio=limits.ratio,
                )
            )
        if i.filename.startswith("/") or ".." in i.filename.split("/") or "\\" in i.filename:
            raise _reject(deferred(gettext_lazy("压缩包含非法路径 %(entry)s"), entry=i.filename[:80]))
        if i.flag_bits & 0x1:
            raise _reject(gettext_lazy("压缩包条目已加密"))
    names = {i.filename for i in infos}
    if "mimetype" in names and zf.open("mimetype").read(64).startswith(b"application/vnd.oasis.opendocument"):
        raise _reject(
            gettext_lazy("这是 OpenDocument 表格（.ods）文件，请在 Excel 或 WPS 中另存为 .xlsx 后上传")
        )
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise _reject(gettext_lazy("文件包含宏（VBA），拒绝导入；请另存为不含宏的 .xlsx 后上传"))
    if "xl/workbook.bin" in names:
        raise _reject(gettext_lazy("这是 Excel 二进制工作簿（.xlsb），请另存为 .xlsx 后上传"))
    for required in _REQUIRED_PARTS:
        if required not in names:
            raise _reject(
                deferred(
                    gettext_lazy("缺少必需部件 %(part)s，不是有效的 Excel（.xlsx）工作簿"), part=required
                )
            )
    content_types = zf.open("[Content_Types].xml").read(256 * 1024)
    if b"macroEnabled" in content_types or b"vbaProject" in content_types:
        raise _reject(gettext_lazy("文件为启用宏的工作簿（.xlsm），拒绝导入；请另存为 .xlsx 后上传"))


def _dtd_problem(part: str) -> UploadRejected:
    return _reject(
        deferred(gettext_lazy("部件 %(part)s 含有 DTD/实体声明（可能是 XML 炸弹），拒绝导入"), part=part[:80])
    )


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """{worksheet part path: sheet name}, in workbook order, from workbook.xml and its relationships."""
    book = DET.fromstring(zf.read("xl/workbook.xml"), forbid_dtd=True)
    rels = DET.fromstring(zf.read("xl/_rels/workbook.xml.rels"), forbid_dtd=True)
    targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("rel:Relationship", _NS)}
    parts = {}
    for sheet in book.iterfind("m:sheets/m:sheet", _NS):
        target = targets.get(sheet.get(f"{{{_NS['r']}}}id"), "")
        path = target.lstrip("/") if target.startswith("/") else target.removeprefix("./")
        parts[path if path.startswith("xl/") else "xl/" + path] = sheet.get("name", "")
    return parts


def _scan_part(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limits: Limits, *, formulas: bool
) -> None:
    """Stream one part to its end (which also checks its CRC), refusing a DTD or entity declaration; in
    a worksheet (cells inside <sheetData>), refuse a cell beyond the row or column limit (the parser
    allocates the whole rectangle up to the farthest cell) and, with `formulas`, cells holding formulas.
    A quick pass with C-speed searches clears an ordinary part; anything unusual gets the exact scan."""
    if _plain_sheet(zf, info, limits):
        return
    scan = _CellScan(name, limits)
    for buffer, end in _xml_buffers(zf, info):
        scan.feed(buffer, end)
    if formulas and scan.formulas:
        raise UploadRejected(
            [
                UploadProblem(
                    gettext_lazy("单元格含公式；请填写数值，不要使用公式"),
                    sheet=name,
                    row=r,
                    column=column_letter(c - 1),
                )
                for r, c in scan.formulas
            ]
        )


def _xml_buffers(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[tuple[bytes, int]]:
    """The part in buffers of about _CHUNK bytes, each to be read up to `end` (its last "<", so that no
    tag is split; the rest starts the next buffer). Refuses a DTD or entity declaration."""
    carry = b""
    with zf.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            buffer = carry + chunk
            if _DTD.search(buffer):
                raise _dtd_problem(info.filename)
            end = buffer.rfind(b"<")
            if end < 0:
                end = len(buffer)
            yield buffer, end
            carry = buffer[end:]
            if len(carry) > _MAX_CARRY:
                raise _reject(_BROKEN)
    if carry:
        yield carry, len(carry)


_PREFIXED_CELL_TAG = re.compile(rb":(?:sheetData|row|c|f)[\s/>]")
_OTHER_C_TAG = re.compile(rb"<c[\w.:-]")  # <col>, <cfRule>, <customSheetView>...: tags that are not cells
_FORMULA_TAG = re.compile(rb"<f[\s/>]")


# digits → "0", letters → "A": a cell reference beyond the limits has at least as many digits or letters
# as the limit, which one bytes.find on the translated buffer tells cheaply before any regex runs
_SHAPE = bytes.maketrans(
    b"123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", b"0" * 9 + b"A" * 52
)


def _plain_sheet(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> bool:
    """True when the part is no worksheet, or every cell in it is written the usual way (`<c r="B7" ...>`,
    no namespace prefix), none lies beyond the limits and none holds a formula."""
    rows_over, columns_over, long_row, long_column = _beyond(limits.rows, limits.columns)
    worksheet = unusual = False
    for buffer, end in _xml_buffers(zf, info):
        worksheet = worksheet or buffer.find(b"sheetData", 0, end) >= 0
        if not unusual:
            cells = buffer.count(b"<c", 0, end) - len(_OTHER_C_TAG.findall(buffer, 0, end))
            shape = buffer.translate(_SHAPE)
            unusual = bool(
                cells != buffer.count(b'<c r="', 0, end)
                or _PREFIXED_CELL_TAG.search(buffer, 0, end)
                or _FORMULA_TAG.search(buffer, 0, end)
                or (shape.find(long_row, 0, end) >= 0 and rows_over.search(buffer, 0, end))
                or (shape.find(long_column, 0, end) >= 0 and columns_over.search(buffer, 0, end))
            )
        if worksheet and unusual:
            return False
    return True


@functools.lru_cache(maxsize=16)
def _beyond(rows: int, columns: int) -> tuple[re.Pattern, re.Pattern, bytes, bytes]:
    """Regexes for a cell reference beyond `rows` or `columns`, and the shapes that announce one."""
    letters = column_letter(columns - 1)
    return (
        re.compile(b'r="[A-Za-z]*0*' + _greater_than(str(rows), "0123456789") + b'"'),
        re.compile(b'r="(?i:' + _greater_than(letters, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") + b")[0-9]"),
        b"0" * len(str(rows)) + b'"',
        b'A="' + b"A" * len(letters),  # r=" itself reads A=" once translated
    )


def _greater_than(limit: str, alphabet: str) -> bytes:
    """A regex for the strings over `alphabet` that sort after `limit` as numbers do (more characters,
    or as many and greater): digits for row numbers, letters for column names."""
    first = alphabet[1] if alphabet[0] == "0" else alphabet[0]  # a number does not start with 0
    options = [f"[{first}-{alphabet[-1]}][{alphabet[0]}-{alphabet[-1]}]{{{len(limit)},}}"]
    for i, ch in enumerate(limit):
        if ch != alphabet[-1]:
            nxt = alphabet[alphabet.index(ch) + 1]
            rest = len(limit) - i - 1
            options.append(f"{limit[:i]}[{nxt}-{alphabet[-1]}][{alphabet[0]}-{alphabet[-1]}]{{{rest}}}")
    return ("(?:" + "|".join(options) + ")").encode()


class _CellScan:
    """Where the cells of one worksheet's XML are, tag by tag, inside <sheetData> only (an <xm:f> in
    the extensions after it is a data-validation source, not a cell's formula)."""

    def __init__(self, sheet: str, limits: Limits) -> None:
        self.sheet, self.limits = sheet, limits
        self.inside = False
        self.row = self.cell_row = self.col = 0
        self.formulas: list[tuple[int, int]] = []

    def feed(self, buffer: bytes, end: int) -> None:
        limits = self.limits
        for m in _TAG.finditer(buffer, 0, end):
            closing, tag = m.group(1), m.group(2)
            if tag == b"sheetData":
                self.inside = not closing and not m.group(3).rstrip().endswith(b"/")
                continue
            if not self.inside or closing:
                continue
            if tag == b"f":
                if len(self.formulas) < _FORMULA_CELLS_SHOWN:
                    self.formulas.append((self.cell_row, self.col))
                continue
            ref = _R_ATTR.search(m.group(3))
            if tag == b"row":
                self.row = int(ref.group(2)) if ref else self.row + 1
                self.col = 0
                continue
            # a cell: its own reference places it, else it follows the previous one in the row
            if ref and ref.group(1):
                self.col, self.cell_row = _column_number(ref.group(1)), int(ref.group(2))
            else:
                self.col, self.cell_row = self.col + 1, self.row
            if self.cell_row > limits.rows:
                raise _reject(_too_many_rows(limits, self.cell_row), sheet=self.sheet)
            if self.col > limits.columns:
                raise _reject(
                    deferred(
                        gettext_lazy("列数超过上限 %(limit)s（第 %(column)s 列）"),
                        limit=f"{limits.columns:,}",
                        column=f"{self.col:,}",
                    ),
                    sheet=self.sheet,
                )


def _too_many_rows(limits: Limits, row: int) -> Text:
    return deferred(
        gettext_lazy("行数超过上限 %(limit)s（第 %(row)s 行）"), limit=f"{limits.rows:,}", row=f"{row:,}"
    )


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper()[:4]:
        n = n * 26 + ch - 64
    return n


# ------------------------------------------------------------------------------------------------ csv
def _read_csv(data: bytes, limits: Limits, name: str) -> dict[str, Sheet]:
    for encoding in ("utf-8-sig", "gb18030"):
        rows: list[list[CellValue]] = []
        reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline=""))
        try:
            for values in reader:
                if len(rows) >= limits.rows:
                    raise _reject(_too_many_rows(limits, len(rows) + 1), sheet=name)
                if len(values) > limits.columns:
                    raise _reject(
                        deferred(
                            gettext_lazy("列数 %(count)s 超过上限 %(limit)s"),
                            count=f"{len(values):,}",
                            limit=f"{limits.columns:,}",
                        ),
                        sheet=name,
                        row=len(rows) + 1,
                    )
                rows.append(values)
        except UnicodeDecodeError:
            continue
        except csv.Error as exc:
            raise _reject(
                deferred(gettext_lazy("CSV 格式错误（%(error)s）"), error=str(exc)),
                sheet=name,
                row=reader.line_num,
            ) from exc
        return {name: Sheet(name, rows)}
    raise _reject(gettext_lazy("无法识别文件编码，请将 CSV 保存为 UTF-8 或 GBK 编码"))


# ================================================================================================ writing
@dataclass(frozen=True)
class Table:
    """One sheet of an export: a header row and data rows (any iterable, consumed once).

    `title` is a line above the header (xlsx only: a CSV holds header and rows); `freeze_columns` keeps
    that many leading columns in view; `widths` are column widths in characters."""

    name: str
    header: Sequence[str]
    rows: Iterable[Sequence[Value]]
    title: str = ""
    widths: Sequence[float] = ()
    freeze_columns: int = 0


def neutralise(text: str) -> str:
    """A string for a CSV cell: one beginning with = + - @ tab or CR gets a leading single quote, so
    Excel and WPS show it as text instead of evaluating it."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value


SMALL_CELLS = 100_000  # a workbook of lists with fewer cells is built in memory (no temporary files)


def xlsx_bytes(*tables: Table) -> bytes:
    """A workbook with one sheet per table: bold header with a filter, frozen under the header, rows
    written one after the other (constant memory, however many: each row is flushed to a temporary
    file as it is written). Tables whose rows are lists of fewer than SMALL_CELLS cells in all are
    built in memory instead, which for them is faster and as small."""
    buffer = io.BytesIO()
    sized = all(isinstance(t.rows, list | tuple) for t in tables)
    small = sized and sum(len(t.rows) * max(len(t.header), 1) for t in tables) < SMALL_CELLS
    mode = {"in_memory": True} if small else {"constant_memory": True}
    book = xlsxwriter.Workbook(buffer, {**WORKBOOK_OPTIONS, **mode})
    formats = {
        "title": book.add_format({"bold": True, "font_size": 13}),
        "header": book.add_format({"bold": True, "bg_color": "#E8EFFB", "border": 1}),
        Decimal: book.add_format({"num_format": "#,##0.00"}),
        dt.date: book.add_format({"num_format": "yyyy-mm-dd"}),
        dt.datetime: book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
    }
    for table in tables:
        sheet = book.add_worksheet(table.name[:31])
        for i, width in enumerate(table.widths):
            sheet.set_column(i, i, width)
        top = 0
        if table.title:
            sheet.write_string(0, 0, table.title, formats["title"])
            top = 2
        for c, text in enumerate(table.header):
            sheet.write_string(top, c, str(text), formats["header"])
        last = top
        write_number, write_string, decimal_format = sheet.write_number, sheet.write_string, formats[Decimal]
        for last, values in enumerate(table.rows, start=top + 1):
            for c, value in enumerate(values):
                kind = type(value)  # the two common cases written here, without a call per cell
                if kind is Decimal:
                    write_number(last, c, float(value), decimal_format)
                elif kind is str:
                    if value:
                        write_string(last, c, value)
                else:
                    _write(sheet, last, c, value, formats)
        sheet.freeze_panes(top + 1, table.freeze_columns)
        sheet.autofilter(top, 0, max(last, top + 1), max(len(table.header) - 1, 0))
    book.close()
    return buffer.getvalue()


def _write(sheet: xlsxwriter.worksheet.Worksheet, r: int, c: int, value: Value, formats: dict) -> None:
    """Any other cell (the exact str and Decimal are written by the caller's loop)."""
    if value is None or value == "":
        return
    if isinstance(value, str):
        sheet.write_string(r, c, value)
    elif isinstance(value, bool):
        sheet.write_boolean(r, c, value)
    elif isinstance(value, Decimal):
        sheet.write_number(r, c, float(value), formats[Decimal])
    elif isinstance(value, int | float):
        sheet.write_number(r, c, value)
    elif isinstance(value, dt.datetime):
        sheet.write_datetime(r, c, _local(value), formats[dt.datetime])
    elif isinstance(value, dt.date):
        sheet.write_datetime(r, c, value, formats[dt.date])
    else:
        sheet.write_string(r, c, str(value))


def _csv_cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool | int | float):
        return str(value)
    return neutralise(str(value))


def csv_text(table: Table) -> str:
    """UTF-8 CSV with a byte-order mark (so Chinese Excel opens it correctly): header, then rows."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_csv_cell(h) for h in table.header])
    for values in table.rows:
        writer.writerow([_csv_cell(v) for v in values])
    return out.getvalue()


def attachment(content: bytes | str, filename: str) -> HttpResponse:
    """A download: content type from the file name's extension, the name encoded for any browser."""
    response = HttpResponse(content, content_type=CONTENT_TYPES[PurePosixPath(filename).suffix])
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


def export_response(filename: str, *tables: Table) -> HttpResponse:
    """The tables as a download: `*.csv` holds exactly one table, `*.xlsx` one sheet per table."""
    if filename.endswith(".csv"):
        (table,) = tables
        return attachment(csv_text(table), filename)
    return attachment(xlsx_bytes(*tables), filename)
