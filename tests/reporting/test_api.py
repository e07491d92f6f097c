import pytest

from reporting.models import Filing, FilingVersion

from .helpers import GOOD_Q2, history


@pytest.fixture
def api(users):
    from rest_framework.test import APIClient

    def make(user):
        c = APIClient()
        c.force_authenticate(user)
        return c

    return make


def test_create_replace_submit_get(api, users, chengdu_institution):
    history(chengdu_institution, users)
    code = chengdu_institution.credit_code
    r = api(users["cd_filer"]).post(
        "/api/v1/filings/",
        {"institution": code, "period": "2025Q2", "values": {**GOOD_Q2, "net_assets": "1"}},
        format="json",
    )
    assert r.status_code == 201
    body = r.json()
    assert (body["status"], body["version"], body["period"], body["institution"]) == (
        "draft",
        1,
        "2025Q2",
        code,
    )
    assert [f["rule_id"] for f in body["findings"]] == ["IDN-01", "BND-03", "QOQ-03"]
    assert (
        body["findings"][0]["message_en"]
        == "Net assets (1.00) must equal total assets − total liabilities (35,000.00); difference -34,999.00"
    )
    fid = body["id"]
    r = api(users["cd_filer"]).post(
        "/api/v1/filings/", {"institution": code, "period": "2025Q2", "values": GOOD_Q2}, format="json"
    )
    assert r.status_code == 200 and r.json()["id"] == fid and r.json()["findings"] == []
    assert r.json()["values"]["net_assets"] == "35000.00"
    r = api(users["cd_filer"]).post(f"/api/v1/filings/{fid}/submit/", {}, format="json")
    assert r.status_code == 403
    r = api(users["cd_approver"]).post(f"/api/v1/filings/{fid}/submit/", {"explanations": {}}, format="json")
    assert r.status_code == 200
    assert r.json()["status"] == "submitted" and len(r.json()["values_hash"]) == 64
    assert r.json()["ruleset_version"].startswith("RS-")
    r = api(users["cd_approver"]).post(f"/api/v1/filings/{fid}/submit/", {}, format="json")
    assert r.status_code == 409
    r = api(users["cd_regulator"]).get(f"/api/v1/filings/{fid}/")
    assert r.status_code == 200 and r.json()["status"] == "submitted" and r.json()["version"] == 1
    assert FilingVersion.objects.filter(filing_id=fid).count() == 1


def test_errors_and_explanations_by_rule_id(api, users, chengdu_institution):
    history(chengdu_institution, users)
    code = chengdu_institution.credit_code
    body = (
        api(users["cd_filer"])
        .post(
            "/api/v1/filings/",
            {
                "institution": code,
                "period": "2025Q2",
                "values": {**GOOD_Q2, "controller_guarantee_balance": "9"},
            },
            format="json",
        )
        .json()
    )
    r = api(users["cd_approver"]).post(f"/api/v1/filings/{body['id']}/submit/", {}, format="json")
    assert r.status_code == 400 and [f["rule_id"] for f in r.json()["findings"]] == ["BND-31"]
    assert r.json()["errors"] == {"explanations.BND-31": ["请说明原因"]}
    r = api(users["cd_approver"]).post(
        f"/api/v1/filings/{body['id']}/submit/",
        {"explanations": {"BND-31": "存量业务，年内解除"}},
        format="json",
    )
    assert r.status_code == 200
    got = api(users["cd_approver"]).get(f"/api/v1/filings/{body['id']}/").json()
    assert got["explanations"] == {"BND-31": "存量业务，年内解除"}


def test_bad_values_and_bad_period(api, users, chengdu_institution):
    code = chengdu_institution.credit_code
    r = api(users["cd_filer"]).post(
        "/api/v1/filings/",
        {"institution": code, "period": "2025Q2", "values": {"staff_count": "1.5", "x": "1"}},
        format="json",
    )
    assert (r.status_code, r.json()) == (
        400,
        {
            "code": "invalid",
            "detail": "数据格式有误，未保存",
            "errors": {
                "staff_count": ["从业人员数（staff_count）应为非负整数，收到 1.5"],
                "x": ["未知字段代码 x（模板中没有此字段）"],
            },
            "findings": [],
        },
    )
    r = api(users["cd_filer"]).post(
        "/api/v1/filings/", {"institution": code, "period": "2025Q5", "values": {}}, format="json"
    )
    assert (r.status_code, r.json()) == (
        400,
        {
            "code": "invalid",
            "detail": "输入有误，请检查各字段",
            "errors": {"period": ["报告期格式应为 YYYYQn，如 2025Q2"]},
        },
    )
    assert not Filing.objects.exists()
    r = api(users["cd_filer"]).get("/api/v1/filings/?period=2025Q5")
    assert (r.status_code, r.json()["errors"]) == (
        400,
        {"period": ["报告期格式应为 YYYYQn，如 2025Q2"]},
    )


