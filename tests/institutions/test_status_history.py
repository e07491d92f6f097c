"""A company's operating status over time: each change and the day it took effect, kept by every write
(page, API, import), shown on the institution page and in the API, scoped as the institution."""

import datetime as dt

import pytest
from django.db import connection
from rest_framework.test import APIClient

from institutions.models import StatusChange

pytestmark = pytest.mark.django_db


def test_changes_through_the_api_are_kept_and_read_back_oldest_first(users, mianyang_institution):
    client = APIClient()
    client.force_authenticate(users["my_regulator"])
    url = f"/api/v1/institutions/{mianyang_institution.credit_code}/"
    for body in (
        {"status": "suspended", "status_changed_on": "2025-05-10"},
        {"status": "operating", "status_changed_on": "2025-08-20"},
    ):
        assert client.patch(url, body, format="json").status_code == 200
    data = client.get(url).json()
    assert (data["status"], data["status_changed_on"]) == ("operating", "2025-08-20")
    assert data["status_changes"] == [
        {"status": "suspended", "effective_on": "2025-05-10"},
        {"status": "operating", "effective_on": "2025-08-20"},
    ]
    # an implausible day is refused with the field named, and nothing changes
    refused = client.patch(url, {"status": "suspended", "status_changed_on": "0421-08-08"}, format="json")
    assert refused.status_code == 400 and "status_changed_on" in refused.json()["errors"]
    assert StatusChange.objects.filter(institution=mianyang_institution).count() == 2
    # another province's regulator sees neither the institution nor its history
    other = APIClient()
    other.force_authenticate(users["zj_regulator"])
    assert other.get(url).status_code == 404


def test_the_institution_page_lists_the_history(users, client_for, mianyang_institution):
    from institutions.services import institution_upsert

    code = mianyang_institution.credit_code
    institution_upsert(
        actor=None, credit_code=code, status="suspended", status_changed_on=dt.date(2025, 5, 10)
    )
    institution_upsert(
        actor=None, credit_code=code, status="operating", status_changed_on=dt.date(2025, 8, 20)
    )
    page = client_for(users["my_regulator"]).get(f"/institutions/{mianyang_institution.pk}/").content.decode()
    assert '正常经营 <span class="small text-secondary">自 2025-08-20 起</span>' in page
    assert "<li>2025-05-10 暂停业务</li><li>2025-08-20 正常经营</li>" in page
    english = client_for(users["my_regulator"]).get(
        f"/institutions/{mianyang_institution.pk}/", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "since 2025-08-20" in english.content.decode()
    assert (
        client_for(users["zj_regulator"]).get(f"/institutions/{mianyang_institution.pk}/").status_code == 404
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a committing test's flush is a TRUNCATE on PostgreSQL only"
)
@pytest.mark.django_db(transaction=True)
def test_a_change_outside_any_transaction_is_kept_with_its_history_in_one():
    """As a management command or a worker calls it: the upsert opens its own transaction (it locks the
    institution's row) and writes the change and its history together."""
    from institutions.services import institution_upsert
    from tests.factories import InstitutionFactory

    company = InstitutionFactory()
    institution_upsert(
        actor=None, credit_code=company.credit_code, status="exiting", status_changed_on=dt.date(2025, 3, 1)
    )
    assert list(company.status_changes.values_list("status", "effective_on")) == [
        ("exiting", dt.date(2025, 3, 1))
    ]


def test_the_api_list_and_the_page_cost_the_same_queries_however_long_the_histories(
    users, client_for, mianyang_institution
):
    from django.test.utils import CaptureQueriesContext

    from institutions.services import institution_upsert
    from tests.factories import InstitutionFactory

    api = APIClient()
    api.force_authenticate(users["my_regulator"])
    page = client_for(users["my_regulator"])

    def queries(get, url):
        with CaptureQueriesContext(connection) as ctx:
            assert get(url).status_code == 200
        return len(ctx.captured_queries)

    def counts():
        return (
            queries(api.get, "/api/v1/institutions/"),
            queries(page.get, f"/institutions/{mianyang_institution.pk}/"),
        )

    before = counts()
    for n, status in enumerate(["suspended", "operating", "suspended", "operating"]):
        institution_upsert(
            actor=None,
            credit_code=mianyang_institution.credit_code,
            status=status,
            status_changed_on=dt.date(2024, 1 + n, 1),
        )
        other = InstitutionFactory(region_id="510703", status="operating")
        institution_upsert(actor=None, credit_code=other.credit_code, status="suspended")
    assert counts() == before
