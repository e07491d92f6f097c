"""POST /api/v1/guarantees/batches/ (JSON arrays or a file) and GET …/{id}/: status, progress, findings."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from guarantees.models import Guarantee, ImportBatch

from .files import workbook
from .helpers import event_row, guarantee_row, person_row

pytestmark = pytest.mark.django_db
URL = "/api/v1/guarantees/batches/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    def go(user, data, fmt="json", url=URL):
        """POST, let the queued job run, and answer the batch as GET then shows it (in a test the job
        runs after the response; on a server without a broker it runs before)."""
        with django_capture_on_commit_callbacks(execute=True):
            response = api(user).post(url, data, format=fmt)
        if response.status_code == 202:
            response.data = None
            reread = api(user).get(f"{URL}{response.json()['id']}/")
            reread.status_code = 202
            return reread
        return response

    return go


def test_json_batch_is_committed_and_its_status_read_back(banks, users, post):
    body = {
        "guarantees": [guarantee_row(2), person_row(3, n=1, contract_no="HT-0003")],
        "events": [event_row(2)],
    }
    response = post(users["cd_filer"], body)
    assert response.status_code == 202
    batch_id = response.json()["id"]
    got = api(users["cd_filer"]).get(f"{URL}{batch_id}/").json()
    assert {
        k: got[k] for k in ("status", "progress", "guarantee_rows", "event_rows", "guarantees_created")
    } == {
        "status": "committed",
        "progress": 100,
        "guarantee_rows": 2,
        "event_rows": 1,
        "guarantees_created": 2,
    }
    assert (got["institution"], got["channel"], got["findings"], got["error_report"]) == (
        users["cd_filer"].institution.credit_code,
        "api",
        [],
        None,
    )
    assert Guarantee.objects.count() == 2


def test_json_errors_come_back_as_findings_and_nothing_is_stored(banks, users, post):
    response = post(users["cd_filer"], {"guarantees": [guarantee_row(2, guaranteed_amount="-1")]})
    body = response.json()
    assert (body["status"], body["error_count"]) == ("failed", 1)
    assert body["findings"][0] == {
        "severity": "error",
        "rule": "negative",
        "sheet": "guarantees",
        "row": 1,
        "column": "guaranteed_amount",
        "message": "工作表“担保明细”第1行“担保金额（万元）”列：金额不能为负数：-1",
    }
    assert body["error_report"] == f"{URL}{body['id']}/report.xlsx"
    # the batch has no sheets of its own: its report is headed in the downloader's language
    for language, sheet, header, message in (
        (
            "zh-hans",
            "担保明细",
            "担保金额（万元）",
            "工作表“担保明细”第1行“担保金额（万元）”列：金额不能为负数：-1",
        ),
        (
            "en",
            "Guarantees",
            "Guaranteed amount (10k yuan)",
            "sheet “Guarantees”, row 1, column “Guaranteed amount (10k yuan)”: an amount cannot be negative: -1",
        ),
    ):
        report = api(users["cd_filer"]).get(body["error_report"], HTTP_ACCEPT_LANGUAGE=language)
        rows = load_workbook(io.BytesIO(report.content))[sheet]
        headers = [c.value for c in rows[1]]
        cell = rows.cell(2, headers.index(header) + 1)
        assert (cell.value, cell.comment.text) == ("-1", message)
    assert Guarantee.objects.count() == 0


def test_file_batch_through_the_api(banks, users, post):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = workbook([guarantee_row(2)], [event_row(2)])
    file = {"file": SimpleUploadedFile("b.xlsx", data)}
    response = post(users["cd_filer"], file, fmt="multipart", url=f"{URL}upload/")
    assert (response.status_code, response.json()["status"]) == (202, "committed")


def test_warnings_are_confirmed_through_the_api(banks, users, post, django_capture_on_commit_callbacks):
    body = post(users["cd_filer"], {"guarantees": [guarantee_row(2, guaranteed_amount="2000000")]}).json()
    assert (body["status"], body["warning_count"]) == ("staged", 1)
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = api(users["cd_filer"]).post(f"{URL}{body['id']}/confirm/")
    assert confirmed.status_code == 202
    assert api(users["cd_filer"]).get(f"{URL}{body['id']}/").json()["status"] == "committed"
    again = api(users["cd_filer"]).post(f"{URL}{body['id']}/confirm/")
    assert (again.status_code, again.json()["code"]) == (409, "conflict")


def test_tenant_isolation(banks, users, post):
    body = post(users["cd_filer"], {"guarantees": [guarantee_row(2)]}).json()
    for name, status in [
        ("my_filer", 404),
        ("my_regulator", 404),
        ("zj_regulator", 404),
        ("cd_regulator", 200),
        ("sc_regulator", 200),
        ("cd_finance", 403),
    ]:
        assert api(users[name]).get(f"{URL}{body['id']}/").status_code == status, name
    assert api(users["my_filer"]).get(URL).json()["results"] == []
    # a company cannot send another institution's records; a regulator sends none
    other = {"institution": users["cd_filer"].institution.credit_code, "guarantees": [guarantee_row(2)]}
    assert post(users["my_filer"], other).status_code == 404
    assert post(users["cd_regulator"], other).status_code == 403
    assert ImportBatch.objects.count() == 1
    assert APIClient().get(URL).status_code == 401


def test_schema_documents_json_rows_and_file_uploads_apart(users):
    schema = api(users["admin"]).get("/api/schema/?format=json").json()
    rows = schema["paths"]["/api/v1/guarantees/batches/"]["post"]["requestBody"]["content"]
    upload = schema["paths"]["/api/v1/guarantees/batches/upload/"]["post"]["requestBody"]["content"]
    assert (set(rows), set(upload)) == ({"application/json"}, {"multipart/form-data"})
    assert "/api/v1/guarantees/batches/{id}/" in schema["paths"]
