"""API: token login, reads scoped by the choke point, writes refused outside one's role and scope."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from institutions.models import Agreement, GovListBatch, Institution, Licence
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

WHO = [
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


def api(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_token_login_and_institution_by_credit_code(users, chengdu_institution):
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"username": "t_cd_reg", "password": TEST_PASSWORD}).json()[
        "token"
    ]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    data = client.get(f"/api/v1/institutions/{chengdu_institution.credit_code}/").json()
    assert (data["credit_code"], data["name"], data["region"]) == (
        chengdu_institution.credit_code,
        "成都测试融资担保有限公司",
        "510104",
    )
    assert APIClient().get("/api/v1/institutions/").status_code == 401


CD_SEERS = {"admin", "sc_regulator", "cd_regulator", "sc_finance", "cd_finance", "cd_filer", "cd_approver"}
MY_SEERS = {"admin", "sc_regulator", "my_regulator", "sc_finance", "my_filer"}


@pytest.mark.parametrize("who", WHO)
def test_read_matrix(who, users, registry_objects, chengdu_institution, mianyang_institution):
    client = api(users[who])
    for inst, seers in ((chengdu_institution, CD_SEERS), (mianyang_institution, MY_SEERS)):
        assert client.get(f"/api/v1/institutions/{inst.credit_code}/").status_code == (
            200 if who in seers else 404
        )
        agreement = registry_objects["cd_agreement" if inst == chengdu_institution else "my_agreement"]
        assert client.get(f"/api/v1/agreements/{agreement.pk}/").status_code == (200 if who in seers else 404)
    listed = {r["credit_code"] for r in client.get("/api/v1/institutions/").json()["results"]}
    expected = {
        i.credit_code
        for i, seers in ((chengdu_institution, CD_SEERS), (mianyang_institution, MY_SEERS))
        if who in seers
    }
    assert listed == expected
    # the licence register is public: everyone reads both numbers
    assert {r["number"] for r in client.get("/api/v1/licences/").json()["results"]} == {
        "川A100001",
        "川A100002",
    }
    # draft notices only within the jurisdiction (the two issue notices are drafts of 510000)
    drafts = client.get("/api/v1/notices/").json()["count"]
    assert drafts == (2 if who in ("admin", "sc_regulator", "sc_finance") else 0)


INSTITUTION_PATCH = {
    "admin": 200,
    "sc_regulator": 200,
    "my_regulator": 200,
    "cd_regulator": 404,
    "zj_regulator": 404,
    "sc_finance": 403,
    "cd_finance": 403,
    "cd_filer": 403,
    "cd_approver": 403,
    "my_filer": 403,
}


@pytest.mark.parametrize("who", WHO)
def test_institution_write_matrix(who, users, mianyang_institution):
    """Changing the Mianyang institution: its regulators and the administrator only."""
    response = api(users[who]).patch(
        f"/api/v1/institutions/{mianyang_institution.credit_code}/", {"staff_count": 77}, format="json"
    )
    assert response.status_code == INSTITUTION_PATCH[who]
    mianyang_institution.refresh_from_db()
    assert mianyang_institution.staff_count == (77 if INSTITUTION_PATCH[who] == 200 else None)


def test_regulator_cannot_create_institution_outside_jurisdiction(users):
    from institutions.demo import demo_credit_code

    body = {
        "credit_code": demo_credit_code("510703", 1),
        "name": "绵阳新设融资担保有限公司",
        "region": "510703",
        "level": "county",
        "registered_capital": "30000",
        "paid_in_capital": "30000",
    }
    refused = api(users["cd_regulator"]).post("/api/v1/institutions/", body, format="json")
    assert (refused.status_code, refused.json()) == (
        403,
        {
            "code": "forbidden",
            "detail": "该地区不在您的辖区内。",
            "errors": {},
        },
    )
    assert not Institution.objects.filter(credit_code=body["credit_code"]).exists()
    assert api(users["my_regulator"]).post("/api/v1/institutions/", body, format="json").status_code == 201
    assert Institution.objects.get(credit_code=body["credit_code"]).name == "绵阳新设融资担保有限公司"
    bad = {**body, "credit_code": body["credit_code"][:-1] + ("0" if body["credit_code"][-1] != "0" else "1")}
    response = api(users["my_regulator"]).post("/api/v1/institutions/", bad, format="json")
    assert (response.status_code, response.json()) == (
        400,
        {
            "code": "invalid",
            "detail": "输入有误，请检查各字段",
            "errors": {
                "credit_code": [
                    f"统一社会信用代码“{bad['credit_code']}”无效：应为18位且校验位符合GB 32100-2015。"
                ]
            },
        },
    )


REVOKE = {
    "admin": 201,
    "sc_regulator": 201,
    "cd_regulator": 403,
    "my_regulator": 403,
    "zj_regulator": 403,
    "sc_finance": 403,
    "cd_finance": 403,
    "cd_filer": 403,
    "cd_approver": 403,
    "my_filer": 403,
}


@pytest.mark.parametrize("who", WHO)
def test_licence_revoke_write_matrix(who, users, registry_objects):
    licence = registry_objects["cd_licence"]
    response = api(users[who]).post(
        "/api/v1/licences/revoke/",
        {
            "licences": [licence.pk],
            "on": "2025-03-01",
            "reason": "违规经营",
            "decision_no": "川金监罚〔2025〕1号",
        },
        format="json",
    )
    assert response.status_code == REVOKE[who]
    licence.refresh_from_db()
    assert licence.status == ("revoked" if REVOKE[who] == 201 else "valid")
    if REVOKE[who] == 201:
        body = response.json()
        assert (
            body["kind"],
            body["status"],
            [(i["institution_name"], i["licence_number"]) for i in body["items"]],
        ) == ("revoke", "draft", [("成都测试融资担保有限公司", "川A100001")])
        assert licence.duties.count() == 5


AGREEMENT_PATCH = {
    "admin": 200,
    "sc_regulator": 200,
    "cd_regulator": 200,
    "cd_filer": 200,
    "cd_approver": 200,
    "my_regulator": 404,
    "zj_regulator": 404,
    "my_filer": 404,
    "sc_finance": 403,
    "cd_finance": 403,
}


@pytest.mark.parametrize("who", WHO)
def test_agreement_write_matrix(who, users, registry_objects):
    agreement = registry_objects["cd_agreement"]
    response = api(users[who]).patch(f"/api/v1/agreements/{agreement.pk}/", {"grace_days": 45}, format="json")
    assert response.status_code == AGREEMENT_PATCH[who]
    agreement.refresh_from_db()
    assert agreement.grace_days == (45 if AGREEMENT_PATCH[who] == 200 else 30)


def test_agreement_shares_must_sum_to_100(users, registry_objects):
    agreement = registry_objects["cd_agreement"]
    response = api(users["cd_filer"]).patch(
        f"/api/v1/agreements/{agreement.pk}/", {"share_bank": "0.3"}, format="json"
    )
    assert (response.status_code, response.json()) == (  # the service's Django ValidationError, by field
        400,
        {
            "code": "invalid",
            "detail": "输入有误，请检查各字段",
            "errors": {"share_bank": ["各方分担比例之和须恰为100%，当前为110%。"]},
        },
    )
    assert Agreement.objects.get(pk=agreement.pk).share_bank == agreement.share_bank
    data = api(users["cd_filer"]).get(f"/api/v1/agreements/{agreement.pk}/").json()
    assert data["findings"] == []


def test_gov_list_via_api_propose_confirm(users, chengdu_institution):
    fin, reg = api(users["sc_finance"]), api(users["sc_regulator"])
    batch = fin.post(
        "/api/v1/govlist-batches/",
        {"region": "510000", "title": "第一批", "published_on": "2024-03-01"},
        format="json",
    )
    assert batch.status_code == 201
    pk = batch.json()["id"]
    assert (
        fin.post(
            f"/api/v1/govlist-batches/{pk}/entries/",
            {
                "institution": chengdu_institution.credit_code,
                "action": "include",
                "capital_replenishment": True,
            },
            format="json",
        ).status_code
        == 200
    )
    assert api(users["cd_filer"]).post(f"/api/v1/govlist-batches/{pk}/propose/").status_code == 403
    assert fin.post(f"/api/v1/govlist-batches/{pk}/propose/").status_code == 200
    assert fin.post(f"/api/v1/govlist-batches/{pk}/confirm/").status_code == 403
    assert api(users["zj_regulator"]).post(f"/api/v1/govlist-batches/{pk}/confirm/").status_code == 404
    assert reg.post(f"/api/v1/govlist-batches/{pk}/confirm/").status_code == 200
    assert GovListBatch.objects.get(pk=pk).status == "confirmed"
    from institutions.selectors import government_backed_ids

    assert government_backed_ids(on=dt.date(2024, 3, 1)) == {chengdu_institution.pk}


def test_licence_issue_via_api(users, mianyang_institution):
    body = {"number": "川A130001", "institution": mianyang_institution.credit_code, "issued_on": "2021-01-01"}
    assert api(users["cd_regulator"]).post("/api/v1/licences/", body, format="json").status_code == 403
    assert (
        api(users["my_regulator"]).post("/api/v1/licences/", body, format="json").status_code == 403
    )  # city level
    response = api(users["sc_regulator"]).post("/api/v1/licences/", body, format="json")
    assert response.status_code == 201 and response.json()["issuing_authority"] == "四川省地方金融监督管理局"
    bad = api(users["sc_regulator"]).post("/api/v1/licences/", {**body, "number": "浙A1"}, format="json")
    assert bad.status_code == 400
    assert list(Licence.objects.values_list("number", flat=True)) == ["川A130001"]


def test_schema_lists_registry_endpoints(client_for, users):
    schema = client_for(users["cd_filer"]).get("/api/schema/").content.decode()
    for path in (
        "/api/v1/institutions/{credit_code}/",
        "/api/v1/licences/revoke/",
        "/api/v1/govlist-batches/{id}/confirm/",
        "/api/v1/agreements/",
        "/api/v1/banks/",
        "/api/v1/notices/",
    ):
        assert path in schema


API_LISTS = [
    "/api/v1/institutions/",
    "/api/v1/licences/",
    "/api/v1/agreements/",
    "/api/v1/notices/",
    "/api/v1/banks/",
    "/api/v1/govlist-batches/",
]


@pytest.mark.parametrize("url", API_LISTS)
def test_api_list_query_count_independent_of_rows(url, users):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.institutions.test_query_counts import add_rows

    client = api(users["admin"])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    add_rows(2, 0)
    from institutions.models import Notice, NoticeItem

    def notices(n, start):
        for k in range(start, start + n):
            notice = Notice.objects.create(
                region_id="510000", kind="cancel", title=f"公告{k}", issuing_body="x", status="published"
            )
            NoticeItem.objects.create(notice=notice, seq=1, institution_name="甲", licence_number="川A1")

    notices(2, 0)
    small = count()
    add_rows(30, 100)
    notices(20, 100)
    assert count() == small


def test_bank_and_notice_writes(users, registry_objects):
    assert (
        api(users["cd_filer"])
        .post("/api/v1/banks/", {"name": "新银行", "kind": "head_office"}, format="json")
        .status_code
        == 403
    )
    assert (
        api(users["sc_finance"])
        .post("/api/v1/banks/", {"name": "新银行", "kind": "head_office"}, format="json")
        .status_code
        == 403
    )
    assert (
        api(users["cd_regulator"])
        .post("/api/v1/banks/", {"name": "新银行", "kind": "head_office"}, format="json")
        .status_code
        == 201
    )
    from institutions.models import Notice

    notice = Notice.objects.get(items__licence=registry_objects["cd_licence"])
    url = f"/api/v1/notices/{notice.pk}/publish/"
    assert api(users["cd_filer"]).post(url).status_code == 403
    assert (
        api(users["cd_regulator"]).post(url).status_code == 404
    )  # a draft of the province: not in the city's view
    assert api(users["sc_regulator"]).post(url).status_code == 200
    notice.refresh_from_db()
    assert notice.status == "published"
    again = api(users["sc_regulator"]).post(url)  # the service's ValidationError, not about a field
    assert (again.status_code, again.json()) == (
        400,
        {"code": "invalid", "detail": "公告已发布，不能重复发布。", "errors": {}},
    )
    assert api(users["cd_regulator"]).get(f"/api/v1/notices/{notice.pk}/").json()["items"] == [
        {
            "seq": 1,
            "institution": registry_objects["cd_licence"].institution.credit_code,
            "institution_name": "成都测试融资担保有限公司",
            "licence_number": "川A100001",
            "remark": "",
        }
    ]
