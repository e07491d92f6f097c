"""List pages cost the same number of queries however many rows they show; a company's lists hold only
its own applications; a finance officer creates a scheme in the browser; the institution page's tab."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from subsidies.choices import Status
from subsidies.models import Application, Scheme

from . import helpers as h

pytestmark = pytest.mark.django_db


def web(user=None):
    c = Client()
    if user:
        c.force_login(user)
    return c


def _rows(n, status=Status.PUBLICITY):
    s = Scheme.objects.get(code="liaocheng-fee-subsidy")
    for _ in range(n):
        Application.objects.create(
            scheme=s,
            institution=h.institution("371502"),
            year=2025,
            status=status,
            final_amount=1,
            publicity_from=dt.date(2026, 1, 1),
            publicity_to=dt.date(2026, 1, 8),
            paid_on=dt.date(2026, 1, 9),
        )


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


@pytest.mark.parametrize(
    ("url", "who", "status"),
    [
        ("subsidies:applications", "finance", Status.PUBLICITY),
        ("subsidies:index", "finance", Status.REVIEWED),
        ("subsidies:publicity", None, Status.PUBLICITY),
        ("subsidies:payments", "finance", Status.PAID),
        ("subsidies:budget", "regulator", Status.PAID),
        ("subsidies:schemes", "finance", Status.PAID),
    ],
)
def test_list_pages_query_count_does_not_grow_with_rows(url, who, status):
    user = {"finance": h.finance("371500"), "regulator": h.regulator("371500"), None: None}[who]
    client = web(user)
    _rows(3, status)
    few = _queries(client, reverse(url))
    _rows(6, status)
    assert _queries(client, reverse(url)) == few


def test_company_lists_hold_only_its_own():
    mine, other = h.institution("371502"), h.institution("371502")
    filer, _ = h.company_users(mine)
    s = Scheme.objects.get(code="liaocheng-fee-subsidy")
    own = Application.objects.create(scheme=s, institution=mine, year=2025)
    theirs = Application.objects.create(scheme=s, institution=other, year=2025, status=Status.SUBMITTED)
    page = web(filer).get(reverse("subsidies:applications")).content.decode()
    assert f"#{own.pk}<" in page and f"#{theirs.pk}<" not in page
    export = web(filer).get(reverse("subsidies:export"))
    assert export.status_code == 200 and other.name.encode() not in export.content
    assert web(filer).get(reverse("subsidies:application", args=[theirs.pk])).status_code == 404


def test_finance_officer_creates_a_scheme_in_the_browser():
    officer = h.finance("500113")
    form = {
        "code": "banan-2026-extra",
        "kind": "fee_subsidy",
        "region_code": "500113",
        "name": "巴南区2026年补充补贴",
        "source": "巴南府发〔2017〕30号 第七条",
        "effective_from": "2026-01-01",
        "budget": "50",
        "budget_mode": "pro_rata",
        "publicity_days": "7",
        "open": "on",
        "reason": "新增",
        "params": '{"lines": [{"key": "g", "label": "一般", "points": "0.005", "fee_rate_max": "0.02"}]}',
    }
    r = web(officer).post(reverse("subsidies:scheme_new"), form)
    assert r.status_code == 302 and Scheme.objects.get(code="banan-2026-extra").revisions.count() == 1
    bad = {**form, "code": "banan-bad", "params": '{"lines": [{"fee_rate_max": "x"}]}'}
    r = web(officer).post(reverse("subsidies:scheme_new"), bad)
    assert r.status_code == 200 and "fee_rate_max" in r.content.decode()
    assert not Scheme.objects.filter(code="banan-bad").exists()
    assert (
        web(h.company_users(h.institution("500113"))[0]).get(reverse("subsidies:scheme_new")).status_code
        == 403
    )


def test_institution_page_subsidy_tab():
    inst = h.institution("371502")
    s = Scheme.objects.get(code="liaocheng-fee-subsidy")
    app = Application.objects.create(scheme=s, institution=inst, year=2025)
    r = web(h.regulator("371500")).get(reverse("institutions:detail", args=[inst.pk]) + "?tab=subsidies")
    assert r.status_code == 200 and f"#{app.pk}" in r.content.decode()


def test_finance_workbench_lists_every_queue_in_one_table_in_the_order_of_the_steps():
    import re

    s = Scheme.objects.get(code="liaocheng-fee-subsidy")
    officer = h.finance("371500")
    made = {
        status: Application.objects.create(
            scheme=s, institution=h.institution("371502"), year=2025, status=status
        ).pk
        for status in (Status.APPROVED, Status.REVIEWED)
    }
    html = web(officer).get(reverse("subsidies:index")).content.decode()
    queued = html.split('<h2 class="h5">待办</h2>')[1].split("</tbody>")[0]
    # nothing to review (初审): no "没有申请" row before the ones to decide (复核) and to publish
    assert re.findall(r'href="/subsidies/applications/(\d+)/"', queued) == [
        str(made[Status.REVIEWED]),
        str(made[Status.APPROVED]),
    ]
    assert "没有申请" not in queued
    empty = web(h.finance("500113")).get(reverse("subsidies:index")).content.decode()
    assert empty.split('<h2 class="h5">待办</h2>')[1].split("</tbody>")[0].count("没有申请") == 1


def test_application_lines_name_their_subsidy_line_and_give_reasons_in_one_language():
    import re

    from django.utils import translation

    from subsidies import services

    inst = h.institution("500113")
    filer, _approver = h.company_users(inst)
    h.guarantee(inst, amount=300, fee_rate="0.018", contract_no="HT-OK")
    h.guarantee(inst, amount=300, fee_rate="0.021", contract_no="HT-DEAR")
    app = services.application_create(
        actor=filer, scheme=Scheme.objects.get(code="banan-fee-subsidy"), institution=inst, year=2025
    )
    url = reverse("subsidies:application", args=[app.pk])

    def explained(client):
        html = client.get(url).content.decode()
        return dict(re.findall(r"<tr><td>(HT-\w+)</td><td>.*?</td><td>(.*?)</td>", html))

    assert explained(web(filer)) == {
        "HT-OK": "一般线（费率≤2%，补贴0.5个百分点）",
        "HT-DEAR": "一般线（费率≤2%，补贴0.5个百分点）：费率2.1%高于2%；"
        "农村线（费率≤1%，补贴1个百分点）：业务品种不符；农村线（费率≤1%，补贴1个百分点）：费率2.1%高于1%",
    }
    english = web(filer)
    english.cookies["django_language"] = "en"
    with translation.override("zh-hans"):  # the request activates English in this thread: undo it after
        dear = explained(english)["HT-DEAR"]
    # reasons are stored as msgid + params (computed outside a request, in Chinese): an English reader
    # gets them in English; the subsidy line's name is policy data, in the one language it was written in
    assert dear == (
        "一般线（费率≤2%，补贴0.5个百分点）: fee 2.1% above 2%; 农村线（费率≤1%，补贴1个百分点）: "
        "product line not covered; 农村线（费率≤1%，补贴1个百分点）: fee 2.1% above 1%"
    )
