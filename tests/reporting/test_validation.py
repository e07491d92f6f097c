"""Every rule of ruleset v1 with a hand-computed passing and failing case (pure evaluator, no DB)."""

import json
from decimal import Decimal

import pytest

from reporting import validation
from reporting.fields_file import TEMPLATE_V1, read_fields
from reporting.services import RULES_V1

from .sample import GOOD_Q1, GOOD_Q2, PRIOR_Q4

RULES = [
    validation.RuleSpec(**{k: (tuple(v) if k == "fields" else v) for k, v in row.items()})
    for row in json.loads(RULES_V1.read_text(encoding="utf-8"))
]
CODES = [row["code"] for row in read_fields(TEMPLATE_V1)]


def dec(values):
    return {k: Decimal(v) for k, v in values.items()}


def run(values, *, quarter=2, previous=GOOD_Q1, prior=PRIOR_Q4, nil=False):
    return validation.evaluate(
        RULES,
        dec(values),
        quarter=quarter,
        template_codes=CODES,
        previous=dec(previous) if previous is not None else None,
        prior_year_end=dec(prior) if prior is not None else None,
        nil_return=nil,
    )


def only(findings, rule_id):
    return [f for f in findings if f.rule_id == rule_id]


def test_good_filing_passes_every_rule():
    assert run(GOOD_Q2) == []
    assert run(GOOD_Q1, quarter=1, previous=PRIOR_Q4) == []


def test_every_rule_in_the_file_is_covered_below():
    covered = {case[0] for case in CASES} | {
        "REQ-01",
        "CON-01",
        "CON-02",
        "YTD-01",
        "YTD-02",
        "QOQ-01",
        "QOQ-02",
        "QOQ-03",
        "QOQ-04",
    }
    assert covered == {r.rule_id for r in RULES}
    assert len(RULES) == 40


