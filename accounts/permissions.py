"""Who may do what in accounts: who must pass a second factor (the one place that decides it)."""

from __future__ import annotations

from core.roles import SECOND_FACTOR_ROLES


def needs_second_factor(user) -> bool:
    """Regulators, finance officers and administrators hold data of many institutions, and staff and
    superusers reach /admin/ and /audit/ (a `createsuperuser` account has no role at all): with
    settings.OTP_REQUIRED on they all sign in with a TOTP code as well as a password. Asked by the page
    middleware (pages, /admin/, /audit/, session API calls) and by the token endpoint."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or user.is_staff or user.role in SECOND_FACTOR_ROLES
