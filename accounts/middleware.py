from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from .permissions import needs_second_factor


class SecondFactorMiddleware:
    """With OTP_REQUIRED on, regulators, finance officers and administrators who logged in with a
    password only are sent to set up or enter their TOTP code before any other page or API call."""

    allowed_prefixes = ("/accounts/", "/static/", "/i18n/", "/public/", "/api/v1/auth/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            settings.OTP_REQUIRED
            and needs_second_factor(user)
            and not user.is_verified()
            and not request.path.startswith(self.allowed_prefixes)
            and not getattr(request, "auth", None)
        ):
            return redirect(f"{reverse('accounts:otp')}?next={request.get_full_path()}")
        return self.get_response(request)
