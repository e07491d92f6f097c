"""Must show: the 13 Sichuan licence notices of seed 003 entered through the regulator pages produce
public notice pages listing exactly those companies and numbers; the public register shows the
licences as cancelled / revoked; revocation duties follow the Sichuan settings."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from institutions.models import Institution, Licence, LicenceDuty, Notice
from institutions.seed_notices import parents_not_listed, region_of
from institutions.seed_notices import rows as seed_rows
from tests.factories import InstitutionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(users):
    """The 13 holders (and the one parent not in the notices) with licences issued through the page."""
    rows = seed_rows()
    by_name = {}
    for name in [r["name"] for r in rows if r["is_branch"] == "0"] + parents_not_listed():
        by_name[name] = InstitutionFactory(name=name, region_id=region_of(name), level="city")
    for r in rows:
        if r["is_branch"] == "1":
            by_name[r["name"]] = InstitutionFactory(
                name=r["name"],
                region_id=region_of(r["name"]),
                level="city",
                kind="branch",
                parent=by_name[r["parent_name"]],
            )
    client = Client()
    client.force_login(users["sc_regulator"])
    for r in rows:
        response = client.post(
            reverse("institutions:licence_issue", args=[by_name[r["name"]].pk]),
            {
                "number": r["licence_number"],
                "issued_on": "2018-06-30",
                "business_scope": "借款类担保业务、发行债券担保业务",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
    return client, rows


def _act(client, action, rows, fields):
    ids = [Licence.objects.get(number=r["licence_number"]).pk for r in rows]
    url = reverse("institutions:licence_action", args=[action])
    page = client.get(url, {"ids": ids})
    assert page.status_code == 200
    first = client.post(url, {"ids": ids, **fields})
    assert first.status_code == 200 and "确认执行" in first.content.decode()  # the confirmation step
    assert Licence.objects.filter(pk__in=ids, status="valid").count() == len(ids)  # nothing done yet
    done = client.post(url, {"ids": ids, **fields, "confirm": "1"})
    assert done.status_code == 302
    notice = Notice.objects.get(pk=int(done["Location"].rstrip("/").split("/")[-1]))
    assert notice.status == "draft"
    publish = client.post(
        reverse("institutions:notice", args=[notice.pk]),
        {
            "title": notice.title,
            "document_no": notice.document_no,
            "issuing_body": notice.issuing_body,
            "published_on": notice.published_on.isoformat() if notice.published_on else "",
            "period_label": notice.period_label,
            "body": notice.body,
            "publish": "1",
        },
    )
    assert publish.status_code == 302
    notice.refresh_from_db()
    assert notice.status == "published"
    return notice


def test_seed_003_notices_through_regulator_pages(registry):
    client, rows = registry
    cancel_rows = [r for r in rows if r["notice"] == "cancel-2020Q3"]
    revoke_rows = [r for r in rows if r["notice"] == "revoke-2020-09-29"]
    assert (len(cancel_rows), len(revoke_rows)) == (5, 8)

    cancel = _act(
        client,
        "cancel",
        cancel_rows,
        {"reason": "根据公司申请", "on": "", "period_label": "2020年7-9月", "title": ""},
    )
    revoke = _act(
        client,
        "revoke",
        revoke_rows,
        {"decision_no": "", "on": "2020-09-29", "reason": "根据整改验收结果", "title": ""},
    )

    public = Client()
    for notice, expected, kind in ((cancel, cancel_rows, "cancel"), (revoke, revoke_rows, "revoke")):
        url = reverse("institutions:public_notice", args=[notice.pk])
        assert notice.kind == kind and notice.issuing_body == "四川省地方金融监督管理局"
        data = public.get(url, {"format": "json"}).json()
        assert [(r["seq"], r["institution"], r["licence_number"]) for r in data["results"]] == [
            (int(r["seq"]), r["name"], r["licence_number"]) for r in expected
        ]
        html = public.get(url).content.decode()
        for r in expected:
            assert r["name"] in html and r["licence_number"] in html
    assert revoke.published_on == dt.date(2020, 9, 29) and cancel.published_on is None
    assert cancel.period_label == "2020年7-9月"
    assert (
        "2020年9月29日"
        in public.get(reverse("institutions:public_notice", args=[revoke.pk])).content.decode()
    )

    listing = public.get(reverse("institutions:public_notices"), {"format": "json"}).json()
    assert {n["id"] for n in listing["results"]} == {cancel.pk, revoke.pk}  # issue notices stay drafts

    register = public.get(reverse("institutions:public_register"), {"format": "json"}).json()["results"]
    statuses = {r["licence_number"]: r["licence_status_code"] for r in register}
    assert statuses == {
        r["licence_number"]: ("cancelled" if r["notice"] == "cancel-2020Q3" else "revoked") for r in rows
    }
    csv_text = public.get(reverse("institutions:public_register"), {"format": "csv"}).content.decode(
        "utf-8-sig"
    )
    assert "川F005" in csv_text and "已注销" in csv_text and "已吊销" in csv_text
    assert len(csv_text.strip().splitlines()) == 14

    # duties after the revocation, from the Sichuan settings row (5 / 15 / 30 days, 60 days, 6 months)
    duties = LicenceDuty.objects.filter(licence__number="川A110331").order_by("due_on")
    assert [(d.kind, d.due_on) for d in duties] == [
        ("announce", dt.date(2020, 10, 4)),
        ("return_licence", dt.date(2020, 10, 14)),
        ("market_regulator", dt.date(2020, 10, 29)),
        ("reconsideration", dt.date(2020, 11, 28)),
        ("lawsuit", dt.date(2021, 3, 29)),
    ]
    assert LicenceDuty.objects.count() == 8 * 5
    assert (
        Institution.objects.get(name="四川泰森融资担保有限公司德阳分公司").parent.name
        == "四川泰森融资担保有限公司"
    )
