"""Bad input that reached a 500 (issue 14): each answers 400 or 404 with a message in both languages.

Pages render the one error page (core.middleware.AppErrorMiddleware) with the status of the AppError;
the API answers the one error body (core.exceptions)."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from institutions.models import Licence
from reporting.models import Filing


@pytest.fixture
def api():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def licensed(chengdu_institution):
    Licence.objects.create(
        number="川A990001",
        institution=chengdu_institution,
        issuing_authority="四川省地方金融监督管理局",
        issued_on=dt.date(2015, 1, 1),
    )


def page_text(response) -> str:
    return response.content.decode()


NO_PERIOD_ZH = "报告期“{p}”无效：应为 YYYYQn（季度 1–4，1900 年及以后），如 2025Q2"
NO_TEMPLATE_ZH = "报告期 {p} 没有适用的报表模板"


@pytest.mark.parametrize(
    "method, url, status, message",
    [
        ("get", "/reporting/file/2026Q9/template.xlsx", 400, NO_PERIOD_ZH.format(p="2026Q9")),
        ("get", "/reporting/file/abc/template.xlsx", 400, NO_PERIOD_ZH.format(p="abc")),
        ("get", "/reporting/file/1990Q1/template.xlsx", 400, NO_TEMPLATE_ZH.format(p="1990Q1")),
        ("get", "/reporting/file/1990Q1/", 400, NO_TEMPLATE_ZH.format(p="1990Q1")),
        ("get", "/reporting/file/0000Q1/", 400, NO_PERIOD_ZH.format(p="0000Q1")),
        ("post", "/reporting/file/2026Q9/check/", 400, NO_PERIOD_ZH.format(p="2026Q9")),
        ("post", "/reporting/file/1990Q1/check/", 400, NO_TEMPLATE_ZH.format(p="1990Q1")),
        ("post", "/reporting/file/2026Q9/upload/", 400, NO_PERIOD_ZH.format(p="2026Q9")),
    ],
)
def test_company_pages_with_periods_that_do_not_exist(
    method, url, status, message, users, licensed, client_for
):
    response = getattr(client_for(users["cd_filer"]), method)(url)
    assert response.status_code == status
    assert message in page_text(response)


@pytest.mark.parametrize(
    "url, message",
    [
        ("/reporting/exports/filings.csv?period=1900Q1", NO_TEMPLATE_ZH.format(p="1900Q1")),
        ("/reporting/exports/aggregate.xlsx?period=1900Q1", NO_TEMPLATE_ZH.format(p="1900Q1")),
        ("/reporting/exports/filings.csv?period=2026Q9", NO_PERIOD_ZH.format(p="2026Q9")),
    ],
)
def test_regulator_exports_with_periods_before_the_template(url, message, users, client_for):
    response = client_for(users["sc_regulator"]).get(url)
    assert response.status_code == 400
    assert message in page_text(response)


def test_rule_id_that_is_not_a_number(users, client_for):
    response = client_for(users["sc_regulator"]).post("/reporting/rules/", {"rule": "abc"})
    assert response.status_code == 400
    assert "编号“abc”无效（rule）" in page_text(response)


def test_shareholder_id_that_is_not_a_number(users, client_for, chengdu_institution):
    response = client_for(users["cd_filer"]).post(
        f"/institutions/{chengdu_institution.pk}/people/delete_shareholder/", {"id": "abc"}
    )
    assert response.status_code == 400
    assert "编号“abc”无效（id）" in page_text(response)


def test_agreement_form_with_an_institution_that_is_not_a_number(users, client_for):
    response = client_for(users["cd_regulator"]).get("/agreements/new/?institution=abc")
    assert response.status_code == 400
    assert "编号“abc”无效（institution）" in page_text(response)


@pytest.mark.parametrize(
    "query, shown",
    [
        ("lo=Infinity", "lo应为数字，收到“Infinity”"),
        ("lo=1e999999", "lo数值超出范围，收到“1e999999”"),
        ("hi=NaN", "hi应为数字，收到“NaN”"),
    ],
)
def test_indicator_drill_down_with_bounds_that_are_not_numbers(query, shown, users, client_for):
    response = client_for(users["sc_regulator"]).get(
        f"/supervision/indicators/drill/?period=2025Q2&code=leverage&{query}"
    )
    assert response.status_code == 400
    assert shown in page_text(response)


HUGE = "1e999999999"
HUGE_ZH = "资产总额（total_assets）数值超出范围，收到“1e999999999”"


def test_huge_value_through_the_api(api, users, chengdu_institution, licensed):
    response = api(users["cd_filer"]).post(
        "/api/v1/filings/",
        {
            "institution": chengdu_institution.credit_code,
            "period": "2025Q3",
            "values": {"total_assets": HUGE},
        },
        format="json",
    )
    assert (response.status_code, response.json()["errors"]) == (
        400,
        {"total_assets": [HUGE_ZH]},
    )
    assert not Filing.objects.exists()


def test_huge_value_through_the_web_form_and_the_live_check(users, client_for, licensed):
    client = client_for(users["cd_filer"])
    response = client.post("/reporting/file/2025Q3/", {"total_assets": HUGE}, follow=True)
    assert response.status_code == 200
    assert HUGE_ZH in [str(m) for m in response.context["messages"]]
    assert not Filing.objects.exists()
    response = client.post("/reporting/file/2025Q3/check/", {"total_assets": HUGE})
    assert response.status_code == 200
    assert HUGE_ZH in page_text(response)


def test_api_period_zero(api, users, chengdu_institution):
    response = api(users["cd_filer"]).post(
        "/api/v1/filings/",
        {"institution": chengdu_institution.credit_code, "period": "0000Q1", "values": {}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"period": ["报告期格式应为 YYYYQn，如 2025Q2"]}
    response = api(users["cd_filer"]).get("/api/v1/filings/?period=0000Q1")
    assert response.status_code == 400


def test_govlist_entry_without_action_is_an_inclusion(api, users, chengdu_institution):
    fin = api(users["sc_finance"])
    batch = fin.post(
        "/api/v1/govlist-batches/",
        {"region": "510000", "title": "第一批", "published_on": "2024-03-01"},
        format="json",
    ).json()["id"]
    response = fin.post(
        f"/api/v1/govlist-batches/{batch}/entries/",
        {"institution": chengdu_institution.credit_code},
        format="json",
    )
    assert response.status_code == 200
    assert [(e["institution"], e["action"]) for e in response.json()["entries"]] == [
        (chengdu_institution.credit_code, "include")
    ]


def test_licence_change_with_an_id_that_is_not_a_number(api, users):
    response = api(users["sc_regulator"]).post("/api/v1/licences/false/change/", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


NUL_DETAIL = "文本中不能含有 NUL（\\u0000）字符"


@pytest.mark.parametrize(
    "url, body",
    [
        ("/api/v1/licences/", {"number": "川A\x00", "institution": "X", "issued_on": "2020-01-01"}),
        ("/api/v1/licences/", {"number": "川A1", "institution": "\x00", "issued_on": "2020-01-01"}),
        ("/api/v1/agreements/", {"institution": "9151\x00", "bank": 1}),
    ],
)
def test_nul_characters_in_licence_and_agreement_fields(url, body, api, users):
    response = api(users["sc_regulator"]).post(url, body, format="json")
    assert (response.status_code, response.json()) == (
        400,
        {"code": "invalid", "detail": NUL_DETAIL, "errors": {}},
    )


def test_nul_character_in_an_api_path(api, users):
    response = api(users["sc_regulator"]).get("/api/v1/institutions/%00/")
    assert response.status_code == 400
    assert response.json()["detail"] == "地址中不能含有 NUL 字符"


def test_licence_issued_in_the_year_421(api, users, chengdu_institution):
    response = api(users["sc_regulator"]).post(
        "/api/v1/licences/",
        {"number": "川A123456", "institution": chengdu_institution.credit_code, "issued_on": "0421-08-08"},
        format="json",
    )
    assert response.status_code == 400
    (message,) = response.json()["errors"]["issued_on"]
    assert message.startswith("日期 0421-08-08 不合理，应在 1949-10-01 至 ")
    assert not Licence.objects.filter(number="川A123456").exists()


def test_an_api_address_no_url_matches_is_the_json_404(api, users):
    response = api(users["sc_regulator"]).get("/api/v1/agreements/-2.5e-308/")
    assert (response.status_code, response["Content-Type"], response.json()) == (
        404,
        "application/json",
        {"code": "not_found", "detail": "未找到，或无权查看", "errors": {}},
    )


@pytest.mark.parametrize("text", ["²", "abc"])  # "²".isdigit() holds, int("²") fails
def test_superscript_digits_as_ids(text, api, users):
    response = api(users["sc_regulator"]).post(f"/api/v1/licences/{text}/change/", {}, format="json")
    assert response.status_code == 404
