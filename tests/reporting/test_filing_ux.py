"""The filing pages as people read them: the step tracker, the list's button named by what it does,
return comments with field labels (no codes or "_"), findings linked to their fields, a format error
beside its field."""

import re

import pytest

from core.stored_text import Message, store
from reporting import services
from reporting.inbox import filing_period
from reporting.models import Filing, Notification
from reporting.periods import Period

from .helpers import GOOD_Q2, file_and_submit, history

Q2 = Period(2025, 2)


def steps(html):
    """[(label, state)] of the step tracker."""
    tracker = re.search(r'<ol class="filing-steps.*?</ol>', html, re.S).group(0)
    return [
        (label.strip(), state)
        for state, label in re.findall(
            r'filing-step step-(\w+)[^>]*>\s*<span class="step-mark">.*?</span>\s*([^<]+)', tracker, re.S
        )
    ]


@pytest.fixture
def submitted(users, chengdu_institution):
    history(chengdu_institution, users)
    return file_and_submit(
        chengdu_institution, Q2, GOOD_Q2, maker=users["cd_filer"], checker=users["cd_approver"]
    )


def test_step_tracker_through_the_life_of_a_filing(users, client_for, chengdu_institution, submitted):
    c = client_for(users["cd_filer"])
    url = f"/reporting/filings/{submitted.pk}/"
    assert steps(c.get(url).content.decode()) == [
        ("草稿", "done"),
        ("校验通过", "done"),
        ("已报送", "current"),
        ("已受理", "todo"),
        ("更正", "todo"),
    ]
    services.filing_return(actor=users["cd_regulator"], filing=submitted, comments={"_": "请核实"})
    assert steps(c.get(url).content.decode())[2:4] == [("已报送", "done"), ("已退回", "current")]
    services.filing_save_draft(
        actor=users["cd_filer"],
        institution=chengdu_institution,
        period=Q2,
        values={"staff_count": "41"},
        merge=True,
    )
    assert steps(c.get(url).content.decode())[:3] == [
        ("草稿", "done"),
        ("校验通过", "current"),
        ("已报送", "todo"),
    ]
    services.filing_submit(actor=users["cd_approver"], filing=submitted)
    services.filing_accept(actor=users["cd_regulator"], filing=submitted)
    assert steps(c.get(url).content.decode())[3:] == [("已受理", "done"), ("更正", "todo")]
    services.filing_amend(actor=users["cd_filer"], filing=submitted, reason="更正人数")
    assert steps(c.get(url).content.decode()) == [
        ("草稿", "done"),
        ("校验通过", "current"),
        ("已报送", "todo"),
        ("已受理", "todo"),
        ("更正", "current"),
    ]
    form = client_for(users["cd_filer"]).get("/reporting/file/2025Q2/").content.decode()
    assert steps(form)[1] == ("校验通过", "current")


def test_a_draft_with_errors_is_not_checked(users, client_for, chengdu_institution):
    services.filing_save_draft(
        actor=users["cd_filer"], institution=chengdu_institution, period=Q2, values={"staff_count": "4"}
    )
    body = client_for(users["cd_filer"]).get("/reporting/file/2025Q2/").content.decode()
    assert steps(body)[:2] == [("草稿", "current"), ("校验通过", "todo")]


def test_filing_list_button_names_what_it_does(users, client_for, chengdu_institution):
    period = filing_period()
    c = client_for(users["cd_filer"])

    def button():
        body = c.get("/reporting/filings/").content.decode()
        m = re.search(
            r'<a class="btn btn-primary" id="file-action" href="([^"]+)"><i[^>]*></i> ([^<]+)</a>', body
        )
        return m.group(2), m.group(1)

    assert button() == (f"填报{period.label}", f"/reporting/file/{period}/")
    services.filing_save_draft(
        actor=users["cd_filer"], institution=chengdu_institution, period=period, values={"staff_count": "4"}
    )
    assert button() == (f"继续填报{period.label}", f"/reporting/file/{period}/")
    f = Filing.objects.get(institution=chengdu_institution, year=period.year, quarter=period.quarter)
    Filing.objects.filter(pk=f.pk).update(status="submitted")
    assert button() == (f"查看{period.label}报表（审核中）", f"/reporting/filings/{f.pk}/")
    Filing.objects.filter(pk=f.pk).update(status="accepted")
    assert button() == (f"查看{period.label}报表（已受理）", f"/reporting/filings/{f.pk}/")
    Filing.objects.filter(pk=f.pk).update(status="returned")
    assert button() == (f"修改被退回的{period.label}报表", f"/reporting/file/{period}/")


