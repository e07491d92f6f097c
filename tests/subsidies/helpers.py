"""Loan-level records and users for the subsidy tests, written straight through the models (the batch
import is tested in tests/guarantees)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from core.roles import Role
from guarantees.models import Client, Guarantee, GuaranteeEvent, ProductLine
from institutions.choices import ListAction, ListBatchStatus
from institutions.models import GovListBatch, GovListEntry
from tests.factories import InstitutionFactory, UserFactory

_seq = itertools.count(1)


def institution(region: str, **kw):
    level = "county" if not region.endswith("00") else "city"
    return InstitutionFactory(region_id=region, level=level, **kw)


def company_users(inst):
    n = next(_seq)
    filer = UserFactory(username=f"filer{n}", role=Role.FILER, institution=inst)
    approver = UserFactory(username=f"approver{n}", role=Role.APPROVER, institution=inst)
    return filer, approver


def finance(region: str, name: str | None = None):
    return UserFactory(username=name or f"fin{next(_seq)}", role=Role.FINANCE, region_id=region)


def regulator(region: str):
    return UserFactory(username=f"reg{next(_seq)}", role=Role.REGULATOR, region_id=region)


def client(inst, client_type="small_micro"):
    n = next(_seq)
    return Client.objects.create(
        institution=inst,
        name=f"客户{n}",
        client_type=client_type,
        id_kind="credit_code",
        id_key=f"91{n:016d}",
    )


def guarantee(
    inst,
    *,
    amount,
    fee_rate,
    start=dt.date(2025, 1, 1),
    end=dt.date(2026, 1, 1),
    line="general",
    gov_backed=False,
    owner=None,
    contract_no=None,
):
    amount, fee_rate = Decimal(str(amount)), Decimal(str(fee_rate))
    return Guarantee.objects.create(
        institution=inst,
        client=owner or client(inst),
        contract_no=contract_no or f"HT{next(_seq):06d}",
        other_lender="某小贷公司",
        loan_amount=amount,
        guaranteed_amount=amount,
        start_date=start,
        end_date=end,
        fee_rate=fee_rate,
        fee_amount=(amount * fee_rate).quantize(Decimal("0.01")),
        product_line=ProductLine.objects.get(code=line),
        gov_backed=gov_backed,
    )


def event(g, kind, on, amount, interest=0):
    return GuaranteeEvent.objects.create(
        guarantee=g, kind=kind, occurred_on=on, amount=Decimal(str(amount)), interest=Decimal(str(interest))
    )


def put_on_govlist(inst, region: str, on=dt.date(2024, 1, 1)):
    batch = GovListBatch.objects.create(
        region_id=region, title="名单", published_on=on, status=ListBatchStatus.CONFIRMED
    )
    GovListEntry.objects.create(batch=batch, institution=inst, action=ListAction.INCLUDE)


def filed(inst, year: int, quarter: int, values: dict, number: int = 1):
    """A submitted quarterly-report version with `values` (the award reads what was filed)."""
    from django.utils import timezone

    from reporting.models import Filing, FilingVersion, ReportTemplate

    filing, _ = Filing.objects.get_or_create(
        institution=inst,
        year=year,
        quarter=quarter,
        defaults={
            "template": ReportTemplate.objects.order_by("-effective_from").first(),
            "status": "submitted",
        },
    )
    version = FilingVersion.objects.create(
        filing=filing,
        number=number,
        values={k: str(v) for k, v in values.items()},
        submitted_at=timezone.now(),
    )
    Filing.objects.filter(pk=filing.pk).update(current_version=version)
    return version
