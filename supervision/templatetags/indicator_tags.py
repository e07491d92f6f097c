import csv
import functools
import re
from decimal import Decimal
from pathlib import Path

from django import template
from django.utils.translation import gettext as _

from core.templatetags.portal import money, pct

register = template.Library()
SOURCE_FILE = re.compile(r"\b\d{3}_[0-9a-f]{16}\.txt\b")


@register.filter
def ind_value(value, unit):
    """An indicator value for display: ratios stored as decimals are shown as %; undefined as —."""
    if value is None or value == "":
        return "—"
    value = Decimal(value)
    if unit == "percent":
        return pct(value)
    if unit == "ratio":
        return _("%(v)s 倍") % {"v": money(value)}
    if unit == "boolean":
        return _("是") if value == 1 else _("否")
    return money(value)


@register.filter
def limit_value(threshold):
    """A threshold's limit in its indicator's unit."""
    return ind_value(threshold.value, threshold.indicator_def.unit)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@functools.cache
def _documents() -> dict[str, str]:
    with open(
        Path(__file__).resolve().parent.parent / "data" / "policy_documents.csv", encoding="utf-8", newline=""
    ) as fh:
        return {row["file"]: row["title"] for row in csv.DictReader(fh)}


@register.filter
def cite(source):
    """A policy source for reading: the policy data name the source documents by their file
    (`002_04d727b559758d8e.txt`), the page names the document itself."""
    return SOURCE_FILE.sub(lambda m: _documents().get(m.group(0), m.group(0)), source or "")
