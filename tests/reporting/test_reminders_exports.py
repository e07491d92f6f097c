import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from core.stored_text import Message, store
from reporting import exports, reminders, tasks
from reporting.models import FilingVersion, Notification, Reminder
from reporting.periods import Period

from .helpers import GOOD_Q1, GOOD_Q2, file_and_submit

Q2 = Period(2025, 2)


def test_scheduled_reminders_before_due_overdue_never_twice(
    users, chengdu_institution, mianyang_institution, django_capture_on_commit_callbacks, client_for
):
    file_and_submit(
        mianyang_institution, "2025Q1", {}, maker=users["my_filer"], checker=users["admin"], nil=True
    )
    for who in ("cd_filer", "cd_approver", "my_filer"):
        users[who].email = f"{who}@example.invalid"
        users[who].save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        sent = reminders.remind_due(dt.date(2025, 7, 10))  # Q2 due 07-15: 5 days before; Q1 overdue
    assert sent == {"overdue": 1, "before": 2}
    assert [
        (r.institution_id, str(Period(r.year, r.quarter)), r.event)
        for r in Reminder.objects.order_by("year", "quarter", "institution_id")
    ] == [
        (chengdu_institution.pk, "2025Q1", "overdue"),
        (chengdu_institution.pk, "2025Q2", "before"),
        (mianyang_institution.pk, "2025Q2", "before"),
    ]
    assert (
        Notification.objects.filter(
            user=users["cd_filer"],
            title=store(Message("%(p)s季度报表将于%(d)s截止，请按时报送", p="2025年第2季度", d="2025-07-15")),
        ).count()
        == 1
    )
    assert len(mail.outbox) == 5  # cd_filer + cd_approver for two events, my_filer once
    assert (
        mail.outbox[0].body
        == "成都测试融资担保有限公司：\n2025年第1季度季度报表已逾期（截止日2025-04-15），请立即报送"
    )
    # one language per reader: the stored reminder is shown in each reader's language
    reader = client_for(users["cd_filer"])
    reader.cookies["django_language"] = "en"
    page = reader.get("/reporting/notifications/").content.decode()
    assert "The 2025年第2季度 quarterly report is due on 2025-07-15: please file it on time." in page
    assert "请按时报送" not in page
    assert reminders.remind_due(dt.date(2025, 7, 12)) == {}  # same events: not again
    assert reminders.remind_due(dt.date(2025, 7, 14)) == {}
    assert reminders.remind_due(dt.date(2025, 7, 15)) == {"due": 2}
    file_and_submit(
        chengdu_institution, "2025Q2", {}, maker=users["cd_filer"], checker=users["cd_approver"], nil=True
    )
    assert reminders.remind_due(dt.date(2025, 7, 16)) == {"overdue": 1}
    assert reminders.remind_due(dt.date(2025, 7, 20)) == {}
    assert Reminder.objects.count() == 6


def test_manual_bulk_reminder_scoped_and_once_a_day(users, chengdu_institution, mianyang_institution):
    day = dt.date(2025, 7, 20)
    assert reminders.remind_manual(actor=users["cd_regulator"], period=Q2, today=day) == 1
    assert reminders.remind_manual(actor=users["cd_regulator"], period=Q2, today=day) == 0
    assert reminders.remind_manual(actor=users["sc_regulator"], period=Q2, today=day) == 1  # Mianyang now
    assert (
        reminders.remind_manual(actor=users["sc_regulator"], period=Q2, today=day + dt.timedelta(days=1)) == 2
    )


def test_celery_task_runs_the_service(users, chengdu_institution):
    assert isinstance(tasks.send_reminders.delay().get(), dict)


def test_remind_view_posts(users, client_for, chengdu_institution):
    r = client_for(users["cd_regulator"]).post("/reporting/completeness/remind/", {"period": "2025Q2"})
    assert r.status_code == 302
    assert Reminder.objects.filter(event="manual", institution=chengdu_institution).count() == 1
    assert (
        client_for(users["cd_filer"])
        .post("/reporting/completeness/remind/", {"period": "2025Q2"})
        .status_code
        == 403
    )


@pytest.fixture
def two_filed(users, chengdu_institution, mianyang_institution):
    chengdu_institution.name = '=HYPERLINK("http://x")成都'
    chengdu_institution.save()
    file_and_submit(
        chengdu_institution,
        "2025Q2",
        {**GOOD_Q2, "fin_balance_opening": "200000"},
        maker=users["cd_filer"],
        checker=users["cd_approver"],
    )
    file_and_submit(
        mianyang_institution,
        "2025Q2",
        GOOD_Q1 | {"fin_new": "60000"},
        maker=users["my_filer"],
        checker=users["admin"],
    )


