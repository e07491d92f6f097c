"""Who may do what with loan-level records (reading goes through `for_user` on every queryset)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User
    from institutions.models import Institution


def can_file(user: User | AnonymousUser, institution: Institution) -> bool:
    """An institution's own filers and approvers send its records; administrators may too (migrations
    of legacy data). Regulators read them but do not write a company's books."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser or user.role == "admin":
        return True
    return user.role in ("filer", "approver") and user.institution_id == institution.pk
