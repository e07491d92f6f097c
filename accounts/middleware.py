import time

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from .permissions import needs_second_factor


class SecondFactorMiddleware:
    """With OTP_REQUIRED on, an account that needs a second factor (accounts.permissions) and signed in
    with a password only reaches nothing but the second-factor page, signing out and static files until
    it enters its TOTP code: not the password change, not /admin/, not the API by its session. (An API
    call with a token carries no session user here: tokens are only issued after the second factor.)"""

    allowed_prefixes = ("/static/", "/i18n/")

    def __init__(self, get_response):
        self.get_response = get_response
        self.allowed_paths = {reverse("accounts:otp"), reverse("accounts:logout"), reverse("accounts:login")}

    def __call__(self, request):
        user = request.user
        if (
            settings.OTP_REQUIRED
            and needs_second_factor(user)
            and not user.is_verified()
            and request.path not in self.allowed_paths
            and not request.path.startswith(self.allowed_prefixes)
        ):
            return redirect(f"{reverse('accounts:otp')}?next={request.get_full_path()}")
        return self.get_response(request)


class IdleSessionMiddleware:
    """Sessions end after SESSION_COOKIE_AGE idle seconds. Saving the session on every request would do
    that at the cost of a database write per page; renewing its expiry once every SESSION_RENEW_SECONDS
    does it within that margin and leaves most requests without a write. Sits just inside
    SessionMiddleware, which saves the session when this marks it modified."""

    key = "_renewed_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = request.session
        due = int(time.time()) - session.get(self.key, 0) >= settings.SESSION_RENEW_SECONDS
        if session.session_key is not None and due:
            self.renew(session)
        return response

    @classmethod
    def renew(cls, session) -> None:
        """Stamp the session (which makes SessionMiddleware save it, with a new expiry). A login stamps
        it too: the login saves the session anyway, so the first page after it needs no write."""
        session[cls.key] = int(time.time())
