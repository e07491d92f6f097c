"""schemes.md §1–3 worked examples, on the pure formulas (the same examples go through the services in
test_worked_examples.py)."""

import datetime as dt
from decimal import Decimal as D

import pytest

from subsidies import calculations as c

LIAOCHENG_BANDS = [
    c.CompensationBand(D("0.01"), D("1")),
    c.CompensationBand(D("0.03"), D("0.8")),
    c.CompensationBand(D("0.05"), D("0.6")),
    c.CompensationBand(D("0.08"), D("0.5"), upper_inclusive=True),
]
AWARD_BANDS = [c.CoefficientBand(D("0.015"), D("1.5")), c.CoefficientBand(D("0.02"), D("1.0"))]


def test_days_in_period_end_exclusive():
    y = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert c.days_in_period(dt.date(2025, 1, 1), dt.date(2026, 1, 1), *y) == 365
    assert c.days_in_period(dt.date(2025, 3, 1), dt.date(2025, 8, 28), *y) == 180
    assert c.days_in_period(dt.date(2024, 7, 1), dt.date(2025, 7, 1), *y) == 181
    assert c.days_in_period(dt.date(2026, 1, 1), dt.date(2026, 7, 1), *y) == 0


def test_money_rounds_half_up_once():
    assert c.money(D("0.245")) == D("0.25")
    assert c.money(D("50") * D("0.01") * 180 / 365) == D("0.25")


@pytest.mark.parametrize(
    ("released", "compensation", "marginal", "whole"),
    [
        ("10000", "600", "430.00", "300.00"),
        ("10000", "1000", "530.00", "400.00"),
        ("10000", "50", "50.00", "50.00"),
    ],
)
def test_risk_compensation_both_methods(released, compensation, marginal, whole):
    r = c.risk_compensation(released=D(released), compensation=D(compensation), bands=LIAOCHENG_BANDS)
    assert (r.marginal, r.whole) == (D(marginal), D(whole))


def test_risk_compensation_band_bounds():
    # exactly 1 %: band 2 (80 %); exactly 8 %: band 4 (inclusive)
    assert c.risk_compensation(released=D(100), compensation=D(1), bands=LIAOCHENG_BANDS).whole == D("0.80")
    assert c.risk_compensation(released=D(100), compensation=D(8), bands=LIAOCHENG_BANDS).whole == D("4.00")


def test_risk_compensation_nothing_released_is_uncomputable():
    with pytest.raises(c.Uncomputable) as exc:
        c.risk_compensation(released=D(0), compensation=D(10), bands=LIAOCHENG_BANDS)
    assert str(exc.value) == "解保额为零，代偿率无法计算，不能核定补偿额"


def test_award_allocation_worked_example():
    shares = c.award_allocation(
        D(1000),
        {"A": (D(20000), D("0.012")), "B": (D(10000), D("0.018")), "C": (D(5000), D("0.022"))},
        AWARD_BANDS,
    )
    got = {s.key: (s.coefficient, s.weighted, s.award) for s in shares}
    assert got == {
        "A": (D("1.5"), D("30000.0"), D("750.00")),
        "B": (D("1.0"), D("10000.0"), D("250.00")),
        "C": (None, D(0), D("0.00")),
    }


def test_award_coefficient_bounds():
    assert c.award_coefficient(D("0.015"), AWARD_BANDS) == D("1.5")
    assert c.award_coefficient(D("0.0150001"), AWARD_BANDS) == D("1.0")
    assert c.award_coefficient(D("0.02"), AWARD_BANDS) == D("1.0")
    assert c.award_coefficient(D("0.0200001"), AWARD_BANDS) is None


def test_pro_rata_factor():
    assert c.pro_rata_factor(budget=D(100), committed=D(60), requested=D(40)) is None
    assert c.pro_rata_factor(budget=D(100), committed=D(60), requested=D(65)) == D("0.8")


def test_many_lines_judged_once_per_combination_equal_one_by_one():
    import itertools

    lines = [
        c.FeeLine("a", "A", D("0.005"), D("0.02"), product_lines=("general",), single_client_max=D(1000)),
        c.FeeLine("b", "B", D("0.01"), D("0.01"), product_lines=("rural_startup",), gov_backed_only=True),
    ]
    facts = [
        c.GuaranteeFacts(
            i,
            f"H{i}",
            D(amount),
            D(rate),
            dt.date(2024, 12, 1) + dt.timedelta(days=i),
            dt.date(2025, 6, 1),
            line,
            "small_micro",
            gov,
            D(total),
        )
        for i, (amount, rate, line, gov, total) in enumerate(
            itertools.product(
                ("100", "300"),
                ("0.01", "0.021"),
                ("general", "rural_startup"),
                (True, False),
                ("900", "1100", "1200"),
            )
        )
    ]
    kw = dict(
        period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 12, 31), day_basis=365, on_govlist=False
    )
    assert c.fee_subsidy_lines(facts, lines, **kw) == [c.fee_subsidy_line(g, lines, **kw) for g in facts]
