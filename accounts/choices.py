from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    REGULATOR = "regulator", _("监管人员")
    FINANCE = "finance", _("财政人员")
    FILER = "filer", _("填报员")
    APPROVER = "approver", _("审核人/负责人")
    ADMIN = "admin", _("系统管理员")


REGION_ROLES = (Role.REGULATOR, Role.FINANCE)
COMPANY_ROLES = (Role.FILER, Role.APPROVER)
# Roles that must pass a TOTP second factor when settings.OTP_REQUIRED is on.
SECOND_FACTOR_ROLES = (Role.REGULATOR, Role.FINANCE, Role.ADMIN)


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("省级")
    CITY = "city", _("市级")
    COUNTY = "county", _("县级")
