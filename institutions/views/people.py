"""Shareholders, directors and managers, and the change filings (变更备案) that report them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.parsing import parse_id
from core.permissions import signed_in

from .. import services
from ..models import Institution
from ..permissions import may_edit_company_data, registry_keeper

# --- shareholders, managers, change filings ----------------------------------------------------------


def _tab_url(institution, tab):
    return reverse("institutions:detail", args=[institution.pk]) + f"?tab={tab}"


@signed_in
@require_POST
def people_edit(request, pk, what):
    from ..forms import ManagerForm, ShareholderForm
    from ..models import Manager, Shareholder

    institution = get_object_or_404(Institution.objects.for_user(request.user), pk=pk)
    if not may_edit_company_data(request.user, institution):
        raise PermissionDenied
    try:
        if what == "delete_shareholder":
            services.registry_row_delete(
                actor=request.user,
                row=get_object_or_404(
                    Shareholder.objects.for_user(request.user, "change"),
                    pk=parse_id(request.POST.get("id")),
                    institution=institution,
                ),
            )
        elif what == "delete_manager":
            services.registry_row_delete(
                actor=request.user,
                row=get_object_or_404(
                    Manager.objects.for_user(request.user, "change"),
                    pk=parse_id(request.POST.get("id")),
                    institution=institution,
                ),
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


@signed_in
@require_POST
def change_filing_submit(request, pk):
    from ..forms import ChangeFilingForm

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


@registry_keeper
@require_POST
def change_filing_review(request, pk):
    from ..models import ChangeFiling

    filing = get_object_or_404(ChangeFiling.objects.for_user(request.user, "change"), pk=pk)
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


@signed_in
def change_filing_document(request, pk):
    from django.http import FileResponse

    from ..models import ChangeFiling

    filing = get_object_or_404(ChangeFiling.objects.for_user(request.user), pk=pk)
    if not filing.document:
        raise Http404
    return FileResponse(
        filing.document.open("rb"), as_attachment=True, filename=f"change-filing-{filing.pk}.pdf"
    )
