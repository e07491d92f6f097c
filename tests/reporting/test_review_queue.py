from decimal import Decimal

import pytest

from reporting.indicator_models import IndicatorBreach, Threshold
from reporting.models import Filing, ReportTemplate
from reporting.selectors import review_queue
from tests.factories import InstitutionFactory

pytestmark = pytest.mark.django_db


def _submitted(name, risk_score):
    institution = InstitutionFactory(name=name, region_id="510104")
    return Filing.objects.create(
        institution=institution,
        year=2025,
        quarter=2,
        status="submitted",
        template=ReportTemplate.objects.get(version=1),
        risk_score=risk_score,
    )


def test_threshold_breaches_count_in_the_review_order(users):
    warned = _submitted("提示较多融资担保有限公司", risk_score=30)  # e.g. one unexplained warning
    breached = _submitted("违规融资担保有限公司", risk_score=0)
    quiet = _submitted("平稳融资担保有限公司", risk_score=0)
    threshold = Threshold.objects.filter(severity="breach").order_by("code").first()
    IndicatorBreach.objects.create(
        filing=breached,
        institution=breached.institution,
        year=2025,
        quarter=2,
        threshold=threshold,
        indicator=threshold.indicator,
        value=Decimal("12"),
        comparator=threshold.comparator,
        limit=threshold.value,
        severity="breach",
    )
    queue = list(review_queue(users["cd_regulator"]))
    assert [(f.pk, f.risk, f.breach_count) for f in queue] == [
        (breached.pk, 40, 1),
        (warned.pk, 30, 0),
        (quiet.pk, 0, 0),
    ]
    assert list(review_queue(users["my_regulator"])) == []
