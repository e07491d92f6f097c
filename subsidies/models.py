"""Subsidy schemes (policy rows a finance bureau edits, with their history), applications and the
lines behind each computed amount.

A scheme is effective-dated data of its region (`region_code`: the bureau whose level approves it) with
its amount parameters in `params` (validated per kind by subsidies.params). An application is one
institution's claim under one scheme for one year; its lines are the explanation (each guarantee,
eligible or not and why) and, where a guarantee is claimed, the database's guarantee that the same
guarantee is never subsidised twice under the same scheme and year (`one_claim_per_guarantee`)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from core.policy import PolicyQuerySet, PolicyRow
from core.roles import Role
from core.scoping import Scope, ScopedQuerySet
from guarantees.models import Guarantee
from institutions.models import MONEY, Institution

from .choices import PUBLISHED, BudgetMode, SchemeKind, Status

RATE = {"max_digits": 12, "decimal_places": 8}


class SchemeQuerySet(PolicyQuerySet):
    # Published policy: everyone reads schemes; the finance bureaus of the region change them.
    scope = Scope(everyone=True, change_roles=(Role.FINANCE,), change_region="region_code")


class Scheme(PolicyRow):
    """A subsidy, award or compensation scheme of one region (and everything under it)."""

    policy_key = "code"

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=20, choices=SchemeKind.choices)
    params = models.JSONField(_("补贴参数"), default=dict)
    budget = models.DecimalField(_("年度预算（万元）"), **MONEY, null=True, blank=True)
    budget_mode = models.CharField(
        _("超出预算时"), max_length=10, choices=BudgetMode.choices, default=BudgetMode.PRO_RATA
    )
    publicity_days = models.PositiveSmallIntegerField(_("公示期（天）"), default=7)
    open = models.BooleanField(_("受理申请"), default=True)

    objects = SchemeQuerySet.as_manager()

    class Meta(PolicyRow.Meta):
        ordering = ["region_code", "code"]
        verbose_name = _("补贴政策")
        verbose_name_plural = _("补贴政策")

    def __str__(self) -> str:
        return self.name

    def covers_year(self, year: int) -> bool:
        return self.effective_from.year <= year and (
            self.effective_to is None or year <= self.effective_to.year
        )


class SchemeRevisionQuerySet(ScopedQuerySet):
    scope = Scope(everyone=True)


class SchemeRevision(models.Model):
    """Every edit of a scheme: who, when, why, and the values before and after (append-only)."""

    scheme = models.ForeignKey(
        Scheme, verbose_name=_("补贴政策"), on_delete=models.PROTECT, related_name="revisions"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("修改时间"), auto_now_add=True)
    reason = models.TextField(_("修改原因"))
    changes = models.JSONField(_("修改内容"), default=dict, help_text="{field: [before, after]}")

    objects = SchemeRevisionQuerySet.as_manager()

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("补贴政策修改记录")
        verbose_name_plural = _("补贴政策修改记录")

    def __str__(self) -> str:
        return f"{self.scheme} {self.changed_at:%Y-%m-%d}"


class ApplicationQuerySet(ScopedQuerySet):
    # A company prepares its own; finance bureaus of its jurisdiction act on it; regulators read.
    scope = Scope(
        region="institution__region_id",
        institution="institution_id",
        change_roles=(Role.FINANCE,),
        company_changes=True,
    )


class Application(TimeStampedModel):
    """One institution's application under one scheme for one year, from draft to payment."""

    scheme = models.ForeignKey(
        Scheme, verbose_name=_("补贴政策"), on_delete=models.PROTECT, related_name="applications"
    )
    institution = models.ForeignKey(
        Institution, verbose_name=_("机构"), on_delete=models.PROTECT, related_name="subsidy_applications"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    # bumped by every transition: a transition is an UPDATE … WHERE status = s AND revision = r
    revision = models.PositiveIntegerField(_("修订号"), default=0)

    computed_amount = models.DecimalField(_("测算金额（万元）"), **MONEY, null=True, blank=True)
    computed_at = models.DateTimeField(_("测算时间"), null=True, blank=True)
    computation = models.JSONField(_("测算说明"), default=dict, blank=True)
    data_stamp = models.JSONField(
        _("所用数据版本"),
        default=dict,
        blank=True,
        help_text="the records and filing versions the amount used",
    )
    uncomputable_reason = models.CharField(_("无法测算原因"), max_length=300, blank=True)
    marginal_amount = models.DecimalField(_("分段累进金额（万元）"), **MONEY, null=True, blank=True)
    whole_amount = models.DecimalField(_("全额按档金额（万元）"), **MONEY, null=True, blank=True)

    note = models.TextField(_("申请说明"), blank=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填报人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申报人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("申报时间"), null=True, blank=True)
    return_note = models.TextField(_("退回意见"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("初审人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("初审时间"), null=True, blank=True)
    review_note = models.TextField(_("初审意见"), blank=True)
    proposed_amount = models.DecimalField(
        _("建议金额（万元）"), **MONEY, null=True, blank=True, help_text=_("奖补资金池分配的建议金额")
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("复核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    approved_amount = models.DecimalField(_("核定金额（万元）"), **MONEY, null=True, blank=True)
    amount_reason = models.TextField(_("调整金额原因"), blank=True)
    pro_rata_factor = models.DecimalField(_("预算核减比例"), **RATE, null=True, blank=True)
    final_amount = models.DecimalField(_("拨付金额（万元）"), **MONEY, null=True, blank=True)
    rejection_reason = models.TextField(_("不予通过原因"), blank=True)
    publicity_from = models.DateField(_("公示开始"), null=True, blank=True)
    publicity_to = models.DateField(_("公示结束"), null=True, blank=True)
    paid_on = models.DateField(_("拨付日期"), null=True, blank=True)
    payment_reference = models.CharField(_("拨付凭证号"), max_length=100, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("拨付登记人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "scheme", "institution"]
        constraints = [
            # one live application per institution, scheme and year (a rejected one leaves room for another)
            models.UniqueConstraint(
                fields=["scheme", "institution", "year"],
                condition=~Q(status=Status.REJECTED),
                name="one_live_application_per_scheme_year",
            ),
            models.CheckConstraint(
                name="approved_amount_not_negative",
                condition=Q(approved_amount__gte=0) | Q(approved_amount__isnull=True),
            ),
        ]
        indexes = [models.Index(fields=["status", "scheme", "year"])]
        verbose_name = _("补贴申请")
        verbose_name_plural = _("补贴申请")

    def __str__(self) -> str:
        return f"{self.institution} · {self.scheme} · {self.year}"

    @property
    def amount_shown(self) -> Decimal | None:
        """The amount that matters now: paid/final, else approved, else proposed, else computed."""
        for value in (self.final_amount, self.approved_amount, self.proposed_amount, self.computed_amount):
            if value is not None:
                return value
        return None


class ApplicationLineQuerySet(ScopedQuerySet):
    scope = Scope(region="application__institution__region_id", institution="application__institution_id")


class ApplicationLine(models.Model):
    """One line of an application's explanation: a guarantee (fee subsidy) or an event (risk
    compensation), eligible or not and why. `claimed` lines hold the guarantee for the scheme and year:
    the partial unique index refuses a second claim, whatever the code above it does."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="lines")
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    guarantee = models.ForeignKey(
        Guarantee, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    label = models.CharField(_("项目"), max_length=120)
    eligible = models.BooleanField(_("符合条件"))
    claimed = models.BooleanField(_("占用补贴额度"), default=False)
    reason = models.TextField(_("说明"), blank=True)
    line_key = models.CharField(_("补贴档次"), max_length=40, blank=True)
    days = models.PositiveIntegerField(_("天数"), default=0)
    base = models.DecimalField(_("计算基数（万元）"), **MONEY, default=Decimal(0))
    rate = models.DecimalField(_("比例"), **RATE, default=Decimal(0))
    amount = models.DecimalField(
        _("金额（万元，未舍入）"), max_digits=24, decimal_places=10, default=Decimal(0)
    )

    objects = ApplicationLineQuerySet.as_manager()

    class Meta:
        ordering = ["application", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["guarantee", "scheme", "year"],
                condition=Q(claimed=True),
                name="one_claim_per_guarantee",
            ),
            models.CheckConstraint(
                name="claim_needs_guarantee", condition=Q(claimed=False) | Q(guarantee__isnull=False)
            ),
        ]
        verbose_name = _("补贴测算明细")
        verbose_name_plural = _("补贴测算明细")

    def __str__(self) -> str:
        return self.label


class ApplicationStepQuerySet(ScopedQuerySet):
    scope = Scope(region="application__institution__region_id", institution="application__institution_id")


class ApplicationStep(models.Model):
    """The application's history: every transition with who, when, the amount and the note."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="steps")
    from_status = models.CharField(_("原状态"), max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    amount = models.DecimalField(_("金额（万元）"), **MONEY, null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)

    objects = ApplicationStepQuerySet.as_manager()

    class Meta:
        ordering = ["application", "at", "id"]
        verbose_name = _("补贴申请流转记录")
        verbose_name_plural = _("补贴申请流转记录")

    def __str__(self) -> str:
        return f"{self.application_id} {self.from_status}→{self.to_status}"


class PublicityQuerySet(ScopedQuerySet):
    # The publicity list (公示) is public: published and paid applications, to everyone.
    scope = Scope(public=Q(status__in=PUBLISHED), everyone=False)


class PublicityEntry(Application):
    """An application as the publicity list shows it (the same row, read through the public scope)."""

    objects = PublicityQuerySet.as_manager()

    class Meta:
        proxy = True
        verbose_name = _("公示名单")
        verbose_name_plural = _("公示名单")
