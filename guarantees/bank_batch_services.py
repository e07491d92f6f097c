"""Upload and matching of a bank's 总对总 batch (see bank_batches.py). The file is read through the guarded
reader (channel "bank_batch"); every row is checked first and a single bad cell refuses the whole file
(UploadRejected naming sheet, row and column, nothing stored). A good file is stored with each row's
match: its institution (by credit code, among those the regulator oversees) and the record with the
same contract number there."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core import audit
from core.excel import Row, UploadProblem, UploadRejected, not_a_template_column, read_upload
from core.exceptions import AppError, Bilingual, deferred
from core.roles import Role, has_role
from core.stored_text import Message
from institutions.models import Bank, Institution
from institutions.validators import is_valid_credit_code

from .bank_batches import BankBatch, BankBatchRow, MatchStatus
from .models import Guarantee

CHANNEL = "bank_batch"
MAX_PROBLEMS = 200
# (field, Chinese header, English header): the template's columns, in order. The template is written in
# the reader's language; an upload may use either language's headers (the English in any case).
COLUMNS = (
    ("credit_code", "担保机构统一社会信用代码", "Guarantee company credit code"),
    ("contract_no", "担保合同编号", "Guarantee contract number"),
    ("borrower", "借款人名称", "Borrower"),
    ("loan_amount", "借款金额（万元）", "Loan amount (10k yuan)"),
    ("guaranteed_amount", "担保金额（万元）", "Guaranteed amount (10k yuan)"),
    ("start_date", "起始日期", "Start date"),
    ("end_date", "到期日期", "End date"),
)
SHEET_TITLE = ("总对总批次", "Bank batch")
EXCEL_EPOCH = dt.date(1899, 12, 30)


def may_upload_bank_batch(user) -> bool:
    """Banks have no login: the regulators (and administrators) upload their batches."""
    return has_role(user, Role.REGULATOR, Role.ADMIN)


@dataclass
class Parsed:
    number: int
    credit_code: str
    contract_no: str
    borrower: str
    loan_amount: Decimal
    guaranteed_amount: Decimal
    start_date: dt.date
    end_date: dt.date


def parse_date(value) -> dt.date | None:
    """A date as spreadsheets hold it: a date cell, an Excel serial number, or text as 2025-03-01,
    2025/3/1, 2025.3.1, 20250301 or 2025年3月1日."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2958466 and float(value).is_integer():
            return EXCEL_EPOCH + dt.timedelta(days=int(value))
        return None
    text = str(value or "").strip().replace("年", "-").replace("月", "-").replace("日", "")
    for sep in ("/", "."):
        text = text.replace(sep, "-")
    try:
        if text.isdigit() and len(text) == 8:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        y, m, d = (int(p) for p in text.split("-"))
        return dt.date(y, m, d)
    except ValueError:
        return None


def _amount(value) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        return None
    if not number.is_finite() or number < 0 or number >= Decimal("1e13"):
        return None
    return number.quantize(Decimal("0.01")) if number == number.quantize(Decimal("0.01")) else None


