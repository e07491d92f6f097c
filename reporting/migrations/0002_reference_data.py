"""Reference data every installation needs: template version 1, ruleset version 1 (derived from the notes
column of the fields file), the national default deadline (15 days after quarter end), the review
queue's risk points and badge cut-offs, and the daily reminder job (08:30 Asia/Shanghai, editable in the
admin)."""

import datetime as dt
import json
from pathlib import Path

from django.db import migrations

from reporting.fields_file import TEMPLATE_V1, read_fields

RULES = Path(__file__).resolve().parent.parent / "data" / "validation_rules_v1.json"
REMINDER_TASK = "reporting: filing reminders"
REVIEW_SOURCE = "审核队列排序规则（系统设计取值，非法规规定；监管部门可调整）"
REVIEW_PARAMETERS = {  # key: points
    "warning": 10,  # per validation warning
    "unexplained": 20,  # more per warning submitted without an explanation
    "qoq_change": 15,  # more per large quarter-on-quarter change
    "prohibited_balance": 30,  # more for a prohibited balance (BND-31, 条例 art. 17)
    "threshold_breach": 40,  # per policy-threshold breach: outweighs any single validation warning
    "badge_high": 40,  # the queue shows a score from here in red
    "badge_medium": 10,  # and from here in amber
}


def load(apps, schema_editor):
    ReportTemplate = apps.get_model("reporting", "ReportTemplate")
    FieldDefinition = apps.get_model("reporting", "FieldDefinition")
    ValidationRule = apps.get_model("reporting", "ValidationRule")
    DueDateSetting = apps.get_model("reporting", "DueDateSetting")
    ReviewParameter = apps.get_model("reporting", "ReviewParameter")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")

    template, _ = ReportTemplate.objects.get_or_create(
        version=1,
        defaults={
            "name": "融资担保公司季度监管报表",
            "effective_from": dt.date(2019, 1, 1),
            "source": "shared/domain/quarterly_report_fields.csv",
        },
    )
    for row in read_fields(TEMPLATE_V1):
        # the file has gained notes_en since: 0005 renames notes to notes_zh and fills notes_en
        row["notes"] = row.pop("notes_zh")
        del row["notes_en"]
        FieldDefinition.objects.update_or_create(template=template, code=row.pop("code"), defaults=row)
    for row in json.loads(RULES.read_text(encoding="utf-8")):
        ValidationRule.objects.get_or_create(
            rule_id=row["rule_id"], defaults={**row, "effective_from": dt.date(2019, 1, 1)}
        )
    DueDateSetting.objects.get_or_create(
        region_code="",
        effective_from=dt.date(2019, 1, 1),
        defaults={
            "days_after_quarter_end": 15,
            "remind_days_before": 5,
            "overdue_days_after": 1,
            "source": "融资担保公司非现场监管规程：季后15日内报送（默认值，可按省设置）",
        },
    )
    for key, points in REVIEW_PARAMETERS.items():
        ReviewParameter.objects.get_or_create(
            key=key,
            region_code="",
            effective_from=dt.date(2019, 1, 1),
            defaults={"value": points, "source": REVIEW_SOURCE},
        )
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="8", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai"
    )
    PeriodicTask.objects.get_or_create(
        name=REMINDER_TASK, defaults={"task": "reporting.send_reminders", "crontab": crontab}
    )


def unload(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=REMINDER_TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(load, unload)]
