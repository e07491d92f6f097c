"""The quarterly report: a versioned template of field definitions, and filings with immutable versions.

A filing is one institution's report for one quarter. Its content lives in `FilingVersion` rows: a
draft is the open version; submitting freezes it; a return or an amendment opens a new version, so
every version ever submitted stays readable. Values are `{field code: decimal string}` keyed by the
template's codes, which are the contract with other systems.
"""

import hashlib
import json
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from core.policy import PolicyQuerySet, PolicyRow
from core.scoping import Scope, ScopedQuerySet
from institutions.models import Institution

from .choices import (
    Basis,
    Channel,
    FilingStatus,
    ReminderEvent,
    ReviewParameterKey,
    RuleKind,
    Severity,
    Unit,
)
from .periods import Period


class ReportTemplateQuerySet(ScopedQuerySet):
    scope = Scope(everyone=True)

    def in_force(self, day):
        """The template version whose effective period contains `day`."""
        return self.in_force_first(day).first()

    def in_force_first(self, day):
        """The template versions whose effective period contains `day`, the one in force first."""
        return (
            self.filter(effective_from__lte=day)
            .filter(models.Q(effective_to__isnull=True) | models.Q(effective_to__gte=day))
            .order_by("-version")
        )


class ReportTemplate(models.Model):
    """One edition of the quarterly report. A later edition adds or retires fields by data alone."""

    version = models.PositiveIntegerField(_("版本号"), unique=True)
    name = models.CharField(_("名称"), max_length=100)
    effective_from = models.DateField(_("适用报告期末起"))
    effective_to = models.DateField(_("适用报告期末止"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=300, blank=True)

    objects = ReportTemplateQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]
        verbose_name = _("报表模板")
        verbose_name_plural = _("报表模板")

    def __str__(self):
        return f"{self.name} v{self.version}"


class FieldDefinitionQuerySet(ScopedQuerySet):
    scope = Scope(everyone=True)


class FieldDefinition(models.Model):
    template = models.ForeignKey(ReportTemplate, on_delete=models.CASCADE, related_name="fields")
    code = models.CharField(_("字段代码"), max_length=64)
    section = models.CharField(_("部分"), max_length=4)
    label_zh = models.CharField(_("中文名称"), max_length=200)
    label_en = models.CharField(_("英文名称"), max_length=200)
    unit = models.CharField(_("单位"), max_length=16, choices=Unit.choices)
    basis = models.CharField(_("口径"), max_length=16, choices=Basis.choices)
    notes_zh = models.TextField(_("填报说明"), blank=True)
    notes_en = models.TextField(_("填报说明（英文）"), blank=True)
    order = models.PositiveIntegerField(_("顺序"))

    objects = FieldDefinitionQuerySet.as_manager()

    class Meta:
        ordering = ["template", "order"]
        constraints = [
            models.UniqueConstraint(fields=["template", "code"], name="field_code_unique_per_template")
        ]
        verbose_name = _("报表字段")
        verbose_name_plural = _("报表字段")

    def __str__(self):
        return f"{self.code} {self.label_zh}"


class FilingQuerySet(ScopedQuerySet):
    # The company prepares its own filings; the regulators of its jurisdiction review them.
    scope = Scope(region="institution__region_id", institution="institution_id", company_changes=True)


