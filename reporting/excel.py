"""The quarterly report as an Excel workbook: generated per institution and period, uploaded back.

Layout (sheet 季度报表): identity block, then one row per template field — section, field code (so
machines fill by code), Chinese and English label, unit, basis, **value (column G, the only unlocked
column)**, previous period, notes. A hidden, protected sheet `_meta` carries template version, credit
code and period. Findings come back in the same layout with offending cells highlighted and commented.

Uploads go through the guarded reader (core.excel.read_upload, channel "quarterly"): size, file type,
zip directory, macros, DTDs, rows and columns, formulas — before any parser sees the values. Every error
names sheet and cell; nothing is stored on error.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

import xlsxwriter
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.excel import WORKBOOK_OPTIONS, UploadProblem, UploadRejected, read_upload
from core.exceptions import Bilingual, deferred, pick_language
from core.templatetags.portal import localized

from . import services
from .choices import Channel, Unit
from .periods import Period

if TYPE_CHECKING:
    from accounts.models import User
    from institutions.models import Institution

    from .models import FieldDefinition

# The sheet names are structural: the reader finds the sheets by them, so they stay the same whatever
# language the workbook was downloaded in (headers and labels follow the reader's language; the reader
# goes by column position and field code).
DATA_SHEET = "季度报表"
META_SHEET = "_meta"
HEADER_ROW = 8  # 1-based row of the column headers; fields start below it
FIRST_ROW = HEADER_ROW + 1
COL_CODE, COL_VALUE, COL_PREV = 1, 6, 7  # 0-based: B, G, H
VALUE_COL_LETTER = "G"
MAX_TEXT = 200


@dataclass
class ImportResult:
    errors: list[UploadProblem] = field(default_factory=list)
    filing: object = None
    version: object = None
    findings: list = field(default_factory=list)


# ---------------------------------------------------------------------------------------------- generate
def workbook_for(
    *, institution, period: Period, values: dict | None = None, findings=None, errors=None
) -> bytes:
    """The workbook for one institution and period: identity and opening values prefilled; with
    `values`/`findings`, the same layout returned with offending cells highlighted and commented."""
    template = services.template_for(period)
    fields = services.template_fields(template)
    sources: dict[str, str] = {}
    if values is None:
        filing = (
            institution.filings.filter(year=period.year, quarter=period.quarter)
            .select_related("current_version")
            .first()
        )
        values = dict(filing.current_version.values) if filing and filing.current_version else {}
        values = {**services.opening_values(institution.pk, period), **values}
        if filing and filing.current_version:  # where a prefilled value came from, as a cell comment
            version = filing.current_version
            for code, source in version.prefill.items():
                override = version.overrides.get(code)
                sources[code] = (
                    _("[明细预填] 已修改：明细推算值 %(derived)s，填报 %(value)s")
                    % {"derived": override["derived"], "value": override["value"]}
                    if override
                    else _("[明细预填] %(source)s")
                    % {
                        "source": pick_language(
                            source["source_zh"], source.get("source_en") or source["source_zh"]
                        )
                    }
                )
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
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, **WORKBOOK_OPTIONS})
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
    # every text below is written with write_string: user text (the institution's name, a stored value)
    # stays text even when it begins with = + - @
    ws.write_string(
        0,
        0,
        _("%(name)s（模板第 %(version)s 版）") % {"name": template.name, "version": template.version},
        title,
    )
    identity = [
        (_("机构名称"), institution.name),
        (_("统一社会信用代码"), institution.credit_code),
        (_("报告期"), str(period)),
        (_("报告期（中文）"), period.label),
        (_("模板版本"), str(template.version)),
        (_("单位"), _("万元；笔数、户数为个")),
    ]
    for i, (k, v) in enumerate(identity, start=1):
        ws.write_string(i, 0, k, label)
        ws.merge_range(i, 1, i, 3, None, ident)
        ws.write_string(i, 1, v, ident)
    headers = [
        _("部分"),
        _("字段代码"),
        _("项目"),
        _("英文名称"),
        _("单位"),
        _("口径"),
        _("本期数"),
        _("上期数"),
        _("填报说明"),
    ]
    for c, h in enumerate(headers):
        ws.write_string(HEADER_ROW - 1, c, h, head)
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
            comment += [str(e["message"]) for e in errors_by_field[f.code]]
        for fd in notes_by_field.get(f.code, []):
            fmt = money_err if fd.severity == "error" else (money_warn if fmt is not money_err else fmt)
            comment.append(f"[{fd.rule_id}] {pick_language(fd.message_zh, fd.message_en)}")
        if f.code in sources:
            comment.append(sources[f.code])
        value = values.get(f.code)
        if value in (None, ""):
            ws.write_blank(r, COL_VALUE, None, fmt)
        else:
            try:
                ws.write_number(r, COL_VALUE, float(Decimal(str(value))), fmt)
            except (ArithmeticError, ValueError):
                ws.write_string(r, COL_VALUE, str(value)[:MAX_TEXT], fmt)
        if comment:
            ws.write_comment(
                r, COL_VALUE, "\n".join(comment), {"x_scale": 3, "y_scale": 2, "author": _("校验")}
            )
        if previous.get(f.code) not in (None, ""):
            ws.write_number(r, COL_PREV, float(Decimal(previous[f.code])), prev_fmt)
        else:
            ws.write_blank(r, COL_PREV, None, prev_fmt)
        ws.write_string(r, 8, pick_language(f.notes_zh, f.notes_en or f.notes_zh), text)
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
                    "error_title": _("须为非负整数"),
                    "error_message": _("%(label)s 应填非负整数（个/笔/户）")
                    % {"label": localized(f, "label")},
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
                    "error_title": _("须为数字"),
                    "error_message": _("%(label)s 应填数字（万元，最多两位小数）")
                    % {"label": localized(f, "label")},
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


# ---------------------------------------------------------------------------------------------- parse
def parse(
    data: bytes | UploadedFile, *, fields: list[FieldDefinition]
) -> tuple[list[UploadProblem], dict, dict, dict]:
    """(errors, meta, raw values {code: value}, row of each code). Structural errors come back with an
    empty meta; row errors with the meta read, so the identity can be checked first."""
    try:
        book = read_upload(data, channel="quarterly", sheets=[DATA_SHEET, META_SHEET])
    except UploadRejected as exc:
        return exc.problems, {}, {}, {}
    for name in (DATA_SHEET, META_SHEET):
        if name not in book:
            return (
                [
                    UploadProblem(
                        deferred(gettext_lazy("找不到工作表“%(sheet)s”，请使用平台下载的模板"), sheet=name)
                    )
                ],
                {},
                {},
                {},
            )
    meta = {}
    for row in list(book[META_SHEET])[:10]:
        if isinstance(row.get(0), str) and row.get(0):
            meta[row.get(0)] = (str(row.get(1)).strip(), row.number)
    by_code = {f.code: f for f in fields}
    errors, raw, where = [], {}, {}
    for row in list(book[DATA_SHEET])[FIRST_ROW - 1 :]:
        code, value = row.get(COL_CODE), row.get(COL_VALUE)
        if code == "" and value == "":
            continue
        if not isinstance(code, str) or code.strip() not in by_code:
            shown = str(code)[:40]
            errors.append(row.problem(COL_CODE, deferred(gettext_lazy("未知字段代码“%(code)s”"), code=shown)))
            continue
        code = code.strip()
        if code in raw:
            errors.append(
                row.problem(COL_CODE, deferred(gettext_lazy("字段代码 %(code)s 重复出现"), code=code))
            )
            continue
        where[code] = row.number
        label = Bilingual(by_code[code].label_zh, by_code[code].label_en)
        if isinstance(value, bool):
            errors.append(
                row.problem(
                    COL_VALUE,
                    deferred(
                        gettext_lazy("%(label)s（%(code)s）应为数字，不能是逻辑值"), label=label, code=code
                    ),
                )
            )
        elif isinstance(value, int | float):
            raw[code] = repr(value) if isinstance(value, float) else str(value)
        elif isinstance(value, str):
            text = value.strip()
            if len(text) > MAX_TEXT:
                errors.append(
                    row.problem(
                        COL_VALUE,
                        deferred(
                            gettext_lazy("%(label)s（%(code)s）应为数字，收到 %(length)s 个字符的文本"),
                            label=label,
                            code=code,
                            length=len(text),
                        ),
                    )
                )
            else:
                raw[code] = text
        else:  # dates, times
            errors.append(
                row.problem(
                    COL_VALUE,
                    deferred(
                        gettext_lazy("%(label)s（%(code)s）应为数字，收到日期/时间"), label=label, code=code
                    ),
                )
            )
    return errors, meta, raw, where


def _check_identity(
    meta: dict, *, institution: Institution, period: Period, template_version: int
) -> list[UploadProblem]:
    """The _meta sheet's template version (B1), credit code (B2) and period (B3) against the upload's."""
    errors = []

    def problem(key: str, default_row: int, text) -> None:
        errors.append(
            UploadProblem(text, sheet=META_SHEET, row=meta.get(key, ("", default_row))[1], column="B")
        )

    version = meta.get("template_version", ("", 1))[0]
    if version != str(template_version):
        problem(
            "template_version",
            1,
            deferred(
                gettext_lazy("模板版本为“%(found)s”，本报告期应使用第 %(version)s 版模板，请重新下载"),
                found=version[:20],
                version=template_version,
            ),
        )
    code = meta.get("credit_code", ("", 2))[0]
    if code != institution.credit_code:
        problem(
            "credit_code",
            2,
            deferred(
                gettext_lazy("工作簿属于其他机构（%(found)s），不是 %(code)s"),
                found=code[:20],
                code=institution.credit_code,
            ),
        )
    p = meta.get("period", ("", 3))[0]
    if p != str(period):
        problem(
            "period",
            3,
            deferred(
                gettext_lazy("工作簿报告期为“%(found)s”，与上传的报告期 %(period)s 不符"),
                found=p[:20],
                period=str(period),
            ),
        )
    return errors


def import_upload(
    *, actor: User, institution: Institution, period: Period, data: bytes | UploadedFile, filename: str = ""
) -> ImportResult:
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
    _clean, value_errors = services.parse_values(raw, fields, where=lambda code: {"row": where[code]})
    if value_errors:
        return ImportResult(
            errors=[
                UploadProblem(e["message"], sheet=DATA_SHEET, row=e["row"], column=VALUE_COL_LETTER)
                for e in value_errors
            ]
        )
    try:
        with transaction.atomic():
            filing, version, findings = services.filing_save_draft(
                actor=actor, institution=institution, period=period, values=raw, channel=Channel.EXCEL
            )
    except services.FilingError as exc:
        return ImportResult(errors=[UploadProblem(exc.message)])
    return ImportResult(filing=filing, version=version, findings=findings)