# (rule id, changes to GOOD_Q2, expected fields, expected Chinese message)
CASES = [
    (
        "IDN-01",
        {"net_assets": "34000"},
        ["net_assets", "total_assets", "total_liabilities"],
        "净资产（34,000.00）应等于资产总额减负债总额（35,000.00），差额 -1,000.00 万元",
    ),
    (
        "ROL-01",
        {"fin_balance": "220000.50", "loan_balance": "180000"},
        ["fin_balance", "fin_balance_opening", "fin_new", "fin_released"],
        "融资担保在保余额（220,000.50）应等于年初余额＋本年新增－本年解除（220,000.00），差额 0.50 万元",
    ),
    (
        "ROL-02",
        {"recovery": "250"},
        [
            "compensation_receivable",
            "compensation_balance_opening",
            "compensation",
            "recovery",
            "loss_writeoff",
        ],
        "应收代偿款（800.00）与年初代偿余额＋本年代偿－回收－核销（750.00）不一致，差额 50.00 万元",
    ),
    (
        "BND-01",
        {"equity_in_guarantee_companies": "3000.01"},
        ["equity_in_guarantee_companies", "equity_investments"],
        "对其他担保公司股权投资（3,000.01）不应大于长期股权投资（3,000.00）",
    ),
    (
        "BND-02",
        {"fin_fee_income": "1001"},
        ["fin_fee_income", "guarantee_fee_income"],
        "融资担保费收入（1,001.00）不应大于担保费收入（1,000.00）",
    ),
    (
        "BND-03",
        {"general_risk_reserve": "35001"},
        ["general_risk_reserve", "net_assets"],
        "一般风险准备（35,001.00）不应大于净资产（35,000.00）",
    ),
    (
        "BND-04",
        {"loan_balance": "220001"},
        ["loan_balance", "fin_balance"],
        "借款类担保在保余额（220,001.00）不应大于融资担保在保余额（220,000.00）",
    ),
    (
        "BND-05",
        {"bond_balance": "230000", "bond_aa_balance": "30000"},
        ["bond_balance", "fin_balance"],
        "发行债券担保在保余额（230,000.00）不应大于融资担保在保余额（220,000.00）",
    ),
    (
        "BND-06",
        {"loan_small_micro_le5m": "180001"},
        ["loan_small_micro_le5m", "loan_balance"],
        "单户500万元及以下小微企业借款类担保余额（180,001.00）不应大于借款类担保在保余额（180,000.00）",
    ),
    (
        "BND-07",
        {"loan_farmer_le2m": "190000"},
        ["loan_farmer_le2m", "loan_balance"],
        "单户200万元及以下农户借款类担保余额（190,000.00）不应大于借款类担保在保余额（180,000.00）",
    ),
    (
        "BND-08",
        {"loan_housing": "180000.01"},
        ["loan_housing", "loan_balance"],
        "住房置业担保在保余额（180,000.01）不应大于借款类担保在保余额（180,000.00）",
    ),
    (
        "BND-09",
        {"bond_aa_balance": "30001"},
        ["bond_aa_balance", "bond_balance"],
        "AA级及以上发债担保余额（30,001.00）不应大于发行债券担保在保余额（30,000.00）",
    ),
    (
        "BND-10",
        {"small_micro_balance": "220001"},
        ["small_micro_balance", "fin_balance"],
        "小微企业融资担保在保余额（220,001.00）不应大于融资担保在保余额（220,000.00）",
    ),
    (
        "BND-11",
        {"agri_balance": "250000"},
        ["agri_balance", "fin_balance"],
        "“三农”融资担保在保余额（250,000.00）不应大于融资担保在保余额（220,000.00）",
    ),
    (
        "BND-12",
        {"farmer_small_micro_balance": "220000.01"},
        ["farmer_small_micro_balance", "fin_balance"],
        "小微企业和农户融资担保在保余额（220,000.01）不应大于融资担保在保余额（220,000.00）",
    ),
    (
        "BND-13",
        {"small_micro_agri_new": "120001"},
        ["small_micro_agri_new", "fin_new"],
        "本年新增小微和“三农”担保额（120,001.00）不应大于本年新增融资担保额（120,000.00）",
    ),
    (
        "BND-14",
        {"new_single_le5m": "120001", "new_single_le10m": "120001"},
        ["new_single_le5m", "fin_new"],
        "本年新增单户500万元及以下担保额（120,001.00）不应大于本年新增融资担保额（120,000.00）",
    ),
    (
        "BND-15",
        {"new_single_le10m": "120000.01"},
        ["new_single_le10m", "fin_new"],
        "本年新增单户1000万元及以下担保额（120,000.01）不应大于本年新增融资担保额（120,000.00）",
    ),
    (
        "BND-16",
        {"new_single_le5m": "95001"},
        ["new_single_le5m", "new_single_le10m"],
        "本年新增单户500万元及以下担保额（95,001.00）不应大于单户1000万元及以下担保额（95,000.00）",
    ),
    (
        "BND-17",
        {"top1_client_liability": "4500.01"},
        ["top1_client_liability", "top1_group_liability"],
        "最大单一客户责任余额（4,500.01）不应大于最大单一客户及关联方责任余额（4,500.00）",
    ),
    (
        "BND-18",
        {"top10_clients_liability": "2999"},
        ["top1_client_liability", "top10_clients_liability"],
        "最大单一客户责任余额（3,000.00）不应大于前十大客户责任余额（2,999.00）",
    ),
    (
        "BND-19",
        {"bank_shared_balance": "180001", "bank_risk_amount": "20000"},
        ["bank_shared_balance", "loan_balance"],
        "银行参与分险的在保余额（180,001.00）不应大于借款类担保在保余额（180,000.00）",
    ),
    (
        "BND-20",
        {"bank_risk_amount": "100000.01"},
        ["bank_risk_amount", "bank_shared_balance"],
        "银行承担风险责任金额（100,000.01）不应大于银行参与分险的在保余额（100,000.00）",
    ),
    (
        "BND-21",
        {"equity_investments": "50001", "equity_in_guarantee_companies": "1000"},
        ["equity_investments", "total_assets"],
        "长期股权投资（50,001.00）不应大于资产总额（50,000.00）",
    ),
    (
        "BND-22",
        {"fin_liability_reported": "220000.01"},
        ["fin_liability_reported", "fin_balance"],
        "融资担保责任余额（填报）（220,000.01）不应大于融资担保在保余额（220,000.00）",
    ),
    ("BND-30", {"entrusted_loans": "-0.01"}, ["entrusted_loans"], "entrusted_loans 不应为负数（-0.01）"),
    (
        "BND-31",
        {"controller_guarantee_balance": "100"},
        ["controller_guarantee_balance"],
        "为控股股东、实际控制人提供的融资担保余额应为0（填报 100.00），请说明",
    ),
    (
        "CNT-01",
        {"fin_inforce_clients": "1501"},
        ["fin_inforce_clients", "fin_inforce_count"],
        "融资担保在保户数（1,501.00）不应大于在保笔数（1,500.00）",
    ),
    (
        "CNT-02",
        {"small_micro_agri_clients": "1201"},
        ["small_micro_agri_clients", "fin_inforce_clients"],
        "小微企业和“三农”在保户数（1,201.00）不应大于融资担保在保户数（1,200.00）",
    ),
    (
        "CNT-03",
        {"farmer_small_micro_clients": "1201"},
        ["farmer_small_micro_clients", "fin_inforce_clients"],
        "小微企业和农户在保户数（1,201.00）不应大于融资担保在保户数（1,200.00）",
    ),
    (
        "CNT-04",
        {"small_micro_agri_new_clients": "601"},
        ["small_micro_agri_new_clients", "new_clients"],
        "本年新增小微和“三农”户数（601.00）不应大于本年新增户数（600.00）",
    ),
]


