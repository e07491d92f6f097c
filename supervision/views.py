"""Indicator pages: dashboards (regulator and company), lineage of every value, drill-down lists,
warning cases and threshold editing with what-if."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from core.audit import history
from core.excel import Table, export_response
from core.models import AuditEvent, Job
from core.parsing import parse_decimal, parse_id
from core.permissions import signed_in
from core.roles import is_company_user
from core.scoping import region_subtree_q
from core.templatetags.portal import localized, money
from institutions.models import Institution
from reporting.models import FieldDefinition, Filing
from reporting.periods import Period

from . import indicators as ind
from . import selectors as sel
from .forms import CloseWarningForm, ParameterForm, ThresholdForm
from .models import (
    CloseReason,
    IndicatorBreach,
    IndicatorRun,
    IndicatorValue,
    PolicyParameter,
    Severity,
    Threshold,
    ThresholdScope,
    WarningCase,
    WarningStatus,
)
from .permissions import (
    dashboard_users,
    may_edit_threshold,
    may_set_parameters,
    region_overview,
    regulator_desk,
)
from .services.cases import (
    case_regulators,
    cells_for,
    warning_case_acknowledge,
    warning_case_assign,
    warning_case_close,
    warning_cases_bulk_assign,
    warning_cases_bulk_close,
)
from .services.compute import params_on
from .services.policy import (
    PREVIEW_KIND,
    parameter_preview_enqueue,
    parameter_preview_result,
    parameter_save,
    threshold_preview,
    threshold_save,
)

TREND_CODES = ["average_fee_rate", "compensation_rate"]
# Why a value is undefined or a rule applies (rules.judge, rules.scope_holds).
NO_BASE = _lazy("分母为零或负数（%(base)s），无法计算比值，视为未满足该指标的全部阈值")
NO_BASE_SHORT = _lazy("分母为零或负数，无法计算比值，视为未满足阈值")
FOCUS_UNDEFINED = _lazy(
    "主要服务小微和农户认定无法确定（分母为零），按非主要服务小微和农户机构的较严格上限评价"
)


def no_base_reason(finding: ind.NonPositiveBase | None) -> str:
    """The reason an indicator without a positive base breaches, with the base in 万元; "" if it has one."""
    return "" if finding is None else NO_BASE % {"base": money(finding.base)}


def field_labels(template_id) -> dict[str, str]:
    """{field code: label in the user's language} of a template."""
    return {f.code: localized(f, "label") for f in FieldDefinition.objects.filter(template_id=template_id)}


def _period_param(request, default):
    text = request.GET.get("period")
    if not text:
        return default
    return Period.parse(text)  # InvalidPeriod: a 400 page quoting the text


@dashboard_users
def dashboard(request):
    if is_company_user(request.user):
        return _institution_page(request, request.user.institution, company=True)
    user = request.user
    period_list = sel.periods(user)
    period = _period_param(request, period_list[-1] if period_list else None)
    context = {"period": period, "periods": period_list}
    if period is not None:
        charts = {
            "leverage": sel.distribution(user, period, "leverage", sel.LEVERAGE_BUCKETS),
            "fee": sel.distribution(user, period, "average_fee_rate", sel.FEE_BUCKETS),
            "trend": sel.trends(user, period_list, TREND_CODES),
            "by_rule": sel.breaches_by_rule(user, period),
            "by_city": sel.breaches_by_city(user, period),
            "support": sel.distribution(
                user, period, "support_share_amount", sel.SHARE_BUCKETS, gov_backed_only=True
            ),
        }
        context["charts"] = charts
        context["city_height"] = max(300, 26 * len(charts["by_city"]) + 40)
        context["rule_height"] = max(300, 26 * len(charts["by_rule"]) + 40)
        context["institution_count"] = sum(r["value"] for r in charts["leverage"])
        context["breach_count"] = sum(r["value"] for r in charts["by_rule"])
        peer_id = request.GET.get("institution")
        if peer_id:
            peer = Institution.objects.for_user(user).filter(pk=parse_id(peer_id, name="institution")).first()
            if peer is None:
                raise Http404
            context.update(peer=peer, peer_rows=sel.peer_position(user, peer, period))
    return render(request, "supervision/dashboard.html", context)


@signed_in
def institution_indicators(request: HttpRequest, pk: int) -> HttpResponse:
    institution = get_object_or_404(Institution.objects.for_user(request.user), pk=pk)
    return _institution_page(request, institution, company=is_company_user(request.user))


def _institution_page(request: HttpRequest, institution: Institution, *, company: bool) -> HttpResponse:
    """An institution's indicators over 8 quarters, each judged against the bands that apply to it."""
    runs, table = sel.institution_series(request.user, institution.pk)
    thresholds = sel.all_thresholds()
    breaches = {
        (b.filing_id, b.threshold_id)
        for b in IndicatorBreach.objects.for_user(request.user)
        .filter(filing_id__in=[r.filing_id for r in runs])
        .only("filing_id", "threshold_id")
    }
    applying = {r.filing_id: sel.thresholds_for_run(r, thresholds) for r in runs}
    # the formulas are shown with the parameters of the latest quarter on the page
    params = params_on(Period(runs[-1].year, runs[-1].quarter).end if runs else timezone.localdate())
    rows = []
    for code, definition in ind.INDICATORS.items():
        cells = []
        for r in runs:
            ts = [t for t in applying[r.filing_id] if t.indicator == code]
            value = table[r.filing_id].get(code)
            breached = [t for t in ts if (r.filing_id, t.pk) in breaches]
            note = ""
            if value is None and breached:  # only a ratio without a positive base breaches undefined
                note = NO_BASE_SHORT
            elif value is None and code == "small_business_focus":
                note = FOCUS_UNDEFINED
            cells.append(
                {
                    "value": value,
                    "filing_id": r.filing_id,
                    "breached": breached,
                    "thresholds": ts,
                    "note": note,
                }
            )
        bands = {t.pk: t for c in cells for t in c["thresholds"]}
        rows.append(
            {
                "code": code,
                "def": definition,
                "formula": definition.formula_text(params),
                "cells": cells,
                "bands": list(bands.values()),
            }
        )
    chart = {"periods": [f"{r.year}Q{r.quarter}" for r in runs], "series": []}
    for code in ("leverage", "average_fee_rate", "support_share_amount", "compensation_rate"):
        unit = ind.INDICATORS[code].unit
        scale = 100 if unit == "percent" else 1
        values = [table[r.filing_id].get(code) for r in runs]
        latest = applying[runs[-1].filing_id] if runs else []
        chart["series"].append(
            {
                "code": code,
                "unit": "%" if scale == 100 else "×",
                "title": _("%(name)s（%(unit)s）")
                % {"name": ind.INDICATORS[code].name, "unit": "%" if scale == 100 else _("倍")},
                "data": [None if v is None else float(v * scale) for v in values],
                "bands": [
                    {
                        "name": f"{t.code} {t.get_comparator_display()} {float(t.value * scale):g}",
                        "value": float(t.value * scale),
                    }
                    for t in latest
                    if t.indicator == code
                ],
            }
        )
    return render(
        request,
        "supervision/institution.html",
        {
            "institution": institution,
            "runs": runs,
            "rows": rows,
            "chart": chart,
            "company": company,
        },
    )


@signed_in
def filing_indicators(request: HttpRequest, pk: int) -> HttpResponse:
    """Lineage: every indicator of one filing with its formula, the cells behind it and the thresholds
    it was judged against (with their source)."""
    filing = get_object_or_404(
        Filing.objects.for_user(request.user).select_related("institution", "current_version"), pk=pk
    )
    run = IndicatorRun.objects.filter(filing=filing).first()
    values = dict(IndicatorValue.objects.filter(filing=filing).values_list("code", "value"))
    breached = set(IndicatorBreach.objects.filter(filing=filing).values_list("threshold_id", flat=True))
    labels = field_labels(filing.template_id)
    applying = sel.thresholds_for_run(run, sel.all_thresholds()) if run else []
    focus_known = run is not None and run.small_business_focus is not None
    params = params_on(filing.period.end)
    raw = filing.current_version.values if filing.current_version else {}
    findings = sel.base_findings(filing) if run else {}
    rows = []
    for code, definition in ind.INDICATORS.items():
        cells = cells_for(code, raw)
        judged = [{"threshold": t, "breached": t.pk in breached} for t in applying if t.indicator == code]
        rows.append(
            {
                "code": code,
                "def": definition,
                "formula": definition.formula_text(params),
                "value": values.get(code),
                "reason": no_base_reason(findings.get(code)),
                "inputs": [(c, labels.get(c, c), v) for c, v in cells.items()],
                "judged": judged,
            }
        )
    return render(
        request,
        "supervision/filing.html",
        {
            "filing": filing,
            "run": run,
            "leverage_cap": sel.leverage_cap(run, applying) if focus_known else None,
            "rows": rows,
            "computed": bool(values),
            "focus_undefined": FOCUS_UNDEFINED,
        },
    )


@region_overview
def indicator_drill(request: HttpRequest) -> HttpResponse:
    """The institutions behind a chart element: by value range, rule or city for one period."""
    period = _period_param(request, None)
    if period is None:
        raise Http404
    code = request.GET.get("code") or ""
    rule = request.GET.get("rule") or ""
    city = request.GET.get("city") or ""
    title = period.label
    if rule or city:
        qs = (
            IndicatorBreach.objects.for_user(request.user)
            .filter(year=period.year, quarter=period.quarter)
            .select_related("institution__region", "threshold")
        )
        if rule:
            qs = qs.filter(threshold__code=rule)
            title += " · " + _("规则 %(rule)s") % {"rule": rule}
        if city:
            if not (city.isdigit() and len(city) == 6):
                raise Http404
            qs = qs.filter(
                region_subtree_q("institution__region_id", city),
                severity__in=[Severity.BREACH, Severity.WARNING],
            )
            title += " · " + city
        qs = qs.order_by("institution__name", "threshold__code")
        kind = "breach"
    else:
        if code not in ind.INDICATORS:
            raise Http404
        qs = (
            IndicatorValue.objects.for_user(request.user)
            .of_periods([(period.year, period.quarter)], [code])
            .select_related("institution__region")
        )
        # bounds as stored ratios (0.05, or 5%): anything that is not a number is a 400 quoting it
        if request.GET.get("lo"):
            qs = qs.filter(
                value__gte=parse_decimal(
                    request.GET["lo"], name="lo", max_digits_before_point=14, percent=True
                )
            )
        if request.GET.get("hi"):
            qs = qs.filter(
                value__lt=parse_decimal(
                    request.GET["hi"], name="hi", max_digits_before_point=14, percent=True
                )
            )
        if request.GET.get("undefined"):
            qs = qs.filter(value__isnull=True)
        if request.GET.get("gov"):
            qs = qs.filter(filing__indicator_run__gov_backed=True)
        qs = qs.order_by("-value", "institution__name")
        title += " · " + ind.INDICATORS[code].name
        unit = ind.INDICATORS[code].unit
        lo, hi = request.GET.get("lo"), request.GET.get("hi")
        if lo or hi:
            from .templatetags.indicator_tags import ind_value

            title += (
                "（"
                + " ".join(
                    filter(
                        None,
                        [
                            ind_value(lo, unit) + " ≤" if lo else "",
                            _("指标值"),
                            "< " + ind_value(hi, unit) if hi else "",
                        ],
                    )
                )
                + "）"
            )
        if request.GET.get("undefined"):
            title += "（" + _("无定义") + "）"
        if request.GET.get("gov"):
            title += " · " + _("政府性融资担保机构")
        kind = "value"
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    query = urlencode([(k, v) for k, v in request.GET.items() if k != "page"])
    return render(
        request,
        "supervision/drill.html",
        {
            "page": page,
            "kind": kind,
            "title": title,
            "period": period,
            "query": query,
            "unit": ind.INDICATORS[code].unit if code in ind.INDICATORS else "",
            "no_base": NO_BASE_SHORT,
        },
    )


# --- warnings -----------------------------------------------------------------------------------


def _warning_queryset(request: HttpRequest, f: dict):
    qs = WarningCase.objects.for_user(request.user).select_related("institution", "threshold", "assigned_to")
    if f["status"] in WarningStatus.values:
        qs = qs.filter(status=f["status"])
    elif not f["status"]:
        qs = qs.exclude(status=WarningStatus.CLOSED)
    if f["severity"] in Severity.values:
        qs = qs.filter(severity=f["severity"])
    if f["level"].isdigit():
        qs = qs.filter(level__gte=int(f["level"]))
    if f["rule"]:
        # a rule by its code, or by its indicator's name in either language (e.g. 平均担保费率, fee)
        text = f["rule"].strip().lower()
        named = [
            code
            for code, d in ind.INDICATORS.items()
            if text in d.name_zh.lower() or text in str(d.name).lower() or text in code
        ]
        qs = qs.filter(Q(threshold__code__iexact=f["rule"].strip()) | Q(threshold__indicator__in=named))
    if f["q"]:
        qs = qs.filter(Q(institution__name__icontains=f["q"]) | Q(institution__credit_code=f["q"]))
    if f["mine"]:
        qs = qs.filter(assigned_to=request.user)
    return qs.order_by("severity_rank", "-level", "created_at", "pk")  # severity, then level, then age


WARNING_FILTERS = ("status", "severity", "level", "rule", "q", "mine")


def warning_table(cases) -> Table:
    """The warning list as an export sheet (formula-safe writer)."""
    return Table(
        name=_("风险预警"),
        header=[
            _("机构"),
            _("统一社会信用代码"),
            _("规则"),
            _("指标"),
            _("首次预警季度"),
            _("最近预警季度"),
            _("预警级别"),
            _("性质"),
            _("指标值"),
            _("状态"),
            _("承办人"),
            _("关闭原因"),
            _("处理说明"),
        ],
        rows=(
            [
                c.institution.name,
                c.institution.credit_code,
                c.threshold.code,
                str(c.threshold.indicator_def.name),
                str(c.first_period),
                str(c.period),
                c.level,
                c.get_severity_display(),
                c.value,
                c.get_status_display(),
                str(c.assigned_to or ""),
                c.get_close_reason_display(),
                c.note,
            ]
            for c in cases
        ),
        widths=[32, 20, 10, 18, 12, 12, 8, 8, 12, 10, 12, 16, 30],
        freeze_columns=1,
    )


@regulator_desk
def warning_list(request: HttpRequest) -> HttpResponse:
    f = {k: request.GET.get(k, "") for k in WARNING_FILTERS}
    if request.method == "POST":
        return _warning_bulk(request)
    qs = _warning_queryset(request, f)
    export = request.GET.get("export")
    if export in ("xlsx", "csv"):
        return export_response(f"warnings.{export}", warning_table(qs.iterator(chunk_size=2000)))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    query = urlencode([(k, v) for k, v in f.items() if v])
    rules = Threshold.objects.filter(severity__in=[Severity.BREACH, Severity.WARNING]).order_by("code")
    return render(
        request,
        "supervision/warnings.html",
        {
            "page": page,
            "f": f,
            "query": query,
            "statuses": WarningStatus.choices,
            "severities": Severity.choices[:2],
            "rules": [(t.code, f"{t.code} {t.indicator_def.name}") for t in rules],
            "no_base": NO_BASE_SHORT,
            "close_form": CloseWarningForm(),
            "regulators": case_regulators(request.user.region_id) if request.user.region_id else [],
        },
    )


def _warning_bulk(request: HttpRequest) -> HttpResponse:
    """Bulk assign or close the ticked cases (all or none)."""
    ids = [i for i in request.POST.getlist("case") if i.isdigit()]
    action = request.POST.get("action")
    try:
        if action == "bulk_assign":
            assignee = {str(u.pk): u for u in case_regulators(request.user.region_id or "")}.get(
                request.POST.get("assignee")
            )
            if assignee is None:
                raise ValidationError(_("请选择承办人"))
            n = warning_cases_bulk_assign(
                actor=request.user, case_ids=ids, assignee=assignee, note=request.POST.get("note", "")
            )
            messages.success(request, _("已转办 %(n)s 件预警。") % {"n": n})
        elif action == "bulk_close":
            form = CloseWarningForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("关闭预警须选择原因并填写处理说明"))
            n = warning_cases_bulk_close(
                actor=request.user,
                case_ids=ids,
                reason=form.cleaned_data["reason"] or CloseReason.OTHER,
                note=form.cleaned_data["note"],
            )
            messages.success(request, _("已关闭 %(n)s 件预警。") % {"n": n})
        else:
            raise ValidationError(_("未知操作"))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "；".join(getattr(exc, "messages", None) or [str(exc)]))
    return redirect(request.get_full_path())


