from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from .models import AuditEvent


@login_required
def audit_list(request):
    """The whole trail, for administrators (everyone else sees history on each record's page)."""
    if request.user.role != "admin" and not request.user.is_superuser:
        raise PermissionDenied
    events = AuditEvent.objects.for_user(request.user).select_related("content_type")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit_list.html", {"page": page})
