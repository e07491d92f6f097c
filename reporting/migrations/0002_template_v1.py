"""Template version 1 is reference data every installation needs: install it with the schema."""

import datetime as dt

from django.db import migrations

from reporting.fields_file import TEMPLATE_V1, read_fields


def load(apps, schema_editor):
    ReportTemplate = apps.get_model("reporting", "ReportTemplate")
    FieldDefinition = apps.get_model("reporting", "FieldDefinition")
    template, _ = ReportTemplate.objects.get_or_create(
        version=1,
        defaults={"name": "融资担保公司季度监管报表", "effective_from": dt.date(2019, 1, 1),
                  "source": "shared/domain/quarterly_report_fields.csv"},
    )
    for row in read_fields(TEMPLATE_V1):
        FieldDefinition.objects.update_or_create(template=template, code=row.pop("code"), defaults=row)


class Migration(migrations.Migration):
    dependencies = [("reporting", "0001_filings")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