@regulator_desk
def warning_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(
        WarningCase.objects.for_user(request.user).select_related(
            "institution", "threshold", "filing", "assigned_to", "closed_by"
        ),
        pk=pk,
    )
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "acknowledge":
                warning_case_acknowledge(actor=request.user, case=case, note=request.POST.get("note", ""))
                messages.success(request, _("已确认该预警，并由您承办。"))
            elif action == "assign":
                assignee = {str(u.pk): u for u in case_regulators(case.institution.region_id)}.get(
                    request.POST.get("assignee")
                )
                if assignee is None:
                    raise ValidationError(_("请选择辖区覆盖该机构的监管人员"))
                warning_case_assign(
                    actor=request.user, case=case, assignee=assignee, note=request.POST.get("note", "")
                )
                messages.success(
                    request,
                    _("已转由 %(name)s 承办。") % {"name": assignee.get_full_name() or assignee.username},
                )
            elif action == "close":
                form = CloseWarningForm(request.POST)
                if not form.is_valid():
                    raise ValidationError(_("关闭预警须选择原因并填写处理说明"))
                warning_case_close(
                    actor=request.user,
                    case=case,
                    note=form.cleaned_data["note"],
                    reason=form.cleaned_data["reason"] or CloseReason.OTHER,
                )
                messages.success(request, _("预警已关闭。"))
            else:
                raise ValidationError(_("未知操作"))
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        return redirect("supervision:warning_detail", pk=case.pk)
    labels = field_labels(case.filing.template_id)
    reasons = []
    if case.value is None:
        reasons.append(no_base_reason(sel.base_findings(case.filing).get(case.threshold.indicator)))
    if (
        case.threshold.scope == ThresholdScope.NOT_SMALL_BUSINESS_FOCUS
        and IndicatorRun.objects.filter(filing_id=case.filing_id, small_business_focus__isnull=True).exists()
    ):
        reasons.append(FOCUS_UNDEFINED)
    return render(
        request,
        "supervision/warning_detail.html",
        {
            "case": case,
            "reasons": [r for r in reasons if r],
            "formula": case.threshold.indicator_def.formula_text(params_on(case.period.end)),
            "cells": [(c, labels.get(c, c), v) for c, v in case.cells.items()],
            "events": history(case),
            "quarters": case.quarters.all(),
            "measures": case.measures.for_user(request.user).select_related("measure_type"),
            "close_form": CloseWarningForm(),
            "regulators": [
                u for u in case_regulators(case.institution.region_id) if u.pk != case.assigned_to_id
            ],
        },
    )


