"""core.excel: the guarded reader (values, cell addresses, CSV) and the formula-safe writer; the
Content-Length limit in front of every view."""

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
import xlsxwriter
from django.urls import reverse
from django.utils.translation import gettext_lazy
from python_calamine import CalamineWorkbook

from core.excel import Table, UploadRejected, csv_text, export_response, neutralise, read_upload, xlsx_bytes
from reporting.models import Filing

from .hostile import inject, rezip

MIB = 1024 * 1024


def book(rows: list[list], name: str = "机构") -> bytes:
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = wb.add_worksheet(name)
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            if isinstance(value, dt.date):
                ws.write_datetime(r, c, value, date)
            elif value is not None:
                ws.write(r, c, value)
    wb.close()
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------------ reader
def test_reader_gives_values_from_a1_with_addresses():
    data = book(
        [["名称", "资本", "日期"], ["甲", 30000.5, dt.date(2020, 1, 2)], [None, None, None], [None, -3]]
    )
    sheets = read_upload(data, channel="registry", sheets=["机构", "许可证"])
    assert list(sheets) == ["机构"]  # a sheet the file lacks is simply absent
    rows = list(sheets["机构"])
    assert [(r.number, r.values) for r in rows] == [
        (1, ["名称", "资本", "日期"]),
        (2, ["甲", 30000.5, dt.date(2020, 1, 2)]),
        (3, ["", "", ""]),
        (4, ["", -3.0, ""]),
    ]
    assert (rows[3].get(1), rows[3].get(7), rows[3].cell(1)) == (-3.0, "", "B4")
    problem = rows[3].problem(1, gettext_lazy("须为非负整数。"))
    assert str(problem) == "工作表「机构」第4行 B列：须为非负整数。"
    assert problem.message_en == "sheet '机构', row 4, column B: Must be a non-negative integer."
    assert problem.cell == "B4"


