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


class RuleKind(models.TextChoices):
    """The fixed set of rule kinds the evaluator in validation.py understands."""

    IDENTITY = "identity", _("恒等/合计关系")
    ROLL_FORWARD = "roll_forward", _("余额滚动关系")
    BOUND = "bound", _("取值界限")
    COUNT_LE_COUNT = "count_le_count", _("户数不超过笔数")
    CONTINUITY = "continuity", _("与上期衔接")
    YTD_MONOTONIC = "ytd_monotonic", _("本年累计数不减")
    QOQ_CHANGE = "qoq_change", _("环比异动")
    REQUIRED = "required", _("必填")


class Severity(models.TextChoices):
    ERROR = "error", _("错误（阻止报送）")
    WARNING = "warning", _("提示（须说明）")


class Channel(models.TextChoices):
    WEB = "web", _("网页填报")
    EXCEL = "excel", _("Excel导入")
    API = "api", _("接口报送")
    SYSTEM = "system", _("系统")


class ReminderEvent(models.TextChoices):
    BEFORE = "before", _("截止前提醒")
    DUE = "due", _("截止日提醒")
    OVERDUE = "overdue", _("逾期催报")
    MANUAL = "manual", _("人工催报")


class ReviewParameterKey(models.TextChoices):
    """The review queue's risk points and badge cut-offs (services.risk_score, selectors.review_queue)."""

    WARNING = "warning", _("每条提示的风险分")
    UNEXPLAINED = "unexplained", _("提示未说明原因的加分")
    QOQ_CHANGE = "qoq_change", _("环比大幅异动提示的加分")
    PROHIBITED_BALANCE = "prohibited_balance", _("禁止性余额提示（BND-31）的加分")
    THRESHOLD_BREACH = "threshold_breach", _("每项监管阈值违规的风险分")
    BADGE_HIGH = "badge_high", _("风险分标红下限")
    BADGE_MEDIUM = "badge_medium", _("风险分标黄下限")
