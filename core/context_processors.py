from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject

from .inbox import menu_counts
from .permissions import MENU


def _menu(request) -> list[dict]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    counts = menu_counts(request)
    items = []
    for access, label, name, icon in MENU:
        if not access.allows(user):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        items.append(
            {
                "label": label,
                "url": url,
                "icon": icon,
                "count": counts.get(name, 0),
                "active": request.path == url or (url != "/" and request.path.startswith(url)),
            }
        )
    return items


def navigation(request):
    # Built when a template first reads it (a fragment that shows no menu costs no count queries).
    return {
        "nav_items": SimpleLazyObject(lambda: _menu(request)),
        "portal_name": settings.PORTAL_NAME,
        "otp_required": settings.OTP_REQUIRED,
    }
