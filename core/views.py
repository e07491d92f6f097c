from django.core.paginator import Paginator
from django.shortcuts import render

from .inbox import menu_counts as counts_for
from .inbox import request_tasks
from .models import AuditEvent
from .permissions import role_required, signed_in
from .roles import Role


@role_required(Role.ADMIN)
def audit_list(request):
    """The whole trail, for administrators (everyone else sees history on each record's page)."""
    events = AuditEvent.objects.for_user(request.user).select_related("content_type")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit_list.html", {"page": page})


def page_not_found(request, exception):
    """settings' handler404: an address no URL matches. Under /api/ the API's one error body (a client
    asked for JSON), elsewhere the portal's 404 page."""
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        from .exceptions import DEFAULT_DETAIL

        body = {"code": "not_found", "detail": str(DEFAULT_DETAIL["not_found"]), "errors": {}}
        return JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False})
    from django.views.defaults import page_not_found as default

    return default(request, exception)


@signed_in
def inbox(request):
    """待办: what waits for the user, from every app's inbox source (core.inbox)."""
    return render(request, "core/inbox.html", {"tasks": request_tasks(request)})


@signed_in
def menu_counts(request):
    """The counts beside the menu's entries, as htmx out-of-band fragments the page asks for once it has
    loaded (every inbox source runs here, not in every page's rendering)."""
    counts = {name.replace(":", "-"): n for name, n in counts_for(request).items()}
    return render(request, "core/_menu_counts.html", {"counts": sorted(counts.items())})
