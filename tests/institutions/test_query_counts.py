"""Every list page runs the same number of queries whatever the number of rows."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from institutions import services
from institutions.models import Bank, GovListBatch, GovListEntry, Licence
from tests.factories import InstitutionFactory

pytestmark = pytest.mark.django_db


def add_rows(n, start):
    bank = Bank.objects.get_or_create(name="计数银行")[0]
    batch = GovListBatch.objects.create(
        region_id="510000", title=f"批次{start}", published_on=dt.date(2024, 1, 1), status="confirmed"
    )
    for i in range(start, start + n):
        inst = InstitutionFactory(name=f"计数{i}融资担保有限公司", region_id="510104")
        Licence.objects.create(
            number=f"川A{500000 + i}",
            institution=inst,
            issuing_authority="四川省地方金融监督管理局",
            status="valid" if i % 3 else "revoked",
        )
        services.agreement_save(
            actor=None,
            institution=inst,
            bank=bank,
            starts_on=dt.date(2025, 1, 1),
            ends_on=dt.date(2027, 1, 1),
            credit_line=Decimal(1000),
            share_bank=Decimal("0.1"),
            share_guarantor=Decimal("0.9"),
            compensation_scope="principal",
        )
        GovListEntry.objects.create(batch=batch, institution=inst, capital_replenishment=True)


URLS = {
    "list": ("sc_regulator", lambda: reverse("institutions:list")),
    "list_filtered": (
        "sc_regulator",
        lambda: reverse("institutions:list") + "?gov=1&licence=valid&q=计数&sort=-paid_in",
    ),
    "agreements": ("sc_regulator", lambda: reverse("institutions:agreements")),
    "agreements_company": ("cd_filer", lambda: reverse("institutions:agreements")),
    "agreements_findings": ("sc_regulator", lambda: reverse("institutions:agreements") + "?findings=1"),
    "govlist": ("sc_finance", lambda: reverse("institutions:govlist")),
    "notices": ("sc_regulator", lambda: reverse("institutions:notices")),
    "public_register": (None, lambda: reverse("institutions:public_register")),
    "public_govlist": (None, lambda: reverse("institutions:public_govlist")),
    "public_notices": (None, lambda: reverse("institutions:public_notices")),
}


def count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("name", sorted(URLS))
def test_query_count_independent_of_rows(name, users, client_for):
    who, url_of = URLS[name]
    client = client_for(users[who] if who else None)
    add_rows(3, 0)
    small = count(client, url_of())
    add_rows(40, 100)
    assert count(client, url_of()) == small


def test_list_query_count_is_pinned(users, client_for):
    """Session, user, user's region, region choices, count, page rows (licence number and status as
    subqueries), government-backed ids of the page and header jurisdiction label: 8, for 30 rows as for
    3. (No session write: the login stamped it, accounts.middleware.IdleSessionMiddleware; the menu's
    counts are asked for by the page once loaded: core.views.menu_counts.)"""
    add_rows(30, 0)
    assert count(client_for(users["sc_regulator"]), reverse("institutions:list")) == 8


def test_agreement_findings_filter_covers_all_pages(users, client_for):
    add_rows(60, 0)  # 60 agreements, all with a bank share of 10% (a national warning)
    from institutions.models import Agreement

    Agreement.objects.filter(institution__name="计数55融资担保有限公司").update(
        share_bank=Decimal("0.2"), share_guarantor=Decimal("0.8")
    )
    client = client_for(users["sc_regulator"])
    first = client.get(reverse("institutions:agreements") + "?findings=1")
    assert first.context["page"].paginator.count == 59
    assert len(first.context["rows"]) == 50
    assert all(a.findings for a in first.context["rows"])


def test_licence_selection_page_is_paginated_and_searchable(users, client_for):
    add_rows(3, 0)
    client = client_for(users["sc_regulator"])
    url = reverse("institutions:licence_action", args=["cancel"])
    small = count(client, url)
    add_rows(120, 100)
    assert count(client, url) == small
    page = client.get(url, {"q": "计数101融资"})
    assert [lic.number for lic in page.context["candidates"]] == ["川A500101"]
