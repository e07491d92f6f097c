"""The upload templates in the reader's language, and uploads read in either: the loan-level records
template and the bank batch template downloaded in English carry English sheet names and headers;
filled in and uploaded they store exactly the values a Chinese template stores; a header of neither
language is refused naming its sheet and cell, in both languages."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from core.excel import UploadRejected
from guarantees.bank_batch_services import bank_batch_upload
from guarantees.bank_batches import BankBatchRow
from guarantees.models import Guarantee, GuaranteeEvent
from guarantees.validation import EVENT_COLUMNS, GUARANTEE_COLUMNS
from institutions.models import Bank

from .files import csv_bytes
from .helpers import ICBC, guarantee_row, load
from .test_channels import submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def filer(users):
    return users["cd_filer"]


@pytest.fixture
def send(filer, django_capture_on_commit_callbacks):
    def go(files):
        return submit(filer, files, run=django_capture_on_commit_callbacks)

    return go


ENGLISH_GUARANTEE_HEADERS = [
    "Guarantee contract number",
    "Client name",
    "Client type",
    "Unified social credit code",
    "Resident ID number",
    "Industry",
    "Client region code",
    "Group (related parties)",
    "Lending bank",
    "Other lender",
    "Loan amount (10k yuan)",
    "Guaranteed amount (10k yuan)",
    "Start date",
    "End date",
    "Annualised fee rate",
    "Guarantee fee (10k yuan)",
    "Product line",
    "Government-backed business",
    "Bank–guarantee head-office batch",
    "Provincial re-guarantee share",
    "National Fund share",
    "Counter-guarantee",
]
ENGLISH_EVENT_HEADERS = [
    "Guarantee contract number",
    "Event type",
    "Event date",
    "Amount (10k yuan)",
    "Compensated interest (10k yuan)",
]


def download(client, url: str, language: str):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 200
    return response


def fill(template: bytes, rows: dict[str, list[list]]) -> bytes:
    """The downloaded workbook with rows appended below the header of the named sheets."""
    book = load_workbook(io.BytesIO(template))
    for sheet, values in rows.items():
        for row in values:
            book[sheet].append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def record_rows(credit_code: str, *, english: bool) -> tuple[list, list]:
    """One guarantee and one event, in the template's column order, with the words of its language."""
    words = (
        {
            "type": "Small or micro enterprise",
            "no": "No",
            "yes": "Yes",
            "counter": "Mortgage",
            "kind": "Release",
        }
        if english
        else {"type": "小微企业", "no": "否", "yes": "是", "counter": "抵押", "kind": "解保"}
    )
    guarantee = {
        "contract_no": "HT-LANG-1",
        "client_name": "成都语言测试科技有限公司",
        "client_type": words["type"],
        "credit_code": credit_code,
        "industry": "C39",
        "region_code": "510104",
        "bank": ICBC,
        "loan_amount": 120,
        "guaranteed_amount": 96.5,
        "start_date": dt.datetime(2025, 3, 1),
        "end_date": "2026-03-01",
        "fee_rate": "0.015",
        "fee_amount": 1.45,
        "gov_backed": words["yes"],
        "batch_zdz": words["no"],
        "counter_guarantee": words["counter"],
    }
    event = {"contract_no": "HT-LANG-1", "kind": words["kind"], "occurred_on": "2025-06-01", "amount": 30}
    return (
        [guarantee.get(code) for code in GUARANTEE_COLUMNS],
        [event.get(code) for code in EVENT_COLUMNS],
    )


def stored_record() -> tuple:
    g = Guarantee.objects.select_related("client", "bank").get(contract_no="HT-LANG-1")
    e = GuaranteeEvent.objects.get(guarantee=g)
    return (
        g.client.name,
        g.client.client_type,
        g.bank.name,
        g.loan_amount,
        g.guaranteed_amount,
        g.start_date,
        g.end_date,
        g.fee_rate,
        g.fee_amount,
        g.gov_backed,
        g.batch_zdz,
        g.counter_guarantee,
        e.kind,
        e.occurred_on,
        e.amount,
    )


