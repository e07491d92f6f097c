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


class ListBatchStatus(models.TextChoices):
    """Kept by the finance bureau with the regulator: one proposes, the other confirms."""

    DRAFT = "draft", _("草拟")
    PROPOSED = "proposed", _("待确认")
    CONFIRMED = "confirmed", _("已确认发布")


class ListAction(models.TextChoices):
    INCLUDE = "include", _("纳入")
    REMOVE = "remove", _("移出")
