"""Reading a template fields file (code, section, label_zh, label_en, unit, basis, notes_zh, notes_en).
Pure: the data migration that installs version 1 and the loader of later versions share it."""

import csv
from pathlib import Path

TEMPLATE_V1 = Path(__file__).parent / "data" / "quarterly_report_fields_v1.csv"
COLUMNS = ("section", "label_zh", "label_en", "unit", "basis", "notes_zh", "notes_en")


def read_fields(path: Path) -> list[dict]:
    """Rows as {"code", *COLUMNS, "order"} in file order."""
    with open(path, encoding="utf-8", newline="") as fh:
        return [
            {"code": row["code"].strip(), **{k: row[k].strip() for k in COLUMNS}, "order": order}
            for order, row in enumerate(csv.DictReader(fh), start=1)
        ]
