from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("supervision", "0004_merge_cases_and_measure_catalogue")]

    operations = [
        migrations.AddConstraint(
            model_name="warningcase",
            constraint=models.UniqueConstraint(fields=("institution", "threshold"), name="one_case_per_rule"),
        ),
    ]
