"""Judging on exact values (issue 10 §4), hand-computed through the pure functions, the stored computation,
the what-if preview and the pages: a value is judged unrounded and stored to 6 decimals; a ratio over the
institution's capital or assets whose base is zero or negative is a finding that meets no threshold on
it; when the small-business focus cannot be established the stricter leverage cap applies.

BASE (factories.py): weighted liability 220000, net assets 40000, equity in guarantee companies 1000,
total assets 50000, compensation receivable 2000; the focus test holds (53.8% ≥ 50%, 85% ≥ 80%)."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.urls import reverse

from accounts.models import User
from institutions.models import Institution
from reporting.models import Filing
from supervision import indicators as ind
from supervision import rules
from supervision.models import (
    IndicatorBreach,
    IndicatorRun,
    IndicatorValue,
    Threshold,
    WarningCase,
    WarningCaseQuarter,
)
from supervision.services.compute import indicators_compute_batch
from supervision.services.policy import THRESHOLD_FIELDS, threshold_preview, threshold_save

from .factories import BASE, decimals, make_filing
from .test_indicator_functions import LEV_01, LEV_02, PARAMS, T, compute_all

CON_01 = T("single_client_concentration", "<=", "0.10")
CON_02 = T("group_concentration", "<=", "0.15")
LEV_04 = T("leverage", ">=", "5")  # a target the other way round: still not met without capital
AST_01 = T("class12_asset_ratio", ">=", "0.70")
AST_02 = T("class1_asset_ratio", ">=", "0.20")
AST_03 = T("class3_asset_ratio", "<=", "0.30")
AST_04 = T("capital_adequacy_ratio", ">=", "0.60")
Q2 = dt.date(2025, 6, 30)

# 10000.01 / 100000 = 0.1000001: stored as 0.100000, over the 10% cap all the same.
JUST_OVER = {"top1_client_liability": "10000.01", "net_assets": "100000"}
# 19333.333333 − 1000 = 18333.333333; 220000 / 18333.333333 = 12.0000000218 (over 10×, under 15×).
# Concentrations 1000 and 2000 / 19333.33 = 5.2% and 10.3%; total assets 36000 keeps the asset ratios
# in bounds: 35000/34000 = 102.9%, 20000/34000 = 58.8%, 9600/34000 = 28.2%, 22333.33/36000 = 62.0%.
LEVERAGE_12 = {
    "net_assets": "19333.333333",
    "top1_client_liability": "1000",
    "top1_group_liability": "2000",
    "total_assets": "36000",
}
NO_CLIENTS = {"fin_inforce_clients": "0"}  # 850 / 0: the focus test cannot be computed


def subject(focus: bool | None = True) -> rules.Subject:
    return rules.Subject("510104", Q2, 2, False, focus)


def verdicts(values: dict, thresholds: list[T], focus: bool | None = True) -> list[tuple]:
    exact = ind.compute_exact(decimals({**BASE, **values}), PARAMS)
    return rules.evaluate(exact, subject(focus), thresholds)


# --- pure functions ---------------------------------------------------------------------------------


def test_a_value_just_over_the_cap_breaches_although_it_is_stored_at_the_cap():
    values = decimals({**BASE, **JUST_OVER})
    assert ind.compute_exact(values, PARAMS)["single_client_concentration"] == D("0.1000001")
    assert compute_all(values)["single_client_concentration"] == D("0.100000")
    assert verdicts(JUST_OVER, [CON_01]) == [(CON_01, D("0.1000001"), False)]
    at_cap = {**JUST_OVER, "top1_client_liability": "10000"}
    assert verdicts(at_cap, [CON_01]) == [(CON_01, D("0.1"), True)]


def test_stored_values_are_the_exact_ones_rounded_half_up():
    exact = ind.compute_exact(decimals({**BASE, **LEVERAGE_12}), PARAMS)
    assert exact["leverage"] == D("220000") / D("18333.333333")
    assert ind.stored(exact["leverage"]) == D("12.000000")
    assert ind.stored(D("0.0000005")) == D("0.000001") and ind.stored(None) is None


@pytest.mark.parametrize(
    ("net_assets", "base"),
    [("1000", D("0")), ("500", D("-500")), ("-3000", D("-4000"))],  # less the 1000 of equity
)
def test_leverage_without_capital_breaches_every_leverage_threshold(net_assets, base):
    values = decimals({**BASE, "net_assets": net_assets})
    assert ind.leverage(values, PARAMS) == ind.NonPositiveBase(base)
    assert compute_all(values)["leverage"] is None  # stored undefined, never −440×
    finding = ind.NonPositiveBase(base)
    assert verdicts({"net_assets": net_assets}, [LEV_01, LEV_02, LEV_04]) == [
        (LEV_02, finding, False),
        (LEV_04, finding, False),
    ]


def test_leverage_base_follows_the_deduction_switch():
    no_deduction = ind.Params(**{**PARAMS.__dict__, "deduct_guarantee_equity": False})
    values = decimals({**BASE, "net_assets": "500"})
    assert ind.leverage(values, no_deduction) == D("440")  # 220000 / 500: capital is there
    assert ind.leverage(decimals({**BASE, "net_assets": "0"}), no_deduction) == ind.NonPositiveBase(D("0"))


@pytest.mark.parametrize(
    ("overrides", "codes", "thresholds"),
    [
        (
            {"net_assets": "-100"},
            ("single_client_concentration", "group_concentration"),
            [CON_01, CON_02],
        ),
        (
            {"total_assets": "2000"},  # 2000 − 2000 of compensation receivable
            ("class12_asset_ratio", "class1_asset_ratio", "class3_asset_ratio"),
            [AST_01, AST_02, AST_03],
        ),
        ({"total_assets": "0"}, ("capital_adequacy_ratio",), [AST_04]),
    ],
)
def test_other_ratios_over_capital_or_assets_without_a_positive_base(overrides, codes, thresholds):
    exact = ind.compute_exact(decimals({**BASE, **overrides}), PARAMS)
    assert all(isinstance(exact[c], ind.NonPositiveBase) for c in codes)
    assert [ok for _t, _v, ok in verdicts(overrides, thresholds)] == [False] * len(thresholds)


def test_a_missing_cell_is_still_undefined_and_not_judged():
    values = decimals(BASE)
    del values["net_assets"]
    assert ind.leverage(values, PARAMS) is None
    assert rules.evaluate(ind.compute_exact(values, PARAMS), subject(), [LEV_01, LEV_02, CON_01]) == []


def test_focus_that_cannot_be_established_applies_the_stricter_cap():
    exact = ind.compute_exact(decimals({**BASE, **LEVERAGE_12, **NO_CLIENTS}), PARAMS)
    assert exact["small_business_focus"] is None
    assert rules.subject_focus(exact) is None
    assert verdicts({**LEVERAGE_12, **NO_CLIENTS}, [LEV_01, LEV_02], focus=None) == [
        (LEV_01, exact["leverage"], False)
    ]
    assert rules.scope_holds("not_small_business_focus", subject(None)) is True
    assert rules.scope_holds("small_business_focus", subject(None)) is False


# --- the stored computation -------------------------------------------------------------------------


def breaches(filing: Filing) -> dict[str, D | None]:
    return {
        code: value
        for code, value in IndicatorBreach.objects.filter(filing=filing).values_list(
            "threshold__code", "value"
        )
    }


def stored(filing: Filing, code: str) -> D | None:
    return IndicatorValue.objects.get(filing=filing, code=code).value


@pytest.mark.django_db
def test_stored_computation_judges_exact_values_and_findings(chengdu_institution, mianyang_institution):
    over = make_filing(chengdu_institution, 2025, 1, **JUST_OVER)
    at_cap = make_filing(chengdu_institution, 2025, 2, **{**JUST_OVER, "top1_client_liability": "10000"})
    zero = make_filing(chengdu_institution, 2025, 3, net_assets="1000")
    negative = make_filing(mianyang_institution, 2025, 1, net_assets="-100")
    unfocused = make_filing(mianyang_institution, 2025, 2, **LEVERAGE_12, **NO_CLIENTS)
    focused = make_filing(mianyang_institution, 2025, 3, **LEVERAGE_12)
    indicators_compute_batch(institution_ids=[chengdu_institution.pk, mianyang_institution.pk])

    assert stored(over, "single_client_concentration") == D("0.100000")
    assert breaches(over) == {"CON-01": D("0.100000")}
    assert breaches(at_cap) == {}
    # 3000 and 5000 over net assets of 1000 (300%, 500%); (1000 + 3000) / 50000 = 8% < 60%
    assert stored(zero, "leverage") is None
    assert breaches(zero) == {"LEV-02": None, "CON-01": D("3"), "CON-02": D("5"), "AST-04": D("0.08")}
    # (−100 + 500 + 2500) / 50000 = 5.8%
    assert breaches(negative) == {"LEV-02": None, "CON-01": None, "CON-02": None, "AST-04": D("0.058")}
    assert IndicatorRun.objects.get(filing=unfocused).small_business_focus is None
    assert stored(unfocused, "leverage") == D("12.000000")
    assert breaches(unfocused) == {"LEV-01": D("12.000000")}
    assert breaches(focused) == {}  # 12× is within the 15× cap of a focused institution
    cases = {
        (q.filing_id, q.case.threshold.code): q.value
        for q in WarningCaseQuarter.objects.select_related("case__threshold")
    }
    assert cases[(over.pk, "CON-01")] == D("0.100000")
    assert cases[(negative.pk, "LEV-02")] is None
    assert cases[(unfocused.pk, "LEV-01")] == D("12.000000")


# --- the what-if preview ----------------------------------------------------------------------------


@pytest.fixture
def edge_filings(chengdu_institution: Institution, mianyang_institution: Institution) -> dict[str, Filing]:
    """Q2 2025: one concentration just over 10%, one institution without capital."""
    over = make_filing(chengdu_institution, 2025, 2, **JUST_OVER)
    no_capital = make_filing(mianyang_institution, 2025, 2, net_assets="500")
    indicators_compute_batch(institution_ids=[chengdu_institution.pk, mianyang_institution.pk])
    return {"over": over, "no_capital": no_capital}


def previewed(threshold: Threshold | None, proposed: dict, user: User) -> tuple[set, set]:
    preview = threshold_preview(threshold=threshold, proposed=proposed, user=user)
    return (
        {(e["filing_id"], e["value"]) for p in preview for e in p["newly"]},
        {(e["filing_id"], e["value"]) for p in preview for e in p["cleared"]},
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "change", "newly", "cleared"),
    [
        # 0.1000001 ≤ 12%: cleared; 3000/500 = 600% stays over
        ("CON-01", {"value": D("0.12")}, set(), {("over", D("0.100000"))}),
        # moved to Zhejiang: both Sichuan breaches clear, 10.00001% among them although stored as 10%
        (
            "CON-01",
            {"region_code": "330000", "region_name": "浙江省"},
            set(),
            {("over", D("0.100000")), ("no_capital", D("6.000000"))},
        ),
        # a minimum of 2×: 220000/99000 = 2.22× meets it; without capital nothing is met
        ("LEV-02", {"comparator": ">=", "value": D("2")}, set(), set()),
        # at most 2× for every institution: 2.22× newly over it; without capital over it already
        ("LEV-02", {"scope": "all", "value": D("2")}, {("over", D("2.222222"))}, set()),
    ],
)
def test_preview_judges_exact_values_and_agrees_with_the_stored_result(
    users, edge_filings, django_capture_on_commit_callbacks, code, change, newly, cleared
):
    threshold = Threshold.objects.get(code=code)
    proposed = {**{f: getattr(threshold, f) for f in THRESHOLD_FIELDS}, **change}
    ids = {name: f.pk for name, f in edge_filings.items()}
    old = set(IndicatorBreach.objects.filter(threshold=threshold).values_list("filing_id", flat=True))
    assert previewed(threshold, proposed, users["admin"]) == (
        {(ids[n], v) for n, v in newly},
        {(ids[n], v) for n, v in cleared},
    )
    with django_capture_on_commit_callbacks(execute=True):
        threshold_save(actor=users["admin"], threshold=threshold, **proposed)
    new = set(IndicatorBreach.objects.filter(threshold=threshold).values_list("filing_id", flat=True))
    assert (new - old, old - new) == ({ids[n] for n, _v in newly}, {ids[n] for n, _v in cleared})


@pytest.mark.django_db
def test_preview_of_a_new_threshold_counts_a_ratio_without_capital_as_a_breach(users, edge_filings):
    lev02 = Threshold.objects.get(code="LEV-02")
    proposed = {**{f: getattr(lev02, f) for f in THRESHOLD_FIELDS}, "scope": "all", "value": D("3")}
    # 2.22× is within 3×; the leverage of an institution without capital is undefined and over any cap
    assert previewed(None, proposed, users["admin"]) == ({(edge_filings["no_capital"].pk, None)}, set())


# --- the pages --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_show_why_a_ratio_without_capital_breaches(client_for, users, chengdu_institution):
    filing = make_filing(chengdu_institution, 2025, 2, net_assets="500")
    indicators_compute_batch(institution_ids=[chengdu_institution.pk])
    client = client_for(users["cd_regulator"])
    reason = "分母为零或负数（-500.00），无法计算比值，视为未满足该指标的全部阈值"
    lineage = client.get(reverse("supervision:filing_indicators", args=[filing.pk])).content.decode()
    leverage_row = lineage.split('id="ind-leverage"')[1].split('id="ind-')[0]
    assert reason in leverage_row and "LEV-02" in leverage_row and "未满足" in leverage_row
    institution = client.get(
        reverse("supervision:institution_indicators", args=[chengdu_institution.pk])
    ).content.decode()
    short = "分母为零或负数，无法计算比值，视为未满足阈值"
    assert institution.count(short) == 1  # the leverage cell
    warnings = client.get(reverse("supervision:warnings")).content.decode()
    assert warnings.count(short) == 1  # of LEV-02, CON-01, CON-02, AST-04: only LEV-02 has no value
    drill = client.get(reverse("supervision:indicator_drill"), {"period": "2025Q2", "rule": "LEV-02"})
    assert drill.content.decode().count(short) == 1
    case = WarningCase.objects.get(filing=filing, threshold__code="LEV-02")
    detail = client.get(reverse("supervision:warning_detail", args=[case.pk])).content.decode()
    assert reason in detail


@pytest.mark.django_db
def test_pages_say_the_focus_could_not_be_established(client_for, users, chengdu_institution):
    filing = make_filing(chengdu_institution, 2025, 2, **LEVERAGE_12, **NO_CLIENTS)
    indicators_compute_batch(institution_ids=[chengdu_institution.pk])
    client = client_for(users["cd_regulator"])
    note = "主要服务小微和农户认定无法确定（分母为零），按非主要服务小微和农户机构的较严格上限评价"
    lineage = client.get(reverse("supervision:filing_indicators", args=[filing.pk])).content.decode()
    assert note in lineage
    case = WarningCase.objects.get(filing=filing, threshold__code="LEV-01")
    detail = client.get(reverse("supervision:warning_detail", args=[case.pk])).content.decode()
    assert note in detail
    other = make_filing(chengdu_institution, 2025, 3, **LEVERAGE_12, farmer_small_micro_clients="700")
    indicators_compute_batch(filing_ids=[other.pk])  # focus established as not met: no such note
    case = WarningCase.objects.get(filing=other, threshold__code="LEV-01")
    assert note not in client.get(reverse("supervision:warning_detail", args=[case.pk])).content.decode()
    institution = client.get(
        reverse("supervision:institution_indicators", args=[chengdu_institution.pk])
    ).content.decode()
    assert institution.count(note) == 1  # the focus cell of Q2
