from django.db import models
from django.utils.translation import gettext_lazy as _


class EntityKind(models.TextChoices):
    LEGAL_ENTITY = "legal_entity", _("法人机构")
    BRANCH = "branch", _("分支机构")


class Ownership(models.TextChoices):
    STATE = "state", _("国有控股")
    PRIVATE = "private", _("民营")
    MIXED = "mixed", _("混合所有制")
    FOREIGN = "foreign", _("外资")


class InstitutionStatus(models.TextChoices):
    OPERATING = "operating", _("正常经营")
    SUSPENDED = "suspended", _("暂停业务")
    EXITING = "exiting", _("退出中")
    DEREGISTERED = "deregistered", _("已注销")
