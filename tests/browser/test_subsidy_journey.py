"""The subsidy journey in a real browser: a company applies for the Banan fee subsidy (the amount computed
from its loan-level guarantees), its approver submits, the district finance bureau's first reviewer (初审)
and a second officer (复核) approve, the company sees the decision, and the public list shows it once
published. Every page passes axe-core and is screenshotted (conftest)."""

from decimal import Decimal

import pytest

from subsidies.models import Application

from .world import subsidy_company_and_officers

pytestmark = pytest.mark.django_db(transaction=True)


def test_company_applies_first_and_second_reviewer_approve(visit):
    inst, users = subsidy_company_and_officers()

    # The filer: the scheme with its estimate (1.50 + 0.246575… rounded once), then the draft.
    filer = visit("b_bn_filer")
    filer.go("/subsidies/?year=2025", "schemes")
    card = filer.text(".card:has-text('巴南区融资担保费补贴')")
    assert "预计金额 1.75 万元" in card and "2 / 3 笔业务符合条件" in card
    filer.click("form[action='/subsidies/schemes/banan-fee-subsidy/apply/'] button", "draft")
    application = Application.objects.get(institution=inst)
    assert (application.status, application.year, application.computed_amount) == (
        "draft",
        2025,
        Decimal("1.75"),
    )
    assert "已生成申请草稿" in filer.text()
    assert (
        filer.text("#submit-hint") == "核对无误后，由本机构审核人/负责人登录申报。"
    )  # the filer cannot submit
    assert "2025" in filer.text("h1")
    # each line says which subsidy line paid it, or why none did, in one language
    lines = [
        [cell.strip() for cell in row.split("\t")]
        for row in filer.page.locator("table tbody tr").all_inner_texts()
    ]
    assert [(r[1], r[2], r[3], r[4], r[5], r[6]) for r in lines] == [
        ("✔", "农村线（费率≤1%，补贴1个百分点）", "180", "50.00", "1.00%", "0.246575"),
        ("✔", "一般线（费率≤2%，补贴0.5个百分点）", "365", "300.00", "0.50%", "1.500000"),
        (
            "✘",
            "一般线（费率≤2%，补贴0.5个百分点）：费率2.1%高于2%；农村线（费率≤1%，补贴1个百分点）：业务品种不符；"
            "农村线（费率≤1%，补贴1个百分点）：费率2.1%高于1%",
            "365",
            "300.00",
            "",
            "0.000000",
        ),
    ]

    # The approver: the draft waits in the inbox; submits it.
    approver = visit("b_bn_approver")
    approver.go("/inbox/", "inbox")
    approver.click("text=补贴申请草稿待申报", "applications")
    approver.click(f"a[href='/subsidies/applications/{application.pk}/']", "draft")
    approver.click("form[action$='/submit/'] button", "submitted")
    application.refresh_from_db()
    assert application.status == "submitted"

    # The first reviewer (初审) of the district finance bureau.
    reviewer = visit("b_bn_fin1")
    reviewer.go("/inbox/", "inbox")
    reviewer.click("text=补贴申请待初审", "workbench")
    reviewer.click(f"a[href='/subsidies/applications/{application.pk}/']", "application")
    reviewer.page.fill("#rnote", "业务明细与合同一致")
    reviewer.click("button[formaction$='/review/']", "reviewed")
    application.refresh_from_db()
    assert (application.status, application.reviewed_by.username) == ("reviewed", "b_bn_fin1")
    assert "初审已通过，等待复核" in reviewer.text()
    assert reviewer.page.locator("button[formaction$='/approve/']").count() == 0  # not the same officer

    # The second reviewer (复核): the amount proposed is the computed one; approves it unchanged.
    decider = visit("b_bn_fin2")
    decider.go("/inbox/", "inbox")
    decider.click("text=补贴申请待复核", "workbench")
    queued = decider.page.locator("h2:has-text('待办') + .card tbody tr").all_inner_texts()
    assert [row.split("\t")[0].strip() for row in queued] == [f"#{application.pk}"]  # and no "没有申请"
    decider.click(f"a[href='/subsidies/applications/{application.pk}/']", "application")
    assert decider.page.input_value("#amount") == "1.75"
    decider.click("button[formaction$='/approve/']", "approved")
    application.refresh_from_db()
    assert (application.status, application.approved_amount, application.decided_by.username) == (
        "approved",
        Decimal("1.75"),
        "b_bn_fin2",
    )

    # The company sees the decision on its list and on the application, with who did what.
    filer.go("/subsidies/applications/", "applications-approved")
    assert (
        filer.page.inner_text(f"tr:has(a[href='/subsidies/applications/{application.pk}/']) .badge")
        == "已复核"
    )
    filer.click(f"a[href='/subsidies/applications/{application.pk}/']", "application-approved")
    assert filer.text(".fs-5 .badge") == "已复核"
    cards = filer.page.locator(".card-body:has(.fs-4)").all_inner_texts()
    assert [c.split("\n") for c in cards] == [
        ["测算金额（万元）", "1.75"],
        ["核定金额（万元）", "1.75"],
        ["应拨付金额（万元）", "1.75", "尚未拨付"],  # approved, not paid: never "拨付金额" alone
    ]
    steps = filer.page.locator("ul.list-group li strong").all_inner_texts()
    assert steps == ["草稿", "已申报", "已初审", "已复核"]

    # Published for the statutory days: the public list shows it.
    decider.click("form[action$='/publish/'] button", "published")
    public = visit(None)
    public.go("/subsidies/publicity/", "publicity")
    row = public.text(f"tr:has-text('{inst.name}')")
    assert "巴南区融资担保费补贴" in row and "1.75" in row
