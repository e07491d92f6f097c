"""Indicators, the policy data they are judged with, and the warning cases breaches open.

Policy (weights, the net-asset deduction, the small-business-focus shares, thresholds) is data with
effective dates and a source citation; computed results are stored per filing so that dashboards are
plain aggregate queries and lineage can show what was computed with what.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from core.policy import PolicyQuerySet, PolicyRow
from core.scoping import Scope, ScopedQuerySet
from institutions.models import Institution
from reporting.periods import Period

from .indicators import INDICATORS

__all__ = [
    "PolicyParameter",
    "Threshold",
    "IndicatorRun",
    "IndicatorValue",
    "IndicatorBreach",
    "WarningCase",
    "Severity",
    "ThresholdScope",
    "Comparator",
    "ParameterKey",
    "WarningStatus",
]

RATIO = {"max_digits": 24, "decimal_places": 6}


class ParameterKey(models.TextChoices):
    WEIGHT_SMALL_MICRO_FARMER = (
        "weight_small_micro_farmer",
        _("小微企业（≤500万）和农户（≤200万）借款类担保权重"),
    )
    WEIGHT_HOUSING = "weight_housing", _("住房置业担保权重")
    WEIGHT_BOND_AA = "weight_bond_aa", _("AA级及以上发债担保权重")
    WEIGHT_OTHER = "weight_other", _("其他融资担保权重")
    DEDUCT_GUARANTEE_EQUITY = (
        "deduct_guarantee_equity",
        _("放大倍数分母扣除对其他担保公司股权投资（1=是，0=否）"),
    )
    SBF_BALANCE_SHARE = "sbf_balance_share", _("小微和农户认定：余额占比下限")
    SBF_CLIENT_SHARE = "sbf_client_share", _("小微和农户认定：户数占比下限")


class Severity(models.TextChoices):
    BREACH = "breach", _("违规")
    WARNING = "warning", _("预警")
    TARGET = "target", _("目标")
    DATA_QUALITY = "data_quality", _("数据质量")


SEVERITY_RANK = {Severity.BREACH: 0, Severity.WARNING: 1, Severity.DATA_QUALITY: 2, Severity.TARGET: 3}


class ThresholdScope(models.TextChoices):
    ALL = "all", _("全部机构")
    GOV_BACKED = "gov_backed", _("政府性融资担保机构")
    SMALL_BUSINESS_FOCUS = "small_business_focus", _("主要服务小微和农户的机构")
    NOT_SMALL_BUSINESS_FOCUS = "not_small_business_focus", _("非主要服务小微和农户的机构")


class Comparator(models.TextChoices):
    LE = "<=", "≤"
    GE = ">=", "≥"
    LT = "<", "<"
    GT = ">", ">"
    EQ = "=", "="
    ABS_LE = "abs<=", "|x| ≤"


class PolicyParameter(PolicyRow):
    """One value of a computation parameter (a liability weight, the deduction switch, a focus-test
    share) for the filings whose period end falls in [effective_from, effective_to]. Nationwide only:
    the liability measurement rules (计量办法) are national, and one set of parameters per day keeps the
    recomputation of a change exact."""

    policy_key = "key"

    key = models.CharField(_("参数"), max_length=40, choices=ParameterKey.choices)
    value = models.DecimalField(_("取值"), **RATIO)
    note = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta(PolicyRow.Meta):
        ordering = ["key", "-effective_from"]
        constraints = [
            *PolicyRow.Meta.constraints,
            models.UniqueConstraint(
                fields=["key", "region_code", "effective_from"], name="one_parameter_value_per_start"
            ),
            models.CheckConstraint(condition=models.Q(region_code=""), name="parameter_is_nationwide"),
        ]
        verbose_name = _("指标计算参数")
        verbose_name_plural = _("指标计算参数")

    def __str__(self):
        return f"{self.get_key_display()} = {self.value}（{self.effective_from}起）"


class ThresholdQuerySet(PolicyQuerySet):
    # Policy in force is published to every user; the regulators of a threshold's region change it.
    scope = Scope(everyone=True, change_region="region_code")


INDICATOR_CHOICES = [(code, f"{ind.name_zh}（{code}）") for code, ind in INDICATORS.items()]


class Threshold(PolicyRow):
    """A policy threshold: `indicator comparator value`, for filings whose period end lies in the
    effective period, of institutions in the region subtree (empty = nationwide) and the scope. Every
    threshold in force that applies is judged (a regional row adds to the national ones)."""

    policy_key = "code"

    code = models.CharField(_("编号"), max_length=32, unique=True)
    indicator = models.CharField(_("指标"), max_length=64, choices=INDICATOR_CHOICES)
    comparator = models.CharField(_("比较符"), max_length=8, choices=Comparator.choices)
    value = models.DecimalField(_("阈值"), **RATIO)
    severity = models.CharField(_("性质"), max_length=16, choices=Severity.choices)
    scope = models.CharField(_("适用范围"), max_length=32, choices=ThresholdScope.choices)
    region_name = models.CharField(_("适用地区"), max_length=100, blank=True)
    confidence = models.CharField(_("可信度"), max_length=200, blank=True)
    q4_only = models.BooleanField(_("仅第四季度评价"), default=False)

    objects = ThresholdQuerySet.as_manager()

    class Meta(PolicyRow.Meta):
        ordering = ["indicator", "code"]
        verbose_name = _("政策阈值")
        verbose_name_plural = _("政策阈值")

    def __str__(self):
        return f"{self.code} {self.indicator} {self.comparator} {self.value}"

    @property
    def indicator_def(self):
        return INDICATORS[self.indicator]


class IndicatorRunQuerySet(ScopedQuerySet):
    scope = Scope(region="institution__region_id", institution="institution_id")


class IndicatorRun(models.Model):
    """The last computation of one filing: which version, the subject attributes used, when."""

    filing = models.OneToOneField("reporting.Filing", on_delete=models.CASCADE, related_name="indicator_run")
    version = models.ForeignKey("reporting.FilingVersion", on_delete=models.PROTECT, related_name="+")
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    region_code = models.CharField(_("计算时注册地"), max_length=6)
    gov_backed = models.BooleanField(_("期末为政府性机构"))
    small_business_focus = models.BooleanField(_("主要服务小微和农户"), null=True)
    computed_at = models.DateTimeField(_("计算时间"), auto_now=True)
    compute_count = models.PositiveIntegerField(default=0)
    compliant_thresholds = models.JSONField(default=list, help_text="threshold ids judged and met")

    objects = IndicatorRunQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["year", "quarter"])]

    def __str__(self):
        return f"{self.filing_id} v{self.version_id}"


class IndicatorValueQuerySet(ScopedQuerySet):
    scope = Scope(region="institution__region_id", institution="institution_id")


class IndicatorValue(models.Model):
    filing = models.ForeignKey("reporting.Filing", on_delete=models.CASCADE, related_name="indicator_values")
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    code = models.CharField(_("指标"), max_length=64)
    value = models.DecimalField(_("值"), null=True, **RATIO)
    # The exact value thresholds are judged on (a what-if re-judges it in SQL), and whether it is a
    # ratio over capital or assets whose base is zero or negative (no value, a breach of every rule).
    exact = models.DecimalField(null=True, max_digits=60, decimal_places=30)
    base_not_positive = models.BooleanField(default=False)

    objects = IndicatorValueQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["filing", "code"], name="one_value_per_indicator")]
        indexes = [models.Index(fields=["code", "year", "quarter"])]

    def __str__(self):
        return f"{self.code}={self.value}"

    @property
    def definition(self):
        return INDICATORS[self.code]


class IndicatorBreachQuerySet(ScopedQuerySet):
    scope = Scope(region="institution__region_id", institution="institution_id")


class IndicatorBreach(models.Model):
    """A threshold that an indicator value of a filing does not meet (any severity). The value is the
    stored (rounded) one; it is empty when the indicator is a ratio over capital or assets whose base is
    zero or negative — undefined, and a breach of every threshold on it."""

    filing = models.ForeignKey(
        "reporting.Filing", on_delete=models.CASCADE, related_name="indicator_breaches"
    )
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    threshold = models.ForeignKey(Threshold, on_delete=models.CASCADE, related_name="breaches")
    indicator = models.CharField(max_length=64)
    value = models.DecimalField(null=True, **RATIO)
    comparator = models.CharField(max_length=8)
    limit = models.DecimalField(**RATIO)
    severity = models.CharField(max_length=16, choices=Severity.choices)

    objects = IndicatorBreachQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["filing", "threshold"], name="one_breach_per_threshold")
        ]
        indexes = [models.Index(fields=["year", "quarter", "severity"])]

    def __str__(self):
        return f"{self.indicator} {self.value} {self.comparator} {self.limit}"


class WarningStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    ACKNOWLEDGED = "acknowledged", _("已确认")
    CLOSED = "closed", _("已关闭")


class WarningCaseQuerySet(ScopedQuerySet):
    scope = Scope(region="institution__region_id", institution="institution_id")


class WarningCase(TimeStampedModel):
    """An early-warning case for one institution, rule and quarter. `level` counts the consecutive
    quarters (ending with this one) in which the same rule was breached: 1 关注, 2 警示, ≥3 严重."""

    institution = models.ForeignKey(
        Institution, verbose_name=_("机构"), on_delete=models.CASCADE, related_name="+"
    )
    threshold = models.ForeignKey(
        Threshold, verbose_name=_("规则"), on_delete=models.PROTECT, related_name="cases"
    )
    filing = models.ForeignKey(
        "reporting.Filing", verbose_name=_("报表"), on_delete=models.CASCADE, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    severity = models.CharField(_("性质"), max_length=16, choices=Severity.choices)
    severity_rank = models.PositiveSmallIntegerField(default=0)
    level = models.PositiveSmallIntegerField(_("预警级别"), default=1)
    value = models.DecimalField(_("指标值"), null=True, **RATIO)
    cells = models.JSONField(_("相关填报数据"), default=dict)
    status = models.CharField(
        _("状态"), max_length=16, choices=WarningStatus.choices, default=WarningStatus.OPEN
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("承办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    close_proposed = models.BooleanField(_("建议关闭"), default=False)
    close_proposed_by = models.ForeignKey(
        "reporting.Filing",
        verbose_name=_("建议关闭依据报表"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("关闭人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("处理说明"), blank=True)

    objects = WarningCaseQuerySet.as_manager()

    class Meta:
        ordering = ["severity_rank", "-level", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "threshold", "year", "quarter"], name="one_case_per_rule_period"
            )
        ]
        indexes = [models.Index(fields=["status", "severity_rank", "level"])]
        verbose_name = _("预警案件")
        verbose_name_plural = _("预警案件")

    def __str__(self):
        return f"{self.institution} {self.year}Q{self.quarter} {self.threshold.code}"

    @property
    def level_label(self):
        return {1: _("关注"), 2: _("警示")}.get(self.level, _("严重"))

    @property
    def period(self):
        return Period(self.year, self.quarter)
