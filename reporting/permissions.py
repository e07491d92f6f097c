"""Who may do what with the quarterly report: every rule of this app, asked by its pages, API,
templates and services alike (services ask again and refuse with FilingError(code="forbidden")).

Maker/checker: a filer or approver prepares the company's draft, only its approver submits; the
regulators of the company's jurisdiction review. Which filings a user reads is `for_user`."""

from __future__ import annotations

from core.permissions import role_required
from core.roles import COMPANY_ROLES, Role, acts_for, has_role, is_admin, role_of
from core.scoping import can_change_in

from .models import DueDateSetting, Filing

REVIEWERS = (Role.REGULATOR,)

# --- who may open the pages and call the API (administrators always may, except on company pages) ---

# The filing form, its check, the Excel template and upload act for the user's own institution:
# company users only (an administrator has no institution to file for).
company_pages = role_required(*COMPANY_ROLES, admins=False)
# The review queue and page, completeness board, reminders, deadlines and exports.
reviewer_pages = role_required(*REVIEWERS)
# The filing list and the validation rules: the companies and their regulators.
filing_readers = role_required(*REVIEWERS, *COMPANY_ROLES)
# A filing's own pages (detail, receipt, submit, amend), the messages and the filing API are
# `signed_in` / `SignedInAPI`: the filings come from for_user, and the functions below decide the actions.


def may_prepare_filing(user, institution_id: int) -> bool:
    """The maker: the institution's filers and approvers (or an administrator) save drafts and amend."""
    return is_admin(user) or acts_for(user, institution_id)


def may_submit_filing(user, institution_id: int) -> bool:
    """The checker: only the institution's approver (or an administrator) submits."""
    return is_admin(user) or (acts_for(user, institution_id) and role_of(user) == Role.APPROVER)


def may_review(user, filing: Filing) -> bool:
    """Accept or return: the regulators of the filing's jurisdiction."""
    return has_role(user, *REVIEWERS) and can_change_in(
        user, Filing, region=filing.institution.region_id, institution_id=filing.institution_id
    )


def may_remind(user) -> bool:
    """Reminders to unfiled institutions, sent from the completeness board."""
    return has_role(user, *REVIEWERS)


def may_change_validation_rules(user) -> bool:
    """Switching a rule off or on, or changing its severity: regulators (rules apply nationwide)."""
    return has_role(user, *REVIEWERS)


def may_set_due_dates(user, region_code: str | None) -> bool:
    """A province's filing deadline: its provincial regulator; the national default (None): the
    administrators."""
    if region_code is None:
        return is_admin(user)
    return can_change_in(user, DueDateSetting, region=region_code[:2] + "0000")


def may_set_tolerance(user, region_code: str | None) -> bool:
    """A reconciliation tolerance of a province: its provincial regulator; nationwide (None): the
    administrators (the same rule as the filing deadlines)."""
    from .models import ReconciliationTolerance

    if region_code is None:
        return is_admin(user)
    return has_role(user, *REVIEWERS, Role.ADMIN) and can_change_in(
        user, ReconciliationTolerance, region=region_code[:2] + "0000"
    )
