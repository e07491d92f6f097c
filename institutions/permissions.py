"""Who may do what in the registry: every rule of this app, asked by its pages, API, templates and
services alike (services ask again through `core.permissions.require`).

Which rows a user may change is `Model.objects.for_user(user, "change")`: each model's Scope says
who changes it. The functions below answer the same question for one institution or region without a
row (to create one, or to show an action), and add the rules that are more than a jurisdiction."""

from __future__ import annotations

from core.permissions import Access, Authority, role_required
from core.roles import COMPANY_ROLES, Role, acts_for, has_role, is_admin
from core.scoping import can_change_in

from .models import Agreement, ChangeFiling, GovListBatch, Institution, Licence, Notice, Shareholder

# The registry (list, export, import, registered items, licences) is kept by the regulators; the
# government-backed list and the notices by the regulators and the finance bureaus together.
REGISTRY_KEEPERS = (Role.REGULATOR,)
LIST_KEEPERS = (Role.REGULATOR, Role.FINANCE)

# --- who may open the pages and call the API (administrators always may) ----------------------------

registry_keeper = role_required(*REGISTRY_KEEPERS)
list_keeper = role_required(*LIST_KEEPERS)


# API: every signed-in user reads (the rows come from for_user); these roles write.
class RegistryAPI(Authority):
    write = Access(roles=REGISTRY_KEEPERS)


class ListAPI(Authority):
    write = Access(roles=LIST_KEEPERS)


class AgreementAPI(Authority):
    write = Access(roles=(*REGISTRY_KEEPERS, *COMPANY_ROLES))


# --- institutions ------------------------------------------------------------------------------------


def may_keep_registry(user) -> bool:
    return has_role(user, *REGISTRY_KEEPERS)


def may_change_institution(user, institution: Institution | None, region_code: str) -> bool:
    """Registered items: a regulator whose jurisdiction holds the institution as it is (None: a new one)
    and `region_code`, the region it is to be registered in."""
    regions = [region_code] if institution is None else [institution.region_id, region_code]
    return all(can_change_in(user, Institution, region=code) for code in regions)


def may_edit_company_data(user, institution: Institution) -> bool:
    """Shareholders, directors and managers: the company's own users, and its regulators."""
    return can_change_in(user, Shareholder, region=institution.region_id, institution_id=institution.pk)


def may_file_changes(user, institution: Institution) -> bool:
    """A change filing (变更备案) is the company's own report: its users file it (and an administrator)."""
    return is_admin(user) or acts_for(user, institution.pk)


def may_review_changes(user, institution: Institution) -> bool:
    return can_change_in(user, ChangeFiling, region=institution.region_id, institution_id=institution.pk)


# --- licences ----------------------------------------------------------------------------------------


def may_keep_licences(user, institution: Institution) -> bool:
    """The licence pages of an institution and the duties after a revocation: the regulators of the
    holder's jurisdiction."""
    return can_change_in(user, Licence, region=institution.region_id, institution_id=institution.pk)


def may_handle_licences(user, institution: Institution) -> bool:
    """Issuing, changing, cancelling and revoking a licence: the regulator of the holder's province
    itself (条例 arts. 7, 8), or an administrator."""
    return may_keep_licences(user, institution) and (
        is_admin(user) or user.region_id == institution.region_id[:2] + "0000"
    )


# --- notices and the government-backed list ----------------------------------------------------------


def may_edit_notice(user, notice: Notice) -> bool:
    return can_change_in(user, Notice, region=notice.region_id)


def may_keep_list(user, region_code: str) -> bool:
    """Batches of the government-backed list of `region_code`: its finance bureaus and regulators."""
    return can_change_in(user, GovListBatch, region=region_code)


def may_confirm_batch(user, batch) -> bool:
    """The other side confirms a proposed batch: the finance bureau what the regulator proposed and the
    other way round; never the proposer itself (an administrator confirms for either side)."""
    proposer = batch.proposed_by
    if not may_keep_list(user, batch.region_id):
        return False
    return proposer is None or (user.pk != proposer.pk and (is_admin(user) or user.role != proposer.role))


# --- bank–guarantee agreements -----------------------------------------------------------------------


def may_change_agreements(user, institution: Institution) -> bool:
    """The company records its own agreements; its regulators may correct them."""
    return can_change_in(user, Agreement, region=institution.region_id, institution_id=institution.pk)
