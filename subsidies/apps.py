from django.apps import AppConfig


class SubsidiesConfig(AppConfig):
    name = "subsidies"
    verbose_name = "补贴与风险补偿"

    def ready(self):
        from django.utils.translation import gettext_lazy as _

        from institutions.tabs import Tab, register
        from supervision.report_sections import ReportSection, register_section

        from . import inbox  # noqa: F401 — registers the inbox sources
        from .report import subsidies_section
        from .selectors import institution_tab

        register(Tab("subsidies", _("补贴"), "subsidies/_institution_tab.html", institution_tab, order=80))
        register_section(
            ReportSection(
                "subsidies", "development", _("担保费补贴、降费奖补和风险补偿"), subsidies_section, order=50
            )
        )
