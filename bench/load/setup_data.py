"""Data for the load test: N regulators of Sichuan and 3 company users (each the approver of its own
licensed institution) per regulator, all with the password LOAD_PASSWORD. Run against a throwaway
PostgreSQL database (DATABASE_URL); migrates it first. Prints the user counts."""

from __future__ import annotations

import datetime as dt
import os
import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guarantee_portal.settings")

LOAD_PASSWORD = "Load-Test-2026x"  # noqa: S105 (throwaway load-test accounts)
CITIES = ["510104", "510105", "510106", "510107", "510108", "510703", "510704", "510603"]


def main(regulators: int) -> None:
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from accounts.models import User
    from accounts.services import regions_load
    from institutions.demo import demo_credit_code
    from institutions.models import Institution, Licence

    call_command("migrate", verbosity=0)
    regions_load()
    password = make_password(LOAD_PASSWORD)
    companies = regulators * 3
    institutions = Institution.objects.bulk_create(
        [
            Institution(
                name=f"压测{i:03d}号融资担保有限公司",
                credit_code=demo_credit_code(CITIES[i % len(CITIES)], 8_000_000 + i),
                region_id=CITIES[i % len(CITIES)],
                level="county",
                registered_capital=Decimal("30000.00"),
                paid_in_capital=Decimal("30000.00"),
            )
            for i in range(companies)
        ]
    )
    Licence.objects.bulk_create(
        [
            Licence(
                number=f"川L{8000 + i:06d}",
                institution=inst,
                issuing_authority="四川省地方金融监督管理局",
                issued_on=dt.date(2015, 1, 1),
            )
            for i, inst in enumerate(institutions)
        ]
    )
    User.objects.bulk_create(
        [
            User(
                username=f"load_co{i:03d}",
                last_name="压",
                first_name=f"测{i}",
                role="approver",
                institution=inst,
                password=password,
            )
            for i, inst in enumerate(institutions)
        ]
        + [
            User(
                username=f"load_reg{j:03d}",
                last_name="监",
                first_name=f"管{j}",
                role="regulator",
                region_id="510000",
                password=password,
            )
            for j in range(regulators)
        ]
    )
    print(f"{companies} company users, {regulators} regulators")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 75)