# --- thresholds ---------------------------------------------------------------------------------


@regulator_desk
def thresholds(request):
    qs = Threshold.objects.for_user(request.user)
    indicator = request.GET.get("indicator", "")
    if indicator:
        qs = qs.filter(indicator=indicator)
    page = Paginator(qs.order_by("code"), 50).get_page(request.GET.get("page"))
    jobs = Job.objects.for_user(request.user).filter(kind="indicators.recompute")[:5]
    return render(
        request,
        "supervision/thresholds.html",
        {
            "page": page,
            "indicator": indicator,
            "indicators": ind.INDICATORS,
            "jobs": jobs,
            "parameters": PolicyParameter.objects.for_user(request.user),
            "query": urlencode({"indicator": indicator}) if indicator else "",
            "scopes": ThresholdScope,
        },
    )


@regulator_desk
def threshold_edit(request, pk=None):
    """View a threshold with its history; authorised regulators change it, previewing first."""
    threshold = get_object_or_404(Threshold.objects.for_user(request.user), pk=pk) if pk else None
    editable = may_edit_threshold(request.user, threshold.region_code) if threshold else True
    preview = None
    # the form binds to its own copy: validating a ModelForm writes the proposal into its instance, and
    # the what-if must compare the stored threshold with the proposal
    form = ThresholdForm(
        request.POST or None, instance=Threshold.objects.get(pk=threshold.pk) if threshold else None
    )
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        if form.is_valid():
            fields = form.service_fields()
            if not may_edit_threshold(request.user, fields["region_code"]):
                form.add_error("region_code", _("您只能设置本辖区内地区的阈值"))
            elif request.POST.get("action") == "save":
                try:
                    saved, job = threshold_save(
                        actor=request.user, threshold=threshold, note=form.cleaned_data["note"], **fields
                    )
                except (ValidationError, PermissionDenied) as exc:
                    form.add_error(None, "；".join(getattr(exc, "messages", [str(exc)])))
                else:
                    messages.success(
                        request,
                        _("阈值已保存；受影响的报表正在重新计算（任务 #%(job)s）。") % {"job": job.pk}
                        if job
                        else _("阈值已保存；没有受影响的报表。"),
                    )
                    return redirect("supervision:threshold_detail", pk=saved.pk)
            else:
                fields.pop("code")
                preview = threshold_preview(threshold=threshold, proposed=fields, user=request.user)
    return render(
        request,
        "supervision/threshold_edit.html",
        {
            "threshold": threshold,
            "form": form,
            "editable": editable,
            "preview": preview,
            "events": history(threshold) if threshold else [],
            "threshold_unit": ind.INDICATORS[form.cleaned_data["indicator"]].unit
            if preview is not None
            else "",
            "new_total": sum(len(p["newly"]) for p in preview or []),
            "cleared_total": sum(len(p["cleared"]) for p in preview or []),
        },
    )


