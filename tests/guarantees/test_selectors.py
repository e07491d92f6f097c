"""Balances in force on a date, the report fields derived from the records (against a hand computation),
and who sees which rows."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from core.exceptions import AppError
from guarantees import selectors
from guarantees.models import Client, Guarantee, GuaranteeEvent, ImportBatch

from .helpers import ABC, event_row, guarantee_row, load, org_code, person_id, person_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_guarantee(banks, chengdu_institution, users):
    """100万 from 2025-01-10; 30 released on 2025-04-01; the remaining 70 compensated on 2025-07-15."""
    load(
        users["cd_filer"],
        chengdu_institution,
        [guarantee_row(2, contract_no="G", start_date="2025-01-10", end_date="2025-12-31")],
        [
            event_row(2, contract_no="G", kind="解保", occurred_on="2025-04-01", amount="30"),
            event_row(3, contract_no="G", kind="代偿", occurred_on="2025-07-15", amount="70", interest="3"),
            event_row(4, contract_no="G", kind="追偿", occurred_on="2025-08-01", amount="10"),
        ],
    )


@pytest.mark.parametrize(
    "on, balance",
    [
        (dt.date(2025, 1, 9), None),  # not started
        (dt.date(2025, 1, 10), Decimal("100.00")),
        (dt.date(2025, 3, 31), Decimal("100.00")),
        (dt.date(2025, 4, 1), Decimal("70.00")),  # released on the day
        (dt.date(2025, 7, 14), Decimal("70.00")),
        (dt.date(2025, 7, 15), None),  # compensated: the liability became a receivable
        (dt.date(2025, 8, 1), None),  # a recovery does not bring the guarantee back
    ],
)
def test_balance_in_force_around_release_and_compensation(one_guarantee, users, on, balance):
    rows = list(
        selectors.guarantee_balances(user=users["cd_filer"], on=on).values_list("contract_no", "balance")
    )
    assert rows == ([("G", balance)] if balance is not None else [])


def test_balances_per_institution(banks, chengdu_institution, mianyang_institution, users):
    load(
        users["cd_filer"],
        chengdu_institution,
        [guarantee_row(2), guarantee_row(3, contract_no="B", guaranteed_amount="40")],
        [event_row(2, contract_no="B", amount="15", occurred_on="2025-05-01")],
    )
    load(users["my_filer"], mianyang_institution, [person_row(2, bank=ABC, guaranteed_amount="60")])
    on = dt.date(2025, 6, 30)
    assert list(selectors.institution_balances(user=users["sc_regulator"], on=on)) == [
        {
            "institution_id": chengdu_institution.pk,
            "balance": Decimal("125.00"),
            "guarantees": 2,
            "clients": 1,
        },
        {
            "institution_id": mianyang_institution.pk,
            "balance": Decimal("60.00"),
            "guarantees": 1,
            "clients": 1,
        },
    ]
    assert [
        r["institution_id"] for r in selectors.institution_balances(user=users["my_regulator"], on=on)
    ] == [mianyang_institution.pk]


def test_the_regulator_groups_one_borrower_across_institutions(
    banks, chengdu_institution, mianyang_institution, users
):
    shared_firm, shared_person = org_code(50, "510703"), person_id(9)
    load(
        users["cd_filer"],
        chengdu_institution,
        [
            guarantee_row(2, credit_code=shared_firm, region_code="510703"),
            person_row(3, n=9, contract_no="P1", guaranteed_amount="20"),
            guarantee_row(4, contract_no="ALONE", credit_code=org_code(51)),
        ],
    )
    load(
        users["my_filer"],
        mianyang_institution,
        [
            guarantee_row(
                2, credit_code=shared_firm, region_code="510703", bank=ABC, guaranteed_amount="300"
            ),
            person_row(3, n=9, contract_no="P2", client_name="张三", bank=ABC, guaranteed_amount="15"),
        ],
    )
    on = dt.date(2025, 6, 30)
    shared = list(selectors.shared_borrowers(user=users["sc_regulator"], on=on))
    person_key = Client.objects.filter(id_kind="resident_id").values_list("id_key", flat=True).first()
    assert shared == [
        {
            "client__id_kind": "credit_code",
            "client__id_key": shared_firm,
            "last4": "",
            "institutions": 2,
            "guarantees": 2,
            "balance": Decimal("400.00"),
        },
        {
            "client__id_kind": "resident_id",
            "client__id_key": person_key,
            "last4": shared_person[-4:],
            "institutions": 2,
            "guarantees": 2,
            "balance": Decimal("35.00"),
        },
    ]
    # A company sees its own books only: nobody is shared within them.
    assert list(selectors.shared_borrowers(user=users["cd_filer"], on=on)) == []


def portfolio() -> tuple[list[dict], list[dict]]:
    """Seven guarantees of one institution; the expected fields for 2025Q2 are computed by hand in
    test_report_fields_match_a_hand_computation."""
    a = dict(client_name="甲公司", client_type="小微企业", credit_code=org_code(1), group_name="甲集团")
    b = dict(client_name="乙商行", client_type="个体工商户", credit_code=org_code(2), group_name="甲集团")
    c = dict(client_name="丙", client_type="农户", credit_code="", id_number=person_id(3))
    d = dict(client_name="丁公司", client_type="其他", credit_code=org_code(4))
    e = dict(client_name="戊", client_type="农户", credit_code="", id_number=person_id(5))

    def g(row, contract, amount, start, end, fee, client, **more):
        return guarantee_row(
            row,
            contract_no=contract,
            guaranteed_amount=amount,
            loan_amount=amount,
            start_date=start,
            end_date=end,
            fee_amount=fee,
            fee_rate="0.015",
            **client,
            **more,
        )

    guarantees = [
        g(2, "G1", "400", "2024-03-01", "2025-03-01", "8", a),
        g(3, "G2", "200", "2025-02-01", "2026-02-01", "3", a),
        g(4, "G3", "450", "2025-04-01", "2025-09-28", "4.5", b, batch_zdz="是"),
        g(5, "G4", "150", "2024-07-01", "2025-07-01", "1.5", c),
        g(6, "G5", "600", "2025-01-15", "2026-01-15", "9", d),
        g(7, "G6", "250", "2023-06-01", "2024-06-01", "5", e),
        g(8, "G7", "80", "2025-07-05", "2026-07-05", "1", c),  # starts after the quarter
    ]
    events = [
        event_row(2, contract_no="G1", kind="解保", occurred_on="2024-09-01", amount="150"),
        event_row(3, contract_no="G1", kind="解保", occurred_on="2025-03-01", amount="250"),
        event_row(4, contract_no="G4", kind="代偿", occurred_on="2025-05-20", amount="50", interest="2"),
        event_row(5, contract_no="G4", kind="追偿", occurred_on="2025-06-10", amount="10"),
        event_row(6, contract_no="G4", kind="核销", occurred_on="2025-06-20", amount="5"),
        event_row(7, contract_no="G6", kind="代偿", occurred_on="2024-06-15", amount="250", interest="5"),
        event_row(8, contract_no="G6", kind="追偿", occurred_on="2024-12-01", amount="30"),
        event_row(9, contract_no="G6", kind="追偿", occurred_on="2025-03-10", amount="20"),
        event_row(
            10, contract_no="G1", kind="解保", occurred_on="2025-07-02", amount="1"
        ),  # after the quarter
    ]
    return guarantees, events


def test_report_fields_match_a_hand_computation(banks, chengdu_institution, users):
    guarantees, events = portfolio()
    _batch, result = load(users["cd_filer"], chengdu_institution, guarantees, events)
    assert result.findings == []
    fields = selectors.report_fields(
        user=users["cd_filer"], institution=chengdu_institution, period_end=dt.date(2025, 6, 30)
    )
    # In force at 2025-06-30: G2 200 (甲), G3 450 (乙), G4 150 − 50 compensated = 100 (丙), G5 600 (丁).
    # G1 was released in full on 2025-03-01, G6 compensated in 2024, G7 starts in July.
    # On 2024-12-31: G1 400 − 150 = 250 and G4 150 → 400.
    # New this year: G2 200 (365 days), G3 450 (180 days), G5 600 (365 days) → 1250;
    # annualised 200 + 450 × 180/365 + 600 = 1021.9178…; ≤ 500万 per client: 甲 200, 乙 450 → 421.9178…
    assert {k: v for k, v in fields.items() if k != "average_fee_rate"} == {
        "fin_balance_opening": Decimal("400.00"),
        "fin_new": Decimal("1250.00"),
        "fin_released": Decimal("300.00"),  # G1 release 250 + G4 compensated principal 50
        "fin_balance": Decimal("1350.00"),  # = 400 + 1250 − 300
        "loan_balance": Decimal("1350.00"),
        "loan_small_micro_le5m": Decimal("650.00"),  # 甲 200 + 乙 450, each ≤ 500
        "loan_farmer_le2m": Decimal("100.00"),  # 丙 100 ≤ 200
        "fin_inforce_count": 4,
        "fin_inforce_clients": 4,
        "small_micro_balance": Decimal("650.00"),  # small/micro incl. the individual business
        "farmer_small_micro_balance": Decimal("750.00"),
        "farmer_small_micro_clients": 3,
        "new_single_le5m": Decimal("650.00"),
        "new_single_le10m": Decimal("1250.00"),
        "annualized_new_amount": Decimal("1021.92"),
        "annualized_new_amount_le5m": Decimal("421.92"),
        "fee_new_le5m": Decimal("7.50"),  # 3 + 4.5
        "annualized_new_amount_gt5m": Decimal("600.00"),
        "fee_new_gt5m": Decimal("9.00"),
        "compensation": Decimal("52.00"),  # G4 50 + interest 2
        "compensation_count": 1,
        "compensation_balance_opening": Decimal("225.00"),  # G6 255 − recovered 30
        "recovery": Decimal("30.00"),  # G4 10 + G6 20
        "loss_writeoff": Decimal("5.00"),
        "compensation_cumulative": Decimal("307.00"),  # 255 + 52
        "released_cumulative": Decimal("700.00"),  # releases 150 + 250, compensated 250 + 50
        "top1_client_liability": Decimal("600.00"),  # 丁
        "top1_group_liability": Decimal("650.00"),  # 甲集团: 甲 200 + 乙 450
        "top10_clients_liability": Decimal("1350.00"),
        "batch_zdz_balance": Decimal("450.00"),
    }
    # 16.5 / (373000 / 365) = 6022.5 / 373000, exactly as a fraction
    assert fields["average_fee_rate"].quantize(Decimal("1e-20")) == (Decimal("6022.5") / 373000).quantize(
        Decimal("1e-20")
    )
    assert list(fields) == [*selectors.DERIVED_FIELDS, "average_fee_rate"]


def test_without_new_business_the_fee_rate_is_undefined(banks, chengdu_institution, users):
    load(users["cd_filer"], chengdu_institution, [guarantee_row(2, start_date="2024-05-01")])
    fields = selectors.report_fields(
        user=users["cd_filer"], institution=chengdu_institution, period_end=dt.date(2025, 3, 31)
    )
    assert (fields["average_fee_rate"], fields["annualized_new_amount"], fields["fin_balance"]) == (
        None,
        Decimal("0.00"),
        Decimal("100.00"),
    )


@pytest.fixture
def two_companies(banks, chengdu_institution, mianyang_institution, users):
    load(users["cd_filer"], chengdu_institution, [guarantee_row(2)], [event_row(2)])
    load(users["my_filer"], mianyang_institution, [guarantee_row(2, bank=ABC)], [event_row(2)])
    return {chengdu_institution.pk: "chengdu", mianyang_institution.pk: "mianyang"}


@pytest.mark.parametrize(
    "user, sees",
    [
        ("admin", {"chengdu", "mianyang"}),
        ("sc_regulator", {"chengdu", "mianyang"}),
        ("sc_finance", {"chengdu", "mianyang"}),
        ("cd_regulator", {"chengdu"}),  # city 510100: Chengdu's counties, not Mianyang
        ("cd_finance", {"chengdu"}),
        ("my_regulator", {"mianyang"}),
        ("cd_filer", {"chengdu"}),  # a company: its own rows only
        ("cd_approver", {"chengdu"}),
        ("my_filer", {"mianyang"}),
        ("zj_regulator", set()),  # another province
        ("anonymous", set()),
    ],
)
def test_tenant_isolation_of_every_queryset(two_companies, users, user, sees):
    who = AnonymousUser() if user == "anonymous" else users[user]
    querysets = {
        "clients": Client.objects.for_user(who).values_list("institution_id", flat=True),
        "guarantees": Guarantee.objects.for_user(who).values_list("institution_id", flat=True),
        "events": GuaranteeEvent.objects.for_user(who).values_list("guarantee__institution_id", flat=True),
        "batches": ImportBatch.objects.for_user(who).values_list("institution_id", flat=True),
        "in force": selectors.guarantee_balances(user=who, on=dt.date(2025, 6, 30)).values_list(
            "institution_id", flat=True
        ),
    }
    for name, ids in querysets.items():
        assert {two_companies[i] for i in ids} == sees, name
    assert len(Guarantee.objects.for_user(who)) == len(sees)


def test_report_fields_of_an_institution_out_of_sight_are_refused(two_companies, mianyang_institution, users):
    for name in ("cd_filer", "cd_regulator", "zj_regulator"):
        with pytest.raises(AppError, match="无权查看该机构的担保业务明细"):
            selectors.report_fields(
                user=users[name], institution=mianyang_institution, period_end=dt.date(2025, 6, 30)
            )
    fields = selectors.report_fields(
        user=users["my_regulator"], institution=mianyang_institution, period_end=dt.date(2025, 6, 30)
    )
    assert (fields["fin_balance"], fields["fin_released"]) == (Decimal("70.00"), Decimal("30.00"))
