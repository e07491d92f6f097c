"""Tabs of the institution page. Other apps add one with one line in their AppConfig.ready():

    from institutions.tabs import Tab, register
    register(Tab("filings", _("季度报表"), "reporting/_institution_filings_tab.html", filings_tab_context))

`context(request, institution)` returns the extra template context of the tab (called only for the tab
being shown); `roles` limits who sees the tab (None = everyone who may see the institution; administrators
always see it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from core.roles import has_role


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    template: str
    context: Callable | None = None
    roles: frozenset | None = None
    order: int = 100


INSTITUTION_TABS: list[Tab] = []


def register(tab: Tab) -> None:
    INSTITUTION_TABS[:] = [t for t in INSTITUTION_TABS if t.key != tab.key] + [tab]
    INSTITUTION_TABS.sort(key=lambda t: t.order)


def tabs_for(user) -> list[Tab]:
    return [t for t in INSTITUTION_TABS if t.roles is None or has_role(user, *t.roles)]


def _register_own_tabs():
    from .views import registry as views  # the context functions live with the institution page

    register(Tab("profile", _("基本信息"), "institutions/tabs/profile.html", views.tab_profile, order=10))
    register(Tab("licences", _("许可证"), "institutions/tabs/licences.html", views.tab_licences, order=20))
    register(
        Tab("agreements", _("银担合作"), "institutions/tabs/agreements.html", views.tab_agreements, order=30)
    )
    register(Tab("people", _("股东与董监高"), "institutions/tabs/people.html", views.tab_people, order=40))
    register(Tab("changes", _("变更备案"), "institutions/tabs/changes.html", views.tab_changes, order=50))
    register(Tab("history", _("变更历史"), "institutions/tabs/history.html", views.tab_history, order=900))
