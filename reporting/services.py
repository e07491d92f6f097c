import datetime as dt
from pathlib import Path

from django.db import transaction

from .fields_file import read_fields
from .models import FieldDefinition, ReportTemplate


@transaction.atomic
def template_load(*, path: Path, version: int, name: str, effective_from: dt.date,
                  effective_to: dt.date | None = None, source: str = "") -> ReportTemplate:
    """Create or update one template version from a fields file; idempotent. Version 1 is installed by
    migration 0002; later versions add or retire fields through this loader, without code changes."""
    template, _ = ReportTemplate.objects.update_or_create(
        version=version,
        defaults={"name": name, "effective_from": effective_from, "effective_to": effective_to, "source": source},
    )
    codes = []
    for row in read_fields(path):
        codes.append(row.pop("code"))
        FieldDefinition.objects.update_or_create(template=template, code=codes[-1], defaults=row)
    template.fields.exclude(code__in=codes).delete()
    return template
