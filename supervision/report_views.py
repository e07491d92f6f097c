"""The annual report page (eight parts: figures from the data, narratives saved with history), its docx
and PDF, the quarterly submission pack and the annual table."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Region
from core import audit
from core.excel import Table as SheetTable
from core.excel import export_response
from core.permissions import require
from core.scoping import can_change_in, in_subtree
from reporting.periods import Period

from . import annual_report as ar
from .documents import document_response
from .models import ReportNarrative
from .permissions import regulator_desk
from .report_sections import PART_KEYS


def _region(request: HttpRequest) -> Region:
    code = request.GET.get("region") or request.POST.get("region") or request.user.region_id or ""
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise Http404
    if request.user.region_id and not in_subtree(request.user.region_id, region.code):
        raise Http404
    return region


def _year(request: HttpRequest) -> int:
    text = request.GET.get("year") or request.POST.get("year") or ""
    return int(text) if text.isdigit() and 2000 < int(text) < 2100 else timezone.localdate().year - 1


def _may_write(user, region_code: str) -> bool:
    return can_change_in(user, ReportNarrative, region=region_code)


@transaction.atomic
def report_narrative_save(*, actor, region_code: str, year: int, part: str, text: str) -> ReportNarrative:
    """A new version of a part's narrative (the earlier ones stay as its history)."""
    require(actor, _may_write, region_code)
    if part not in PART_KEYS:
        raise ValidationError(_("未知的报告部分"))
    narrative = ReportNarrative.objects.create(
        region_id=region_code, year=year, part=part, text=text.strip(), author=actor
    )
    audit.record(actor=actor, action=audit.Action.CREATE, instance=narrative)
    return narrative


@regulator_desk
def annual_report(request: HttpRequest) -> HttpResponse:
    region, year = _region(request), _year(request)
    if request.method == "POST":
        try:
            report_narrative_save(
                actor=request.user,
                region_code=region.code,
                year=year,
                part=request.POST.get("part", ""),
                text=request.POST.get("text", ""),
            )
            messages.success(request, _("已保存。"))
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, "；".join(getattr(exc, "messages", None) or [str(exc)]))
        return redirect(
            f"{request.path}?region={region.code}&year={year}#part-{request.POST.get('part', '')}"
        )
    parts = ar.build_report(request.user, region.code, year)
    history = {}
    for n in (
        ReportNarrative.objects.for_user(request.user)
        .filter(region=region, year=year)
        .select_related("author")
    ):
        history.setdefault(n.part, []).append(n)
    for part in parts:
        part["history"] = history.get(part["key"], [])[1:6]
    return render(
        request,
        "supervision/annual_report.html",
        {
            "region": region,
            "year": year,
            "parts": parts,
            "may_write": _may_write(request.user, region.code),
            "deadlines": ar.deadlines(timezone.localdate()),
            "last_quarter": Period.containing(timezone.localdate()).previous(),
        },
    )


@regulator_desk
def annual_report_export(request: HttpRequest, fmt: str) -> HttpResponse:
    region, year = _region(request), _year(request)
    doc = ar.report_document(region, year, ar.build_report(request.user, region.code, year))
    return document_response(doc, f"annual-report-{region.code}-{year}", fmt)


@regulator_desk
def quarter_pack_export(request: HttpRequest, fmt: str) -> HttpResponse:
    region = _region(request)
    try:
        period = Period.parse(request.GET.get("period", ""))
    except ValueError as exc:
        raise Http404 from exc
    return document_response(
        ar.quarter_pack_document(request.user, region, period), f"quarter-pack-{region.code}-{period}", fmt
    )


@regulator_desk
def annual_table_xlsx(request: HttpRequest) -> HttpResponse:
    region, year = _region(request), _year(request)
    return export_response(
        f"annual-table-{region.code}-{year}.xlsx",
        SheetTable(
            name=_("年度报表"),
            header=[str(h) for h in ar.ANNUAL_TABLE_HEADER],
            rows=ar.annual_table_rows(request.user, region.code, year),
            freeze_columns=1,
        ),
    )


@regulator_desk
def annual_table_export(request: HttpRequest, fmt: str) -> HttpResponse:
    region, year = _region(request), _year(request)
    return document_response(
        ar.annual_table_document(request.user, region, year), f"annual-table-{region.code}-{year}", fmt
    )
