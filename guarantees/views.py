"""Pages of loan-level records: the company's records, upload and upload history, a batch's progress and
findings, the regulator's portfolio tab (tabs.py) and the borrowers shared across institutions."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.excel import Table, attachment, csv_text, export_response, upload_channel, xlsx_bytes
from core.exceptions import AppError
from core.roles import is_company_user
from institutions.models import Bank, Institution

from . import selectors, services
from .choices import BatchStatus, Channel, ClientType, Sheet
from .excel import max_rows, template_csv_table, template_tables
from .models import ImportBatch
from .permissions import company_pages, may_file_records, record_readers, regulator_pages

BAND_LABELS = {"le5m": "≤ 500万", "le10m": "500万 – 1000万", "gt10m": "> 1000万"}


def _institution(request: HttpRequest) -> Institution:
    """A company user's own institution; for a regulator the one named by ?institution= (among those
    it sees: another region's is a 404)."""
    if is_company_user(request.user):
        return request.user.institution
    pk = request.GET.get("institution", "")
    if not pk.isdigit():
        raise Http404
    return get_object_or_404(Institution.objects.for_user(request.user), pk=int(pk))


@record_readers
def records(request: HttpRequest) -> HttpResponse:
    if not is_company_user(request.user) and not request.GET.get("institution"):
        messages.info(request, _("请从机构页面的“担保业务”标签进入某一机构的担保业务明细。"))
        return redirect("institutions:list")
    institution = _institution(request)
    filters = selectors.RecordFilter.from_query(request.GET)
    page = selectors.records_page(
        user=request.user, institution=institution, filters=filters, after=request.GET.get("after", "")
    )
    query = {k: v for k, v in request.GET.items() if k != "after" and v}
    return render(
        request,
        "guarantees/records.html",
        {
            "institution": institution,
            "page": page,
            "filters": filters,
            "query": urlencode(query),
            "client_types": ClientType.choices,
            "bands": BAND_LABELS.items(),
            "banks": Bank.objects.for_user(request.user).order_by("name").only("id", "name"),
            "can_file": may_file_records(request.user, institution) and is_company_user(request.user),
        },
    )


@record_readers
def records_export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in ("xlsx", "csv"):
        raise Http404
    institution = _institution(request)
    filters = selectors.RecordFilter.from_query(request.GET)
    table = Table(
        _("担保业务明细"),
        [str(h) for h in selectors.EXPORT_HEADER],
        selectors.records_export_rows(user=request.user, institution=institution, filters=filters),
        widths=[18, 28, 12, 22, 26, 12, 12, 12, 12, 12, 10, 10, 14, 10, 10],
    )
    name = f"担保业务明细-{institution.credit_code}-{timezone.localdate():%Y%m%d}.{fmt}"
    return export_response(name, table)


@record_readers
def template_download(request: HttpRequest, name: str) -> HttpResponse:
    """The template in the reader's language (sheet names, headers, instructions)."""
    if name == "template.xlsx":
        return attachment(
            xlsx_bytes(*template_tables()), _("%(name)s模板") % {"name": _("担保业务明细")} + ".xlsx"
        )
    sheet = {"guarantees.csv": Sheet.GUARANTEES, "events.csv": Sheet.EVENTS}.get(name)
    if sheet is None:
        raise Http404
    table = template_csv_table(sheet)
    return attachment(csv_text(table), _("%(name)s模板") % {"name": table.name} + ".csv")


@upload_channel("guarantees")
@company_pages
def upload(request: HttpRequest) -> HttpResponse:
    institution = request.user.institution
    if request.method == "POST":
        files = [request.FILES[k] for k in ("file", "events_file") if k in request.FILES]
        if not files:
            messages.error(request, _("请选择要上传的文件。"))
            return redirect("guarantees:upload")
        try:
            batch = services.batch_submit(
                actor=request.user,
                institution=institution,
                channel=Channel.UPLOAD,
                files=[(f.read(), f.name) for f in files],
            )
        except AppError as exc:
            messages.error(request, str(exc))
            return redirect("guarantees:upload")
        return redirect("guarantees:batch", batch.pk)
    history = Paginator(selectors.batches_for(request.user).filter(institution=institution), 20)
    return render(
        request,
        "guarantees/upload.html",
        {
            "institution": institution,
            "page": history.get_page(request.GET.get("page")),
            "query": "",
            "max_rows": f"{max_rows():,}",
        },
    )


