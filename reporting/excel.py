"""The quarterly report as an Excel workbook: generated per institution and period, uploaded back.

Layout (sheet 季度报表): identity block, then one row per template field — section, field code (so
machines fill by code), Chinese and English label, unit, basis, **value (column G, the only unlocked
column)**, previous period, notes. A hidden, protected sheet `_meta` carries template version, credit
code and period. Findings come back in the same layout with offending cells highlighted and commented.

Upload pre-checks run on the raw bytes before any parser sees them: size, zip magic (xls/encrypted
OLE files are recognised and refused), entry count, total uncompressed size and per-entry compression
ratio, entry names, macros, DTDs/entities in any XML part, and formulas in the worksheet XML. Only then
python-calamine reads the values. Every error names sheet and cell; nothing is stored on error.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

import xlsxwriter
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as DET
from django.db import transaction
from python_calamine import CalamineWorkbook

from . import services
from .choices import Channel, Unit
from .periods import Period

DATA_SHEET = "季度报表"
META_SHEET = "_meta"
HEADER_ROW = 8  # 1-based row of the column headers; fields start below it
FIRST_ROW = HEADER_ROW + 1
COL_CODE, COL_VALUE, COL_PREV = 1, 6, 7  # 0-based: B, G, H
VALUE_COL_LETTER = "G"
MAX_BYTES = 5 * 1024 * 1024
MAX_ENTRIES = 100
MAX_UNCOMPRESSED = 30 * 1024 * 1024
MAX_RATIO = 100
MAX_TEXT = 200
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")  # quick test before locating the cells with a parser


@dataclass
class UploadError:
    message_zh: str
    message_en: str
    sheet: str = ""
    cell: str = ""

    def __str__(self):
        where = f"[{self.sheet}!{self.cell}] " if self.cell else (f"[{self.sheet}] " if self.sheet else "")
        return f"{where}{self.message_zh} / {self.message_en}"


@dataclass
class ImportResult:
    errors: list[UploadError] = field(default_factory=list)
    filing: object = None
    version: object = None
    findings: list = field(default_factory=list)


def _err(zh, en, sheet="", cell=""):
    prefix = f"工作表“{sheet}”单元格 {cell}：" if cell else (f"工作表“{sheet}”：" if sheet else "")
    prefix_en = f"sheet {sheet!r} cell {cell}: " if cell else (f"sheet {sheet!r}: " if sheet else "")
    return UploadError(prefix + zh, prefix_en + en, sheet, cell)


# ---------------------------------------------------------------------------------------------- generate
def workbook_for(
    *, institution, period: Period, values: dict | None = None, findings=None, errors=None
) -> bytes:
    """The workbook for one institution and period: identity and opening values prefilled; with
    `values`/`findings`, the same layout returned with offending cells highlighted and commented."""
    template = services.template_for(period)
    fields = services.template_fields(template)
    if values is None:
        filing = (
            institution.filings.filter(year=period.year, quarter=period.quarter)
            .select_related("current_version")
            .first()
        )
        values = dict(filing.current_version.values) if filing and filing.current_version else {}
        values = {**services.opening_values(institution.pk, period), **values}
    prev = services.submitted_version(institution.pk, period.previous())
    previous = prev.values if prev else {}
    notes_by_field = {}
    for f in findings or []:
        for code in f.fields if f.kind == "required" else f.fields[:1]:
            notes_by_field.setdefault(code, []).append(f)
    errors_by_field = {}
    for e in errors or []:
        errors_by_field.setdefault(e["field"], []).append(e)

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    wb.set_properties({"title": f"{template.name} v{template.version}", "company": institution.name})
    title = wb.add_format({"bold": True, "font_size": 14})
    label = wb.add_format({"bold": True, "bg_color": "#EEF2F8", "border": 1})
    ident = wb.add_format({"border": 1, "locked": True})
    head = wb.add_format(
        {"bold": True, "bg_color": "#1F4E9A", "font_color": "#FFFFFF", "border": 1, "text_wrap": True}
    )
    text = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    code_fmt = wb.add_format({"border": 1, "font_name": "Consolas", "valign": "top"})
    money_in = wb.add_format({"border": 1, "locked": False, "num_format": "#,##0.00", "bg_color": "#FFFDE7"})
    count_in = wb.add_format({"border": 1, "locked": False, "num_format": "#,##0", "bg_color": "#FFFDE7"})
    money_err = wb.add_format(
        {
            "border": 2,
            "locked": False,
            "num_format": "#,##0.00",
            "bg_color": "#F8CBAD",
            "border_color": "#C00000",
        }
    )
    money_warn = wb.add_format(
        {
            "border": 2,
            "locked": False,
            "num_format": "#,##0.00",
            "bg_color": "#FFE699",
            "border_color": "#BF8F00",
        }
    )
    prev_fmt = wb.add_format({"border": 1, "num_format": "#,##0.00", "font_color": "#666666"})

    ws = wb.add_worksheet(DATA_SHEET)
    ws.write(0, 0, f"{template.name}（模板第 {template.version} 版）", title)
    identity = [
        ("机构名称", institution.name),
        ("统一社会信用代码", institution.credit_code),
        ("报告期", str(period)),
        ("报告期（中文）", period.label),
        ("模板版本", str(template.version)),
        ("单位", "万元；笔数、户数为个"),
    ]
    for i, (k, v) in enumerate(identity, start=1):
        ws.write(i, 0, k, label)
        ws.merge_range(i, 1, i, 3, v, ident)
    headers = ["部分", "字段代码", "项目", "Item", "单位", "口径", "本期数", "上期数", "填报说明"]
    for c, h in enumerate(headers):
        ws.write(HEADER_ROW - 1, c, h, head)
    for i, f in enumerate(fields):
        r = FIRST_ROW - 1 + i
        ws.write_string(r, 0, f.section, text)
        ws.write_string(r, COL_CODE, f.code, code_fmt)
        ws.write_string(r, 2, f.label_zh, text)
        ws.write_string(r, 3, f.label_en, text)
        ws.write_string(r, 4, f.get_unit_display(), text)
        ws.write_string(r, 5, f.get_basis_display(), text)
        fmt = count_in if f.unit == Unit.COUNT else money_in
        comment = []
        if f.code in errors_by_field:
            fmt = money_err
            comment += [e["message_zh"] for e in errors_by_field[f.code]]
        for fd in notes_by_field.get(f.code, []):
            fmt = money_err if fd.severity == "error" else (money_warn if fmt is not money_err else fmt)
            comment.append(f"[{fd.rule_id}] {fd.message_zh}")
        value = values.get(f.code)
        if value in (None, ""):
            ws.write_blank(r, COL_VALUE, None, fmt)
        else:
            try:
                ws.write_number(r, COL_VALUE, float(Decimal(str(value))), fmt)
            except (ArithmeticError, ValueError):
                ws.write_string(r, COL_VALUE, str(value)[:MAX_TEXT], fmt)
        if comment:
            ws.write_comment(r, COL_VALUE, "\n".join(comment), {"x_scale": 3, "y_scale": 2, "author": "校验"})
        if previous.get(f.code) not in (None, ""):
            ws.write_number(r, COL_PREV, float(Decimal(previous[f.code])), prev_fmt)
        else:
            ws.write_blank(r, COL_PREV, None, prev_fmt)
        ws.write_string(r, 8, f.notes, text)
        if f.unit == Unit.COUNT:
            ws.data_validation(
                r,
                COL_VALUE,
                r,
                COL_VALUE,
                {
                    "validate": "integer",
                    "criteria": ">=",
                    "value": 0,
                    "error_title": "须为非负整数",
                    "error_message": f"{f.label_zh} 应填非负整数（个/笔/户）",
                },
            )
        else:
            ws.data_validation(
                r,
                COL_VALUE,
                r,
                COL_VALUE,
                {
                    "validate": "decimal",
                    "criteria": "between",
                    "minimum": -1e12,
                    "maximum": 1e12,
                    "error_title": "须为数字",
                    "error_message": f"{f.label_zh} 应填数字（万元，最多两位小数）",
                },
            )
    ws.set_column(0, 0, 10)
    ws.set_column(1, 1, 30)
    ws.set_column(2, 2, 44)
    ws.set_column(3, 3, 40)
    ws.set_column(4, 5, 10)
    ws.set_column(6, 7, 18)
    ws.set_column(8, 8, 50)
    ws.freeze_panes(HEADER_ROW, 3)
    ws.protect("", {"format_columns": True, "select_locked_cells": True, "select_unlocked_cells": True})

    meta = wb.add_worksheet(META_SHEET)
    for i, (k, v) in enumerate(
        [
            ("template_version", str(template.version)),
            ("credit_code", institution.credit_code),
            ("period", str(period)),
            ("generator", "guarantee-portal"),
        ]
    ):
        meta.write_string(i, 0, k)
        meta.write_string(i, 1, v)
    meta.hide()
    meta.protect("")
    wb.close()
    return _lock_structure(buffer.getvalue())


def _lock_structure(data: bytes) -> bytes:
    """Protect the workbook structure (no adding, deleting, renaming or unhiding sheets): xlsxwriter
    protects sheets only, so insert <workbookProtection lockStructure="1"/> into workbook.xml."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "xl/workbook.xml":
                content = content.replace(
                    b"<bookViews>", b'<workbookProtection lockStructure="1"/><bookViews>', 1
                )
            z.writestr(info, content)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------- pre-checks
