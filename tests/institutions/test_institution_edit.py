import pytest
from django.urls import reverse

from institutions.signals import institution_attributes_changed

pytestmark = pytest.mark.django_db


def form_data(inst, **over):
    data = {
        "name": inst.name,
        "kind": inst.kind,
        "parent": "",
        "region": inst.region_id,
        "level": inst.level,
        "ownership": inst.ownership,
        "registered_capital": "30000",
        "paid_in_capital": "30000",
        "established_on": "",
        "legal_representative": "",
        "address": "",
        "status": inst.status,
        "staff_count": "",
    }
    data.update(over)
    return data


@pytest.mark.parametrize(
    "who,status",
    [
        ("cd_regulator", 302),
        ("sc_regulator", 302),
        ("admin", 302),
        ("my_regulator", 404),
        ("cd_filer", 403),
        ("cd_finance", 403),
        ("zj_regulator", 404),
    ],
)
def test_edit_matrix_and_signal(who, status, users, chengdu_institution, client_for):
    received = []

    def listener(sender, **kwargs):
        received.append(kwargs["institution_ids"])

    institution_attributes_changed.connect(listener)
    try:
        url = reverse("institutions:edit", args=[chengdu_institution.pk])
        response = client_for(users[who]).post(
            url, form_data(chengdu_institution, ownership="mixed", legal_representative="李四")
        )
    finally:
        institution_attributes_changed.disconnect(listener)
    assert response.status_code == status
    chengdu_institution.refresh_from_db()
    changed = status == 302
    assert (chengdu_institution.ownership, chengdu_institution.legal_representative) == (
        ("mixed", "李四") if changed else ("state", "")
    )
    assert received == ([[chengdu_institution.pk]] if changed else [])


def test_city_regulator_cannot_move_institution_out_of_jurisdiction(users, chengdu_institution, client_for):
    url = reverse("institutions:edit", args=[chengdu_institution.pk])
    response = client_for(users["cd_regulator"]).post(url, form_data(chengdu_institution, region="510703"))
    assert response.status_code == 200  # the region is not offered: form error
    chengdu_institution.refresh_from_db()
    assert chengdu_institution.region_id == "510104"