# le5m ≤ le10m ≤ fin_new: breaking BND-14 alone is impossible, BND-15 or BND-16 must fail with it.
IMPLIED = {"BND-14": {"BND-15"}}


@pytest.mark.parametrize("rule_id,changes,fields,message", CASES, ids=[c[0] for c in CASES])
def test_rule_fails_on_hand_computed_case_and_passes_at_the_boundary(rule_id, changes, fields, message):
    findings = run({**GOOD_Q2, **changes})
    assert [(f.rule_id, f.fields, f.message_zh) for f in only(findings, rule_id)] == [
        (rule_id, fields, message)
    ]
    assert {f.rule_id for f in findings} - {rule_id} == IMPLIED.get(rule_id, set())
    findings = only(findings, rule_id)
    rule = next(r for r in RULES if r.rule_id == rule_id)
    assert findings[0].severity == rule.severity
    assert only(run(GOOD_Q2), rule_id) == []


def test_bound_at_equality_passes():
    assert (
        run(
            {
                **GOOD_Q2,
                "equity_in_guarantee_companies": "3000",
                "fin_inforce_clients": "1500",
                "small_micro_agri_clients": "1200",
            }
            | {"farmer_small_micro_clients": "1200"}
        )
        == []
    )


def test_identity_tolerance_is_one_cent():
    assert run({**GOOD_Q2, "net_assets": "35000.01"}) == []
    assert [f.rule_id for f in run({**GOOD_Q2, "net_assets": "35000.02"})] == ["IDN-01"]


def test_required_lists_missing_fields():
    values = {k: v for k, v in GOOD_Q2.items() if k not in ("staff_count", "partner_banks")}
    findings = run(values)
    assert [(f.rule_id, f.fields, f.message_zh) for f in findings] == [
        ("REQ-01", ["partner_banks", "staff_count"], "有 2 个字段未填报：partner_banks、staff_count")
    ]


def test_missing_operand_skips_the_relation_rule():
    values = {k: v for k, v in GOOD_Q2.items() if k != "net_assets"}
    assert [f.rule_id for f in run(values)] == ["REQ-01"]


def test_continuity_with_prior_year_q4():
    findings = run({**GOOD_Q2, "fin_balance_opening": "199000", "fin_new": "121000"})
    assert [(f.rule_id, f.message_zh) for f in findings] == [
        ("CON-01", "年初融资担保在保余额（199,000.00）应等于上年四季度末在保余额（200,000.00）")
    ]
    findings = run({**GOOD_Q2, "compensation_balance_opening": "650", "recovery": "250"})
    assert [(f.rule_id, f.message_zh) for f in findings] == [
        ("CON-02", "年初代偿余额（650.00）应等于上年四季度末应收代偿款（600.00）")
    ]
    assert run({**GOOD_Q2, "fin_balance_opening": "199000", "fin_new": "121000"}, prior=None) == []


