from django.apps import AppConfig


class SubsidiesConfig(AppConfig):
    name = "subsidies"
    verbose_name = "补贴与风险补偿"

    def ready(self):
        from . import inbox  # noqa: F401 — registers the inbox sources
