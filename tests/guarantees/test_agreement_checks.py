"""Each guarantee under a bank–guarantee agreement against the agreement's terms: every rule with its
edge, on the agreement page and in the API, and who sees them."""

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from guarantees.agreement_checks import agreement_guarantee_findings
from guarantees.models import Guarantee
from institutions.models import Agreement, Bank

from .helpers import ICBC, event_row, guarantee_row, load, org_code

pytestmark = pytest.mark.django_db
ON = dt.date(2025, 6, 30)


@pytest.fixture
def agreement(banks, chengdu_institution):
    return Agreement.objects.create(
        institution=chengdu_institution,
        bank=Bank.objects.get(name=ICBC),
        starts_on=dt.date(2025, 1, 1),
        ends_on=dt.date(2025, 12, 31),
        credit_line=Decimal(10000),
        share_bank=Decimal("0.2"),
        share_guarantor=Decimal("0.5"),
        share_reguarantor=Decimal("0.3"),
        margin_ratio=Decimal("0.1"),
        grace_days=30,
        compensation_scope="principal",
        single_client_limit=Decimal(300),
    )


def row(n, contract, loan, amount, *, client=None, end="2026-01-31", share="0.3", **more):
    return guarantee_row(
        n,
        contract_no=contract,
        loan_amount=loan,
        guaranteed_amount=amount,
        start_date="2025-02-01",
        end_date=end,
        fee_amount="1",
        reguarantee_provincial_share=share,
        credit_code=org_code(client or n),
        client_name=f"客户{client or n}",
        **more,
    )


@pytest.fixture
def under_agreement(agreement, chengdu_institution, users):
    guarantees = [
        row(2, "A1", "100", "80"),  # exactly the 80 % the bank leaves: within
        row(3, "A2", "100", "81"),  # AGR-G3
        row(4, "A3", "100", "50", share=""),  # AGR-G4: no re-guarantee share
        row(5, "A4", "100", "50", end="2025-05-01"),  # AGR-G6: still in force 60 days after its end
        row(6, "A5", "250", "200", client=50),  # AGR-G7 with A6: 350 > 300
        row(7, "A6", "200", "150", client=50),
        row(8, "A7", "100", "50"),  # AGR-G5: interest compensated under a principal-only agreement
        row(9, "A8", "100", "50", end="2025-05-31"),  # the grace ends on 06-30: not yet beyond it
    ]
    events = [
        event_row(2, contract_no="A7", kind="代偿", occurred_on="2025-04-01", amount="50", interest="2")
    ]
    _batch, result = load(users["cd_filer"], chengdu_institution, guarantees, events, confirm=True)
    assert [f for f in result.findings if f.severity == "error"] == []
    assert Guarantee.objects.filter(agreement=agreement).count() == 8


def test_every_rule_against_a_hand_judgement(agreement, under_agreement):
    check = agreement_guarantee_findings(agreement, ON)
    assert [(f.rule_id, f.contract_no) for f in check.findings] == [
        ("AGR-G3", "A2"),
        ("AGR-G4", "A3"),
        ("AGR-G6", "A4"),
        ("AGR-G7", "A5"),
        ("AGR-G7", "A6"),
        ("AGR-G5", "A7"),
    ]
    # in force: 80 + 81 + 50 + 50 + 200 + 150 + 0 (compensated) + 50 = 661; margin 10 %
    assert (check.guarantees, check.balance, check.required_margin) == (
        8,
        Decimal("661.00"),
        Decimal("66.10"),
    )
    g3 = check.findings[0]
    assert g3.message_zh == "担保金额 81.00 万元超过借款金额 100.00 万元扣除银行分担 20.00% 后的 80.00 万元"
    assert check.by_rule == [
        ("AGR-G3", "银行分险比例", 1),
        ("AGR-G4", "再担保分险比例", 1),
        ("AGR-G5", "代偿范围", 1),
        ("AGR-G6", "代偿宽限期", 1),
        ("AGR-G7", "单户上限", 2),
    ]
    # a day later A8's grace has passed too
    assert [
        f.contract_no
        for f in agreement_guarantee_findings(agreement, ON + dt.timedelta(days=1)).findings
        if f.rule_id == "AGR-G6"
    ] == ["A4", "A8"]


def test_term_bank_and_limit_edges(agreement, under_agreement):
    Agreement.objects.filter(pk=agreement.pk).update(
        starts_on=dt.date(2025, 2, 2), single_client_limit=Decimal(350), compensation_scope="all"
    )
    agreement.refresh_from_db()
    check = agreement_guarantee_findings(agreement, ON)
    rules = {(f.rule_id, f.contract_no) for f in check.findings}
    assert ("AGR-G1", "A1") in rules and ("AGR-G7", "A5") not in rules  # 350 ≤ 350
    assert not any(r == "AGR-G5" for r, _ in rules)
    other = Bank.objects.exclude(pk=agreement.bank_id).first()
    Agreement.objects.filter(pk=agreement.pk).update(bank=other)
    agreement.refresh_from_db()
    assert {
        f.contract_no for f in agreement_guarantee_findings(agreement, ON).findings if f.rule_id == "AGR-G2"
    } == {f"A{i}" for i in range(1, 9)}


@pytest.mark.parametrize(
    "name, status",
    [
        ("cd_filer", 200),
        ("cd_regulator", 200),
        ("sc_regulator", 200),
        ("my_filer", 404),
        ("my_regulator", 404),
    ],
)
def test_page_and_api_by_user(agreement, under_agreement, users, client_for, name, status):
    page = client_for(users[name]).get(f"/agreements/{agreement.pk}/")
    assert page.status_code == status
    c = APIClient()
    c.force_authenticate(users[name])
    r = c.get(f"/api/v1/agreements/{agreement.pk}/guarantee-checks/?on=2025-06-30")
    assert r.status_code == status
    if status == 200:
        html = page.content.decode()
        assert "协议项下担保业务逐笔核对" in html and "AGR-G3" in html
        body = r.json()
        assert (body["guarantees"], body["balance"], body["required_margin"]) == (8, "661.00", "66.10")
        assert [f["rule_id"] for f in body["findings"]] == [
            "AGR-G3",
            "AGR-G4",
            "AGR-G6",
            "AGR-G7",
            "AGR-G7",
            "AGR-G5",
        ]
    assert c.get(f"/api/v1/agreements/{agreement.pk}/guarantee-checks/?on=x").status_code in (400, 404)
