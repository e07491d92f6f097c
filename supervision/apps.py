from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = "监管指标、预警与监管措施"

    def ready(self):
        from django.utils.translation import gettext_lazy as _

        from core.inbox import inbox_source
        from institutions.tabs import Tab
        from institutions.tabs import register as register_tab
        from reporting.panels import FilingPanel
        from reporting.panels import register as register_panel

        from . import (
            inbox,  # noqa: F401  (the work inbox's source)
            receivers,  # noqa: F401  (signal receivers; they import the tasks for workers)
        )
        from .selectors import (
            amendment_comparison,
            filing_summary,
            inbox_tasks,
            institution_measures_tab,
            institution_rating_tab,
            institution_tab,
        )

        register_panel(
            FilingPanel("indicators", "supervision/_filing_summary.html", filing_summary, order=10)
        )
        register_panel(  # an amendment or resubmission against the version it replaces
            FilingPanel(
                "amendment", "supervision/_amendment.html", amendment_comparison, frozen_only=False, order=5
            )
        )
        register_tab(
            Tab("indicators", _("监管指标"), "supervision/_institution_tab.html", institution_tab, order=65)
        )
        register_tab(
            Tab(
                "measures",
                _("监管措施"),
                "supervision/_institution_measures_tab.html",
                institution_measures_tab,
                order=66,
            )
        )
        register_tab(
            Tab(
                "rating",
                _("分类评级"),
                "supervision/_institution_rating_tab.html",
                institution_rating_tab,
                order=67,
            )
        )
        inbox_source(inbox_tasks)
