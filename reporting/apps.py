from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "非现场监管报表"

    def ready(self):
        from . import indicator_receivers  # noqa: F401