EXPECTED_RECORD = (
    "成都语言测试科技有限公司",
    "small_micro",
    ICBC,
    Decimal("120.00"),
    Decimal("96.50"),
    dt.date(2025, 3, 1),
    dt.date(2026, 3, 1),
    Decimal("0.015000"),
    Decimal("1.45"),
    True,
    False,
    "mortgage",
    "release",
    dt.date(2025, 6, 1),
    Decimal("30.00"),
)


def test_the_records_template_in_english_has_english_sheets_and_headers(banks, client_for, filer):
    client = client_for(filer)
    book = load_workbook(io.BytesIO(download(client, "/guarantees/templates/template.xlsx", "en").content))
    assert book.sheetnames == ["Guarantees", "Guarantee events", "Filing instructions"]
    assert [c.value for c in book["Guarantees"][1]] == ENGLISH_GUARANTEE_HEADERS
    assert [c.value for c in book["Guarantee events"][1]] == ENGLISH_EVENT_HEADERS
    csv_response = download(client, "/guarantees/templates/events.csv", "en")
    assert csv_response.content.decode("utf-8-sig").splitlines()[0] == ",".join(ENGLISH_EVENT_HEADERS)
    assert csv_response["Content-Disposition"] == 'attachment; filename="Guarantee events template.csv"'
    chinese = load_workbook(
        io.BytesIO(download(client, "/guarantees/templates/template.xlsx", "zh-hans").content)
    )
    assert chinese.sheetnames == ["担保明细", "担保事件", "填报说明"]
    assert [c.value for c in chinese["担保明细"][1]] == list(GUARANTEE_COLUMNS.values())


@pytest.mark.parametrize(
    "language, sheets",
    [("en", ("Guarantees", "Guarantee events")), ("zh-hans", ("担保明细", "担保事件"))],
)
def test_a_filled_in_template_of_either_language_stores_exact_values(
    banks,
    client_for,
    filer,
    send,
    language,
    sheets,
):
    template = download(client_for(filer), "/guarantees/templates/template.xlsx", language).content
    guarantee, event = record_rows(filer.institution.credit_code, english=language == "en")
    batch = send([(fill(template, {sheets[0]: [guarantee], sheets[1]: [event]}), "filled.xlsx")])
    assert (batch.status, batch.guarantees_created, batch.events_created) == ("committed", 1, 1), (
        batch.findings
    )
    assert stored_record() == EXPECTED_RECORD


def test_english_csv_headers_in_any_case_are_read(banks, send):
    english = dict(zip(GUARANTEE_COLUMNS, [h.upper() for h in ENGLISH_GUARANTEE_HEADERS], strict=True))
    batch = send([(csv_bytes(english, [guarantee_row(2)]), "g.csv")])
    assert (batch.status, batch.guarantees_created) == ("committed", 1), batch.findings
    assert Guarantee.objects.get(contract_no="HT-0002").guaranteed_amount == Decimal("100.00")


def test_a_header_of_neither_language_is_named_in_both(banks, send):
    english = dict(zip(GUARANTEE_COLUMNS, ENGLISH_GUARANTEE_HEADERS, strict=True))
    english["industry"] = "Sector"
    batch = send([(csv_bytes(english, [guarantee_row(2)]), "g.csv")])
    assert batch.status == "failed"
    assert [(f["message"], f["message_en"]) for f in batch.findings] == [
        (
            "工作表「g.csv」第1行 F列：表头“Sector”不是本模板的列（请使用下载的模板）",
            "sheet 'g.csv', row 1, column F: the header “Sector” is not a column of the template "
            "(use the downloaded template)",
        )
    ]
    assert Guarantee.objects.count() == 0


def test_a_missing_column_is_named_in_the_reader_s_language(banks, send):
    english = dict(zip(GUARANTEE_COLUMNS, ENGLISH_GUARANTEE_HEADERS, strict=True))
    del english["client_name"]
    batch = send([(csv_bytes(english, [guarantee_row(2)]), "g.csv")])
    assert [(f["message"], f["message_en"]) for f in batch.findings] == [
        (
            "工作表「g.csv」：缺少必需的列“客户名称”",
            "sheet 'g.csv': the required column “Client name” is missing",
        )
    ]


