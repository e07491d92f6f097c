"""The three journeys in a real browser: the quarterly report from filer to approver to regulator
(with a return and an amendment), the regulator's warning case, and the finance bureau's
government-backed list batch. Each page is checked with axe-core and screenshotted (conftest)."""

import datetime as dt

import pytest

from reporting.inbox import filing_period
from reporting.models import Filing
from supervision.models import WarningCase

from .world import GOOD_Q2, history_before, people_and_institution

pytestmark = pytest.mark.django_db(transaction=True)


def test_filer_approver_regulator_with_return_and_amendment(visit, settings):
    inst, users = people_and_institution()
    period = filing_period()
    history_before(inst, users, period)

    # The filer: the quarter due is in the inbox and on the home page; the form is filled and saved.
    filer = visit("b_filer")
    page = filer.check("home")
    assert f"{period.label} 季度报表待填报" in filer.text()
    filer.click(f"text={period.label} 季度报表待填报", "form")
    for code, value in GOOD_Q2.items():
        page.fill(f"#f-{code}", value)
    filer.click("#filing-form button[type=submit]", "saved")
    assert "草稿已保存" in filer.text()
    filing = Filing.objects.get(institution=inst, year=period.year, quarter=period.quarter)

    # The approver: the draft waits in the inbox; submits it.
    approver = visit("b_approver")
    approver.go("/inbox/", "inbox")
    approver.click(f"text={period.label} 季度报表草稿待审核报送", "filing")
    approver.click("text=确认报送", "submitted")
    filing.refresh_from_db()
    assert filing.status == "submitted"
    # the filing's page waits for the decision, asking every FILING_POLL_SECONDS whether it came
    settings.FILING_POLL_SECONDS = 1
    approver.go(f"/reporting/filings/{filing.pk}/", "awaiting-review")
    assert "等待审核；有审核结果时本页自动刷新。" in approver.text()

    # The regulator: told of the submission, reviews and returns it with a comment on one field.
    regulator = visit("b_cd_reg")
    page = regulator.check("home")
    # three submissions so far (two quarters of history and this one): three unread messages
    assert page.inner_text("nav .nav-link:has-text('消息') .nav-count").split()[0] == "3"
    regulator.go("/reporting/notifications/", "messages")
    regulator.go("/inbox/", "inbox")
    regulator.click("text=1 份季度报表待审核", "queue")
    regulator.click(f"a[href='/reporting/review/{filing.pk}/']", "review")
    page.fill("input[name=cmt_staff_count]", "从业人员数与社保缴纳人数不符，请核实")
    page.fill("#note", "请核实后重报")
    regulator.click("button[value=return]", "returned")
    filing.refresh_from_db()
    assert filing.status == "returned"
    # the approver's page, left open, reloaded by itself with the return
    approver.page.wait_for_selector("text=退回意见", timeout=10_000)
    approver.check("reloaded-returned")
    assert "请核实后重报" in approver.text()

    # The filer corrects the field the regulator marked; the approver submits version 2.
    filer.go("/", "home-returned")
    assert f"{period.label} 季度报表被退回，请修改后重新报送" in filer.text()
    filer.click(f"text={period.label} 季度报表被退回，请修改后重新报送", "form-returned")
    assert "从业人员数与社保缴纳人数不符" in filer.text()
    filer.page.fill("#f-staff_count", "41")
    filer.click("#filing-form button[type=submit]", "saved-v2")
    approver.go("/inbox/", "inbox-v2")
    approver.click(f"text={period.label} 季度报表草稿待审核报送", "filing-v2")
    approver.click("text=确认报送", "submitted-v2")

    # The regulator accepts version 2.
    regulator.go(f"/reporting/review/{filing.pk}/", "review-v2")
    regulator.click("button[value=accept]", "accepted")
    filing.refresh_from_db()
    assert (filing.status, filing.current_version.number) == ("accepted", 2)

    # An amendment after acceptance: the filer gives the reason and corrects; the approver submits;
    # the regulator's inbox says it is an amendment, and accepts it.
    filer.go(f"/reporting/filings/{filing.pk}/", "accepted-filing")
    filer.page.fill("textarea[name=reason]", "从业人员数更正")
    filer.click("text=更正（生成新版本）", "amendment-form")
    filer.page.fill("#f-staff_count", "42")
    filer.click("#filing-form button[type=submit]", "saved-v3")
    approver.go("/inbox/", "inbox-v3")
    approver.click(f"text={period.label} 季度报表草稿待审核报送", "filing-v3")
    approver.click("text=确认报送", "submitted-v3")
    regulator.go("/inbox/", "inbox-amendment")
    assert "1 份季度报表待审核（其中更正 1 份）" in regulator.text()
    regulator.go(f"/reporting/review/{filing.pk}/", "review-amendment")
    regulator.click("button[value=accept]", "accepted-amendment")
    filing.refresh_from_db()
    assert (filing.status, filing.current_version.number) == ("accepted", 3)
    assert filing.current_version.values["staff_count"] == "42"


