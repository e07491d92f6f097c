"""Who may do what with loan-level records (reading goes through `for_user` on every queryset)."""

from __future__ import annotations

from core.roles import acts_for, is_admin
from institutions.models import Institution


def may_file_records(user, institution: Institution) -> bool:
    """An institution's own filers and approvers send its records; administrators may too (migrations
    of legacy data). Regulators read them but do not write a company's books."""
    return is_admin(user) or acts_for(user, institution.pk)
