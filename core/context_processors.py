from django.conf import settings
from django.urls import NoReverseMatch, reverse

from .permissions import MENU


def navigation(request):
    user = getattr(request, "user", None)
    items = []
    for access, label, name, icon in MENU:
        if user is not None and user.is_authenticated and access.allows(user):
            try:
                url = reverse(name)
            except NoReverseMatch:
                continue
            items.append(
                {
                    "label": label,
                    "url": url,
                    "icon": icon,
                    "active": request.path == url or (url != "/" and request.path.startswith(url)),
                }
            )
    return {"nav_items": items, "portal_name": settings.PORTAL_NAME, "otp_required": settings.OTP_REQUIRED}