@regulator_desk
def parameters(request):
    """Computation parameters (liability weights, net-asset deduction, focus-test shares) with their
    history; administrators set a value from a date, which recomputes the filings it changes."""
    is_admin = may_set_parameters(request.user)
    form = ParameterForm(request.POST or None)
    preview = None
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                if request.POST.get("action") == "preview":
                    # a background job (it recomputes every filing the change touches): its page
                    # shows the progress, then the result
                    job = parameter_preview_enqueue(
                        actor=request.user,
                        key=data["key"],
                        value=data["value"],
                        effective_from=data["effective_from"],
                        effective_to=data["effective_to"],
                    )
                    return redirect("supervision:parameter_preview", pk=job.pk)
                else:
                    _param, job = parameter_save(actor=request.user, **data)
                    messages.success(
                        request,
                        _("参数已保存；受影响的报表正在重新计算（任务 #%(job)s）。") % {"job": job.pk}
                        if job
                        else _("参数已保存；没有受影响的报表。"),
                    )
                    return redirect("supervision:parameters")
            except ValidationError as exc:
                form.add_error(None, "；".join(exc.messages))
    rows = list(PolicyParameter.objects.for_user(request.user))
    events = AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(PolicyParameter)
    ).select_related("actor")[:50]
    return render(
        request,
        "supervision/parameters.html",
        {
            "rows": rows,
            "form": form,
            "is_admin": is_admin,
            "events": events,
            "preview": preview,
            "new_total": sum(len(p["newly"]) for p in preview or []),
            "cleared_total": sum(len(p["cleared"]) for p in preview or []),
        },
    )


@regulator_desk
def parameter_preview(request, pk: int):
    """A parameter what-if job: its progress while it runs (the page refreshes itself), then the
    rules each filing would newly breach or clear. Its creator and administrators see it."""
    job = get_object_or_404(Job, pk=pk, kind=PREVIEW_KIND, parent=None)
    if job.created_by_id != request.user.pk and not may_set_parameters(request.user):
        raise Http404
    running = job.status in (Job.Status.QUEUED, Job.Status.RUNNING)
    preview = None if running or job.status == Job.Status.FAILED else parameter_preview_result(job)
    done = job.done_count
    return render(
        request,
        "supervision/parameter_preview.html",
        {
            "job": job,
            "running": running,
            "done": done,
            "percent": int(100 * done / job.total) if job.total else 0,
            "preview": preview,
            "new_total": sum(len(p["newly"]) for p in preview or []),
            "cleared_total": sum(len(p["cleared"]) for p in preview or []),
        },
    )
