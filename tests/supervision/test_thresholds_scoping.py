"""Threshold scoping against the loaded policy set: region subtree, government-backed status on the
period end, small-business focus and effective dates, each at its boundary."""

import datetime as dt
from decimal import Decimal

import pytest

from supervision.indicators import LIABILITY_INPUTS
from supervision.models import IndicatorBreach, IndicatorRun, IndicatorValue, Threshold
from supervision.services.compute import filing_indicators_compute

from .factories import make_filing

pytestmark = pytest.mark.django_db


def breached(filing):
    return set(IndicatorBreach.objects.filter(filing=filing).values_list("threshold__code", flat=True))


def test_policy_set_loaded_from_the_domain_file():
    assert Threshold.objects.count() == 28
    t = Threshold.objects.get(code="FEE-04")
    assert (t.indicator, t.comparator, str(t.value), t.severity, t.scope, t.region_code) == (
        "average_fee_rate",
        "<=",
        "0.010000",
        "breach",
        "gov_backed",
        "330300",
    )
    assert t.effective_from == dt.date(2021, 1, 1) and t.effective_to is None
    assert Threshold.objects.get(code="PRV-01").q4_only is True
    assert Threshold.objects.get(code="DQ-01").value == Decimal("0.5")


def test_base_report_breaches_nothing_when_not_gov_backed(chengdu_institution):
    f = make_filing(chengdu_institution, 2025, 2)
    filing_indicators_compute(filing=f)
    assert IndicatorValue.objects.filter(filing=f).count() == 28
    assert breached(f) == set()


@pytest.mark.parametrize(
    ("published", "q2_backed", "q3_backed"),
    [
        (dt.date(2025, 6, 30), True, True),  # on the Q2 period end: applies to Q2
        (dt.date(2025, 7, 1), False, True),  # one day later: Q2 is judged as not government-backed
    ],
)
def test_gov_backed_status_on_period_end(chengdu_institution, gov_list, published, q2_backed, q3_backed):
    gov_list(chengdu_institution, published)
    q2 = make_filing(chengdu_institution, 2025, 2, fee_new_le5m="600")  # 600/50000 = 1.2% > 1%
    q3 = make_filing(chengdu_institution, 2025, 3, fee_new_le5m="600")
    filing_indicators_compute(filing=q2)
    filing_indicators_compute(filing=q3)
    assert ("FEE-01" in breached(q2)) is q2_backed
    assert ("FEE-01" in breached(q3)) is q3_backed


def test_removal_from_list_ends_gov_backed_thresholds(chengdu_institution, gov_list):
    gov_list(chengdu_institution, dt.date(2024, 1, 1))
    gov_list(chengdu_institution, dt.date(2025, 4, 1), action="remove")
    q1 = make_filing(chengdu_institution, 2025, 1, fee_new_le5m="600")
    q2 = make_filing(chengdu_institution, 2025, 2, fee_new_le5m="600")
    for f in (q1, q2):
        filing_indicators_compute(filing=f)
    assert "FEE-01" in breached(q1) and "FEE-01" not in breached(q2)


def test_wenzhou_rule_applies_under_330300_only(wenzhou_institution, jiaxing_institution, gov_list):
    for inst in (wenzhou_institution, jiaxing_institution):
        gov_list(inst, dt.date(2020, 1, 1))
    wz = make_filing(wenzhou_institution, 2025, 2)  # average fee 2%
    jx = make_filing(jiaxing_institution, 2025, 2)
    filing_indicators_compute(filing=wz)
    filing_indicators_compute(filing=jx)
    assert breached(wz) == {"FEE-03", "FEE-04"}  # national target + Wenzhou cap
    assert breached(jx) == {"FEE-03"}


@pytest.mark.parametrize(
    ("year", "quarter", "applies"),
    [
        (2020, 4, False),  # period end 2020-12-31 before 2021-01-01
        (2021, 1, True),
        (2023, 4, True),  # period end 2023-12-31 = effective_to
        (2024, 1, False),
    ],
)
def test_effective_dates_at_the_boundaries(wenzhou_institution, gov_list, year, quarter, applies):
    gov_list(wenzhou_institution, dt.date(2020, 1, 1))
    # leverage 4.4 < 5: misses the Wenzhou LEV-04 target (2021-01-01 … 2023-12-31)
    f = make_filing(wenzhou_institution, year, quarter, net_assets="51000")  # 220000 / 50000
    filing_indicators_compute(filing=f)
    assert IndicatorValue.objects.get(filing=f, code="leverage").value == Decimal("4.4")
    assert ("LEV-04" in breached(f)) is applies


@pytest.mark.parametrize(("year", "quarter", "applies"), [(2024, 4, False), (2025, 1, True)])
def test_support_share_floor_from_2025_03_01(chengdu_institution, gov_list, year, quarter, applies):
    gov_list(chengdu_institution, dt.date(2020, 1, 1))
    f = make_filing(chengdu_institution, year, quarter, small_micro_agri_new="79999")
    filing_indicators_compute(filing=f)
    assert ("SUP-01" in breached(f)) is applies


@pytest.mark.parametrize(("quarter", "applies"), [(3, False), (4, True)])
def test_q4_only_rule(chengdu_institution, quarter, applies):
    f = make_filing(chengdu_institution, 2025, quarter)  # unearned reserve ratio 25% < 50%
    filing_indicators_compute(filing=f)
    assert ("PRV-01" in breached(f)) is applies


@pytest.mark.parametrize(("clients", "breaches"), [("850", set()), ("799", {"LEV-01"})])
def test_leverage_cap_switches_with_small_business_focus(chengdu_institution, clients, breaches):
    # leverage 12: within 15× with the focus, above 10× without
    f = make_filing(
        chengdu_institution, 2025, 2, net_assets="19333.333333", farmer_small_micro_clients=clients
    )
    filing_indicators_compute(filing=f)
    assert breached(f) & {"LEV-01", "LEV-02"} == breaches


def test_undefined_indicator_is_not_judged(chengdu_institution):
    # no loans, bonds or other financing guaranteed: the reserve cover 2500 / 0 is undefined, neither
    # breach nor pass of PRV-02 (a zero base of a ratio over capital is a breach: test_exact_judging.py)
    nothing = dict.fromkeys(LIABILITY_INPUTS, "0")
    f = make_filing(chengdu_institution, 2025, 2, **nothing)
    filing_indicators_compute(filing=f)
    assert IndicatorValue.objects.get(filing=f, code="compensation_reserve_ratio").value is None
    prv02 = Threshold.objects.get(code="PRV-02")
    assert "PRV-02" not in breached(f)
    assert prv02.pk not in IndicatorRun.objects.get(filing=f).compliant_thresholds


def test_draft_filings_are_not_computed(chengdu_institution):
    f = make_filing(chengdu_institution, 2025, 2, submitted=False)
    assert filing_indicators_compute(filing=f) == []
    assert not IndicatorValue.objects.filter(filing=f).exists()
