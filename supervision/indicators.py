"""Supervisory indicators of the quarterly report, as pure functions (Decimal in, Decimal out, no ORM).

Every indicator of `indicators.csv` is one function over the filing's values `{field code: Decimal}`
and the policy parameters in force on the period end (`Params`, loaded from effective-dated rows:
the liability weights, the net-asset deduction switch and the small-business-focus test shares are
data, never literals here). A value is `None` ("undefined", shown as —) when an input is missing or
a denominator is zero — never 0 or infinity. A ratio over the institution's own capital or assets
whose base is zero or negative is `NonPositiveBase`: no number either, but a finding in itself.

Values are exact (`compute_exact`): thresholds are judged on them (`rules.py`); `stored` rounds them
to the 6 decimals kept in the database and shown.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

Values = Mapping[str, Decimal]
PLACES = Decimal("0.000001")  # indicator values are kept to 6 decimals (ratios as decimals)
ZERO = Decimal(0)
ONE = Decimal(1)


@dataclass(frozen=True)
class Params:
    """Policy parameters in force on one date, loaded from `PolicyParameter` rows (never literals)."""

    weight_small_micro_farmer: Decimal
    weight_housing: Decimal
    weight_bond_aa: Decimal
    weight_other: Decimal
    deduct_guarantee_equity: bool
    sbf_balance_share: Decimal
    sbf_client_share: Decimal


@dataclass(frozen=True)
class NonPositiveBase:
    """The value of a ratio over the institution's own capital or assets (net assets, the asset base)
    when that base is zero or negative: no number (stored and shown as undefined), and a finding in
    itself — an institution without capital meets no threshold on such a ratio (`rules.judge`).
    ARCHITECTURE.md, "Judge on exact values": a zero or negative denominator is never a pass."""

    base: Decimal


Value = Decimal | NonPositiveBase | None  # an exact indicator value


def q(value: Decimal | None) -> Decimal | None:
    """Round to the stored precision (half up)."""
    return None if value is None else value.quantize(PLACES, rounding=ROUND_HALF_UP)


def stored(value: Value) -> Decimal | None:
    """The value as stored and shown: rounded to 6 decimals; undefined for a non-positive base."""
    return q(value) if isinstance(value, Decimal) else None


def _get(values: Values, *codes: str) -> list[Decimal] | None:
    """The inputs, or None when any is missing (an unfilled cell makes the indicator undefined)."""
    out = []
    for code in codes:
        v = values.get(code)
        if v is None:
            return None
        out.append(Decimal(v))
    return out


def _div(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def _ratio(values: Values, num: str, den: str) -> Decimal | None:
    got = _get(values, num, den)
    return None if got is None else _div(got[0], got[1])


def _over_base(numerator: Decimal | None, base: Decimal | None) -> Decimal | NonPositiveBase | None:
    """numerator ÷ base for a base that a going concern has positive (its capital or its assets)."""
    if numerator is None or base is None:
        return None
    return NonPositiveBase(base) if base <= 0 else numerator / base


def _base_ratio(values: Values, num: str, den: str) -> Decimal | NonPositiveBase | None:
    got = _get(values, num, den)
    return None if got is None else _over_base(got[0], got[1])


# --- the indicators ---------------------------------------------------------------------------------


def fin_liability_balance(values: Values, params: Params) -> Decimal | None:
    """融资担保责任余额 (weighted): 0.75×(small/micro ≤5m + farmer ≤2m loans) + 0.30×housing +
    1.00×other loans + 0.80×AA bonds + 1.00×other bonds + 1.00×other financing guarantees.
    Source: 融资担保责任余额计量办法 (银保监发〔2018〕1号); housing weight 银保监发〔2019〕37号.
    Weights come from `params` (policy data)."""
    got = _get(
        values,
        "loan_balance",
        "loan_small_micro_le5m",
        "loan_farmer_le2m",
        "loan_housing",
        "bond_balance",
        "bond_aa_balance",
        "other_fin_balance",
    )
    if got is None:
        return None
    loan, small, farmer, housing, bond, bond_aa, other = got
    return (
        params.weight_small_micro_farmer * (small + farmer)
        + params.weight_housing * housing
        + params.weight_other * (loan - small - farmer - housing)
        + params.weight_bond_aa * bond_aa
        + params.weight_other * (bond - bond_aa)
        + params.weight_other * other
    )


def leverage_denominator(values: Values, params: Params) -> Decimal | None:
    """Net assets less equity in other guarantee companies when the deduction is on (计量办法)."""
    got = _get(values, "net_assets")
    if got is None:
        return None
    if not params.deduct_guarantee_equity:
        return got[0]
    equity = _get(values, "equity_in_guarantee_companies")
    return None if equity is None else got[0] - equity[0]


def leverage(values: Values, params: Params) -> Decimal | NonPositiveBase | None:
    """融资担保放大倍数 = fin_liability_balance / (net_assets − equity_in_guarantee_companies).
    Source: 融资担保公司监督管理条例 (国务院令第683号) art. 15; 计量办法. The deduction is a policy
    setting (defaults to on). A zero or negative denominator (no capital) is `NonPositiveBase`: it
    breaches every leverage cap, never passes one as a negative multiple would."""
    return _over_base(fin_liability_balance(values, params), leverage_denominator(values, params))


def small_business_focus(values: Values, params: Params) -> Decimal | None:
    """主要服务小微和农户认定: farmer_small_micro_balance / fin_balance ≥ 50% AND
    farmer_small_micro_clients / fin_inforce_clients ≥ 80% → 1, else 0; undefined if either share is.
    Source: 融资担保责任余额计量办法 (secondary source); true lifts the leverage cap from 10× to 15×.
    The two shares are policy parameters."""
    balance_share = _ratio(values, "farmer_small_micro_balance", "fin_balance")
    client_share = _ratio(values, "farmer_small_micro_clients", "fin_inforce_clients")
    if balance_share is None or client_share is None:
        return None
    return (
        ONE if balance_share >= params.sbf_balance_share and client_share >= params.sbf_client_share else ZERO
    )


def single_client_concentration(values: Values, params: Params) -> Decimal | NonPositiveBase | None:
    """单一客户集中度 = top1_client_liability / net_assets. Source: 条例 art. 16."""
    return _base_ratio(values, "top1_client_liability", "net_assets")


def group_concentration(values: Values, params: Params) -> Decimal | NonPositiveBase | None:
    """单一客户及关联方集中度 = top1_group_liability / net_assets. Source: 条例 art. 16."""
    return _base_ratio(values, "top1_group_liability", "net_assets")


def controller_guarantees(values: Values, params: Params) -> Decimal | None:
    """控股股东及实际控制人担保 = controller_guarantee_balance (any value > 0 breaches). Source: 条例 art. 17."""
    got = _get(values, "controller_guarantee_balance")
    return None if got is None else got[0]


def extra_charges(values: Values, params: Params) -> Decimal | None:
    """担保费以外其他收费 = extra_charges (must be 0 for government-backed institutions).
    Source: 银保监发〔2020〕39号 §6 (threshold FEE-05)."""
    got = _get(values, "extra_charges")
    return None if got is None else got[0]


def _asset_base(values: Values) -> Decimal | None:
    got = _get(values, "total_assets", "compensation_receivable")
    return None if got is None else got[0] - got[1]


def class12_asset_ratio(values: Values, params: Params) -> Decimal | NonPositiveBase | None:
    """Ⅰ级和Ⅱ级资产占比 = (assets_class_1 + assets_class_2) / (total_assets − compensation_receivable).
    Source: 融资担保公司资产比例管理办法."""
    got = _get(values, "assets_class_1", "assets_class_2")
    return None if got is None else _over_base(got[0] + got[1], _asset_base(values))


def class1_asset_ratio(values: Values, params: Params) -> Decimal | NonPositiveBase | None:
    """Ⅰ级资产占比 = assets_class_1 / (total_assets − compensation_receivable). Source: 资产比例管理办法."""
    got = _get(values, "assets_class_1")
    return None if got is None else _over_base(got[0], _asset_base(values))


def class3_asset_ratio(values: Values, params: Params) -> Decimal | NonPositiveBase | None:
    """Ⅲ级资产占比 = assets_class_3 / (total_assets − compensation_receivable). Source: 资产比例管理办法."""
    got = _get(values, "assets_class_3")
    return None if got is None else _over_base(got[0], _asset_base(values))


def capital_adequacy_ratio(values: Values, params: Params) -> Decimal | NonPositiveBase | None:
    """净资产与准备金之和占资产比 = (net_assets + unearned_reserve + compensation_reserve) / total_assets.
    Source: 资产比例管理办法 (secondary source)."""
    got = _get(values, "net_assets", "unearned_reserve", "compensation_reserve", "total_assets")
    return None if got is None else _over_base(got[0] + got[1] + got[2], got[3])


def unearned_reserve_ratio(values: Values, params: Params) -> Decimal | None:
    """未到期责任准备金计提率 = unearned_reserve / guarantee_fee_income.
    Source: 融资性担保公司管理暂行办法 art. 31 (meaningful at year end)."""
    return _ratio(values, "unearned_reserve", "guarantee_fee_income")


def compensation_reserve_ratio(values: Values, params: Params) -> Decimal | None:
    """担保赔偿准备金覆盖率 = compensation_reserve / fin_liability_balance.
    Source: 融资性担保公司管理暂行办法 art. 31."""
    got = _get(values, "compensation_reserve")
    return None if got is None else _div(got[0], fin_liability_balance(values, params))


def provision_coverage(values: Values, params: Params) -> Decimal | None:
    """拨备覆盖率 = (compensation_reserve + unearned_reserve) / compensation_receivable; undefined (not
    infinite) when nothing is receivable. Source: none official (portal definition, indicators.csv)."""
    got = _get(values, "compensation_reserve", "unearned_reserve", "compensation_receivable")
    return None if got is None else _div(got[0] + got[1], got[2])


def compensation_rate(values: Values, params: Params) -> Decimal | None:
    """融资担保代偿率 = compensation / fin_released (year to date).
    Source: 2010 national risk table C3; used by 聊城/温州/武汉 policies."""
    return _ratio(values, "compensation", "fin_released")


def cumulative_compensation_rate(values: Values, params: Params) -> Decimal | None:
    """累计代偿率 = compensation_cumulative / released_cumulative. Source: 2010 national risk table C3."""
    return _ratio(values, "compensation_cumulative", "released_cumulative")


def recovery_rate(values: Values, params: Params) -> Decimal | None:
    """代偿回收率 = recovery / (compensation_balance_opening + compensation).
    Source: 2010 national risk table C3."""
    got = _get(values, "recovery", "compensation_balance_opening", "compensation")
    return None if got is None else _div(got[0], got[1] + got[2])


def average_fee_rate(values: Values, params: Params) -> Decimal | None:
    """平均年化担保费率 = fin_fee_income / annualized_new_amount (amount × days/365, as reported).
    Source: 国办发〔2019〕6号; 财建〔2018〕547号."""
    return _ratio(values, "fin_fee_income", "annualized_new_amount")


def fee_rate_le5m(values: Values, params: Params) -> Decimal | None:
    """单户500万元及以下年化担保费率 = fee_new_le5m / annualized_new_amount_le5m.
    Source: 国办发〔2019〕6号 (via local restatements)."""
    return _ratio(values, "fee_new_le5m", "annualized_new_amount_le5m")


def fee_rate_gt5m(values: Values, params: Params) -> Decimal | None:
    """单户500万元以上年化担保费率 = fee_new_gt5m / annualized_new_amount_gt5m.
    Source: 国办发〔2019〕6号 (via local restatements)."""
    return _ratio(values, "fee_new_gt5m", "annualized_new_amount_gt5m")


def support_share_amount(values: Values, params: Params) -> Decimal | None:
    """支小支农担保金额占比 = small_micro_agri_new / fin_new. Source: 财金〔2025〕11号 art. 6; 国办发〔2019〕6号."""
    return _ratio(values, "small_micro_agri_new", "fin_new")


def single_le5m_share(values: Values, params: Params) -> Decimal | None:
    """单户500万元及以下担保金额占比 = new_single_le5m / fin_new. Source: 财金〔2025〕11号 art. 6."""
    return _ratio(values, "new_single_le5m", "fin_new")


def single_le10m_share(values: Values, params: Params) -> Decimal | None:
    """单户1000万元及以下担保金额占比 = new_single_le10m / fin_new. Source: 银保监发〔2020〕39号."""
    return _ratio(values, "new_single_le10m", "fin_new")


def support_share_clients(values: Values, params: Params) -> Decimal | None:
    """支小支农户数占比 = small_micro_agri_clients / fin_inforce_clients. Source: 巴南府发〔2017〕30号."""
    return _ratio(values, "small_micro_agri_clients", "fin_inforce_clients")


def support_share_new_clients(values: Values, params: Params) -> Decimal | None:
    """新增支小支农户数占比 = small_micro_agri_new_clients / new_clients. Source: 财金〔2020〕19号."""
    return _ratio(values, "small_micro_agri_new_clients", "new_clients")


def bank_risk_share(values: Values, params: Params) -> Decimal | None:
    """银行分险比例 = bank_risk_amount / bank_shared_balance. Source: 国办发〔2019〕6号 (≥20%)."""
    return _ratio(values, "bank_risk_amount", "bank_shared_balance")


def bank_sharing_coverage(values: Values, params: Params) -> Decimal | None:
    """银行分险业务覆盖率 = bank_shared_balance / loan_balance (portal definition, indicators.csv)."""
    return _ratio(values, "bank_shared_balance", "loan_balance")


def liability_report_gap(values: Values, params: Params) -> Decimal | None:
    """责任余额填报偏差 = fin_liability_reported − fin_liability_balance (computed).
    Source: 非现场监管规程 art. 13 (logical checks); beyond tolerance it is a data-quality finding."""
    got = _get(values, "fin_liability_reported")
    computed = fin_liability_balance(values, params)
    return None if got is None or computed is None else got[0] - computed


# --- registry ---------------------------------------------------------------------------------------

PERCENT, RATIO, WAN_YUAN, BOOLEAN = "percent", "ratio", "wan_yuan", "boolean"

LIABILITY_INPUTS = (
    "loan_balance",
    "loan_small_micro_le5m",
    "loan_farmer_le2m",
    "loan_housing",
    "bond_balance",
    "bond_aa_balance",
    "other_fin_balance",
)


@dataclass(frozen=True)
class Indicator:
    code: str
    name_zh: str
    formula: str  # with {placeholders} for the parameters in force: show `formula_text(params)`
    unit: str
    source: str
    inputs: tuple[str, ...]
    function: Callable[[Values, Params], Value] = field(repr=False)
    notes: str = ""

    @property
    def name(self) -> str:
        """The name in the user's language: English from the domain's indicator list, else Chinese."""
        from django.utils.translation import get_language

        if (get_language() or "").startswith("en"):
            return _english_names().get(self.code, self.name_zh)
        return self.name_zh

    @property
    def basis(self) -> str:
        """Source and notes in the user's language: the Chinese texts of the definitions are the msgids,
        their English is in the catalogue (test_languages checks that every one has it)."""
        from django.utils.translation import gettext

        if not self.notes:
            return gettext(self.source)
        return gettext("%(source)s（%(notes)s）") % {
            "source": gettext(self.source),
            "notes": gettext(self.notes),
        }

    def formula_text(self, params: Params) -> str:
        """The formula with the parameters in force written in (policy rows, never literals)."""
        return self.formula.format(**_formula_values(params))


def _formula_values(params: Params) -> dict[str, str]:
    def share(value: Decimal) -> str:
        return f"{(value * 100).normalize():f}%"

    return {
        "weight_small_micro_farmer": f"{params.weight_small_micro_farmer:.2f}",
        "weight_housing": f"{params.weight_housing:.2f}",
        "weight_bond_aa": f"{params.weight_bond_aa:.2f}",
        "weight_other": f"{params.weight_other:.2f}",
        "leverage_denominator": "(net_assets − equity_in_guarantee_companies)"
        if params.deduct_guarantee_equity
        else "net_assets",
        "sbf_balance_share": share(params.sbf_balance_share),
        "sbf_client_share": share(params.sbf_client_share),
    }


@functools.cache
def _english_names() -> dict[str, str]:
    """Names from the domain's indicator list; an indicator that is a report cell itself (extra_charges)
    takes the cell's English label from the template."""
    from reporting.fields_file import TEMPLATE_V1

    with open(TEMPLATE_V1, encoding="utf-8", newline="") as fh:
        names = {row["code"]: row["label_en"] for row in csv.DictReader(fh)}
    with open(Path(__file__).parent / "data" / "indicators.csv", encoding="utf-8", newline="") as fh:
        names.update({row["code"]: row["name_en"] for row in csv.DictReader(fh)})
    return names


