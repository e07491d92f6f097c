import pytest

from reporting.models import Filing, ReportTemplate
from reporting.selectors import review_points_for, review_queue
from tests.factories import InstitutionFactory

pytestmark = pytest.mark.django_db


def _submitted(name, risk_score, breach_count=0):
    institution = InstitutionFactory(name=name, region_id="510104")
    return Filing.objects.create(
        institution=institution,
        year=2025,
        quarter=2,
        status="submitted",
        template=ReportTemplate.objects.get(version=1),
        risk_score=risk_score,
        breach_count=breach_count,
    )


def test_threshold_breaches_count_in_the_review_order(users):
    warned = _submitted("提示较多融资担保有限公司", risk_score=30)  # e.g. one unexplained warning
    breached = _submitted("违规融资担保有限公司", risk_score=0, breach_count=1)  # written by supervision
    quiet = _submitted("平稳融资担保有限公司", risk_score=0)
    cd, my = users["cd_regulator"], users["my_regulator"]
    queue = list(review_queue(cd, review_points_for(cd)))
    assert [(f.pk, f.risk, f.breach_count) for f in queue] == [
        (breached.pk, 40, 1),
        (warned.pk, 30, 0),
        (quiet.pk, 0, 0),
    ]
    assert list(review_queue(my, review_points_for(my))) == []
