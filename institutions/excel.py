"""Registry import from a spreadsheet (regulators moving from Excel): two sheets, 机构 and 许可证.

All or nothing: every row is checked first and every error names sheet, row, column and field; only a
file without errors is written, in one transaction. Re-importing updates institutions by credit code
and licences by number, so importing the same file twice changes nothing the second time.

Every row is written by the same services as the pages, with the importing user's authority: a licence
number new to the portal is recorded as it stands (issued, cancelled or revoked before the portal kept
the register); a change to a licence the portal holds is the licence pages' change, cancellation or
revocation, with the same notice and duties, or it is refused."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Region, User
from core.excel import Sheet, Table, UploadRejected, column_letter, read_upload, xlsx_bytes
from core.exceptions import AppError, pick_language
from core.parsing import BadValue, parse_decimal, plausible_date
from core.permissions import require
from core.stored_text import Message

from . import services
from .choices import EntityKind, InstitutionStatus, LicenceStatus, Ownership
from .models import Institution, Licence
from .permissions import may_change_institution, may_keep_licences, may_keep_registry
from .validators import is_valid_credit_code

# The template is written in the reader's language (sheet names and headers); an upload is read in either
# language: each sheet and column below in (Chinese, English), the English in any case. Choice cells take
# the Chinese or English label (or the code).
INSTITUTION_SHEET = "机构"
LICENCE_SHEET = "许可证"
SHEET_TITLES = {INSTITUTION_SHEET: ("机构", "Institutions"), LICENCE_SHEET: ("许可证", "Licences")}
LEVELS = {"省级": "province", "市级": "city", "县级": "county"}
LEVELS |= {code: code for code in LEVELS.values()}  # the English words are the codes
YES_NO = {"是": True, "否": False, "yes": True, "no": False, "": False}

# (field, Chinese header, English header, required)
INSTITUTION_COLUMNS = [
    ("credit_code", "统一社会信用代码", "Unified social credit code", True),
    ("name", "机构名称", "Institution name", True),
    ("kind", "机构类型", "Entity kind", False),
    ("parent", "上级机构信用代码", "Parent credit code", False),
    ("region_id", "注册地代码", "Registered region code", True),
    ("level", "机构层级", "Level", True),
    ("ownership", "所有制", "Ownership", False),
    ("registered_capital", "注册资本（万元）", "Registered capital (10k yuan)", True),
    ("paid_in_capital", "实缴资本（万元）", "Paid-in capital (10k yuan)", True),
    ("established_on", "成立日期", "Established on", False),
    ("legal_representative", "法定代表人", "Legal representative", False),
    ("address", "住所", "Address", False),
    ("status", "经营状态", "Operating status", False),
    ("is_reguarantee", "再担保机构", "Re-guarantee institution", False),
    ("credit_reference_access", "已接入征信系统", "Connected to credit reference", False),
    ("staff_count", "从业人员数", "Staff count", False),
    ("status_changed_on", "状态变更日期", "Status changed on", False),
]
LICENCE_COLUMNS = [
    ("number", "许可证编号", "Licence number", True),
    ("credit_code", "统一社会信用代码", "Unified social credit code", True),
    ("issuing_authority", "发证机关", "Issuing authority", False),
    ("issued_on", "发证日期", "Issued on", True),
    ("business_scope", "业务范围", "Business scope", False),
    ("status", "状态", "Status", False),
    ("ended_on", "注销或吊销日期", "Cancelled or revoked on", False),
    ("reason", "注销或吊销原因", "Reason for cancellation or revocation", False),
    ("decision_no", "吊销决定书文号", "Revocation decision number", False),
]
# What the licence services call the import's columns (their errors land on these cells).
SERVICE_FIELDS = {"on": "ended_on"}


@dataclass
class CellError:
    sheet: str
    row: int
    column: str  # letter
    header: str
    message: str

    def __str__(self):
        return _("工作表“%(sheet)s”第%(row)s行%(column)s列（%(header)s）：%(message)s") % {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "header": self.header,
            "message": self.message,
        }

    @property
    def reference(self) -> str:
        """The cell as a spreadsheet names it (机构!B5), or the row (机构!5:5) when no column applies."""
        return (
            f"{self.sheet}!{self.column}{self.row}"
            if self.column.isalpha()
            else f"{self.sheet}!{self.row}:{self.row}"
        )


@dataclass
class ImportResult:
    institutions_created: int = 0
    institutions_updated: int = 0
    licences_created: int = 0
    licences_updated: int = 0
    errors: list[CellError] = field(default_factory=list)


class CellProblem(ValueError):
    """A problem with one cell whose message is shown as it is."""


class ImportFailed(AppError):
    """The whole import is refused (nothing written); `cells` lists every error with its cell."""

    def __init__(self, cells: list[CellError]) -> None:
        self.cells = cells
        errors: dict[str, list[str]] = {}
        for cell in cells:
            errors.setdefault(cell.reference, []).append(cell.message)
        super().__init__(
            ngettext(
                "发现 %(n)d 处错误，未写入任何数据",
                "发现 %(n)d 处错误，未写入任何数据",
                len(cells),
            )
            % {"n": len(cells)},
            errors=errors,
        )


def template_workbook() -> bytes:
    """The import template in the reader's language."""
    return xlsx_bytes(
        Table(
            pick_language(*SHEET_TITLES[INSTITUTION_SHEET]),
            [pick_language(zh, en) for _f, zh, en, _r in INSTITUTION_COLUMNS],
            [],
            widths=[20] * len(INSTITUTION_COLUMNS),
        ),
        Table(
            pick_language(*SHEET_TITLES[LICENCE_SHEET]),
            [pick_language(zh, en) for _f, zh, en, _r in LICENCE_COLUMNS],
            [],
            widths=[20] * len(LICENCE_COLUMNS),
        ),
    )