def test_return_comments_read_with_field_labels(users, client_for, submitted):
    services.filing_return(
        actor=users["cd_regulator"],
        filing=submitted,
        comments={"staff_count": "请核实", "fin_balance": "偏高"},
        note="请更正后重报",
    )
    message = Notification.objects.get(
        user=users["cd_filer"], title=store(Message("%(p)s 季度报表被退回", p="2025年第2季度"))
    )
    assert message.body == "请更正后重报\n从业人员数：请核实\n融资担保在保余额：偏高"
    body = client_for(users["cd_filer"]).get(f"/reporting/filings/{submitted.pk}/").content.decode()
    assert "<div>从业人员数：请核实</div>" in body and "<div>请更正后重报</div>" in body
    assert "fin_balance：" not in body and "_：" not in body


def test_findings_link_to_their_fields_and_a_format_error_marks_the_field(
    users, client_for, chengdu_institution
):
    history(chengdu_institution, users)
    c = client_for(users["cd_filer"])
    post = {**GOOD_Q2, "net_assets": "1"}
    body = c.post("/reporting/file/2025Q2/check/", post).content.decode()
    assert '<a href="#f-net_assets" class="finding-link' in body
    body = c.post("/reporting/file/2025Q2/check/", {**GOOD_Q2, "staff_count": "4x"}).content.decode()
    field = re.search(
        r'<div id="fnd-staff_count" hx-swap-oob="true" class="small">(.*?)</div>', body, re.S
    ).group(1)
    assert 'class="text-danger format-error"' in field and "从业人员数（staff_count）应为数字" in field
    assert '<a href="#f-staff_count" class="link-danger">' in body
    detail = c.get(f"/reporting/filings/{Filing.objects.get(year=2025, quarter=1).pk}/").content.decode()
    assert '<tr id="f-staff_count"' in detail


def test_filer_explains_warnings_with_the_draft_and_the_approver_submits(
    users, client_for, chengdu_institution
):
    history(chengdu_institution, users)
    values = {**GOOD_Q2, "controller_guarantee_balance": "100"}  # BND-31, a warning
    filer = client_for(users["cd_filer"])
    form = filer.get("/reporting/file/2025Q2/").content.decode()
    assert 'name="exp_BND-31"' not in form  # no warning yet
    filer.post("/reporting/file/2025Q2/", values)
    form = filer.get("/reporting/file/2025Q2/").content.decode()
    assert '<textarea class="form-control form-control-sm" rows="2" id="exp_BND-31" name="exp_BND-31"' in form
    filer.post("/reporting/file/2025Q2/", {**values, "exp_BND-31": "2019年存量业务，2025年9月到期解除"})
    filing = Filing.objects.get(institution=chengdu_institution, year=2025, quarter=2)
    assert filing.current_version.explanations == {"BND-31": "2019年存量业务，2025年9月到期解除"}
    approver = client_for(users["cd_approver"])
    detail = approver.get(f"/reporting/filings/{filing.pk}/").content.decode()
    assert "2019年存量业务，2025年9月到期解除</textarea>" in detail
    approver.post(
        f"/reporting/filings/{filing.pk}/submit/", {"exp_BND-31": "2019年存量业务，2025年9月到期解除"}
    )
    filing.refresh_from_db()
    assert filing.status == "submitted"
    assert filing.current_version.explanations == {"BND-31": "2019年存量业务，2025年9月到期解除"}


