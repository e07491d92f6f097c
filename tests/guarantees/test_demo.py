"""The demo's records agree with the filed report they were drawn for (report_fields), field by field."""

import datetime as dt

import pytest

from guarantees.demo import PERIOD_END, records_for
from guarantees.selectors import report_fields
from institutions.models import Bank
from reporting.demo import demo_periods, series

from .helpers import load

pytestmark = pytest.mark.django_db

CHECKED = (
    "loan_balance",
    "fin_inforce_count",
    "fin_inforce_clients",
    "small_micro_balance",
    "farmer_small_micro_balance",
    "loan_small_micro_le5m",
    "top1_client_liability",
    "top10_clients_liability",
    "top1_group_liability",
    "batch_zdz_balance",
)


def test_demo_records_reproduce_the_filed_fields(users, chengdu_institution):
    banks = [Bank.objects.create(name=f"演示银行{i}").name for i in range(3)]
    values = series("demo-test", 60000, liability_on=lambda v, day: 0)[demo_periods()[-1]]
    assert demo_periods()[-1].end == PERIOD_END
    rows = records_for(values, region="510104", seed=7, banks=banks)
    events = [
        {
            "contract_no": r["contract_no"],
            "kind": "解保",
            "occurred_on": r["_release_on"],
            "amount": str(r["_released"]),
        }
        for r in rows
        if r["_released"]
    ]
    for r in rows:
        del r["_released"], r["_release_on"]
    batch, result = load(users["cd_filer"], chengdu_institution, rows, events, confirm=True)
    assert (batch.status, result.errors) == ("committed", [])
    derived = report_fields(
        user=users["admin"], institution=chengdu_institution, period_end=dt.date(2026, 9, 30)
    )
    assert {k: str(derived[k]) for k in CHECKED} == {k: values[k] for k in CHECKED}
