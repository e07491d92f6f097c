"""The company's records and upload pages, a batch's page, the regulator's portfolio tab and shared
borrowers: who sees what, constant queries, masked ID numbers, exports."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from guarantees.models import Guarantee, ImportBatch

from .files import workbook
from .helpers import event_row, guarantee_row, load, person_id, person_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(banks, users, chengdu_institution, mianyang_institution):
    rows = [guarantee_row(i, contract_no=f"HT-{i:04d}", start_date=f"2025-03-{i:02d}") for i in range(2, 12)]
    rows.append(person_row(12, n=1, contract_no="HT-P", start_date="2025-04-01"))
    load(users["cd_filer"], chengdu_institution, rows, [event_row(2, contract_no="HT-0002")])
    load(
        users["my_filer"],
        mianyang_institution,
        [person_row(2, n=1, contract_no="MY-1", bank="中国农业银行绵阳分行")],
    )
    return rows


def test_company_sees_its_records_with_masked_ids(records, users, client_for):
    response = client_for(users["cd_filer"]).get("/guarantees/records/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "HT-0011" in page and "MY-1" not in page
    number = person_id(1)
    assert number not in page and "*" * 14 + number[-4:] in page
    assert "张*" in page


def test_records_page_by_keyset_with_constant_queries(
    records, users, client_for, django_assert_num_queries, settings
):
    client = client_for(users["cd_filer"])
    client.get("/guarantees/records/")  # warm the session and menu caches
    from guarantees import selectors

    settings_size = selectors.PAGE_SIZE
    selectors.PAGE_SIZE = 4
    try:
        with django_assert_num_queries(QUERIES) as captured:
            first = client.get("/guarantees/records/")
        assert not any("COUNT(" in q["sql"].upper() and "guarantees_guarantee" in q["sql"] for q in captured)
        page = first.context["page"]
        assert [g.contract_no for g in page.rows] == ["HT-P", "HT-0011", "HT-0010", "HT-0009"]
        with django_assert_num_queries(QUERIES):
            second = client.get(f"/guarantees/records/?after={page.next_cursor}")
        assert [g.contract_no for g in second.context["page"].rows] == [
            "HT-0008",
            "HT-0007",
            "HT-0006",
            "HT-0005",
        ]
    finally:
        selectors.PAGE_SIZE = settings_size


QUERIES = 4  # session, user with institution, the page of rows (one query), banks for the filter


def test_filters_and_drill_down(records, users, client_for, chengdu_institution):
    client = client_for(users["cd_regulator"])
    base = f"/guarantees/records/?institution={chengdu_institution.pk}"
    assert [g.contract_no for g in client.get(base + "&client_type=farmer").context["page"].rows] == ["HT-P"]
    assert [g.contract_no for g in client.get(base + "&contract_no=HT-000").context["page"].rows][:2] == [
        "HT-0009",
        "HT-0008",
    ]
    assert client.get(base + "&band=gt10m").context["page"].rows == []
    in_force = client.get(base + "&in_force_on=2025-03-05").context["page"].rows
    assert [g.contract_no for g in in_force] == ["HT-0005", "HT-0004", "HT-0003", "HT-0002"]


def test_records_tenant_isolation(records, users, client_for, chengdu_institution):
    url = f"/guarantees/records/?institution={chengdu_institution.pk}"
    assert client_for(users["my_regulator"]).get(url).status_code == 404
    assert client_for(users["zj_regulator"]).get(url).status_code == 404
    assert client_for(users["cd_finance"]).get(url).status_code == 403
    # a company user's ?institution= is ignored: it always sees its own
    page = client_for(users["my_filer"]).get(url).content.decode()
    assert "MY-1" in page and "HT-0002" not in page
    assert client_for(None).get(url).status_code == 302
    export = client_for(users["my_regulator"]).get(
        f"/guarantees/records/export.xlsx?institution={chengdu_institution.pk}"
    )
    assert export.status_code == 404


def test_export_masks_ids_and_writes_text_as_text(records, users, client_for):
    response = client_for(users["cd_filer"]).get("/guarantees/records/export.xlsx?client_type=farmer")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet[2]][:4] == ["HT-P", "张*", "农户", "*" * 14 + person_id(1)[-4:]]
    csv = client_for(users["cd_filer"]).get("/guarantees/records/export.csv").content.decode("utf-8-sig")
    assert person_id(1) not in csv and len(csv.splitlines()) == 12


def test_upload_page_posts_a_file_and_shows_history(
    banks, users, client_for, django_capture_on_commit_callbacks
):
    client = client_for(users["cd_filer"])
    data = workbook([guarantee_row(2, guaranteed_amount="-3")])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/guarantees/upload/", {"file": SimpleUploadedFile("b.xlsx", data)})
    batch = ImportBatch.objects.get()
    assert response.url == f"/guarantees/batches/{batch.pk}/"
    page = client.get(response.url).content.decode()
    assert "金额不能为负数：-3" in page and f"/guarantees/batches/{batch.pk}/report.xlsx" in page
    history = client.get("/guarantees/upload/").content.decode()
    assert f"#{batch.pk}" in history
    assert client_for(users["my_filer"]).get(response.url).status_code == 404
    assert f"#{batch.pk}" not in client_for(users["my_filer"]).get("/guarantees/upload/").content.decode()
    assert client_for(users["cd_regulator"]).get("/guarantees/upload/").status_code == 403
    assert Guarantee.objects.count() == 0


def test_progress_partial_polls_while_the_job_runs(banks, users, client_for):
    from guarantees import services

    batch = services.batch_submit(  # the job is queued, not run (no commit in this test)
        actor=users["cd_filer"], institution=users["cd_filer"].institution, channel="upload",
        files=[(workbook([guarantee_row(2)]), "a.xlsx")],
    )  # fmt: skip
    client = client_for(users["cd_filer"])
    partial = client.get(f"/guarantees/batches/{batch.pk}/progress/?polling=1")
    assert 'hx-trigger="every 1s"' in partial.content.decode() and "HX-Refresh" not in partial
    ImportBatch.objects.filter(pk=batch.pk).update(status="committed", progress=100)
    batch.job.status = "done"
    batch.job.save()
    done = client.get(f"/guarantees/batches/{batch.pk}/progress/?polling=1")
    assert done["HX-Refresh"] == "true"


def test_portfolio_tab_for_regulators_only(
    records, users, client_for, chengdu_institution, django_assert_max_num_queries
):
    url = f"/institutions/{chengdu_institution.pk}/?tab=guarantees&on=2025-06-15"
    client = client_for(users["cd_regulator"])
    response = client.get(url)
    assert response.status_code == 200
    data = response.context["portfolio"]
    assert data["totals"] == {"count": 11, "balance": data["totals"]["balance"]}
    assert str(data["totals"]["balance"]) == "1070.00"  # 11 × 100 less a release of 30 on 1 June
    assert data["bands"]["le5m"]["count"] == 11
    assert [t["code"] for t in data["types"]] == ["small_micro", "farmer"]
    assert len(data["trend"]) == 12 and data["trend"][-1]["date"] == dt.date(2025, 6, 15)
    assert "js/guarantees.js" in response.content.decode()
    with django_assert_max_num_queries(40):
        client.get(url)
    assert client_for(users["my_regulator"]).get(url).status_code == 404
    own = client_for(users["cd_filer"]).get(f"/institutions/{chengdu_institution.pk}/?tab=guarantees")
    assert "gp-data" not in own.content.decode()


def test_shared_borrowers_across_institutions(records, users, client_for):
    page = client_for(users["sc_regulator"]).get("/guarantees/borrowers/?on=2025-06-01")
    groups = page.context["groups"]
    assert [(g["identifier"], g["institutions"]) for g in groups] == [("*" * 14 + person_id(1)[-4:], 2)]
    assert person_id(1) not in page.content.decode()
    found = client_for(users["sc_regulator"]).get(f"/guarantees/borrowers/?on=2025-06-01&q={person_id(1)}")
    assert found.context["groups"][0]["institutions"] == 2
    # the Chengdu regulator sees only Chengdu's: the borrower is not shared within its jurisdiction
    assert (
        client_for(users["cd_regulator"]).get("/guarantees/borrowers/?on=2025-06-01").context["groups"] == []
    )
    assert client_for(users["cd_filer"]).get("/guarantees/borrowers/").status_code == 403
