from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "核心"

    def ready(self) -> None:
        # the admin has discovered every app's admin module by now (it is installed before core)
        from django.contrib import admin

        from .admin import audit_admin_actions

        audit_admin_actions(admin.site)