def _choice(choices, text: str, default=None):
    """A choice's code from its Chinese or English label (any case) or the code; KeyError otherwise."""
    if not text:
        if default is None:
            raise KeyError(text)
        return default
    words = {}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            words.update({str(label).casefold(): value for value, label in choices.choices})
    words.update({value: value for value in choices.values})
    return words[text.casefold()]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _rows(
    book: dict[str, Sheet], sheet: str, columns: list[tuple], errors: list[CellError]
) -> tuple[str, list]:
    """(the sheet's name as the file has it, its rows as (row number, {field: (value, column letter,
    header as written)})). The sheet and its headers may be in either language; a header of neither is
    an error on its cell, and so is a required column missing."""
    names = [name for name in SHEET_TITLES[sheet] if name in book]
    if not names:
        title = pick_language(*SHEET_TITLES[sheet])
        errors.append(CellError(title, 1, "A", title, _("缺少工作表。")))
        return title, []
    sheet_name = names[0]
    rows = iter(book[sheet_name].values)
    header = [_text(v) for v in next(rows, ())]
    folded = [h.casefold() for h in header]
    positions = {}
    for name, zh, en, required in columns:
        for head in (zh, en.casefold()):
            if head in folded:
                positions[name] = folded.index(head)
                break
        else:
            if required:
                label = pick_language(zh, en)
                errors.append(
                    CellError(
                        sheet_name,
                        1,
                        column_letter(len(header)),
                        label,
                        _("缺少必填列“%(head)s”。") % {"head": label},
                    )
                )
    known = {h for _n, zh, en, _r in columns for h in (zh, en.casefold())}
    for i, head in enumerate(header):
        if head and head.casefold() not in known:
            errors.append(
                CellError(
                    sheet_name,
                    1,
                    column_letter(i),
                    head,
                    _("表头“%(label)s”不是本模板的列（请使用下载的模板）") % {"label": head},
                )
            )
    out = []
    for n, values in enumerate(rows, start=2):
        if not any(_text(v) for v in values):
            continue
        cells = {}
        for name, _zh, _en, _required in columns:
            if name in positions:
                idx = positions[name]
                cells[name] = (values[idx] if idx < len(values) else None, column_letter(idx), header[idx])
        out.append((n, cells))
    return sheet_name, out


def _parse_date(value):
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        day = dt.date.fromisoformat(_text(value))
    try:
        plausible_date(day)  # a year such as 0421 is a typing slip
    except ValidationError as exc:
        raise CellProblem(exc.messages[0]) from exc
    return day