def parse(upload, filename: str = "") -> list[Parsed]:
    """The batch's rows, or UploadRejected with every problem (up to MAX_PROBLEMS)."""
    book = read_upload(upload, channel=CHANNEL, filename=filename)
    if not book:
        raise UploadRejected([UploadProblem(gettext_lazy("文件中没有工作表"))])
    sheet = next(iter(book.values()))
    rows = iter(sheet)
    header = next(rows, None)
    problems: list[UploadProblem] = []
    heads = [str(v or "").strip() for v in header.values] if header is not None else []
    labels = [h.casefold() for h in heads]
    where: dict[str, int] = {}
    for field, zh, en in COLUMNS:
        for name in (zh, en.casefold()):
            if name in labels:
                where[field] = labels.index(name)
                break
    header_problems = [
        UploadProblem(
            deferred(gettext_lazy("第1行缺少表头“%(label)s”"), label=Bilingual(zh, en)),
            sheet=sheet.name,
            row=1,
        )
        for field, zh, en in COLUMNS
        if field not in where
    ]
    known = {name for _field, zh, en in COLUMNS for name in (zh, en.casefold())}
    header_problems += [
        not_a_template_column(head, sheet=sheet.name, row=1, index=i)
        for i, head in enumerate(heads)
        if head and head.casefold() not in known
    ]
    if header_problems:
        raise UploadRejected(header_problems)
    out: list[Parsed] = []
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        if all(str(v).strip() == "" for v in row.values):
            continue
        parsed = _parse_row(row, where, problems)
        if parsed is None:
            continue
        key = (parsed.credit_code, parsed.contract_no)
        if key in seen:
            problems.append(
                row.problem(
                    where["contract_no"],
                    deferred(
                        gettext_lazy("担保合同编号 %(contract)s 与第%(row)s行重复（同一担保机构）"),
                        contract=parsed.contract_no,
                        row=seen[key],
                    ),
                )
            )
            continue
        seen[key] = row.number
        out.append(parsed)
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise UploadRejected(problems[:MAX_PROBLEMS])
    if not out:
        raise UploadRejected([UploadProblem(gettext_lazy("文件中没有数据行"), sheet=sheet.name)])
    return out


def _parse_row(row: Row, where: dict[str, int], problems: list[UploadProblem]) -> Parsed | None:
    before = len(problems)

    def text(field: str) -> str:
        return str(row.get(where[field]) or "").strip()

    code = text("credit_code").upper()
    if not is_valid_credit_code(code):
        problems.append(
            row.problem(
                where["credit_code"],
                deferred(
                    gettext_lazy("统一社会信用代码“%(code)s”无效（18位，校验位须正确）"), code=code[:30]
                ),
            )
        )
    contract = text("contract_no")
    if not contract or len(contract) > 64:
        problems.append(
            row.problem(
                where["contract_no"],
                gettext_lazy("担保合同编号为空或超过64个字符"),
            )
        )
    amounts = {}
    for field, zh, en in COLUMNS[3:5]:
        amounts[field] = _amount(row.get(where[field]))
        if amounts[field] is None:
            problems.append(
                row.problem(
                    where[field],
                    deferred(
                        gettext_lazy("%(label)s应为不小于0、最多两位小数的数字，收到“%(value)s”"),
                        label=Bilingual(zh, en),
                        value=str(row.get(where[field]))[:30],
                    ),
                )
            )
    dates = {}
    for field, zh, en in COLUMNS[5:]:
        dates[field] = parse_date(row.get(where[field]))
        if dates[field] is None:
            problems.append(
                row.problem(
                    where[field],
                    deferred(
                        gettext_lazy("%(label)s无法识别为日期：“%(value)s”"),
                        label=Bilingual(zh, en),
                        value=str(row.get(where[field]))[:30],
                    ),
                )
            )
    if dates.get("start_date") and dates.get("end_date") and dates["end_date"] < dates["start_date"]:
        problems.append(row.problem(where["end_date"], gettext_lazy("到期日期早于起始日期")))
    if len(problems) > before:
        return None
    return Parsed(
        row.number,
        code,
        contract,
        text("borrower")[:200],
        amounts["loan_amount"],
        amounts["guaranteed_amount"],
        dates["start_date"],
        dates["end_date"],
    )


