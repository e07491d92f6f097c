"""Pages of the quarterly report: company filing (web form by section, Excel, receipt), regulator
review queue, review page, completeness board, rules, exports. Every queryset starts from for_user."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import Region
from core import audit
from core.excel import attachment, export_response, upload_channel
from core.parsing import parse_id
from core.permissions import signed_in
from core.roles import acts_for
from guarantees.selectors import has_records

from . import excel, exports, receipts, selectors, services, validation
from .choices import Basis, Channel, FilingStatus, ReviewParameterKey, Severity
from .models import DueDateSetting, Filing, FilingVersion, Notification, ValidationRule
from .periods import Period
from .permissions import (
    company_pages,
    filing_readers,
    may_change_validation_rules,
    may_review,
    may_set_due_dates,
    may_set_tolerance,
    may_submit_filing,
    reviewer_pages,
)

SECTIONS = {  # lazy: read in the language of each request, not of the import
    "A": gettext_lazy("A 资产负债"),
    "B": gettext_lazy("B 损益"),
    "C": gettext_lazy("C 担保业务"),
    "D": gettext_lazy("D 支小支农"),
    "E": gettext_lazy("E 费率"),
    "F": gettext_lazy("F 代偿与回收"),
    "G": gettext_lazy("G 集中度与关联"),
    "H": gettext_lazy("H 银担合作与再担保"),
    "I": gettext_lazy("I 人员"),
}


def filing_period_default() -> Period:
    """The quarter being filed now: the last completed one."""
    return Period.containing(timezone.localdate()).previous()


def _period_arg(request, default: Period | None = None) -> Period:
    text = request.GET.get("period") or request.POST.get("period")
    if not text:
        return default or filing_period_default()
    return Period.parse(text)  # InvalidPeriod: a 400 page quoting the text


def _sections(fields, values, previous, findings_by_field, comments=None, *, large_change=None):
    """Rows by template section; with `large_change`, each row also carries its change on the previous
    period, flagged from that size (balances and cumulative figures only: a year-to-date flow grows every
    quarter and restarts in Q1)."""
    out = {}
    for f in fields:
        prev = (previous or {}).get(f.code)
        comparable = large_change is not None and f.basis != Basis.YTD
        change = _change(values.get(f.code), prev) if comparable else None
        out.setdefault(
            f.section, {"code": f.section, "title": SECTIONS.get(f.section, f.section), "rows": []}
        )["rows"].append(
            {
                "field": f,
                "value": values.get(f.code, ""),
                "previous": prev,
                "change": change,
                "change_large": change is not None and abs(change) >= large_change,
                "findings": findings_by_field.get(f.code, []),
                "comment": (comments or {}).get(f.code, ""),
            }
        )
    return list(out.values())


def _large_change(day) -> Decimal:
    """The smallest limit of the quarter-on-quarter rules in force: policy data, so the review page
    highlights changes on the scale the rules judge them (with no such rule active, none is flagged)."""
    limits = [Decimal(str(r.params["limit"])) for r in services.rule_specs(day) if r.kind == "qoq_change"]
    return min(limits, default=Decimal("Infinity"))


def _change(value, previous):
    """Relative change on the previous period, or None where it means nothing (missing, zero base)."""
    try:
        value, previous = Decimal(value), Decimal(previous)
    except (TypeError, ArithmeticError, ValueError):
        return None
    return None if previous == 0 else (value - previous) / abs(previous)


def _by_field(findings):
    """Findings shown beside each field: a relation rule under its first field; a missing required
    field gets a short note of its own (the full list is in the side panel)."""
    out = {}
    for f in findings:
        if f.kind == "required":
            for code in f.fields:
                out.setdefault(code, []).append(
                    {"rule_id": f.rule_id, "severity": f.severity, "message_zh": _("未填报"), "kind": f.kind}
                )
        elif f.fields:
            out.setdefault(f.fields[0], []).append(f)
    return out


def _errors_by_field(errors) -> dict[str, list[dict]]:
    """Format errors beside the field they concern (the form marks that field itself)."""
    out = {}
    for e in errors or []:
        out.setdefault(e.get("field"), []).append(e)
    return out


def _previous_values(institution_id, period):
    prev = services.submitted_version(institution_id, period.previous())
    return prev.values if prev else None


# ---------------------------------------------------------------------------------------------- lists
@filing_readers
def filing_list(request):
    user = request.user
    qs = selectors.listed(selectors.filings_for(user)).select_related("template")
    period_text = request.GET.get("period", "")
    status = request.GET.get("status", "")
    if period_text:
        p = _period_arg(request)
        qs = qs.filter(year=p.year, quarter=p.quarter)
    if status in FilingStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(
        qs.order_by("-year", "-quarter", "institution__region_id", "institution__name"), 30
    ).get_page(request.GET.get("page"))
    query = "&".join(f"{k}={v}" for k, v in (("period", period_text), ("status", status)) if v)
    can_file = company_pages.access.allows(user)
    return render(
        request,
        "reporting/filing_list.html",
        {
            "page": page,
            "query": query,
            "statuses": FilingStatus.choices,
            "status": status,
            "period_text": period_text,
            "filing_period": filing_period_default(),
            "periods": _recent_periods(),
            "can_file": can_file,
            "file_action": _file_action(user) if can_file else None,
        },
    )


def _file_action(user) -> dict:
    """The filing list's main button for the quarter being filed now, named by what it does: fill in,
    continue the draft, correct the returned report, or (submitted or accepted) view it."""
    p = filing_period_default()
    f = (
        Filing.objects.for_user(user)
        .filter(institution_id=user.institution_id, year=p.year, quarter=p.quarter)
        .first()
    )
    status = f.status if f else None
    if status == FilingStatus.ACCEPTED:
        return {
            "label": _("查看%(p)s报表（已受理）") % {"p": p.label},
            "url": reverse("reporting:filing", args=[f.pk]),
            "icon": "eye",
        }
    if status == FilingStatus.SUBMITTED:
        return {
            "label": _("查看%(p)s报表（审核中）") % {"p": p.label},
            "url": reverse("reporting:filing", args=[f.pk]),
            "icon": "eye",
        }
    if status == FilingStatus.RETURNED:
        label = _("修改被退回的%(p)s报表") % {"p": p.label}
    elif f:
        label = _("继续填报%(p)s") % {"p": p.label}
    else:
        label = _("填报%(p)s") % {"p": p.label}
    return {"label": label, "url": reverse("reporting:filing_edit", args=[p]), "icon": "pencil-square"}


def _recent_periods(n=8):
    p = filing_period_default()
    out = []
    for _i in range(n):
        out.append(p)
        p = p.previous()
    return out


# ---------------------------------------------------------------------------------------------- company form
@company_pages
def filing_edit(request: HttpRequest, period: str) -> HttpResponse:
    """The web form by section: previous period beside each field, findings inline (htmx)."""
    p = Period.parse(period)
    institution = request.user.institution
    filing = (
        Filing.objects.filter(institution=institution, year=p.year, quarter=p.quarter)
        .select_related("current_version", "template")
        .first()
    )
    if filing and filing.status in (FilingStatus.SUBMITTED, FilingStatus.ACCEPTED):
        return redirect("reporting:filing", pk=filing.pk)
    template = filing.template if filing else services.template_for(p)
    fields = services.template_fields(template)
    if request.method == "POST":
        raw = {f.code: request.POST.get(f.code, "") for f in fields}
        nil = request.POST.get("nil_return") == "1"
        try:
            filing, _version, _f = services.filing_save_draft(
                actor=request.user,
                institution=institution,
                period=p,
                values=raw,
                nil_return=nil,
                channel=Channel.WEB,
                merge=True,
                explanations={k[4:]: v for k, v in request.POST.items() if k.startswith("exp_")},
            )
        except services.FilingError as exc:
            for message in [m for field_messages in exc.errors.values() for m in field_messages]:
                messages.error(request, message)
            if not exc.errors:
                messages.error(request, exc.message)
            return redirect("reporting:filing_edit", period=str(p))
        messages.success(request, _("草稿已保存。"))
        return redirect("reporting:filing", pk=filing.pk)
    version = filing.current_version if filing else None
    values = (
        dict(version.values)
        if version and not version.is_frozen
        else (dict(version.values) if version else {})
    )
    if not version:
        values = services.opening_values(institution.pk, p)
    findings, _rs = services.check(
        institution_id=institution.pk,
        period=p,
        values=values,
        nil_return=bool(version and version.nil_return),
        template=template,
    )
    comments = version.review_comments if version else {}
    return render(
        request,
        "reporting/filing_form.html",
        {
            "period": p,
            "filing": filing,
            "institution": institution,
            "version": version,
            "sections": _sections(
                fields, values, _previous_values(institution.pk, p), _by_field(findings), comments
            ),
            "findings": findings,
            "fields": fields,
            "general_comment": comments.get("_", ""),
            "has_records": has_records(institution.pk),
            "prefill": (version.prefill or {}) if version else {},
            "overrides": (version.overrides or {}) if version else {},
            "blocking": validation.blocking(findings),
            "warnings": [f for f in findings if f.severity == Severity.WARNING],
            "explanations": (version.explanations or {}) if version else {},
        },
    )


@company_pages
@require_POST
def filing_check(request, period):
    """htmx: findings for the values in the form, nothing saved."""
    p = Period.parse(period)
    template = services.template_for(p)
    fields = services.template_fields(template)
    clean, errors = services.parse_values({f.code: request.POST.get(f.code, "") for f in fields}, fields)
    findings = []
    if not errors:
        findings, _rs = services.check(
            institution_id=request.user.institution_id,
            period=p,
            values=clean,
            nil_return=request.POST.get("nil_return") == "1",
            template=template,
        )
    by_field = _by_field(findings)
    return render(
        request,
        "reporting/_findings.html",
        {
            "findings": findings,
            "errors": errors,
            "codes": [f.code for f in fields],
            "by_field": by_field,
            "errors_by_field": _errors_by_field(errors),
            "oob": True,
        },
    )


# ---------------------------------------------------------------------------------------------- filing page
def _filing_or_404(user, pk):
    return get_object_or_404(
        selectors.filings_for(user)
        .select_related("template", "current_version__submitted_by", "current_version__created_by")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=FilingVersion.objects.select_related("submitted_by", "created_by").defer(
                    *selectors.VERSION_DATA
                ),
            )
        ),
        pk=pk,
    )


def _version_findings(filing, version):
    if version is None:
        return []
    if version.is_frozen:
        return [validation.Finding(**f) for f in version.findings]
    findings, _rs = services.check(
        institution_id=filing.institution_id,
        period=filing.period,
        values=version.values,
        nil_return=version.nil_return,
        template=filing.template,
    )
    return findings


@signed_in
def filing_detail(request, pk):
    filing = _filing_or_404(request.user, pk)
    version = filing.current_version
    number = request.GET.get("v")
    if number and number.isascii() and number.isdigit():
        version = filing.versions.filter(number=int(number)).first() or version
    findings = _version_findings(filing, version)
    fields = services.template_fields(filing.template)
    user = request.user
    own = acts_for(user, filing.institution_id)
    return render(
        request,
        "reporting/filing_detail.html",
        {
            "filing": filing,
            "version": version,
            "findings": findings,
            "sections": _sections(
                fields,
                version.values if version else {},
                _previous_values(filing.institution_id, filing.period),
                _by_field(findings),
                version.review_comments if version else {},
            ),
            "warnings": [f for f in findings if f.severity == Severity.WARNING],
            "errors": validation.blocking(findings),
            "can_edit": own and filing.status in (FilingStatus.DRAFT, FilingStatus.RETURNED),
            "can_submit": own
            and may_submit_filing(user, filing.institution_id)
            and version is not None
            and not version.is_frozen
            and filing.status in (FilingStatus.DRAFT, FilingStatus.RETURNED),
            "can_amend": own and filing.status == FilingStatus.ACCEPTED,
            "can_review": may_review(user, filing) and filing.status == FilingStatus.SUBMITTED,
            "events": audit.history(filing)[:30],
            "poll_seconds": settings.FILING_POLL_SECONDS,
            "general_comment": (version.review_comments or {}).get("_", "") if version else "",
            "comment_lines": services.comment_lines(filing.template, version.review_comments)
            if version and version.review_comments
            else [],
        },
    )


@signed_in
def filing_changed(request, pk):
    """Polled by the page of a filing awaiting review: 204 while the filing is as the page shows it
    (`since`, its revision then), else an empty answer telling htmx to reload the page. A few
    milliseconds instead of the whole page that people waiting for the decision would otherwise reload."""
    revision = get_object_or_404(
        Filing.objects.for_user(request.user).only("status", "updated_at"), pk=pk
    ).revision
    if revision == request.GET.get("since"):
        return HttpResponse(status=204)
    response = HttpResponse()
    response["HX-Refresh"] = "true"
    return response


@signed_in
@require_POST
def filing_submit(request, pk):
    filing = _filing_or_404(request.user, pk)
    explanations = {k[4:]: v for k, v in request.POST.items() if k.startswith("exp_")}
    try:
        services.filing_submit(actor=request.user, filing=filing, explanations=explanations)
    except services.FilingError as exc:
        messages.error(request, exc.message)
        return redirect("reporting:filing", pk=pk)
    messages.success(request, _("报表已报送，回执已生成。"))
    return redirect("reporting:receipt", pk=pk)


@signed_in
@require_POST
def filing_amend(request, pk):
    filing = _filing_or_404(request.user, pk)
    try:
        services.filing_amend(actor=request.user, filing=filing, reason=request.POST.get("reason", ""))
    except services.FilingError as exc:
        messages.error(request, exc.message)
        return redirect("reporting:filing", pk=pk)
    messages.success(request, _("已发起更正，请修改后重新报送。"))
    return redirect("reporting:filing_edit", period=str(filing.period))


@signed_in
def receipt(request, pk):
    filing = _filing_or_404(request.user, pk)
    version = filing.current_version
    if version is None or not version.is_frozen:
        raise Http404(_("尚未报送，没有回执"))
    return render(request, "reporting/receipt.html", {"filing": filing, "version": version})


@signed_in
def receipt_pdf(request, pk):
    filing = _filing_or_404(request.user, pk)
    version = filing.current_version
    if version is None or not version.is_frozen:
        raise Http404(_("尚未报送，没有回执"))
    response = HttpResponse(receipts.receipt_pdf(filing, version), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="receipt-{filing.institution.credit_code}-{filing.period}-v{version.number}.pdf"'
    )
    return response


# ---------------------------------------------------------------------------------------------- excel
@company_pages
def excel_download(request: HttpRequest, period: str) -> HttpResponse:
    p = Period.parse(period)
    content = excel.workbook_for(institution=request.user.institution, period=p)
    return attachment(content, f"quarterly-{request.user.institution.credit_code}-{p}.xlsx")


@upload_channel("quarterly")
@company_pages
@require_POST
def excel_upload(request: HttpRequest, period: str) -> HttpResponse:
    p = Period.parse(period)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择要上传的 Excel 文件"))
        return redirect("reporting:filing_edit", period=str(p))
    result = excel.import_upload(
        actor=request.user,
        institution=request.user.institution,
        period=p,
        data=upload,
        filename=upload.name,
    )
    if result.errors:
        messages.error(request, _("Excel 未导入，未保存任何数据"))
        for e in result.errors[:20]:
            messages.error(request, str(e))
        return redirect("reporting:filing_edit", period=str(p))
    messages.success(request, _("Excel 已导入为草稿（%(n)s 个字段）。") % {"n": len(result.version.values)})
    if result.findings:
        messages.warning(
            request,
            _("发现 %(n)s 条校验结果，可在本页下载“校验标注工作簿”查看标注的单元格。")
            % {"n": len(result.findings)},
        )
    return redirect("reporting:filing", pk=result.filing.pk)


# ---------------------------------------------------------------------------------------------- regulator
@reviewer_pages
def review_queue(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":  # bulk review of the selected filings
        ids = [int(i) for i in request.POST.getlist("filing") if i.isdigit()]
        chosen = list(
            selectors.filings_for(request.user)
            .filter(pk__in=ids, status=FilingStatus.SUBMITTED)
            .select_related("current_version", "template")
        )
        try:
            if request.POST.get("action") == "accept":
                done, skipped = services.filings_accept_bulk(actor=request.user, filings=chosen)
                messages.success(request, _("已受理 %(n)s 份报表。") % {"n": len(done)})
                if skipped:
                    messages.warning(
                        request,
                        _("%(n)s 份报表有未说明的提示或已被他人处理，未受理：%(names)s")
                        % {"n": len(skipped), "names": "、".join(f.institution.name for f in skipped)},
                    )
            elif request.POST.get("action") == "return":
                done, skipped = services.filings_return_bulk(
                    actor=request.user, filings=chosen, reason=request.POST.get("reason", "")
                )
                messages.success(request, _("已退回 %(n)s 份报表并通知机构。") % {"n": len(done)})
        except services.FilingError as exc:
            messages.error(request, exc.message)
        return redirect("reporting:review_queue")
    points = selectors.review_points_for(request.user)
    queue = selectors.review_queue(request.user, points).select_related("review_claimed_by")
    claim = request.GET.get("claim", "")
    lapsed = timezone.now() - dt.timedelta(minutes=settings.REVIEW_CLAIM_IDLE_MINUTES)
    active = Q(review_claimed_by__isnull=False, review_claimed_at__gte=lapsed)
    if claim == "mine":
        queue = queue.filter(active, review_claimed_by=request.user)
    elif claim == "free":
        queue = queue.exclude(active)
    elif claim == "others":
        queue = queue.filter(active).exclude(review_claimed_by=request.user)
    page = Paginator(queue, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "reporting/review_queue.html",
        {
            "page": page,
            "badge_high": points.require(ReviewParameterKey.BADGE_HIGH).value,
            "badge_medium": points.require(ReviewParameterKey.BADGE_MEDIUM).value,
            "claim": claim,
            "claim_tabs": [
                ("", _("全部")),
                ("free", _("无人审核")),
                ("mine", _("我在审核")),
                ("others", _("他人审核中")),
            ],
            "query": f"claim={claim}" if claim else "",
        },
    )


def _colleagues(user, filing):
    from .inbox import jurisdiction_regulators

    return list(
        jurisdiction_regulators(filing.institution.region_id)
        .exclude(pk=user.pk)
        .select_related("region")
        .order_by("region_id", "username")
    )


@reviewer_pages
def review(request, pk):
    filing = _filing_or_404(request.user, pk)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "accept":
                services.filing_accept(actor=request.user, filing=filing, note=request.POST.get("note", ""))
                messages.success(request, _("已受理。"))
            elif action == "hand_over":
                from .inbox import jurisdiction_regulators

                to = (
                    jurisdiction_regulators(filing.institution.region_id)
                    .filter(pk=request.POST.get("to"))
                    .first()
                )
                if to is None:
                    raise services.FilingError(_("请选择辖区内的监管人员。"))
                services.review_hand_over(actor=request.user, filing=filing, to=to)
                messages.success(request, _("已转交 %(u)s 审核。") % {"u": to})
            elif action == "return":
                comments = {k[4:]: v for k, v in request.POST.items() if k.startswith("cmt_")}
                services.filing_return(
                    actor=request.user, filing=filing, comments=comments, note=request.POST.get("note", "")
                )
                messages.success(request, _("已退回并通知机构。"))
            else:
                raise services.FilingError(_("未知操作"))
        except services.FilingError as exc:
            messages.error(request, exc.message)
            return redirect("reporting:review", pk=pk)
        return redirect("reporting:review_queue")
    holder = None
    if filing.status == FilingStatus.SUBMITTED and may_review(request.user, filing):
        holder = services.review_claim(actor=request.user, filing=filing).claim_holder()
    version = filing.current_version
    findings = _version_findings(filing, version)
    fields = services.template_fields(filing.template)
    points = selectors.review_points_for(request.user)
    return render(
        request,
        "reporting/review.html",
        {
            "filing": filing,
            "risk": selectors.review_risk(points, filing),
            "claim_holder": holder,
            "claimed_by_me": holder is not None and holder.pk == request.user.pk,
            "colleagues": _colleagues(request.user, filing)
            if holder is not None and holder.pk == request.user.pk
            else [],
            "version": version,
            "findings": findings,
            "sections": _sections(
                fields,
                version.values if version else {},
                _previous_values(filing.institution_id, filing.period),
                _by_field(findings),
                large_change=_large_change(filing.period.end),
            ),
            "can_review": filing.status == FilingStatus.SUBMITTED
            and (holder is None or holder.pk == request.user.pk),
            "claim_minutes": settings.REVIEW_CLAIM_IDLE_MINUTES,
            "events": audit.history(filing)[:30],
        },
    )


@reviewer_pages
def completeness(request):
    latest = (
        selectors.filings_for(request.user)
        .order_by("-year", "-quarter")
        .values_list("year", "quarter")
        .first()
    )
    p = _period_arg(request, Period(*latest) if latest else None)
    board = selectors.completeness(request.user, p)
    state = request.GET.get("state", "")
    city = request.GET.get("city", "")
    rows = board["rows"]
    if city.isdigit() and len(city) == 6:  # a city's institutions (drill-down from the city breakdown)
        rows = [r for r in rows if r["institution"].region_id[:4] == city[:4]]
    if state == "late":
        rows = [r for r in rows if r["late"]]
    elif state == "overdue":
        rows = [r for r in rows if r["overdue"]]
    elif state == "filed":
        rows = [r for r in rows if r["state"] != "missing"]
    elif state == "nil":
        rows = [r for r in rows if r["nil"]]
    elif state:
        rows = [r for r in rows if r["state"] == state]
    page = Paginator(rows, 40).get_page(request.GET.get("page"))
    c = board["counts"]
    chart = [  # each bar drills down to the institutions behind it
        {"name": str(label), "value": c[key], "url": f"?period={p}&state={key}"}
        for key, label in (
            ("accepted", _("已受理")),
            ("submitted", _("待审核")),
            ("returned", _("已退回")),
            ("draft", _("更正中")),
            ("nil", _("零报告")),
            ("late", _("逾期报送")),
            ("overdue", _("逾期未报")),
            ("missing", _("未报送")),
        )
    ]
    city_names = dict(Region.objects.filter(code__in=board["by_city"]).values_list("code", "name"))
    by_city = [
        {"code": code, "name": city_names.get(code, code), **counts}
        for code, counts in sorted(board["by_city"].items())
    ]
    periods = _recent_periods(12)
    if p not in periods:
        periods.append(p)
    return render(
        request,
        "reporting/completeness.html",
        {
            "period": p,
            "by_city": by_city if len(by_city) > 1 else [],
            "city": city,
            "aggregate_statuses": [(v, FilingStatus(v).label) for v in exports.AGGREGATE_STATUSES],
            "aggregate_default": exports.AGGREGATE_DEFAULT,
            "periods": periods,
            "counts": c,
            "page": page,
            "chart": chart,
            "state": state,
            "query": f"period={p}" + (f"&state={state}" if state else "") + (f"&city={city}" if city else ""),
        },
    )


@reviewer_pages
@require_POST
def remind(request):
    """Bulk reminders to the institutions that have not filed (one manual reminder per institution a day)."""
    p = _period_arg(request)
    ids = [int(i) for i in request.POST.getlist("institution") if i.isascii() and i.isdigit()]
    from .reminders import remind_manual

    sent = remind_manual(actor=request.user, period=p, institution_ids=ids or None)
    messages.success(request, _("已向 %(n)s 家机构发送催报提醒（今日已提醒的不重复发送）。") % {"n": sent})
    return redirect(f"{reverse('reporting:completeness')}?period={p}")


@filing_readers
def rules(request):
    editable = may_change_validation_rules(request.user)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        rule = get_object_or_404(
            ValidationRule.objects.for_user(request.user), pk=parse_id(request.POST.get("rule"), name="rule")
        )
        try:
            services.rule_update(
                actor=request.user,
                rule=rule,
                active={"on": True, "off": False}.get(request.POST.get("active", "")),
                severity=request.POST.get("severity") or None,
                note=request.POST.get("note", ""),
            )
        except services.FilingError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("规则 %(r)s 已更新。") % {"r": rule.rule_id})
        return redirect("reporting:rules")
    rows = ValidationRule.objects.for_user(request.user).order_by("rule_id")
    today = timezone.localdate()
    return render(
        request,
        "reporting/rules.html",
        {
            "rules": rows,
            "editable": editable,
            "severities": Severity.choices,
            "ruleset_version": validation.ruleset_version(services.rule_specs(today)),
        },
    )


@signed_in
def rule_history(request, pk):
    rule = get_object_or_404(ValidationRule.objects.for_user(request.user), pk=pk)
    return render(request, "reporting/rule_history.html", {"rule": rule, "events": audit.history(rule)})


@filing_readers
def findings_workbook(request: HttpRequest, pk: int) -> HttpResponse:
    """The filing's values in the Excel layout with offending cells highlighted and commented."""
    filing = _filing_or_404(request.user, pk)
    version = filing.current_version
    if version is None:
        raise Http404
    content = excel.workbook_for(
        institution=filing.institution,
        period=filing.period,
        values=version.values,
        findings=_version_findings(filing, version),
    )
    return attachment(
        content, f"findings-{filing.institution.credit_code}-{filing.period}-v{version.number}.xlsx"
    )


