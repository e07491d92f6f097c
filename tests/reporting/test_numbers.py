"""Numbers as real clients send them (issue 14), through the one parser (core.parsing.parse_decimal) and
every channel of the quarterly report: Excel, the web form, the live check and the API."""

from decimal import Decimal

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from core.parsing import BadValue, parse_decimal
from reporting import excel, services
from reporting.models import Filing
from reporting.periods import Period

from .hostile import fill

Q2 = Period(2025, 2)


@pytest.mark.parametrize(
    "text, number",
    [
        ("1234.56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("12,345,678", "12345678"),
        ("1,234", "1234"),  # well-formed grouping; as a decimal comma it would have 3 places
        ("-1,234.5", "-1234.5"),
        ("１２３４．５６", "1234.56"),  # full-width digits and point
        ("１，２３４．５６", "1234.56"),  # full-width comma as grouping
        (" 62 028.28 ", "62028.28"),  # spaces, incl. a grouping space
        ("62\u3000028.28", "62028.28"),  # ideographic space
        ("1E+3", "1E+3"),  # as str(Decimal) writes it
        (1234, "1234"),
        (0.5, "0.5"),
        (Decimal("7.25"), "7.25"),
    ],
)
def test_accepted(text, number):
    assert parse_decimal(text, name="x") == Decimal(number)


@pytest.mark.parametrize(
    "text, zh, en",
    [
        (
            "1234,56",
            "x含义不明确：小数请用小数点“.”（如 1234.56），逗号只能作千位分隔符，收到“1234,56”",
            "x is ambiguous: write decimals with a point (e.g. 1234.56), a comma may only group thousands,"
            " got '1234,56'",
        ),
        (
            "62028，28",  # full-width comma, same rule
            "x含义不明确：小数请用小数点“.”（如 1234.56），逗号只能作千位分隔符，收到“62028，28”",
            "x is ambiguous: write decimals with a point (e.g. 1234.56), a comma may only group thousands,"
            " got '62028，28'",
        ),
        (
            "1,2,3,4",
            "x千位分隔符位置不对（应每三位一组，如 1,234,567.89），收到“1,2,3,4”",
            "x has misplaced thousands separators (groups of three, e.g. 1,234,567.89), got '1,2,3,4'",
        ),
        (
            "1.234,56",
            "x千位分隔符位置不对（应每三位一组，如 1,234,567.89），收到“1.234,56”",
            "x has misplaced thousands separators (groups of three, e.g. 1,234,567.89), got '1.234,56'",
        ),
        (
            "1.5％",
            "x看起来是百分比，本栏应填数值，不带 %，收到“1.5％”",
            "x looks like a percentage; this field takes a plain number, without %, got '1.5％'",
        ),
        ("Infinity", "x应为数字，收到“Infinity”", "x must be a number, got 'Infinity'"),
        ("0x10", "x应为数字，收到“0x10”", "x must be a number, got '0x10'"),
        ("1e999999999", "x数值超出范围，收到“1e999999999”", "x is out of range, got '1e999999999'"),
        (float("inf"), "x数值超出范围，收到“inf”", "x is out of range, got 'inf'"),
    ],
)
def test_refused_quoting_the_original_text(text, zh, en):
    with pytest.raises(BadValue) as exc:
        parse_decimal(text, name="x")
    assert (exc.value.zh, exc.value.en) == (zh, en)


def test_percent_where_a_percentage_is_expected():
    assert parse_decimal("1.5%", name="rate", percent=True) == Decimal("0.015")


def test_parse_values_money_and_counts(db):
    fields = services.template_fields(services.template_for(Q2))
    clean, errors = services.parse_values(
        {"total_assets": "62,028.28", "staff_count": "1,200", "net_assets": "0.015"}, fields
    )
    assert clean == {"total_assets": "62028.28", "staff_count": "1200"}
    assert [(e["field"], sorted(e)) for e in errors] == [("net_assets", ["field", "message"])]
    # the message is deferred: it reads in the language of whoever is shown it
    with translation.override("zh-hans"):
        chinese = str(errors[0]["message"])
    with translation.override("en"):
        english = str(errors[0]["message"])
    assert (chinese, english) == (
        "净资产（net_assets）最多保留两位小数（万元），收到“0.015”；看起来像百分比或比率，本栏应填金额",
        "net_assets allows at most 2 decimal places, got '0.015'; "
        "it looks like a percentage or ratio, this field takes an amount",
    )


DECIMAL_COMMA = "资产总额（total_assets）含义不明确：小数请用小数点“.”（如 1234.56），逗号只能作千位分隔符，收到“62028,28”"


def test_decimal_comma_through_the_api_is_refused_not_multiplied(users, chengdu_institution):
    client = APIClient()
    client.force_authenticate(users["cd_filer"])
    response = client.post(
        "/api/v1/filings/",
        {
            "institution": chengdu_institution.credit_code,
            "period": "2025Q2",
            "values": {"total_assets": "62028,28"},
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["total_assets"] == [DECIMAL_COMMA]
    assert not Filing.objects.exists()


def test_decimal_comma_through_excel_names_the_cell(users, chengdu_institution):
    good = excel.workbook_for(institution=chengdu_institution, period=Q2)
    result = excel.import_upload(
        actor=users["cd_filer"],
        institution=chengdu_institution,
        period=Q2,
        data=fill(good, {"total_assets": "62028,28"}),
    )
    (problem,) = result.errors
    assert problem.message_zh.endswith(f"：{DECIMAL_COMMA}")
    assert problem.message_zh.startswith("工作表「季度报表」第")
    assert not Filing.objects.exists()


def test_grouping_and_full_width_through_the_web_form_and_the_live_check(users, client_for):
    client = client_for(users["cd_filer"])
    response = client.post("/reporting/file/2025Q2/check/", {"total_assets": "1,2,3,4"})
    assert "资产总额（total_assets）千位分隔符位置不对" in response.content.decode()
    client.post("/reporting/file/2025Q2/", {"total_assets": "６２，０２８．２８", "staff_count": "1,200"})
    version = Filing.objects.get().current_version
    assert (version.values["total_assets"], version.values["staff_count"]) == ("62028.28", "1200")


# ---------------------------------------------------------------------------------------------- uploads
def _upload(client, name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post("/reporting/file/2025Q2/upload/", {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302
    return [str(m) for m in response.wsgi_request._messages]


def _ods() -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>")
        z.writestr("META-INF/manifest.xml", "<manifest/>")
    return out.getvalue()


@pytest.mark.parametrize(
    "name, data, message",
    [
        (
            "report.ods",
            _ods(),
            "这是 OpenDocument 表格（.ods）文件，请在 Excel 或 WPS 中另存为 .xlsx 后上传",
        ),
        (
            "report.csv",
            b"field,value\ntotal_assets,50000\n",
            "这是文本文件（可能是改了扩展名的 CSV），不是 Excel（.xlsx）"
            "文件；请在 Excel 中另存为 .xlsx 后上传",
        ),
    ],
)
def test_ods_and_csv_uploads_say_what_the_file_is(name, data, message, users, client_for):
    assert _upload(client_for(users["cd_filer"]), name, data) == [
        "Excel 未导入，未保存任何数据",
        message,
    ]
    assert not Filing.objects.exists()


def test_upload_to_an_accepted_filing_says_so_once(users, chengdu_institution, client_for):
    from .helpers import GOOD_Q2, file_and_submit

    filing = file_and_submit(
        chengdu_institution, "2025Q2", GOOD_Q2, maker=users["cd_filer"], checker=users["cd_approver"]
    )
    services.filing_accept(actor=users["cd_regulator"], filing=filing)
    good = excel.workbook_for(institution=chengdu_institution, period=Q2)
    assert _upload(client_for(users["cd_filer"]), "report.xlsx", good) == [
        "Excel 未导入，未保存任何数据",
        "报表已受理；如需更正请发起更正并说明原因",
    ]