def test_refusals_share_one_error_body(api, users, chengdu_institution) -> None:
    """403 (the service refuses the role), 404 (an institution or filing outside the caller's scope) and
    409 (no open draft any more) in the one body, with the filing's findings beside it."""
    code = chengdu_institution.credit_code
    draft = {"institution": code, "period": "2025Q2", "values": {}, "nil_return": True}
    r = api(users["cd_regulator"]).post("/api/v1/filings/", draft, format="json")
    assert (r.status_code, r.json()) == (
        403,
        {
            "code": "forbidden",
            "detail": "只有本机构填报人员可以填报",
            "errors": {},
            "findings": [],
        },
    )
    not_found = {"code": "not_found", "detail": "未找到，或无权查看", "errors": {}}
    r = api(users["my_filer"]).post("/api/v1/filings/", draft, format="json")
    assert (r.status_code, r.json()) == (404, not_found)
    fid = api(users["cd_filer"]).post("/api/v1/filings/", draft, format="json").json()["id"]
    r = api(users["zj_regulator"]).get(f"/api/v1/filings/{fid}/")
    assert (r.status_code, r.json()) == (404, not_found)
    assert (
        api(users["cd_approver"]).post(f"/api/v1/filings/{fid}/submit/", {}, format="json").status_code == 200
    )
    r = api(users["cd_approver"]).post(f"/api/v1/filings/{fid}/submit/", {}, format="json")
    assert (r.status_code, r.json()) == (
        409,
        {
            "code": "conflict",
            "detail": "没有可报送的草稿",
            "errors": {},
            "findings": [],
        },
    )
    r = api(users["cd_filer"]).post("/api/v1/filings/", draft, format="json")
    assert (r.status_code, r.json()["code"]) == (409, "conflict")


# who may write a draft for the Chengdu institution, and who may read it
WRITE = {
    "cd_filer": 201,
    "cd_approver": 201,
    "my_filer": 404,
    "cd_regulator": 403,
    "sc_regulator": 403,
    "my_regulator": 404,
    "sc_finance": 403,
    "cd_finance": 403,
    "zj_regulator": 404,
    "admin": 201,
}
READ = {
    "cd_filer": 200,
    "cd_approver": 200,
    "my_filer": 404,
    "cd_regulator": 200,
    "sc_regulator": 200,
    "my_regulator": 404,
    "sc_finance": 200,
    "cd_finance": 200,
    "zj_regulator": 404,
    "admin": 200,
}
SUBMIT = {
    "cd_filer": 403,
    "cd_approver": 200,
    "my_filer": 404,
    "cd_regulator": 403,
    "sc_regulator": 403,
    "my_regulator": 404,
    "sc_finance": 403,
    "cd_finance": 403,
    "zj_regulator": 404,
    "admin": 200,
}


@pytest.mark.parametrize("who", sorted(WRITE))
def test_api_isolation_matrix(api, users, chengdu_institution, who):
    from reporting import services
    from reporting.periods import Period

    r = api(users[who]).post(
        "/api/v1/filings/",
        {
            "institution": chengdu_institution.credit_code,
            "period": "2025Q2",
            "values": {},
            "nil_return": True,
        },
        format="json",
    )
    assert r.status_code == WRITE[who]
    assert Filing.objects.count() == (1 if WRITE[who] == 201 else 0)
    filing, _v, _f = services.filing_save_draft(
        actor=users["cd_filer"],
        institution=chengdu_institution,
        period=Period(2025, 2),
        values={},
        nil_return=True,
    )
    assert api(users[who]).get(f"/api/v1/filings/{filing.pk}/").status_code == READ[who]
    listed = api(users[who]).get("/api/v1/filings/").json()["results"]
    assert [f["id"] for f in listed] == ([filing.pk] if READ[who] == 200 else [])
    assert (
        api(users[who]).post(f"/api/v1/filings/{filing.pk}/submit/", {}, format="json").status_code
        == SUBMIT[who]
    )
    filing.refresh_from_db()
    assert filing.status == ("submitted" if SUBMIT[who] == 200 else "draft")


def test_anonymous_gets_401(client):
    unauthenticated = {
        "code": "not_authenticated",
        "detail": "请先登录或提供有效的令牌",
        "errors": {},
    }
    for response in (client.get("/api/v1/filings/"), client.post("/api/v1/filings/", {})):
        assert (response.status_code, response.json(), response["WWW-Authenticate"]) == (
            401,
            unauthenticated,
            "Token",
        )
