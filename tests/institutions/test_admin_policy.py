import pytest
from django.urls import reverse

from core.models import AuditEvent
from institutions.models import PolicyRule, ProvinceLicenceSetting

pytestmark = pytest.mark.django_db


def test_policy_rule_edit_in_admin_is_audited(users, client_for):
    admin_user = users["admin"]
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    rule = PolicyRule.objects.get(code="paid_in_min")
    url = reverse("admin:institutions_policyrule_change", args=[rule.pk])
    response = client_for(admin_user).post(
        url,
        {
            "code": "paid_in_min",
            "region_code": "",
            "severity": "breach",
            "value": "3000",
            "text_value": "",
            "effective_from": "2017-10-01",
            "effective_to": "",
            "source": rule.source,
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.for_object(rule).get()
    assert (event.action, event.changes["value"], event.actor) == (
        "update",
        ["2000.0000", "3000.0000"],
        admin_user,
    )
    assert ProvinceLicenceSetting.objects.get(region_code="510000").number_pattern == r"^川[A-Z][0-9]{3,6}$"
