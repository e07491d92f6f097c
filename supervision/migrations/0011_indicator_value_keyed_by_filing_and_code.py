"""Indicator values keyed by (filing, code), without the surrogate id (its sequence and index cost a
third of a first full recompute's inserts), and without the index on institution (lookups by
institution go through their filings)."""

import django.db.models.deletion
from django.db import migrations, models


def primary_key(apps, schema_editor):
    # Adding a CompositePrimaryKey changes no table in the schema editors: PostgreSQL adds the key to
    # the table, SQLite remakes the table from the model as it now is (with the key).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'ALTER TABLE "supervision_indicatorvalue" ADD CONSTRAINT "supervision_indicatorvalue_pkey" '
            'PRIMARY KEY ("filing_id", "code")'
        )
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor._remake_table(apps.get_model("supervision", "IndicatorValue"))


def primary_key_dropped(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'ALTER TABLE "supervision_indicatorvalue" DROP CONSTRAINT "supervision_indicatorvalue_pkey"'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("institutions", "0004_shareholder_id_hash"),
        ("supervision", "0010_indicator_value_without_db_foreign_keys"),
    ]

    operations = [
        migrations.AlterField(
            model_name="indicatorvalue",
            name="institution",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="institutions.institution",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="indicatorvalue",
            name="one_value_per_indicator",
        ),
        migrations.RemoveField(
            model_name="indicatorvalue",
            name="id",
        ),
        migrations.AddField(
            model_name="indicatorvalue",
            name="pk",
            field=models.CompositePrimaryKey(
                "filing", "code", blank=True, editable=False, primary_key=True, serialize=False
            ),
        ),
        migrations.RunPython(primary_key, primary_key_dropped),
    ]
