from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.choices import RegionLevel
from accounts.models import Region
from core.models import TimeStampedModel
from core.scoping import Scope, ScopedQuerySet

from .choices import EntityKind, InstitutionStatus, ListAction, ListBatchStatus, Ownership
from .validators import validate_credit_code

MONEY = {"max_digits": 16, "decimal_places": 2}  # 万元, 2 decimals


class InstitutionQuerySet(ScopedQuerySet):
    scope = Scope(region="region_id", institution="id")


class Institution(TimeStampedModel):
    """A financing-guarantee company (legal entity) or one of its branches."""

    name = models.CharField(_("机构名称"), max_length=200)
    credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[validate_credit_code]
    )
    kind = models.CharField(_("机构类型"), max_length=16, choices=EntityKind.choices, default=EntityKind.LEGAL_ENTITY)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级法人机构"), null=True, blank=True, on_delete=models.PROTECT, related_name="branches"
    )
    cross_province_branch = models.BooleanField(_("跨省分支机构"), default=False)
    region = models.ForeignKey(Region, verbose_name=_("注册地"), on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("机构层级"), max_length=8, choices=RegionLevel.choices)
    ownership = models.CharField(_("所有制"), max_length=16, choices=Ownership.choices, default=Ownership.STATE)
    registered_capital = models.DecimalField(_("注册资本（万元）"), **MONEY, validators=[MinValueValidator(0)])
    paid_in_capital = models.DecimalField(_("实缴资本（万元）"), **MONEY, validators=[MinValueValidator(0)])
    established_on = models.DateField(_("成立日期"), null=True, blank=True)
    legal_representative = models.CharField(_("法定代表人"), max_length=64, blank=True)
    address = models.CharField(_("住所"), max_length=255, blank=True)
    status = models.CharField(
        _("经营状态"), max_length=16, choices=InstitutionStatus.choices, default=InstitutionStatus.OPERATING
    )
    is_reguarantee = models.BooleanField(_("再担保机构"), default=False)
    credit_reference_access = models.BooleanField(_("已接入征信系统"), default=False)
    staff_count = models.PositiveIntegerField(_("从业人员数"), null=True, blank=True)

    objects = InstitutionQuerySet.as_manager()

    class Meta:
        ordering = ["region_id", "name"]
        verbose_name = _("融资担保机构")
        verbose_name_plural = _("融资担保机构")
        indexes = [models.Index(fields=["region", "status"]), models.Index(fields=["name"])]
        constraints = [
            models.CheckConstraint(
                name="branch_has_parent",
                condition=models.Q(kind=EntityKind.LEGAL_ENTITY, parent__isnull=True)
                | models.Q(kind=EntityKind.BRANCH, parent__isnull=False),
            )
        ]

    def __str__(self):
        return self.name


class GovListBatchQuerySet(ScopedQuerySet):
    scope = Scope(region="region_id", public=models.Q(status=ListBatchStatus.CONFIRMED))


class GovListBatch(TimeStampedModel):
    """One publication of the government-backed institution list (政府性融资担保机构名单): the entries it
    includes or removes take effect on `published_on` once the batch is confirmed."""

    region = models.ForeignKey(Region, verbose_name=_("名单所属地区"), on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("批次名称"), max_length=200)
    published_on = models.DateField(_("发布日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=ListBatchStatus.choices, default=ListBatchStatus.DRAFT)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("提出人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("确认人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    objects = GovListBatchQuerySet.as_manager()

    class Meta:
        ordering = ["-published_on", "-id"]
        verbose_name = _("政府性融资担保机构名单批次")
        verbose_name_plural = _("政府性融资担保机构名单批次")

    def __str__(self):
        return self.title


class GovListEntryQuerySet(ScopedQuerySet):
    scope = Scope(
        region="institution__region_id", institution="institution_id",
        public=models.Q(batch__status=ListBatchStatus.CONFIRMED),
    )


class GovListEntry(models.Model):
    """An institution included in or removed from the list by one batch, with the four flags."""

    batch = models.ForeignKey(GovListBatch, verbose_name=_("批次"), on_delete=models.CASCADE, related_name="entries")
    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.PROTECT, related_name="gov_list_entries")
    action = models.CharField(_("变动"), max_length=8, choices=ListAction.choices, default=ListAction.INCLUDE)
    reason = models.TextField(_("理由"), blank=True)
    capital_replenishment = models.BooleanField(_("建立资本金持续补充机制"), default=False)
    risk_compensation = models.BooleanField(_("建立风险补偿机制"), default=False)
    national_fund_equity = models.BooleanField(_("国家融资担保基金股权投资"), default=False)
    national_fund_reguarantee = models.BooleanField(_("与国家融资担保基金开展再担保合作"), default=False)

    objects = GovListEntryQuerySet.as_manager()

    class Meta:
        ordering = ["batch", "institution__name"]
        constraints = [models.UniqueConstraint(fields=["batch", "institution"], name="one_entry_per_batch")]
        verbose_name = _("名单条目")
        verbose_name_plural = _("名单条目")

    def __str__(self):
        return f"{self.batch}: {self.get_action_display()} {self.institution}"
