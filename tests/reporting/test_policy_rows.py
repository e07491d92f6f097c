"""Reporting's policy values come from rows: the deadline (and its text on the settings page), and the
jurisdiction of an export; a missing deadline row fails loudly instead of defaulting to 15 days."""

import datetime as dt
import io

import openpyxl
import pytest

from core.policy import PolicyMissing
from reporting import services
from reporting.models import DueDateSetting
from reporting.periods import Period
from tests.factories import InstitutionFactory

from .helpers import GOOD_Q1, GOOD_Q2, file_and_submit

pytestmark = pytest.mark.django_db
Q2 = Period(2025, 2)


def test_deadline_text_and_form_come_from_the_rows_in_force(users, client_for):
    page = client_for(users["sc_regulator"])
    html = page.get("/reporting/due-dates/").content.decode()
    assert "未设置的省份使用全国默认值（季后15日）" in html
    assert 'name="days_after_quarter_end" value="15"' in html
    DueDateSetting.objects.filter(region_code="").update(days_after_quarter_end=20, remind_days_before=7)
    DueDateSetting.objects.create(
        region_code="510000",
        days_after_quarter_end=25,
        remind_days_before=3,
        overdue_days_after=2,
        effective_from=dt.date(2020, 1, 1),
        source="川金监发〔2020〕1号",
    )
    html = page.get("/reporting/due-dates/").content.decode()
    assert "未设置的省份使用全国默认值（季后20日）" in html
    # the form starts from the province's own setting
    assert 'name="days_after_quarter_end" value="25"' in html
    assert 'name="remind_days_before" value="3"' in html
    assert "<td>四川省</td>" in html


def test_a_missing_deadline_row_fails_loudly(users, chengdu_institution):
    hangzhou = InstitutionFactory(region_id="330106")
    DueDateSetting.objects.create(
        region_code="510000",
        days_after_quarter_end=20,
        remind_days_before=5,
        overdue_days_after=1,
        effective_from=dt.date(2020, 1, 1),
        source="川金监发〔2020〕1号",
    )
    DueDateSetting.objects.filter(region_code="").delete()
    assert services.due_date("510104", Q2) == dt.date(2025, 7, 20)
    with pytest.raises(PolicyMissing, match="缺少政策数据：报送期限设置（地区 330106，日期 2025-06-30）"):
        services.due_date("330106", Q2)
    with pytest.raises(PolicyMissing, match="报送期限设置（地区 330106，日期 2025-06-30）"):
        services.filing_save_draft(actor=users["admin"], institution=hangzhou, period=Q2, values={})


def test_an_administrators_aggregate_covers_the_country(users, client_for, chengdu_institution):
    """An administrator has no jurisdiction: the export is the whole country's, not Sichuan's."""
    hangzhou = InstitutionFactory(region_id="330106", level="county")
    admin = users["admin"]
    file_and_submit(chengdu_institution, "2025Q2", GOOD_Q2, maker=admin, checker=admin)
    file_and_submit(hangzhou, "2025Q2", GOOD_Q1, maker=admin, checker=admin)
    response = client_for(admin).get("/reporting/exports/aggregate.xlsx?period=2025Q2")
    assert response["Content-Disposition"] == 'attachment; filename="aggregate-all-2025Q2.xlsx"'
    ws = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert (
        ws.cell(row=1, column=1).value
        == "2025年第2季度 融资担保公司季度报表汇总（全国；含状态：已受理、已报送）"
    )
    assert [ws.cell(row=3, column=c).value for c in range(5, 11)] == [
        "合计",
        "省级机构",
        "市级机构",
        "县级机构",
        "杭州市",
        "成都市",
    ]
