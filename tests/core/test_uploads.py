"""Every upload channel refuses hostile files with one exact message and stores nothing: the quarterly
report (through its upload page) and the registry import (through its page), from the same corpus."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from institutions.models import Institution, Licence
from reporting import excel as quarterly
from reporting.models import Filing
from reporting.periods import Period
from tests.institutions.test_import import GOOD_INSTITUTIONS, GOOD_LICENCES, workbook

from .hostile import structural

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024
TEXT = (
    "这是文本文件（可能是改了扩展名的 CSV），不是 Excel（.xlsx）文件；请在 Excel 中另存为 .xlsx 后上传",
    "this is a text file (a renamed CSV?), not an Excel (.xlsx) file; save it as .xlsx in Excel",
)
CORRUPT = ("文件已损坏或不完整（zip 结构无法读取）", "the file is truncated or corrupt (bad zip structure)")
COMMON = {
    "empty": ("文件为空", "the file is empty"),
    "xls-renamed": (
        "这是旧版 Excel 97-2003（.xls）文件，请在 Excel 中另存为 .xlsx 后上传",
        "this is a legacy Excel 97-2003 (.xls) file; save it as .xlsx and upload it again",
    ),
    "encrypted": (
        "文件已加密（设置了打开密码），请取消密码后上传",
        "the file is encrypted (it has an open password); remove the password and upload it again",
    ),
    "ods-renamed": (
        "这是 OpenDocument 表格（.ods）文件，请在 Excel 或 WPS 中另存为 .xlsx 后上传",
        "this is an OpenDocument (.ods) spreadsheet; save it as .xlsx and upload it again",
    ),
    "csv-renamed": TEXT,
    "gbk-csv-renamed": TEXT,
    "pdf-renamed": (
        "这是 PDF 文件，不是 Excel（.xlsx）文件，请上传 .xlsx",
        "this is a PDF file, not an Excel (.xlsx) file; upload an .xlsx",
    ),
    "random-bytes": (
        "无法识别的文件格式，不是 Excel（.xlsx）文件，请上传 .xlsx",
        "unrecognised file format, not an Excel (.xlsx) file; upload an .xlsx",
    ),
    "truncated": CORRUPT,
    "truncated-tail": CORRUPT,
    "no-content-types": (
        "缺少必需部件 [Content_Types].xml，不是有效的 Excel（.xlsx）工作簿",
        "part [Content_Types].xml is missing; not a valid Excel (.xlsx) workbook",
    ),
    "broken-xml": ("工作簿内部结构损坏，无法读取", "the workbook's internal structure is broken"),
    "zip-bomb-ratio": (
        "条目 xl/media/ratio.bin 的压缩比超过上限 100:1（疑似压缩炸弹）",
        "entry xl/media/ratio.bin is compressed more than 100:1 (zip bomb?)",
    ),
    "path-traversal": ("压缩包含非法路径 ../../evil.sh", "illegal entry path '../../evil.sh'"),
    "macro-vba": (
        "文件包含宏（VBA），拒绝导入；请另存为不含宏的 .xlsx 后上传",
        "the file contains macros (VBA) and is refused; save it as a macro-free .xlsx",
    ),
    "macro-content-type": (
        "文件为启用宏的工作簿（.xlsm），拒绝导入；请另存为 .xlsx 后上传",
        "a macro-enabled workbook (.xlsm) is refused; save it as .xlsx",
    ),
    "billion-laughs": (
        "部件 xl/workbook.xml 含有 DTD/实体声明（可能是 XML 炸弹），拒绝导入",
        "part xl/workbook.xml declares a DTD/entities (XML bomb?) and is refused",
    ),
    "xxe": (
        "部件 xl/styles.xml 含有 DTD/实体声明（可能是 XML 炸弹），拒绝导入",
        "part xl/styles.xml declares a DTD/entities (XML bomb?) and is refused",
    ),
}
ROWS_Q = ("行数超过上限 500（第 501 行）", "more rows than the limit of 500 (row 501)")
ROWS_R = ("行数超过上限 20,000（第 20,001 行）", "more rows than the limit of 20,000 (row 20,001)")
QUARTERLY = {
    **COMMON,
    "over-bytes": ("文件大小 5.01 MB，超过上限 5 MB", "the file is 5.01 MB, above the limit of 5 MB"),
    "zip-bomb-total": (
        "解压后总大小超过上限 30 MB（疑似压缩炸弹）",
        "the uncompressed size is above the limit of 30 MB (zip bomb?)",
    ),
    # sheet-level: (sheet, Chinese, English)
    "rows-over": ("季度报表", *ROWS_Q),
    "implicit-rows-over": ("季度报表", *ROWS_Q),
    "far-cell": (
        "季度报表",
        "行数超过上限 500（第 1,048,576 行）",
        "more rows than the limit of 500 (row 1,048,576)",
    ),
    "columns-over": (
        "季度报表",
        "列数超过上限 30（第 31 列）",
        "more columns than the limit of 30 (column 31)",
    ),
    "implicit-columns-over": (
        "季度报表",
        "列数超过上限 30（第 31 列）",
        "more columns than the limit of 30 (column 31)",
    ),
}
REGISTRY = {
    **COMMON,
    "over-bytes": ("文件大小 20.01 MB，超过上限 20 MB", "the file is 20.01 MB, above the limit of 20 MB"),
    "zip-bomb-total": (
        "解压后总大小超过上限 100 MB（疑似压缩炸弹）",
        "the uncompressed size is above the limit of 100 MB (zip bomb?)",
    ),
    "rows-over": ("机构", *ROWS_R),
    "implicit-rows-over": ("机构", *ROWS_R),
    "far-cell": (
        "机构",
        "行数超过上限 20,000（第 1,048,576 行）",
        "more rows than the limit of 20,000 (row 1,048,576)",
    ),
    "columns-over": ("机构", "列数超过上限 60（第 61 列）", "more columns than the limit of 60 (column 61)"),
    "implicit-columns-over": (
        "机构",
        "列数超过上限 60（第 61 列）",
        "more columns than the limit of 60 (column 61)",
    ),
}


def test_the_corpus_is_covered():
    cases = structural(b"", "x", rows=1, columns=1, max_bytes=10, expanded=10)
    assert set(cases) - {"too-many-entries"} == set(QUARTERLY) == set(REGISTRY)


def entries(data: bytes) -> int:
    return len(zipfile.ZipFile(io.BytesIO(data)).infolist())


@pytest.mark.parametrize("name", [*sorted(QUARTERLY), "too-many-entries"])
def test_quarterly_upload_refuses(name, users, chengdu_institution, client_for):
    good = quarterly.workbook_for(institution=chengdu_institution, period=Period(2025, 2))
    data = structural(good, "季度报表", rows=500, columns=30, max_bytes=5 * MIB, expanded=30 * MIB)[name]()
    if name == "too-many-entries":
        expected = (
            f"压缩包条目过多（{entries(data)} 个，上限 100 个）",
            f"too many zip entries ({entries(data)}; the limit is 100)",
        )
    elif len(QUARTERLY[name]) == 3:
        sheet, zh, en = QUARTERLY[name]
        expected = (f"工作表「{sheet}」：{zh}", f"sheet '{sheet}': {en}")
    else:
        expected = QUARTERLY[name]
    r = client_for(users["cd_filer"]).post(
        "/reporting/file/2025Q2/upload/", {"file": SimpleUploadedFile("upload.xlsx", data)}
    )
    assert r.status_code == 302
    assert [str(m) for m in r.wsgi_request._messages] == [
        "Excel 未导入，未保存任何数据",
        expected[0],
    ]
    assert not Filing.objects.exists()


@pytest.mark.parametrize("name", [*sorted(REGISTRY), "too-many-entries"])
def test_registry_import_refuses(name, users, client_for):
    good = workbook(GOOD_INSTITUTIONS, GOOD_LICENCES)
    data = structural(good, "机构", rows=20_000, columns=60, max_bytes=20 * MIB, expanded=100 * MIB)[name]()
    before = Institution.objects.count()
    r = client_for(users["sc_regulator"]).post(
        reverse("institutions:import"), {"file": SimpleUploadedFile("registry.xlsx", data)}
    )
    assert r.status_code == 200
    if name == "too-many-entries":
        expected = [
            (
                "—",
                0,
                "—",
                f"压缩包条目过多（{entries(data)} 个，上限 100 个）",
            )
        ]
    elif len(REGISTRY[name]) == 3:
        sheet, zh, en = REGISTRY[name]
        expected = [(sheet, 0, "—", zh)]
    else:
        expected = [("—", 0, "—", REGISTRY[name][0])]
    assert [(e.sheet, e.row, e.column, e.message) for e in r.context["errors"]] == expected
    assert Institution.objects.count() == before and not Licence.objects.exists()


def test_registry_import_refuses_formulas_cell_by_cell(users, client_for):
    rows = [list(r) for r in GOOD_INSTITUTIONS]
    rows[0][15] = "=10+15"  # 从业人员数 of the first institution, row 2, column P
    rows[1][7] = "=SUM(H2:H2)"  # 注册资本 of the second, row 3, column H
    r = client_for(users["sc_regulator"]).post(
        reverse("institutions:import"),
        {"file": SimpleUploadedFile("registry.xlsx", workbook(rows, GOOD_LICENCES))},
    )
    message = "单元格含公式；请填写数值，不要使用公式"
    assert [(e.sheet, e.row, e.column, e.message) for e in r.context["errors"]] == [
        ("机构", 2, "P", message),
        ("机构", 3, "H", message),
    ]
    assert not Institution.objects.filter(name__startswith="成都导入").exists()