# ---------------------------------------------------------------------------------------------- bank batches
@pytest.fixture
def zdz_records(banks, chengdu_institution, users):
    zdz = dict(bank=ICBC, batch_zdz="是", start_date="2025-01-10", end_date="2026-01-10")
    load(
        users["cd_filer"],
        chengdu_institution,
        [guarantee_row(2, contract_no="Z1", guaranteed_amount="100", **zdz)],
    )


ENGLISH_BANK_HEADERS = [
    "Guarantee company credit code",
    "Guarantee contract number",
    "Borrower",
    "Loan amount (10k yuan)",
    "Guaranteed amount (10k yuan)",
    "Start date",
    "End date",
]


@pytest.mark.parametrize("language, sheet", [("en", "Bank batch"), ("zh-hans", "总对总批次")])
def test_the_bank_batch_template_of_either_language_uploads_back(
    zdz_records, users, chengdu_institution, client_for, language, sheet
):
    template = download(client_for(users["sc_regulator"]), "/guarantees/bank-batches/template.xlsx", language)
    book = load_workbook(io.BytesIO(template.content))
    assert book.sheetnames == [sheet]
    headers = [c.value for c in book[sheet][1]]
    if language == "en":
        assert headers == ENGLISH_BANK_HEADERS
    else:
        assert headers[:3] == ["担保机构统一社会信用代码", "担保合同编号", "借款人名称"]
    ws = book[sheet]
    ws.delete_rows(2)  # the example row
    ws.append(
        [
            chengdu_institution.credit_code,
            "Z1",
            "成都甲科技有限公司",
            120,
            99.5,
            dt.datetime(2025, 1, 10),
            "2026-01-10",
        ]
    )
    out = io.BytesIO()
    book.save(out)
    batch = bank_batch_upload(
        actor=users["sc_regulator"],
        bank=Bank.objects.get(name=ICBC),
        as_of=dt.date(2025, 6, 30),
        upload=SimpleUploadedFile("batch.xlsx", out.getvalue()),
        filename="batch.xlsx",
    )
    row = BankBatchRow.objects.get(batch=batch)
    assert (
        row.credit_code,
        row.contract_no,
        row.borrower,
        row.loan_amount,
        row.guaranteed_amount,
        row.start_date,
        row.end_date,
        row.status,
        row.guarantee.contract_no,
    ) == (
        chengdu_institution.credit_code,
        "Z1",
        "成都甲科技有限公司",
        Decimal("120.00"),
        Decimal("99.50"),
        dt.date(2025, 1, 10),
        dt.date(2026, 1, 10),
        "amount_differs",
        "Z1",
    )


def test_a_bank_batch_header_of_neither_language_is_named_in_both(zdz_records, users, chengdu_institution):
    header = ",".join([*ENGLISH_BANK_HEADERS[:2], "Debtor", *ENGLISH_BANK_HEADERS[3:]])
    upload = SimpleUploadedFile(
        "batch.csv", f"{header}\n{chengdu_institution.credit_code},Z1,甲,1,1,2025-01-01,2025-02-01\n".encode()
    )
    with pytest.raises(UploadRejected) as exc:
        bank_batch_upload(
            actor=users["sc_regulator"],
            bank=Bank.objects.get(name=ICBC),
            as_of=dt.date(2025, 6, 30),
            upload=upload,
            filename="batch.csv",
        )
    assert [(p.message_zh, p.message_en) for p in exc.value.problems] == [
        (
            "工作表「batch.csv」第1行：第1行缺少表头“借款人名称”",
            "sheet 'batch.csv', row 1: row 1 lacks the header 'Borrower'",
        ),
        (
            "工作表「batch.csv」第1行 C列：表头“Debtor”不是本模板的列（请使用下载的模板）",
            "sheet 'batch.csv', row 1, column C: the header “Debtor” is not a column of the template "
            "(use the downloaded template)",
        ),
    ]
