"""Who may do what with loan-level records (reading goes through `for_user` on every queryset)."""

from __future__ import annotations

from core.permissions import Access, Authority, role_required
from core.roles import COMPANY_ROLES, Role, acts_for, has_role, is_admin
from institutions.models import Institution


def may_file_records(user, institution: Institution) -> bool:
    """An institution's own filers and approvers send its records; administrators may too (migrations
    of legacy data). Regulators read them but do not write a company's books."""
    return is_admin(user) or acts_for(user, institution.pk)


def may_group_borrowers(user) -> bool:
    """Grouping one borrower across institutions (same credit code or ID hash) is the regulator's view of
    its jurisdiction; a company sees only its own clients."""
    return has_role(user, Role.REGULATOR)


# --- who may open the pages and call the API (administrators always may, unless said otherwise) -------
RECORD_READERS = (Role.REGULATOR, *COMPANY_ROLES)
record_readers = role_required(*RECORD_READERS)
# pages that act as the user's own institution (upload, its history): company users only
company_pages = role_required(*COMPANY_ROLES, admins=False)
regulator_pages = role_required(Role.REGULATOR)


class GuaranteeAPI(Authority):
    """Regulators and companies read (rows from for_user); companies (and administrators) send batches."""

    read = Access(roles=RECORD_READERS)
    write = Access(roles=COMPANY_ROLES)
