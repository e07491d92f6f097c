"""Reading the policy data files (thresholds.csv, indicator_parameters.csv) into plain dicts; no ORM,
so the data migration and the demo loader share it."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.utils.translation import gettext as _

DATA = Path(__file__).resolve().parent / "data"
THRESHOLDS_FILE = DATA / "thresholds.csv"
PARAMETERS_FILE = DATA / "indicator_parameters.csv"


def parse_limit(text: str) -> Decimal:
    """ "10%" → 0.10 (ratios are stored as decimals); "10" → 10."""
    text = text.strip()
    try:
        if text.endswith("%"):
            return Decimal(text[:-1]) / 100
        return Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(_("阈值不是数字：%(text)s") % {"text": repr(text)}) from exc


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text.strip() else None


def read_thresholds(path: Path = THRESHOLDS_FILE) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=2):
            try:
                rows.append(
                    {
                        "code": row["id"],
                        "indicator": row["indicator"],
                        "comparator": row["comparator"],
                        "value": parse_limit(row["value"]),
                        "severity": row["severity"],
                        "scope": row["scope"],
                        "region_code": row["region_code"],
                        "region_name": row["region_name"],
                        "effective_from": _date(row["effective_from"]),
                        "effective_to": _date(row["effective_to"]),
                        "source": row["source"],
                        "source_en": row.get("source_en", ""),
                        "confidence": row["confidence"],
                        "q4_only": "q4 only" in row["confidence"].lower(),
                    }
                )
            except ValueError as exc:
                raise ValueError(
                    _("%(name)s 第%(n)s行：%(error)s") % {"name": path.name, "n": n, "error": exc}
                ) from exc
    return rows


def read_parameters(path: Path = PARAMETERS_FILE) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return [
            {
                "key": r["key"],
                "value": Decimal(r["value"]),
                "effective_from": _date(r["effective_from"]),
                "effective_to": _date(r["effective_to"]),
                "source": r["source"],
                "note": r["note"],
            }
            for r in csv.DictReader(fh)
        ]


def load_policy_data(threshold_model, parameter_model) -> tuple[int, int]:
    """Create the initial policy set (rows already present, by code / key+start, are left as edited)."""
    t = p = 0
    # a migration's historical model may predate a column of the file (source_en): only its fields
    fields = {f.name for f in threshold_model._meta.get_fields()}
    for row in read_thresholds():
        code = row.pop("code")
        defaults = {k: v for k, v in row.items() if k in fields}
        _obj, created = threshold_model.objects.get_or_create(code=code, defaults=defaults)
        t += created
    for row in read_parameters():
        key, start = row.pop("key"), row.pop("effective_from")
        _obj, created = parameter_model.objects.get_or_create(key=key, effective_from=start, defaults=row)
        p += created
    return t, p
