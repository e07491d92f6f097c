"""Loan-level guarantee records (担保业务明细): clients, guarantees, their events, and the batches that
load them. Balances in force on a date follow from the events (GuaranteeQuerySet.with_balance)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from accounts.models import Region
from core.models import TimeStampedModel
from core.policy import PolicyRow
from core.scoping import Scope, ScopedQuerySet
from institutions.models import MONEY, RATIO, Agreement, Bank, Institution

from .choices import (
    BALANCE_REDUCING,
    BatchStatus,
    Channel,
    ClientType,
    CounterGuarantee,
    EventKind,
    IdKind,
    MagnitudeColumn,
)
from .identifiers import masked_id

FEE_RATE = {"max_digits": 9, "decimal_places": 6}  # fractions: 0.012500 = 1.25 %
BALANCE_FIELD = DecimalField(max_digits=18, decimal_places=2)
INSTITUTION_SCOPE = Scope(region="institution__region_id", institution="institution_id")


class ReferenceQuerySet(ScopedQuerySet):
    scope = Scope(everyone=True)


class ProductLine(models.Model):
    """业务品种: a line of guarantee business that subsidy schemes and reports tell apart. Rows, not
    choices: a finance bureau's scheme can name a new line without a code change."""

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name_zh = models.CharField(_("名称"), max_length=100, unique=True)
    name_en = models.CharField(_("英文名称"), max_length=100)
    source = models.CharField(_("依据"), max_length=300)
    ordering = models.PositiveSmallIntegerField(_("排序"), default=0)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        ordering = ["ordering", "code"]
        verbose_name = _("业务品种")
        verbose_name_plural = _("业务品种")

    def __str__(self) -> str:
        return self.name_zh


class MagnitudeRule(PolicyRow):
    """量级核对: a value above `limit` in one column of a batch gives a warning the filer must confirm
    (an amount in 元 where 万元 is asked, a rate written as a percentage). One policy per column; the
    rule of the institution's region in force on the day of the check governs."""

    policy_key = "column"

    column = models.CharField(_("列"), max_length=32, choices=MagnitudeColumn.choices)
    limit = models.DecimalField(_("核对上限"), max_digits=18, decimal_places=6)

    class Meta(PolicyRow.Meta):
        ordering = ["column", "region_code", "-effective_from"]
        constraints = [
            *PolicyRow.Meta.constraints,
            models.UniqueConstraint(
                fields=["column", "region_code", "effective_from"], name="one_magnitude_rule_per_region_start"
            ),
        ]
        verbose_name = _("量级核对规则")
        verbose_name_plural = _("量级核对规则")

    def __str__(self) -> str:
        return f"{self.get_column_display()} > {self.limit} {self.region_code or _('全国')}"


class ImportBatchQuerySet(ScopedQuerySet):
    scope = INSTITUTION_SCOPE


