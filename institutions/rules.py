"""Pure policy evaluation: turn an institution or an agreement into findings under the rules that
govern its region (core.policy picks them). No database access; callers pass the rules in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from .choices import RuleCode, Severity

SEVERITY_ORDER = {Severity.ERROR: 0, Severity.BREACH: 1, Severity.WARNING: 2}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str
    source: str = ""

    @property
    def css(self) -> str:
        return {"error": "danger", "breach": "danger", "warning": "warning"}[self.severity]


def pct(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{(value * 100).quantize(Decimal('0.01')).normalize():f}%"


def institution_findings(institution, rules: dict) -> list[Finding]:
    out = []
    rule = rules.get(RuleCode.NAME_KEYWORD)
    if rule and rule.text_value and rule.text_value not in institution.name:
        out.append(
            Finding(
                rule.code,
                rule.severity,
                _("机构名称未含“%(kw)s”字样（存在历史名称的情形）。") % {"kw": rule.text_value},
                rule.source,
            )
        )
    rule = rules.get(RuleCode.PAID_IN_MIN)
    if (
        rule
        and rule.value is not None
        and institution.kind == "legal_entity"
        and institution.paid_in_capital < rule.value
    ):
        out.append(
            Finding(
                rule.code,
                rule.severity,
                _("实缴资本%(v)s万元，低于%(min)s万元。")
                % {"v": f"{institution.paid_in_capital:,.2f}", "min": f"{rule.value:,.0f}"},
                rule.source,
            )
        )
    rule = rules.get(RuleCode.CROSS_PROVINCE_CAPITAL_MIN)
    parent = institution.parent if institution.parent_id else None
    if (
        rule
        and rule.value is not None
        and institution.cross_province_branch
        and parent is not None
        and parent.registered_capital < rule.value
    ):
        out.append(
            Finding(
                rule.code,
                rule.severity,
                _("跨省分支机构的法人机构注册资本%(v)s万元，低于%(min)s万元。")
                % {"v": f"{parent.registered_capital:,.2f}", "min": f"{rule.value:,.0f}"},
                rule.source,
            )
        )
    return sorted(out, key=lambda f: SEVERITY_ORDER[f.severity])


def agreement_findings(agreement, rules: dict) -> list[Finding]:
    a = agreement
    out = []
    if a.share_total != 1:
        out.append(
            Finding(
                "share_total",
                Severity.ERROR,
                _("各方分担比例之和为%(t)s，须恰为100%%。") % {"t": pct(a.share_total)},
            )
        )

    def add(code, condition, message):
        rule = rules.get(code)
        if rule is not None and condition(rule):
            out.append(Finding(code, rule.severity, message(rule), rule.source))

    add(
        RuleCode.BANK_SHARE_MIN,
        lambda r: a.share_bank < r.value,
        lambda r: _("银行分担比例%(v)s，低于%(min)s。") % {"v": pct(a.share_bank), "min": pct(r.value)},
    )
    add(
        RuleCode.FUND_SHARE_MIN,
        lambda r: 0 < a.share_national_fund < r.value,
        lambda r: (
            _("国家融资担保基金分担比例%(v)s，低于%(min)s。")
            % {"v": pct(a.share_national_fund), "min": pct(r.value)}
        ),
    )
    add(
        RuleCode.REGUARANTEE_GE_FUND,
        lambda r: a.share_national_fund > 0 and a.share_reguarantor < a.share_national_fund,
        lambda r: (
            _("省级再担保分担比例%(v)s，低于国家基金分担比例%(f)s。")
            % {"v": pct(a.share_reguarantor), "f": pct(a.share_national_fund)}
        ),
    )
    add(
        RuleCode.MARGIN_MAX,
        lambda r: a.margin_ratio > r.value,
        lambda r: _("保证金比例%(v)s，超过上限%(max)s。") % {"v": pct(a.margin_ratio), "max": pct(r.value)},
    )
    add(
        RuleCode.GRACE_MIN,
        lambda r: a.grace_days < r.value,
        lambda r: _("代偿宽限期%(v)s天，少于%(min)s天。") % {"v": a.grace_days, "min": f"{r.value:.0f}"},
    )
    add(
        RuleCode.SCOPE_REQUIRED,
        lambda r: a.compensation_scope != r.text_value,
        lambda r: _("代偿范围为“%(v)s”，要求为本金及正常利息。") % {"v": a.get_compensation_scope_display()},
    )
    if a.head_to_head:
        add(
            RuleCode.H2H_BANK_SHARE,
            lambda r: a.share_bank != r.value,
            lambda r: (
                _("总对总业务银行分担比例%(v)s，规定为%(req)s。")
                % {"v": pct(a.share_bank), "req": pct(r.value)}
            ),
        )
        add(
            RuleCode.H2H_SINGLE_CLIENT_MAX,
            lambda r: a.single_client_limit is None or a.single_client_limit > r.value,
            lambda r: (
                _("总对总业务单户上限%(v)s万元，不得超过%(max)s万元。")
                % {
                    "v": "—" if a.single_client_limit is None else f"{a.single_client_limit:,.0f}",
                    "max": f"{r.value:,.0f}",
                }
            ),
        )
        add(
            RuleCode.H2H_RATE_CAP_MAX,
            lambda r: a.compensation_rate_cap is None or a.compensation_rate_cap > r.value,
            lambda r: (
                _("总对总业务代偿率上限%(v)s，不得超过%(max)s。")
                % {"v": pct(a.compensation_rate_cap), "max": pct(r.value)}
            ),
        )
    return sorted(out, key=lambda f: SEVERITY_ORDER[f.severity])


def add_months(day: dt.date, months: int) -> dt.date:
    import calendar

    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
