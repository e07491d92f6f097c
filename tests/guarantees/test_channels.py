"""The upload and API channels: one validation, all or nothing, re-sending changes nothing; the
template; the error report; the background job and its progress."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from guarantees import services
from guarantees.choices import Channel
from guarantees.models import Client, Guarantee, GuaranteeEvent, ImportBatch, MagnitudeRule
from guarantees.validation import EVENT_COLUMNS, GUARANTEE_COLUMNS

from .files import csv_bytes, with_macros, workbook, zip_bomb
from .helpers import event_row, guarantee_row, person_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def filer(users):
    return users["cd_filer"]


def submit(filer, files=(), payload=None, channel=Channel.UPLOAD, *, run=None):
    """Submit as the filer and let the queued job run (after commit, in-process)."""
    with run(execute=True):
        batch = services.batch_submit(
            actor=filer, institution=filer.institution, channel=channel, files=list(files), payload=payload
        )
    batch.refresh_from_db()
    return batch


@pytest.fixture
def send(filer, django_capture_on_commit_callbacks):
    def go(files=(), payload=None, channel=Channel.UPLOAD, user=None):
        return submit(user or filer, files, payload, channel, run=django_capture_on_commit_callbacks)

    return go


def stored() -> tuple[int, int, int]:
    return Client.objects.count(), Guarantee.objects.count(), GuaranteeEvent.objects.count()


def good_rows():
    return [guarantee_row(2), person_row(3, n=1, contract_no="HT-0003")], [event_row(2)]


# ---------------------------------------------------------------------------------------------- xlsx / csv
def test_workbook_with_two_sheets_is_committed(banks, send):
    g, e = good_rows()
    batch = send([(workbook(g, e), "明细.xlsx")])
    assert (batch.status, batch.progress, batch.guarantee_rows, batch.event_rows) == ("committed", 100, 2, 1)
    assert (batch.guarantees_created, batch.events_created, batch.source_name) == (2, 1, "明细.xlsx")
    assert batch.job.status == "done"
    assert stored() == (2, 2, 1)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_files_in_each_encoding_chinese_excel_writes(banks, send, encoding):
    g, e = good_rows()
    files = [
        (csv_bytes(EVENT_COLUMNS, e, encoding), "events.csv"),  # in either order: told apart by the header
        (csv_bytes(GUARANTEE_COLUMNS, g, encoding), "guarantees.csv"),
    ]
    batch = send(files)
    assert (batch.status, batch.guarantees_created, batch.events_created) == ("committed", 2, 1), (
        batch.findings
    )
    assert Guarantee.objects.get(contract_no="HT-0002").client.name == "成都甲科技有限公司"


def test_dates_in_several_spreadsheet_formats_are_accepted(banks, send):
    rows = [
        guarantee_row(2, start_date=dt.date(2025, 3, 1), end_date="2026/3/1"),
        guarantee_row(3, start_date="2025年3月1日", end_date="20260301"),
        guarantee_row(4, start_date=45717, end_date="2026.3.1"),  # Excel serial of 2025-03-01
    ]
    batch = send([(workbook(rows), "dates.xlsx")])
    assert batch.status == "committed", batch.findings
    assert set(Guarantee.objects.values_list("start_date", "end_date")) == {
        (dt.date(2025, 3, 1), dt.date(2026, 3, 1))
    }


def test_resending_the_same_file_changes_nothing_and_a_stored_contract_is_updated(banks, send):
    g, e = good_rows()
    first = send([(workbook(g, e), "a.xlsx")])
    before = list(Guarantee.objects.order_by("id").values_list("id", "updated_at", "import_batch_id"))
    again = send([(workbook(g, e), "a.xlsx")])
    assert (again.status, again.guarantees_created, again.guarantees_updated, again.events_created) == (
        "committed",
        0,
        0,
        0,
    )
    assert list(Guarantee.objects.order_by("id").values_list("id", "updated_at", "import_batch_id")) == before
    fix = send([(workbook([guarantee_row(2, guaranteed_amount="90")]), "fix.xlsx")])
    assert (fix.guarantees_created, fix.guarantees_updated) == (0, 1)
    assert Guarantee.objects.get(contract_no="HT-0002").guaranteed_amount == Decimal("90.00")
    assert (Guarantee.objects.count(), first.status) == (2, "committed")


def test_template_headers_read_back(banks, client_for, filer):
    response = client_for(filer).get("/guarantees/templates/template.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["担保明细", "担保事件", "填报说明"]
    assert [c.value for c in book["担保明细"][1]] == list(GUARANTEE_COLUMNS.values())
    assert [c.value for c in book["担保事件"][1]] == list(EVENT_COLUMNS.values())
    csv_response = client_for(filer).get("/guarantees/templates/events.csv")
    assert csv_response.content.decode("utf-8-sig").splitlines()[0] == ",".join(EVENT_COLUMNS.values())


# ---------------------------------------------------------------------------------------------- bad input
def failed(batch) -> list[tuple]:
    assert batch.status == "failed"
    return [(f["sheet"], f["row"], f["column"], f["rule"]) for f in batch.findings]


def message(batch, rule) -> str:
    return next(f["message"] for f in batch.findings if f["rule"] == rule)


BAD = [
    (
        "end_before_start",
        [guarantee_row(2, start_date="2025-03-01", end_date="2025-01-31")],
        [],
        ("guarantees", 2, "end_date"),
        "工作表“担保明细”第2行“到期日期”列：到期日期 2025-01-31 早于起始日期 2025-03-01",
    ),
    (
        "negative",
        [guarantee_row(2, guaranteed_amount="-5")],
        [],
        ("guarantees", 2, "guaranteed_amount"),
        "工作表“担保明细”第2行“担保金额（万元）”列：金额不能为负数：-5",
    ),
    (
        "not_a_number",
        [guarantee_row(2, loan_amount="一百万")],
        [],
        ("guarantees", 2, "loan_amount"),
        "工作表“担保明细”第2行“借款金额（万元）”列：“一百万”不是数字",
    ),
    (
        "rate_in_percent",
        [guarantee_row(2, fee_rate="1.5")],
        [],
        ("guarantees", 2, "fee_rate"),
        "工作表“担保明细”第2行“年化担保费率”列：应填写小数（1% 填 0.01）"
        "；1.5 大于 1，很可能是指 1.5%，即应填 0.015",
    ),
    (
        "rate_above_100",
        [guarantee_row(2, fee_rate="150")],
        [],
        ("guarantees", 2, "fee_rate"),
        "工作表“担保明细”第2行“年化担保费率”列：比例 150 超过 100%",
    ),
    (
        "duplicate_contract",
        [guarantee_row(2), guarantee_row(3, contract_no="HT-0002")],
        [],
        ("guarantees", 3, "contract_no"),
        "工作表“担保明细”第3行“担保合同编号”列：担保合同编号“HT-0002”与第2行重复",
    ),
    (
        "unknown_contract",
        [guarantee_row(2)],
        [event_row(2, contract_no="HT-9999")],
        ("events", 2, "contract_no"),
        "工作表“担保事件”第2行“担保合同编号”列：担保合同编号“HT-9999”既不在本批次中，也未曾报送",
    ),
    (
        "unknown_bank",
        [guarantee_row(2, bank="不存在银行")],
        [],
        ("guarantees", 2, "bank"),
        "工作表“担保明细”第2行“贷款银行”列：贷款银行“不存在银行”不在银行名录中（非银行债权人请填写在“其他债权人”列）",
    ),
    (
        "bad_credit_code",
        [guarantee_row(2, credit_code="91510104MA6CXXXXX1")],
        [],
        ("guarantees", 2, "credit_code"),
        "工作表“担保明细”第2行“统一社会信用代码”列：统一社会信用代码“91510104MA6CXXXXX1”无效："
        "应为18位且校验位符合 GB 32100-2015",
    ),
]


@pytest.mark.parametrize("rule, guarantees, events, where, text", BAD, ids=[b[0] for b in BAD])
@pytest.mark.parametrize("channel", ["xlsx", "json"])
def test_bad_input_names_row_and_column_and_stores_nothing(
    banks, send, rule, guarantees, events, where, text, channel
):
    if channel == "xlsx":
        batch = send([(workbook(guarantees, events), "bad.xlsx")])
        row_offset = 0
    else:
        # the API numbers rows by their position in the array (1-based): the template row minus one
        batch = send(payload={"guarantees": guarantees, "events": events}, channel=Channel.API)
        row_offset = 1
    sheet, row, column = where
    assert (sheet, row - row_offset, column, rule) in failed(batch)
    if channel == "xlsx":
        assert message(batch, rule) == text
    assert stored() == (0, 0, 0)


def test_row_limit_refuses_before_parsing(banks, send, settings, monkeypatch):
    settings.GUARANTEE_UPLOAD_MAX_ROWS = 2
    settings.UPLOAD_LIMITS = {
        **settings.UPLOAD_LIMITS,
        "guarantees": {**settings.UPLOAD_LIMITS["guarantees"], "rows": 3},
    }
    import python_calamine

    def no_parse(*args, **kwargs):
        raise AssertionError("parsed")

    monkeypatch.setattr("core.excel.CalamineWorkbook.from_filelike", no_parse)
    rows = [guarantee_row(i, contract_no=f"HT-{i}") for i in range(2, 6)]
    batch = send([(workbook(rows), "big.xlsx")])
    assert failed(batch)[0][3] == "file"
    assert batch.findings[0]["message"] == ("工作表「担保明细」：行数超过上限 3（第 4 行）")
    csv_batch = send([(csv_bytes(GUARANTEE_COLUMNS, rows), "big.csv")])
    assert "行数超过上限 3" in csv_batch.findings[0]["message"]
    assert stored() == (0, 0, 0)
    assert python_calamine  # imported to show the parser is the one patched


def test_zip_bomb_is_refused(banks, send):
    g, e = good_rows()
    batch = send([(zip_bomb(workbook(g, e)), "bomb.xlsx")])
    assert failed(batch) == [("", 0, "", "file")]
    assert batch.findings[0]["message"] == (
        "条目 xl/media/padding.xml 的压缩比超过上限 100:1（疑似压缩炸弹）"
    )
    assert stored() == (0, 0, 0)


def test_macros_are_refused(banks, send):
    g, e = good_rows()
    batch = send([(with_macros(workbook(g, e)), "macro.xlsm")])
    assert batch.findings[0]["message"] == ("文件包含宏（VBA），拒绝导入；请另存为不含宏的 .xlsx 后上传")
    assert stored() == (0, 0, 0)


def test_unknown_header_is_named(banks, send):
    data = csv_bytes({**GUARANTEE_COLUMNS, "x": "备注"}, [guarantee_row(2)])
    batch = send([(data, "g.csv")])
    assert batch.findings[0]["message"] == (
        "工作表「g.csv」第1行 W列：表头“备注”不是本模板的列（请使用下载的模板）"
    )


# ---------------------------------------------------------------------------------------------- warnings
def test_magnitude_warning_waits_for_confirmation_then_commits(
    banks, send, filer, django_capture_on_commit_callbacks
):
    # the nationwide rule of the reference data: a guaranteed amount above 10,000 万元
    assert MagnitudeRule.objects.filter(column="guaranteed_amount").exists()
    rows = [guarantee_row(2, guaranteed_amount="3000000", loan_amount="100", fee_amount="1")]
    batch = send([(workbook(rows), "yuan.xlsx")])
    assert (batch.status, batch.error_count, batch.warning_count) == ("staged", 0, 1)
    assert "疑似按元而非万元填报" in batch.findings[0]["message"]
    assert stored() == (0, 0, 0)
    with django_capture_on_commit_callbacks(execute=True):
        services.batch_confirm(actor=filer, batch=batch)
    batch.refresh_from_db()
    assert (batch.status, batch.guarantees_created, batch.warnings_confirmed_by) == ("committed", 1, filer)


# ---------------------------------------------------------------------------------------------- error report
def test_error_report_comments_each_error_on_its_cell(banks, send, client_for, filer):
    rows = [guarantee_row(2), guarantee_row(3, contract_no="HT-0003", fee_rate="1.5", bank="不存在银行")]
    batch = send([(workbook(rows), "bad.xlsx")])
    response = client_for(filer).get(f"/guarantees/batches/{batch.pk}/report.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content))["担保明细"]
    headers = [c.value for c in sheet[1]]
    bank = sheet.cell(3, headers.index("贷款银行") + 1)
    rate = sheet.cell(3, headers.index("年化担保费率") + 1)
    assert bank.value == "不存在银行" and bank.comment.text.startswith("工作表“担保明细”第3行“贷款银行”列")
    assert rate.value == "1.5" and "很可能是指 1.5%" in rate.comment.text
    assert sheet.cell(2, headers.index("贷款银行") + 1).comment is None


def test_error_report_writes_formula_like_text_as_text(banks, send, client_for, filer):
    rows = [guarantee_row(2, client_name='=HYPERLINK("http://x")', bank="@SUM(1)")]
    batch = send(payload={"guarantees": rows}, channel=Channel.API)
    response = client_for(filer).get(f"/guarantees/batches/{batch.pk}/report.xlsx")
    sheet = load_workbook(io.BytesIO(response.content))["担保明细"]
    values = [c.value for c in sheet[2]]
    assert '=HYPERLINK("http://x")' in values and "@SUM(1)" in values
    assert all(c.data_type != "f" for c in sheet[2])


def test_batches_stay_with_their_institution(banks, send, users, client_for):
    g, e = good_rows()
    batch = send([(workbook(g, e), "a.xlsx")])
    for name, status in [("my_filer", 404), ("my_regulator", 404), ("cd_regulator", 200), ("cd_filer", 200)]:
        assert client_for(users[name]).get(f"/guarantees/batches/{batch.pk}/").status_code == status, name
        assert client_for(users[name]).get(f"/guarantees/batches/{batch.pk}/report.xlsx").status_code in (
            status,
            200 if status == 200 else 404,
        )
    assert ImportBatch.objects.count() == 1


# ---------------------------------------------------------------------------------------------- job
def test_a_delivery_that_died_mid_batch_is_redone_by_the_next(banks, filer):
    """The worker took the batch (validating) and died: the job stays queued; once its lease has run out
    the next delivery stages the batch again and commits it, once."""
    from core.models import Job

    g, e = good_rows()
    batch = services.batch_submit(  # queued, not run (no commit in this test)
        actor=filer, institution=filer.institution, channel=Channel.UPLOAD, files=[(workbook(g, e), "a.xlsx")]
    )
    ImportBatch.objects.filter(pk=batch.pk).update(status="validating")
    services.batch_process(job_id=batch.job_id)
    batch.refresh_from_db()
    assert (batch.status, batch.guarantees_created, Job.objects.get(pk=batch.job_id).status) == (
        "committed",
        2,
        "done",
    )
    services.batch_process(job_id=batch.job_id)  # delivered again: nothing more
    assert Guarantee.objects.count() == 2


def test_failed_and_waiting_batches_are_in_the_company_inbox(banks, send, filer, users):
    from core.inbox import tasks_for

    batch = send([(workbook([guarantee_row(2, guaranteed_amount="x")]), "bad.xlsx")])
    assert [(t.kind, t.url) for t in tasks_for(filer)] == [
        ("guarantees.batch_failed", f"/guarantees/batches/{batch.pk}/")
    ]
    assert [t.kind for t in tasks_for(users["my_filer"])] == []
    warn = send([(workbook([guarantee_row(2, guaranteed_amount="2000000")]), "yuan.xlsx")])
    assert [(t.kind, t.url) for t in tasks_for(filer)] == [
        ("guarantees.batch_warnings", f"/guarantees/batches/{warn.pk}/")
    ]
