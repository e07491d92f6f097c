"""End to end through the web and the API (company applies, city finance reviews and another officer
approves, publicity shows it, payment recorded), tenant isolation of every page and endpoint, query
counts of the list pages, the OpenAPI schema."""

import datetime as dt
import json
from decimal import Decimal as D

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from subsidies.choices import Status
from subsidies.models import Application, Scheme
from subsidies.report import subsidies_section
from subsidies.selectors import annual_report_figures
from supervision.annual_report import build_report

from . import helpers as h

pytestmark = pytest.mark.django_db


def web(user):
    c = Client()
    c.force_login(user)
    return c


def api(user):
    c = APIClient()
    c.force_authenticate(user)
    return c


@pytest.fixture
def liaocheng():
    inst = h.institution("371502")
    h.put_on_govlist(inst, "371500")
    filer, approver = h.company_users(inst)
    h.guarantee(inst, amount=800, fee_rate="0.008", gov_backed=True)
    s = Scheme.objects.get(code="liaocheng-fee-subsidy")
    s.params = {**s.params, "yearly_points": {"2025": "0.005"}}
    s.save()
    return {
        "inst": inst,
        "filer": filer,
        "approver": approver,
        "reviewer": h.finance("371500"),
        "decider": h.finance("371500"),
        "other_company": h.company_users(h.institution("371502"))[1],
        "banan_finance": h.finance("500113"),
        "regulator": h.regulator("371500"),
    }


def test_end_to_end_web(liaocheng):
    L = liaocheng
    r = web(L["filer"]).get(reverse("subsidies:index"))
    assert r.status_code == 200 and "4.00" in r.content.decode()  # 800 × 0.5 %: the estimate
    r = web(L["filer"]).post(reverse("subsidies:apply", args=["liaocheng-fee-subsidy"]), {"year": "2025"})
    app = Application.objects.get(institution=L["inst"])
    assert r.url == reverse("subsidies:application", args=[app.pk]) and app.computed_amount == D("4.00")
    act = lambda user, step, **data: web(user).post(reverse("subsidies:act", args=[app.pk, step]), data)  # noqa: E731
    act(L["approver"], "submit")
    act(L["reviewer"], "review", note="齐全")
    page = web(L["decider"]).get(reverse("subsidies:application", args=[app.pk])).content.decode()
    assert "复核通过" in page and "测算明细" in page
    act(L["decider"], "approve", amount="4.00")
    act(L["decider"], "publish", on="2026-01-05")
    r = Client().get(reverse("subsidies:publicity"))  # the public
    assert L["inst"].name in r.content.decode()
    data = json.loads(Client().get(reverse("subsidies:publicity_json")).content)
    assert data["results"][0]["amount"] == "4.00"
    csv = Client().get(reverse("subsidies:publicity_csv")).content.decode("utf-8-sig")
    assert L["inst"].credit_code in csv
    act(L["decider"], "pay", paid_on="2026-01-20", reference="聊财〔2026〕3号")
    app.refresh_from_db()
    assert (app.status, app.final_amount, app.payment_reference) == (
        Status.PAID,
        D("4.00"),
        "聊财〔2026〕3号",
    )
    assert web(L["decider"]).get(reverse("subsidies:payments")).status_code == 200
    assert annual_report_figures(region_code="371500", year=2025) == [
        {
            "scheme": "liaocheng-fee-subsidy",
            "name": "聊城市政府性融资担保业务担保费补贴",
            "kind": "fee_subsidy",
            "approved_count": 1,
            "approved_amount": D("4.00"),
            "paid_count": 1,
            "paid_amount": D("4.00"),
        }
    ]
    assert annual_report_figures(region_code="500113", year=2025) == []
    # the annual supervision report's part three carries it, read as the regulator (no one else's)
    section = subsidies_section(L["regulator"], "371500", 2025)
    assert section.figures == {
        "subsidy_applications": 1,
        "subsidy_approved": D("4.00"),
        "subsidy_paid": D("4.00"),
    }
    assert section.tables[0].rows == [["聊城市政府性融资担保业务担保费补贴", 1, D("4.00"), 1, D("4.00")]]
    assert subsidies_section(h.regulator("500113"), "371500", 2025) is None
    parts = build_report(L["regulator"], "371500", 2025)
    development = next(p for p in parts if p["key"] == "development")
    assert "subsidies" in [s.key for s, _content in development["sections"]]


