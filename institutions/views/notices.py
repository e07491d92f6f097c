"""Notices drafted and published by regulators and finance bureaus."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from core import audit

from .. import selectors, services
from ..choices import (
    NoticeStatus,
)
from ..forms import (
    NoticeForm,
)
from ..models import Notice
from ..permissions import list_keeper
from .common import PAGE_SIZE, form_errors

# --- notices (regulator) -----------------------------------------------------------------------------


@list_keeper
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


@list_keeper
def notice_edit(request, pk):
    """Editor and preview: the public page as it will look, with the editable fields beside it."""
    # a published notice of another region is public, but not editable here: not found
    notice = get_object_or_404(Notice.objects.for_user(request.user, "change"), pk=pk)
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
                form_errors(form, exc)
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