@reviewer_pages
def due_settings(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        import datetime as dt

        try:
            region = request.POST.get("region") or None
            services.due_setting_save(
                actor=request.user,
                region_code=region,
                days_after_quarter_end=int(request.POST.get("days_after_quarter_end", "")),
                remind_days_before=int(request.POST.get("remind_days_before", "")),
                overdue_days_after=int(request.POST.get("overdue_days_after", "")),
                effective_from=dt.date.fromisoformat(request.POST.get("effective_from", "")),
                source=request.POST.get("source", "")[:300],
            )
        except (ValueError, TypeError):
            messages.error(request, _("请填写有效的天数和日期"))
        except services.FilingError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("报送期限已保存。"))
        return redirect("reporting:due_settings")
    rows = list(DueDateSetting.objects.for_user(request.user))
    names = dict(Region.objects.filter(code__in={r.region_code for r in rows}).values_list("code", "name"))
    for row in rows:
        row.region_name = names.get(row.region_code, row.region_code)
    province = (request.user.region_id or "")[:2] + "0000" if request.user.region_id else ""
    today = timezone.localdate()
    return render(
        request,
        "reporting/due_settings.html",
        {
            "rows": rows,
            "province": province,
            "national": DueDateSetting.objects.require(today),
            "current": DueDateSetting.objects.require(today, province),  # the form starts from it
            "can_set_national": may_set_due_dates(request.user, None),
        },
    )