def _parse_decimal(value):
    """Through the one number parser (core.parsing): "1,234.5" is grouping, "1234,5" is refused as
    ambiguous, never read as 12345."""
    try:
        number = parse_decimal(value.strip() if isinstance(value, str) else value, max_digits_before_point=13)
    except BadValue as exc:
        raise CellProblem(str(exc)) from exc
    if number < 0:
        raise InvalidOperation
    return number


def upload_errors(exc: UploadRejected) -> list[CellError]:
    """The guarded reader's refusal as the import's cell errors."""
    return [CellError(p.sheet or "—", p.row or 0, p.column or "—", "—", str(p.text)) for p in exc.problems]


def parse(data: bytes | UploadedFile, *, actor: User | None) -> tuple[list, list, list[CellError]]:
    """Check every cell; returns (institution rows, licence rows, errors)."""
    errors: list[CellError] = []
    try:
        book = read_upload(
            data, channel="registry", sheets=[name for titles in SHEET_TITLES.values() for name in titles]
        )
    except UploadRejected as exc:
        return [], [], upload_errors(exc)
    known_regions = set(Region.objects.values_list("code", flat=True))
    institutions, licences, seen_codes, seen_numbers = [], [], {}, {}

    institution_sheet, institution_rows = _rows(book, INSTITUTION_SHEET, INSTITUTION_COLUMNS, errors)
    for row, cells in institution_rows:
        item = {"row": row, "sheet": institution_sheet}

        def err(name, message, row=row, cells=cells):
            _value, col, head = cells.get(name, (None, "—", name))
            errors.append(CellError(institution_sheet, row, col, head, message))

        for name, _zh, _en, required in INSTITUTION_COLUMNS:
            if name not in cells:
                continue
            raw = cells[name][0]
            text = _text(raw)
            if required and not text:
                err(name, _("必填。"))
                continue
            try:
                if name == "credit_code":
                    text = text.upper()
                    if not is_valid_credit_code(text):
                        raise CellProblem(_("统一社会信用代码无效（GB 32100-2015 校验位不符）。"))
                    if text in seen_codes:
                        raise CellProblem(_("与第%(row)s行重复。") % {"row": seen_codes[text]})
                    seen_codes[text] = row
                    item[name] = text
                elif name == "kind":
                    item[name] = _choice(EntityKind, text, EntityKind.LEGAL_ENTITY)
                elif name == "parent":
                    item[name] = text.upper()
                elif name == "region_id":
                    if text not in known_regions:
                        raise CellProblem(_("未知的行政区划代码“%(code)s”。") % {"code": text})
                    if actor is not None and not may_change_institution(actor, None, text):
                        raise CellProblem(_("该地区不在您的辖区内。"))
                    item[name] = text
                elif name == "level":
                    item[name] = LEVELS[text.casefold()]
                elif name == "ownership":
                    item[name] = _choice(Ownership, text, Ownership.STATE)
                elif name in ("registered_capital", "paid_in_capital"):
                    item[name] = _parse_decimal(raw)
                elif name == "established_on":
                    item[name] = _parse_date(raw) if text else None
                elif name == "status_changed_on":
                    if text:  # empty: the day already known stays (or a new status takes effect today)
                        item[name] = _parse_date(raw)
                elif name == "status":
                    item[name] = _choice(InstitutionStatus, text, InstitutionStatus.OPERATING)
                elif name in ("is_reguarantee", "credit_reference_access"):
                    item[name] = YES_NO[text.casefold()]
                elif name == "staff_count":
                    item[name] = int(text) if text else None
                    if item[name] is not None and item[name] < 0:
                        raise CellProblem(_("须为非负整数。"))
                else:
                    item[name] = text
            except CellProblem as exc:
                err(name, str(exc))
            except KeyError:
                err(name, _("无法识别的取值“%(value)s”。") % {"value": text})
            except (ValueError, InvalidOperation, TypeError):
                err(name, _("格式不正确：“%(value)s”。") % {"value": text})
        if item.get("kind") == EntityKind.BRANCH and not item.get("parent"):
            err("parent", _("分支机构须填写上级机构信用代码。"))
        institutions.append(item)

    codes_in_file = {i.get("credit_code") for i in institutions}
    existing = {
        i.credit_code: i
        for i in Institution.objects.filter(
            credit_code__in=codes_in_file | {i.get("parent") for i in institutions if i.get("parent")}
        )
    }
    changeable = (
        set(
            Institution.objects.for_user(actor, "change")
            .filter(pk__in=[i.pk for i in existing.values()])
            .values_list("pk", flat=True)
        )
        if actor is not None
        else {i.pk for i in existing.values()}
    )
    for item in institutions:
        code = item.get("credit_code")
        if code in existing and existing[code].pk not in changeable:
            errors.append(
                CellError(
                    institution_sheet,
                    item["row"],
                    "A",
                    _("统一社会信用代码"),
                    _("无权修改该机构。"),
                )
            )
        parent = item.get("parent")
        if parent and parent not in codes_in_file and parent not in existing:
            errors.append(
                CellError(
                    institution_sheet,
                    item["row"],
                    "D",
                    _("上级机构信用代码"),
                    _("上级机构“%(code)s”不存在。") % {"code": parent},
                )
            )

    licence_sheet, licence_rows = _rows(book, LICENCE_SHEET, LICENCE_COLUMNS, errors)
    for row, cells in licence_rows:
        item = {"row": row, "cells": cells, "sheet": licence_sheet}

        def lerr(name, message, row=row, cells=cells):
            _value, col, head = cells.get(name, (None, "—", name))
            errors.append(CellError(licence_sheet, row, col, head, message))

        for name, _zh, _en, required in LICENCE_COLUMNS:
            if name not in cells:
                continue
            raw = cells[name][0]
            text = _text(raw)
            if required and not text:
                lerr(name, _("必填。"))
                continue
            try:
                if name in ("issued_on", "ended_on"):
                    item[name] = _parse_date(raw) if text else None
                elif name == "status":
                    item[name] = _choice(LicenceStatus, text, LicenceStatus.VALID)
                elif name == "credit_code":
                    item[name] = text.upper()
                    holder = existing.get(item[name])
                    if holder is None and item[name] not in codes_in_file:
                        holder = Institution.objects.filter(credit_code=item[name]).first()
                        if holder is None:
                            raise CellProblem(_("持证机构不存在（应在“机构”表中或已登记）。"))
                    if holder is not None and actor is not None and not may_keep_licences(actor, holder):
                        raise CellProblem(_("无权管理该机构的许可证。"))
                elif name == "number":
                    if text in seen_numbers:
                        raise CellProblem(_("与第%(row)s行重复。") % {"row": seen_numbers[text]})
                    seen_numbers[text] = row
                    item[name] = text
                else:
                    item[name] = text
            except CellProblem as exc:
                lerr(name, str(exc))
            except KeyError:
                lerr(name, _("无法识别的取值“%(value)s”。") % {"value": text})
            except (ValueError, TypeError):
                lerr(name, _("格式不正确：“%(value)s”。") % {"value": text})
        licences.append(item)
    return institutions, licences, errors


