"""A corpus of hostile or broken uploads, generated from a genuine downloaded template.

corpus(good) → [(name, () → bytes, expected text in the Chinese message, expected cell or "")]."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl

from reporting.excel import DATA_SHEET, META_SHEET

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def rezip(data: bytes, *, replace=None, add=None, drop=(), level=zipfile.ZIP_DEFLATED) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", level) as z:
        for info in src.infolist():
            if info.filename in drop:
                continue
            z.writestr(info.filename, (replace or {}).get(info.filename, src.read(info.filename)))
        for name, content in (add or {}).items():
            z.writestr(name, content)
    return out.getvalue()


def row_of(ws, code: str) -> int:
    for row in ws.iter_rows(min_col=2, max_col=2):
        if row[0].value == code:
            return row[0].row
    raise KeyError(code)


def edit(data: bytes, fn) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    fn(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def fill(data: bytes, values: dict) -> bytes:
    def apply(wb):
        ws = wb[DATA_SHEET]
        for code, value in values.items():
            ws.cell(row=row_of(ws, code), column=7, value=value)

    return edit(data, apply)


def cell_of(data: bytes, code: str) -> str:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return f"G{row_of(wb[DATA_SHEET], code)}"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol9 "&lol3;&lol3;&lol3;">]>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets>&lol9;</sheets></workbook>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&xxe;</t></si></sst>"""


def corpus(good: bytes, *, other_credit_code: str) -> list[tuple]:
    z = zipfile.ZipFile(io.BytesIO(good))
    content_types = z.read("[Content_Types].xml")

    def meta(row, value):
        return edit(good, lambda wb: wb[META_SHEET].cell(row=row, column=2, value=value))

    def delete_meta(wb):
        del wb[META_SHEET]

    def rename_data(wb):
        wb[DATA_SHEET].title = "Sheet1"

    def code_cell(value, row_code="staff_count"):
        def apply(wb):
            ws = wb[DATA_SHEET]
            ws.cell(row=row_of(ws, row_code), column=2, value=value)

        return apply

    def formula_elsewhere(wb):
        wb[DATA_SHEET]["I20"] = "=SUM(G9:G10)"

    staff = cell_of(good, "staff_count")
    net = cell_of(good, "net_assets")
    cases = [
        ("empty", lambda: b"", "文件为空", ""),
        ("text", lambda: b"hello, this is not a workbook", "不是 Excel", ""),
        ("csv-renamed", lambda: b"code,value\nstaff_count,3\n", "不是 Excel", ""),
        ("pdf-renamed", lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", "识别为PDF", ""),
        (
            "xls-renamed",
            lambda: OLE + b"\x00" * 504 + "Workbook".encode("utf-16-le") + b"\x00" * 2000,
            "旧版 .xls",
            "",
        ),
        (
            "encrypted",
            lambda: (
                OLE
                + b"\x00" * 504
                + "EncryptionInfo".encode("utf-16-le")
                + b"\x00" * 64
                + "EncryptedPackage".encode("utf-16-le")
                + b"\x00" * 2000
            ),
            "已加密",
            "",
        ),
        ("truncated", lambda: good[: len(good) // 2], "损坏或不完整", ""),
        ("truncated-tail", lambda: good[:-200], "损坏或不完整", ""),
        ("oversized", lambda: b"PK\x03\x04" + b"\x00" * (6 * 1024 * 1024), "超过 5 MB", ""),
        (
            "zip-bomb-total",
            lambda: rezip(good, add={"xl/media/bomb.bin": b"\x00" * (40 * 1024 * 1024)}),
            "解压后总大小",
            "",
        ),
        (
            "zip-bomb-ratio",
            lambda: rezip(good, add={"xl/media/ratio.bin": b"\x00" * (5 * 1024 * 1024)}),
            "压缩比",
            "",
        ),
        (
            "too-many-entries",
            lambda: rezip(good, add={f"xl/media/x{i}.bin": b"x" for i in range(150)}),
            "条目过多",
            "",
        ),
        ("path-traversal", lambda: rezip(good, add={"../../evil.sh": b"rm -rf /"}), "非法路径", ""),
        ("billion-laughs", lambda: rezip(good, replace={"xl/workbook.xml": BILLION_LAUGHS}), "DTD/实体", ""),
        (
            "xxe",
            lambda: (
                rezip(good, replace={"xl/sharedStrings.xml": XXE})
                if "xl/sharedStrings.xml" in z.namelist()
                else rezip(good, add={"xl/sharedStrings2.xml": XXE})
            ),
            "DTD/实体",
            "",
        ),
        ("macro-vba", lambda: rezip(good, add={"xl/vbaProject.bin": OLE + b"\x00" * 100}), "宏", ""),
        (
            "macro-content-type",
            lambda: rezip(
                good,
                replace={
                    "[Content_Types].xml": content_types.replace(
                        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                    )
                },
            ),
            "启用宏",
            "",
        ),
        ("no-content-types", lambda: rezip(good, drop=["[Content_Types].xml"]), "缺少必需部件", ""),
        (
            "broken-xml",
            lambda: rezip(good, replace={"xl/workbook.xml": b"<workbook><sheets><sheet name='x'"}),
            "内部结构损坏",
            "",
        ),
        ("formula-value", lambda: fill(good, {"staff_count": "=1+1"}), "公式", staff),
        ("formula-elsewhere", lambda: edit(good, formula_elsewhere), "公式", "I20"),
        ("text-in-number", lambda: fill(good, {"net_assets": "三万五千"}), "应为数字", net),
        ("negative-count", lambda: fill(good, {"staff_count": -3}), "非负整数", staff),
        ("fractional-count", lambda: fill(good, {"staff_count": 1.5}), "非负整数", staff),
        ("long-string", lambda: fill(good, {"net_assets": "9" * 32767}), "32767 个字符", net),
        ("boolean", lambda: fill(good, {"net_assets": True}), "逻辑值", net),
        ("date", lambda: fill(good, {"net_assets": dt.datetime(2025, 6, 30)}), "日期", net),
        ("three-decimals", lambda: fill(good, {"net_assets": 1.234}), "两位小数", net),
        ("huge-number", lambda: fill(good, {"net_assets": 1e20}), "超出范围", net),
        ("wrong-template-version", lambda: meta(1, "2"), "模板版本", "B1"),
        ("wrong-institution", lambda: meta(2, other_credit_code), "其他机构", "B2"),
        ("wrong-period", lambda: meta(3, "2025Q1"), "报告期", "B3"),
        ("no-meta-sheet", lambda: edit(good, delete_meta), "_meta", ""),
        ("renamed-data-sheet", lambda: edit(good, rename_data), "找不到工作表", ""),
        (
            "unknown-code",
            lambda: edit(good, code_cell("bogus_code")),
            "未知字段代码",
            staff.replace("G", "B"),
        ),
        ("duplicate-code", lambda: edit(good, code_cell("net_assets")), "重复出现", staff.replace("G", "B")),
    ]
    return cases
