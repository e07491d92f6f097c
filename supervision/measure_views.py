"""Supervisory measures, on-site inspections and the non-filers list: pages for regulators (propose,
approve, issue, accept / ask for more / escalate, close) and for the company (acknowledge, answer with
a rectification plan and evidence). Every row comes from `for_user`; every action is a service call
that checks authority again."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from core.audit import history
from core.roles import is_company_user
from institutions.models import Institution
from reporting.models import Filing
from reporting.periods import Period

from .documents import document_response, measure_document
from .models import (
    Inspection,
    Measure,
    MeasureMessage,
    MeasureStatus,
    MeasureType,
    NonFilerList,
    WarningCase,
)
from .permissions import (
    approval_authority,
    may_answer_measure,
    may_approve_measure,
    may_handle_measure,
    may_propose_measure,
    measure_users,
    regulator_desk,
)
from .services import measures as svc


def _errors(exc: Exception) -> str:
    return "；".join(getattr(exc, "messages", None) or [str(exc)])


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(_("日期格式应为 YYYY-MM-DD")) from exc


@measure_users
def measure_list(request: HttpRequest) -> HttpResponse:
    qs = Measure.objects.for_user(request.user).select_related("measure_type", "institution", "proposed_by")
    f = {k: request.GET.get(k, "") for k in ("status", "type", "q", "due")}
    if f["status"] in MeasureStatus.values:
        qs = qs.filter(status=f["status"])
    if f["type"]:
        qs = qs.filter(measure_type__code=f["type"])
    if f["q"]:
        qs = qs.filter(Q(institution__name__icontains=f["q"]) | Q(number__icontains=f["q"]))
    if f["due"]:
        qs = qs.filter(
            status__in=[MeasureStatus.ISSUED, MeasureStatus.ACKNOWLEDGED, MeasureStatus.MORE_REQUESTED],
            deadline__isnull=False,
        ).order_by("deadline", "pk")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/measures.html",
        {
            "page": page,
            "f": f,
            "query": urlencode([(k, v) for k, v in f.items() if v]),
            "statuses": MeasureStatus.choices,
            "types": MeasureType.objects.for_user(request.user).filter(active=True),
            "company": is_company_user(request.user),
        },
    )


@regulator_desk
def measure_new(request: HttpRequest) -> HttpResponse:
    """Propose a measure from a warning case (?case=), a filing (?filing=) or an institution (?institution=)."""
    case = filing = None
    if request.GET.get("case", "").isdigit():
        case = get_object_or_404(
            WarningCase.objects.for_user(request.user).select_related("institution", "threshold"),
            pk=request.GET["case"],
        )
        institution = case.institution
    elif request.GET.get("filing", "").isdigit():
        filing = get_object_or_404(
            Filing.objects.for_user(request.user).select_related("institution"), pk=request.GET["filing"]
        )
        institution = filing.institution
    elif request.GET.get("institution", "").isdigit():
        institution = get_object_or_404(
            Institution.objects.for_user(request.user), pk=request.GET["institution"]
        )
    else:
        raise Http404
    if not may_propose_measure(request.user, institution):
        raise PermissionDenied
    types = MeasureType.objects.for_user(request.user).filter(active=True)
    initial_facts = ""
    if case is not None:
        initial_facts = _("%(period)s起%(rule)s（%(name)s）连续触发，最近一期指标值 %(value)s。") % {
            "period": case.first_period.label,
            "rule": case.threshold.code,
            "name": case.threshold.indicator_def.name,
            "value": case.value if case.value is not None else "—",
        }
    elif filing is not None:
        initial_facts = _("%(period)s监管报表存在问题：") % {"period": filing.period.label}
    if request.method == "POST":
        try:
            mtype = types.filter(code=request.POST.get("measure_type")).first()
            if mtype is None:
                raise ValidationError(_("请选择措施类型"))
            measure = svc.measure_propose(
                actor=request.user,
                institution=institution,
                measure_type=mtype,
                facts=request.POST.get("facts", ""),
                requirements=request.POST.get("requirements", ""),
                deadline=_date(request.POST.get("deadline")),
                case=case,
                filing=filing,
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(request, _("监管措施已提出，待审批。"))
            return redirect("supervision:measure_detail", pk=measure.pk)
    return render(
        request,
        "supervision/measure_new.html",
        {
            "institution": institution,
            "case": case,
            "filing": filing,
            "types": types,
            "facts": request.POST.get("facts", initial_facts),
            "requirements": request.POST.get("requirements", ""),
            "selected": request.POST.get("measure_type") or ("talk" if case else ""),
        },
    )


ACTIONS = {
    "approve": lambda r, m: svc.measure_approve(actor=r.user, measure=m, note=r.POST.get("note", "")),
    "reject": lambda r, m: svc.measure_reject(actor=r.user, measure=m, note=r.POST.get("note", "")),
    "issue": lambda r, m: svc.measure_issue(
        actor=r.user, measure=m, issuing_body=r.POST.get("issuing_body", "")
    ),
    "acknowledge": lambda r, m: svc.measure_acknowledge(actor=r.user, measure=m),
    "answer": lambda r, m: svc.measure_answer(
        actor=r.user, measure=m, text=r.POST.get("text", ""), evidence=r.FILES.get("evidence")
    ),
    "request_more": lambda r, m: svc.measure_request_more(
        actor=r.user, measure=m, text=r.POST.get("text", "")
    ),
    "close": lambda r, m: svc.measure_close(actor=r.user, measure=m, conclusion=r.POST.get("conclusion", "")),
    "publish": lambda r, m: svc.measure_publish_circular(actor=r.user, measure=m),
}
DONE = {
    "approve": _("已批准。"),
    "reject": _("已不予批准。"),
    "issue": _("已下达，企业将在平台收到通知。"),
    "acknowledge": _("已签收。"),
    "answer": _("整改方案已提交。"),
    "request_more": _("已要求企业补充材料。"),
    "close": _("监管措施已办结。"),
    "publish": _("已发布为公告。"),
    "escalate": _("已升级，新的措施待审批。"),
    "inspection": _("现场检查已登记。"),
}


@measure_users
def measure_detail(request: HttpRequest, pk: int) -> HttpResponse:
    measure = get_object_or_404(
        Measure.objects.for_user(request.user).select_related(
            "measure_type",
            "institution",
            "case__threshold",
            "filing",
            "proposed_by",
            "approved_by",
            "issued_by",
        ),
        pk=pk,
    )
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "escalate":
                mtype = MeasureType.objects.filter(code=request.POST.get("measure_type"), active=True).first()
                if mtype is None:
                    raise ValidationError(_("请选择措施类型"))
                new = svc.measure_escalate(
                    actor=request.user,
                    measure=measure,
                    measure_type=mtype,
                    facts=request.POST.get("text", ""),
                )
                messages.success(request, DONE[action])
                return redirect("supervision:measure_detail", pk=new.pk)
            if action == "inspection":
                inspection = svc.inspection_create(
                    actor=request.user,
                    measure=measure,
                    scope=request.POST.get("scope", ""),
                    team=request.POST.get("team", ""),
                    start_date=_date(request.POST.get("start_date")) or dt.date.min,
                    end_date=_date(request.POST.get("end_date")) or dt.date.min,
                )
                messages.success(request, DONE[action])
                return redirect("supervision:inspection_detail", pk=inspection.pk)
            if action not in ACTIONS:
                raise ValidationError(_("未知操作"))
            ACTIONS[action](request, measure)
            messages.success(request, DONE[action])
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _errors(exc))
        return redirect("supervision:measure_detail", pk=measure.pk)
    user = request.user
    handle = may_handle_measure(user, measure)
    return render(
        request,
        "supervision/measure_detail.html",
        {
            "measure": measure,
            "thread": measure.messages.select_related("author"),
            "events": history(measure) if not is_company_user(user) else [],
            "may_approve": measure.status == MeasureStatus.PROPOSED and may_approve_measure(user, measure),
            "authority": approval_authority(user),
            "may_handle": handle,
            "may_answer": may_answer_measure(user, measure),
            "stronger": MeasureType.objects.filter(active=True, order__gt=measure.measure_type.order)
            if handle
            else [],
            "inspection": Inspection.objects.filter(measure=measure).first(),
            "escalations": measure.escalations.all(),
        },
    )


@measure_users
def measure_document_file(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    measure = get_object_or_404(
        Measure.objects.for_user(request.user).select_related("measure_type", "institution"), pk=pk
    )
    if not measure.number:
        raise Http404
    return document_response(measure_document(measure), measure.number, fmt)


@measure_users
def measure_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(MeasureMessage.objects.for_user(request.user), pk=pk)
    if not message.evidence or (is_company_user(request.user) and message.measure.issued_at is None):
        raise Http404
    with message.evidence.open("rb") as fh:
        content = fh.read()
    response = HttpResponse(content, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="evidence-{message.pk}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- on-site inspection -------------------------------------------------------------------------


@regulator_desk
def inspection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = get_object_or_404(
        Inspection.objects.for_user(request.user).select_related("institution", "measure"), pk=pk
    )
    if request.method == "POST":
        try:
            if request.POST.get("action") == "finding":
                code = request.POST.get("measure_type")
                mtype = MeasureType.objects.filter(code=code, active=True).first() if code else None
                svc.inspection_add_finding(
                    actor=request.user,
                    inspection=inspection,
                    text=request.POST.get("text", ""),
                    measure_type=mtype,
                )
                messages.success(request, _("检查发现已登记。"))
            elif request.POST.get("action") == "report":
                svc.inspection_report(
                    actor=request.user, inspection=inspection, report=request.POST.get("report", "")
                )
                messages.success(request, _("检查报告已保存。"))
            else:
                raise ValidationError(_("未知操作"))
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _errors(exc))
        return redirect("supervision:inspection_detail", pk=inspection.pk)
    return render(
        request,
        "supervision/inspection.html",
        {
            "inspection": inspection,
            "findings": inspection.findings.select_related("measure__measure_type"),
            "types": MeasureType.objects.filter(active=True),
            "events": history(inspection),
        },
    )


# --- non-filers -----------------------------------------------------------------------------------


@regulator_desk
def nonfilers(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            period = Period.parse(request.POST.get("period", ""))
        except ValueError:
            messages.error(request, _("请选择季度"))
            return redirect("supervision:nonfilers")
        mtype = MeasureType.objects.filter(code=request.POST.get("measure_type")).first()
        try:
            if mtype is None:
                raise ValidationError(_("请选择措施类型"))
            lst = svc.nonfilers_draft(actor=request.user, period=period, measure_type=mtype)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _errors(exc))
            return redirect("supervision:nonfilers")
        return redirect("supervision:nonfiler_detail", pk=lst.pk)
    lists = NonFilerList.objects.for_user(request.user).select_related("region", "measure_type")
    from django.utils import timezone

    current = Period.containing(timezone.localdate()).previous()
    return render(
        request,
        "supervision/nonfilers.html",
        {
            "lists": lists[:40],
            "periods": [current, current.previous(), current.previous().previous()],
            "types": MeasureType.objects.filter(code__in=["inquiry", "talk"]),
            "period": request.GET.get("period", ""),
        },
    )


@regulator_desk
def nonfiler_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lst = get_object_or_404(
        NonFilerList.objects.for_user(request.user).select_related("region", "notice"), pk=pk
    )
    if request.method == "POST":
        try:
            if request.POST.get("action") == "review":
                svc.nonfilers_review(
                    actor=request.user, nonfiler_list=lst, included_ids=request.POST.getlist("entry")
                )
                messages.success(request, _("名单已保存。"))
            elif request.POST.get("action") == "publish":
                svc.nonfilers_publish(actor=request.user, nonfiler_list=lst)
                messages.success(request, _("名单已发布为公告，并为每家机构提出了监管措施。"))
            else:
                raise ValidationError(_("未知操作"))
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _errors(exc))
        return redirect("supervision:nonfiler_detail", pk=lst.pk)
    return render(
        request,
        "supervision/nonfiler_detail.html",
        {
            "list": lst,
            "entries": lst.entries.select_related("institution", "measure"),
            "events": history(lst),
        },
    )