def _ole_kind(data: bytes) -> str:
    """An OLE compound file is either a legacy .xls or an encrypted OOXML package."""
    if "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
        return "encrypted"
    return "xls"


def _sheet_files(zf: zipfile.ZipFile) -> dict[str, str]:
    """{worksheet part path: sheet name} from workbook.xml and its relationships."""
    wb = DET.fromstring(zf.read("xl/workbook.xml"), forbid_dtd=True)
    rels = DET.fromstring(zf.read("xl/_rels/workbook.xml.rels"), forbid_dtd=True)
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", _NS)}
    out = {}
    for sheet in wb.iterfind("m:sheets/m:sheet", _NS):
        target = targets.get(sheet.get(f"{{{_NS['r']}}}id"), "")
        path = target.lstrip("/") if target.startswith("/") else "xl/" + target
        out[path] = sheet.get("name")
    return out


def precheck(data: bytes) -> tuple[list[UploadError], dict]:
    """Structural checks on the raw bytes; returns (errors, {sheet name: [cells with formulas]})."""
    if len(data) == 0:
        return [_err("文件为空", "the file is empty")], {}
    if len(data) > MAX_BYTES:
        return [
            _err(
                f"文件超过 {MAX_BYTES // 1024 // 1024} MB", f"file larger than {MAX_BYTES // 1024 // 1024} MB"
            )
        ], {}
    if data[:8] == OLE_MAGIC:
        if _ole_kind(data) == "encrypted":
            return [
                _err(
                    "文件已加密（设置了打开密码），请取消密码后上传",
                    "the file is encrypted; remove the password",
                )
            ], {}
        return [
            _err(
                "这是旧版 .xls 文件（或扩展名被改为 .xlsx），请使用下载的 .xlsx 模板",
                "this is a legacy .xls file (renamed?); use the downloaded .xlsx template",
            )
        ], {}
    if data[:4] != b"PK\x03\x04":
        kind = "PDF" if data[:5] == b"%PDF-" else "文本/其他"
        return [_err(f"不是 Excel（.xlsx）文件（识别为{kind}）", "not an .xlsx (zip) file")], {}
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return [
            _err("文件已损坏或不完整（zip 结构无法读取）", "the file is truncated or corrupt (bad zip)")
        ], {}
    if len(infos) > MAX_ENTRIES:
        return [
            _err(
                f"压缩包条目过多（{len(infos)} > {MAX_ENTRIES}）",
                f"too many zip entries ({len(infos)} > {MAX_ENTRIES})",
            )
        ], {}
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED:
        return [
            _err(
                f"解压后总大小 {total // 1024 // 1024} MB 超过上限 {MAX_UNCOMPRESSED // 1024 // 1024} MB（疑似压缩炸弹）",
                f"uncompressed size {total} bytes above the limit (zip bomb?)",
            )
        ], {}
    for i in infos:
        if i.file_size > 1024 * 1024 and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            return [
                _err(
                    f"条目 {i.filename} 压缩比 {i.file_size // max(i.compress_size, 1)}:1 异常（疑似压缩炸弹）",
                    f"entry {i.filename} compression ratio above {MAX_RATIO}:1 (zip bomb?)",
                )
            ], {}
        if i.filename.startswith("/") or ".." in i.filename.split("/") or "\\" in i.filename:
            return [
                _err(f"压缩包含非法路径 {i.filename[:80]}", f"illegal entry path {i.filename[:80]!r}")
            ], {}
        if i.flag_bits & 0x1:
            return [_err("压缩包条目已加密", "encrypted zip entry")], {}
    names = {i.filename for i in infos}
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        return [
            _err("文件包含宏（VBA），拒绝导入；请使用 .xlsx 模板", "the file contains macros (VBA); refused")
        ], {}
    for required in ("[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
        if required not in names:
            return [
                _err(
                    f"缺少必需部件 {required}，不是有效的 Excel 工作簿",
                    f"missing part {required}; not a valid workbook",
                )
            ], {}
    try:
        for i in infos:
            if not i.filename.endswith((".xml", ".rels", ".vml")):
                continue
            head = zf.open(i).read(4096)
            if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
                return [
                    _err(
                        f"部件 {i.filename} 含有 DTD/实体声明（可能是 XML 炸弹），拒绝导入",
                        f"part {i.filename} declares a DTD/entities (XML bomb?); refused",
                    )
                ], {}
        content_types = zf.read("[Content_Types].xml")
        if b"macroEnabled" in content_types or b"vbaProject" in content_types:
            return [
                _err("文件为启用宏的工作簿（.xlsm），拒绝导入", "macro-enabled workbook (.xlsm); refused")
            ], {}
        sheets = _sheet_files(zf)
        formulas = {}
        for path, name in sheets.items():
            if path not in names:
                continue
            cells = []
            if not _FORMULA_TAG.search(zf.read(path)):
                formulas[name] = cells
                continue
            for _event, el in DET.iterparse(zf.open(path), forbid_dtd=True, forbid_entities=True):
                if el.tag == f"{{{_NS['m']}}}c" and el.find("m:f", _NS) is not None:
                    cells.append(el.get("r"))
                if el.tag == f"{{{_NS['m']}}}row":
                    el.clear()
            formulas[name] = cells
    except (
        DefusedXmlException,
        DET.ParseError,
        KeyError,
        zipfile.BadZipFile,
        OSError,
        EOFError,
        zipfile.LargeZipFile,
        RuntimeError,
        ValueError,
    ):
        return [_err("工作簿内部结构损坏，无法读取", "the workbook's internal structure is broken")], {}
    return [], formulas


# ---------------------------------------------------------------------------------------------- parse
def _cell(row0: int, col0: int) -> str:
    return f"{xlsxwriter.utility.xl_col_to_name(col0)}{row0 + 1}"


def parse(data: bytes, *, fields) -> tuple[list[UploadError], dict, dict, dict]:
    """(errors, meta, raw values {code: value}, cell of each code). Structural errors come back with
    an empty meta; row errors with the meta read, so the identity can be checked first."""
    errors, formulas = precheck(data)
    if errors:
        return errors, {}, {}, {}
    for sheet, cells in formulas.items():
        for c in cells[:20]:
            errors.append(
                _err(
                    "单元格含公式；请填写数值，不要使用公式",
                    "formulas are not accepted; enter numbers",
                    sheet,
                    c,
                )
            )
    if errors:
        return errors, {}, {}, {}
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = wb.sheet_names
        if DATA_SHEET not in names:
            return (
                [
                    _err(
                        f"找不到工作表“{DATA_SHEET}”，请使用平台下载的模板",
                        f"sheet {DATA_SHEET!r} not found; use the downloaded template",
                    )
                ],
                {},
                {},
                {},
            )
        if META_SHEET not in names:
            return (
                [
                    _err(
                        f"找不到模板标识工作表“{META_SHEET}”，请使用平台下载的模板",
                        f"sheet {META_SHEET!r} missing; use the downloaded template",
                    )
                ],
                {},
                {},
                {},
            )
        meta_rows = wb.get_sheet_by_name(META_SHEET).to_python(skip_empty_area=False)
        rows = wb.get_sheet_by_name(DATA_SHEET).to_python(skip_empty_area=False)
    except Exception:  # calamine raises its own error types for broken parts
        return [_err("工作簿无法读取（文件损坏）", "the workbook cannot be read (corrupt)")], {}, {}, {}
    meta = {}
    for i, row in enumerate(meta_rows[:10]):
        if len(row) >= 2 and isinstance(row[0], str):
            meta[row[0]] = (str(row[1]).strip() if row[1] is not None else "", _cell(i, 1))
    by_code = {f.code: f for f in fields}
    raw, where = {}, {}
    for r in range(FIRST_ROW - 1, len(rows)):
        row = rows[r]
        code = row[COL_CODE] if len(row) > COL_CODE else ""
        value = row[COL_VALUE] if len(row) > COL_VALUE else ""
        if code in ("", None) and value in ("", None):
            continue
        if not isinstance(code, str) or code.strip() not in by_code:
            shown = str(code)[:40]
            errors.append(
                _err(
                    f"未知字段代码“{shown}”", f"unknown field code {shown!r}", DATA_SHEET, _cell(r, COL_CODE)
                )
            )
            continue
        code = code.strip()
        if code in raw:
            errors.append(
                _err(
                    f"字段代码 {code} 重复出现",
                    f"field code {code} appears twice",
                    DATA_SHEET,
                    _cell(r, COL_CODE),
                )
            )
            continue
        cell = _cell(r, COL_VALUE)
        where[code] = cell
        label = by_code[code].label_zh
        if isinstance(value, bool):
            errors.append(
                _err(
                    f"{label}（{code}）应为数字，不能是逻辑值",
                    f"{code} must be a number, not TRUE/FALSE",
                    DATA_SHEET,
                    cell,
                )
            )
        elif isinstance(value, int | float):
            raw[code] = repr(value) if isinstance(value, float) else str(value)
        elif isinstance(value, str):
            text = value.strip()
            if len(text) > MAX_TEXT:
                errors.append(
                    _err(
                        f"{label}（{code}）应为数字，收到 {len(text)} 个字符的文本",
                        f"{code} must be a number, got {len(text)} characters of text",
                        DATA_SHEET,
                        cell,
                    )
                )
            else:
                raw[code] = text
        elif value is None or value == "":
            continue
        else:  # dates, times
            errors.append(
                _err(
                    f"{label}（{code}）应为数字，收到日期/时间",
                    f"{code} must be a number, got a date/time",
                    DATA_SHEET,
                    cell,
                )
            )
    return errors, meta, raw, where


def _check_identity(meta: dict, *, institution, period: Period, template_version: int) -> list[UploadError]:
    errors = []
    version, cell = meta.get("template_version", ("", "B1"))
    if version != str(template_version):
        errors.append(
            _err(
                f"模板版本为“{version[:20]}”，本报告期应使用第 {template_version} 版模板，请重新下载",
                f"template version {version[:20]!r}; this period needs version {template_version}",
                META_SHEET,
                cell,
            )
        )
    code, cell = meta.get("credit_code", ("", "B2"))
    if code != institution.credit_code:
        errors.append(
            _err(
                f"工作簿属于其他机构（{code[:20]}），不是 {institution.credit_code}",
                f"workbook belongs to another institution ({code[:20]})",
                META_SHEET,
                cell,
            )
        )
    p, cell = meta.get("period", ("", "B3"))
    if p != str(period):
        errors.append(
            _err(
                f"工作簿报告期为“{p[:20]}”，与上传的报告期 {period} 不符",
                f"workbook period {p[:20]!r} does not match {period}",
                META_SHEET,
                cell,
            )
        )
    return errors


def import_upload(*, actor, institution, period: Period, data: bytes, filename: str = "") -> ImportResult:
    """All or nothing: errors name sheet and cell and nothing is stored; a clean file becomes the draft
    (Excel channel) and its findings come back with the draft."""
    template = services.template_for(period)
    fields = services.template_fields(template)
    errors, meta, raw, where = parse(data, fields=fields)
    if errors and not meta:
        return ImportResult(errors=errors)
    identity = _check_identity(
        meta, institution=institution, period=period, template_version=template.version
    )
    if identity or errors:  # a wrong template/institution/period explains any row errors: report it first
        return ImportResult(errors=identity or errors)
    _clean, value_errors = services.parse_values(
        raw, fields, where=lambda code: {"cell": where.get(code, "")}
    )
    if value_errors:
        return ImportResult(
            errors=[
                _err(e["message_zh"], e["message_en"], DATA_SHEET, e.get("cell", "")) for e in value_errors
            ]
        )
    try:
        with transaction.atomic():
            filing, version, findings = services.filing_save_draft(
                actor=actor, institution=institution, period=period, values=raw, channel=Channel.EXCEL
            )
    except services.FilingError as exc:
        return ImportResult(errors=[_err(exc.message, exc.message)])
    return ImportResult(filing=filing, version=version, findings=findings)
