"""Pages of the banks' 总对总 batches (regulators) and the guarantee checks panel of an agreement page."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.excel import Table, UploadRejected, attachment, upload_channel, xlsx_bytes
from core.exceptions import AppError, pick_language
from core.permissions import role_required
from core.roles import Role
from institutions.models import Bank

from .agreement_checks import RULES, agreement_guarantee_findings
from .bank_batch_services import (
    COLUMNS,
    SHEET_TITLE,
    bank_batch_upload,
    may_upload_bank_batch,
    records_missing_from_batch,
)
from .bank_batches import BankBatch, BankBatchRow, MatchStatus

regulator_pages = role_required(Role.REGULATOR)
PAGE = 50


@regulator_pages
def bank_batch_list(request):
    batches = BankBatch.objects.for_user(request.user).select_related("bank", "uploaded_by", "region")
    page = Paginator(batches, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "guarantees/bank_batch_list.html",
        {
            "page": page,
            "banks": Bank.objects.for_user(request.user).order_by("name"),
            "can_upload": may_upload_bank_batch(request.user),
            "today": timezone.localdate(),
        },
    )


@upload_channel("bank_batch")
@regulator_pages
@require_POST
def bank_batch_upload_view(request):
    upload = request.FILES.get("file")
    bank = Bank.objects.for_user(request.user).filter(pk=request.POST.get("bank") or 0).first()
    try:
        as_of = dt.date.fromisoformat(request.POST.get("as_of", ""))
    except ValueError:
        as_of = None
    if upload is None or bank is None or as_of is None:
        messages.error(request, _("请选择银行、数据截至日和文件"))
        return redirect("bank_batches:list")
    try:
        batch = bank_batch_upload(
            actor=request.user, bank=bank, as_of=as_of, upload=upload, filename=upload.name
        )
    except UploadRejected as exc:
        messages.error(request, _("批次未导入，未保存任何数据"))
        for p in exc.problems[:30]:
            messages.error(request, str(p))
        return redirect("bank_batches:list")
    except AppError as exc:
        messages.error(request, str(exc))
        return redirect("bank_batches:list")
    messages.success(request, _("批次已导入并完成核对（%(n)s 行）。") % {"n": batch.rows})
    return redirect("bank_batches:detail", pk=batch.pk)


@regulator_pages
def bank_batch_template(request):
    """The template in the reader's language (the upload takes either language's headers)."""
    header = [pick_language(zh, en) for _f, zh, en in COLUMNS]
    example = [
        "91510100MA00000000",
        "HT-2025-0001",
        "成都某某科技有限公司",
        200,
        160,
        dt.date(2025, 3, 1),
        dt.date(2026, 3, 1),
    ]
    return attachment(
        xlsx_bytes(
            Table(pick_language(*SHEET_TITLE), header, [example], widths=[22, 18, 26, 14, 14, 12, 12])
        ),
        "bank-batch-template.xlsx",
    )


@regulator_pages
def bank_batch_detail(request, pk):
    batch = get_object_or_404(
        BankBatch.objects.for_user(request.user).select_related("bank", "uploaded_by"), pk=pk
    )
    side = request.GET.get("side", "bank")
    status = request.GET.get("status", "")
    if side == "records":
        rows = records_missing_from_batch(user=request.user, batch=batch)
    else:
        rows = (
            BankBatchRow.objects.for_user(request.user)
            .filter(batch=batch)
            .select_related("institution", "guarantee")
        )
        if status in MatchStatus.values:
            rows = rows.filter(status=status)
        else:
            rows = rows.exclude(status=MatchStatus.MATCHED)  # the differences first: what needs attention
            status = "differences"
    page = Paginator(rows, PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "guarantees/bank_batch_detail.html",
        {
            "batch": batch,
            "page": page,
            "side": side,
            "status": status,
            "statuses": MatchStatus.choices,
            "query": f"side={side}" + (f"&status={status}" if side == "bank" else ""),
        },
    )


def agreement_panel_context(request, agreement) -> dict:
    """The agreement page's panel: its guarantees judged today (the agreement is already scoped)."""
    check = agreement_guarantee_findings(agreement, timezone.localdate())
    return {"agreement": agreement, "check": check, "shown": check.findings[:50], "rules": RULES}
