"""The default classification-rating score sheet (unconfirmed; supervision/rating_data.py)."""

from django.db import migrations

from supervision.rating_data import load_default_sheet


def load(apps, schema_editor):
    load_default_sheet(
        apps.get_model("supervision", "RatingSheet"),
        apps.get_model("supervision", "RatingItem"),
        apps.get_model("supervision", "GradeBand"),
    )


class Migration(migrations.Migration):
    dependencies = [("supervision", "0006_ratings")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