def test_aggregate_by_region_level(users, two_filed):
    fields, columns, labels, sums, counts = exports.aggregate(users["sc_regulator"], Q2, "510000")
    assert columns == ["合计", "省级机构", "市级机构", "县级机构", "510100", "510700"]
    assert labels["510100"] == "成都市" and labels["510700"] == "绵阳市"
    assert counts == {"合计": 2, "省级机构": 0, "市级机构": 0, "县级机构": 2, "510100": 1, "510700": 1}
    assert sums["合计"]["fin_balance"] == Decimal("430000.00")  # 220000 + 210000
    assert sums["510100"]["fin_balance"] == Decimal("220000.00")
    fields, columns, labels, sums, counts = exports.aggregate(users["cd_regulator"], Q2, "510100")
    assert counts["合计"] == 1


def test_aggregate_xlsx_has_no_formulas_and_csv_is_formula_safe(users, client_for, two_filed):
    r = client_for(users["sc_regulator"]).get("/reporting/exports/aggregate.xlsx?period=2025Q2")
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert ws.cell(row=3, column=5).value == "合计"
    assert ws.cell(row=4, column=5).value == 2
    row = next(c[0].row for c in ws.iter_rows(min_col=2, max_col=2) if c[0].value == "fin_balance")
    assert ws.cell(row=row, column=5).value == 430000
    assert all(c.data_type != "f" for r_ in ws.iter_rows() for c in r_)
    body = (
        client_for(users["sc_regulator"])
        .get("/reporting/exports/filings.csv?period=2025Q2")
        .content.decode("utf-8-sig")
    )
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:11] == [
        "统一社会信用代码",
        "机构名称",
        "地区代码",
        "地区",
        "报告期",
        "状态",
        "版本",
        "零报告",
        "报送时间",
        "校验规则集",
        "数据摘要（SHA-256）",
    ]
    assert "融资担保在保余额（fin_balance）" in rows[0]
    assert len(rows) == 3
    by_name = {r_[1]: r_ for r_ in rows[1:]}
    mianyang = by_name["绵阳测试融资担保有限公司"]
    assert mianyang[2:8] == ["510703", "涪城区", "2025年第2季度", "已报送", "1", "否"]
    submitted = FilingVersion.objects.get(filing__institution__name="绵阳测试融资担保有限公司").submitted_at
    assert mianyang[8] == timezone.localtime(submitted).strftime("%Y-%m-%d %H:%M:%S")  # Beijing time
    names = sorted(r_[1] for r_ in rows[1:])
    assert names[0] == '\'=HYPERLINK("http://x")成都'


def test_manual_reminders_are_the_regulators(users, chengdu_institution):
    """The service asks again who may send (second line of defence): a finance bureau sees the
    jurisdiction's institutions, but reminding them to file is the regulator's."""
    for who in ("sc_finance", "cd_filer"):
        with pytest.raises(PermissionDenied):
            reminders.remind_manual(actor=users[who], period=Q2, today=dt.date(2025, 7, 20))
    assert Reminder.objects.count() == 0


def test_aggregate_says_which_statuses_it_includes_and_lets_the_user_choose(users, client_for, two_filed):
    from reporting.models import Filing
    from reporting.services import filing_return

    chengdu = Filing.objects.get(institution__name__endswith="成都")
    filing_return(actor=users["cd_regulator"], filing=chengdu, comments={"_": "请核实"})
    c = client_for(users["sc_regulator"])
    ws = openpyxl.load_workbook(
        io.BytesIO(c.get("/reporting/exports/aggregate.xlsx?period=2025Q2").content)
    ).active
    assert ws.cell(row=1, column=1).value.endswith("（510000；含状态：已受理、已报送）")
    assert ws.cell(row=4, column=5).value == 1  # the returned Chengdu report is left out by default
    url = "/reporting/exports/aggregate.xlsx?period=2025Q2&status=returned&status=accepted&status=submitted"
    ws = openpyxl.load_workbook(io.BytesIO(c.get(url).content)).active
    assert ws.cell(row=1, column=1).value.endswith("含状态：已受理、已报送、已退回）")
    assert ws.cell(row=4, column=5).value == 2
    page = c.get("/reporting/completeness/?period=2025Q2").content.decode()
    assert 'name="status" value="accepted" id="agg-accepted" checked' in page
    assert 'name="status" value="returned" id="agg-returned">' in page


def test_province_level_institutions_headed_by_name(users, two_filed):
    from tests.factories import InstitutionFactory

    province_level = InstitutionFactory(region_id="510000", level="province", name="四川省再担保测试公司")
    from reporting.models import Filing, FilingVersion, ReportTemplate

    f = Filing.objects.create(
        institution=province_level,
        year=2025,
        quarter=2,
        template=ReportTemplate.objects.get(version=1),
        status="accepted",
        first_submitted_at=timezone.now(),
    )
    f.current_version = FilingVersion.objects.create(
        filing=f, number=1, values=GOOD_Q1, submitted_at=timezone.now()
    )
    f.save()
    _f, columns, labels, _s, counts = exports.aggregate(users["sc_regulator"], Q2, "510000")
    assert labels["510000"] == "四川省（省本级）" and counts["510000"] == 1
