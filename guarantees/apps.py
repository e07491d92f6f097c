from django.apps import AppConfig


class GuaranteesConfig(AppConfig):
    name = "guarantees"
    verbose_name = "担保业务明细"

    def ready(self):
        from django.utils.translation import gettext_lazy as _

        from core.inbox import inbox_source
        from core.roles import Role
        from institutions.panels import AgreementPanel
        from institutions.panels import register as register_panel
        from institutions.tabs import Tab
        from institutions.tabs import register as register_tab

        from . import inbox
        from .bank_batch_services import inbox_tasks
        from .bank_batch_views import agreement_panel_context
        from .views import portfolio_tab

        register_tab(
            Tab(
                "guarantees",
                _("担保业务"),
                "guarantees/_portfolio_tab.html",
                portfolio_tab,
                roles=frozenset({Role.REGULATOR}),
                order=70,
            )
        )
        # each guarantee under an agreement, checked against its terms, on the agreement's page
        register_panel(
            AgreementPanel("guarantees", "guarantees/_agreement_panel.html", agreement_panel_context)
        )
        inbox_source(inbox.batches_waiting)  # the company's batches waiting for it
        inbox_source(inbox_tasks)  # 总对总 batches with unmatched rows
