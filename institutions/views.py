"""Registry pages: regulator list and institution page with tabs, licence actions and notices,
government-backed list batches, agreements, and the public register (no login)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Region
from core import audit
from core.scoping import subtree_prefix

from . import selectors, services
from .choices import (
    EntityKind,
    InstitutionStatus,
    LicenceStatus,
    ListAction,
    ListBatchStatus,
    NoticeStatus,
    Ownership,
)
from .forms import (
    AgreementForm,
    BatchForm,
    CancelForm,
    EntryForm,
    LicenceChangeForm,
    LicenceIssueForm,
    NoticeForm,
    RevokeForm,
)
from .models import Agreement, GovListBatch, GovListEntry, Institution, Licence, LicenceDuty, Notice
from .rules import agreement_findings, institution_findings
from .tabs import tabs_for

PAGE_SIZE = 50
FILTER_KEYS = ("region", "level", "ownership", "kind", "status", "licence", "gov", "q", "sort")


def role_required(*roles):
    """Logged in and one of `roles` (administrators always pass); anyone else gets 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not (user.is_superuser or user.role == "admin" or user.role in roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _form_errors(form, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        for field, errs in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errs)
    else:
        form.add_error(None, exc.messages)


# --- regulator list --------------------------------------------------------------------------------


def _filter_context(request):
    user = request.user
    params = {k: request.GET.get(k, "") for k in FILTER_KEYS}
    regions = Region.objects.none()
    if user.region_id:
        regions = (
            Region.objects.subtree(user.region_id).exclude(level="county")
            if user.region.level == "province"
            else Region.objects.subtree(user.region_id)
        )
    elif user.is_superuser or user.role == "admin":
        regions = Region.objects.filter(level="province")
    return params, {
        "params": params,
        "regions": list(regions.values_list("code", "name")),
        "levels": Institution._meta.get_field("level").choices,
        "ownerships": Ownership.choices,
        "kinds": EntityKind.choices,
        "statuses": InstitutionStatus.choices,
        "licence_statuses": LicenceStatus.choices,
        "query": urlencode({k: v for k, v in params.items() if v}),
        "query_nosort": urlencode({k: v for k, v in params.items() if v and k != "sort"}),
    }


@role_required("regulator")
def institution_list(request):
    params, context = _filter_context(request)
    qs = selectors.institution_list(request.user, params)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    gov_ids = selectors.government_backed_ids(on=timezone.localdate(), institution_ids=[i.pk for i in rows])
    for inst in rows:
        inst.government_backed = inst.pk in gov_ids
    context.update(page=page, rows=rows)
    return render(request, "institutions/list.html", context)


@role_required("regulator")
def institution_export(request):
    """The filtered list (all pages) as xlsx."""
    import xlsxwriter

    params, _ctx = _filter_context(request)
    qs = selectors.institution_list(request.user, params)
    gov_ids = selectors.government_backed_ids(on=timezone.localdate())
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    sheet = book.add_worksheet(_("机构名录"))
    head = book.add_format({"bold": True, "bg_color": "#E8EFFB", "border": 1})
    money = book.add_format({"num_format": "#,##0.00"})
    headers = [
        _("机构名称"),
        _("统一社会信用代码"),
        _("机构类型"),
        _("注册地代码"),
        _("注册地"),
        _("机构层级"),
        _("所有制"),
        _("注册资本（万元）"),
        _("实缴资本（万元）"),
        _("成立日期"),
        _("经营状态"),
        _("许可证编号"),
        _("许可证状态"),
        _("政府性融资担保机构"),
    ]
    sheet.write_row(0, 0, headers, head)
    statuses = dict(LicenceStatus.choices)
    for r, inst in enumerate(qs.iterator(chunk_size=2000), start=1):
        sheet.write_row(
            r,
            0,
            [
                inst.name,
                inst.credit_code,
                inst.get_kind_display(),
                inst.region_id,
                inst.region.name,
                inst.get_level_display(),
                inst.get_ownership_display(),
            ],
        )
        sheet.write_number(r, 7, float(inst.registered_capital), money)
        sheet.write_number(r, 8, float(inst.paid_in_capital), money)
        sheet.write_row(
            r,
            9,
            [
                inst.established_on.isoformat() if inst.established_on else "",
                inst.get_status_display(),
                inst.licence_number or "",
                str(statuses.get(inst.licence_status, "")),
                _("是") if inst.pk in gov_ids else _("否"),
            ],
        )
    sheet.set_column(0, 0, 40)
    sheet.set_column(1, 1, 22)
    sheet.set_column(2, 13, 14)
    sheet.autofilter(0, 0, max(1, qs.count()), len(headers) - 1)
    book.close()
    response = HttpResponse(
        buf.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="institutions-{timezone.localdate():%Y%m%d}.xlsx"'
    )
    return response


# --- institution page with tabs --------------------------------------------------------------------


def tab_profile(request, institution):
    rules = selectors.rules_for(institution.region_id)
    on_list = institution.pk in selectors.government_backed_ids(
        on=timezone.localdate(), institution_ids=[institution.pk]
    )
    return {
        "findings": institution_findings(institution, rules),
        "government_backed": on_list,
        "branches": list(
            Institution.objects.for_user(request.user).filter(parent=institution).select_related("region")
        ),
    }


def tab_licences(request, institution):
    licences = list(
        Licence.objects.for_user(request.user)
        .filter(institution=institution)
        .prefetch_related(Prefetch("duties", queryset=LicenceDuty.objects.order_by("due_on")))
        .order_by("-id")
    )
    today = timezone.localdate()
    for lic in licences:
        for duty in lic.duties.all():
            duty.current_state = duty.state(today)
    return {"licences": licences, "can_manage": _can_manage(request.user)}


def tab_agreements(request, institution):
    agreements = list(
        Agreement.objects.for_user(request.user).filter(institution=institution).select_related("bank")
    )
    rules = selectors.rules_for(institution.region_id)
    today = timezone.localdate()
    for a in agreements:
        a.findings = agreement_findings(a, rules)
        a.expiring = today <= a.ends_on <= today + dt.timedelta(days=_reminder_days(rules))
        a.expired = a.ends_on < today
    return {"agreements": agreements, "today": today}


def tab_people(request, institution):
    from .forms import ManagerForm, ShareholderForm
    from .models import Manager, Shareholder

    return {
        "shareholders": list(Shareholder.objects.for_user(request.user).filter(institution=institution)),
        "managers": list(Manager.objects.for_user(request.user).filter(institution=institution)),
        "can_edit": _can_edit_company(request.user, institution),
        "shareholder_form": ShareholderForm(),
        "manager_form": ManagerForm(),
    }


def tab_changes(request, institution):
    from .forms import ChangeFilingForm
    from .models import ChangeFiling

    filings = list(
        ChangeFiling.objects.for_user(request.user)
        .filter(institution=institution)
        .select_related("reviewed_by")
    )
    return {
        "filings": filings,
        "filing_form": ChangeFilingForm(),
        "is_company": request.user.institution_id == institution.pk,
        "can_review": _can_manage(request.user),
    }


def _can_edit_company(user, institution) -> bool:
    return _can_manage(user) or (user.role in ("filer", "approver") and user.institution_id == institution.pk)


def tab_history(request, institution):
    return {"events": audit.history(institution)[:200]}


def _can_manage(user) -> bool:
    return user.is_superuser or user.role in ("admin", "regulator")


@login_required
def institution_detail(request, pk):
    institution = get_object_or_404(
        Institution.objects.for_user(request.user).select_related("region", "parent"), pk=pk
    )
    tabs = tabs_for(request.user)
    if not tabs:
        raise Http404
    key = request.GET.get("tab") or tabs[0].key
    tab = next((t for t in tabs if t.key == key), None)
    if tab is None:
        raise Http404
    context = {"institution": institution, "tabs": tabs, "tab": tab, "can_manage": _can_manage(request.user)}
    if tab.context:
        context.update(tab.context(request, institution))
    return render(request, "institutions/detail.html", context)


@login_required
def own_institution(request):
    if not request.user.institution_id:
        raise Http404
    return institution_detail(request, request.user.institution_id)


# --- licences --------------------------------------------------------------------------------------


@role_required("regulator")
def licence_issue(request, pk):
    institution = get_object_or_404(Institution.objects.for_user(request.user), pk=pk)
    form = LicenceIssueForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.licence_issue(actor=request.user, institution=institution, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("许可证已颁发，颁证公告草稿已生成。"))
            return redirect(reverse("institutions:detail", args=[pk]) + "?tab=licences")
    return render(request, "institutions/licence_issue.html", {"institution": institution, "form": form})


@role_required("regulator")
def licence_detail(request, pk):
    licence = get_object_or_404(
        Licence.objects.for_user(request.user)
        .filter(institution__in=Institution.objects.for_user(request.user))
        .select_related("institution"),
        pk=pk,
    )
    form = LicenceChangeForm(
        request.POST or None,
        initial={
            "issued_on": licence.issued_on,
            "issuing_authority": licence.issuing_authority,
            "business_scope": licence.business_scope,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.licence_change(actor=request.user, licence=licence, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("许可证已变更（编号不变）。"))
            return redirect("institutions:licence", pk=pk)
    today = timezone.localdate()
    duties = list(licence.duties.all())
    for d in duties:
        d.current_state = d.state(today)
    return render(
        request,
        "institutions/licence_detail.html",
        {"licence": licence, "form": form, "duties": duties, "events": audit.history(licence)[:100]},
    )


@role_required("regulator")
@require_POST
def duty_complete(request, pk):
    duty = get_object_or_404(LicenceDuty.objects.for_user(request.user), pk=pk)
    try:
        done_on = dt.date.fromisoformat(request.POST.get("done_on", ""))
    except ValueError:
        messages.error(request, _("请填写有效的完成日期。"))
    else:
        services.licence_duty_complete(actor=request.user, duty=duty, done_on=done_on)
        messages.success(request, _("已登记完成。"))
    return redirect("institutions:licence", pk=duty.licence_id)


@role_required("regulator")
def licence_action(request, action):
    """Cancel or revoke the selected licences: form → confirmation page → one draft notice."""
    if action not in ("cancel", "revoke"):
        raise Http404
    source = request.POST if request.method == "POST" else request.GET
    ids = [int(i) for i in source.getlist("ids") if str(i).isdigit()]
    manageable = Licence.objects.filter(institution__in=Institution.objects.for_user(request.user))
    licences = sorted(
        manageable.filter(pk__in=ids).select_related("institution__region"), key=lambda lic: ids.index(lic.pk)
    )
    if len(licences) != len(set(ids)):
        raise Http404
    Form = CancelForm if action == "cancel" else RevokeForm
    form = Form(request.POST or None)
    confirming = False
    if request.method == "POST" and form.is_valid():
        if request.POST.get("confirm") == "1":
            try:
                if action == "cancel":
                    notice = services.licences_cancel(
                        actor=request.user, licences=licences, **form.cleaned_data
                    )
                else:
                    notice = services.licences_revoke(
                        actor=request.user, licences=licences, **form.cleaned_data
                    )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(
                    request, _("已处理%(n)s个许可证，公告草稿已生成，请核对后发布。") % {"n": len(licences)}
                )
                return redirect("institutions:notice", pk=notice.pk)
        else:
            confirming = True
    candidates, q = None, (request.GET.get("q") or "").strip()
    if not ids:
        valid = manageable.filter(status=LicenceStatus.VALID).select_related("institution").order_by("number")
        if q:
            valid = valid.filter(Q(number__icontains=q) | Q(institution__name__icontains=q))
        candidates = Paginator(valid, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "institutions/licence_action.html",
        {
            "action": action,
            "licences": licences,
            "form": form,
            "confirming": confirming,
            "candidates": candidates,
            "ids": ids,
            "q": q,
            "page": candidates,
            "query": urlencode({"q": q}) if q else "",
        },
    )


# --- notices (regulator) ---------------------------------------------------------------------------


@role_required("regulator", "finance")
def notice_list(request):
    notices = (
        Notice.objects.for_user(request.user)
        .annotate(n_items=Count("items"))
        .order_by("status", "-published_on", "-id")
    )
    if request.GET.get("status") in NoticeStatus.values:
        notices = notices.filter(status=request.GET["status"])
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "institutions/notice_list.html", {"page": page, "statuses": NoticeStatus.choices})


@role_required("regulator", "finance")
def notice_edit(request, pk):
    """Editor and preview: the public page as it will look, with the editable fields beside it."""
    notice = get_object_or_404(Notice.objects.for_user(request.user), pk=pk)
    if (
        not request.user.is_superuser
        and request.user.role != "admin"
        and not notice.region_id.startswith(subtree_prefix(request.user.region_id))
    ):
        raise Http404  # a published notice of another region is public, but not editable here
    form = NoticeForm(request.POST or None, instance=notice) if notice.status == NoticeStatus.DRAFT else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                fields = {f: form.cleaned_data[f] for f in form.Meta.fields}
                notice = services.notice_update(actor=request.user, notice=notice, **fields)
                if request.POST.get("publish") == "1":
                    services.notice_publish(actor=request.user, notice=notice)
                    messages.success(request, _("公告已发布。"))
                else:
                    messages.success(request, _("公告已保存。"))
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                return redirect("institutions:notice", pk=pk)
        notice.refresh_from_db()
    return render(
        request,
        "institutions/notice_edit.html",
        {
            "notice": notice,
            "form": form,
            "items": selectors.notice_items(notice),
            "events": audit.history(notice)[:50],
        },
    )


# --- government-backed list ------------------------------------------------------------------------


@role_required("regulator", "finance")
def govlist(request):
    batches = (
        GovListBatch.objects.for_user(request.user)
        .annotate(
            n_include=Count("entries", filter=Q(entries__action=ListAction.INCLUDE)),
            n_remove=Count("entries", filter=Q(entries__action=ListAction.REMOVE)),
        )
        .select_related("region", "proposed_by", "confirmed_by")
        .order_by("-published_on", "-id")
    )
    page = Paginator(batches, PAGE_SIZE).get_page(request.GET.get("page"))
    form = BatchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        region = request.user.region_id or request.POST.get("region") or "510000"
        try:
            batch = services.govlist_batch_create(actor=request.user, region_code=region, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("institutions:govlist_batch", pk=batch.pk)
    return render(
        request,
        "institutions/govlist.html",
        {"page": page, "form": form, "current": _current_in_scope(request.user)},
    )


def _current_in_scope(user):
    visible = set(Institution.objects.for_user(user).values_list("pk", flat=True))
    return [
        e for e in selectors.current_government_list(on=timezone.localdate()) if e.institution_id in visible
    ]


@role_required("regulator", "finance")
def govlist_batch(request, pk):
    batch = get_object_or_404(
        GovListBatch.objects.for_user(request.user).select_related("proposed_by", "confirmed_by", "region"),
        pk=pk,
    )
    institutions = Institution.objects.for_user(request.user).order_by("region_id", "name")
    form = EntryForm(request.POST or None, institutions=institutions)
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "entry" and form.is_valid():
                services.govlist_entry_set(actor=request.user, batch=batch, **form.cleaned_data)
                messages.success(request, _("条目已保存。"))
                return redirect("institutions:govlist_batch", pk=pk)
            if op == "propose":
                services.govlist_batch_propose(actor=request.user, batch=batch)
                messages.success(request, _("已提交另一方确认。"))
                return redirect("institutions:govlist_batch", pk=pk)
            if op == "confirm":
                services.govlist_batch_confirm(actor=request.user, batch=batch)
                messages.success(request, _("批次已确认发布，名单变动公告已生成。"))
                return redirect("institutions:govlist_batch", pk=pk)
        except ValidationError as exc:
            _form_errors(form, exc)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
            return redirect("institutions:govlist_batch", pk=pk)
    entries = (
        GovListEntry.objects.for_user(request.user).filter(batch=batch).select_related("institution__region")
    )
    return render(
        request,
        "institutions/govlist_batch.html",
        {
            "batch": batch,
            "entries": entries,
            "form": form,
            "events": audit.history(batch)[:50],
            "editable": batch.status == ListBatchStatus.DRAFT,
        },
    )


# --- agreements ------------------------------------------------------------------------------------


@login_required
def agreement_list(request):
    """Agreements in scope with their rule findings; `findings=1` keeps only those breaking a rule
    (evaluated over all rows before paginating, from the rules loaded once)."""
    qs = Agreement.objects.for_user(request.user).select_related("bank", "institution__region")
    if request.GET.get("q"):
        q = request.GET["q"].strip()
        qs = qs.filter(Q(institution__name__icontains=q) | Q(bank__name__icontains=q))
    qs = qs.order_by("ends_on", "id")
    rules = selectors.policy_rules()
    today = timezone.localdate()

    def evaluate(a):
        applicable = selectors.rules_for(a.institution.region_id, today, rules)
        a.findings = agreement_findings(a, applicable)
        a.expiring = today <= a.ends_on <= today + dt.timedelta(days=_reminder_days(applicable))
        a.expired = a.ends_on < today
        return a

    only = request.GET.get("findings") == "1"
    if only:
        page = Paginator([a for a in map(evaluate, qs) if a.findings], PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        rows = list(page.object_list)
    else:
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [evaluate(a) for a in page.object_list]
    return render(
        request,
        "institutions/agreement_list.html",
        {
            "page": page,
            "rows": rows,
            "q": request.GET.get("q", ""),
            "only_findings": only,
            "query": urlencode({k: v for k, v in request.GET.items() if k != "page" and v}),
        },
    )


def _reminder_days(applicable: dict) -> int:
    from .choices import RuleCode

    rule = applicable.get(RuleCode.AGREEMENT_REMINDER_DAYS)
    return int(rule.value) if rule is not None and rule.value is not None else 0


@login_required
def agreement_detail(request, pk):
    agreement = get_object_or_404(
        Agreement.objects.for_user(request.user).select_related("bank", "institution__region"), pk=pk
    )
    findings = agreement_findings(agreement, selectors.rules_for(agreement.institution.region_id))
    return render(
        request,
        "institutions/agreement_detail.html",
        {"agreement": agreement, "findings": findings, "events": audit.history(agreement)[:50]},
    )


@login_required
def agreement_edit(request, pk=None):
    user = request.user
    agreement = None
    if pk is not None:
        agreement = get_object_or_404(Agreement.objects.for_user(user), pk=pk)
        institution = agreement.institution
    else:
        inst_id = request.GET.get("institution") or request.POST.get("institution") or user.institution_id
        institution = get_object_or_404(Institution.objects.for_user(user), pk=inst_id)
    if user.role in ("finance",):
        raise PermissionDenied
    form = AgreementForm(request.POST or None, instance=agreement)
    if request.method == "POST" and form.is_valid():
        try:
            agreement = services.agreement_save(
                actor=user,
                institution=institution,
                agreement=agreement,
                **{f: form.cleaned_data[f] for f in AgreementForm.Meta.fields},
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        except PermissionDenied:
            raise
        else:
            messages.success(request, _("协议已保存。"))
            return redirect("institutions:agreement", pk=agreement.pk)
    return render(
        request,
        "institutions/agreement_edit.html",
        {"form": form, "institution": institution, "agreement": agreement},
    )


# --- public pages (no login) -----------------------------------------------------------------------


def _download(request, rows: list[dict], columns: list[tuple[str, str]], name: str):
    fmt = request.GET.get("format")
    if fmt == "json":
        response = JsonResponse(
            {"count": len(rows), "results": rows},
            encoder=DjangoJSONEncoder,
            json_dumps_params={"ensure_ascii": False, "indent": 1},
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response
    if fmt == "csv":
        out = io.StringIO()
        out.write("\ufeff")  # Excel opens UTF-8 CSV correctly with a BOM
        writer = csv.writer(out)
        writer.writerow([label for _key, label in columns])
        for row in rows:
            writer.writerow(["" if row[key] is None else row[key] for key, _label in columns])
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    return None


REGISTER_COLUMNS = [
    ("institution", "机构名称"),
    ("credit_code", "统一社会信用代码"),
    ("licence_number", "许可证编号"),
    ("region_code", "注册地代码"),
    ("region", "注册地"),
    ("licence_status", "许可证状态"),
    ("institution_status", "经营状态"),
    ("issued_on", "发证日期"),
    ("cancelled_on", "注销日期"),
    ("revoked_on", "吊销日期"),
]


def _register_row(lic):
    inst = lic.institution
    return {
        "institution": inst.name,
        "credit_code": inst.credit_code,
        "licence_number": lic.number,
        "region_code": inst.region_id,
        "region": inst.region.name,
        "licence_status": lic.get_status_display(),
        "licence_status_code": lic.status,
        "institution_status": inst.get_status_display(),
        "issued_on": lic.issued_on,
        "cancelled_on": lic.cancelled_on,
        "revoked_on": lic.revoked_on,
    }


def public_register(request):
    qs = selectors.public_register()
    q = (request.GET.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(institution__name__icontains=q) | Q(number__icontains=q))
    status = request.GET.get("status")
    if status in LicenceStatus.values:
        qs = qs.filter(status=status)
    download = _download(
        request,
        [_register_row(lic) for lic in qs] if request.GET.get("format") else [],
        REGISTER_COLUMNS,
        "licence-register",
    )
    if download:
        return download
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "institutions/public/register.html",
        {
            "page": page,
            "q": q,
            "status": status,
            "statuses": LicenceStatus.choices,
            "query": urlencode({k: v for k, v in {"q": q, "status": status}.items() if v}),
        },
    )


GOVLIST_COLUMNS = [
    ("institution", "机构名称"),
    ("credit_code", "统一社会信用代码"),
    ("region", "注册地"),
    ("batch", "纳入批次"),
    ("published_on", "发布日期"),
    ("capital_replenishment", "建立资本金持续补充机制"),
    ("risk_compensation", "建立风险补偿机制"),
    ("national_fund_equity", "国家融资担保基金股权投资"),
    ("national_fund_reguarantee", "与国家融资担保基金开展再担保合作"),
]


def public_govlist(request):
    current = selectors.current_government_list(on=timezone.localdate())
    rows = [
        {
            "institution": e.institution.name,
            "credit_code": e.institution.credit_code,
            "region": e.institution.region.name,
            "batch": e.batch.title,
            "published_on": e.batch.published_on,
            "capital_replenishment": e.capital_replenishment,
            "risk_compensation": e.risk_compensation,
            "national_fund_equity": e.national_fund_equity,
            "national_fund_reguarantee": e.national_fund_reguarantee,
        }
        for e in current
    ]
    download = _download(request, rows, GOVLIST_COLUMNS, "government-backed-list")
    if download:
        return download
    batches = GovListBatch.objects.for_user(AnonymousUser()).prefetch_related(
        Prefetch(
            "entries",
            queryset=GovListEntry.objects.select_related("institution").order_by(
                "action", "institution__name"
            ),
        )
    )
    return render(request, "institutions/public/govlist.html", {"current": current, "batches": batches})


NOTICE_COLUMNS = [
    ("id", "编号"),
    ("title", "标题"),
    ("kind", "类型"),
    ("issuing_body", "发布机关"),
    ("published_on", "公告日期"),
    ("period_label", "公告期间"),
    ("document_no", "文号"),
    ("items", "条目数"),
    ("url", "网址"),
]


def public_notices(request):
    notices = selectors.public_notices().annotate(n_items=Count("items")).order_by("-published_on", "-id")
    if request.GET.get("format"):
        rows = [
            {
                "id": n.pk,
                "title": n.title,
                "kind": n.get_kind_display(),
                "issuing_body": n.issuing_body,
                "published_on": n.published_on,
                "period_label": n.period_label,
                "document_no": n.document_no,
                "items": n.n_items,
                "url": request.build_absolute_uri(reverse("institutions:public_notice", args=[n.pk])),
            }
            for n in notices
        ]
        download = _download(request, rows, NOTICE_COLUMNS, "notices")
        if download:
            return download
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "institutions/public/notices.html", {"page": page})


ITEM_COLUMNS = [
    ("seq", "序号"),
    ("institution", "机构名称"),
    ("licence_number", "许可证编号"),
    ("remark", "备注"),
]


def public_notice(request, pk):
    notice = get_object_or_404(selectors.public_notices(), pk=pk)
    items = list(selectors.notice_items(notice))
    rows = [
        {
            "seq": i.seq,
            "institution": i.institution_name,
            "licence_number": i.licence_number,
            "remark": i.remark,
        }
        for i in items
    ]
    download = _download(request, rows, ITEM_COLUMNS, f"notice-{notice.pk}")
    if download:
        return download
    return render(request, "institutions/public/notice.html", {"notice": notice, "items": items})


def json_dump(rows) -> str:
    return json.dumps(rows, cls=DjangoJSONEncoder, ensure_ascii=False)


# --- registry import -------------------------------------------------------------------------------


@role_required("regulator")
def registry_import(request):
    from .excel import ImportFailed, template_workbook
    from .excel import registry_import as run_import

    if request.GET.get("template"):
        response = HttpResponse(
            template_workbook(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = 'attachment; filename="registry-import-template.xlsx"'
        return response
    errors, result = [], None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors = [_("请选择要上传的 .xlsx 文件。")]
        elif upload.size > 20 * 1024 * 1024:
            errors = [_("文件超过20MB。")]
        else:
            try:
                result = run_import(upload.read(), actor=request.user)
            except ImportFailed as exc:
                errors = exc.errors
    return render(request, "institutions/import.html", {"errors": errors, "result": result})


# --- shareholders, managers, change filings --------------------------------------------------------


def _tab_url(institution, tab):
    return reverse("institutions:detail", args=[institution.pk]) + f"?tab={tab}"


@login_required
@require_POST
def people_edit(request, pk, what):
    from .forms import ManagerForm, ShareholderForm
    from .models import Manager, Shareholder

    institution = get_object_or_404(Institution.objects.for_user(request.user), pk=pk)
    if not _can_edit_company(request.user, institution):
        raise PermissionDenied
    try:
        if what == "delete_shareholder":
            services.registry_row_delete(
                actor=request.user,
                row=get_object_or_404(Shareholder, pk=request.POST.get("id"), institution=institution),
            )
        elif what == "delete_manager":
            services.registry_row_delete(
                actor=request.user,
                row=get_object_or_404(Manager, pk=request.POST.get("id"), institution=institution),
            )
        elif what in ("shareholder", "manager"):
            form = (ShareholderForm if what == "shareholder" else ManagerForm)(request.POST)
            if not form.is_valid():
                messages.error(
                    request,
                    "；".join(
                        f"{form.fields[f].label if f in form.fields else ''}{'：' if f in form.fields else ''}{'；'.join(e)}"
                        for f, e in form.errors.items()
                    ),
                )
                return redirect(_tab_url(institution, "people"))
            save = services.shareholder_save if what == "shareholder" else services.manager_save
            save(actor=request.user, institution=institution, **form.cleaned_data)
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("已保存。"))
    return redirect(_tab_url(institution, "people"))


@login_required
@require_POST
def change_filing_submit(request, pk):
    from .forms import ChangeFilingForm

    institution = get_object_or_404(Institution.objects.for_user(request.user), pk=pk)
    form = ChangeFilingForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.change_filing_submit(actor=request.user, institution=institution, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, _("变更已报备。"))
    else:
        messages.error(request, "；".join("；".join(e) for e in form.errors.values()))
    return redirect(_tab_url(institution, "changes"))


@role_required("regulator")
@require_POST
def change_filing_review(request, pk):
    from .models import ChangeFiling

    filing = get_object_or_404(ChangeFiling.objects.for_user(request.user), pk=pk)
    try:
        services.change_filing_review(
            actor=request.user,
            filing=filing,
            acknowledge=request.POST.get("decision") == "acknowledge",
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect(_tab_url(filing.institution, "changes"))


@login_required
def change_filing_document(request, pk):
    from django.http import FileResponse

    from .models import ChangeFiling

    filing = get_object_or_404(ChangeFiling.objects.for_user(request.user), pk=pk)
    if not filing.document:
        raise Http404
    return FileResponse(
        filing.document.open("rb"), as_attachment=True, filename=f"change-filing-{filing.pk}.pdf"
    )


@role_required("regulator")
def institution_edit(request, pk):
    """Change registered items (audited; a change of region or ownership notifies the indicators)."""
    from .forms import InstitutionForm

    institution = get_object_or_404(Institution.objects.for_user(request.user), pk=pk)
    form = InstitutionForm(request.POST or None, instance=institution, user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = {f: form.cleaned_data[f] for f in InstitutionForm.Meta.fields}
        try:
            if (
                not request.user.is_superuser
                and request.user.role != "admin"
                and not request.user.region.contains(fields["region"].code)
            ):
                raise PermissionDenied
            institution.refresh_from_db()
            services.institution_upsert(actor=request.user, credit_code=institution.credit_code, **fields)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("机构信息已保存。"))
            return redirect("institutions:detail", pk=pk)
    return render(request, "institutions/institution_edit.html", {"form": form, "institution": institution})
