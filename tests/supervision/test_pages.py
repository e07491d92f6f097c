"""Tenant isolation for every indicator page and endpoint, writes refused to outsiders, and query
counts that do not grow with the number of institutions."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from supervision.models import Threshold, WarningCase
from supervision.services.compute import institution_indicators_compute
from tests.factories import InstitutionFactory

from .factories import make_filing

pytestmark = pytest.mark.django_db
HIGH = {"top1_client_liability": "4400"}  # CON-01 breach

ALL = [
    "admin",
    "sc_regulator",
    "cd_regulator",
    "my_regulator",
    "sc_finance",
    "cd_finance",
    "cd_filer",
    "cd_approver",
    "my_filer",
    "zj_regulator",
]
SEES_CHENGDU = {
    "admin",
    "sc_regulator",
    "cd_regulator",
    "sc_finance",
    "cd_finance",
    "cd_filer",
    "cd_approver",
}


@pytest.fixture
def data(users, chengdu_institution, mianyang_institution):
    out = {}
    for inst, key in ((chengdu_institution, "cd"), (mianyang_institution, "my")):
        for q in (1, 2):
            out[(key, q)] = make_filing(inst, 2025, q, **HIGH)
        institution_indicators_compute(institution_id=inst.pk)
    out["cd_case"] = WarningCase.objects.get(institution=chengdu_institution, quarter=2)
    return out


def status_matrix(client_for, users, url):
    return {name: client_for(users[name]).get(url).status_code for name in ALL}


def test_anonymous_is_sent_to_login(client, data):
    for url in (
        reverse("supervision:dashboard"),
        reverse("supervision:warnings"),
        reverse("supervision:thresholds"),
        reverse("supervision:filing_indicators", args=[data[("cd", 1)].pk]),
    ):
        assert client.get(url).status_code == 302
    assert client.get(f"/api/v1/filings/{data[('cd', 1)].pk}/indicators/").status_code in (401, 403)


@pytest.mark.parametrize("page", ["filing", "institution"])
def test_filing_and_institution_pages_follow_jurisdiction(client_for, users, data, page):
    f = data[("cd", 2)]
    url = (
        reverse("supervision:filing_indicators", args=[f.pk])
        if page == "filing"
        else reverse("supervision:institution_indicators", args=[f.institution_id])
    )
    assert status_matrix(client_for, users, url) == {n: 200 if n in SEES_CHENGDU else 404 for n in ALL}


def test_lineage_shows_formula_cells_and_threshold_source(client_for, users, data):
    html = (
        client_for(users["cd_regulator"])
        .get(reverse("supervision:filing_indicators", args=[data[("cd", 2)].pk]))
        .content.decode()
    )
    assert "top1_client_liability ÷ net_assets" in html
    assert "4400" in html and "11.00%" in html
    assert "CON-01" in html and "条例 art. 16" in html
    assert reverse("supervision:threshold_detail", args=[Threshold.objects.get(code="CON-01").pk]) in html


def test_dashboard_by_role(client_for, users, data):
    expected = {n: 200 for n in ALL}
    assert status_matrix(client_for, users, reverse("supervision:dashboard")) == expected
    cd = client_for(users["cd_regulator"]).get(reverse("supervision:dashboard"))
    assert cd.context["institution_count"] == 1
    assert [r["name"] for r in cd.context["charts"]["by_rule"]] == ["CON-01"]
    assert [(r["name"], r["value"]) for r in cd.context["charts"]["by_city"]] == [("锦江区", 1)]  # counties
    sc = client_for(users["sc_regulator"]).get(reverse("supervision:dashboard"))
    assert sc.context["institution_count"] == 2
    assert [(r["name"], r["value"]) for r in sc.context["charts"]["by_city"]] == [
        ("成都市", 1),
        ("绵阳市", 1),
    ]
    drill = client_for(users["sc_regulator"]).get(sc.context["charts"]["by_city"][1]["url"]).context["page"]
    assert [b.institution.name for b in drill] == ["绵阳测试融资担保有限公司"]
    zj = client_for(users["zj_regulator"]).get(reverse("supervision:dashboard"))
    assert zj.context["period"] is None
    filer = client_for(users["my_filer"]).get(reverse("supervision:dashboard"))
    assert filer.context["institution"] == data[("my", 1)].institution
    assert filer.context["company"] is True


def test_peer_position_only_for_visible_institutions(client_for, users, data):
    url = reverse("supervision:dashboard") + f"?institution={data[('my', 1)].institution_id}"
    assert client_for(users["cd_regulator"]).get(url).status_code == 404
    response = client_for(users["sc_regulator"]).get(url)
    assert response.status_code == 200
    rows = {r["code"]: r for r in response.context["peer_rows"]}
    assert rows["single_client_concentration"]["stats"]["n"] == 1  # Mianyang city peers visible: itself


def test_drill_down_lists_only_visible_institutions(client_for, users, data):
    url = reverse("supervision:indicator_drill") + "?period=2025Q2&rule=CON-01"
    assert status_matrix(client_for, users, url) == {
        n: 403 if n in ("cd_filer", "cd_approver", "my_filer") else 200 for n in ALL
    }
    names = lambda u: {b.institution.name for b in client_for(users[u]).get(url).context["page"]}  # noqa: E731
    assert names("cd_regulator") == {"成都测试融资担保有限公司"}
    assert names("my_regulator") == {"绵阳测试融资担保有限公司"}
    assert names("zj_regulator") == set()
    value_url = (
        reverse("supervision:indicator_drill")
        + "?period=2025Q2&code=single_client_concentration&lo=0.1&hi=0.2"
    )
    page = client_for(users["sc_regulator"]).get(value_url).context["page"]
    assert len(page) == 2


def test_warnings_list_and_case_isolation(client_for, users, data):
    url = reverse("supervision:warnings")
    assert status_matrix(client_for, users, url) == {
        n: 200 if n in ("admin", "sc_regulator", "cd_regulator", "my_regulator", "zj_regulator") else 403
        for n in ALL
    }
    listed = client_for(users["cd_regulator"]).get(url).context["page"]
    assert [(c.institution.name, c.first_quarter, c.quarter, c.level) for c in listed] == [
        ("成都测试融资担保有限公司", 1, 2, 2),
    ]  # one case spanning Q1–Q2
    case_url = reverse("supervision:warning_detail", args=[data["cd_case"].pk])
    assert status_matrix(client_for, users, case_url) == {
        n: 200
        if n in ("admin", "sc_regulator", "cd_regulator")
        else 404
        if n in ("my_regulator", "zj_regulator")
        else 403
        for n in ALL
    }


def test_warning_writes_refused_to_outsiders(client_for, users, data):
    case = data["cd_case"]
    url = reverse("supervision:warning_detail", args=[case.pk])
    assert client_for(users["my_regulator"]).post(url, {"action": "close", "note": "x"}).status_code == 404
    assert client_for(users["cd_filer"]).post(url, {"action": "close", "note": "x"}).status_code == 403
    assert client_for(users["cd_finance"]).post(url, {"action": "acknowledge"}).status_code == 403
    case.refresh_from_db()
    assert case.status == "open"
    assert client_for(users["cd_regulator"]).post(url, {"action": "acknowledge"}).status_code == 302
    assert (
        client_for(users["cd_regulator"]).post(url, {"action": "close", "note": "已整改"}).status_code == 302
    )
    case.refresh_from_db()
    assert (case.status, case.note) == ("closed", "已整改")


def test_warning_filters(client_for, users, data):
    base = reverse("supervision:warnings")
    c = client_for(users["sc_regulator"])
    assert len(c.get(base + "?level=2").context["page"]) == 2
    assert len(c.get(base + "?q=绵阳").context["page"]) == 1
    assert len(c.get(base + "?status=closed").context["page"]) == 0
    assert len(c.get(base + "?rule=CON-02").context["page"]) == 0


def _form(**over):
    data = {
        "code": "CD-CON",
        "indicator": "single_client_concentration",
        "comparator": "<=",
        "value": "0.08",
        "severity": "warning",
        "scope": "all",
        "region_code": "510100",
        "effective_from": "2025-01-01",
        "effective_to": "",
        "source": "成都市测试通知",
        "confidence": "test",
        "note": "测试",
    }
    data.update(over)
    return data


def test_thresholds_pages_and_writes(client_for, users, data, django_capture_on_commit_callbacks):
    assert status_matrix(client_for, users, reverse("supervision:thresholds")) == {
        n: 200 if n in ("admin", "sc_regulator", "cd_regulator", "my_regulator", "zj_regulator") else 403
        for n in ALL
    }
    lev = Threshold.objects.get(code="LEV-01")
    detail = reverse("supervision:threshold_detail", args=[lev.pk])
    # national threshold: regulators read it, only the administrator may change it
    assert (
        client_for(users["sc_regulator"]).post(detail, _form(action="save", indicator="leverage")).status_code
        == 403
    )
    assert client_for(users["cd_filer"]).post(detail, _form(action="save")).status_code == 403
    new = reverse("supervision:threshold_new")
    response = client_for(users["cd_regulator"]).post(new, _form(action="save", region_code="330300"))
    assert response.status_code == 200 and not Threshold.objects.filter(code="CD-CON").exists()
    # preview, then save: the preview names what the save then stores
    preview = client_for(users["cd_regulator"]).post(new, _form(action="preview")).context["preview"]
    assert [(str(p["period"]), [e["institution"] for e in p["newly"]]) for p in preview] == [
        ("2025Q2", ["成都测试融资担保有限公司"]),
        ("2025Q1", ["成都测试融资担保有限公司"]),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(users["cd_regulator"]).post(new, _form(action="save"))
    t = Threshold.objects.get(code="CD-CON")
    assert response.status_code == 302 and t.region_name == "成都市"
    assert set(t.breaches.values_list("filing_id", flat=True)) == {data[("cd", 1)].pk, data[("cd", 2)].pk}
    page = client_for(users["cd_regulator"]).get(reverse("supervision:thresholds"))
    assert page.context["jobs"][0].status == "done"


# --- API -----------------------------------------------------------------------------------------


def test_api_filing_indicators(client_for, users, data):
    f = data[("cd", 2)]
    url = f"/api/v1/filings/{f.pk}/indicators/"
    assert status_matrix(client_for, users, url) == {n: 200 if n in SEES_CHENGDU else 404 for n in ALL}
    body = client_for(users["cd_filer"]).get(url).json()
    row = {r["code"]: r for r in body}["single_client_concentration"]
    con01 = Threshold.objects.get(code="CON-01")
    assert row == {
        "code": "single_client_concentration",
        "value": "0.110000",
        "unit": "percent",
        "breaches": [
            {
                "threshold": con01.pk,
                "code": "CON-01",
                "comparator": "<=",
                "limit": "0.100000",
                "severity": "breach",
            }
        ],
    }
    assert {r["code"]: r["value"] for r in body}["leverage"] == "5.641026"
    assert len(body) == 28


def test_api_series_and_thresholds(client_for, users, data):
    inst = data[("cd", 1)].institution
    url = (
        f"/api/v1/institutions/{inst.credit_code}/indicators/?code=leverage&code=single_client_concentration"
    )
    assert status_matrix(client_for, users, url) == {n: 200 if n in SEES_CHENGDU else 404 for n in ALL}
    assert client_for(users["my_filer"]).get(url).json() == {
        "code": "not_found",
        "detail": "未找到，或无权查看",
        "errors": {},
    }
    body = client_for(users["cd_regulator"]).get(url).json()
    assert [(r["period"], r["code"], r["value"]) for r in body] == [
        ("2025Q1", "leverage", "5.641026"),
        ("2025Q1", "single_client_concentration", "0.110000"),
        ("2025Q2", "leverage", "5.641026"),
        ("2025Q2", "single_client_concentration", "0.110000"),
    ]
    bad = client_for(users["cd_regulator"]).get(
        f"/api/v1/institutions/{inst.credit_code}/indicators/?code=nope"
    )
    assert (bad.status_code, bad.json()) == (
        400,
        {
            "code": "invalid",
            "detail": "查询参数有误",
            "errors": {"code": ["未知指标：nope"]},
        },
    )
    t_url = f"/api/v1/institutions/{inst.credit_code}/thresholds/?on=2025-06-30"
    assert status_matrix(client_for, users, t_url) == {n: 200 if n in SEES_CHENGDU else 404 for n in ALL}
    codes = {r["code"] for r in client_for(users["cd_filer"]).get(t_url).json()}
    # not government-backed, small-business focus holds in 2025Q2 → LEV-02 not LEV-01; PRV-01 is Q4 only
    assert codes == {
        "LEV-02",
        "CON-01",
        "CON-02",
        "REL-01",
        "AST-01",
        "AST-02",
        "AST-03",
        "AST-04",
        "PRV-02",
        "DQ-01",
    }
    bad = client_for(users["cd_filer"]).get(f"/api/v1/institutions/{inst.credit_code}/thresholds/?on=x")
    assert (bad.status_code, bad.json()) == (
        400,
        {
            "code": "invalid",
            "detail": "查询参数有误",
            "errors": {"on": ["日期格式应为 YYYY-MM-DD"]},
        },
    )


@pytest.mark.parametrize("resource", ["indicators", "thresholds"])
def test_api_old_id_paths_redirect_to_the_credit_code(client_for, users, data, resource) -> None:
    """/institutions/{id}/indicators/ (before credit codes) still answers: a permanent redirect, for those
    who see the institution; a 404 for everyone else, so the redirect reveals no credit code."""
    inst = data[("cd", 1)].institution
    old = f"/api/v1/institutions/{inst.pk}/{resource}/?code=leverage"
    assert status_matrix(client_for, users, old) == {n: 301 if n in SEES_CHENGDU else 404 for n in ALL}
    response = client_for(users["cd_filer"]).get(old)
    assert response["Location"] == f"/api/v1/institutions/{inst.credit_code}/{resource}/?code=leverage"
    assert client_for(users["zj_regulator"]).get(old).json()["code"] == "not_found"


# --- query counts --------------------------------------------------------------------------------


def _more_institutions(n):
    for i in range(n):
        inst = InstitutionFactory(region_id="510104" if i % 2 else "510107", level="county")
        for q in (1, 2):
            make_filing(inst, 2025, q, **HIGH)
        institution_indicators_compute(institution_id=inst.pk)


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "url_name",
    [
        "dashboard",
        "warnings",
        "thresholds",
        "parameters",
        "drill_rule",
        "drill_value",
        "peer",
        "institution",
        "filing",
        "api_filing",
        "api_series",
        "api_thresholds",
    ],
)
def test_query_count_independent_of_institutions(client_for, users, data, url_name):
    inst, f = data[("cd", 2)].institution, data[("cd", 2)]
    urls = {
        "dashboard": reverse("supervision:dashboard"),
        "warnings": reverse("supervision:warnings"),
        "thresholds": reverse("supervision:thresholds"),
        "parameters": reverse("supervision:parameters"),
        "drill_rule": reverse("supervision:indicator_drill") + "?period=2025Q2&rule=CON-01",
        "drill_value": reverse("supervision:indicator_drill") + "?period=2025Q2&code=leverage&lo=5&hi=7",
        "peer": reverse("supervision:dashboard") + f"?institution={inst.pk}",
        "institution": reverse("supervision:institution_indicators", args=[inst.pk]),
        "filing": reverse("supervision:filing_indicators", args=[f.pk]),
        "api_filing": f"/api/v1/filings/{f.pk}/indicators/",
        "api_series": f"/api/v1/institutions/{inst.credit_code}/indicators/",
        "api_thresholds": f"/api/v1/institutions/{inst.credit_code}/thresholds/?on=2025-06-30",
    }
    client = client_for(users["sc_regulator"] if url_name != "thresholds" else users["cd_regulator"])
    url = urls[url_name]
    _count(client, url)  # warm caches (content types, sessions)
    before = _count(client, url)
    _more_institutions(6)
    assert _count(client, url) == before


def test_filing_summary_panel_on_the_filing_pages(data):
    """supervision plugs its indicator summary into reporting's filing pages through reporting.panels; a
    draft (not frozen) shows no frozen-only panel."""
    from django.template import Context, Template

    template = Template("{% load reporting_tags %}{% filing_panels filing frozen=frozen %}")
    html = template.render(Context({"filing": data[("cd", 2)], "frozen": True}))
    assert "11.00%" in html and "CON-01" in html and "<table" in html and "&lt;" not in html
    assert reverse("supervision:filing_indicators", args=[data[("cd", 2)].pk]) in html
    assert template.render(Context({"filing": data[("cd", 2)], "frozen": False})) == ""


def test_old_indicator_urls_redirect_to_supervision(client_for, users):
    client = client_for(users["cd_regulator"])
    response = client.get("/reporting/indicators/drill/?code=leverage&lo=10")
    assert (response.status_code, response["Location"]) == (
        301,
        "/supervision/indicators/drill/?code=leverage&lo=10",
    )
    assert client.get("/reporting/warnings/").headers["Location"] == "/supervision/warnings/"
    assert client.get("/reporting/thresholds/7/").headers["Location"] == "/supervision/thresholds/7/"
    assert reverse("supervision:dashboard") == "/supervision/indicators/"


def test_parameters_page_and_admin_only_writes(client_for, users, data, django_capture_on_commit_callbacks):
    url = reverse("supervision:parameters")
    assert status_matrix(client_for, users, url) == {
        n: 200 if n in ("admin", "sc_regulator", "cd_regulator", "my_regulator", "zj_regulator") else 403
        for n in ALL
    }
    form = {
        "key": "weight_housing",
        "value": "0.5",
        "effective_from": "2025-04-01",
        "source": "测试",
        "note": "",
    }
    assert client_for(users["sc_regulator"]).post(url, form).status_code == 403
    assert client_for(users["cd_filer"]).post(url, form).status_code == 403
    from supervision.models import IndicatorValue, PolicyParameter

    assert not PolicyParameter.objects.filter(key="weight_housing", effective_from="2025-04-01").exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(users["admin"]).post(url, form).status_code == 302
    # housing 10000 weighted 0.5 instead of 0.3: +2000 in Q2 only
    assert IndicatorValue.objects.get(filing=data[("cd", 2)], code="fin_liability_balance").value == 222000
    assert IndicatorValue.objects.get(filing=data[("cd", 1)], code="fin_liability_balance").value == 220000
    page = client_for(users["cd_regulator"]).get(url)
    assert len(page.context["events"]) == 1


def test_edit_preview_through_the_page_compares_with_the_stored_threshold(client_for, users, data):
    con01 = Threshold.objects.get(code="CON-01")
    url = reverse("supervision:threshold_detail", args=[con01.pk])
    form = _form(
        code="CON-01",
        indicator="single_client_concentration",
        comparator="<=",
        value="0.12",
        severity="breach",
        scope="all",
        region_code="",
        effective_from="2017-10-01",
        source=con01.source,
        action="preview",
    )
    response = client_for(users["admin"]).post(url, form)
    preview = response.context["preview"]
    # 11% breached 10%; under a 12% cap all four filings clear
    assert sorted((str(p["period"]), len(p["cleared"]), len(p["newly"])) for p in preview) == [
        ("2025Q1", 2, 0),
        ("2025Q2", 2, 0),
    ]
    assert response.context["threshold"].value == Decimal("0.1")
    assert Threshold.objects.get(code="CON-01").value == Decimal("0.1")


def test_policy_sources_name_the_document_not_its_file(client_for, users):
    from supervision.templatetags.indicator_tags import cite

    assert cite("002_04d727b559758d8e.txt (温州: 政策性业务担保费率原则上不超过1%)") == (
        "温州市《关于深化政府性融资担保机构体系改革切实支持小微企业和“三农”发展的实施方案》（征求意见稿）"
        " (温州: 政策性业务担保费率原则上不超过1%)"
    )
    assert cite("国办发（2019）6号") == "国办发（2019）6号" and cite(None) == ""
    page = client_for(users["sc_regulator"]).get("/supervision/thresholds/").content.decode()
    assert "巴南府发〔2017〕30号" in page and not re.search(r"\d{3}_[0-9a-f]{16}\.txt", page)


def test_institution_page_indicators_tab(client_for, users, data, django_assert_num_queries):
    """supervision adds a tab to the institution page (institutions.tabs registry): each computed quarter
    with the thresholds its filing missed, newest first; the institution page itself decides who sees it."""
    f = data[("cd", 2)]
    url = reverse("institutions:detail", args=[f.institution_id]) + "?tab=indicators"
    page = client_for(users["cd_regulator"]).get(url).content.decode()
    assert page.index("2025年第2季度") < page.index("2025年第1季度")
    assert page.count("CON-01 单一客户集中度 · 违规") == 2
    assert reverse("supervision:filing_indicators", args=[f.pk]) in page
    own = client_for(users["cd_filer"]).get(url)
    assert own.status_code == 200 and "CON-01 单一客户集中度" in own.content.decode()
    assert client_for(users["my_regulator"]).get(url).status_code == 404
    from django.test import RequestFactory

    from supervision.selectors import institution_tab

    request = RequestFactory().get(url)
    request.user = users["cd_regulator"]
    with django_assert_num_queries(2):
        runs = institution_tab(request, f.institution)["runs"]
    assert [(r.quarter, [b.threshold.code for b in r.findings]) for r in runs] == [
        (2, ["CON-01"]),
        (1, ["CON-01"]),
    ]
