from django.apps import AppConfig


class GuaranteesConfig(AppConfig):
    name = "guarantees"
    verbose_name = "担保业务明细"

    def ready(self):
        from institutions.panels import AgreementPanel, register

        from .bank_batch_views import agreement_panel_context

        # each guarantee under an agreement, checked against its terms, on the agreement's page
        register(AgreementPanel("guarantees", "guarantees/_agreement_panel.html", agreement_panel_context))
        from core.inbox import inbox_source

        from .bank_batch_services import inbox_tasks

        inbox_source(inbox_tasks)