def test_end_to_end_api(liaocheng):
    L = liaocheng
    r = api(L["filer"]).post(
        "/api/v1/subsidy-applications/",
        {"scheme": "liaocheng-fee-subsidy", "institution": L["inst"].credit_code, "year": 2025},
        format="json",
    )
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert r.json()["computed_amount"] == "4.00"
    url = f"/api/v1/subsidy-applications/{pk}/"
    assert api(L["filer"]).post(url + "submit/").status_code == 403
    assert api(L["approver"]).post(url + "submit/").status_code == 200
    assert api(L["reviewer"]).post(url + "review/", {"note": "ok"}, format="json").status_code == 200
    r = api(L["decider"]).post(url + "decide/", {"approve": True, "amount": "3.50"}, format="json")
    assert r.status_code == 400 and "reason" in r.json()["errors"]
    r = api(L["decider"]).post(
        url + "decide/", {"approve": True, "amount": "3.50", "reason": "核减"}, format="json"
    )
    assert r.status_code == 200 and r.json()["final_amount"] == "3.50"
    r = api(L["reviewer"]).post(url + "decide/", {"approve": False, "reason": "x"}, format="json")
    assert r.status_code == 403  # the reviewer never decides (and it is decided already)
    assert api(L["decider"]).post(url + "publish/", {"on": "2026-01-05"}, format="json").status_code == 200
    pub = APIClient().get("/api/v1/subsidy-publicity/").json()
    assert [row["amount"] for row in pub["results"]] == ["3.50"]
    r = api(L["decider"]).post(url + "pay/", {"paid_on": "2026-01-12", "reference": "R1"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "paid"
    lines = api(L["regulator"]).get(url + "lines/").json()
    assert lines["results"][0]["eligible"] is True


def test_tenant_isolation_pages_and_api(liaocheng):
    L = liaocheng
    app = Application.objects.create(
        scheme=Scheme.objects.get(code="liaocheng-fee-subsidy"), institution=L["inst"], year=2025
    )
    detail = reverse("subsidies:application", args=[app.pk])
    assert web(L["other_company"]).get(detail).status_code == 404
    assert web(L["banan_finance"]).get(detail).status_code == 404
    assert web(L["regulator"]).get(detail).status_code == 200
    assert web(L["other_company"]).get(reverse("subsidies:lines_export", args=[app.pk])).status_code == 404
    assert app.pk not in [
        a["id"] for a in api(L["banan_finance"]).get("/api/v1/subsidy-applications/").json()["results"]
    ]
    assert api(L["other_company"]).get(f"/api/v1/subsidy-applications/{app.pk}/").status_code == 404
    assert api(L["banan_finance"]).post(f"/api/v1/subsidy-applications/{app.pk}/review/").status_code == 404
    # a regulator reads but never acts
    app.status = Status.SUBMITTED
    app.save()
    assert api(L["regulator"]).post(f"/api/v1/subsidy-applications/{app.pk}/review/").status_code == 403
    r = api(L["other_company"]).post(
        "/api/v1/subsidy-applications/",
        {"scheme": "liaocheng-fee-subsidy", "institution": L["inst"].credit_code, "year": 2025},
        format="json",
    )
    assert r.status_code == 404
    # finance pages are closed to companies; the budget page to companies too
    assert web(L["filer"]).get(reverse("subsidies:budget")).status_code == 403
    assert web(L["filer"]).get(reverse("subsidies:payments")).status_code == 403
    assert (
        web(L["banan_finance"])
        .post(reverse("subsidies:scheme", args=["liaocheng-fee-subsidy"]), {})
        .status_code
        == 403
    )


def test_scheme_edit_in_browser_and_api(liaocheng):
    L = liaocheng
    s = Scheme.objects.get(code="liaocheng-risk-compensation")
    r = api(L["decider"]).patch(f"/api/v1/subsidy-schemes/{s.code}/", {"publicity_days": 10}, format="json")
    assert r.status_code == 400 and "reason" in r.json()["errors"]
    r = api(L["decider"]).patch(
        f"/api/v1/subsidy-schemes/{s.code}/", {"publicity_days": 10, "reason": "延长公示"}, format="json"
    )
    assert r.status_code == 200 and r.json()["publicity_days"] == 10
    assert (
        api(L["banan_finance"])
        .patch(f"/api/v1/subsidy-schemes/{s.code}/", {"publicity_days": 3, "reason": "x"}, format="json")
        .status_code
        == 403
    )
    form = {
        "name": s.name,
        "source": s.source,
        "budget_mode": "refuse",
        "effective_from": "2023-03-29",
        "budget": "500",
        "publicity_days": "7",
        "open": "on",
        "params": json.dumps(s.params),
        "reason": "设定预算",
    }
    r = web(L["decider"]).post(reverse("subsidies:scheme", args=[s.code]), form)
    assert r.status_code == 302
    s.refresh_from_db()
    assert (s.budget, s.budget_mode, s.revisions.first().reason) == (D("500.00"), "refuse", "设定预算")
    bad = {**form, "params": "{not json", "reason": "x"}
    r = web(L["decider"]).post(reverse("subsidies:scheme", args=[s.code]), bad, follow=True)
    assert "JSON" in r.content.decode()


def test_list_pages_query_counts(liaocheng, django_assert_max_num_queries):
    L = liaocheng
    s = Scheme.objects.get(code="liaocheng-fee-subsidy")
    for _ in range(5):
        inst = h.institution("371502")
        Application.objects.create(
            scheme=s,
            institution=inst,
            year=2025,
            status=Status.PUBLICITY,
            final_amount=1,
            publicity_from=dt.date(2026, 1, 1),
            publicity_to=dt.date(2026, 1, 8),
        )
    c = web(L["reviewer"])
    with django_assert_max_num_queries(16):
        assert c.get(reverse("subsidies:applications")).status_code == 200
    anon = Client()
    with django_assert_max_num_queries(6):
        assert anon.get(reverse("subsidies:publicity")).status_code == 200
    with django_assert_max_num_queries(16):
        assert c.get(reverse("subsidies:budget")).status_code == 200
    with django_assert_max_num_queries(16):
        assert c.get(reverse("subsidies:index")).status_code == 200


def test_openapi_schema_lists_subsidy_operations(liaocheng):
    r = api(liaocheng["decider"]).get("/api/schema/", {"format": "json"})
    paths = r.json()["paths"] if r["Content-Type"].startswith("application/json") else r.content.decode()
    assert "/api/v1/subsidy-applications/{id}/decide/" in paths
    assert "/api/v1/subsidy-publicity/" in paths
