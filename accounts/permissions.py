"""Who may do what in accounts: who must pass a second factor."""

from __future__ import annotations

from core.roles import SECOND_FACTOR_ROLES


def needs_second_factor(user) -> bool:
    """Regulators, finance officers and administrators hold data of many institutions: with
    settings.OTP_REQUIRED on they sign in with a TOTP code as well as a password."""
    return user.is_authenticated and user.role in SECOND_FACTOR_ROLES
