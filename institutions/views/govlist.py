"""The government-backed institution list, kept in batches by finance bureaus and regulators."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit

from .. import selectors, services
from ..choices import (
    ListAction,
    ListBatchStatus,
)
from ..forms import (
    BatchEditForm,
    BatchForm,
    EntryForm,
)
from ..models import GovListBatch, GovListEntry, Institution
from ..permissions import list_keeper, may_confirm_batch
from .common import PAGE_SIZE, form_errors

# --- government-backed list --------------------------------------------------------------------------


@list_keeper
def govlist(request: HttpRequest) -> HttpResponse:
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
    form = BatchForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = {k: form.cleaned_data[k] for k in ("title", "published_on", "note")}
        try:
            batch = services.govlist_batch_create(
                actor=request.user, region_code=form.region_code(request.user), **fields
            )
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("institutions:govlist_batch", pk=batch.pk)
    return render(
        request,
        "institutions/govlist.html",
        {"page": page, "form": form, "current": _current_in_scope(request.user)},
    )


def list_candidates(user):
    """Institutions a batch may name: legal entities of the user's jurisdiction (no branches), without
    those whose licence was revoked and none holds in force."""
    from ..choices import EntityKind, LicenceStatus
    from ..models import Licence

    revoked_only = Licence.objects.filter(status=LicenceStatus.REVOKED).exclude(
        institution__licences__status=LicenceStatus.VALID
    )
    return (
        Institution.objects.for_user(user)
        .filter(kind=EntityKind.LEGAL_ENTITY)
        .exclude(pk__in=revoked_only.values("institution_id"))
        .order_by("region_id", "name")
    )


def _current_in_scope(user):
    visible = set(Institution.objects.for_user(user).values_list("pk", flat=True))
    return [
        e for e in selectors.current_government_list(on=timezone.localdate()) if e.institution_id in visible
    ]


@list_keeper
def govlist_batch(request, pk):
    batch = get_object_or_404(
        GovListBatch.objects.for_user(request.user).select_related("proposed_by", "confirmed_by", "region"),
        pk=pk,
    )
    institutions = list_candidates(request.user)
    op = request.POST.get("op") if request.method == "POST" else None
    form = EntryForm(request.POST if op == "entry" else None, institutions=institutions)
    edit_form = BatchEditForm(
        request.POST if op == "edit" else None,
        initial={"title": batch.title, "published_on": batch.published_on, "note": batch.note},
    )
    if request.method == "POST":
        try:
            if op == "edit" and edit_form.is_valid():
                services.govlist_batch_update(actor=request.user, batch=batch, **edit_form.cleaned_data)
                messages.success(request, _("批次信息已保存。"))
                return redirect("institutions:govlist_batch", pk=pk)
            if op == "send_back":
                services.govlist_batch_send_back(
                    actor=request.user, batch=batch, reason=request.POST.get("reason", "")
                )
                messages.success(request, _("已退回提出方修改。"))
                return redirect("institutions:govlist_batch", pk=pk)
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
            if op == "send_back":
                messages.error(request, " ".join(exc.messages))
                return redirect("institutions:govlist_batch", pk=pk)
            form_errors(edit_form if op == "edit" else form, exc)
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
            "edit_form": edit_form,
            "events": audit.history(batch)[:50],
            "editable": batch.status == ListBatchStatus.DRAFT,
            # offer only what this user may do: the other side confirms or sends back
            "can_confirm": batch.status == ListBatchStatus.PROPOSED
            and may_confirm_batch(request.user, batch),
        },
    )