def _ind(function, name_zh, formula, unit, source, inputs, notes=""):
    return Indicator(function.__name__, name_zh, formula, unit, source, tuple(inputs), function, notes)


INDICATORS: dict[str, Indicator] = {
    i.code: i
    for i in [
        _ind(
            fin_liability_balance,
            "融资担保责任余额",
            "{weight_small_micro_farmer}×(loan_small_micro_le5m + loan_farmer_le2m) + {weight_housing}×loan_housing"
            " + {weight_other}×(loan_balance − loan_small_micro_le5m − loan_farmer_le2m − loan_housing)"
            " + {weight_bond_aa}×bond_aa_balance + {weight_other}×(bond_balance − bond_aa_balance)"
            " + {weight_other}×other_fin_balance",
            WAN_YUAN,
            "融资担保责任余额计量办法（银保监发〔2018〕1号）；住房置业权重见银保监发〔2019〕37号",
            LIABILITY_INPUTS,
            "权重为政策参数",
        ),
        _ind(
            leverage,
            "融资担保放大倍数",
            "fin_liability_balance ÷ {leverage_denominator}",
            RATIO,
            "融资担保公司监督管理条例 第十五条；计量办法",
            (*LIABILITY_INPUTS, "net_assets", "equity_in_guarantee_companies"),
            "扣除对其他融资担保公司股权投资为政策参数",
        ),
        _ind(
            small_business_focus,
            "主要服务小微和农户认定",
            "farmer_small_micro_balance ÷ fin_balance ≥ {sbf_balance_share} 且 "
            "farmer_small_micro_clients ÷ fin_inforce_clients ≥ {sbf_client_share}",
            BOOLEAN,
            "融资担保责任余额计量办法（二手来源）",
            (
                "farmer_small_micro_balance",
                "fin_balance",
                "farmer_small_micro_clients",
                "fin_inforce_clients",
            ),
            "成立时适用较高的放大倍数上限（见放大倍数阈值）",
        ),
        _ind(
            single_client_concentration,
            "单一客户集中度",
            "top1_client_liability ÷ net_assets",
            PERCENT,
            "条例 第十六条",
            ("top1_client_liability", "net_assets"),
        ),
        _ind(
            group_concentration,
            "单一客户及关联方集中度",
            "top1_group_liability ÷ net_assets",
            PERCENT,
            "条例 第十六条",
            ("top1_group_liability", "net_assets"),
        ),
        _ind(
            controller_guarantees,
            "控股股东及实际控制人担保",
            "controller_guarantee_balance",
            WAN_YUAN,
            "条例 第十七条",
            ("controller_guarantee_balance",),
            "大于0即违规",
        ),
        _ind(
            extra_charges,
            "担保费以外其他收费",
            "extra_charges",
            WAN_YUAN,
            "银保监发〔2020〕39号 第六条",
            ("extra_charges",),
            "政府性机构应为0",
        ),
        _ind(
            class12_asset_ratio,
            "Ⅰ级和Ⅱ级资产占比",
            "(assets_class_1 + assets_class_2) ÷ (total_assets − compensation_receivable)",
            PERCENT,
            "融资担保公司资产比例管理办法",
            ("assets_class_1", "assets_class_2", "total_assets", "compensation_receivable"),
        ),
        _ind(
            class1_asset_ratio,
            "Ⅰ级资产占比",
            "assets_class_1 ÷ (total_assets − compensation_receivable)",
            PERCENT,
            "融资担保公司资产比例管理办法",
            ("assets_class_1", "total_assets", "compensation_receivable"),
        ),
        _ind(
            class3_asset_ratio,
            "Ⅲ级资产占比",
            "assets_class_3 ÷ (total_assets − compensation_receivable)",
            PERCENT,
            "融资担保公司资产比例管理办法",
            ("assets_class_3", "total_assets", "compensation_receivable"),
        ),
        _ind(
            capital_adequacy_ratio,
            "净资产与准备金之和占资产比",
            "(net_assets + unearned_reserve + compensation_reserve) ÷ total_assets",
            PERCENT,
            "融资担保公司资产比例管理办法（二手来源）",
            ("net_assets", "unearned_reserve", "compensation_reserve", "total_assets"),
        ),
        _ind(
            unearned_reserve_ratio,
            "未到期责任准备金计提率",
            "unearned_reserve ÷ guarantee_fee_income",
            PERCENT,
            "融资性担保公司管理暂行办法 第三十一条",
            ("unearned_reserve", "guarantee_fee_income"),
            "年末（第四季度）有意义",
        ),
        _ind(
            compensation_reserve_ratio,
            "担保赔偿准备金覆盖率",
            "compensation_reserve ÷ fin_liability_balance",
            PERCENT,
            "融资性担保公司管理暂行办法 第三十一条",
            ("compensation_reserve", *LIABILITY_INPUTS),
        ),
        _ind(
            provision_coverage,
            "拨备覆盖率",
            "(compensation_reserve + unearned_reserve) ÷ compensation_receivable",
            PERCENT,
            "无官方公式（本平台定义）",
            ("compensation_reserve", "unearned_reserve", "compensation_receivable"),
            "应收代偿款为0时无定义",
        ),
        _ind(
            compensation_rate,
            "融资担保代偿率",
            "compensation ÷ fin_released",
            PERCENT,
            "2010年全国风险监测表 C3；聊城/温州/武汉政策",
            ("compensation", "fin_released"),
            "本年累计",
        ),
        _ind(
            cumulative_compensation_rate,
            "累计代偿率",
            "compensation_cumulative ÷ released_cumulative",
            PERCENT,
            "2010年全国风险监测表 C3",
            ("compensation_cumulative", "released_cumulative"),
        ),
        _ind(
            recovery_rate,
            "代偿回收率",
            "recovery ÷ (compensation_balance_opening + compensation)",
            PERCENT,
            "2010年全国风险监测表 C3",
            ("recovery", "compensation_balance_opening", "compensation"),
        ),
        _ind(
            average_fee_rate,
            "平均年化担保费率",
            "fin_fee_income ÷ annualized_new_amount",
            PERCENT,
            "国办发〔2019〕6号；财建〔2018〕547号",
            ("fin_fee_income", "annualized_new_amount"),
            "年化额 = 金额 × 天数/365",
        ),
        _ind(
            fee_rate_le5m,
            "单户500万元及以下年化担保费率",
            "fee_new_le5m ÷ annualized_new_amount_le5m",
            PERCENT,
            "国办发〔2019〕6号（地方转述）",
            ("fee_new_le5m", "annualized_new_amount_le5m"),
        ),
        _ind(
            fee_rate_gt5m,
            "单户500万元以上年化担保费率",
            "fee_new_gt5m ÷ annualized_new_amount_gt5m",
            PERCENT,
            "国办发〔2019〕6号（地方转述）",
            ("fee_new_gt5m", "annualized_new_amount_gt5m"),
        ),
        _ind(
            support_share_amount,
            "支小支农担保金额占比",
            "small_micro_agri_new ÷ fin_new",
            PERCENT,
            "财金〔2025〕11号 第六条；国办发〔2019〕6号",
            ("small_micro_agri_new", "fin_new"),
        ),
        _ind(
            single_le5m_share,
            "单户500万元及以下担保金额占比",
            "new_single_le5m ÷ fin_new",
            PERCENT,
            "财金〔2025〕11号 第六条",
            ("new_single_le5m", "fin_new"),
        ),
        _ind(
            single_le10m_share,
            "单户1000万元及以下担保金额占比",
            "new_single_le10m ÷ fin_new",
            PERCENT,
            "银保监发〔2020〕39号",
            ("new_single_le10m", "fin_new"),
        ),
        _ind(
            support_share_clients,
            "支小支农户数占比",
            "small_micro_agri_clients ÷ fin_inforce_clients",
            PERCENT,
            "巴南府发〔2017〕30号",
            ("small_micro_agri_clients", "fin_inforce_clients"),
        ),
        _ind(
            support_share_new_clients,
            "新增支小支农户数占比",
            "small_micro_agri_new_clients ÷ new_clients",
            PERCENT,
            "财金〔2020〕19号",
            ("small_micro_agri_new_clients", "new_clients"),
        ),
        _ind(
            bank_risk_share,
            "银行分险比例",
            "bank_risk_amount ÷ bank_shared_balance",
            PERCENT,
            "国办发〔2019〕6号",
            ("bank_risk_amount", "bank_shared_balance"),
        ),
        _ind(
            bank_sharing_coverage,
            "银行分险业务覆盖率",
            "bank_shared_balance ÷ loan_balance",
            PERCENT,
            "本平台定义",
            ("bank_shared_balance", "loan_balance"),
        ),
        _ind(
            liability_report_gap,
            "责任余额填报偏差",
            "fin_liability_reported − fin_liability_balance",
            WAN_YUAN,
            "非现场监管规程 第十三条（逻辑校验）",
            ("fin_liability_reported", *LIABILITY_INPUTS),
            "超出容差为数据质量问题",
        ),
    ]
}


def compute_exact(values: Values, params: Params) -> dict[str, Value]:
    """Every indicator of the registry for one filing's values, exact: what thresholds are judged on."""
    return {code: ind.function(values, params) for code, ind in INDICATORS.items()}
