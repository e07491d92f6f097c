"""Licence issue, changes, cancellation and revocation, and the duties they create."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import audit

from .. import services
from ..choices import (
    LicenceStatus,
)
from ..forms import (
    CancelForm,
    LicenceChangeForm,
    LicenceIssueForm,
    RevokeForm,
)
from ..models import Institution, Licence, LicenceDuty
from ..permissions import registry_keeper
from .common import form_errors

# --- licences ----------------------------------------------------------------------------------------


@registry_keeper
def licence_issue(request, pk):
    institution = get_object_or_404(Institution.objects.for_user(request.user), pk=pk)
    from .registry import may_issue_licence

    if request.method == "GET" and not may_issue_licence(request.user, institution):
        messages.error(
            request, _("您无法为该机构颁发许可证：须由所在省的监管部门颁发，且机构未持有有效许可证。")
        )
        return redirect("institutions:detail", pk=pk)
    form = LicenceIssueForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.licence_issue(actor=request.user, institution=institution, **form.cleaned_data)
        except ValidationError as exc:
            form_errors(form, exc)
        except PermissionDenied as exc:  # the input stays in the form, with the reason
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("许可证已颁发，颁证公告草稿已生成。"))
            return redirect(reverse("institutions:detail", args=[pk]) + "?tab=licences")
    return render(request, "institutions/licence_issue.html", {"institution": institution, "form": form})


@registry_keeper
def licence_detail(request, pk):
    licence = get_object_or_404(
        Licence.objects.for_user(request.user, "change").select_related("institution"), pk=pk
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
            form_errors(form, exc)
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


@registry_keeper
@require_POST
def duty_complete(request, pk):
    duty = get_object_or_404(LicenceDuty.objects.for_user(request.user, "change"), pk=pk)
    try:
        done_on = dt.date.fromisoformat(request.POST.get("done_on", ""))
    except ValueError:
        messages.error(request, _("请填写有效的完成日期。"))
    else:
        services.licence_duty_complete(actor=request.user, duty=duty, done_on=done_on)
        messages.success(request, _("已登记完成。"))
    return redirect("institutions:licence", pk=duty.licence_id)


@registry_keeper
def licence_action(request, action):
    """Cancel or revoke the selected licences: form → confirmation page → one draft notice."""
    if action not in ("cancel", "revoke"):
        raise Http404
    source = request.POST if request.method == "POST" else request.GET
    ids = [int(i) for i in source.getlist("ids") if str(i).isascii() and str(i).isdigit()]
    manageable = Licence.objects.for_user(request.user, "change")
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
                form_errors(form, exc)
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
