"""Policy data: change filings are due within 30 days of the change."""

import datetime as dt
from decimal import Decimal

from django.db import migrations


def load(apps, schema_editor):
    apps.get_model("institutions", "PolicyRule").objects.get_or_create(
        code="change_filing_days", region_code="", effective_from=dt.date(2017, 10, 1),
        defaults=dict(severity="breach", value=Decimal(30),
                      source="《融资担保公司监督管理条例》：变更持股5%以上股东或董事、监事、高级管理人员，自变更之日起30日内备案"),
    )


def unload(apps, schema_editor):
    apps.get_model("institutions", "PolicyRule").objects.filter(code="change_filing_days").delete()


class Migration(migrations.Migration):
    dependencies = [("institutions", "0005_shareholders_managers_change_filings")]
    operations = [migrations.RunPython(load, unload)]
