from django.db import models
from django.utils.translation import gettext_lazy as _


class SchemeKind(models.TextChoices):
    FEE_SUBSIDY = "fee_subsidy", _("担保费补贴")
    AWARD_POOL = "award_pool", _("降费奖补")
    RISK_COMPENSATION = "risk_compensation", _("风险补偿")


class BudgetMode(models.TextChoices):
    PRO_RATA = "pro_rata", _("超出预算按比例核减")
    REFUSE = "refuse", _("超出预算不再核准")


class CompensationMethod(models.TextChoices):
    MARGINAL = "marginal", _("分段累进（超额部分按档补偿）")
    WHOLE = "whole", _("全额按所在档次")


class Status(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已申报")
    RETURNED = "returned", _("退回补充")
    RESUBMITTED = "resubmitted", _("已重新申报")
    REVIEWED = "reviewed", _("已初审")
    APPROVED = "approved", _("已复核")
    REJECTED = "rejected", _("未通过")
    PUBLICITY = "publicity", _("公示中")
    PAID = "paid", _("已拨付")


# Waiting for the first review (初审) / for the final decision (复核).
TO_REVIEW = (Status.SUBMITTED, Status.RESUBMITTED)
EDITABLE = (Status.DRAFT, Status.RETURNED)
# Approved or later: the amount counts against the budget.
COMMITTED = (Status.APPROVED, Status.PUBLICITY, Status.PAID)
PUBLISHED = (Status.PUBLICITY, Status.PAID)
