"""Demo 总对总 batch: for the bank with the most 总对总 records among the demo companies, the list the bank
would send as of the latest demo quarter end, with three deliberate differences the page then shows —
one record left out, one amount that differs, one contract the companies do not hold. Does nothing
until the demo holds such records (they come with the loan-level demo data); re-runnable."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count

from accounts.models import User

from .bank_batch_services import COLUMNS, bank_batch_upload
from .bank_batches import BankBatch
from .models import Guarantee

UPLOADER = "sc_regulator"


def seed(as_of: dt.date) -> int:
    """Rows of the demo batch uploaded (0 when there is nothing to build it from, or it exists)."""
    uploader = User.objects.filter(username=UPLOADER).first()
    top = (
        Guarantee.objects.filter(batch_zdz=True, bank__isnull=False)
        .values("bank_id")
        .annotate(n=Count("id"))
        .order_by("-n", "bank_id")
        .first()
    )
    if uploader is None or top is None or top["n"] < 2:
        return 0
    if BankBatch.objects.filter(bank_id=top["bank_id"], as_of=as_of).exists():
        return 0
    records = list(
        Guarantee.objects.filter(batch_zdz=True, bank_id=top["bank_id"])
        .in_force(as_of)
        .select_related("institution", "client", "bank")
        .order_by("institution_id", "contract_no")
    )
    if len(records) < 2:
        return 0
    lines = [",".join(zh for _f, zh, _en in COLUMNS)]
    for i, g in enumerate(records[1:]):  # the first record is left out of the bank's list
        amount = g.guaranteed_amount + (Decimal(10) if i == 0 else 0)  # and one amount differs
        lines.append(
            f"{g.institution.credit_code},{g.contract_no},{g.client.display_name},{g.loan_amount},{amount},"
            f"{g.start_date},{g.end_date}"
        )
    first = records[0]
    lines.append(
        f"{first.institution.credit_code},ZDZ-DEMO-BANK-ONLY,演示银行独有客户,100.00,80.00,"
        f"{as_of - dt.timedelta(days=90)},{as_of + dt.timedelta(days=275)}"
    )
    upload = SimpleUploadedFile("zdz-demo.csv", ("\n".join(lines) + "\n").encode("utf-8"))
    batch = bank_batch_upload(
        actor=uploader, bank=first.bank, as_of=as_of, upload=upload, filename=f"{first.bank.name}-{as_of}.csv"
    )
    return batch.rows