class Filing(TimeStampedModel):
    """One institution's quarterly report for one period."""

    institution = models.ForeignKey(
        Institution, verbose_name=_("机构"), on_delete=models.PROTECT, related_name="filings"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"), choices=[(q, f"Q{q}") for q in range(1, 5)])
    template = models.ForeignKey(
        ReportTemplate, verbose_name=_("报表模板"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=FilingStatus.choices, default=FilingStatus.DRAFT
    )
    current_version = models.ForeignKey(
        "FilingVersion",
        verbose_name=_("当前版本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    due_date = models.DateField(_("报送截止日"), null=True, blank=True)
    first_submitted_at = models.DateTimeField(_("首次报送时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    risk_score = models.IntegerField(
        _("风险分"), default=0, help_text="review-queue order: see services.risk_score"
    )
    warning_count = models.PositiveIntegerField(_("提示数"), default=0)
    breach_count = models.PositiveIntegerField(
        _("指标违规数"),
        default=0,
        help_text="threshold breaches of the last indicator computation (supervision writes it)",
    )
    # Review claim: the regulator who opened the submitted filing reviews it; others see who and wait.
    # The claim lapses after settings.REVIEW_CLAIM_IDLE_MINUTES without activity (services.review_claim).
    review_claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人（认领）"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    review_claimed_at = models.DateTimeField(_("认领后最近活动时间"), null=True, blank=True)

    objects = FilingQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "-quarter", "institution__name"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "year", "quarter"], name="one_filing_per_period"),
            models.CheckConstraint(name="quarter_1_to_4", condition=models.Q(quarter__gte=1, quarter__lte=4)),
        ]
        indexes = [models.Index(fields=["year", "quarter", "status"])]
        verbose_name = _("季度报表")
        verbose_name_plural = _("季度报表")

    def __str__(self):
        return f"{self.institution} {self.period.label}"

    @property
    def period(self) -> Period:
        return Period(self.year, self.quarter)

    def claim_holder(self, now=None):
        """The regulator whose review claim is still active, or None (none, or lapsed)."""
        from datetime import timedelta

        if not self.review_claimed_by_id or not self.review_claimed_at:
            return None
        idle = timedelta(minutes=settings.REVIEW_CLAIM_IDLE_MINUTES)
        return self.review_claimed_by if (now or timezone.now()) - self.review_claimed_at < idle else None

    @property
    def revision(self) -> str:
        """Changes whenever the filing does (every transition writes updated_at): what a page showing the
        filing compares to know it is out of date."""
        return f"{self.status}.{int(self.updated_at.timestamp() * 1_000_000)}"

    @property
    def is_late(self) -> bool:
        """Filed after the due date (a filing never submitted is missing, not late)."""
        if not self.due_date or not self.first_submitted_at:
            return False
        return timezone.localdate(self.first_submitted_at) > self.due_date


def values_as_decimals(values: dict) -> dict[str, Decimal]:
    """Version values as Decimals; a field left empty is absent."""
    return {code: Decimal(text) for code, text in values.items() if text not in (None, "")}


class FilingVersionQuerySet(ScopedQuerySet):
    scope = Scope(
        region="filing__institution__region_id", institution="filing__institution_id", company_changes=True
    )


class FilingVersion(models.Model):
    """The content of a filing at one point of its life. Frozen once submitted (`submitted_at` set)."""

    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("版本"))
    values = models.JSONField(_("填报数据"), default=dict, help_text="{field code: decimal string}")
    nil_return = models.BooleanField(_("本期无融资担保业务"), default=False)
    reason = models.TextField(_("更正原因"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填报人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报送人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ruleset_version = models.CharField(_("校验规则版本"), max_length=64, blank=True)
    values_hash = models.CharField(_("数据摘要（SHA-256）"), max_length=64, blank=True)
    channel = models.CharField(_("报送渠道"), max_length=8, choices=Channel.choices, default=Channel.WEB)
    explanations = models.JSONField(_("提示说明"), default=dict, blank=True, help_text="{rule id: text}")
    findings = models.JSONField(_("校验结果"), default=list, blank=True, help_text="findings at submission")
    review_comments = models.JSONField(
        _("退回意见"), default=dict, blank=True, help_text="{field code or '_': text}"
    )
    prefill = models.JSONField(
        _("明细预填"),
        default=dict,
        blank=True,
        help_text="{field code: {value, source_zh, source_en, at}}: values taken from the loan-level records",
    )
    overrides = models.JSONField(
        _("预填覆盖"),
        default=dict,
        blank=True,
        help_text="{field code: {derived, value, by, at}}: prefilled values the filer changed",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = FilingVersionQuerySet.as_manager()

    class Meta:
        ordering = ["filing", "-number"]
        constraints = [models.UniqueConstraint(fields=["filing", "number"], name="version_number_unique")]
        verbose_name = _("报表版本")
        verbose_name_plural = _("报表版本")

    def __str__(self):
        return f"{self.filing} v{self.number}"

    @property
    def is_frozen(self) -> bool:
        return self.submitted_at is not None

    def decimal_values(self) -> dict[str, Decimal]:
        return values_as_decimals(self.values)

    def compute_hash(self) -> str:
        """SHA-256 of the canonical JSON of the values and the nil-return flag, shown on the receipt."""
        payload = json.dumps(
            {"nil_return": self.nil_return, "values": self.values}, sort_keys=True, ensure_ascii=False
        )
        return hashlib.sha256(payload.encode()).hexdigest()


class ValidationRuleQuerySet(ScopedQuerySet):
    scope = Scope(everyone=True)

    def in_force(self, day):
        return self.filter(active=True, effective_from__lte=day).filter(
            models.Q(effective_to__isnull=True) | models.Q(effective_to__gte=day)
        )


class ValidationRule(TimeStampedModel):
    """One validation rule as data: the evaluator (validation.py) knows the kinds, never the rules.
    A regulator may deactivate a rule or change its severity; every change is audited."""

    rule_id = models.CharField(_("规则编号"), max_length=32, unique=True)
    kind = models.CharField(_("规则类型"), max_length=16, choices=RuleKind.choices)
    fields = models.JSONField(_("涉及字段"), default=list)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    severity = models.CharField(_("严重程度"), max_length=8, choices=Severity.choices, default=Severity.ERROR)
    message_zh = models.CharField(_("提示信息（中文）"), max_length=300)
    message_en = models.CharField(_("提示信息（英文）"), max_length=300)
    citation = models.CharField(_("依据"), max_length=300, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    effective_from = models.DateField(_("生效日期"))
    effective_to = models.DateField(_("失效日期"), null=True, blank=True)

    objects = ValidationRuleQuerySet.as_manager()

    class Meta:
        ordering = ["rule_id"]
        verbose_name = _("校验规则")
        verbose_name_plural = _("校验规则")

    def __str__(self):
        return f"{self.rule_id} {self.message_zh}"


class DueDateSettingQuerySet(PolicyQuerySet):
    # Everyone reads the deadlines; a province's regulator sets its own (the national row: administrators).
    scope = Scope(everyone=True, change_region="region_code")


class DueDateSetting(PolicyRow):
    """Filing deadline and reminder schedule: the nationwide row, and a province's own (region_code)."""

    days_after_quarter_end = models.PositiveSmallIntegerField(_("季末后报送天数"))
    remind_days_before = models.PositiveSmallIntegerField(_("截止前几天提醒"))
    overdue_days_after = models.PositiveSmallIntegerField(_("逾期几天后催报"))

    objects = DueDateSettingQuerySet.as_manager()

    class Meta(PolicyRow.Meta):
        ordering = ["region_code", "-effective_from"]
        constraints = [
            *PolicyRow.Meta.constraints,
            models.UniqueConstraint(
                fields=["region_code", "effective_from"], name="one_due_setting_per_region_date"
            ),
        ]
        verbose_name = _("报送期限设置")
        verbose_name_plural = _("报送期限设置")

    def __str__(self):
        return f"{self.region_code or '全国'} +{self.days_after_quarter_end}"


class ReviewParameter(PolicyRow):
    """A risk point or badge cut-off of the review queue, for the region of the filing (risk points,
    stored at submission) or of the reviewer (threshold-breach points and badges, at display)."""

    policy_key = "key"

    key = models.CharField(_("参数"), max_length=32, choices=ReviewParameterKey.choices)
    value = models.PositiveIntegerField(_("取值（分）"))

    class Meta(PolicyRow.Meta):
        ordering = ["key", "region_code", "-effective_from"]
        constraints = [
            *PolicyRow.Meta.constraints,
            models.UniqueConstraint(
                fields=["key", "region_code", "effective_from"], name="one_review_parameter_per_start"
            ),
        ]
        verbose_name = _("审核队列风险参数")
        verbose_name_plural = _("审核队列风险参数")

    def __str__(self):
        return f"{self.get_key_display()} {self.region_code or '全国'} = {self.value}"


class ReminderQuerySet(ScopedQuerySet):
    scope = Scope(region="institution__region_id", institution="institution_id")


class Reminder(models.Model):
    """One reminder event for one institution and period; the unique constraint means it is sent once."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    event = models.CharField(_("提醒类型"), max_length=8, choices=ReminderEvent.choices)
    event_key = models.CharField(max_length=16, default="", blank=True, help_text="day of a manual reminder")
    sent_at = models.DateTimeField(_("发送时间"), auto_now_add=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recipients = models.PositiveSmallIntegerField(default=0)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "year", "quarter", "event", "event_key"], name="reminder_sent_once"
            )
        ]

    def __str__(self):
        return f"{self.institution_id} {self.year}Q{self.quarter} {self.event}{self.event_key}"


class NotificationQuerySet(ScopedQuerySet):
    def for_user(self, user, action="view"):
        """A user's own messages, to read and to mark read."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def send(self, users, *, title, body="", url: str = "") -> None:
        """One message to each of `users`. A system Message (core.stored_text) is kept as msgid and
        params, so each reader sees it in their own language; plain text as it is."""
        from core.stored_text import store

        title, body = store(title, max_length=200), store(body)
        self.bulk_create([Notification(user=u, title=title, body=body, url=url) for u in users])


class Notification(models.Model):
    """An in-app message to one user (reminders, returns, acceptances)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reporting_notifications"
    )
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.title


class ReconciliationToleranceQuerySet(PolicyQuerySet):
    # Everyone reads the tolerances; a province's regulator sets its own (the national rows: administrators).
    scope = Scope(everyone=True, change_region="region_code")


class ReconciliationTolerance(PolicyRow):
    """How far a filed figure may lie from the figure derived from the loan-level records before the
    difference is a data-quality finding: |filed − derived| ≤ max(absolute, relative × |derived|).
    One policy per field code; the row with an empty code governs every field without its own."""

    policy_key = "field_code"

    field_code = models.CharField(_("字段代码"), max_length=64, blank=True, help_text=_("空白为所有字段"))
    absolute = models.DecimalField(_("绝对容差"), max_digits=18, decimal_places=2, help_text=_("万元或笔/户"))
    relative = models.DecimalField(
        _("相对容差"), max_digits=9, decimal_places=6, help_text=_("小数：0.005 = 0.5%")
    )

    objects = ReconciliationToleranceQuerySet.as_manager()

    class Meta(PolicyRow.Meta):
        ordering = ["field_code", "region_code", "-effective_from"]
        constraints = [
            *PolicyRow.Meta.constraints,
            models.UniqueConstraint(
                fields=["field_code", "region_code", "effective_from"], name="one_reconciliation_tolerance"
            ),
            models.CheckConstraint(
                name="reconciliation_tolerance_not_negative",
                condition=models.Q(absolute__gte=0, relative__gte=0),
            ),
        ]
        verbose_name = _("明细核对容差")
        verbose_name_plural = _("明细核对容差")

    def __str__(self):
        return f"{self.field_code or '*'} {self.region_code or '全国'} ±{self.absolute}/{self.relative}"


class ExactDecoder(json.JSONDecoder):
    """Numbers as Decimal, exactly as stored (a float would round the sums)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, parse_float=Decimal, parse_int=Decimal, **kwargs)


class CodeField(models.CharField):
    """An ASCII code compared byte by byte on PostgreSQL (the "C" collation): grouping the summary on its
    keys is several times faster than in the database's locale."""

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params


class AggregateFiling(models.Model):
    """One filing the aggregate export counts, and where: its bucket (period, city of its institution,
    institution level, status as the aggregate reads it) and the version whose values are in the sums.

    Written only by the PostgreSQL triggers of migration 0007 (every write to filings, versions and
    institutions' region or level, bulk loads included), in the writer's transaction; never on SQLite,
    where the aggregate sums the versions directly. `reporting.exports.aggregate_summary_rebuild` redoes it."""

    filing_id = models.BigIntegerField(primary_key=True)
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    region = CodeField(max_length=6, help_text="the city: left(region_id, 4) || '00'")
    level = CodeField(max_length=8, help_text="province, city or county (anything else)")
    status = CodeField(max_length=16, help_text="accepted also for an accepted filing being amended")
    version_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["year", "quarter", "status"], name="aggregate_filing_period")]
        verbose_name = _("汇总所计报表")
        verbose_name_plural = _("汇总所计报表")

    def __str__(self):
        return f"{self.filing_id} {self.year}Q{self.quarter} {self.region} {self.level} {self.status}"


class AggregateBucket(models.Model):
    """One bucket of the aggregate: how many filings `AggregateFiling` counts in it, and the exact sums of
    their counted versions' values ({field code: number}; jsonb numbers are exact numerics). One row per
    bucket, so an export reads a few dozen rows, whatever the number of filings."""

    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    region = CodeField(max_length=6)
    level = CodeField(max_length=8)
    status = CodeField(max_length=16)
    filings = models.IntegerField(default=0)
    sums = models.JSONField(default=dict, decoder=ExactDecoder)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["year", "quarter", "region", "level", "status"], name="one_aggregate_bucket"
            )
        ]
        verbose_name = _("汇总分组")
        verbose_name_plural = _("汇总分组")

    def __str__(self):
        return f"{self.year}Q{self.quarter} {self.region} {self.level} {self.status}: {self.filings}"
