"""Indicator values read by period: only the indicators the pages chart are indexed by (code, year,
quarter) — the full index was the largest cost of a national recompute — and any other is found through
the period's runs and the key (filing, code), with the same rows."""

import pytest
from django.db import connection

from supervision import selectors
from supervision import views as supervision_views
from supervision.models import PERIOD_INDEXED, IndicatorValue
from supervision.services.compute import institution_indicators_compute

from .factories import make_filing

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(chengdu_institution, mianyang_institution):
    for inst in (chengdu_institution, mianyang_institution):
        for year, quarter in ((2024, 4), (2025, 1), (2025, 2)):
            make_filing(inst, year, quarter, top1_client_liability=str(1000 * quarter))
        institution_indicators_compute(institution_id=inst.pk)


def _rows(qs):
    return sorted(qs.values_list("filing_id", "code", "year", "quarter", "value"))


@pytest.mark.parametrize("codes", [["leverage"], ["recovery_rate"], ["average_fee_rate", "recovery_rate"]])
def test_values_of_periods_are_those_of_a_plain_filter(computed, codes):
    assert "recovery_rate" not in PERIOD_INDEXED  # read through the runs
    periods = [(2025, 1), (2024, 4)]
    got = _rows(IndicatorValue.objects.of_periods(periods, codes))
    expected = [
        r
        for r in _rows(IndicatorValue.objects.filter(code__in=codes))
        if (r[2], r[3]) in periods  # 2025Q2 left out
    ]
    assert len(expected) == 2 * 2 * len(codes)
    assert got == expected


def test_the_pages_chart_only_indexed_indicators():
    """The dashboard's charts, the peer comparison and the annual report read these by period."""
    charted = {*supervision_views.TREND_CODES, *selectors.PEER_CODES, "leverage", "average_fee_rate"}
    charted |= {"support_share_amount"}
    assert charted <= set(PERIOD_INDEXED)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's")
def test_plans_by_period_use_the_partial_index_or_the_key(computed):
    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")  # a few rows: show what the index can serve
    indexed = IndicatorValue.objects.of_periods([(2025, 1)], ["leverage", "compensation_rate"])
    assert "indicator_value_page_period" in indexed.explain()
    other = IndicatorValue.objects.of_periods([(2025, 1)], ["recovery_rate"]).explain()
    assert "supervision_indicatorvalue_pkey" in other
    assert "indicator_value_page_period" not in other
