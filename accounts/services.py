import csv
from pathlib import Path

from django.db import transaction

from .models import Region

REGIONS_CSV = Path(__file__).resolve().parent / "data" / "regions.csv"
_LEVEL_ORDER = {"province": 0, "city": 1, "county": 2}


@transaction.atomic
def regions_load(*, path: Path = REGIONS_CSV) -> int:
    """Insert or update every region of the file (idempotent); returns the number of rows in the file."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: (_LEVEL_ORDER[r["level"]], r["code"]))
    # Parents first, so each batch's foreign keys already exist.
    for level in _LEVEL_ORDER:
        batch = [
            Region(code=r["code"], name=r["name"], level=level, parent_id=r["parent_code"] or None)
            for r in rows
            if r["level"] == level
        ]
        Region.objects.bulk_create(
            batch,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=["name", "level", "parent"],
        )
    return len(rows)