def _batch(request: HttpRequest, pk: int) -> ImportBatch:
    return get_object_or_404(selectors.batches_for(request.user), pk=pk)


def _batch_context(batch: ImportBatch) -> dict:
    job_open = batch.job is not None and batch.job.status in ("queued", "running")
    return {
        "batch": batch,
        "working": job_open or batch.status == BatchStatus.VALIDATING,
        "awaiting_confirmation": batch.status == BatchStatus.STAGED
        and batch.warning_count
        and not batch.error_count
        and not job_open,
        "has_report": any(f.get("rule") != "file" for f in batch.findings),
        "findings": batch.findings[:200],
    }


@record_readers
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    context = _batch_context(batch)
    context["can_confirm"] = may_file_records(request.user, batch.institution)
    return render(request, "guarantees/batch.html", context)


@record_readers
def batch_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress card alone, polled by htmx while the batch's job runs; once it is done the whole
    page is reloaded (HX-Refresh) to show findings or counts."""
    batch = _batch(request, pk)
    context = _batch_context(batch)
    response = render(request, "guarantees/_progress.html", context)
    if not context["working"] and request.GET.get("polling"):
        response["HX-Refresh"] = "true"
    return response


@company_pages
@require_POST
def batch_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    try:
        services.batch_confirm(actor=request.user, batch=batch)
    except AppError as exc:
        messages.error(request, str(exc))
    return redirect("guarantees:batch", batch.pk)


@record_readers
def batch_report(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    return attachment(selectors.batch_error_report(batch), f"担保明细校验结果-{batch.pk}.xlsx")


@regulator_pages
def borrowers(request: HttpRequest) -> HttpResponse:
    on = _date(request.GET.get("on")) or timezone.localdate()
    identifier = request.GET.get("q", "").strip()[:18]
    groups = selectors.borrower_groups(user=request.user, on=on, identifier=identifier)
    if request.GET.get("export") == "xlsx":
        rows = (
            [g["identifier"], g["name"], m["institution__name"], m["guarantees"], m["balance"]]
            for g in groups
            for m in g["members"]
        )
        table = Table(
            _("多机构共同客户"),
            [_("证件号码"), _("客户名称"), _("担保机构"), _("在保笔数"), _("在保余额（万元）")],
            rows,
        )
        return export_response(f"多机构共同客户-{on:%Y%m%d}.xlsx", table)
    return render(request, "guarantees/borrowers.html", {"groups": groups, "on": on, "q": identifier})


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def portfolio_tab(request: HttpRequest, institution: Institution) -> dict:
    """The institution page's 担保业务 tab: the portfolio in force on ?on= (default today)."""
    on = _date(request.GET.get("on")) or timezone.localdate()
    data = selectors.portfolio(user=request.user, institution=institution, on=on)
    records_url = reverse("guarantees:records")
    base = {"institution": institution.pk, "in_force_on": on.isoformat()}

    def link(**extra) -> str:
        return f"{records_url}?{urlencode({**base, **extra})}"

    bands = [
        {"label": BAND_LABELS[code], "url": link(band=code), **values}
        for code, values in data["bands"].items()
    ]
    for t in data["types"]:
        t["url"] = link(client_type=t["code"])
    for b in data["banks"]:
        b["url"] = link(bank=b["bank_id"]) if b["bank_id"] else ""
    for c in data["clients"]:
        c["url"] = link(client_id=c["client_id"])
    chart = {
        "bands": [{"name": b["label"], "value": float(b["balance"]), "url": b["url"]} for b in bands],
        "types": [{"name": t["label"], "value": float(t["balance"]), "url": t["url"]} for t in data["types"]],
        "banks": [{"name": b["name"], "value": float(b["balance"]), "url": b["url"]} for b in data["banks"]],
        "trend": [{"name": p["date"].isoformat(), "value": float(p["balance"])} for p in data["trend"]],
    }
    return {
        "portfolio": data,
        "portfolio_bands": bands,
        "portfolio_chart": chart,
        "records_link": link(),
    }
