"""Indicators, the policy data they are judged with, and the warning cases breaches open.

Policy (weights, the net-asset deduction, the small-business-focus shares, thresholds) is data with
effective dates and a source citation; computed results are stored per filing so that dashboards are
plain aggregate queries and lineage can show what was computed with what.
"""

from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.exceptions import pick_language
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
    "WarningCaseQuarter",
    "CloseReason",
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
    source_en = models.CharField(
        _("依据（英文）"), max_length=300, blank=True, help_text=_("英文读者看到的依据；空白时显示中文依据")
    )
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

    @property
    def source_text(self) -> str:
        """The source in the reader's language: the English citation for English readers where one is
        given, else the Chinese."""
        return pick_language(self.source, self.source_en or self.source)


class IndicatorRunQuerySet(ScopedQuerySet):
    scope = Scope(region="institution__region_id", institution="institution_id")


class IndicatorRun(models.Model):
    """The last computation of one filing: which version, the subject attributes used, when."""

    # Derived rows, written by every recompute chunk: without database foreign keys, as the values
    # (each key checked and share-locked at commit was a seventh of a national recompute); Django's
    # collector still cascades and protects (on_delete) when a filing, version or institution goes.
    filing = models.OneToOneField(
        "reporting.Filing", on_delete=models.CASCADE, related_name="indicator_run", db_constraint=False
    )
    version = models.ForeignKey(
        "reporting.FilingVersion", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
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


# The indicators the pages read by period (dashboard charts, peer comparison, annual report): only
# their values are indexed by (code, year, quarter). Indexing all 28 cost a full national recompute
# more than every other write of its values; the others are read by period through the runs.
PERIOD_INDEXED = (
    "leverage",
    "average_fee_rate",
    "compensation_rate",
    "single_client_concentration",
    "support_share_amount",
    "bank_risk_share",
)


class IndicatorValueQuerySet(ScopedQuerySet):
    scope = Scope(region="institution__region_id", institution="institution_id")

    def of_periods(
        self, periods: Iterable[tuple[int, int]], codes: Iterable[str]
    ) -> "IndicatorValueQuerySet":
        """The values of some indicators in some (year, quarter) periods: by the partial (code, year,
        quarter) index for the indicators in PERIOD_INDEXED; for any other, through the periods' runs
        (their (year, quarter) index) and the key (filing, code) — the rows returned, not the table."""
        codes = list(codes)
        cond = models.Q(pk__in=[])
        for year, quarter in periods:
            cond |= models.Q(year=year, quarter=quarter)
        qs = self.filter(cond, code__in=codes)
        if set(codes) <= set(PERIOD_INDEXED):
            return qs
        return qs.filter(filing_id__in=IndicatorRun.objects.filter(cond).values("filing_id"))


class IndicatorValue(models.Model):
    # Derived rows, 28 per filing, written in bulk by the recompute: without database foreign keys (a
    # check per row at commit, the largest cost of a first full recompute); Django's cascade deletes
    # them with their filing or institution. Keyed by (filing, code), with no surrogate id: its
    # sequence and index cost a third of the first recompute's inserts. The key serves lookups by
    # filing (and by institution, through its filings); by period and code through `of_periods`.
    pk = models.CompositePrimaryKey("filing", "code")
    filing = models.ForeignKey(
        "reporting.Filing",
        on_delete=models.CASCADE,
        related_name="indicator_values",
        db_constraint=False,
        db_index=False,
    )
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
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
        indexes = [
            models.Index(
                fields=["code", "year", "quarter"],
                condition=models.Q(code__in=PERIOD_INDEXED),
                name="indicator_value_page_period",
            )
        ]

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

    # Derived rows without database foreign keys, as the runs. No index of its own on filing: the
    # unique (filing, threshold) index leads with it.
    filing = models.ForeignKey(
        "reporting.Filing",
        on_delete=models.CASCADE,
        related_name="indicator_breaches",
        db_index=False,
        db_constraint=False,
    )
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    threshold = models.ForeignKey(
        Threshold, on_delete=models.CASCADE, related_name="breaches", db_constraint=False
    )
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


class CloseReason(models.TextChoices):
    RECTIFIED = "rectified", _("已整改")
    DATA_CORRECTED = "data_corrected", _("数据更正后不再触发")
    MEASURE_TAKEN = "measure_taken", _("已采取监管措施")
    EXPLAINED = "explained", _("情况说明合理")
    FALSE_ALARM = "false_alarm", _("误报")
    OTHER = "other", _("其他")


class WarningCase(TimeStampedModel):
    """The early-warning case of one institution and rule: one case spans every quarter in which the rule
    is breached (its `quarters` list them); `year`/`quarter` name the latest of them and `filing`,
    `value`, `cells` come from it. `level` counts the consecutive breached quarters ending with the
    latest: 1 关注, 2 警示, ≥3 严重 — the case escalates as the streak grows. A closed case reopens when
    the rule is breached again in a quarter after the one it was closed at."""

    # no index of its own on institution: the unique (institution, threshold) index leads with it
    institution = models.ForeignKey(
        Institution, verbose_name=_("机构"), on_delete=models.CASCADE, related_name="+", db_index=False
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
    first_year = models.PositiveSmallIntegerField(_("首次预警年度"), null=True)
    first_quarter = models.PositiveSmallIntegerField(_("首次预警季度"), null=True)
    max_level = models.PositiveSmallIntegerField(_("最高预警级别"), default=1)
    close_reason = models.CharField(_("关闭原因"), max_length=20, choices=CloseReason.choices, blank=True)
    closed_year = models.PositiveSmallIntegerField(_("关闭时最近季度（年）"), null=True, blank=True)
    closed_quarter = models.PositiveSmallIntegerField(_("关闭时最近季度（季）"), null=True, blank=True)
    reopened_count = models.PositiveSmallIntegerField(_("重新开启次数"), default=0)

    objects = WarningCaseQuerySet.as_manager()

    class Meta:
        ordering = ["severity_rank", "-level", "created_at"]
        constraints = [models.UniqueConstraint(fields=["institution", "threshold"], name="one_case_per_rule")]
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

    @property
    def first_period(self):
        return Period(self.first_year, self.first_quarter) if self.first_year else self.period


class WarningCaseQuarterQuerySet(ScopedQuerySet):
    scope = Scope(region="case__institution__region_id", institution="case__institution_id")


class WarningCaseQuarter(models.Model):
    """One quarter in which a case's rule was breached (the case's history). A quarter that no longer
    breaches (an amended or returned filing, a changed rule) is kept, marked cleared."""

    # no index of its own on case: the unique (case, year, quarter) index leads with it
    case = models.ForeignKey(WarningCase, on_delete=models.CASCADE, related_name="quarters", db_index=False)
    filing = models.ForeignKey("reporting.Filing", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    severity = models.CharField(_("性质"), max_length=16, choices=Severity.choices)
    level = models.PositiveSmallIntegerField(_("预警级别"), default=1)
    value = models.DecimalField(_("指标值"), null=True, **RATIO)
    cleared = models.BooleanField(
        _("已不再触发"), default=False, help_text=_("报表更正、退回或规则调整后该季度不再触发（保留记录）")
    )

    objects = WarningCaseQuarterQuerySet.as_manager()

    class Meta:
        ordering = ["case", "-year", "-quarter"]
        constraints = [
            models.UniqueConstraint(fields=["case", "year", "quarter"], name="one_row_per_case_quarter")
        ]

    def __str__(self):
        return f"{self.case_id} {self.year}Q{self.quarter}"

    @property
    def period(self):
        return Period(self.year, self.quarter)


# --- supervisory measures (监管措施, 规程 art. 28) ---------------------------------------------------


class ApprovalLevel(models.TextChoices):
    CITY = "city", _("市级监管部门")
    PROVINCE = "province", _("省级监管部门")


class MeasureTypeQuerySet(ScopedQuerySet):
    scope = Scope(everyone=True)


class MeasureType(models.Model):
    """One kind of measure of the art. 28 catalogue, as data: its default deadline, the level of the
    regulator that approves it, and the template its document is generated from."""

    code = models.CharField(_("编号"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    name_en = models.CharField(_("英文名称"), max_length=80, blank=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    default_days = models.PositiveSmallIntegerField(_("默认整改期限（天）"))
    approval_level = models.CharField(_("审批层级"), max_length=12, choices=ApprovalLevel.choices)
    publishable = models.BooleanField(_("可发布为公告"), default=False)
    onsite = models.BooleanField(_("现场检查"), default=False)
    template = models.TextField(
        _("文书模板"),
        help_text=_(
            "可用占位符：{{机构}} {{文号}} {{措施}} {{事由}} {{要求}} {{依据}} {{期限}} {{机关}} {{日期}}"
        ),
    )
    source = models.CharField(_("依据"), max_length=200)
    active = models.BooleanField(_("启用"), default=True)

    objects = MeasureTypeQuerySet.as_manager()

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("监管措施类型")
        verbose_name_plural = _("监管措施类型")

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        from django.utils.translation import get_language

        return self.name_en if self.name_en and (get_language() or "").startswith("en") else self.name


class MeasureStatus(models.TextChoices):
    PROPOSED = "proposed", _("待审批")
    REJECTED = "rejected", _("未批准")
    APPROVED = "approved", _("已批准待下达")
    ISSUED = "issued", _("已下达")
    ACKNOWLEDGED = "acknowledged", _("已签收")
    ANSWERED = "answered", _("已回复")
    MORE_REQUESTED = "more_requested", _("要求补充")
    ESCALATED = "escalated", _("已升级")
    CLOSED = "closed", _("已办结")


MEASURE_OPEN = (
    MeasureStatus.ISSUED,
    MeasureStatus.ACKNOWLEDGED,
    MeasureStatus.ANSWERED,
    MeasureStatus.MORE_REQUESTED,
)


class MeasureQuerySet(ScopedQuerySet):
    # Regulators of the institution's region and above; the company sees its measures once issued.
    scope = Scope(region="institution__region_id", institution="institution_id")

    def for_user(self, user, action="view"):
        from core.roles import is_company_user

        qs = super().for_user(user, action)
        if is_company_user(user):
            qs = qs.filter(issued_at__isnull=False)
        return qs


class Measure(TimeStampedModel):
    """A supervisory measure taken against one institution: proposed (from a warning case, a filing or
    the institution itself), approved by a regulator of the level its type requires, issued as a
    numbered document, acknowledged and answered by the company, accepted (closed with a conclusion),
    sent back for more, or escalated to a stronger measure."""

    measure_type = models.ForeignKey(
        MeasureType, verbose_name=_("措施类型"), on_delete=models.PROTECT, related_name="measures"
    )
    institution = models.ForeignKey(
        Institution, verbose_name=_("机构"), on_delete=models.PROTECT, related_name="+"
    )
    case = models.ForeignKey(
        WarningCase,
        verbose_name=_("预警案件"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="measures",
    )
    filing = models.ForeignKey(
        "reporting.Filing",
        verbose_name=_("报表"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    escalated_from = models.ForeignKey(
        "self",
        verbose_name=_("升级自"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="escalations",
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=MeasureStatus.choices, default=MeasureStatus.PROPOSED
    )
    facts = models.TextField(_("事由"))
    requirements = models.TextField(_("整改要求"), blank=True)
    deadline = models.DateField(_("答复期限"), null=True, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("提出人"), on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    approval_note = models.TextField(_("审批意见"), blank=True)
    number = models.CharField(_("文号"), max_length=60, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("下达人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("下达时间"), null=True, blank=True)
    issuing_body = models.CharField(_("发文机关"), max_length=120, blank=True)
    document_text = models.TextField(_("文书正文"), blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签收人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    conclusion = models.TextField(_("办结结论"), blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办结人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    notice = models.ForeignKey(
        "institutions.Notice",
        verbose_name=_("公告"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = MeasureQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["number"], condition=~models.Q(number=""), name="measure_number_unique"
            )
        ]
        indexes = [models.Index(fields=["status", "deadline"])]
        verbose_name = _("监管措施")
        verbose_name_plural = _("监管措施")

    def __str__(self):
        return f"{self.number or '#' + str(self.pk)} {self.measure_type.name} {self.institution.name}"

    @property
    def is_open(self) -> bool:
        return self.status in MEASURE_OPEN

    @property
    def overdue(self) -> bool:
        from django.utils import timezone

        return bool(
            self.deadline
            and self.status
            in (MeasureStatus.ISSUED, MeasureStatus.ACKNOWLEDGED, MeasureStatus.MORE_REQUESTED)
            and timezone.localdate() > self.deadline
        )


class MessageKind(models.TextChoices):
    PLAN = "plan", _("整改方案")
    SUPPLEMENT = "supplement", _("补充材料")
    REQUEST = "request", _("要求补充")
    REMINDER = "reminder", _("催办提醒")


class MeasureMessageQuerySet(ScopedQuerySet):
    scope = Scope(region="measure__institution__region_id", institution="measure__institution_id")


def evidence_path(instance, filename):
    return f"measures/{instance.measure_id}/{filename}"


class MeasureMessage(models.Model):
    """One entry of a measure's correspondence: the company's rectification plan or supplement (with
    evidence), the regulator's request for more, a reminder sent."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("类型"), max_length=16, choices=MessageKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("内容"))
    evidence = models.FileField(_("证明材料"), upload_to=evidence_path, blank=True)
    reminder_key = models.CharField(max_length=24, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MeasureMessageQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "reminder_key"],
                condition=~models.Q(reminder_key=""),
                name="measure_reminder_once",
            )
        ]

    def __str__(self):
        return f"{self.measure_id} {self.kind}"


class InspectionQuerySet(ScopedQuerySet):
    scope = Scope(region="institution__region_id", institution="institution_id")


class Inspection(TimeStampedModel):
    """On-site inspection (现场检查): its scope, team, dates, findings and report. Started from an
    on-site inspection measure; each finding is linked to the measure it leads to."""

    measure = models.OneToOneField(
        Measure,
        verbose_name=_("检查措施"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inspection",
    )
    institution = models.ForeignKey(
        Institution, verbose_name=_("机构"), on_delete=models.PROTECT, related_name="+"
    )
    scope = models.TextField(_("检查范围"))
    team = models.CharField(_("检查组成员"), max_length=300)
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"))
    report = models.TextField(_("检查报告"), blank=True)
    reported_at = models.DateTimeField(_("报告时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = InspectionQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-pk"]
        verbose_name = _("现场检查")
        verbose_name_plural = _("现场检查")

    def __str__(self):
        return f"{self.institution.name} {self.start_date}"


class InspectionFindingQuerySet(ScopedQuerySet):
    scope = Scope(region="inspection__institution__region_id", institution="inspection__institution_id")


class InspectionFinding(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="findings")
    text = models.TextField(_("检查发现"))
    measure = models.ForeignKey(
        Measure,
        verbose_name=_("对应措施"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = InspectionFindingQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.text[:40]


class NonFilerListQuerySet(ScopedQuerySet):
    scope = Scope(region="region_id")


class NonFilerList(TimeStampedModel):
    """The companies that did not file or filed late for a quarter: drafted from the completeness board,
    reviewed, published as a public notice; each listed company gets a measure of its own."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")

    region = models.ForeignKey(
        "accounts.Region", verbose_name=_("地区"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    measure_type = models.ForeignKey(
        MeasureType, verbose_name=_("对应措施"), on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    notice = models.ForeignKey(
        "institutions.Notice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = NonFilerListQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "-quarter", "-pk"]
        verbose_name = _("未按时报送名单")
        verbose_name_plural = _("未按时报送名单")

    def __str__(self):
        return f"{self.region_id} {self.year}Q{self.quarter}"

    @property
    def period(self):
        return Period(self.year, self.quarter)


class NonFilerEntry(models.Model):
    class Kind(models.TextChoices):
        MISSING = "missing", _("未报送")
        LATE = "late", _("逾期报送")

    nonfiler_list = models.ForeignKey(NonFilerList, on_delete=models.CASCADE, related_name="entries")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("情形"), max_length=12, choices=Kind.choices)
    included = models.BooleanField(_("列入名单"), default=True)
    measure = models.ForeignKey(Measure, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["nonfiler_list", "institution"], name="nonfiler_once_per_list")
        ]

    def __str__(self):
        return f"{self.institution_id} {self.kind}"


# --- classification rating (分类监管, A–D) ----------------------------------------------------------


class Grade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


GRADE_ORDER = ["A", "B", "C", "D"]


class ItemSource(models.TextChoices):
    """Where a score item's points come from (the formulas are code, supervision/rating.py; the
    parameters are the item's data)."""

    NET_ASSETS = "net_assets", _("规模：期末净资产分档")
    INDICATOR_BAND = "indicator_band", _("指标分档（年末季度）")
    BREACH_FREE = "breach_free", _("指标：无违规季度占比")
    FILING = "filing", _("报送行为：逾期、退回、更正扣分")
    MEASURES = "measures", _("监管措施与现场检查扣分")
    MANUAL = "manual", _("人工评分")
    VETO_BREACH = "veto_breach", _("否决项：年末指标违规")
    VETO_MEASURE = "veto_measure", _("否决项：被采取特定监管措施")


class RatingSheetQuerySet(ScopedQuerySet):
    scope = Scope(everyone=True, change_region="region_code")


class RatingSheet(TimeStampedModel):
    """A score sheet: items with points (and veto items capping the grade), grade bands, the objection
    period and what each grade means for supervision. region_code "" is the default sheet; a province
    replaces it with its own from a year on."""

    region_code = models.CharField(_("适用地区"), max_length=6, blank=True)
    year_from = models.PositiveSmallIntegerField(_("自年度起适用"))
    name = models.CharField(_("名称"), max_length=120)
    confirmed = models.BooleanField(_("已由监管部门确认"), default=False)
    source = models.CharField(_("依据"), max_length=300)
    objection_days = models.PositiveSmallIntegerField(_("异议期（天）"), default=10)

    objects = RatingSheetQuerySet.as_manager()

    class Meta:
        ordering = ["region_code", "-year_from"]
        constraints = [
            models.UniqueConstraint(fields=["region_code", "year_from"], name="one_sheet_per_start")
        ]
        verbose_name = _("分类评级评分表")
        verbose_name_plural = _("分类评级评分表")

    def __str__(self):
        return self.name


class RatingItem(models.Model):
    sheet = models.ForeignKey(RatingSheet, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(_("编号"), max_length=32)
    name = models.CharField(_("评分项"), max_length=120)
    category = models.CharField(_("类别"), max_length=40)
    points = models.DecimalField(_("分值"), max_digits=6, decimal_places=2, default=0)
    source = models.CharField(_("数据来源"), max_length=20, choices=ItemSource.choices)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    cap = models.CharField(_("否决后最高等级"), max_length=1, choices=Grade.choices, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sheet", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["sheet", "code"], name="one_item_code_per_sheet")]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def is_veto(self) -> bool:
        return self.source in (ItemSource.VETO_BREACH, ItemSource.VETO_MEASURE)


class GradeBand(models.Model):
    """A grade from a minimum score, with what it means: inspection and report frequency, benefits."""

    sheet = models.ForeignKey(RatingSheet, on_delete=models.CASCADE, related_name="bands")
    grade = models.CharField(_("等级"), max_length=1, choices=Grade.choices)
    min_score = models.DecimalField(_("最低得分"), max_digits=6, decimal_places=2)
    inspection_every_months = models.PositiveSmallIntegerField(_("现场检查频率（月）"))
    report_frequency = models.CharField(_("报送频率"), max_length=40)
    benefits = models.TextField(_("政策措施"), blank=True)

    class Meta:
        ordering = ["sheet", "grade"]
        constraints = [models.UniqueConstraint(fields=["sheet", "grade"], name="one_band_per_grade")]

    def __str__(self):
        return f"{self.grade} ≥ {self.min_score}"


class RatingStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    CONFIRMED = "confirmed", _("已复核确认")
    PUBLISHED = "published", _("已公布")


class RatingQuerySet(ScopedQuerySet):
    # Regulators of the region; the company sees its own once confirmed.
    scope = Scope(region="institution__region_id", institution="institution_id")

    def for_user(self, user, action="view"):
        from core.roles import is_company_user

        qs = super().for_user(user, action)
        if is_company_user(user):
            qs = qs.exclude(status=RatingStatus.DRAFT)
        return qs


class Rating(TimeStampedModel):
    institution = models.ForeignKey(
        Institution, verbose_name=_("机构"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("评级年度"))
    sheet = models.ForeignKey(RatingSheet, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("状态"), max_length=12, choices=RatingStatus.choices, default=RatingStatus.DRAFT
    )
    score = models.DecimalField(_("得分"), max_digits=6, decimal_places=2)
    computed_grade = models.CharField(_("按分数等级"), max_length=1, choices=Grade.choices)
    grade = models.CharField(_("等级"), max_length=1, choices=Grade.choices)
    capped_by = models.CharField(_("否决项"), max_length=200, blank=True)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    objection_until = models.DateField(_("异议截止日"), null=True, blank=True)
    published_at = models.DateTimeField(_("公布时间"), null=True, blank=True)

    objects = RatingQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "grade", "-score", "pk"]
        constraints = [models.UniqueConstraint(fields=["institution", "year"], name="one_rating_per_year")]
        verbose_name = _("分类评级")
        verbose_name_plural = _("分类评级")

    def __str__(self):
        return f"{self.institution} {self.year} {self.grade}"


class RatingScoreQuerySet(ScopedQuerySet):
    scope = Scope(region="rating__institution__region_id", institution="rating__institution_id")


class RatingScore(models.Model):
    rating = models.ForeignKey(Rating, on_delete=models.CASCADE, related_name="scores")
    item = models.ForeignKey(RatingItem, on_delete=models.PROTECT, related_name="+")
    computed = models.DecimalField(_("计算得分"), max_digits=6, decimal_places=2, null=True)
    score = models.DecimalField(_("得分"), max_digits=6, decimal_places=2, null=True)
    vetoed = models.BooleanField(_("触发否决"), default=False)
    basis = models.CharField(_("依据"), max_length=500)
    adjusted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("调整理由"), blank=True)

    objects = RatingScoreQuerySet.as_manager()

    class Meta:
        ordering = ["rating", "item__order"]
        constraints = [models.UniqueConstraint(fields=["rating", "item"], name="one_score_per_item")]

    def __str__(self):
        return f"{self.item.code}={self.score}"


class RatingObjectionQuerySet(ScopedQuerySet):
    scope = Scope(region="rating__institution__region_id", institution="rating__institution_id")


class RatingObjection(TimeStampedModel):
    rating = models.ForeignKey(Rating, on_delete=models.CASCADE, related_name="objections")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("异议内容"))
    response = models.TextField(_("处理意见"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    objects = RatingObjectionQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.text[:40]


# --- the annual supervision and development report (规程 art. 21) ---------------------------------


class ReportNarrativeQuerySet(ScopedQuerySet):
    scope = Scope(region="region_id")


class ReportNarrative(models.Model):
    """One saved version of a narrative part of a region's annual report (append-only: the latest is the
    text, the earlier ones its history)."""

    region = models.ForeignKey("accounts.Region", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    part = models.CharField(_("部分"), max_length=20)
    text = models.TextField(_("内容"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReportNarrativeQuerySet.as_manager()

    class Meta:
        ordering = ["region", "year", "part", "-created_at", "-pk"]
        indexes = [models.Index(fields=["region", "year", "part"])]
        verbose_name = _("年度报告文字部分")
        verbose_name_plural = _("年度报告文字部分")

    def __str__(self):
        return f"{self.region_id} {self.year} {self.part}"
