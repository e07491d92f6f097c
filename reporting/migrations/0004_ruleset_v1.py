"""Ruleset v1 (derived from the notes column of the fields file) and the national default deadline
(15 days after quarter end): reference data every installation needs."""

import datetime as dt
import json
from pathlib import Path

from django.db import migrations

RULES = Path(__file__).resolve().parent.parent / "data" / "validation_rules_v1.json"


def load(apps, schema_editor):
    ValidationRule = apps.get_model("reporting", "ValidationRule")
    DueDateSetting = apps.get_model("reporting", "DueDateSetting")
    for row in json.loads(RULES.read_text(encoding="utf-8")):
        ValidationRule.objects.get_or_create(rule_id=row["rule_id"], defaults={**row, "effective_from": dt.date(2019, 1, 1)})
    DueDateSetting.objects.get_or_create(
        region=None, effective_from=dt.date(2019, 1, 1),
        defaults={"days_after_quarter_end": 15, "remind_days_before": 5, "overdue_days_after": 1,
                  "source": "融资担保公司非现场监管规程：季后15日内报送（默认值，可按省设置）"},
    )


class Migration(migrations.Migration):
    dependencies = [("reporting", "0003_lifecycle_rules_reminders")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
