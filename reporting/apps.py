from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "非现场监管报表"

    def ready(self):
        from django.utils.translation import gettext_lazy as _

        from institutions.tabs import Tab, register

        from . import inbox  # noqa: F401  (the work inbox's sources and the unread-message count)
        from .panels import FilingPanel
        from .panels import register as register_panel
        from .reconciliation import panel_context
        from .selectors import institution_filings_tab
        from .signals import filing_submitted

        filing_submitted.connect(
            inbox.notify_regulators_of_submission,
            sender=self.get_model("Filing"),
            dispatch_uid="inbox_submitted",
        )

        register(
            Tab(
                "filings",
                _("季度报表"),
                "reporting/_institution_filings_tab.html",
                institution_filings_tab,
                order=60,
            )
        )
        # The filed figures beside those derived from the loan-level records, for company and regulator.
        register_panel(
            FilingPanel(
                "reconciliation",
                "reporting/_reconciliation_panel.html",
                panel_context,
                frozen_only=False,
                order=10,
            )
        )
        from core.inbox import inbox_source

        from .reconciliation import inbox_tasks

        inbox_source(inbox_tasks)