def _cell(item: dict, name: str, message: str) -> CellError:
    """An error on one licence row's cell (a field the sheet lacks names no column)."""
    _value, column, header = item["cells"].get(name, (None, "—", name))
    return CellError(item["sheet"], item["row"], column, header, message)


def _licence_errors(item: dict, exc: ValidationError | PermissionDenied) -> list[CellError]:
    """A licence service's refusal, on the cells it is about (authority: on the holder's cell)."""
    if isinstance(exc, PermissionDenied):
        return [_cell(item, "credit_code", str(exc))]
    if not hasattr(exc, "error_dict"):
        return [_cell(item, "status", "；".join(exc.messages))]
    return [
        _cell(item, SERVICE_FIELDS.get(field, field), "；".join(messages))
        for field, messages in exc.message_dict.items()
    ]


def _as_row(licence: Licence) -> dict:
    """A stored licence as the import's columns hold it."""
    cancelled, revoked = licence.status == LicenceStatus.CANCELLED, licence.status == LicenceStatus.REVOKED
    return {
        "issued_on": licence.issued_on,
        "business_scope": licence.business_scope,
        "issuing_authority": licence.issuing_authority,
        "status": licence.status,
        "ended_on": licence.cancelled_on if cancelled else licence.revoked_on if revoked else None,
        "reason": licence.cancel_reason if cancelled else licence.revocation_reason if revoked else "",
        "decision_no": licence.revocation_decision_no if revoked else "",
    }


