"""The one place that decides who sees which rows.

Every model's QuerySet declares how its rows reach an institution and a region (`Scope`), and
`ScopedQuerySet.for_user(user)` applies this single rule:

- a system administrator sees everything;
- a company user (filer, approver) sees only its own institution's rows;
- a regulator or finance officer sees its region and every region below it (GB/T 2260 codes name
  their parents, so "below" is a code prefix);
- anyone else, including the anonymous public, sees only what the model declares public.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import Q

COMPANY_ROLES = frozenset({"filer", "approver"})
REGION_ROLES = frozenset({"regulator", "finance"})
ADMIN_ROLE = "admin"


def region_level(code: str) -> str:
    """GB/T 2260: xx0000 is a province, xxxx00 a prefecture-level city, anything else a county."""
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def subtree_prefix(code: str) -> str:
    """The code prefix shared by a region and every region below it."""
    return {"province": code[:2], "city": code[:4], "county": code}[region_level(code)]


def region_subtree_q(lookup: str, code: str) -> Q:
    """Rows whose region (reached through `lookup`, a path to a Region code) lies in `code`'s subtree."""
    prefix = subtree_prefix(code)
    if lookup.endswith("_id"):  # a prefix lookup needs the related key itself (the join is trimmed)
        lookup = lookup[: -len("_id")] + "__pk"
    if len(prefix) == 6:
        return Q(**{lookup: code})
    return Q(**{f"{lookup}__startswith": prefix})


@dataclass(frozen=True)
class Scope:
    """How rows of one model reach the two things visibility depends on.

    region: lookup path to the Region code (e.g. "region_id", "institution__region_id"); None if the
        model is not regional.
    institution: lookup path to the owning Institution id (e.g. "id" for Institution itself); None if
        company users never see the model.
    public: rows the public (and every logged-in user, in addition to their scope) may read.
    everyone: reference data visible to all users (regions, templates, published policy).
    """

    region: str | None = None
    institution: str | None = None
    public: Q | None = None
    everyone: bool = False


def visible_q(user, scope: Scope) -> Q | None:
    """The filter for `user`, or None when the user sees every row."""
    nothing = Q(pk__in=[])
    public = scope.public if scope.public is not None else nothing
    if scope.everyone:
        return None
    if user is None or not user.is_authenticated or not user.is_active:
        return public
    role = getattr(user, "role", None)
    if role == ADMIN_ROLE or user.is_superuser:
        return None
    if role in COMPANY_ROLES and scope.institution and user.institution_id:
        return Q(**{scope.institution: user.institution_id}) | public
    if role in REGION_ROLES and scope.region and user.region_id:
        return region_subtree_q(scope.region, user.region_id) | public
    return public


class ScopedQuerySet(models.QuerySet):
    scope: Scope = Scope()

    def for_user(self, user):
        q = visible_q(user, self.scope)
        return self if q is None else self.filter(q)


def can_see(user, instance) -> bool:
    """Whether `user` may read `instance` (one query); for checks in services and object views."""
    return type(instance)._default_manager.for_user(user).filter(pk=instance.pk).exists()
