"""The regulator's institution list and its export, the institution page with its tabs, the institution edit
and the registry import."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.models import Region
from core import audit
from core.excel import Table, UploadRejected, attachment, export_response, precheck_upload, upload_channel
from core.jobs import job_enqueue
from core.models import Job
from core.permissions import signed_in
from core.roles import acts_for, is_admin

from .. import selectors, services
from ..choices import (
    EntityKind,
    InstitutionStatus,
    LicenceStatus,
    Ownership,
)
from ..models import Agreement, Institution, Licence, LicenceDuty
from ..permissions import (
    may_change_institution,
    may_edit_company_data,
    may_keep_licences,
    may_review_changes,
    registry_keeper,
)
from ..rules import agreement_findings, institution_findings
from ..tabs import tabs_for
from .common import PAGE_SIZE, form_errors, reminder_days

FILTER_KEYS = ("region", "level", "ownership", "kind", "status", "licence", "gov", "q", "sort")


# --- regulator list ----------------------------------------------------------------------------------


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
    elif is_admin(user):
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


@registry_keeper
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


@registry_keeper
def institution_export(request: HttpRequest) -> HttpResponse:
    """The filtered list (all pages) as xlsx."""
    params, _ctx = _filter_context(request)
    qs = selectors.institution_list(request.user, params)
    gov_ids = selectors.government_backed_ids(on=timezone.localdate())
    statuses = dict(LicenceStatus.choices)
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
    # labels translated once, not per row (get_FOO_display normalises the choices on every call)
    labels = {
        f: {k: str(v) for k, v in Institution._meta.get_field(f).flatchoices}
        for f in ("kind", "level", "ownership", "status")
    }
    yes, no = _("是"), _("否")
    rows = (
        [
            name,
            credit_code,
            labels["kind"].get(kind, kind),
            region_id,
            region_name,
            labels["level"].get(level, level),
            labels["ownership"].get(ownership, ownership),
            registered_capital,
            paid_in_capital,
            established_on,
            labels["status"].get(status, status),
            licence_number or "",
            str(statuses.get(licence_status, "")),
            yes if pk in gov_ids else no,
        ]
        for (
            pk,
            name,
            credit_code,
            kind,
            region_id,
            region_name,
            level,
            ownership,
            registered_capital,
            paid_in_capital,
            established_on,
            status,
            licence_number,
            licence_status,
        ) in qs.values_list(
            "pk",
            "name",
            "credit_code",
            "kind",
            "region_id",
            "region__name",
            "level",
            "ownership",
            "registered_capital",
            "paid_in_capital",
            "established_on",
            "status",
            "licence_number",
            "licence_status",
        ).iterator(chunk_size=2000)
    )
    return export_response(
        f"institutions-{timezone.localdate():%Y%m%d}.xlsx",
        Table(_("机构名录"), headers, rows, widths=[40, 22, *[14] * 12]),
    )


# --- institution page with tabs ----------------------------------------------------------------------


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
    return {"licences": licences, "can_manage": may_keep_licences(request.user, institution)}


def tab_agreements(request, institution):
    agreements = list(
        Agreement.objects.for_user(request.user).filter(institution=institution).select_related("bank")
    )
    rules = selectors.rules_for(institution.region_id)
    today = timezone.localdate()
    for a in agreements:
        a.findings = agreement_findings(a, rules)
        a.expiring = today <= a.ends_on <= today + dt.timedelta(days=reminder_days(rules))
        a.expired = a.ends_on < today
    return {"agreements": agreements, "today": today}


def tab_people(request, institution):
    from ..forms import ManagerForm, ShareholderForm
    from ..models import Manager, Shareholder

    return {
        "shareholders": list(Shareholder.objects.for_user(request.user).filter(institution=institution)),
        "managers": list(Manager.objects.for_user(request.user).filter(institution=institution)),
        "can_edit": may_edit_company_data(request.user, institution),
        "shareholder_form": ShareholderForm(),
        "manager_form": ManagerForm(),
    }


def tab_changes(request, institution):
    from ..forms import ChangeFilingForm
    from ..models import ChangeFiling

    filings = list(
        ChangeFiling.objects.for_user(request.user)
        .filter(institution=institution)
        .select_related("reviewed_by")
    )
    return {
        "filings": filings,
        "filing_form": ChangeFilingForm(),
        "is_company": acts_for(request.user, institution.pk),
        "can_review": may_review_changes(request.user, institution),
    }


def tab_history(request, institution):
    return {"events": audit.history(institution)[:200]}


def may_issue_licence(user, institution: Institution) -> bool:
    """Offer 颁发许可证 only where it can succeed: the province's regulator, an institution that may
    receive one and holds none in force."""
    from ..choices import LicenceStatus
    from ..permissions import may_handle_licences

    return (
        institution.may_receive_licence
        and may_handle_licences(user, institution)
        and not Licence.objects.filter(institution=institution, status=LicenceStatus.VALID).exists()
    )


@signed_in
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
    context = {
        "institution": institution,
        "tabs": tabs,
        "tab": tab,
        "can_manage": may_change_institution(request.user, institution, institution.region_id),
        "can_issue_licence": may_issue_licence(request.user, institution),
    }
    if tab.context:
        context.update(tab.context(request, institution))
    return render(request, "institutions/detail.html", context)


@signed_in
def own_institution(request):
    if not request.user.institution_id:
        raise Http404
    return institution_detail(request, request.user.institution_id)


# --- registry import ---------------------------------------------------------------------------------


@upload_channel("registry")
@registry_keeper
def registry_import(request: HttpRequest) -> HttpResponse:
    from ..excel import ImportFailed, template_workbook, upload_errors
    from ..excel import registry_import as run_import

    if request.GET.get("template"):
        return attachment(template_workbook(), "registry-import-template.xlsx")
    errors, result, job = [], None, None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors = [_("请选择要上传的 .xlsx 文件。")]
        elif upload.size > settings.REGISTRY_IMPORT_INLINE_BYTES:
            try:
                precheck_upload(upload, channel="registry")
            except UploadRejected as exc:
                errors = upload_errors(exc)
            else:
                job = _registry_import_in_background(request, upload)
        else:
            try:
                result = run_import(upload, actor=request.user)
            except ImportFailed as exc:
                errors = exc.cells
    jobs = Job.objects.for_user(request.user).filter(kind="registry_import", created_by=request.user)[:5]
    return render(
        request, "institutions/import.html", {"errors": errors, "result": result, "job": job, "jobs": jobs}
    )


def _registry_import_in_background(request: HttpRequest, upload) -> Job:
    """A large workbook (its size and zip directory already checked): stored, and imported by a
    background job through the guarded reader; the page lists the user's import jobs."""
    from ..tasks import registry_import_task

    name = default_storage.save(f"imports/registry/{uuid.uuid4().hex}.xlsx", upload)
    with transaction.atomic():
        return job_enqueue(
            kind="registry_import",
            task=registry_import_task,
            params={"path": name, "filename": upload.name[:200]},
            user=request.user,
        )


@registry_keeper
def institution_edit(request, pk):
    """Change registered items (audited; a change of region or ownership notifies the indicators)."""
    from ..forms import InstitutionForm

    institution = get_object_or_404(Institution.objects.for_user(request.user, "change"), pk=pk)
    form = InstitutionForm(request.POST or None, instance=institution, user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = {f: form.cleaned_data[f] for f in InstitutionForm.Meta.fields}
        try:
            institution.refresh_from_db()
            services.institution_upsert(actor=request.user, credit_code=institution.credit_code, **fields)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("机构信息已保存。"))
            return redirect("institutions:detail", pk=pk)
    return render(request, "institutions/institution_edit.html", {"form": form, "institution": institution})
