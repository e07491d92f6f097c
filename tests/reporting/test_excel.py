import io

import openpyxl
import pytest

from reporting import excel, services
from reporting.models import Filing, FilingVersion
from reporting.periods import Period

from .helpers import GOOD_Q2, history
from .hostile import corpus, fill

Q2 = Period(2025, 2)


@pytest.fixture
def good(users, chengdu_institution):
    return excel.workbook_for(institution=chengdu_institution, period=Q2)


def test_generated_workbook_layout(good, chengdu_institution):
    wb = openpyxl.load_workbook(io.BytesIO(good))
    ws = wb[excel.DATA_SHEET]
    assert wb[excel.META_SHEET].sheet_state == "hidden"
    assert wb.security.lockStructure is True
    assert ws.protection.sheet is True
    assert [ws.cell(row=excel.HEADER_ROW, column=c).value for c in range(1, 10)] == [
        "部分",
        "字段代码",
        "项目",
        "英文名称",
        "单位",
        "口径",
        "本期数",
        "上期数",
        "填报说明",
    ]
    assert ws.cell(row=excel.FIRST_ROW, column=2).value == "total_assets"
    assert ws.cell(row=excel.FIRST_ROW, column=3).value == "资产总额"
    assert ws.cell(row=excel.FIRST_ROW, column=7).protection.locked is False
    assert ws.cell(row=excel.FIRST_ROW, column=2).protection.locked is True
    assert ws["B3"].value == chengdu_institution.credit_code
    assert [wb[excel.META_SHEET].cell(row=r, column=2).value for r in (1, 2, 3)] == [
        "1",
        chengdu_institution.credit_code,
        "2025Q2",
    ]
    assert len(ws.data_validations.dataValidation) == 75  # one per field


def test_filled_template_round_trips_exactly(users, chengdu_institution):
    history(chengdu_institution, users)
    template = excel.workbook_for(institution=chengdu_institution, period=Q2)
    wb = openpyxl.load_workbook(io.BytesIO(template))
    ws = wb[excel.DATA_SHEET]
    assert ws.cell(row=excel.FIRST_ROW + 23, column=2).value == "fin_balance_opening"
    assert ws.cell(row=excel.FIRST_ROW + 23, column=7).value == 200000  # prefilled opening value
    as_typed = {
        k: (int(v) if "." not in v else float(v))
        for k, v in {**GOOD_Q2, "net_profit": "300.45", "monetary_funds": "19999.55"}.items()
    }
    result = excel.import_upload(
        actor=users["cd_filer"], institution=chengdu_institution, period=Q2, data=fill(template, as_typed)
    )
    assert result.errors == []
    expected, _errors = services.parse_values(
        {**GOOD_Q2, "net_profit": "300.45", "monetary_funds": "19999.55"},
        services.template_fields(services.template_for(Q2)),
    )
    assert result.version.values == expected
    assert result.version.channel == "excel"
    assert result.findings == []
    # the workbook generated from the stored draft uploads back to identical values
    again = excel.workbook_for(institution=chengdu_institution, period=Q2)
    result2 = excel.import_upload(
        actor=users["cd_filer"], institution=chengdu_institution, period=Q2, data=again
    )
    assert result2.errors == [] and result2.version.values == expected
    assert (
        FilingVersion.objects.filter(
            filing__institution=chengdu_institution, filing__year=2025, filing__quarter=2
        ).count()
        == 1
    )


def test_findings_come_back_highlighted_and_commented(users, chengdu_institution):
    history(chengdu_institution, users)
    values = {**GOOD_Q2, "net_assets": "1"}
    findings, _rs = services.check(institution_id=chengdu_institution.pk, period=Q2, values=values)
    data = excel.workbook_for(institution=chengdu_institution, period=Q2, values=values, findings=findings)
    ws = openpyxl.load_workbook(io.BytesIO(data))[excel.DATA_SHEET]
    from .hostile import row_of

    cell = ws.cell(row=row_of(ws, "net_assets"), column=7)
    assert cell.comment.text.startswith("[IDN-01] 净资产（1.00）应等于资产总额减负债总额（35,000.00）")
    assert cell.fill.fgColor.rgb.endswith("F8CBAD")


@pytest.mark.parametrize("index", range(17))
def test_broken_quarterly_upload_gives_exact_error_stores_nothing_and_never_500(
    users, chengdu_institution, mianyang_institution, client_for, index
):
    """Wrong values, identity or layout; the file-level attacks are in tests/core/test_uploads.py."""
    good = excel.workbook_for(institution=chengdu_institution, period=Q2)
    cases = corpus(
        good,
        own_credit_code=chengdu_institution.credit_code,
        other_credit_code=mianyang_institution.credit_code,
    )
    assert len(cases) == 17
    name, make, expected, cell = cases[index]
    data = make()
    result = excel.import_upload(
        actor=users["cd_filer"], institution=chengdu_institution, period=Q2, data=data
    )
    first = result.errors[0]
    assert (len(result.errors), first.message_zh, first.cell) == (1, expected, cell), name
    assert first.message_en and first.message_en != first.message_zh
    if cell:
        assert first.message_en.startswith(f"sheet '{first.sheet}', row {cell[1:]}, column {cell[0]}: ")
    assert not Filing.objects.exists()
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = client_for(users["cd_filer"]).post(
        "/reporting/file/2025Q2/upload/", {"file": SimpleUploadedFile(f"{name}.xlsx", data)}
    )
    assert r.status_code == 302
    assert [str(m) for m in r.wsgi_request._messages] == [
        "Excel 未导入，未保存任何数据",
        first.message_zh,
    ]
    assert not Filing.objects.exists()
