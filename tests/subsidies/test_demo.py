import pytest

from subsidies import demo
from subsidies.choices import Status
from subsidies.models import Application

pytestmark = pytest.mark.django_db


def test_demo_has_every_state_under_each_seeded_scheme_and_reruns_quietly():
    first = demo.seed()
    assert first["applications"] == 27
    for code in ("banan-fee-subsidy", "liaocheng-fee-subsidy", "liaocheng-risk-compensation"):
        states = set(Application.objects.filter(scheme__code=code).values_list("status", flat=True))
        assert states == set(Status.values), (code, states)
    assert Application.objects.filter(status=Status.REJECTED).exists()
    assert demo.seed()["applications"] == 0
