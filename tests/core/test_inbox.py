"""The work inbox (待办): each role's tasks, the counts in the menu (constant queries), the unread count
beside 消息, the regulators' message on submission, and tenant isolation."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.inbox import task_count, tasks_for
from core.stored_text import Message, store
from institutions import services as inst_services
from institutions.models import GovListBatch, Licence
from reporting import services
from reporting.inbox import filing_period
from reporting.models import Filing, Notification
from reporting.periods import Period
from supervision.models import Threshold, WarningCase
from tests.factories import InstitutionFactory
from tests.reporting.helpers import GOOD_Q2, file_and_submit, history
from tests.reporting.sample import GOOD_Q1


@pytest.fixture(autouse=True)
def licensed(chengdu_institution, mianyang_institution):
    for inst, number in ((chengdu_institution, "川A990001"), (mianyang_institution, "川B990002")):
        Licence.objects.create(
            number=number,
            institution=inst,
            issuing_authority="四川省地方金融监督管理局",
            issued_on=dt.date(2015, 1, 1),
        )


def kinds(user):
    return [(t.kind, t.count) for t in tasks_for(user)]


def test_filer_sees_the_quarter_due_until_a_draft_exists(users, chengdu_institution):
    period = filing_period()
    tasks = tasks_for(users["cd_filer"])
    assert [(t.kind, t.title, t.url) for t in tasks] == [
        ("filing.due", f"{period.label} 季度报表待填报", f"/reporting/file/{period}/")
    ]
    assert tasks[0].due == services.due_date("510104", period)
    services.filing_save_draft(
        actor=users["cd_filer"], institution=chengdu_institution, period=period, values={"staff_count": "4"}
    )
    assert kinds(users["cd_filer"]) == []  # the draft now waits for the approver
    assert [(t.kind, t.title) for t in tasks_for(users["cd_approver"])] == [
        ("filing.submit", f"{period.label} 季度报表草稿待审核报送")
    ]


def test_return_reaches_filer_and_approver_and_submission_reaches_the_regulators(users, chengdu_institution):
    history(chengdu_institution, users)
    q2 = Period(2025, 2)
    filing = file_and_submit(
        chengdu_institution, q2, GOOD_Q2, maker=users["cd_filer"], checker=users["cd_approver"]
    )
    # every regulator whose jurisdiction holds 510104 (the city and the province), no one else
    titles = Notification.objects.filter(
        title=store(Message("%(i)s 报送了 %(p)s 季度报表", i="成都测试融资担保有限公司", p="2025年第2季度"))
    )
    assert sorted(titles.values_list("user__username", flat=True)) == ["t_cd_reg", "t_sc_reg"]
    assert titles.first().url == f"/reporting/review/{filing.pk}/"
    assert ("filing.review", 3) in kinds(users["cd_regulator"])  # 2024Q4, 2025Q1, 2025Q2 submitted
    assert [t for t in tasks_for(users["my_regulator"]) if t.kind == "filing.review"] == []
    assert [t for t in tasks_for(users["zj_regulator"]) if t.kind == "filing.review"] == []

    services.filing_return(actor=users["cd_regulator"], filing=filing, comments={"staff_count": "请核实"})
    returned = [t for t in tasks_for(users["cd_filer"]) if t.kind == "filing.returned"]
    assert [(t.title, t.url) for t in returned] == [
        ("2025年第2季度 季度报表被退回，请修改后重新报送", "/reporting/file/2025Q2/")
    ]
    assert [t.kind for t in tasks_for(users["cd_approver"]) if t.kind.startswith("filing.r")] == [
        "filing.returned"
    ]
    assert [t for t in tasks_for(users["my_filer"]) if t.kind == "filing.returned"] == []

    services.filing_save_draft(
        actor=users["cd_filer"],
        institution=chengdu_institution,
        period=q2,
        values={"staff_count": "41"},
        merge=True,
    )
    assert [t.title for t in tasks_for(users["cd_approver"]) if t.kind == "filing.submit"] == [
        "2025年第2季度 季度报表草稿待审核报送"
    ]
    services.filing_submit(actor=users["cd_approver"], filing=filing)
    assert Notification.objects.filter(
        user=users["cd_regulator"],
        title=store(
            Message(
                "%(i)s 报送了 %(p)s 季度报表（第 %(n)s 版）",
                i="成都测试融资担保有限公司",
                p="2025年第2季度",
                n=2,
            )
        ),
    ).exists()


def _case(user, inst, filing, quarter, assigned=None, status="open"):
    # one case per institution × rule: each case here is another rule's
    return WarningCase.objects.create(
        institution=inst,
        threshold=Threshold.objects.order_by("pk")[quarter - 1],
        filing=filing,
        year=2025,
        quarter=quarter,
        severity="breach",
        assigned_to=assigned,
        status=status,
    )


def test_warning_cases_assigned_and_unassigned(users, chengdu_institution):
    filing = file_and_submit(
        chengdu_institution, Period(2025, 1), GOOD_Q1, maker=users["cd_filer"], checker=users["cd_approver"]
    )
    _case(users, chengdu_institution, filing, 1, assigned=users["cd_regulator"], status="acknowledged")
    _case(users, chengdu_institution, filing, 2)
    _case(users, chengdu_institution, filing, 3, assigned=users["cd_regulator"], status="closed")
    tasks = {t.kind: t for t in tasks_for(users["cd_regulator"])}
    assert (tasks["warning.assigned"].title, tasks["warning.assigned"].url) == (
        "1 件预警由您承办",
        "/supervision/warnings/?mine=1",
    )
    assert (tasks["warning.open"].title, tasks["warning.open"].count) == ("1 件预警待确认承办", 1)
    assert "warning.assigned" not in {t.kind for t in tasks_for(users["sc_regulator"])}
    assert {t.kind for t in tasks_for(users["my_regulator"])} & {"warning.assigned", "warning.open"} == set()
    assert [t for t in tasks_for(users["cd_filer"]) if t.kind.startswith("warning")] == []


def test_govlist_batches_for_finance_and_regulator(users, chengdu_institution):
    batch = inst_services.govlist_batch_create(
        actor=users["sc_finance"],
        region_code="510000",
        title="2026年第一批",
        published_on=dt.date(2026, 1, 5),
    )
    assert [(t.kind, t.title) for t in tasks_for(users["sc_finance"])] == [
        ("govlist.draft", "名单批次“2026年第一批”草拟中，待提交确认")
    ]
    assert [t for t in tasks_for(users["sc_regulator"]) if t.kind.startswith("govlist")] == []
    inst_services.govlist_entry_set(
        actor=users["sc_finance"], batch=batch, institution=chengdu_institution, action="include"
    )
    inst_services.govlist_batch_propose(actor=users["sc_finance"], batch=batch)
    assert [t for t in tasks_for(users["sc_finance"])] == []
    assert [(t.kind, t.url) for t in tasks_for(users["sc_regulator"]) if t.kind.startswith("govlist")] == [
        ("govlist.confirm", f"/govlist/{batch.pk}/")
    ]
    # a city regulator keeps its city's list, not the province's
    assert [t for t in tasks_for(users["cd_regulator"]) if t.kind.startswith("govlist")] == []
    assert [t for t in tasks_for(users["zj_regulator"]) if t.kind.startswith("govlist")] == []


def test_inbox_page_menu_counts_and_unread_messages(users, client_for, chengdu_institution):
    c = client_for(users["cd_filer"])
    Notification.objects.bulk_create([Notification(user=users["cd_filer"], title=f"m{i}") for i in range(3)])
    Notification.objects.create(user=users["my_filer"], title="other")
    body = c.get("/inbox/").content.decode()
    assert f"{filing_period().label} 季度报表待填报" in body
    page = c.get("/").content.decode()  # the page asks for its menu's counts once loaded
    assert 'hx-get="/inbox/counts/"' in page and '<span id="nav-count-inbox"></span>' in page
    assert dict(c.get("/inbox/counts/").context["counts"]) == {"inbox": 1, "reporting-notifications": 3}
    c.get("/reporting/notifications/")  # reading the messages marks them read
    counts = c.get("/inbox/counts/")
    assert dict(counts.context["counts"]) == {"inbox": 1, "reporting-notifications": 0}
    assert '<span id="nav-count-inbox" hx-swap-oob="true"><span class="badge' in counts.content.decode()
    assert Notification.objects.filter(user=users["my_filer"], read_at__isnull=True).count() == 1
    assert task_count(users["cd_filer"]) == 1


def test_anonymous_gets_the_login_page(client):
    response = client.get("/inbox/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["cd_regulator", "cd_approver", "sc_finance"])
def test_menu_counts_cost_constant_queries(users, client_for, who, chengdu_institution):
    c = client_for(users[who])

    def grow(n, start):
        for i in range(n):
            inst = InstitutionFactory(region_id="510104", name=f"机构{start + i}")
            Filing.objects.create(
                institution=inst,
                year=2025,
                quarter=2,
                template=services.template_for(Period(2025, 2)),
                status="submitted",
            )
            for status, by in (("proposed", "cd_regulator"), ("proposed", "cd_finance"), ("draft", None)):
                GovListBatch.objects.create(
                    region_id="510100", title=f"批{start + i}", status=status, proposed_by=by and users[by]
                )
            Notification.objects.create(user=users[who], title="t")

    grow(2, 0)
    c.get("/inbox/counts/")
    with CaptureQueriesContext(connection) as small:
        assert c.get("/inbox/counts/").status_code == 200
    grow(10, 100)
    with CaptureQueriesContext(connection) as large:
        assert c.get("/inbox/counts/").status_code == 200
    assert len(large) == len(small)


def test_home_page_lists_the_tasks(users, client_for, chengdu_institution):
    history(chengdu_institution, users)
    filing = file_and_submit(
        chengdu_institution, Period(2025, 2), GOOD_Q2, maker=users["cd_filer"], checker=users["cd_approver"]
    )
    services.filing_return(actor=users["cd_regulator"], filing=filing, comments={"staff_count": "请核实"})
    body = client_for(users["cd_filer"]).get("/").content.decode()
    assert "2025年第2季度 季度报表被退回，请修改后重新报送" in body
    assert 'href="/reporting/file/2025Q2/"' in body