@transaction.atomic
def bank_batch_upload(*, actor: User, bank: Bank, as_of: dt.date, upload, filename: str = "") -> BankBatch:
    """Read, check and store a bank's batch with each row matched; the companies' 总对总 records of the
    bank in force on `as_of` without a row are counted as missing from the batch (listed by
    `records_missing_from_batch`)."""
    if not may_upload_bank_batch(actor):
        raise AppError(
            _("只有监管人员可以上传银行总对总批次"),
            code="forbidden",
        )
    rows = parse(upload, filename)
    institutions = dict(
        Institution.objects.for_user(actor)
        .filter(credit_code__in={r.credit_code for r in rows})
        .values_list("credit_code", "id")
    )
    records = {
        (inst_id, no): (pk, amount)
        for pk, inst_id, no, amount in Guarantee.objects.for_user(actor)
        .filter(institution_id__in=institutions.values(), contract_no__in={r.contract_no for r in rows})
        .values_list("id", "institution_id", "contract_no", "guaranteed_amount")
    }
    batch = BankBatch.objects.create(
        bank=bank, region_id=actor.region_id, as_of=as_of, source_name=filename[:255], uploaded_by=actor
    )
    objs = []
    for r in rows:
        inst_id = institutions.get(r.credit_code)
        pk, amount = records.get((inst_id, r.contract_no), (None, None))
        status = (
            MatchStatus.NO_RECORD
            if pk is None
            else (MatchStatus.MATCHED if amount == r.guaranteed_amount else MatchStatus.AMOUNT_DIFFERS)
        )
        objs.append(
            BankBatchRow(
                batch=batch,
                row_number=r.number,
                credit_code=r.credit_code,
                contract_no=r.contract_no,
                borrower=r.borrower,
                loan_amount=r.loan_amount,
                guaranteed_amount=r.guaranteed_amount,
                start_date=r.start_date,
                end_date=r.end_date,
                institution_id=inst_id,
                guarantee_id=pk,
                status=status,
            )
        )
    BankBatchRow.objects.bulk_create(objs, batch_size=2000)
    counts = {s: sum(1 for o in objs if o.status == s) for s in MatchStatus.values}
    batch.rows = len(objs)
    batch.matched = counts[MatchStatus.MATCHED]
    batch.amount_differs = counts[MatchStatus.AMOUNT_DIFFERS]
    batch.no_record = counts[MatchStatus.NO_RECORD]
    batch.missing_from_batch = records_missing_from_batch(user=actor, batch=batch).count()
    batch.save()
    audit.record(
        actor=actor,
        action=audit.Action.CREATE,
        instance=batch,
        note=Message(
            "%(bank)s %(as_of)s %(rows)s 行（一致 %(matched)s，金额不符 %(differs)s，机构无此记录 %(no_record)s，"
            "批次缺少 %(missing)s）",
            bank=bank.name,
            as_of=str(as_of),
            rows=len(objs),
            matched=batch.matched,
            differs=batch.amount_differs,
            no_record=batch.no_record,
            missing=batch.missing_from_batch,
        ),
    )
    return batch


def records_missing_from_batch(*, user, batch: BankBatch) -> QuerySet[Guarantee]:
    """The other side: records flagged 总对总 with the batch's bank, in force on its date, of the companies
    the user oversees, that no row of the batch names."""
    named = BankBatchRow.objects.filter(batch=batch, guarantee__isnull=False).values("guarantee_id")
    return (
        Guarantee.objects.for_user(user)
        .filter(bank=batch.bank, batch_zdz=True)
        .in_force(batch.as_of)
        .exclude(pk__in=named)
        .select_related("institution", "client")
        .order_by("institution__name", "contract_no")
    )


def inbox_tasks(user) -> list:
    """For regulators: the latest batch of each bank (last 180 days) that left rows unmatched on either
    side or amounts that differ (core.inbox). One query."""

    from django.urls import reverse
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from core.inbox import Task

    if not has_role(user, Role.REGULATOR):
        return []
    since = timezone.now() - dt.timedelta(days=180)
    latest: dict[int, BankBatch] = {}
    for batch in BankBatch.objects.for_user(user).filter(created_at__gte=since).select_related("bank"):
        latest.setdefault(batch.bank_id, batch)  # newest first (model ordering)
    tasks = []
    for batch in latest.values():
        n = batch.amount_differs + batch.no_record + batch.missing_from_batch
        if n:
            tasks.append(
                Task(
                    kind="guarantees.bank_batch",
                    title=_("%(bank)s 总对总批次（截至 %(d)s）有 %(n)s 条不一致")
                    % {"bank": batch.bank.name, "d": batch.as_of, "n": n},
                    url=reverse("bank_batches:detail", args=[batch.pk]),
                    count=n,
                )
            )
    return tasks