def _licence_write(actor, holder: Institution, item: dict) -> str:
    """Write one licence row through the licence services; "created", "updated" or "" (no change)."""
    setting = services.licence_number_validate(item["number"], holder.region_id)
    status = item.get("status") or LicenceStatus.VALID
    row = {
        "issued_on": item.get("issued_on"),
        "business_scope": item.get("business_scope", ""),
        "issuing_authority": item.get("issuing_authority") or setting.issuing_authority,
        "status": status,
        "ended_on": item.get("ended_on") if status != LicenceStatus.VALID else None,
        "reason": item.get("reason", "") if status != LicenceStatus.VALID else "",
        "decision_no": item.get("decision_no", "") if status == LicenceStatus.REVOKED else "",
    }
    licence = Licence.objects.select_for_update().filter(number=item["number"]).first()
    if licence is None:
        services.licence_record(actor=actor, institution=holder, number=item["number"], **row)
        return "created"
    if licence.institution_id != holder.pk:
        raise ValidationError({"credit_code": _("许可证已登记在其他机构名下。")})
    stored = _as_row(licence)
    if row == stored:
        return ""
    if licence.status != LicenceStatus.VALID:
        raise ValidationError({"status": _("已注销或吊销的许可证不能再修改。")})
    edits = {k: row[k] for k in ("issued_on", "business_scope", "issuing_authority") if row[k] != stored[k]}
    if edits:
        services.licence_change(actor=actor, licence=licence, note=Message("登记导入"), **edits)
    if status == LicenceStatus.CANCELLED:
        services.licences_cancel(actor=actor, licences=[licence], reason=row["reason"], on=row["ended_on"])
    elif status == LicenceStatus.REVOKED:
        services.licences_revoke(
            actor=actor,
            licences=[licence],
            decision_no=row["decision_no"],
            on=row["ended_on"],
            reason=row["reason"],
        )
    return "updated"


@transaction.atomic
def registry_import(data: bytes | UploadedFile, *, actor: User | None) -> ImportResult:
    require(actor, may_keep_registry)
    institutions, licences, errors = parse(data, actor=actor)
    if errors:
        raise ImportFailed(errors)
    result = ImportResult()
    order = sorted(institutions, key=lambda i: 1 if i.get("parent") else 0)  # parents first
    saved = {}
    for item in order:
        fields = {k: v for k, v in item.items() if k not in ("row", "sheet", "credit_code", "parent")}
        if item.get("parent"):
            fields["parent"] = saved.get(item["parent"]) or Institution.objects.get(
                credit_code=item["parent"]
            )
        try:
            before = (
                Institution.objects.filter(credit_code=item["credit_code"])
                .values_list("updated_at", flat=True)
                .first()
            )
            inst, created = services.institution_upsert(
                actor=actor, credit_code=item["credit_code"], **fields
            )
        except ValidationError as exc:
            raise ImportFailed(
                [
                    CellError(item["sheet"], item["row"], "—", f, "；".join(m))
                    for f, m in exc.message_dict.items()
                ]
            ) from exc
        except PermissionDenied as exc:
            raise ImportFailed(
                [CellError(item["sheet"], item["row"], "A", _("统一社会信用代码"), str(exc))]
            ) from exc
        saved[inst.credit_code] = inst
        if created:
            result.institutions_created += 1
        elif inst.updated_at != before:
            result.institutions_updated += 1
    for item in licences:
        holder = saved.get(item["credit_code"]) or Institution.objects.get(credit_code=item["credit_code"])
        try:
            written = _licence_write(actor, holder, item)
        except (ValidationError, PermissionDenied) as exc:
            raise ImportFailed(_licence_errors(item, exc)) from exc
        result.licences_created += written == "created"
        result.licences_updated += written == "updated"
    return result
