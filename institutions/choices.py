from django.db import models
from django.utils.translation import gettext_lazy as _


class EntityKind(models.TextChoices):
    LEGAL_ENTITY = "legal_entity", _("法人机构")
    BRANCH = "branch", _("分支机构")


class Ownership(models.TextChoices):
    STATE = "state", _("国有控股")
    PRIVATE = "private", _("民营")
    MIXED = "mixed", _("混合所有制")
    FOREIGN = "foreign", _("外资")


class InstitutionStatus(models.TextChoices):
    OPERATING = "operating", _("正常经营")
    SUSPENDED = "suspended", _("暂停业务")
    EXITING = "exiting", _("退出中")
    DEREGISTERED = "deregistered", _("已注销")


class ListBatchStatus(models.TextChoices):
    """Kept by the finance bureau with the regulator: one proposes, the other confirms."""

    DRAFT = "draft", _("草拟")
    PROPOSED = "proposed", _("待确认")
    CONFIRMED = "confirmed", _("已确认发布")


class ListAction(models.TextChoices):
    INCLUDE = "include", _("纳入")
    REMOVE = "remove", _("移出")


class LicenceStatus(models.TextChoices):
    VALID = "valid", _("有效")
    CANCELLED = "cancelled", _("已注销")
    REVOKED = "revoked", _("已吊销")


class DutyKind(models.TextChoices):
    """What a holder must do after a revocation; the deadlines come from ProvinceLicenceSetting."""

    ANNOUNCE = "announce", _("在媒体公告吊销事项")
    RETURN_LICENCE = "return_licence", _("向属地金融局交回许可证")
    MARKET_REGULATOR = "market_regulator", _("向属地市场监管部门申请变更或注销登记")
    RECONSIDERATION = "reconsideration", _("申请行政复议（权利期限）")
    LAWSUIT = "lawsuit", _("提起行政诉讼（权利期限）")


class NoticeKind(models.TextChoices):
    ISSUE = "issue", _("颁发许可证")
    CANCEL = "cancel", _("注销许可证")
    REVOKE = "revoke", _("吊销许可证")
    LIST_CHANGE = "list_change", _("政府性融资担保机构名单变动")
    CIRCULAR = "circular", _("监管通报")
    NON_FILERS = "non_filers", _("未按时报送监管报表机构名单")
    RATINGS = "ratings", _("融资担保公司分类评级结果")


class NoticeStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")


class BankKind(models.TextChoices):
    HEAD_OFFICE = "head_office", _("总行")
    BRANCH = "branch", _("分支行")


class CompensationScope(models.TextChoices):
    PRINCIPAL = "principal", _("仅本金")
    PRINCIPAL_NORMAL_INTEREST = "principal_interest", _("本金及正常利息")
    ALL = "all", _("本金、全部利息及费用")


class Severity(models.TextChoices):
    ERROR = "error", _("错误")
    BREACH = "breach", _("违规")
    WARNING = "warning", _("提示")


class RuleCode(models.TextChoices):
    """Kinds of policy rule; the parameters (value, region, severity, dates, source) are data rows."""

    NAME_KEYWORD = "name_keyword", _("机构名称应含关键词")
    PAID_IN_MIN = "paid_in_min", _("实缴资本下限（万元）")
    BANK_SHARE_MIN = "bank_share_min", _("银行分担比例下限")
    FUND_SHARE_MIN = "fund_share_min", _("国家融资担保基金分担比例下限")
    REGUARANTEE_GE_FUND = "reguarantee_ge_fund", _("再担保分担比例不低于国家基金")
    MARGIN_MAX = "margin_max", _("保证金比例上限")
    GRACE_MIN = "grace_min", _("代偿宽限期下限（天）")
    SCOPE_REQUIRED = "scope_required", _("代偿范围要求")
    H2H_BANK_SHARE = "h2h_bank_share", _("总对总：银行分担比例")
    H2H_SINGLE_CLIENT_MAX = "h2h_single_client_max", _("总对总：单户上限（万元）")
    H2H_RATE_CAP_MAX = "h2h_rate_cap_max", _("总对总：代偿率上限")
    CHANGE_FILING_DAYS = "change_filing_days", _("变更事项备案期限（天）")
    AGREEMENT_REMINDER_DAYS = "agreement_reminder_days", _("合作协议到期提醒（提前天数）")
    CROSS_PROVINCE_CAPITAL_MIN = "cross_province_capital_min", _("跨省设立分支机构的注册资本下限（万元）")


class ShareholderKind(models.TextChoices):
    COMPANY = "company", _("企业")
    PERSON = "person", _("自然人")
    GOVERNMENT = "government", _("政府或国资机构")


class ManagerRole(models.TextChoices):
    DIRECTOR = "director", _("董事")
    SUPERVISOR = "supervisor", _("监事")
    SENIOR = "senior", _("高级管理人员")


class ChangeItem(models.TextChoices):
    NAME = "name", _("机构名称")
    SHAREHOLDERS = "shareholders", _("持股5%以上股东")
    MANAGERS = "managers", _("董事、监事、高级管理人员")
    CAPITAL = "capital", _("注册资本")
    ADDRESS = "address", _("住所")
    OTHER = "other", _("其他登记事项")


class ChangeFilingStatus(models.TextChoices):
    FILED = "filed", _("已报备")
    ACKNOWLEDGED = "acknowledged", _("已确认")
    RETURNED = "returned", _("退回补正")
