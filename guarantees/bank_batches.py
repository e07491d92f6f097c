"""银担“总对总” batches: a bank's list of the guarantees it holds under its head-office agreements,
uploaded by a regulator (banks have no login) and matched with the companies' records by institution
credit code and contract number. Rows of the batch without a record, and the companies' 总对总 records
of that bank without a row, are the two sides of the differences.

Kept apart from models.py (imported at its end) so that the record models and these evolve separately."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Region
from core.scoping import Scope, ScopedQuerySet
from institutions.models import MONEY, Bank, Institution

from .models import Guarantee


class MatchStatus(models.TextChoices):
    MATCHED = "matched", _("一致")
    AMOUNT_DIFFERS = "amount_differs", _("金额不符")
    NO_RECORD = "no_record", _("机构无此记录")


class BankBatchQuerySet(ScopedQuerySet):
    # the regulators of the uploader's jurisdiction (and below it) read a batch; companies do not
    scope = Scope(region="region_id")


class BankBatch(models.Model):
    bank = models.ForeignKey(Bank, verbose_name=_("银行"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(
        Region, verbose_name=_("辖区"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    as_of = models.DateField(_("数据截至日"))
    source_name = models.CharField(_("来源文件"), max_length=255, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    rows = models.PositiveIntegerField(_("批次行数"), default=0)
    matched = models.PositiveIntegerField(_("一致"), default=0)
    amount_differs = models.PositiveIntegerField(_("金额不符"), default=0)
    no_record = models.PositiveIntegerField(_("机构无此记录"), default=0)
    missing_from_batch = models.PositiveIntegerField(_("批次缺少的机构记录"), default=0)

    objects = BankBatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("银担总对总批次")
        verbose_name_plural = _("银担总对总批次")

    def __str__(self) -> str:
        return f"{self.bank} {self.as_of}"


class BankBatchRowQuerySet(ScopedQuerySet):
    scope = Scope(region="batch__region_id")


class BankBatchRow(models.Model):
    batch = models.ForeignKey(BankBatch, on_delete=models.CASCADE, related_name="batch_rows")
    row_number = models.PositiveIntegerField(_("行号"))
    credit_code = models.CharField(_("担保机构统一社会信用代码"), max_length=18)
    contract_no = models.CharField(_("担保合同编号"), max_length=64)
    borrower = models.CharField(_("借款人名称"), max_length=200)
    loan_amount = models.DecimalField(_("借款金额（万元）"), **MONEY)
    guaranteed_amount = models.DecimalField(_("担保金额（万元）"), **MONEY)
    start_date = models.DateField(_("起始日期"))
    end_date = models.DateField(_("到期日期"))
    institution = models.ForeignKey(
        Institution,
        verbose_name=_("担保机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    guarantee = models.ForeignKey(
        Guarantee,
        verbose_name=_("机构记录"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(_("核对结果"), max_length=16, choices=MatchStatus.choices)

    objects = BankBatchRowQuerySet.as_manager()

    class Meta:
        ordering = ["batch", "row_number"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "credit_code", "contract_no"], name="one_bank_batch_row")
        ]
        indexes = [models.Index(fields=["batch", "status"])]
        verbose_name = _("总对总批次明细")
        verbose_name_plural = _("总对总批次明细")

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row_number} {self.contract_no}"
