from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.memo import per_request
from core.roles import COMPANY_ROLES, REGION_ROLES, Role
from core.scoping import Scope, ScopedQuerySet, region_level, subtree_prefix

from .choices import RegionLevel


class RegionQuerySet(ScopedQuerySet):
    scope = Scope(everyone=True)

    def subtree(self, code: str):
        """The region and everything below it."""
        prefix = subtree_prefix(code)
        return self.filter(code=code) if len(prefix) == 6 else self.filter(code__startswith=prefix)


class Region(models.Model):
    """An administrative division by its GB/T 2260 code; the code names its parents."""

    code = models.CharField(_("行政区划代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("级别"), max_length=8, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    objects = RegionQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")

    def __str__(self):
        return self.name

    @property
    def full_name(self) -> str:
        return region_full_name(self.code)

    def lineage(self) -> list["Region"]:
        """Province → … → this region, read from the code (one query)."""
        return sorted(Region.objects.filter(code__in=lineage_codes(self.code)), key=lambda r: r.code)

    def contains(self, code: str) -> bool:
        return (
            code.startswith(subtree_prefix(self.code))
            if region_level(self.code) != "county"
            else code == self.code
        )


class User(AbstractUser):
    """A person with one role, held within one jurisdiction (region) or one institution."""

    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, blank=True)
    region = models.ForeignKey(
        Region, verbose_name=_("辖区"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("所属机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    phone = models.CharField(_("联系电话"), max_length=32, blank=True)

    objects = UserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.CheckConstraint(
                name="user_role_binding",
                condition=(
                    Q(role__in=REGION_ROLES, region__isnull=False, institution__isnull=True)
                    | Q(role__in=COMPANY_ROLES, institution__isnull=False, region__isnull=True)
                    | Q(role__in=[Role.ADMIN, ""], region__isnull=True, institution__isnull=True)
                ),
                violation_error_message=_("监管/财政人员须绑定辖区，企业用户须绑定机构。"),
            )
        ]

    def __str__(self):
        return self.get_full_name() or self.username

    def get_full_name(self):
        # Chinese names: family name first, no space.
        return f"{self.last_name}{self.first_name}".strip()

    @property
    def scope_label(self) -> str:
        """The user's jurisdiction or institution, as shown in the header."""
        if self.region_id:
            return region_full_name(self.region_id)
        if self.institution_id:
            return self.institution.name
        return str(_("全国"))


class EnrolmentCode(models.Model):
    """A one-time code an administrator gives a person (out of band) to enrol their first second-factor
    device: whoever has only the password cannot enrol a device of their own. Only its hash is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="enrolment_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("签发人")
    )
    issued_at = models.DateTimeField(_("签发时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("失效时间"))
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("绑定授权码")
        verbose_name_plural = _("绑定授权码")

    def __str__(self):
        return f"{self.user} {self.issued_at:%Y-%m-%d %H:%M}"


class ApiKeyScope(models.TextChoices):
    FILINGS = "filings", _("报送季度报表")
    INDICATORS = "indicators", _("读取本机构指标")
    GUARANTEES = "guarantees", _("上传逐笔担保数据")


class ApiKeyQuerySet(ScopedQuerySet):
    # a company's keys: its own users (the approver manages them), and the administrators
    scope = Scope(institution="institution_id", company_changes=True)


class ApiKey(models.Model):
    """A company's named key for system-to-system calls (its ERP files the quarterly report): created by
    the company's approver, limited to scopes, revocable, and independent of any person's login. It acts
    through a user of its own (role approver of the institution, no password), so every rule, scope and
    audit row treats it like a person; only its hash is kept, the key is shown once."""

    institution = models.ForeignKey(
        "institutions.Institution", on_delete=models.PROTECT, related_name="api_keys", verbose_name=_("机构")
    )
    name = models.CharField(_("名称"), max_length=64)
    prefix = models.CharField(_("前缀"), max_length=12, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(_("权限范围"), default=list)
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="api_key")
    created_by = models.ForeignKey(
        User, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("创建人")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API 密钥")
        verbose_name_plural = _("API 密钥")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def lineage_codes(code: str) -> set[str]:
    """The codes of a region's province, city and itself, read from the code (GB/T 2260)."""
    return {code[:2] + "0000", code[:4] + "00", code}


@per_request
def region_full_name(code: str) -> str:
    """ "四川省成都市武侯区": the names from the province down to the region `code` (one query, once per
    web request: the page header shows it on every page)."""
    names = (
        Region.objects.filter(code__in=lineage_codes(code)).order_by("code").values_list("name", flat=True)
    )
    return "".join(dict.fromkeys(names))
