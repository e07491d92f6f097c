from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "账户与辖区"

    def ready(self):
        from . import signals  # noqa: F401
