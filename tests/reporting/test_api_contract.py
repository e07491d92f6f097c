"""The filings API as real clients use it (issue 14): JSON only, one 201 per filing under concurrency,
the dry run gives exactly the findings a submission gets, a quarter that has not ended cannot be
submitted, and the schema says what the API does."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone, translation
from rest_framework.test import APIClient

from reporting import services
from reporting.models import Filing, FilingVersion
from reporting.periods import Period

from .helpers import GOOD_Q2, history
from .test_lifecycle import reference_data  # noqa: F401  (fixture)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def create(user, institution, period="2025Q2", values=None, **extra):
    return api(user).post(
        "/api/v1/filings/",
        {"institution": institution.credit_code, "period": period, "values": values or {}, **extra},
        format="json",
    )


@pytest.mark.parametrize("fmt", ["multipart", None])  # None: DRF's form-encoded default of the test client
def test_form_or_multipart_body_is_415_and_the_draft_is_kept(fmt, users, chengdu_institution):
    assert create(users["cd_filer"], chengdu_institution, values=GOOD_Q2).status_code == 201
    body = {"institution": chengdu_institution.credit_code, "period": "2025Q2", "values": "{}"}
    response = api(users["cd_filer"]).post("/api/v1/filings/", body, **({"format": fmt} if fmt else {}))
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert Filing.objects.get().current_version.values["net_assets"] == "35000.00"


def test_dry_run_gives_exactly_the_findings_of_the_submission(users, chengdu_institution):
    history(chengdu_institution, users)
    values = {**GOOD_Q2, "controller_guarantee_balance": "9", "fin_new": "150000", "fin_balance": "250000"}
    check = api(users["cd_filer"]).post(
        "/api/v1/filings/check/",
        {"institution": chengdu_institution.credit_code, "period": "2025Q2", "values": values},
        format="json",
    )
    assert check.status_code == 200
    dry = check.json()
    assert not Filing.objects.filter(year=2025, quarter=2).exists()  # nothing stored
    warnings = sorted({f["rule_id"] for f in dry["findings"]})
    assert dry["submittable"] is False
    assert dry["refusals"] == [f"以下提示须逐条说明原因后方可报送：{', '.join(warnings)}"]
    explanations = {rule_id: "已核实" for rule_id in warnings}
    again = api(users["cd_filer"]).post(
        "/api/v1/filings/check/",
        {
            "institution": chengdu_institution.credit_code,
            "period": "2025Q2",
            "values": values,
            "explanations": explanations,
        },
        format="json",
    )
    assert (again.json()["submittable"], again.json()["refusals"]) == (True, [])
    filing_id = create(users["cd_filer"], chengdu_institution, values=values).json()["id"]
    submitted = api(users["cd_approver"]).post(
        f"/api/v1/filings/{filing_id}/submit/", {"explanations": explanations}, format="json"
    )
    assert submitted.status_code == 200
    assert submitted.json()["findings"] == dry["findings"]
    assert submitted.json()["ruleset_version"] == dry["ruleset_version"]
    assert submitted.json()["values"] == dry["values"]
    assert FilingVersion.objects.get(filing_id=filing_id).findings == dry["findings"]


def test_dry_run_refuses_bad_values_like_a_save(users, chengdu_institution):
    response = api(users["cd_filer"]).post(
        "/api/v1/filings/check/",
        {"institution": chengdu_institution.credit_code, "period": "2025Q2", "values": {"net_assets": "1,2"}},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["net_assets"]


def test_a_quarter_that_has_not_ended_cannot_be_submitted():
    """2 December 2026: 2026Q4 is refused with the first day it can be submitted; 2026Q3 is not."""
    with translation.override("zh-hans"), pytest.raises(services.FilingError) as exc:
        services.require_quarter_ended(Period(2026, 4), today=dt.date(2026, 12, 2))
    assert exc.value.message == "2026Q4 季度尚未结束，2027-01-01 起方可报送"
    assert exc.value.errors == {"period": ["2027-01-01 起方可报送"]}
    services.require_quarter_ended(Period(2026, 3), today=dt.date(2026, 12, 2))
    services.require_quarter_ended(Period(2026, 4), today=dt.date(2027, 1, 1))


def test_the_current_quarter_is_refused_on_submission_and_in_the_dry_run(users, chengdu_institution):
    current = Period.containing(timezone.localdate())  # computed, not today's date written down
    first = (current.end + dt.timedelta(days=1)).isoformat()
    filing_id = create(users["cd_filer"], chengdu_institution, period=str(current), nil_return=True).json()[
        "id"
    ]
    response = api(users["cd_approver"]).post(f"/api/v1/filings/{filing_id}/submit/", {}, format="json")
    assert (response.status_code, response.json()["detail"]) == (
        400,
        f"{current} 季度尚未结束，{first} 起方可报送",
    )
    assert Filing.objects.get().status == "draft"
    dry = (
        api(users["cd_filer"])
        .post(
            "/api/v1/filings/check/",
            {"institution": chengdu_institution.credit_code, "period": str(current), "nil_return": True},
            format="json",
        )
        .json()
    )
    assert (dry["submittable"], dry["refusals"]) == (False, [response.json()["detail"]])


def test_create_answers_201_then_200(users, chengdu_institution):
    assert create(users["cd_filer"], chengdu_institution).status_code == 201
    assert create(users["cd_filer"], chengdu_institution).status_code == 200


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="needs PostgreSQL's row locks for concurrent requests"
)
@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_creates_of_one_filing_give_one_201(reference_data, users, chengdu_institution):  # noqa: F811
    barrier = threading.Barrier(50)
    statuses = []

    def post():
        try:
            barrier.wait(timeout=30)
            statuses.append(create(users["cd_filer"], chengdu_institution, values=GOOD_Q2).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(statuses) == 50
    assert statuses.count(201) == 1
    assert set(statuses) <= {200, 201, 409}
    assert Filing.objects.count() == 1


def test_schema_documents_what_the_api_answers(users):
    client = APIClient()
    client.force_login(users["cd_filer"])
    schemas = {}
    for language in ("zh-hans", "en"):
        response = client.get("/api/schema/?format=json", HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        schemas[language] = response.json()
    schema = schemas["zh-hans"]
    # enum and component names do not depend on the request's language
    assert sorted(schemas["en"]["components"]["schemas"]) == sorted(schema["components"]["schemas"])
    components = schema["components"]["schemas"]
    filings = schema["paths"]["/api/v1/filings/"]
    assert filings["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PaginatedFilingList"
    }
    assert "period" in {p["name"] for p in filings["get"]["parameters"]}
    assert set(filings["post"]["responses"]) >= {"200", "201", "400", "403", "404", "409"}
    assert filings["post"]["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/FilingError"
    }
    assert set(components["FilingError"]["properties"]) == {"code", "detail", "errors", "findings"}
    assert components["Institution"]["properties"]["parent"]["nullable"] is True
    detail = components["FilingDetail"]["properties"]
    assert detail["findings"]["items"] == {"$ref": "#/components/schemas/Finding"}
    assert detail["explanations"]["additionalProperties"] == {"type": "string"}
    assert detail["review_comments"]["additionalProperties"] == {"type": "string"}
    check = schema["paths"]["/api/v1/filings/check/"]["post"]
    assert check["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CheckResult"
    }
    # one request content type per operation: JSON, but for the file uploads (multipart)
    bodies = {
        (path, method): list(op["requestBody"]["content"])
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if "requestBody" in op
    }
    uploads = {
        ("/api/v1/guarantees/batches/upload/", "post"),
        ("/api/v1/guarantees/bank-batches/", "post"),
        ("/api/v1/measures/{id}/answer/", "post"),
    }
    assert {key: types for key, types in bodies.items() if types != ["application/json"]} == {
        key: ["multipart/form-data"] for key in uploads
    }
