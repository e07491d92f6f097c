"""Cases spanning quarters: the per-quarter cases of one institution × rule become one case (the latest
quarter's row is kept, every quarter becomes a history row; it stays open while any of them was open);
the supervisory-measure catalogue (规程 art. 28) and the daily measure-reminder beat task."""

from collections import defaultdict

from django.db import migrations

from supervision.measure_data import load_measure_types


def merge_cases(apps, schema_editor):
    WarningCase = apps.get_model("supervision", "WarningCase")
    WarningCaseQuarter = apps.get_model("supervision", "WarningCaseQuarter")
    groups = defaultdict(list)
    for case in WarningCase.objects.order_by("year", "quarter", "pk"):
        groups[(case.institution_id, case.threshold_id)].append(case)
    rows, drop = [], []
    for cases in groups.values():
        keep = cases[-1]
        for c in cases:
            rows.append(
                WarningCaseQuarter(
                    case_id=keep.pk,
                    filing_id=c.filing_id,
                    year=c.year,
                    quarter=c.quarter,
                    severity=c.severity,
                    level=c.level,
                    value=c.value,
                )
            )
        keep.first_year, keep.first_quarter = cases[0].year, cases[0].quarter
        keep.max_level = max(c.level for c in cases)
        still_open = [c for c in cases if c.status != "closed"]
        if keep.status == "closed":
            if still_open:
                keep.status = still_open[-1].status
                keep.closed_at = keep.closed_by_id = None
            else:
                keep.closed_year, keep.closed_quarter = keep.year, keep.quarter
                keep.close_reason = "other"
        if keep.assigned_to_id is None:
            keep.assigned_to_id = next((c.assigned_to_id for c in reversed(cases) if c.assigned_to_id), None)
        keep.save()
        drop += [c.pk for c in cases[:-1]]
    WarningCaseQuarter.objects.bulk_create(rows, batch_size=1000)
    for start in range(0, len(drop), 1000):
        WarningCase.objects.filter(pk__in=drop[start : start + 1000]).delete()


REMINDER_TASK = "监管措施到期提醒"


def load(apps, schema_editor):
    merge_cases(apps, schema_editor)
    load_measure_types(apps.get_model("supervision", "MeasureType"))
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="40", hour="8", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai"
    )
    PeriodicTask.objects.get_or_create(
        name=REMINDER_TASK, defaults={"task": "supervision.measures_remind_daily", "crontab": crontab}
    )


def unload(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=REMINDER_TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("supervision", "0003_cases_span_quarters_and_measures"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(load, unload)]
