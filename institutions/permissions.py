"""Who may do what in the registry."""

from __future__ import annotations


def can_manage(user) -> bool:
    """Regulators and administrators keep the registry."""
    return user.is_superuser or user.role in ("admin", "regulator")


def can_edit_company(user, institution) -> bool:
    """The registry keepers, and the institution's own users for its company data."""
    return can_manage(user) or (user.role in ("filer", "approver") and user.institution_id == institution.pk)
