from django.db import models
from django.utils.translation import gettext_lazy as _


class ClientType(models.TextChoices):
    SMALL_MICRO = "small_micro", _("小微企业")
    INDIVIDUAL_BUSINESS = "individual_business", _("个体工商户")
    FARMER = "farmer", _("农户")
    OTHER = "other", _("其他")


# 小微企业 in the quarterly report includes individual businesses (quarterly_report_fields.csv, D).
SMALL_MICRO_TYPES = (ClientType.SMALL_MICRO, ClientType.INDIVIDUAL_BUSINESS)


class IdKind(models.TextChoices):
    """Which identifier keys a client: an organisation's credit code (public) or a keyed hash of a
    natural person's resident ID number (the number itself is never stored)."""

    CREDIT_CODE = "credit_code", _("统一社会信用代码")
    RESIDENT_ID = "resident_id", _("居民身份证号码")


class CounterGuarantee(models.TextChoices):
    NONE = "none", _("无（信用）")
    MORTGAGE = "mortgage", _("抵押")
    PLEDGE = "pledge", _("质押")
    SURETY = "surety", _("保证")
    OTHER = "other", _("其他")


class EventKind(models.TextChoices):
    RELEASE = "release", _("解保")
    COMPENSATION = "compensation", _("代偿")
    RECOVERY = "recovery", _("追偿")
    WRITE_OFF = "write_off", _("核销")


# Events that end guarantee liability: a release, or the principal the guarantor paid on default.
BALANCE_REDUCING = (EventKind.RELEASE, EventKind.COMPENSATION)


class Channel(models.TextChoices):
    UPLOAD = "upload", _("文件上传")
    API = "api", _("接口报送")


class BatchStatus(models.TextChoices):
    STAGED = "staged", _("待提交")
    VALIDATING = "validating", _("校验中")
    FAILED = "failed", _("未通过")
    COMMITTED = "committed", _("已入库")


class MagnitudeColumn(models.TextChoices):
    """The columns a magnitude rule may watch (each code names one column across the two sheets)."""

    LOAN_AMOUNT = "loan_amount", _("借款金额（万元）")
    GUARANTEED_AMOUNT = "guaranteed_amount", _("担保金额（万元）")
    FEE_AMOUNT = "fee_amount", _("担保费（万元）")
    FEE_RATE = "fee_rate", _("年化担保费率")
    EVENT_AMOUNT = "amount", _("事件金额（万元）")


class Sheet(models.TextChoices):
    """The two sheets of a batch (and of the upload workbook that comes later)."""

    GUARANTEES = "guarantees", _("担保明细")
    EVENTS = "events", _("担保事件")
