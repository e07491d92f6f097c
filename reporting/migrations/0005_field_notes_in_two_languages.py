from django.db import migrations, models

from reporting.fields_file import TEMPLATE_V1, read_fields


def notes_from_file(apps, schema_editor):
    """Version 1's help texts were English in the Chinese interface: both languages from the file."""
    FieldDefinition = apps.get_model("reporting", "FieldDefinition")
    for row in read_fields(TEMPLATE_V1):
        FieldDefinition.objects.filter(template__version=1, code=row["code"]).update(
            notes_zh=row["notes_zh"], notes_en=row["notes_en"]
        )


class Migration(migrations.Migration):
    dependencies = [("reporting", "0004_review_claim")]

    operations = [
        migrations.RenameField("fielddefinition", "notes", "notes_zh"),
        migrations.AddField(
            model_name="fielddefinition",
            name="notes_en",
            field=models.TextField(blank=True, verbose_name="填报说明（英文）"),
        ),
        migrations.RunPython(notes_from_file, migrations.RunPython.noop),
    ]