def test_review_of_an_amendment_compares_with_the_accepted_version(
    users, client_for, chengdu_institution, submitted
):
    services.filing_accept(actor=users["cd_regulator"], filing=submitted)
    services.filing_amend(actor=users["cd_filer"], filing=submitted, reason="更正最大单一客户责任余额")
    services.filing_save_draft(
        actor=users["cd_filer"],
        institution=chengdu_institution,
        period=Q2,
        values={"top1_client_liability": "3800"},
        merge=True,
    )
    services.filing_submit(actor=users["cd_approver"], filing=submitted)
    body = client_for(users["cd_regulator"]).get(f"/reporting/review/{submitted.pk}/").content.decode()
    panel = re.search(
        r'<div class="card border-0 shadow-sm mb-3" id="amendment-comparison">.*?</div></div>', body, re.S
    ).group(0)
    assert "第 2 版与被更正的已受理第 1 版对比" in panel
    cells = re.findall(
        r'<tr><td><a href="#f-(\w+)">([^<]+)</a></td><td class="num text-secondary">([^<]+)</td><td class="num fw-semibold">([^<]+)</td></tr>',
        panel,
    )
    assert cells == [("top1_client_liability", "最大单一客户融资担保责任余额", "3,000.00", "3,800.00")]
    indicators = re.findall(
        r'<tr><td>([^<]+)</td><td class="num text-secondary">', panel.split("监管指标</th>")[1]
    )
    assert indicators == ["单一客户集中度"]
    first = client_for(users["cd_regulator"]).get(f"/reporting/filings/{submitted.pk}/?v=1").content.decode()
    assert "amendment-comparison" in first  # the panel compares the current version wherever it shows


def test_change_history_reads_without_internal_values(users, client_for, submitted):
    services.filing_return(actor=users["cd_regulator"], filing=submitted, comments={"_": "请核实"})
    body = client_for(users["cd_filer"]).get(f"/reporting/filings/{submitted.pk}/").content.decode()
    history = body[body.index("变更历史") :]
    assert (
        '<th scope="row" class="text-secondary fw-normal" style="width:30%">状态</th><td><del class="text-danger">已报送</del> → <span class="text-success">已退回</span>'
        in history
    )
    for internal in ("请求编号", "current_version", "values_hash", "updated_at", ">status<"):
        assert internal not in history


def test_completeness_overdue_apart_from_late_by_city_and_drill_down(
    users, client_for, chengdu_institution, mianyang_institution
):
    import datetime as dt
    import json

    from django.utils import timezone

    from reporting.models import Filing

    # Chengdu filed late (after the due date), Mianyang has not filed and is past due: overdue, not "late"
    f = file_and_submit(
        chengdu_institution, Q2, GOOD_Q2, maker=users["cd_filer"], checker=users["cd_approver"]
    )
    Filing.objects.filter(pk=f.pk).update(first_submitted_at=timezone.make_aware(dt.datetime(2025, 8, 1)))
    c = client_for(users["sc_regulator"])
    response = c.get("/reporting/completeness/?period=2025Q2")
    counts = response.context["counts"]
    assert (counts["late"], counts["overdue"], counts["missing"]) == (1, 1, 1)
    by_city = {
        r["name"]: (r["obliged"], r["filed"], r["missing"], r["overdue"], r["late"])
        for r in response.context["by_city"]
    }
    assert by_city == {"成都市": (1, 1, 0, 0, 1), "绵阳市": (1, 0, 1, 1, 0)}
    chart = json.loads(
        re.search(
            r'<script id="completeness-data" type="application/json">(.*?)</script>',
            response.content.decode(),
        ).group(1)
    )
    assert {r["name"]: r["url"] for r in chart}["逾期未报"] == "?period=2025Q2&state=overdue"
    rows = c.get("/reporting/completeness/?period=2025Q2&state=overdue").context["page"].object_list
    assert [r["institution"].name for r in rows] == [mianyang_institution.name]
    rows = c.get("/reporting/completeness/?period=2025Q2&city=510100&state=filed").context["page"].object_list
    assert [r["institution"].name for r in rows] == [chengdu_institution.name]
    assert (
        client_for(users["cd_regulator"]).get("/reporting/completeness/?period=2025Q2").context["by_city"]
        == []
    )  # one city


