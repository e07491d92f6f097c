"""Who may do what with subsidy schemes and applications: asked by pages, API, templates and services.

- A scheme is created and edited by a finance officer of the scheme's own level (region_code).
- An application is prepared by the institution's filer or approver; only its approver submits.
- The first review (初审) is a finance officer whose jurisdiction holds the institution and lies within
  the scheme's region; the decision (复核) a *different* finance officer of the scheme's level, who also
  runs the award pool, publishes and records payment.
- Regulators read applications of their jurisdiction; they act on none."""

from __future__ import annotations

from core.permissions import Access, Authority, role_required
from core.roles import COMPANY_ROLES, Role, acts_for, has_role, is_admin, role_of
from core.scoping import in_subtree

# pages: finance (and administrators) act; regulators read; companies see their own
finance_pages = role_required(Role.FINANCE)
reader_pages = role_required(Role.FINANCE, Role.REGULATOR)
company_pages = role_required(*COMPANY_ROLES, admins=False)


def _finance_region(user) -> str | None:
    return user.region_id if role_of(user) == Role.FINANCE else None


def may_edit_scheme(user, region_code: str) -> bool:
    """The finance bureau of the scheme's level (a nationwide scheme: administrators)."""
    if is_admin(user):
        return True
    region = _finance_region(user)
    return bool(region) and bool(region_code) and region == region_code


def may_prepare(user, institution_id: int) -> bool:
    return is_admin(user) or acts_for(user, institution_id)


def may_submit(user, institution_id: int) -> bool:
    return is_admin(user) or (acts_for(user, institution_id) and role_of(user) == Role.APPROVER)


def may_review(user, application) -> bool:
    """初审: a finance officer over the institution, within the scheme's region."""
    if is_admin(user):
        return True
    region = _finance_region(user)
    if not region:
        return False
    institution_region = application.institution.region_id
    scheme_region = application.scheme.region_code
    return in_subtree(region, institution_region) and (not scheme_region or in_subtree(scheme_region, region))


def may_decide(user, application) -> bool:
    """复核 (and the steps after it): a finance officer of the scheme's level. That this is not the
    officer who reviewed is checked by the service, which knows who did."""
    return may_edit_scheme(user, application.scheme.region_code)


def may_allocate(user, scheme) -> bool:
    return may_edit_scheme(user, scheme.region_code)


def may_read_applications(user) -> bool:
    return has_role(user, Role.FINANCE, Role.REGULATOR, *COMPANY_ROLES)


# --- API: who may write at all (the services then decide each operation) -------------------------


class SchemeAPI(Authority):
    """Schemes: read by everyone signed in; written by finance officers (of the scheme's level)."""

    write = Access(roles=(Role.FINANCE,))


class ApplicationAPI(Authority):
    """Applications: read within one's scope; written by the companies and the finance bureaus."""

    write = Access(roles=(Role.FINANCE, *COMPANY_ROLES))
