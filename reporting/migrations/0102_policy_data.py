from django.db import migrations


def load(apps, schema_editor):
    from reporting.indicator_data import load_policy_data

    load_policy_data(apps.get_model("reporting", "Threshold"), apps.get_model("reporting", "PolicyParameter"))


class Migration(migrations.Migration):
    dependencies = [("reporting", "0101_indicators")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