def test_regulator_takes_a_warning_case_and_a_filer_on_a_phone(visit):
    from supervision.services.compute import institution_indicators_compute
    from tests.supervision.factories import HIGH_CONCENTRATION, make_filing

    inst, users = people_and_institution()
    make_filing(inst, 2025, 1, **HIGH_CONCENTRATION)
    institution_indicators_compute(institution_id=inst.pk)
    case = WarningCase.objects.get(institution=inst)

    assert (case.status, case.assigned_to.username) == ("open", "b_cd_reg")  # the nearest regulator

    regulator = visit("b_cd_reg")
    regulator.go("/inbox/", "inbox")
    assert "1 件预警由您承办" in regulator.text()
    regulator.click("text=1 件预警由您承办", "warnings")
    regulator.click(f"a[href='/supervision/warnings/{case.pk}/']", "case")
    regulator.click("form:has(input[value=acknowledge]) button", "acknowledged")
    case.refresh_from_db()
    assert case.status == "acknowledged"
    regulator.page.fill("form:has(input[value=close]) textarea", "已约谈，集中度已压降")
    regulator.click("form:has(input[value=close]) button", "closed")
    case.refresh_from_db()
    assert case.status == "closed"

    # Any screen: the filer at phone width opens the off-canvas menu and the form works.
    filer = visit("b_filer", width=390)
    page = filer.check("home-phone")
    assert not page.is_visible("#portal-nav .nav-link >> nth=0")
    page.click("button[aria-controls=portal-nav]")
    page.wait_for_selector("#portal-nav.show")
    filer.check("menu-open-phone")
    assert page.is_visible("#portal-nav a:has-text('待办')")
    filer.go(f"/reporting/file/{filing_period()}/", "form-phone")
    page.evaluate("document.querySelector('#f-staff_count').scrollIntoView()")
    filer.check("form-phone-field", full_page=False)
    width = page.eval_on_selector("#f-staff_count", "e => e.getBoundingClientRect().width")
    assert width >= 150, width


def test_finance_bureau_proposes_a_batch_the_regulator_sends_back_then_confirms(visit):
    inst, users = people_and_institution()
    title = "2026年第一批政府性融资担保机构名单"
    finance = visit("b_sc_fin")
    page = finance.go("/govlist/", "govlist")
    page.fill("#id_title", title)  # no date yet: it is added on the batch page
    finance.click("form:has(#id_title) button", "batch")
    page.fill("input[aria-controls=id_institution]", "浏览器测试")  # the searchable picker
    page.select_option("#id_institution", label=inst.name)
    page.check("#id_capital_replenishment")
    finance.click("form:has(input[value=entry]) button", "entry")
    page.fill("form:has(input[value=edit]) #id_published_on", dt.date.today().isoformat())
    finance.click("form:has(input[value=edit]) button", "dated")
    finance.click("form:has(input[value=propose]) button", "proposed")
    assert "等待另一方" in finance.text()

    regulator = visit("b_sc_reg")
    regulator.go("/inbox/", "inbox")
    regulator.click(f"text=名单批次“{title}”待确认", "batch")
    regulator.page.fill("#send-back-reason", "请补充风险补偿机制")
    regulator.click("form:has(input[value=send_back]) button", "sent-back")

    finance.go("/inbox/", "inbox")
    finance.click(f"text=名单批次“{title}”草拟中，待提交确认", "batch-returned")
    page.select_option("#id_institution", label=inst.name)
    page.check("#id_capital_replenishment")
    page.check("#id_risk_compensation")
    finance.click("form:has(input[value=entry]) button", "entry-2")
    finance.click("form:has(input[value=propose]) button", "proposed-2")
    regulator.go("/inbox/", "inbox-2")
    regulator.click(f"text=名单批次“{title}”待确认", "batch-2")
    regulator.click("form:has(input[value=confirm]) button", "confirmed")

    public = visit(None)
    public.go("/public/govlist/", "public-list")
    assert inst.name in public.text()
