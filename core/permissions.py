"""Who may open which page and API operation, and the menu's role table.

Every view declares its access through this module, and the declaration is recorded on the view
(`view.access`, or the API view's permission classes), so a test walks every URL and finds any view
without one:

- `@public` — anyone, the anonymous public included (said explicitly, never by omission);
- `@signed_in` — any signed-in user; what they see is then limited by `for_user`;
- `@role_required(Role.X, ...)` — signed in with one of the roles (administrators always pass).

API views declare a permission class built on `Authority` (`PublicAPI`, `SignedInAPI`, or an app's
own subclass naming its writers); an API view that declares nothing gets `Undeclared`, which refuses
everyone.

Which rows a user reaches is `for_user(user, action)` (core.scoping). The rules of each app ("who may
revoke this licence") live in that app's `permissions.py`; services check them again with `require`
as the second line of defence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .roles import COMPANY_ROLES, Role, has_role, role_of

NOT_ALLOWED = _("无权执行该操作。")


@dataclass(frozen=True)
class Access:
    """Who passes: the public, any signed-in user (roles None), or holders of `roles` (and
    administrators, unless `admins` is False: pages that act as the user's own institution)."""

    public: bool = False
    roles: tuple[str, ...] | None = None
    admins: bool = True

    def allows(self, user) -> bool:
        if self.public:
            return True
        if self.roles is None:
            return user is not None and user.is_authenticated and user.is_active
        return has_role(user, *self.roles) if self.admins else role_of(user) in self.roles


def _guarded(view, access: Access):
    """`view` behind the login page and `access` (403 for the signed-in it refuses), declared on it."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not access.allows(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    guarded = login_required(wrapped)
    guarded.access = access
    return guarded


def public(view):
    """Anyone may open the page, the anonymous public included."""
    view.access = Access(public=True)
    return view


def signed_in(view):
    """Any signed-in user may open the page; the rows it shows come from `for_user`."""
    return _guarded(view, Access())


def role_required(*roles: str, admins: bool = True):
    """Signed in and one of `roles` (administrators pass unless `admins` is False); anyone else gets
    403, the anonymous public the login page."""
    access = Access(roles=tuple(roles), admins=admins)

    def decorator(view):
        return _guarded(view, access)

    decorator.access = access  # so a page can ask whether a link to such a page is worth showing
    return decorator


def require(actor, rule: Callable[..., bool], *args, message=NOT_ALLOWED) -> None:
    """A service's second line of defence: PermissionDenied unless `rule(actor, *args)`. The system
    itself (actor None: seeding, migrations, background jobs) passes."""
    if actor is not None and not rule(actor, *args):
        raise PermissionDenied(message)


# --- API ------------------------------------------------------------------------------------------


class Authority(BasePermission):
    """Base of every API permission: `read` decides safe methods, `write` every other method (by
    default any signed-in user: an app's subclass names its writers, `write = Access(roles=...)`)."""

    read = Access()
    write = Access()

    def has_permission(self, request, view) -> bool:
        if not key_may_call(request, view):
            return False
        access = self.read if request.method in SAFE_METHODS else self.write
        return access.allows(request.user)


def key_may_call(request, view) -> bool:
    """A company's API key (request.auth with `scopes`, accounts.ApiKey) calls only the views that name
    one of its scopes in `api_key_scope` (read-only views: safe methods only); every other caller passes."""
    scopes = getattr(request.auth, "scopes", None)
    if scopes is None:
        return True
    scope = getattr(view, "api_key_scope", None)
    return scope is not None and scope in scopes


class PublicAPI(Authority):
    read = write = Access(public=True)


class SignedInAPI(Authority):
    read = write = Access()


class Undeclared(BasePermission):
    """The API default: a view that declares no permission is closed to everyone."""

    def has_permission(self, request, view) -> bool:
        return False


# --- the menu ---------------------------------------------------------------------------------------

EVERY_ROLE = Access(roles=(Role.REGULATOR, Role.FINANCE, *COMPANY_ROLES))
REGULATORS = Access(roles=(Role.REGULATOR,))
OFFICERS = Access(roles=(Role.REGULATOR, Role.FINANCE))
REGULATORS_AND_COMPANIES = Access(roles=(Role.REGULATOR, *COMPANY_ROLES))
OWN_INSTITUTION = Access(roles=COMPANY_ROLES, admins=False)
ADMINISTRATORS = Access(roles=(Role.ADMIN,))

# (who sees the entry, label, url name, icon). Later apps add their entries here; a missing url name is
# skipped, so the menu only ever shows pages that exist. The menu is a shortcut list, narrower than
# what the pages themselves allow (finance officers reach the indicator pages by link, not by menu).
MENU = [
    (EVERY_ROLE, _("工作台"), "home", "speedometer2"),
    (EVERY_ROLE, _("待办"), "inbox", "inbox"),
    (REGULATORS, _("机构名录"), "institutions:list", "building"),
    (OWN_INSTITUTION, _("本机构"), "institutions:own", "building"),
    (REGULATORS_AND_COMPANIES, _("季度报表"), "reporting:filings", "file-earmark-spreadsheet"),
    (REGULATORS, _("报送进度"), "reporting:completeness", "clipboard-check"),
    (REGULATORS, _("审核队列"), "reporting:review_queue", "list-check"),
    (REGULATORS_AND_COMPANIES, _("监管指标"), "supervision:dashboard", "graph-up"),
    (REGULATORS, _("风险预警"), "supervision:warnings", "exclamation-triangle"),
    (REGULATORS_AND_COMPANIES, _("监管措施"), "supervision:measures", "clipboard2-pulse"),
    (REGULATORS_AND_COMPANIES, _("分类评级"), "supervision:ratings", "award"),
    (REGULATORS, _("年度报告"), "supervision:annual_report", "journal-richtext"),
    (REGULATORS, _("政策阈值"), "supervision:thresholds", "sliders"),
    (REGULATORS, _("校验规则"), "reporting:rules", "check2-square"),
    (REGULATORS_AND_COMPANIES, _("消息"), "reporting:notifications", "bell"),
    (OFFICERS, _("政府性机构名单"), "institutions:govlist", "patch-check"),
    (EVERY_ROLE, _("补贴"), "subsidies:index", "cash-coin"),
    (REGULATORS_AND_COMPANIES, _("银担合作"), "institutions:agreements", "bank"),
    (REGULATORS, _("总对总核对"), "bank_batches:list", "arrow-left-right"),
    (REGULATORS, _("明细核对容差"), "reporting:tolerances", "rulers"),
    (REGULATORS, _("公告"), "institutions:notices", "megaphone"),
    (OWN_INSTITUTION, _("担保业务明细"), "guarantees:records", "table"),
    (OWN_INSTITUTION, _("明细报送"), "guarantees:upload", "cloud-upload"),
    (REGULATORS, _("多机构共同客户"), "guarantees:borrowers", "people"),
    (ADMINISTRATORS, _("审计日志"), "audit:list", "journal-text"),
]
