from django.db import models
from django.utils.translation import gettext_lazy as _


class Unit(models.TextChoices):
    WAN_YUAN = "wan_yuan", _("万元")
    COUNT = "count", _("个/笔/户")


class Basis(models.TextChoices):
    """What a value measures in time, from the template's `basis` column."""

    PERIOD_END = "period_end", _("期末余额")
    YTD = "ytd", _("本年累计")
    YEAR_START = "year_start", _("年初数")
    CUMULATIVE = "cumulative", _("成立以来累计")


class FilingStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已报送")
    RETURNED = "returned", _("已退回")
    ACCEPTED = "accepted", _("已受理")
