"""Demo registry: the 88 institutions of Sichuan's 2020 fee-reduction award list (seed 003).

Credit codes, capital and dates are synthetic but deterministic (valid GB 32100 check characters)."""

import csv
import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

from .choices import Ownership
from .models import Institution
from .services import institution_upsert
from .validators import credit_code_check_char

AWARD_LIST = Path(__file__).resolve().parent / "data" / "sichuan_2020_award_list.csv"


def demo_credit_code(region_code: str, n: int) -> str:
    first17 = f"91{region_code}DB{n:07d}"
    return first17 + credit_code_check_char(first17)


def _stable_int(text: str, modulo: int) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % modulo


def seed() -> list[Institution]:
    with open(AWARD_LIST, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    institutions = []
    for n, row in enumerate(rows, start=1):
        name = row["name"]
        paid_in = Decimal(20000 + 1000 * _stable_int(name, 80))
        institution, _created = institution_upsert(
            actor=None,
            credit_code=demo_credit_code(row["city_code"], n),
            name=name,
            region_id=row["city_code"],
            level=row["level"],
            ownership=Ownership.PRIVATE if "互助" in name else Ownership.STATE,
            registered_capital=paid_in,
            paid_in_capital=paid_in,
            established_on=dt.date(2005, 1, 1) + dt.timedelta(days=_stable_int(name + "d", 4000)),
            is_reguarantee="再担保" in name,
            credit_reference_access=_stable_int(name + "c", 3) > 0,
            staff_count=12 + _stable_int(name + "s", 60),
        )
        institutions.append(institution)
    return institutions
