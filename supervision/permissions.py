"""Who may do what with indicators, thresholds, parameters and warnings: every rule of this app, asked
by its pages, API, templates and services alike (services ask again through `core.permissions.require`)."""

from __future__ import annotations

from core.permissions import role_required
from core.roles import COMPANY_ROLES, Role, acts_for, has_role, is_admin, role_of
from core.scoping import can_change, can_change_in, region_level

from .models import ApprovalLevel, Measure, Threshold, WarningCase

# --- who may open the pages and call the API (administrators always may) ----------------------------

# Warnings, thresholds and parameters are the regulators' desk.
regulator_desk = role_required(Role.REGULATOR)
# The jurisdiction's indicator overview and its drill-down: regulators and finance bureaus.
region_overview = role_required(Role.REGULATOR, Role.FINANCE)
# The indicator dashboard: the jurisdiction's for officers, the own institution's for company users.
dashboard_users = role_required(Role.REGULATOR, Role.FINANCE, *COMPANY_ROLES)
# One filing's or institution's indicators (pages and API) are `signed_in` / `SignedInAPI`: what they
# show comes from for_user.


def may_edit_threshold(user, region_code: str) -> bool:
    """Administrators edit every threshold; a regulator only regional ones inside its jurisdiction
    (a nationwide threshold, region_code "", is the administrators')."""
    return can_change_in(user, Threshold, region=region_code)


def may_set_parameters(user) -> bool:
    """Indicator computation parameters change every institution's figures: administrators only."""
    return is_admin(user)


def may_handle_warning(user, case: WarningCase) -> bool:
    """Acknowledge, assign, close: the regulators whose jurisdiction holds the institution (one query)."""
    return can_change(user, case)


# --- supervisory measures ----------------------------------------------------------------------------

# The measures pages: regulators work them, company users read and answer their own.
measure_users = role_required(Role.REGULATOR, *COMPANY_ROLES)


def may_propose_measure(user, institution) -> bool:
    """A regulator whose jurisdiction holds the institution (administrators too)."""
    return can_change_in(user, Measure, region=institution.region_id)


def approval_authority(user) -> str | None:
    """The highest approval level the user holds: a provincial regulator (or an administrator) approves
    every measure, a city regulator the city-level ones, anyone else none."""
    if is_admin(user):
        return ApprovalLevel.PROVINCE
    if role_of(user) != Role.REGULATOR or not user.region_id:
        return None
    return {"province": ApprovalLevel.PROVINCE, "city": ApprovalLevel.CITY}.get(region_level(user.region_id))


def may_approve_measure(user, measure: Measure) -> bool:
    """A regulator covering the institution, at the level the measure's type requires (a city regulator
    cannot approve what needs the province), other than the one who proposed it."""
    level = approval_authority(user)
    if level is None or (measure.proposed_by_id == user.pk and not is_admin(user)):
        return False
    if measure.measure_type.approval_level == ApprovalLevel.PROVINCE and level != ApprovalLevel.PROVINCE:
        return False
    return can_change(user, measure)


def may_handle_measure(user, measure: Measure) -> bool:
    """Issue, ask for more, accept and close, escalate, publish: regulators covering the institution."""
    return has_role(user, Role.REGULATOR) and can_change(user, measure)


def may_answer_measure(user, measure: Measure) -> bool:
    """Acknowledge and answer: the company's own users, once the measure is issued."""
    return acts_for(user, measure.institution_id) and measure.issued_at is not None
