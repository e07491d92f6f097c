"""Who may do what with indicators, thresholds, parameters and warnings: every rule of this app, asked
by its pages, API, templates and services alike (services ask again through `core.permissions.require`)."""

from __future__ import annotations

from core.permissions import role_required
from core.roles import COMPANY_ROLES, Role, is_admin
from core.scoping import can_change, can_change_in

from .models import Threshold, WarningCase

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
