from django.apps import AppConfig


class GuaranteePortalConfig(AppConfig):
    """The project package is an app too: it holds the cross-app demo seeding command."""

    name = "guarantee_portal"
    verbose_name = "担保监管服务平台"
