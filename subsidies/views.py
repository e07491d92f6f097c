"""Subsidy pages: the finance inbox and applications, an application with its explanation and actions,
schemes and their history, the budget dashboard, payments, exports; the company's schemes with an
estimate; the public publicity list (page, CSV, JSON). Every write goes through services; a refusal is
shown as a message naming the field."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.excel import Table, export_response
from core.exceptions import AppError
from core.permissions import public, signed_in
from core.roles import Role, role_of
from core.templatetags.portal import in_reader_language
from institutions.models import Institution

from . import selectors, services
from .choices import BudgetMode, SchemeKind, Status
from .models import Application, Scheme
from .permissions import (
    company_pages,
    finance_pages,
    may_allocate,
    may_decide,
    may_edit_scheme,
    may_prepare,
    may_review,
    may_submit,
    reader_pages,
)

LINES_SHOWN = 500


def _fail(request: HttpRequest, exc: AppError) -> None:
    fields = "；".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
    messages.error(
        request, f"{exc.message}" + (f"（{fields}）" if fields and fields not in str(exc.message) else "")
    )


def _decimal(value: str | None) -> Decimal | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise AppError(
            _("金额格式错误"),
            errors={"amount": [_("请输入数字")]},
        ) from None


def _date(value: str | None, field: str) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise AppError(_("日期格式应为 YYYY-MM-DD"), errors={field: ["YYYY-MM-DD"]}) from None


# --- overview and lists -------------------------------------------------------------------------------


@signed_in
def index(request: HttpRequest) -> HttpResponse:
    role = role_of(request.user)
    if role in (Role.FILER, Role.APPROVER):
        return render(
            request, "subsidies/company.html", selectors.company_overview(request.user, _year(request))
        )
    counts = selectors.status_counts(request.user)
    context = {"status_rows": [(value, label, counts.get(value, 0)) for value, label in Status.choices]}
    if role in (Role.FINANCE, Role.ADMIN):
        context["queues"] = queues = selectors.finance_queues(request.user)
        # one table, in the order of the steps: "no applications" only when every queue is empty
        context["queued"] = [a for key in ("review", "decide", "publish", "pay") for a in queues[key]]
    context["recent"] = selectors.applications_for(request.user)[:10]
    return render(request, "subsidies/index.html", context)


def _year(request: HttpRequest) -> int | None:
    year = request.GET.get("year", "")
    return int(year) if year.isdigit() else None


@signed_in
def application_list(request: HttpRequest) -> HttpResponse:
    params = {k: request.GET.get(k, "") for k in ("status", "scheme", "year", "q")}
    qs = selectors.applications_for(request.user, **params)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    query = "&".join(f"{k}={v}" for k, v in params.items() if v)
    return render(
        request,
        "subsidies/application_list.html",
        {
            "page": page,
            "params": params,
            "query": query,
            "statuses": Status.choices,
            "schemes": selectors.schemes_for(request.user),
            "can_batch": role_of(request.user) in (Role.FINANCE, Role.ADMIN)
            and params["status"] == Status.REVIEWED,
        },
    )


@signed_in
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        application = services.visible_application(request.user, pk)
    except AppError:
        from django.http import Http404

        raise Http404 from None
    user = request.user
    lines = selectors.application_lines(user, application)
    shown = list(lines[:LINES_SHOWN])
    # an eligible line says which of the scheme's lines it was paid under (its reason is empty)
    params_lines = (application.scheme.params or {}).get("lines") or []
    labels = {p.get("key"): p.get("label", "") for p in params_lines if isinstance(p, dict)}
    for line in shown:
        line.line_label = labels.get(line.line_key, line.line_key)
    s = application.status
    actions = {
        "recompute": s in (Status.DRAFT, Status.RETURNED) and may_prepare(user, application.institution_id),
        "submit": s in (Status.DRAFT, Status.RETURNED) and may_submit(user, application.institution_id),
        "review": s in (Status.SUBMITTED, Status.RESUBMITTED) and may_review(user, application),
        "decide": s == Status.REVIEWED
        and may_decide(user, application)
        and application.reviewed_by_id != user.pk,
        "publish": s == Status.APPROVED and may_decide(user, application),
        "pay": s == Status.PUBLICITY and may_decide(user, application),
    }
    return render(
        request,
        "subsidies/application_detail.html",
        {
            "a": application,
            "lines": shown,
            "line_count": lines.count(),
            "lines_cut": LINES_SHOWN,
            "steps": selectors.application_steps(application),
            "actions": actions,
            "newer_data": selectors.newer_data(application),
            "job": selectors.computing_job(application),
            "stamp": _stamp_rows(application.data_stamp),
            "is_risk": application.scheme.kind == SchemeKind.RISK_COMPENSATION,
            "is_award": application.scheme.kind == SchemeKind.AWARD_POOL,
            "today": timezone.localdate(),
            "pay_default": max(timezone.localdate(), application.publicity_to or timezone.localdate()),
        },
    )


STAMP_LABELS = {
    "records_changed": gettext_lazy("业务明细最近更新"),
    "events_changed": gettext_lazy("担保事件最近更新"),
    "filing_version": gettext_lazy("所用季度报表版本（编号）"),
}


def _stamp_rows(stamp: dict) -> list[tuple[str, str]]:
    """The frozen data versions, readable: timestamps to the minute (local time)."""
    rows = []
    for key, value in (stamp or {}).items():
        if isinstance(value, str) and "T" in value:
            with contextlib.suppress(ValueError):
                value = timezone.localtime(dt.datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M:%S")
        rows.append((STAMP_LABELS.get(key, key), value))
    return rows


# --- actions ------------------------------------------------------------------------------------------


@company_pages
@require_POST
def apply(request: HttpRequest, code: str) -> HttpResponse:
    scheme = get_object_or_404(selectors.schemes_for(request.user), code=code)
    institution = get_object_or_404(
        Institution.objects.for_user(request.user), pk=request.user.institution_id
    )
    try:
        year = int(request.POST.get("year", ""))
        application = services.application_create(
            actor=request.user,
            scheme=scheme,
            institution=institution,
            year=year,
            note=request.POST.get("note", ""),
        )
    except ValueError:
        messages.error(request, _("请选择年度"))
        return redirect("subsidies:index")
    except AppError as exc:
        _fail(request, exc)
        return redirect("subsidies:index")
    messages.success(request, _("已生成申请草稿，请核对测算明细后由审核人申报。"))
    return redirect("subsidies:application", application.pk)


def _transition_view(request: HttpRequest, pk: int, call, done: str) -> HttpResponse:
    try:
        application = services.visible_application(request.user, pk)
        call(application)
        messages.success(request, done)
    except AppError as exc:
        if exc.code == "not_found":
            from django.http import Http404

            raise Http404 from None
        _fail(request, exc)
    return redirect("subsidies:application", pk)


@signed_in
@require_POST
def act(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    u, post = request.user, request.POST
    calls = {
        "recompute": (
            lambda a: services.application_recompute(actor=u, application=a, note=post.get("note")),
            _("已按当前数据重新测算。"),
        ),
        "submit": (lambda a: services.application_submit(actor=u, application=a), _("已申报。")),
        "return": (
            lambda a: services.application_return(actor=u, application=a, note=post.get("note", "")),
            _("已退回补充材料。"),
        ),
        "review": (
            lambda a: services.application_review(actor=u, application=a, note=post.get("note", "")),
            _("初审已通过，等待复核。"),
        ),
        "approve": (
            lambda a: services.application_decide(
                actor=u,
                application=a,
                approve=True,
                amount=_decimal(post.get("amount")),
                reason=post.get("reason", ""),
            ),
            _("已复核通过。"),
        ),
        "reject": (
            lambda a: services.application_decide(
                actor=u, application=a, approve=False, reason=post.get("reason", "")
            ),
            _("已作出不予通过决定。"),
        ),
        "publish": (
            lambda a: services.application_publish(actor=u, application=a, on=_date(post.get("on"), "on")),
            _("已列入公示名单。"),
        ),
        "pay": (
            lambda a: services.application_pay(
                actor=u,
                application=a,
                paid_on=_date(post.get("paid_on"), "paid_on"),
                reference=post.get("reference", ""),
            ),
            _("已登记拨付。"),
        ),
    }
    if step not in calls:
        from django.http import Http404

        raise Http404
    call, done = calls[step]
    return _transition_view(request, pk, call, done)


@finance_pages
@require_POST
def batch_approve(request: HttpRequest) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    applications = list(
        Application.objects.for_user(request.user, "change").filter(pk__in=ids, status=Status.REVIEWED)
    )
    if not applications:
        messages.error(request, _("请勾选待复核的申请"))
        return redirect(reverse("subsidies:applications") + "?status=reviewed")
    done, refused = services.application_decide_many(actor=request.user, applications=applications)
    if done:
        messages.success(request, _("已批量复核通过 %(n)d 件。") % {"n": len(done)})
    for pk, reason in refused.items():
        messages.error(request, f"#{pk}: {reason}")
    return redirect(reverse("subsidies:applications") + "?status=reviewed")


@finance_pages
@require_POST
def allocate(request: HttpRequest, code: str) -> HttpResponse:
    scheme = get_object_or_404(selectors.schemes_for(request.user), code=code)
    try:
        year = int(request.POST.get("year", ""))
        shares = services.award_allocate(actor=request.user, scheme=scheme, year=year)
        messages.success(request, _("已按资金池分配 %(n)d 家机构的建议金额。") % {"n": len(shares)})
    except ValueError:
        messages.error(request, _("请选择年度"))
    except AppError as exc:
        _fail(request, exc)
    return redirect("subsidies:scheme", code)


# --- schemes ------------------------------------------------------------------------------------------

SCHEME_TEXT = ("name", "source", "budget_mode")


def _scheme_values(post) -> dict:
    values = {k: post.get(k, "").strip() for k in SCHEME_TEXT}
    values["effective_from"] = _date(post.get("effective_from"), "effective_from")
    values["effective_to"] = _date(post.get("effective_to"), "effective_to")
    values["budget"] = _decimal(post.get("budget"))
    values["open"] = post.get("open") == "on"
    try:
        values["publicity_days"] = int(post.get("publicity_days") or 7)
    except ValueError:
        raise AppError(_("公示期应为天数"), errors={"publicity_days": ["?"]}) from None
    try:
        values["params"] = json.loads(post.get("params") or "{}")
    except json.JSONDecodeError as exc:
        raise AppError(
            _("补贴参数不是有效的 JSON") + f" ({exc.msg}, line {exc.lineno})",
            errors={"params": [exc.msg]},
        ) from None
    return values


@signed_in
def scheme_list(request: HttpRequest) -> HttpResponse:
    schemes = selectors.schemes_for(request.user)
    region = getattr(request.user, "region_id", None)
    can_create = role_of(request.user) in (Role.FINANCE, Role.ADMIN)
    return render(
        request,
        "subsidies/scheme_list.html",
        {"schemes": schemes, "can_create": can_create, "region": region, "kinds": SchemeKind.choices},
    )


@signed_in
def scheme_detail(request: HttpRequest, code: str) -> HttpResponse:
    scheme = get_object_or_404(selectors.schemes_for(request.user), code=code)
    can_edit = may_edit_scheme(request.user, scheme.region_code)
    if request.method == "POST":
        if not can_edit:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        try:
            services.scheme_update(
                actor=request.user,
                scheme=scheme,
                reason=request.POST.get("reason", ""),
                **_scheme_values(request.POST),
            )
            messages.success(request, _("政策已保存，修改记录已留存。"))
            return redirect("subsidies:scheme", code)
        except AppError as exc:
            _fail(request, exc)
            scheme.refresh_from_db()
    return render(
        request,
        "subsidies/scheme_detail.html",
        {
            "scheme": scheme,
            "can_edit": can_edit,
            "can_allocate": scheme.kind == SchemeKind.AWARD_POOL and may_allocate(request.user, scheme),
            "params_text": json.dumps(scheme.params, ensure_ascii=False, indent=2),
            "revisions": scheme.revisions.select_related("changed_by"),
            "modes": BudgetMode.choices,
            "years": range(timezone.localdate().year, timezone.localdate().year - 4, -1),
            "default_year": selectors.default_year(),
        },
    )


@finance_pages
def scheme_new(request: HttpRequest) -> HttpResponse:
    values = {
        "region_code": getattr(request.user, "region_id", "") or "",
        "params": "{}",
        "effective_from": "",
        "effective_to": "",
        "open": True,
    }
    if request.method == "POST":
        try:
            v = _scheme_values(request.POST)
            scheme = services.scheme_create(
                actor=request.user,
                reason=request.POST.get("reason", ""),
                code=request.POST.get("code", "").strip(),
                kind=request.POST.get("kind", ""),
                region_code=request.POST.get("region_code", "").strip(),
                **v,
            )
            messages.success(request, _("政策已创建。"))
            return redirect("subsidies:scheme", scheme.code)
        except AppError as exc:
            _fail(request, exc)
        keys = ("code", "kind", "region_code", "name", "source", "effective_from", "effective_to", "budget")
        values = {
            **{
                k: request.POST.get(k, "")
                for k in (*keys, "budget_mode", "publicity_days", "params", "reason")
            },
            "open": request.POST.get("open") == "on",
        }
    return render(
        request,
        "subsidies/scheme_new.html",
        {"values": values, "kinds": SchemeKind.choices, "modes": BudgetMode.choices},
    )


# --- budget, publicity, payments, exports --------------------------------------------------------------


@reader_pages
def budget(request: HttpRequest) -> HttpResponse:
    year = _year(request) or selectors.default_year()
    rows = selectors.budget_rows(request.user, year)
    chart = [
        {
            "name": r["scheme"].name,
            "paid": float(r["paid"]),
            "unpaid": float(r["unpaid"]),
            "remaining": float(r["remaining"]) if r["remaining"] is not None and r["remaining"] > 0 else 0,
        }
        for r in rows
    ]
    return render(
        request,
        "subsidies/budget.html",
        {
            "rows": rows,
            "year": year,
            "chart": chart,
            "years": range(timezone.localdate().year, timezone.localdate().year - 4, -1),
        },
    )


@public
def publicity(request: HttpRequest) -> HttpResponse:
    params = {k: request.GET.get(k, "") for k in ("scheme", "year")}
    page = Paginator(selectors.publicity_list(**params), 50).get_page(request.GET.get("page"))
    query = "&".join(f"{k}={v}" for k, v in params.items() if v)
    return render(
        request,
        "subsidies/publicity.html",
        {
            "page": page,
            "params": params,
            "query": query,
            "schemes": Scheme.objects.for_user(None),
            "today": timezone.localdate(),
        },
    )


def _publicity_table(params) -> Table:
    rows = (
        (
            e.scheme.name,
            e.institution.name,
            e.institution.credit_code,
            e.year,
            e.final_amount,
            e.publicity_from,
            e.publicity_to,
            e.get_status_display(),
        )
        for e in selectors.publicity_list(**params)
    )
    return Table(
        name=_("公示名单"),
        header=[
            _("政策"),
            _("机构名称"),
            _("统一社会信用代码"),
            _("年度"),
            _("金额（万元）"),
            _("公示开始"),
            _("公示结束"),
            _("状态"),
        ],
        rows=rows,
    )


@public
def publicity_csv(request: HttpRequest) -> HttpResponse:
    params = {k: request.GET.get(k, "") for k in ("scheme", "year")}
    return export_response("subsidy_publicity.csv", _publicity_table(params))


@public
def publicity_json(request: HttpRequest) -> HttpResponse:
    params = {k: request.GET.get(k, "") for k in ("scheme", "year")}
    rows = [
        {
            "scheme": e.scheme.code,
            "scheme_name": e.scheme.name,
            "institution": e.institution.name,
            "credit_code": e.institution.credit_code,
            "year": e.year,
            "amount": str(e.final_amount),
            "status": e.status,
            "publicity_from": e.publicity_from.isoformat() if e.publicity_from else None,
            "publicity_to": e.publicity_to.isoformat() if e.publicity_to else None,
        }
        for e in selectors.publicity_list(**params)
    ]
    return JsonResponse({"count": len(rows), "results": rows}, json_dumps_params={"ensure_ascii": False})


@reader_pages
def payments(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.payments_for(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "subsidies/payments.html", {"page": page, "query": ""})


@signed_in
def export_applications(request: HttpRequest) -> HttpResponse:
    params = {k: request.GET.get(k, "") for k in ("status", "scheme", "year", "q")}
    rows = (
        (
            a.pk,
            a.scheme.name,
            a.institution.name,
            a.institution.credit_code,
            a.institution.region.name,
            a.year,
            a.get_status_display(),
            a.computed_amount,
            a.approved_amount,
            a.final_amount,
            a.amount_reason,
            a.rejection_reason,
            a.paid_on,
            a.payment_reference,
        )
        for a in selectors.applications_for(request.user, **params).iterator(chunk_size=2000)
    )
    table = Table(
        name=_("补贴申请"),
        header=[
            _("编号"),
            _("政策"),
            _("机构名称"),
            _("统一社会信用代码"),
            _("地区"),
            _("年度"),
            _("状态"),
            _("测算金额（万元）"),
            _("核定金额（万元）"),
            _("拨付金额（万元）"),
            _("调整原因"),
            _("不予通过原因"),
            _("拨付日期"),
            _("拨付凭证号"),
        ],
        rows=rows,
    )
    return export_response("subsidy_applications.xlsx", table)


@signed_in
def export_lines(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        application = services.visible_application(request.user, pk)
    except AppError:
        from django.http import Http404

        raise Http404 from None
    rows = (
        (
            line.label,
            _("是") if line.eligible else _("否"),
            in_reader_language(line.reason),
            line.line_key,
            line.days,
            line.base,
            line.rate,
            line.amount,
        )
        for line in selectors.application_lines(request.user, application).iterator(chunk_size=5000)
    )
    table = Table(
        name=_("测算明细"),
        header=[
            _("项目"),
            _("符合条件"),
            _("说明"),
            _("补贴档次"),
            _("天数"),
            _("计算基数（万元）"),
            _("比例"),
            _("金额（万元，未舍入）"),
        ],
        rows=rows,
    )
    return export_response(f"subsidy_application_{pk}_lines.xlsx", table)
