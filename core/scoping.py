"""The one place that decides which rows a user may see and which they may change.

Every model's QuerySet declares how its rows reach an institution and a region (`Scope`), and
`ScopedQuerySet.for_user(user, action)` applies this single rule.

action="view":
- a system administrator sees everything;
- a company user (filer, approver) sees only its own institution's rows;
- a regulator or finance officer sees its region and every region below it (GB/T 2260 codes name
  their parents, so "below" is a code prefix);
- anyone else, including the anonymous public, sees only what the model declares public.

action="change":
- a system administrator changes everything;
- a regulator (or whichever region roles the model names in `change_roles`) changes the rows of its
  region and the regions below it;
- a company user changes its own institution's rows where the model allows company edits;
- nobody else changes anything: rows being public to read never makes them changeable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.db import models
from django.db.models import Q

from .roles import COMPANY_ROLES, REGION_ROLES, Role, role_of

Action = Literal["view", "change"]


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


def in_subtree(code: str, region_code: str) -> bool:
    """Whether `region_code` is `code` or lies below it."""
    prefix = subtree_prefix(code)
    return region_code == code if len(prefix) == 6 else region_code.startswith(prefix)


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
    """How rows of one model reach the things visibility and authority depend on.

    region: lookup path to the Region code (e.g. "region_id", "institution__region_id"); None if the
        model is not regional.
    institution: lookup path to the owning Institution id (e.g. "id" for Institution itself); None if
        company users never see the model.
    public: rows the public (and every logged-in user, in addition to their scope) may read.
    everyone: reference data visible to all users (regions, templates, published policy).
    change_roles: the region roles that change rows of their jurisdiction (administrators always do).
    change_region: lookup path to the region that decides who changes a row, where it differs from
        `region` (e.g. a threshold everyone reads is changed by the regulators of its region_code).
    company_changes: whether company users change their own institution's rows.
    """

    region: str | None = None
    institution: str | None = None
    public: Q | None = None
    everyone: bool = False
    change_roles: tuple[str, ...] = (Role.REGULATOR,)
    change_region: str | None = None
    company_changes: bool = False

    @property
    def change_lookup(self) -> str | None:
        return self.change_region or self.region


NOTHING = Q(pk__in=[])


def visible_q(user, scope: Scope) -> Q | None:
    """The rows `user` may read, or None when the user reads every row."""
    public = scope.public if scope.public is not None else NOTHING
    if scope.everyone:
        return None
    role = role_of(user)
    if role == Role.ADMIN:
        return None
    if role in COMPANY_ROLES and scope.institution and user.institution_id:
        return Q(**{scope.institution: user.institution_id}) | public
    if role in REGION_ROLES and scope.region and user.region_id:
        return region_subtree_q(scope.region, user.region_id) | public
    return public


def visible_subtree(user, scope: Scope) -> str | None:
    """The region whose subtree is exactly what `user` reads of a model ("" for every row), or None when
    that is not one region subtree (a company's own rows, the public's part). Mirrors `visible_q`, for
    reads that are answered from totals kept per region rather than from the rows."""
    if scope.everyone:
        return ""
    role = role_of(user)
    if role == Role.ADMIN:
        return ""
    if scope.public is not None:
        return None
    if role in REGION_ROLES and scope.region and user.region_id:
        return user.region_id
    return None


def change_q(user, scope: Scope) -> Q | None:
    """The rows `user` may change, or None when the user changes every row."""
    role = role_of(user)
    if role == Role.ADMIN:
        return None
    if role in COMPANY_ROLES and scope.company_changes and scope.institution and user.institution_id:
        return Q(**{scope.institution: user.institution_id})
    if role in scope.change_roles and scope.change_lookup and user.region_id:
        return region_subtree_q(scope.change_lookup, user.region_id)
    return NOTHING


class ScopedQuerySet(models.QuerySet):
    scope: Scope = Scope()

    def for_user(self, user, action: Action = "view"):
        """The rows `user` may see (action="view") or change (action="change")."""
        q = visible_q(user, self.scope) if action == "view" else change_q(user, self.scope)
        return self if q is None else self.filter(q)


def can_see(user, instance) -> bool:
    """Whether `user` may read `instance` (one query); for checks in services and object views."""
    return type(instance)._default_manager.for_user(user).filter(pk=instance.pk).exists()


def can_change(user, instance) -> bool:
    """Whether `user` may change `instance` (one query)."""
    return type(instance)._default_manager.for_user(user, "change").filter(pk=instance.pk).exists()


def can_change_in(user, model, *, region: str | None = None, institution_id: int | None = None) -> bool:
    """Whether `user` may change rows of `model` that belong to `region` and `institution_id`, without a
    row (nor a query): for creating one, and for showing the actions on a page. The same rule as
    `change_q`, evaluated on the values instead of in SQL."""
    scope: Scope = model._default_manager.get_queryset().scope
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    if role in COMPANY_ROLES and scope.company_changes and scope.institution:
        return institution_id is not None and user.institution_id == institution_id
    if role in scope.change_roles and scope.change_lookup and user.region_id:
        return bool(region) and in_subtree(user.region_id, region)
    return False
