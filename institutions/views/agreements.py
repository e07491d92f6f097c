"""Bank–guarantee risk-sharing agreements."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from core import audit
from core.parsing import parse_id
from core.permissions import signed_in

from .. import selectors, services
from ..forms import (
    AgreementForm,
)
from ..models import Agreement, Institution
from ..panels import render_panels
from ..permissions import may_change_agreements
from ..rules import agreement_findings
from .common import PAGE_SIZE, form_errors, reminder_days

# --- agreements --------------------------------------------------------------------------------------


@signed_in
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
        a.expiring = today <= a.ends_on <= today + dt.timedelta(days=reminder_days(applicable))
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


@signed_in
def agreement_detail(request, pk):
    agreement = get_object_or_404(
        Agreement.objects.for_user(request.user).select_related("bank", "institution__region"), pk=pk
    )
    findings = agreement_findings(agreement, selectors.rules_for(agreement.institution.region_id))
    return render(
        request,
        "institutions/agreement_detail.html",
        {
            "agreement": agreement,
            "findings": findings,
            "events": audit.history(agreement)[:50],
            "can_edit": may_change_agreements(request.user, agreement.institution),
            "panels": render_panels(request, agreement),  # e.g. the checks of its guarantees
        },
    )


@signed_in
def agreement_edit(request, pk=None):
    user = request.user
    agreement = None
    if pk is not None:
        agreement = get_object_or_404(Agreement.objects.for_user(user), pk=pk)
        institution = agreement.institution
    else:
        inst_id = request.GET.get("institution") or request.POST.get("institution") or user.institution_id
        institution = get_object_or_404(
            Institution.objects.for_user(user), pk=parse_id(inst_id, name="institution")
        )
    if not may_change_agreements(user, institution):
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
            form_errors(form, exc)
        else:
            messages.success(request, _("协议已保存。"))
            return redirect("institutions:agreement", pk=agreement.pk)
    return render(
        request,
        "institutions/agreement_edit.html",
        {"form": form, "institution": institution, "agreement": agreement},
    )
