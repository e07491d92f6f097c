import datetime as dt
from decimal import Decimal

import pytest

from institutions import services
from institutions.models import Agreement, Bank


@pytest.fixture
def registry_objects(users, chengdu_institution, mianyang_institution):
    """A licence and an agreement for the Chengdu and the Mianyang institution, one bank."""
    bank = Bank.objects.create(name="测试银行股份有限公司")
    out = {"bank": bank}
    for key, inst, number in (
        ("cd", chengdu_institution, "川A100001"),
        ("my", mianyang_institution, "川A100002"),
    ):
        out[f"{key}_licence"] = services.licence_issue(
            actor=None, institution=inst, number=number, issued_on=dt.date(2019, 1, 1)
        )
        out[f"{key}_agreement"] = services.agreement_save(
            actor=None,
            institution=inst,
            bank=bank,
            starts_on=dt.date(2025, 1, 1),
            ends_on=dt.date(2027, 12, 31),
            credit_line=Decimal("50000"),
            share_bank=Decimal("0.2"),
            share_guarantor=Decimal("0.8"),
            compensation_scope="principal_interest",
            grace_days=30,
        )
    return out


def agreement_fields(**over):
    fields = dict(
        bank=None,
        starts_on=dt.date(2025, 1, 1),
        ends_on=dt.date(2027, 12, 31),
        credit_line=Decimal("10000"),
        share_bank=Decimal("0.2"),
        share_guarantor=Decimal("0.4"),
        share_reguarantor=Decimal("0.2"),
        share_national_fund=Decimal("0.2"),
        share_gov_fund=Decimal("0"),
        margin_ratio=Decimal("0"),
        grace_days=30,
        compensation_scope="principal_interest",
        head_to_head=False,
    )
    fields.update(over)
    return fields


__all__ = ["Agreement", "agreement_fields"]
