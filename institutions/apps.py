from django.apps import AppConfig


class InstitutionsConfig(AppConfig):
    name = "institutions"
    verbose_name = "机构登记"

    def ready(self):
        from . import inbox  # noqa: F401  (the work inbox's source)
        from .tabs import _register_own_tabs

        _register_own_tabs()
