from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject

from .inbox import counted_entries
from .permissions import MENU


def _menu(request) -> list[dict]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    counted = counted_entries()
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
                "name": name.replace(":", "-"),
                "counted": name in counted,
                "active": request.path == url or (url != "/" and request.path.startswith(url)),
            }
        )
    return items


def navigation(request):
    # Built when a template first reads it. The counts beside the entries are not computed here: the
    # page asks for them after it loads (core.views.menu_counts), so no page pays for every inbox source.
    return {
        "nav_items": SimpleLazyObject(lambda: _menu(request)),
        "portal_name": settings.PORTAL_NAME,
        "otp_required": settings.OTP_REQUIRED,
    }