@reviewer_pages
def export_aggregate(request: HttpRequest) -> HttpResponse:
    p = _period_arg(request)
    region = request.user.region_id or ""  # the jurisdiction; an administrator's is the whole country
    statuses = exports.aggregate_statuses(request.GET.getlist("status"))
    return attachment(
        exports.aggregate_xlsx(user=request.user, period=p, region_code=region, statuses=statuses),
        f"aggregate-{region or 'all'}-{p}.xlsx",
    )


@reviewer_pages
def export_csv(request: HttpRequest) -> HttpResponse:
    p = _period_arg(request)
    return export_response(f"filings-{p}.csv", exports.filings_table(user=request.user, period=p))


@signed_in
def notifications(request):
    page = Paginator(Notification.objects.for_user(request.user), 30).get_page(request.GET.get("page"))
    response = render(request, "reporting/notifications.html", {"page": page})
    # Shown is read: the count beside 消息 counts the messages not yet seen (the page marks them new).
    Notification.objects.for_user(request.user).filter(read_at__isnull=True).update(read_at=timezone.now())
    return response


# ---------------------------------------------------------------------------------------------- records
@signed_in
def reconciliation_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The filed figures beside those derived from the loan-level records, every line, with the REL-01
    guarantees; the company and the regulators who may read the filing."""
    from . import reconciliation

    filing = _filing_or_404(request.user, pk)
    version = filing.current_version
    context = reconciliation.panel_context(filing)
    return render(
        request,
        "reporting/reconciliation.html",
        {
            **context,
            "version": version,
            "prefill": (version.prefill or {}) if version else {},
            "can_edit_tolerance": may_set_tolerance(
                request.user, request.user.region_id[:2] + "0000" if request.user.region_id else None
            ),
        },
    )


@company_pages
@require_POST
def filing_prefill(request: HttpRequest, period: str) -> HttpResponse:
    """Take the values derived from the loan-level records into the draft (the filer may change them)."""
    try:
        p = Period.parse(period)
    except ValueError as exc:
        raise Http404(str(exc)) from exc
    try:
        _filing, version, _f = services.filing_prefill(
            actor=request.user, institution=request.user.institution, period=p
        )
    except services.FilingError as exc:
        messages.error(request, exc.message)
        return redirect("reporting:filing_edit", period=str(p))
    messages.success(
        request, _("已从担保业务明细预填 %(n)s 个字段，可逐项核对修改。") % {"n": len(version.prefill)}
    )
    return redirect("reporting:filing_edit", period=str(p))


@filing_readers
def tolerances(request: HttpRequest) -> HttpResponse:
    """The reconciliation tolerances in force and their history; a provincial regulator adds its own."""
    import datetime as dt

    from .models import ReconciliationTolerance
    from .reconciliation import RECONCILED_FIELDS

    user = request.user
    province = (user.region_id or "")[:2] + "0000" if user.region_id else None
    can_edit = may_set_tolerance(user, province)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        try:
            absolute = Decimal(request.POST.get("absolute", "").strip())
            relative = Decimal(request.POST.get("relative", "").strip())
            start = dt.date.fromisoformat(request.POST.get("effective_from", ""))
        except (ArithmeticError, ValueError):
            messages.error(request, _("请填写有效的容差和日期"))
            return redirect("reporting:tolerances")
        try:
            services.tolerance_save(
                actor=user,
                region_code=province,
                field_code=request.POST.get("field_code", ""),
                absolute=absolute,
                relative=relative,
                effective_from=start,
                source=request.POST.get("source", ""),
            )
        except services.FilingError as exc:
            messages.error(request, exc.message)
            for field_messages in exc.errors.values():
                for m in field_messages:
                    messages.error(request, m)
        else:
            messages.success(request, _("核对容差已保存。"))
        return redirect("reporting:tolerances")
    rows = list(
        ReconciliationTolerance.objects.for_user(user).order_by(
            "region_code", "field_code", "-effective_from"
        )
    )
    template = services.template_for(filing_period_default())
    labels = {f.code: f for f in services.template_fields(template)}
    for row in rows:
        row.field = labels.get(row.field_code)
    return render(
        request,
        "reporting/tolerances.html",
        {
            "rows": rows,
            "can_edit": can_edit,
            "province": province,
            "codes": [(c, labels[c]) for c in RECONCILED_FIELDS if c in labels],
        },
    )
