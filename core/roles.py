"""The roles a user holds, and the facts about them every "who may" rule starts from.

A user holds one role: within a jurisdiction (regulator, finance officer), within one institution
(filer, approver), or nowhere in particular (administrator). A superuser counts as an administrator, and
an administrator passes every role check. Who may do what with these roles lives in each app's
`permissions.py`; which rows a role reaches lives in `core.scoping`."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

# Whoever acts or reads: a signed-in user, the anonymous public, or None for the system itself (seeding,
# background jobs). Services and selectors take it; the rules in each app's permissions.py judge it.
Actor: TypeAlias = "AbstractBaseUser | AnonymousUser | None"


class Role(models.TextChoices):
    REGULATOR = "regulator", _("监管人员")
    FINANCE = "finance", _("财政人员")
    FILER = "filer", _("填报员")
    APPROVER = "approver", _("审核人/负责人")
    ADMIN = "admin", _("系统管理员")


# Tuples, not sets: the user table's check constraint lists them in this order.
REGION_ROLES = (Role.REGULATOR, Role.FINANCE)
COMPANY_ROLES = (Role.FILER, Role.APPROVER)
# Roles that must pass a TOTP second factor when settings.OTP_REQUIRED is on.
SECOND_FACTOR_ROLES = (Role.REGULATOR, Role.FINANCE, Role.ADMIN)


def role_of(user) -> str:
    """The role `user` acts in: "" for the anonymous public and inactive users, "admin" for superusers."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ""
    if user.is_superuser:
        return Role.ADMIN
    return user.role or ""


def is_admin(user) -> bool:
    return role_of(user) == Role.ADMIN


def has_role(user, *roles: str) -> bool:
    """Whether `user` holds one of `roles`; administrators always do."""
    role = role_of(user)
    return role == Role.ADMIN or (role != "" and role in roles)


def is_company_user(user) -> bool:
    """A filer or an approver: acts for its own institution."""
    return role_of(user) in COMPANY_ROLES


def acts_for(user, institution_id: int) -> bool:
    """A company user of this institution: the pages acting for one's own institution show its forms."""
    return is_company_user(user) and user.institution_id == institution_id
