"""Policy data every installation starts from: the thresholds and computation parameters of
supervision/data (effective-dated, each with its source); authorised users edit them in the portal."""

from django.db import migrations


def load(apps, schema_editor):
    from supervision.policy_data import load_policy_data

    load_policy_data(apps.get_model("supervision", "Threshold"), apps.get_model("supervision", "PolicyParameter"))


class Migration(migrations.Migration):
    dependencies = [("supervision", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