class ImportBatch(models.Model):
    """One batch of guarantee and event rows from one channel, validated as a whole and committed all or
    nothing. Findings keep sheet, row, column and a message (at most MAX_FINDINGS of them)."""

    MAX_FINDINGS = 1000

    institution = models.ForeignKey(
        Institution, verbose_name=_("担保机构"), on_delete=models.PROTECT, related_name="guarantee_batches"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("报送人"), on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("报送渠道"), max_length=16, choices=Channel.choices)
    source_name = models.CharField(_("来源文件"), max_length=255, blank=True)
    # what was sent (a workbook, a CSV, a zip of CSV files, or the API's JSON): the background job reads
    # it, and the error report is drawn in its layout
    source_file = models.FileField(_("报送文件"), upload_to="guarantee_batches/%Y/%m/", blank=True)
    job = models.ForeignKey(
        "core.Job",
        verbose_name=_("后台任务"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=BatchStatus.choices, default=BatchStatus.STAGED
    )
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    guarantee_rows = models.PositiveIntegerField(_("担保明细行数"), default=0)
    event_rows = models.PositiveIntegerField(_("担保事件行数"), default=0)
    error_count = models.PositiveIntegerField(_("错误数"), default=0)
    warning_count = models.PositiveIntegerField(_("提示数"), default=0)
    findings = models.JSONField(_("校验结果"), default=list, blank=True)
    warnings_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提示确认人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    warnings_confirmed_at = models.DateTimeField(_("提示确认时间"), null=True, blank=True)
    clients_created = models.PositiveIntegerField(_("新增客户数"), default=0)
    clients_updated = models.PositiveIntegerField(_("更新客户数"), default=0)
    guarantees_created = models.PositiveIntegerField(_("新增担保笔数"), default=0)
    guarantees_updated = models.PositiveIntegerField(_("更新担保笔数"), default=0)
    events_created = models.PositiveIntegerField(_("新增事件数"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    committed_at = models.DateTimeField(_("入库时间"), null=True, blank=True)

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["institution", "-created_at"])]
        verbose_name = _("担保明细批次")
        verbose_name_plural = _("担保明细批次")

    def __str__(self) -> str:
        return f"{self.institution} #{self.pk} {self.get_status_display()}"


class ClientQuerySet(ScopedQuerySet):
    scope = INSTITUTION_SCOPE


class Client(TimeStampedModel):
    """A borrower of one institution. Organisations are keyed by their credit code; natural persons by
    the keyed hash of their ID number (see identifiers.py), so the same borrower groups across
    institutions by (id_kind, id_key) while no one can read the number back."""

    institution = models.ForeignKey(
        Institution, verbose_name=_("担保机构"), on_delete=models.PROTECT, related_name="guarantee_clients"
    )
    name = models.CharField(_("客户名称"), max_length=200)
    client_type = models.CharField(_("客户类型"), max_length=24, choices=ClientType.choices)
    id_kind = models.CharField(_("证件类型"), max_length=16, choices=IdKind.choices)
    id_key = models.CharField(
        _("证件标识"), max_length=64, help_text=_("统一社会信用代码，或身份证号码的密钥散列")
    )
    id_last4 = models.CharField(_("身份证号码后四位"), max_length=4, blank=True)
    industry = models.CharField(_("所属行业"), max_length=64, blank=True)
    region = models.ForeignKey(
        Region, verbose_name=_("所在地区"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    group_name = models.CharField(
        _("所属集团（关联方）"), max_length=200, blank=True, help_text=_("同一集团的客户合并计算集团集中度")
    )

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["institution", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "id_kind", "id_key"], name="one_client_per_identity"
            ),
            models.CheckConstraint(
                name="person_keeps_last_four_only",
                condition=Q(id_kind=IdKind.CREDIT_CODE, id_last4="")
                | Q(id_kind=IdKind.RESIDENT_ID, id_key__regex=r"^[0-9a-f]{64}$", id_last4__regex=r"^.{4}$"),
            ),
        ]
        indexes = [models.Index(fields=["id_kind", "id_key"])]
        verbose_name = _("担保客户")
        verbose_name_plural = _("担保客户")

    def __str__(self) -> str:
        return f"{self.display_name}（{self.masked_identifier}）"

    @property
    def is_person(self) -> bool:
        return self.id_kind == IdKind.RESIDENT_ID

    @property
    def display_name(self) -> str:
        """A natural person's name shows its first character only (张**); an organisation's in full."""
        return self.name[:1] + "*" * (len(self.name) - 1) if self.is_person else self.name

    @property
    def masked_identifier(self) -> str:
        return masked_id(self.id_last4) if self.is_person else self.id_key


class GuaranteeQuerySet(ScopedQuerySet):
    scope = INSTITUTION_SCOPE

    def with_balance(self, on: dt.date) -> GuaranteeQuerySet:
        """Annotate `balance`: the guaranteed amount less releases and compensated principal dated on or
        before `on` (the guarantor's liability ends when the loan is repaid or when it pays in its place)."""
        reduced = (
            GuaranteeEvent.objects.filter(
                guarantee=OuterRef("pk"), kind__in=BALANCE_REDUCING, occurred_on__lte=on
            )
            .order_by()
            .values("guarantee")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        return self.annotate(
            balance=models.ExpressionWrapper(
                models.F("guaranteed_amount")
                - Coalesce(
                    Subquery(reduced, output_field=BALANCE_FIELD),
                    Value(Decimal(0)),
                    output_field=BALANCE_FIELD,
                ),
                output_field=BALANCE_FIELD,
            )
        )

    def in_force(self, on: dt.date) -> GuaranteeQuerySet:
        """Guarantees started on or before `on` with a positive balance on that day."""
        return self.with_balance(on).filter(start_date__lte=on, balance__gt=0)


class Guarantee(TimeStampedModel):
    """One financing guarantee of a loan (借款类融资担保), keyed by its contract number within the
    institution: a batch that sends a stored contract number updates that guarantee."""

    institution = models.ForeignKey(
        Institution, verbose_name=_("担保机构"), on_delete=models.PROTECT, related_name="guarantees"
    )
    client = models.ForeignKey(
        Client, verbose_name=_("客户"), on_delete=models.PROTECT, related_name="guarantees"
    )
    contract_no = models.CharField(_("担保合同编号"), max_length=64)
    bank = models.ForeignKey(
        Bank, verbose_name=_("贷款银行"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    other_lender = models.CharField(_("其他债权人"), max_length=200, blank=True)
    loan_amount = models.DecimalField(_("借款金额（万元）"), **MONEY)
    guaranteed_amount = models.DecimalField(_("担保金额（万元）"), **MONEY)
    start_date = models.DateField(_("起始日期"))
    end_date = models.DateField(_("到期日期"))
    fee_rate = models.DecimalField(_("年化担保费率"), **FEE_RATE)
    fee_amount = models.DecimalField(_("担保费（万元）"), **MONEY)
    product_line = models.ForeignKey(
        ProductLine, verbose_name=_("业务品种"), on_delete=models.PROTECT, related_name="+"
    )
    gov_backed = models.BooleanField(_("政府性融资担保业务"), default=False)
    batch_zdz = models.BooleanField(_("银担“总对总”批量担保"), default=False)
    agreement = models.ForeignKey(
        Agreement,
        verbose_name=_("银担合作协议"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="guarantees",
        help_text=_("入库时按贷款银行和起始日期匹配本机构在有效期内的协议"),
    )
    reguarantee_provincial_share = models.DecimalField(_("省级再担保分险比例"), **RATIO, default=Decimal(0))
    national_fund_share = models.DecimalField(_("国家融资担保基金分险比例"), **RATIO, default=Decimal(0))
    counter_guarantee = models.CharField(
        _("反担保方式"), max_length=16, choices=CounterGuarantee.choices, default=CounterGuarantee.NONE
    )
    import_batch = models.ForeignKey(
        ImportBatch,
        verbose_name=_("最近写入批次"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="guarantees",
    )

    objects = GuaranteeQuerySet.as_manager()

    class Meta:
        ordering = ["institution", "-start_date", "contract_no"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "contract_no"], name="one_contract_per_institution"
            ),
            models.CheckConstraint(
                name="guarantee_ends_after_start", condition=Q(end_date__gte=models.F("start_date"))
            ),
            models.CheckConstraint(
                name="guarantee_amounts_not_negative",
                condition=Q(loan_amount__gte=0, guaranteed_amount__gte=0, fee_amount__gte=0, fee_rate__gte=0),
            ),
            models.CheckConstraint(
                name="one_lender",
                condition=Q(bank__isnull=False, other_lender="") | Q(bank__isnull=True) & ~Q(other_lender=""),
            ),
        ]
        # the records list pages by keyset (start_date, id) newest first within an institution
        indexes = [models.Index(fields=["institution", "-start_date", "-id"], name="guarantee_records_page")]
        verbose_name = _("担保业务")
        verbose_name_plural = _("担保业务")

    def __str__(self) -> str:
        return self.contract_no

    @property
    def lender_name(self) -> str:
        return self.bank.name if self.bank_id else self.other_lender


class GuaranteeEventQuerySet(ScopedQuerySet):
    scope = Scope(region="guarantee__institution__region_id", institution="guarantee__institution_id")


class GuaranteeEvent(models.Model):
    """解保, 代偿, 追偿 or 核销 on one guarantee. `amount` is the principal for a compensation, whose
    interest paid is kept apart. The same (guarantee, kind, date, amount) is one event, however often sent."""

    guarantee = models.ForeignKey(
        Guarantee, verbose_name=_("担保业务"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("事件类型"), max_length=16, choices=EventKind.choices)
    occurred_on = models.DateField(_("发生日期"))
    amount = models.DecimalField(_("金额（万元）"), **MONEY)
    interest = models.DecimalField(_("代偿利息（万元）"), **MONEY, default=Decimal(0))
    import_batch = models.ForeignKey(
        ImportBatch,
        verbose_name=_("写入批次"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = GuaranteeEventQuerySet.as_manager()

    class Meta:
        ordering = ["guarantee", "occurred_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["guarantee", "kind", "occurred_on", "amount"], name="one_event"),
            models.CheckConstraint(
                name="event_amounts_not_negative", condition=Q(amount__gte=0, interest__gte=0)
            ),
            models.CheckConstraint(
                name="interest_only_on_compensation",
                condition=Q(kind=EventKind.COMPENSATION) | Q(interest=0),
            ),
        ]
        indexes = [models.Index(fields=["kind", "occurred_on"])]
        verbose_name = _("担保事件")
        verbose_name_plural = _("担保事件")

    def __str__(self) -> str:
        return f"{self.guarantee} {self.get_kind_display()} {self.occurred_on} {self.amount}"


# 总对总 batches live in their own module; imported here so that Django registers them with the app.
from .bank_batches import BankBatch, BankBatchRow  # noqa: E402, F401
