from django.apps import AppConfig


class GuaranteesConfig(AppConfig):
    name = "guarantees"
    verbose_name = "担保业务明细"

    def ready(self):
        from django.utils.translation import gettext_lazy as _

        from core.inbox import inbox_source
        from core.roles import Role
        from institutions.tabs import Tab, register

        from . import inbox
        from .views import portfolio_tab

        register(
            Tab(
                "guarantees",
                _("担保业务"),
                "guarantees/_portfolio_tab.html",
                portfolio_tab,
                roles=frozenset({Role.REGULATOR}),
                order=70,
            )
        )
        inbox_source(inbox.batches_waiting)
