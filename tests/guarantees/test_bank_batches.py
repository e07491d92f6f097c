"""A bank's 总对总 batch uploaded by a regulator: bad files refused with the cell named and nothing stored,
matching by credit code and contract number with the unmatched rows of both sides, pages, API, scope."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from core.excel import Table, UploadRejected, xlsx_bytes
from guarantees.bank_batch_services import bank_batch_upload, parse_date
from guarantees.bank_batches import BankBatch, BankBatchRow
from institutions.models import Bank

from .helpers import ICBC, guarantee_row, load

pytestmark = pytest.mark.django_db
HEADER = (
    "担保机构统一社会信用代码,担保合同编号,借款人名称,借款金额（万元）,担保金额（万元）,起始日期,到期日期"
)


def csv_file(*lines, name="batch.csv", header=HEADER):
    return SimpleUploadedFile(
        name, ("\n".join([header, *lines]) + "\n").encode("utf-8"), content_type="text/csv"
    )


@pytest.fixture
def records(banks, chengdu_institution, mianyang_institution, users):
    zdz = dict(bank=ICBC, batch_zdz="是", start_date="2025-01-10", end_date="2026-01-10")
    load(
        users["cd_filer"],
        chengdu_institution,
        [
            guarantee_row(2, contract_no="Z1", guaranteed_amount="100", **zdz),
            guarantee_row(3, contract_no="Z2", guaranteed_amount="60", **zdz),
            guarantee_row(4, contract_no="Z3", guaranteed_amount="40", **zdz),
            guarantee_row(5, contract_no="N1", guaranteed_amount="40", bank=ICBC),  # not 总对总
        ],
    )
    load(users["my_filer"], mianyang_institution, [guarantee_row(2, contract_no="M1", **zdz)])


def good_batch(cd, my):
    return csv_file(
        f"{cd},Z1,成都甲科技有限公司,120,100,2025-01-10,2026-01-10",
        f"{cd},Z2,成都甲科技有限公司,120,65,2025/1/10,20260110",
        f"{cd},Z9,成都乙公司,20,10,2025年3月1日,2026-03-01",
        f"{my},M1,绵阳某公司,120,100,2025-01-10,2026-01-10",
    )


@pytest.mark.parametrize(
    "user, matched, no_record, missing",
    [
        ("sc_regulator", {"Z1": "matched", "Z2": "amount_differs", "Z9": "no_record", "M1": "matched"}, 1, 1),
        # the Chengdu regulator does not oversee Mianyang: its row has no record there, its records not counted
        (
            "cd_regulator",
            {"Z1": "matched", "Z2": "amount_differs", "Z9": "no_record", "M1": "no_record"},
            2,
            1,
        ),
    ],
)
def test_matching_lists_both_sides(
    records, users, chengdu_institution, mianyang_institution, user, matched, no_record, missing
):
    from guarantees.bank_batch_services import records_missing_from_batch

    batch = bank_batch_upload(
        actor=users[user],
        bank=Bank.objects.get(name=ICBC),
        as_of=__import__("datetime").date(2025, 6, 30),
        upload=good_batch(chengdu_institution.credit_code, mianyang_institution.credit_code),
        filename="batch.csv",
    )
    assert dict(BankBatchRow.objects.filter(batch=batch).values_list("contract_no", "status")) == matched
    assert (batch.rows, batch.matched + batch.amount_differs, batch.no_record, batch.missing_from_batch) == (
        4,
        4 - no_record,
        no_record,
        missing,
    )
    assert [g.contract_no for g in records_missing_from_batch(user=users[user], batch=batch)] == ["Z3"]
    z2 = BankBatchRow.objects.get(batch=batch, contract_no="Z2")
    assert (str(z2.start_date), str(z2.end_date), z2.guarantee.contract_no) == (
        "2025-01-10",
        "2026-01-10",
        "Z2",
    )


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2025-03-01", "2025-03-01"),
        ("2025/3/1", "2025-03-01"),
        ("20250301", "2025-03-01"),
        ("2025年3月1日", "2025-03-01"),
        (45717, "2025-03-01"),
        ("2025.3.1", "2025-03-01"),
        ("3/1/2025", None),
        ("2025-02-30", None),
        (45717.5, None),
    ],
)
def test_dates_as_spreadsheets_write_them(value, expected):
    got = parse_date(value)
    assert (str(got) if got else None) == expected


@pytest.mark.parametrize(
    "line, message",
    [
        (
            "91510100MA0000000X,Z1,甲,1,1,2025-01-01,2025-02-01",
            "第2行 A列：统一社会信用代码“91510100MA0000000X”无效",
        ),
        ("{cd},,甲,1,1,2025-01-01,2025-02-01", "第2行 B列：担保合同编号为空"),
        ("{cd},Z1,甲,-1,1,2025-01-01,2025-02-01", "第2行 D列：借款金额（万元）应为不小于0"),
        ("{cd},Z1,甲,1,abc,2025-01-01,2025-02-01", "第2行 E列：担保金额（万元）应为不小于0"),
        ("{cd},Z1,甲,1,1.234,2025-01-01,2025-02-01", "第2行 E列"),
        ("{cd},Z1,甲,1,1,2025-13-01,2025-02-01", "第2行 F列：起始日期无法识别为日期"),
        ("{cd},Z1,甲,1,1,2025-03-01,2025-02-01", "第2行 G列：到期日期早于起始日期"),
    ],
)
def test_a_bad_cell_refuses_the_file_naming_it(records, users, chengdu_institution, line, message):
    with pytest.raises(UploadRejected) as exc:
        bank_batch_upload(
            actor=users["sc_regulator"],
            bank=Bank.objects.get(name=ICBC),
            as_of=__import__("datetime").date(2025, 6, 30),
            upload=csv_file(line.format(cd=chengdu_institution.credit_code)),
            filename="batch.csv",
        )
    assert message in exc.value.problems[0].message_zh
    assert exc.value.problems[0].message_en.startswith("sheet 'batch.csv', row 2, column ")
    assert BankBatch.objects.count() == 0 and BankBatchRow.objects.count() == 0


def test_duplicates_and_missing_headers_are_refused(records, users, chengdu_institution):
    import datetime as dt

    cd = chengdu_institution.credit_code
    bank = Bank.objects.get(name=ICBC)
    with pytest.raises(UploadRejected) as exc:
        bank_batch_upload(
            actor=users["sc_regulator"],
            bank=bank,
            as_of=dt.date(2025, 6, 30),
            upload=csv_file(f"{cd},Z1,甲,1,1,2025-01-01,2025-02-01", f"{cd},Z1,甲,1,1,2025-01-01,2025-02-01"),
            filename="batch.csv",
        )
    assert "第3行 B列：担保合同编号 Z1 与第2行重复" in exc.value.problems[0].message_zh
    with pytest.raises(UploadRejected) as exc:
        bank_batch_upload(
            actor=users["sc_regulator"],
            bank=bank,
            as_of=dt.date(2025, 6, 30),
            upload=csv_file(f"{cd},Z1", header="担保机构统一社会信用代码,担保合同编号"),
            filename="batch.csv",
        )
    assert [p.message_zh for p in exc.value.problems][:1] == [
        "工作表「batch.csv」第1行：第1行缺少表头“借款人名称”"
    ]
    # a column of neither language (here a misspelt one) is refused with its cell, not dropped
    with pytest.raises(UploadRejected) as exc:
        bank_batch_upload(
            actor=users["sc_regulator"],
            bank=bank,
            as_of=dt.date(2025, 6, 30),
            upload=csv_file(f"{cd},Z1,甲,1,1,2025-01-01,2025-02-01,x", header=HEADER + ",担保金額"),
            filename="batch.csv",
        )
    problem = exc.value.problems[0]
    assert [p.message_zh for p in exc.value.problems] == [
        "工作表「batch.csv」第1行 H列：表头“担保金額”不是本模板的列（请使用下载的模板）"
    ]
    assert problem.message_en == (
        "sheet 'batch.csv', row 1, column H: the header “担保金額” is not a column of the template "
        "(use the downloaded template)"
    )
    assert BankBatch.objects.count() == 0


def test_xlsx_batch_and_zip_bomb(records, users, chengdu_institution):
    import datetime as dt

    content = xlsx_bytes(
        Table(
            "批次",
            HEADER.split(","),
            [
                [
                    chengdu_institution.credit_code,
                    "Z1",
                    "甲",
                    120,
                    100,
                    dt.date(2025, 1, 10),
                    dt.date(2026, 1, 10),
                ]
            ],
        )
    )
    batch = bank_batch_upload(
        actor=users["sc_regulator"],
        bank=Bank.objects.get(name=ICBC),
        as_of=dt.date(2025, 6, 30),
        upload=SimpleUploadedFile("b.xlsx", content),
        filename="b.xlsx",
    )
    assert (batch.rows, batch.matched, batch.missing_from_batch) == (1, 1, 3)  # Z2, Z3 and Mianyang's M1
    import zipfile

    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"0" * (4 * 1024 * 1024))  # ratio ≈ 1000:1, above 100
    with pytest.raises(UploadRejected):
        bank_batch_upload(
            actor=users["sc_regulator"],
            bank=Bank.objects.get(name=ICBC),
            as_of=dt.date(2025, 6, 30),
            upload=SimpleUploadedFile("bomb.xlsx", bomb.getvalue()),
            filename="bomb.xlsx",
        )
    assert BankBatch.objects.count() == 1


def test_only_regulators_upload(records, users, chengdu_institution, client_for):
    import datetime as dt

    from core.exceptions import AppError

    with pytest.raises(AppError):
        bank_batch_upload(
            actor=users["cd_filer"],
            bank=Bank.objects.get(name=ICBC),
            as_of=dt.date(2025, 6, 30),
            upload=csv_file(f"{chengdu_institution.credit_code},Z1,甲,1,1,2025-01-01,2025-02-01"),
        )
    for name in ("cd_filer", "sc_finance"):
        assert client_for(users[name]).get("/guarantees/bank-batches/").status_code == 403
        assert client_for(users[name]).post("/guarantees/bank-batches/upload/").status_code == 403


def test_pages_through_the_browser(
    records, users, chengdu_institution, mianyang_institution, client_for, django_assert_max_num_queries
):
    c = client_for(users["sc_regulator"])
    bank = Bank.objects.get(name=ICBC)
    r = c.post(
        "/guarantees/bank-batches/upload/",
        {
            "bank": bank.pk,
            "as_of": "2025-06-30",
            "file": good_batch(chengdu_institution.credit_code, mianyang_institution.credit_code),
        },
    )
    batch = BankBatch.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/guarantees/bank-batches/{batch.pk}/"

    def codes_on(url):  # the guarantee codes in the table (a CSRF token may contain "Z1" by chance)
        return set(re.findall(r'<td class="font-monospace">(Z\d)</td>', c.get(url).content.decode()))

    assert codes_on(r["Location"]) == {"Z2", "Z9"}  # the differences first
    assert "Z3" in codes_on(r["Location"] + "?side=records")
    assert "Z1" in codes_on(r["Location"] + "?side=bank&status=matched")
    # a bad file: the cell named, nothing stored
    r = c.post(
        "/guarantees/bank-batches/upload/",
        {"bank": bank.pk, "as_of": "2025-06-30", "file": csv_file("x,Z1,甲,1,1,2025-01-01,2025-02-01")},
        follow=True,
    )
    assert "第2行 A列" in r.content.decode() and BankBatch.objects.count() == 1
    # constant queries on the list and the detail pages, however many rows
    for _ in range(3):
        c.post(
            "/guarantees/bank-batches/upload/",
            {
                "bank": bank.pk,
                "as_of": "2025-06-30",
                "file": good_batch(chengdu_institution.credit_code, mianyang_institution.credit_code),
            },
        )
    with django_assert_max_num_queries(12):
        c.get("/guarantees/bank-batches/")
    with django_assert_max_num_queries(12):
        c.get(f"/guarantees/bank-batches/{batch.pk}/?side=bank&status=matched")
    with django_assert_max_num_queries(12):
        c.get(f"/guarantees/bank-batches/{batch.pk}/?side=records")
    template = c.get("/guarantees/bank-batches/template.xlsx")
    assert template.status_code == 200 and template.content[:2] == b"PK"


def test_scope_of_pages_and_api(records, users, chengdu_institution, mianyang_institution, client_for):
    import datetime as dt

    batch = bank_batch_upload(
        actor=users["sc_regulator"],
        bank=Bank.objects.get(name=ICBC),
        as_of=dt.date(2025, 6, 30),
        upload=good_batch(chengdu_institution.credit_code, mianyang_institution.credit_code),
        filename="batch.csv",
    )
    for name, status in (("sc_regulator", 200), ("admin", 200), ("cd_regulator", 404), ("zj_regulator", 404)):
        assert client_for(users[name]).get(f"/guarantees/bank-batches/{batch.pk}/").status_code == status
        c = APIClient()
        c.force_authenticate(users[name])
        assert c.get(f"/api/v1/guarantees/bank-batches/{batch.pk}/").status_code == status
        assert c.get(f"/api/v1/guarantees/bank-batches/{batch.pk}/rows/").status_code == status
        assert c.get(f"/api/v1/guarantees/bank-batches/{batch.pk}/missing/").status_code == status
    c = APIClient()
    c.force_authenticate(users["cd_filer"])
    assert c.get("/api/v1/guarantees/bank-batches/").status_code == 403


def test_api_upload_and_rows(records, users, chengdu_institution, mianyang_institution):
    c = APIClient()
    c.force_authenticate(users["sc_regulator"])
    bank = Bank.objects.get(name=ICBC)
    r = c.post(
        "/api/v1/guarantees/bank-batches/",
        {
            "bank": bank.pk,
            "as_of": "2025-06-30",
            "file": good_batch(chengdu_institution.credit_code, mianyang_institution.credit_code),
        },
        format="multipart",
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert (
        body["rows"],
        body["matched"],
        body["amount_differs"],
        body["no_record"],
        body["missing_from_batch"],
    ) == (4, 2, 1, 1, 1)
    rows = c.get(f"/api/v1/guarantees/bank-batches/{body['id']}/rows/?status=no_record").json()
    assert [x["contract_no"] for x in rows["results"]] == ["Z9"]
    missing = c.get(f"/api/v1/guarantees/bank-batches/{body['id']}/missing/").json()
    assert [(x["contract_no"], x["balance"]) for x in missing["results"]] == [("Z3", "40.00")]
    bad = c.post(
        "/api/v1/guarantees/bank-batches/",
        {"bank": bank.pk, "as_of": "2025-06-30", "file": csv_file("x,Z1,甲,1,1,2025-01-01,2025-02-01")},
        format="multipart",
    )
    assert bad.status_code == 400
    assert "第2行 A列" in bad.json()["errors"]["file"][0]
    assert BankBatch.objects.count() == 1


def test_inbox_lists_the_latest_batch_of_each_bank_with_differences(
    records, users, chengdu_institution, mianyang_institution
):
    import datetime as dt

    from core.inbox import tasks_for

    bank = Bank.objects.get(name=ICBC)
    for _ in range(2):
        batch = bank_batch_upload(
            actor=users["sc_regulator"],
            bank=bank,
            as_of=dt.date(2025, 6, 30),
            upload=good_batch(chengdu_institution.credit_code, mianyang_institution.credit_code),
            filename="batch.csv",
        )
    tasks = [t for t in tasks_for(users["sc_regulator"]) if t.kind == "guarantees.bank_batch"]
    assert [(t.url, t.count) for t in tasks] == [(f"/guarantees/bank-batches/{batch.pk}/", 3)]
    assert tasks[0].title == f"{ICBC} 总对总批次（截至 2025-06-30）有 3 条不一致"
    for name in ("cd_regulator", "cd_filer", "zj_regulator"):
        assert [t for t in tasks_for(users[name]) if t.kind == "guarantees.bank_batch"] == []


def test_demo_batch_has_three_visible_differences(records, users):
    import datetime as dt

    from guarantees import bank_batch_demo

    users["sc_regulator"].username = "sc_regulator"
    users["sc_regulator"].save(update_fields=["username"])
    assert bank_batch_demo.seed(dt.date(2025, 6, 30)) == 4  # Z2, Z3, M1 and the bank-only row
    batch = BankBatch.objects.get()
    assert (batch.matched, batch.amount_differs, batch.no_record, batch.missing_from_batch) == (2, 1, 1, 1)
    assert bank_batch_demo.seed(dt.date(2025, 6, 30)) == 0  # re-runnable