def test_completeness_counts_an_institution_from_the_quarter_its_licence_took_effect(
    users, client_for, chengdu_institution, mianyang_institution
):
    import datetime as dt

    from institutions.models import Licence
    from tests.factories import InstitutionFactory

    # licensed on 2025-05-20, mid-way through Q2: obliged from Q2 on, never for Q1
    licensed = InstitutionFactory(region_id="510107", level="county", name="成都新设融资担保有限公司")
    Licence.objects.create(
        number="川A990003",
        institution=licensed,
        issuing_authority="四川省地方金融监督管理局",
        issued_on=dt.date(2025, 5, 20),
    )
    # a legacy licence without its date, held by a company founded on 2025-08-15: obliged from Q3 on
    legacy = InstitutionFactory(
        region_id="510704",
        level="county",
        name="绵阳新设融资担保有限公司",
        established_on=dt.date(2025, 8, 15),
    )
    Licence.objects.create(
        number="川B990004", institution=legacy, issuing_authority="四川省地方金融监督管理局", issued_on=None
    )
    file_and_submit(chengdu_institution, Q2, GOOD_Q2, maker=users["cd_filer"], checker=users["cd_approver"])
    c = client_for(users["sc_regulator"])

    def board(period, **drill):
        response = c.get(f"/reporting/completeness/?period={period}")
        counts = response.context["counts"]
        by_city = {
            r["name"]: (r["obliged"], r["filed"], r["missing"], r["overdue"], r["late"])
            for r in response.context["by_city"]
        }
        lists = {
            state: [
                r["institution"].name
                for r in c.get(f"/reporting/completeness/?period={period}&state={state}").context["page"]
            ]
            for state in ("overdue", "missing", "filed")
        }
        return (counts["obliged"], counts["filed"], counts["missing"], counts["overdue"]), by_city, lists

    assert board("2025Q1") == (
        (2, 0, 2, 2),
        {"成都市": (1, 0, 1, 1, 0), "绵阳市": (1, 0, 1, 1, 0)},
        {
            "overdue": ["成都测试融资担保有限公司", "绵阳测试融资担保有限公司"],
            "missing": ["成都测试融资担保有限公司", "绵阳测试融资担保有限公司"],
            "filed": [],
        },
    )
    assert board("2025Q2") == (
        (3, 1, 2, 2),
        {"成都市": (2, 1, 1, 1, 1), "绵阳市": (1, 0, 1, 1, 0)},
        {
            "overdue": ["成都新设融资担保有限公司", "绵阳测试融资担保有限公司"],
            "missing": ["成都新设融资担保有限公司", "绵阳测试融资担保有限公司"],
            "filed": ["成都测试融资担保有限公司"],
        },
    )
    assert board("2025Q3") == (
        (4, 0, 4, 4),
        {"成都市": (2, 0, 2, 2, 0), "绵阳市": (2, 0, 2, 2, 0)},
        {
            "overdue": [
                "成都测试融资担保有限公司",
                "成都新设融资担保有限公司",
                "绵阳测试融资担保有限公司",
                "绵阳新设融资担保有限公司",
            ],
            "missing": [
                "成都测试融资担保有限公司",
                "成都新设融资担保有限公司",
                "绵阳测试融资担保有限公司",
                "绵阳新设融资担保有限公司",
            ],
            "filed": [],
        },
    )
    # the Mianyang city drill-down lists the company only from the quarter it was founded in
    for period, names in (
        ("2025Q2", ["绵阳测试融资担保有限公司"]),
        ("2025Q3", ["绵阳测试融资担保有限公司", "绵阳新设融资担保有限公司"]),
    ):
        rows = c.get(f"/reporting/completeness/?period={period}&city=510700").context["page"]
        assert [r["institution"].name for r in rows] == names


def test_the_page_of_a_filing_awaiting_review_reloads_itself_once_it_is_decided(
    users, client_for, submitted, django_assert_num_queries
):
    """While the regulator decides, the page polls a tiny answer (204: nothing changed) instead of
    people reloading the whole page; after the decision the answer tells htmx to reload."""
    c = client_for(users["cd_filer"])
    page = c.get(f"/reporting/filings/{submitted.pk}/").content.decode()
    poll, seconds = re.search(r'hx-get="([^"]+)" hx-trigger="every (\d+)s" hx-swap="none"', page).groups()
    assert seconds == "15"  # FILING_POLL_SECONDS
    submitted.refresh_from_db()
    assert poll == f"/reporting/filings/{submitted.pk}/changed/?since={submitted.revision}"
    assert "等待审核；有审核结果时本页自动刷新。" in page
    with django_assert_num_queries(3):  # session, user, the filing's status
        unchanged = c.get(poll)
    assert (unchanged.status_code, unchanged.content, unchanged.has_header("HX-Refresh")) == (204, b"", False)
    # another company and another province's regulator: not found, as the page itself
    for other in ("my_filer", "zj_regulator"):
        assert client_for(users[other]).get(poll).status_code == 404
    services.filing_accept(actor=users["cd_regulator"], filing=submitted)
    decided = c.get(poll)
    assert (decided.status_code, decided["HX-Refresh"]) == (200, "true")
    # the accepted filing's page no longer polls
    assert "/changed/" not in c.get(f"/reporting/filings/{submitted.pk}/").content.decode()
