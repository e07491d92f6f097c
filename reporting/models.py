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
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from core.scoping import Scope, ScopedQuerySet
from institutions.models import Institution

from .choices import Basis, FilingStatus, Unit
from .periods import Period


class ReportTemplateQuerySet(ScopedQuerySet):
    scope = Scope(everyone=True)

    def in_force(self, day):
        """The template version whose effective period contains `day`."""
        return (
            self.filter(effective_from__lte=day)
            .filter(models.Q(effective_to__isnull=True) | models.Q(effective_to__gte=day))
            .order_by("-version")
            .first()
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
    notes = models.TextField(_("填报说明"), blank=True)
    order = models.PositiveIntegerField(_("顺序"))

    objects = FieldDefinitionQuerySet.as_manager()

    class Meta:
        ordering = ["template", "order"]
        constraints = [models.UniqueConstraint(fields=["template", "code"], name="field_code_unique_per_template")]
        verbose_name = _("报表字段")
        verbose_name_plural = _("报表字段")

    def __str__(self):
        return f"{self.code} {self.label_zh}"


class FilingQuerySet(ScopedQuerySet):
    scope = Scope(region="institution__region_id", institution="institution_id")


class Filing(TimeStampedModel):
    """One institution's quarterly report for one period."""

    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.PROTECT, related_name="filings")
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"), choices=[(q, f"Q{q}") for q in range(1, 5)])
    template = models.ForeignKey(ReportTemplate, verbose_name=_("报表模板"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("状态"), max_length=16, choices=FilingStatus.choices, default=FilingStatus.DRAFT)
    current_version = models.ForeignKey(
        "FilingVersion", verbose_name=_("当前版本"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

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


class FilingVersionQuerySet(ScopedQuerySet):
    scope = Scope(region="filing__institution__region_id", institution="filing__institution_id")


class FilingVersion(models.Model):
    """The content of a filing at one point of its life. Frozen once submitted (`submitted_at` set)."""

    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("版本"))
    values = models.JSONField(_("填报数据"), default=dict, help_text="{field code: decimal string}")
    nil_return = models.BooleanField(_("本期无融资担保业务"), default=False)
    reason = models.TextField(_("更正原因"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("填报人"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("报送人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ruleset_version = models.CharField(_("校验规则版本"), max_length=64, blank=True)
    values_hash = models.CharField(_("数据摘要（SHA-256）"), max_length=64, blank=True)

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
        """Values as Decimals; a field left empty is absent."""
        return {code: Decimal(text) for code, text in self.values.items() if text not in (None, "")}

    def compute_hash(self) -> str:
        """SHA-256 of the canonical JSON of the values and the nil-return flag, shown on the receipt."""
        payload = json.dumps({"nil_return": self.nil_return, "values": self.values}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()
from .indicator_models import *  # noqa: E402,F401,F403
