from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

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
        names = [r.name for r in self.lineage()]
        return "".join(dict.fromkeys(names))

    def lineage(self) -> list["Region"]:
        """Province → … → this region, read from the code (one query)."""
        codes = {self.code[:2] + "0000", self.code[:4] + "00", self.code}
        return sorted(Region.objects.filter(code__in=codes), key=lambda r: r.code)

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
            return self.region.full_name
        if self.institution_id:
            return self.institution.name
        return str(_("全国"))
