import pytest
from django.urls import reverse

from guarantees.models import Client, Guarantee, GuaranteeEvent, ImportBatch, MagnitudeRule, ProductLine
from tests.factories import UserFactory

from .helpers import event_row, guarantee_row, load, person_id, person_row

pytestmark = pytest.mark.django_db


def test_admin_pages_show_people_masked(banks, chengdu_institution, users, client_for):
    load(
        users["cd_filer"],
        chengdu_institution,
        [guarantee_row(2), person_row(3, n=4, client_name="李四光")],
        [event_row(2)],
    )
    admin = client_for(UserFactory(username="t_superuser", role="admin", is_staff=True, is_superuser=True))
    for model in (ProductLine, MagnitudeRule, Client, Guarantee, GuaranteeEvent, ImportBatch):
        url = reverse(f"admin:guarantees_{model._meta.model_name}_changelist")
        assert admin.get(url).status_code == 200, model
    person = Client.objects.get(id_kind="resident_id")
    for url in (
        reverse("admin:guarantees_client_changelist"),
        reverse("admin:guarantees_client_change", args=[person.pk]),
    ):
        page = admin.get(url).content.decode()
        assert "李**" in page and f"**************{person_id(4)[-4:]}" in page
        assert "李四光" not in page and person.id_key not in page
    assert ProductLine.objects.count() == 4  # the seeded lines