def test_reader_takes_an_uploaded_file_and_checks_its_size_before_reading(settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    class NoRead(SimpleUploadedFile):
        def read(self, *args):
            raise AssertionError("read before the size check")

    upload = NoRead("big.xlsx", b"x" * 100)
    upload.size = 20 * MIB + 1
    with pytest.raises(UploadRejected) as exc:
        read_upload(upload, channel="registry")
    assert str(exc.value.problems[0]) == ("文件大小 20.01 MB，超过上限 20 MB")


def test_far_cell_that_would_abort_the_parser_is_refused_before_parsing():
    """A 4 KB file with one cell at XFD1048576 makes python-calamine allocate 16,384 × 1,048,576 cells
    (the process aborts: 'memory allocation of 549755813888 bytes failed'); the scan refuses it first."""
    data = inject(book([["a"]]), "机构", b'<row r="7"><c r="XFD1048576"><v>1</v></c></row>')
    assert len(data) < 6000
    with pytest.raises(UploadRejected) as exc:
        read_upload(data, channel="quarterly")
    assert str(exc.value.problems[0]) == ("工作表「机构」：行数超过上限 500（第 1,048,576 行）")


@pytest.mark.parametrize(
    "target", ["/xl/worksheets/sheet1.xml", "xl/worksheets/sheet1.xml", "./worksheets/sheet1.xml"]
)
def test_far_cell_is_found_however_the_workbook_names_the_sheet_part(target):
    data = inject(book([["a"]]), "机构", b'<row r="7"><c r="XFD7"><v>1</v></c></row>')
    rels = zipfile.ZipFile(io.BytesIO(data)).read("xl/_rels/workbook.xml.rels")
    assert b'Target="worksheets/sheet1.xml"' in rels
    data = rezip(
        data, replace={"xl/_rels/workbook.xml.rels": rels.replace(b"worksheets/sheet1.xml", target.encode())}
    )
    with pytest.raises(UploadRejected) as exc:
        read_upload(data, channel="quarterly", sheets=["机构"])
    assert exc.value.problems[0].message_zh == "工作表「机构」：列数超过上限 30（第 16,384 列）"


def test_rows_up_to_the_limit_are_read(settings):
    settings.UPLOAD_LIMITS = {**settings.UPLOAD_LIMITS, "registry": {"bytes": MIB, "rows": 3, "columns": 2}}
    assert len(read_upload(book([[1, 2]] * 3), channel="registry")["机构"]) == 3
    with pytest.raises(UploadRejected) as exc:
        read_upload(book([[1, 2]] * 4), channel="registry")
    assert exc.value.problems[0].message_zh == "工作表「机构」：行数超过上限 3（第 4 行）"
    with pytest.raises(UploadRejected) as exc:
        read_upload(book([[1, 2, 3]]), channel="registry")
    assert exc.value.problems[0].message_zh == "工作表「机构」：列数超过上限 2（第 3 列）"


def test_prefixed_or_unordered_cells_get_the_exact_scan():
    """A cell spelled another way than <c r="A1"> (a namespace prefix, r not first, no r) is placed by
    the exact scan: a formula in a prefixed cell is found and named."""
    good = book([["a", "b"]])
    part = "xl/worksheets/sheet1.xml"
    xml = zipfile.ZipFile(io.BytesIO(good)).read(part)
    xml = xml.replace(
        b"<worksheet ", b'<worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    )
    xml = xml.replace(
        b"</sheetData>",
        b'<x:row r="2"><x:c s="0" r="C2"><x:f>1+1</x:f><x:v>2</x:v></x:c></x:row></sheetData>',
    )
    with pytest.raises(UploadRejected) as exc:
        read_upload(rezip(good, replace={part: xml}), channel="registry")
    assert [p.message_zh for p in exc.value.problems] == [
        "工作表「机构」第2行 C列：单元格含公式；请填写数值，不要使用公式"
    ]


def test_data_validation_lists_after_the_cells_are_not_formulas():
    """Excel writes a list validation that points at another sheet as <xm:f> in the sheet's
    extensions, after <sheetData>: not a cell's formula."""
    good = book([["a", "b"]])
    part = "xl/worksheets/sheet1.xml"
    xml = (
        zipfile.ZipFile(io.BytesIO(good))
        .read(part)
        .replace(
            b"</worksheet>",
            b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" xmlns:x14="x14"><x14:dataValidations '
            b'xmlns:xm="xm"><x14:dataValidation><x14:formula1><xm:f>Lists!$A$1:$A$5</xm:f></x14:formula1>'
            b"<xm:sqref>A2:A100</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst>"
            b"</worksheet>",
        )
    )
    assert list(read_upload(rezip(good, replace={part: xml}), channel="registry")["机构"])[0].values == [
        "a",
        "b",
    ]


@pytest.mark.parametrize(
    "encoding,prefix", [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("gbk", b""), ("gb18030", b"")]
)
def test_csv_for_the_channels_that_accept_it(encoding, prefix):
    text = '统一社会信用代码,机构名称,担保金额\r\n91510100MA61234567,"成都某担保,有限公司",-300.5\r\n'
    sheets = read_upload(prefix + text.encode(encoding), channel="guarantees", filename="loans/2025.csv")
    rows = list(sheets["2025.csv"])
    assert [(r.number, r.values) for r in rows] == [
        (1, ["统一社会信用代码", "机构名称", "担保金额"]),
        (2, ["91510100MA61234567", "成都某担保,有限公司", "-300.5"]),
    ]
    assert rows[1].cell(2) == "C2"


def test_csv_limits_and_encoding(settings):
    settings.UPLOAD_LIMITS = {
        **settings.UPLOAD_LIMITS,
        "guarantees": {"bytes": MIB, "rows": 2, "columns": 3, "csv": True},
    }
    with pytest.raises(UploadRejected) as exc:
        read_upload(b"a,b\n1,2\n3,4\n", channel="guarantees", filename="x.csv")
    assert str(exc.value.problems[0]) == ("工作表「x.csv」：行数超过上限 2（第 3 行）")
    with pytest.raises(UploadRejected) as exc:
        read_upload(b"a,b\n1,2,3,4\n", channel="guarantees", filename="x.csv")
    assert exc.value.problems[0].message_zh == "工作表「x.csv」第2行：列数 4 超过上限 3"
    with pytest.raises(UploadRejected) as exc:  # valid in neither UTF-8 nor GB18030 beyond the sniffed head
        read_upload(b"a,b\n" + b"x" * 9000 + b"\xff\xff\n", channel="guarantees", filename="x.csv")
    assert str(exc.value.problems[0]) == ("无法识别文件编码，请将 CSV 保存为 UTF-8 或 GBK 编码")


# ------------------------------------------------------------------------------------------------ writer
HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(1)", "\t=1", "\r=1", "普通文本", "a=b"]


def test_xlsx_writes_every_string_as_text_and_numbers_as_numbers():
    data = xlsx_bytes(
        Table(
            "名录",
            ["名称", "金额", "笔数", "日期", "时间"],
            [
                [
                    text,
                    Decimal("-1234.50"),
                    -3,
                    dt.date(2025, 6, 30),
                    dt.datetime(2025, 6, 30, 8, 0, tzinfo=dt.UTC),
                ]
                for text in HOSTILE
            ],
            widths=[30, 12],
        ),
        Table("空表", ["甲"], []),
    )
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["名录", "空表"]
    ws = wb["名录"]
    cells = [c for row in ws.iter_rows() for c in row]
    assert [c for c in cells if c.data_type == "f"] == []
    # the text itself as Excel reads it (openpyxl leaves an inline string's escaped CR as _x000D_)
    texts = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("名录").to_python()
    assert [row[0] for row in texts[1:]] == HOSTILE
    assert [(c.value, c.data_type, c.number_format) for c in ws[2][1:4]] == [
        (-1234.5, "n", "#,##0.00"),
        (-3, "n", "General"),
        (dt.datetime(2025, 6, 30), "d", "yyyy-mm-dd"),
    ]
    assert ws["E2"].value == dt.datetime(2025, 6, 30, 16, 0)  # shown in Beijing time
    assert (ws.freeze_panes, ws.auto_filter.ref) == ("A2", "A1:E9")


def test_csv_quotes_formula_text_and_keeps_numbers():
    text = csv_text(Table("x", ["名称", "金额"], [[t, Decimal("-5.00")] for t in HOSTILE] + [[None, -7]]))
    assert text.startswith("\ufeff名称,金额\r\n")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[1:] == [
        ['\'=HYPERLINK("http://x","y")', "-5.00"],
        ["'+1+1", "-5.00"],
        ["'-2+3", "-5.00"],
        ["'@SUM(1)", "-5.00"],
        ["'\t=1", "-5.00"],
        ["'\r=1", "-5.00"],
        ["普通文本", "-5.00"],
        ["a=b", "-5.00"],
        ["", "-7"],
    ]
    assert [neutralise(t) for t in ("=1", "1=1", "")] == ["'=1", "1=1", ""]


def test_export_response_names_the_file_for_any_browser():
    response = export_response("机构名录-20250630.csv", Table("x", ["a"], [["=1"]]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E6%9C%BA%E6%9E%84%E5%90%8D%E5%BD%95-20250630.csv"
    )
    assert response.content.decode("utf-8") == "\ufeffa\r\n'=1\r\n"
    xlsx = export_response("x.xlsx", Table("x", ["a"], [[1]]))
    assert xlsx["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert xlsx["Content-Disposition"] == 'attachment; filename="x.xlsx"'


# ------------------------------------------------------------------------------------------------ 413
class Unreadable(io.RawIOBase):
    def read(self, *args):
        raise AssertionError("the request body was read")

    readline = read


def declared(client, path: str, length: int):
    """A POST that declares `length` bytes but whose body must never be read."""
    return client.generic(
        "POST",
        path,
        b"",
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(length),
        **{"wsgi.input": Unreadable()},
    )


@pytest.mark.django_db
def test_oversized_quarterly_upload_is_refused_by_content_length_before_the_body_is_read(users, client_for):
    r = declared(client_for(users["cd_filer"]), "/reporting/file/2025Q2/upload/", 200 * MIB)
    assert r.status_code == 413
    assert r.context["message"] == ("上传内容为 200 MB，超过上限 5 MB，未读取也未保存任何数据。")
    assert r.context["message"] in r.content.decode()
    assert not Filing.objects.exists()
    just_over = 5 * MIB + 64 * 1024 + 1  # the file's limit plus room for the form's other fields
    assert (
        declared(client_for(users["cd_filer"]), "/reporting/file/2025Q2/upload/", just_over).status_code
        == 413
    )


@pytest.mark.django_db
def test_each_channel_and_every_other_view_has_its_byte_limit(users, chengdu_institution, client_for):
    def message(size: int, limit: int) -> str:
        return f"上传内容为 {size} MB，超过上限 {limit} MB，未读取也未保存任何数据。"

    regulator = client_for(users["sc_regulator"])
    r = declared(regulator, reverse("institutions:import"), 21 * MIB)
    assert (r.status_code, r.context["message"]) == (413, message(21, 20))
    change = reverse("institutions:change_filing_submit", args=[chengdu_institution.pk])
    r = declared(client_for(users["cd_filer"]), change, 11 * MIB)
    assert (r.status_code, r.context["message"]) == (413, message(11, 10))
    r = declared(regulator, "/api/v1/filings/", 11 * MIB)
    assert (r.status_code, r.json()) == (413, {"code": "too_large", "detail": message(11, 10), "errors": {}})