def test_ytd_monotonic_within_year_only():
    findings = run({**GOOD_Q2, "compensation_count": "5"})
    assert [(f.rule_id, f.fields, f.message_zh) for f in findings] == [
        (
            "YTD-01",
            ["compensation_count"],
            "compensation_count 为本年累计数，本期（5.00）不应小于上季度（6.00）",
        )
    ]
    # Q1 follows Q4 of the previous year: YTD restarts, no finding.
    assert only(run({**GOOD_Q1, "compensation_count": "1"}, quarter=1, previous=PRIOR_Q4), "YTD-01") == []
    assert only(run({**GOOD_Q2, "compensation_count": "6"}), "YTD-01") == []


def test_cumulative_never_falls_even_across_years():
    findings = run({**GOOD_Q1, "released_cumulative": "799999"}, quarter=1, previous=PRIOR_Q4)
    assert [(f.rule_id, f.message_zh) for f in findings] == [
        ("YTD-02", "released_cumulative 为成立以来累计数，本期（799,999.00）不应小于上季度（800,000.00）")
    ]


def test_quarter_on_quarter_change_above_limit():
    # fin_balance 210000 → 316000 is +50.48 %, above 50 %; 315000 is exactly +50 % and passes.
    values = {**GOOD_Q2, "fin_balance": "316000", "fin_new": "216000"}
    assert [(f.rule_id, f.message_zh) for f in run(values)] == [
        ("QOQ-01", "融资担保在保余额环比变动 50.5%（210,000.00 → 316,000.00），超过 50%，请说明原因")
    ]
    assert only(run({**GOOD_Q2, "fin_balance": "315000", "fin_new": "215000"}), "QOQ-01") == []
    # total assets 50000 → 34000 (−32 %), with liabilities following so the identity holds
    values = {
        **GOOD_Q2,
        "total_assets": "34000",
        "total_liabilities": "0",
        "net_assets": "34000",
        "equity_investments": "3000",
        "general_risk_reserve": "1500",
    }
    assert [f.rule_id for f in run(values, previous={**GOOD_Q1, "net_assets": "34000"})] == ["QOQ-02"]
    values = {**GOOD_Q2, "total_liabilities": "26000", "net_assets": "24000"}
    assert [(f.rule_id, f.message_zh) for f in run(values)] == [
        ("QOQ-03", "净资产环比变动 -31.4%（35,000.00 → 24,000.00），超过 30%，请说明原因")
    ]
    previous = {**GOOD_Q1, "compensation_receivable": "300"}
    assert [(f.rule_id, f.values["change"]) for f in run(GOOD_Q2, previous=previous)] == [
        ("QOQ-04", "166.7%")
    ]
    assert only(run(GOOD_Q2, previous={**GOOD_Q1, "compensation_receivable": "400"}), "QOQ-04") == []


def test_change_from_zero_is_undefined_not_a_finding():
    assert run(GOOD_Q2, previous={**GOOD_Q1, "compensation_receivable": "0"}) == []


def test_nil_return_is_not_checked_and_required_fires_on_empty_non_nil():
    assert run({}, nil=True) == []
    assert [f.rule_id for f in run({})] == ["REQ-01"]


def test_errors_sort_before_warnings_and_helpers():
    findings = run({**GOOD_Q2, "controller_guarantee_balance": "1", "net_assets": "1"})
    assert [f.rule_id for f in findings] == ["IDN-01", "BND-03", "BND-31", "QOQ-03"]
    assert [f.rule_id for f in validation.blocking(findings)] == ["IDN-01"]
    assert [f.rule_id for f in validation.unexplained(findings, {"BND-31": "历史遗留，已整改"})] == [
        "BND-03",
        "QOQ-03",
    ]


def test_ruleset_version_changes_with_severity_only():
    v1 = validation.ruleset_version(RULES)
    assert v1.startswith("RS-") and len(v1) == 15
    assert validation.ruleset_version(list(reversed(RULES))) == v1
    changed = [
        validation.RuleSpec(**{**r.__dict__, "severity": "warning"}) if r.rule_id == "IDN-01" else r
        for r in RULES
    ]
    assert validation.ruleset_version(changed) != v1
