from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from accounts.choices import RegionLevel
from accounts.models import Region
from core.models import TimeStampedModel
from core.policy import PolicyRow
from core.roles import Role
from core.scoping import Scope, ScopedQuerySet

from .choices import (
    BankKind,
    ChangeFilingStatus,
    ChangeItem,
    CompensationScope,
    DutyKind,
    EntityKind,
    InstitutionStatus,
    LicenceStatus,
    ListAction,
    ListBatchStatus,
    ManagerRole,
    NoticeKind,
    NoticeStatus,
    Ownership,
    RuleCode,
    Severity,
    ShareholderKind,
)
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
    kind = models.CharField(
        _("机构类型"), max_length=16, choices=EntityKind.choices, default=EntityKind.LEGAL_ENTITY
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级法人机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="branches",
    )
    cross_province_branch = models.BooleanField(_("跨省分支机构"), default=False)
    region = models.ForeignKey(Region, verbose_name=_("注册地"), on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("机构层级"), max_length=8, choices=RegionLevel.choices)
    ownership = models.CharField(
        _("所有制"), max_length=16, choices=Ownership.choices, default=Ownership.STATE
    )
    registered_capital = models.DecimalField(
        _("注册资本（万元）"), **MONEY, validators=[MinValueValidator(0)]
    )
    paid_in_capital = models.DecimalField(_("实缴资本（万元）"), **MONEY, validators=[MinValueValidator(0)])
    established_on = models.DateField(_("成立日期"), null=True, blank=True)
    legal_representative = models.CharField(_("法定代表人"), max_length=64, blank=True)
    address = models.CharField(_("住所"), max_length=255, blank=True)
    status = models.CharField(
        _("经营状态"), max_length=16, choices=InstitutionStatus.choices, default=InstitutionStatus.OPERATING
    )
    # when the company stopped operating (or changed status): a quarter ending before it was still due
    status_changed_on = models.DateField(
        _("状态变更日期"),
        null=True,
        blank=True,
        help_text=_("当前经营状态的起始日期；注销、退出或暂停业务前结束的季度仍须报送"),
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

    @property
    def may_receive_licence(self) -> bool:
        """An exiting or deregistered institution is issued no new licence."""
        return self.status not in (InstitutionStatus.EXITING, InstitutionStatus.DEREGISTERED)


class StatusChangeQuerySet(ScopedQuerySet):
    scope = Scope(region="institution__region_id", institution="institution_id")

    def on(self, day):
        """The changes in effect on `day` (those without a date count as always), the latest first."""
        return self.filter(models.Q(effective_on__lte=day) | models.Q(effective_on__isnull=True)).order_by(
            models.F("effective_on").desc(nulls_last=True), "-pk"
        )


class StatusChange(models.Model):
    """One change of a company's operating status and the day it took effect (None: not known; the status
    counts as always held). A company's status on a day is that of its latest change on or before it;
    before its first change it was operating, and one with no change recorded has always had its present
    status (`Institution.status`, which is always the latest)."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(_("经营状态"), max_length=16, choices=InstitutionStatus.choices)
    effective_on = models.DateField(_("生效日期"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = StatusChangeQuerySet.as_manager()

    class Meta:
        ordering = [models.F("effective_on").asc(nulls_first=True), "pk"]
        verbose_name = _("经营状态变更")
        verbose_name_plural = _("经营状态变更")
        indexes = [models.Index(fields=["institution", "effective_on"])]

    def __str__(self):
        return f"{self.institution_id} {self.status} {self.effective_on}"

    @staticmethod
    def status_on(day) -> models.Expression:
        """The status of the institution of the outer query (`OuterRef("pk")`) on `day`, as an expression."""
        changes = StatusChange.objects.filter(institution=models.OuterRef("pk"))
        return Coalesce(
            models.Subquery(changes.on(day).values("status")[:1]),
            models.Case(
                models.When(models.Exists(changes), then=models.Value(InstitutionStatus.OPERATING)),
                default=models.F("status"),
            ),
        )


class GovListBatchQuerySet(ScopedQuerySet):
    # Kept by the finance bureau and the regulator together: either side changes its region's batches.
    scope = Scope(
        region="region_id",
        public=models.Q(status=ListBatchStatus.CONFIRMED),
        change_roles=(Role.REGULATOR, Role.FINANCE),
    )


class GovListBatch(TimeStampedModel):
    """One publication of the government-backed institution list (政府性融资担保机构名单): the entries it
    includes or removes take effect on `published_on` once the batch is confirmed."""

    region = models.ForeignKey(
        Region, verbose_name=_("名单所属地区"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("批次名称"), max_length=200)
    published_on = models.DateField(_("发布日期"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=ListBatchStatus.choices, default=ListBatchStatus.DRAFT
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提出人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    proposed_at = models.DateTimeField(_("提交确认时间"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)

    objects = GovListBatchQuerySet.as_manager()

    class Meta:
        ordering = ["-published_on", "-id"]
        verbose_name = _("政府性融资担保机构名单批次")
        verbose_name_plural = _("政府性融资担保机构名单批次")

    def __str__(self):
        return self.title


class GovListEntryQuerySet(ScopedQuerySet):
    scope = Scope(
        region="institution__region_id",
        institution="institution_id",
        public=models.Q(batch__status=ListBatchStatus.CONFIRMED),
        change_roles=(Role.REGULATOR, Role.FINANCE),
        change_region="batch__region_id",  # an entry is changed with its batch
    )


class GovListEntry(models.Model):
    """An institution included in or removed from the list by one batch, with the four flags."""

    batch = models.ForeignKey(
        GovListBatch, verbose_name=_("批次"), on_delete=models.CASCADE, related_name="entries"
    )
    institution = models.ForeignKey(
        Institution, verbose_name=_("机构"), on_delete=models.PROTECT, related_name="gov_list_entries"
    )
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


RATIO = {"max_digits": 7, "decimal_places": 4}  # fractions: 0.2000 = 20%


class PolicyRule(PolicyRow):
    """One policy parameter (threshold, ratio, required value) with the region it applies to (none =
    national), its severity, effective period and source. The most specific region wins."""

    policy_key = "code"

    code = models.CharField(_("规则"), max_length=32, choices=RuleCode.choices)
    severity = models.CharField(_("严重程度"), max_length=8, choices=Severity.choices)
    value = models.DecimalField(_("参数值"), max_digits=18, decimal_places=4, null=True, blank=True)
    text_value = models.CharField(_("参数文本"), max_length=100, blank=True)

    class Meta(PolicyRow.Meta):
        ordering = ["code", "region_code", "-effective_from"]
        constraints = [
            *PolicyRow.Meta.constraints,
            models.UniqueConstraint(
                fields=["code", "region_code", "effective_from"], name="one_rule_per_region_start"
            ),
        ]
        verbose_name = _("政策规则参数")
        verbose_name_plural = _("政策规则参数")

    def __str__(self):
        return f"{self.get_code_display()} {self.region_code or _('全国')} {self.value if self.value is not None else self.text_value}"


class ProvinceLicenceSetting(PolicyRow):
    """Per-province licence rules: number pattern and the duties and appeal periods after a revocation
    (region_code is the province's code)."""

    abbreviation = models.CharField(_("省份简称"), max_length=2)
    number_pattern = models.CharField(_("许可证编号格式（正则）"), max_length=120)
    issuing_authority = models.CharField(_("发证机关"), max_length=120)
    announce_days = models.PositiveSmallIntegerField(_("公告期限（天）"))
    return_days = models.PositiveSmallIntegerField(_("交回许可证期限（天）"))
    market_regulator_days = models.PositiveSmallIntegerField(_("申请市场监管变更/注销期限（天）"))
    reconsideration_days = models.PositiveSmallIntegerField(_("行政复议期限（天）"))
    lawsuit_months = models.PositiveSmallIntegerField(_("行政诉讼期限（月）"))
    reconsideration_body = models.CharField(_("复议机关"), max_length=120, blank=True)
    court = models.CharField(_("管辖法院"), max_length=120, blank=True)

    class Meta(PolicyRow.Meta):
        ordering = ["region_code", "-effective_from"]
        constraints = [
            *PolicyRow.Meta.constraints,
            models.UniqueConstraint(
                fields=["region_code", "effective_from"], name="one_licence_setting_per_region_start"
            ),
        ]
        verbose_name = _("许可证省级设置")
        verbose_name_plural = _("许可证省级设置")

    def __str__(self):
        return f"{self.region_code} {self.abbreviation} ({self.effective_from})"


class LicenceQuerySet(ScopedQuerySet):
    # The register of licences is public by law (notices publish them); the regulators of the holder's
    # jurisdiction change them (and only the provincial one issues, cancels or revokes: permissions.py).
    scope = Scope(
        region="institution__region_id", institution="institution_id", public=models.Q(pk__isnull=False)
    )


class Licence(TimeStampedModel):
    """融资担保业务经营许可证. Issued, changed (number kept), cancelled (注销) or revoked (吊销)."""

    number = models.CharField(_("许可证编号"), max_length=32, unique=True)
    institution = models.ForeignKey(
        Institution, verbose_name=_("持证机构"), on_delete=models.PROTECT, related_name="licences"
    )
    issuing_authority = models.CharField(_("发证机关"), max_length=120)
    issued_on = models.DateField(_("发证日期"), null=True, blank=True)
    business_scope = models.TextField(_("业务范围"), blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=LicenceStatus.choices, default=LicenceStatus.VALID
    )
    cancelled_on = models.DateField(_("注销日期"), null=True, blank=True)
    cancel_reason = models.CharField(_("注销原因"), max_length=255, blank=True)
    revoked_on = models.DateField(_("吊销日期"), null=True, blank=True)
    revocation_decision_no = models.CharField(_("吊销决定文号"), max_length=100, blank=True)
    revocation_reason = models.CharField(_("吊销原因"), max_length=255, blank=True)

    objects = LicenceQuerySet.as_manager()

    class Meta:
        ordering = ["number"]
        verbose_name = _("融资担保业务经营许可证")
        verbose_name_plural = _("融资担保业务经营许可证")
        indexes = [models.Index(fields=["institution", "status"])]

    def __str__(self):
        return self.number


class LicenceDutyQuerySet(ScopedQuerySet):
    scope = Scope(region="licence__institution__region_id", institution="licence__institution_id")


class LicenceDuty(models.Model):
    """A deadline the holder of a revoked licence must meet (or may use, for appeals)."""

    licence = models.ForeignKey(
        Licence, verbose_name=_("许可证"), on_delete=models.CASCADE, related_name="duties"
    )
    kind = models.CharField(_("事项"), max_length=20, choices=DutyKind.choices)
    due_on = models.DateField(_("期限"))
    done_on = models.DateField(_("完成日期"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=255, blank=True)

    objects = LicenceDutyQuerySet.as_manager()

    class Meta:
        ordering = ["licence", "due_on", "kind"]
        constraints = [models.UniqueConstraint(fields=["licence", "kind"], name="one_duty_per_kind")]
        verbose_name = _("吊销后义务")
        verbose_name_plural = _("吊销后义务")

    def __str__(self):
        return f"{self.licence}: {self.get_kind_display()} {self.due_on}"

    @property
    def is_right(self) -> bool:
        return self.kind in (DutyKind.RECONSIDERATION, DutyKind.LAWSUIT)

    def state(self, today) -> str:
        """done; open up to and including the due day; after it, an unmet duty is overdue, while an
        unused right of appeal has lapsed (期限已届满): nothing is missing, the period has simply run out."""
        if self.done_on:
            return "done"
        if today <= self.due_on:
            return "open"
        return "lapsed" if self.is_right else "overdue"


class NoticeQuerySet(ScopedQuerySet):
    # Published notices are everyone's to read; only the regulators and finance bureaus of the region edit.
    scope = Scope(
        region="region_id",
        public=models.Q(status=NoticeStatus.PUBLISHED),
        change_roles=(Role.REGULATOR, Role.FINANCE),
    )


class Notice(TimeStampedModel):
    """公告: generated from licence actions and list changes; public once published, at a stable URL."""

    region = models.ForeignKey(Region, verbose_name=_("发布地区"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("公告类型"), max_length=16, choices=NoticeKind.choices)
    title = models.CharField(_("标题"), max_length=255)
    document_no = models.CharField(_("文号"), max_length=100, blank=True)
    issuing_body = models.CharField(_("发布机关"), max_length=120)
    published_on = models.DateField(_("公告日期"), null=True, blank=True)
    period_label = models.CharField(
        _("公告期间"), max_length=60, blank=True, help_text=_("公告未载明日期时填写，如“2020年7-9月”")
    )
    body = models.TextField(_("正文"), blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=NoticeStatus.choices, default=NoticeStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-published_on", "-id"]
        verbose_name = _("公告")
        verbose_name_plural = _("公告")

    def __str__(self):
        return self.title


class NoticeItemQuerySet(ScopedQuerySet):
    scope = Scope(
        region="notice__region_id",
        public=models.Q(notice__status=NoticeStatus.PUBLISHED),
        change_roles=(Role.REGULATOR, Role.FINANCE),
    )


class NoticeItem(models.Model):
    """One row of a notice's table: the company and licence number as published."""

    notice = models.ForeignKey(Notice, verbose_name=_("公告"), on_delete=models.CASCADE, related_name="items")
    seq = models.PositiveIntegerField(_("序号"))
    institution = models.ForeignKey(
        Institution, verbose_name=_("机构"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    licence = models.ForeignKey(
        Licence,
        verbose_name=_("许可证"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notice_items",
    )
    institution_name = models.CharField(_("机构名称"), max_length=200)
    licence_number = models.CharField(_("许可证编号"), max_length=32, blank=True)
    remark = models.CharField(_("备注"), max_length=255, blank=True)

    objects = NoticeItemQuerySet.as_manager()

    class Meta:
        ordering = ["notice", "seq"]
        constraints = [models.UniqueConstraint(fields=["notice", "seq"], name="notice_item_seq")]
        verbose_name = _("公告条目")
        verbose_name_plural = _("公告条目")

    def __str__(self):
        return f"{self.seq}. {self.institution_name} {self.licence_number}"


class BankQuerySet(ScopedQuerySet):
    scope = Scope(everyone=True)


class Bank(TimeStampedModel):
    name = models.CharField(_("银行名称"), max_length=200, unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=BankKind.choices, default=BankKind.HEAD_OFFICE)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("总行"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="branches",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("所在地区"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = BankQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("银行")
        verbose_name_plural = _("银行")

    def __str__(self):
        return self.name


class AgreementQuerySet(ScopedQuerySet):
    scope = Scope(region="institution__region_id", institution="institution_id", company_changes=True)


class Agreement(TimeStampedModel):
    """银担合作协议: how a bank and a guarantee company share the risk of guaranteed loans."""

    institution = models.ForeignKey(
        Institution, verbose_name=_("担保机构"), on_delete=models.PROTECT, related_name="agreements"
    )
    bank = models.ForeignKey(
        Bank, verbose_name=_("合作银行"), on_delete=models.PROTECT, related_name="agreements"
    )
    starts_on = models.DateField(_("起始日期"))
    ends_on = models.DateField(_("到期日期"))
    credit_line = models.DecimalField(_("授信额度（万元）"), **MONEY, validators=[MinValueValidator(0)])
    share_bank = models.DecimalField(_("银行分担比例"), **RATIO, validators=[MinValueValidator(0)])
    share_guarantor = models.DecimalField(_("担保机构分担比例"), **RATIO, validators=[MinValueValidator(0)])
    share_reguarantor = models.DecimalField(
        _("再担保机构分担比例"), **RATIO, default=0, validators=[MinValueValidator(0)]
    )
    share_national_fund = models.DecimalField(
        _("国家融资担保基金分担比例"), **RATIO, default=0, validators=[MinValueValidator(0)]
    )
    share_gov_fund = models.DecimalField(
        _("政府风险补偿资金分担比例"), **RATIO, default=0, validators=[MinValueValidator(0)]
    )
    margin_ratio = models.DecimalField(_("保证金比例"), **RATIO, default=0, validators=[MinValueValidator(0)])
    grace_days = models.PositiveIntegerField(_("代偿宽限期（天）"), default=0)
    compensation_scope = models.CharField(_("代偿范围"), max_length=20, choices=CompensationScope.choices)
    head_to_head = models.BooleanField(_("总对总批量担保"), default=False)
    compensation_rate_cap = models.DecimalField(_("代偿率上限"), **RATIO, null=True, blank=True)
    single_client_limit = models.DecimalField(_("单户上限（万元）"), **MONEY, null=True, blank=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["ends_on", "id"]
        verbose_name = _("银担合作协议")
        verbose_name_plural = _("银担合作协议")

    def __str__(self):
        return f"{self.bank} — {self.institution}"

    @property
    def share_total(self):
        return (
            self.share_bank
            + self.share_guarantor
            + self.share_reguarantor
            + self.share_national_fund
            + self.share_gov_fund
        )

    def clean(self):
        from django.core.exceptions import ValidationError

        errors = {}
        if None not in (self.share_bank, self.share_guarantor) and self.share_total != 1:
            from .rules import pct

            errors["share_bank"] = _("各方分担比例之和须恰为100%%，当前为%(total)s。") % {
                "total": pct(self.share_total)
            }
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("到期日期早于起始日期。")
        if errors:
            raise ValidationError(errors)


class ShareholderQuerySet(ScopedQuerySet):
    scope = Scope(region="institution__region_id", institution="institution_id", company_changes=True)


class Shareholder(TimeStampedModel):
    """A shareholder holding 5% or more, with the controlling-shareholder and actual-controller flags."""

    institution = models.ForeignKey(
        Institution, verbose_name=_("机构"), on_delete=models.CASCADE, related_name="shareholders"
    )
    name = models.CharField(_("股东名称"), max_length=200)
    kind = models.CharField(
        _("股东类型"), max_length=16, choices=ShareholderKind.choices, default=ShareholderKind.COMPANY
    )
    # An organisation's credit code is public and kept as is; a natural person's ID number is never
    # stored: only its keyed hash (core.identifiers, the same key as guarantee clients', so REL-01 can
    # match a shareholder to a client) and its last four characters.
    identifier = models.CharField(_("统一社会信用代码"), max_length=32, blank=True)
    id_hash = models.CharField(_("身份证号码密钥散列"), max_length=64, blank=True)
    id_last4 = models.CharField(_("身份证号码后四位"), max_length=4, blank=True)
    share_ratio = models.DecimalField(_("持股比例"), **RATIO, validators=[MinValueValidator(0)])
    is_controlling = models.BooleanField(_("控股股东"), default=False)
    is_actual_controller = models.BooleanField(_("实际控制人"), default=False)

    objects = ShareholderQuerySet.as_manager()

    class Meta:
        ordering = ["institution", "-share_ratio", "name"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "name"], name="one_shareholder_row"),
            models.CheckConstraint(
                name="shareholder_person_id_hashed_only",
                condition=~models.Q(kind=ShareholderKind.PERSON) | models.Q(identifier=""),
            ),
        ]
        verbose_name = _("股东")
        verbose_name_plural = _("股东")

    def __str__(self):
        return self.name

    @property
    def masked_identifier(self) -> str:
        from core.identifiers import masked_id

        return masked_id(self.id_last4) if self.id_hash else self.identifier

    @property
    def match_key(self) -> tuple[str, str] | None:
        """(id kind, id key) as guarantee clients are keyed, or None without an identifier."""
        if self.id_hash:
            return ("resident_id", self.id_hash)
        return ("credit_code", self.identifier) if self.identifier else None

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.share_ratio is not None and not (Decimal("0.05") <= self.share_ratio <= 1):
            raise ValidationError({"share_ratio": _("登记持股5%%以上的股东，比例应在5%%至100%%之间。")})


class ManagerQuerySet(ScopedQuerySet):
    scope = Scope(region="institution__region_id", institution="institution_id", company_changes=True)


class Manager(TimeStampedModel):
    """A director, supervisor or senior manager."""

    institution = models.ForeignKey(
        Institution, verbose_name=_("机构"), on_delete=models.CASCADE, related_name="managers"
    )
    name = models.CharField(_("姓名"), max_length=64)
    role = models.CharField(_("类别"), max_length=16, choices=ManagerRole.choices)
    title = models.CharField(_("职务"), max_length=64)
    since = models.DateField(_("任职日期"), null=True, blank=True)

    objects = ManagerQuerySet.as_manager()

    class Meta:
        ordering = ["institution", "role", "name"]
        verbose_name = _("董监高")
        verbose_name_plural = _("董监高")

    def __str__(self):
        return f"{self.name}（{self.title}）"


class ChangeFilingQuerySet(ScopedQuerySet):
    # The company files (permissions.may_file_changes); the regulators of its jurisdiction review.
    scope = Scope(region="institution__region_id", institution="institution_id")


class ChangeFiling(TimeStampedModel):
    """变更备案: a company reports a change of a registered item; the regulator acknowledges it."""

    institution = models.ForeignKey(
        Institution, verbose_name=_("机构"), on_delete=models.PROTECT, related_name="change_filings"
    )
    item = models.CharField(_("变更事项"), max_length=16, choices=ChangeItem.choices)
    description = models.TextField(_("变更内容"))
    changed_on = models.DateField(_("变更日期"))
    due_on = models.DateField(_("备案期限"))
    filed_on = models.DateField(_("报备日期"))
    document = models.FileField(_("证明文件"), upload_to="change_filings/%Y/", blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=ChangeFilingStatus.choices, default=ChangeFilingStatus.FILED
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报备人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    review_note = models.CharField(_("确认意见"), max_length=255, blank=True)

    objects = ChangeFilingQuerySet.as_manager()

    class Meta:
        ordering = ["-filed_on", "-id"]
        verbose_name = _("变更备案")
        verbose_name_plural = _("变更备案")

    def __str__(self):
        return f"{self.institution} {self.get_item_display()} {self.changed_on}"

    @property
    def is_late(self) -> bool:
        return self.filed_on > self.due_on
