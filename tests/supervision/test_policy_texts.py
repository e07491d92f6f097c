"""Numbers in the indicator pages' texts come from the policy rows in force (the leverage cap, the
parameters written into the formulas), and a missing row fails the page or the computation loudly."""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.urls import reverse

from core.policy import PolicyMissing
from supervision.models import PolicyParameter, Threshold, WarningCase
from supervision.services.compute import institution_indicators_compute

from .factories import make_filing

pytestmark = pytest.mark.django_db
NOT_FOCUSED = {"farmer_small_micro_clients": "700"}  # 70% of clients < 80%: not small-business focused


@pytest.fixture
def lineage(users, client_for, chengdu_institution):
    """lineage(**values) → a function reading the lineage page of a computed 2025Q2 filing of Chengdu."""

    def make(**values) -> Callable[[], str]:
        filing = make_filing(chengdu_institution, 2025, 2, **values)
        institution_indicators_compute(institution_id=chengdu_institution.pk)
        url = reverse("supervision:filing_indicators", args=[filing.pk])
        return lambda: client_for(users["cd_regulator"]).get(url).content.decode()

    return make


def test_the_leverage_cap_shown_is_the_threshold_in_force_for_a_focused_institution(lineage):
    Threshold.objects.filter(code="LEV-02").update(value=Decimal("12"))
    assert "主要服务小微和农户（放大倍数上限 12.00 倍）" in lineage()()


def test_the_leverage_cap_shown_is_the_threshold_in_force_for_another_institution(lineage):
    Threshold.objects.create(
        code="LEV-SC",
        indicator="leverage",
        comparator="<=",
        value=Decimal("8"),
        severity="breach",
        scope="all",
        region_code="510000",
        effective_from=dt.date(2025, 1, 1),
        source="四川省（测试）",
    )
    assert "非主要服务小微和农户（放大倍数上限 8.00 倍）" in lineage(**NOT_FOCUSED)()  # below LEV-01's 10


def test_a_missing_leverage_cap_fails_the_page_loudly(lineage):
    page = lineage(**NOT_FOCUSED)
    assert "非主要服务小微和农户（放大倍数上限 10.00 倍）" in page()
    Threshold.objects.filter(code="LEV-01").delete()
    with pytest.raises(PolicyMissing, match="（地区 510104，日期 2025-06-30）"):
        page()


def test_formulas_show_the_parameters_in_force(lineage):
    page = lineage()
    html = page()
    assert "0.75×(loan_small_micro_le5m + loan_farmer_le2m) + 0.30×loan_housing" in html
    assert "fin_liability_balance ÷ (net_assets − equity_in_guarantee_companies)" in html
    assert "farmer_small_micro_balance ÷ fin_balance ≥ 50% 且" in html
    PolicyParameter.objects.filter(key="weight_housing").update(value=Decimal("0.4"))
    PolicyParameter.objects.filter(key="sbf_client_share").update(value=Decimal("0.75"))
    PolicyParameter.objects.filter(key="deduct_guarantee_equity").update(value=Decimal("0"))
    html = page()
    assert "0.75×(loan_small_micro_le5m + loan_farmer_le2m) + 0.40×loan_housing" in html
    assert "fin_liability_balance ÷ net_assets</code>" in html
    assert "farmer_small_micro_clients ÷ fin_inforce_clients ≥ 75%</code>" in html


def test_warning_case_formula_shows_the_parameters_of_its_quarter(users, client_for, chengdu_institution):
    make_filing(chengdu_institution, 2025, 2, net_assets="10000")  # leverage 220000 ÷ 9000 > 15
    institution_indicators_compute(institution_id=chengdu_institution.pk)
    case = WarningCase.objects.get(institution=chengdu_institution, threshold__code="LEV-02")
    url = reverse("supervision:warning_detail", args=[case.pk])
    page = client_for(users["cd_regulator"])
    html = page.get(url).content.decode()
    assert "<code>fin_liability_balance ÷ (net_assets − equity_in_guarantee_companies)</code>" in html
    PolicyParameter.objects.filter(key="deduct_guarantee_equity").update(value=Decimal("0"))
    assert "<code>fin_liability_balance ÷ net_assets</code>" in page.get(url).content.decode()


def test_a_missing_parameter_fails_the_computation_loudly(chengdu_institution):
    make_filing(chengdu_institution, 2025, 2)
    PolicyParameter.objects.filter(key="weight_housing").delete()
    with pytest.raises(PolicyMissing) as exc:
        institution_indicators_compute(institution_id=chengdu_institution.pk)
    assert exc.value.messages == ["缺少政策数据：指标计算参数 weight_housing（地区 全国，日期 2025-06-30）"]
