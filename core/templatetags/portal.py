"""Number formatting the Chinese supervisory way: amounts in 万元 with thousands separators and two
decimals, ratios stored as decimals shown as percentages, undefined values as —. A value that rounds to
zero shows no sign ("z" format option): a −0.004 gap is 0.00, not −0.00."""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()
UNDEFINED = "—"


def _decimal(value):
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def money(value, places=2):
    """Decimal("82000") → "82,000.00"."""
    number = _decimal(value)
    return UNDEFINED if number is None else f"{number:z,.{int(places)}f}"


@register.filter
def pct(value, places=2):
    """Decimal("0.0125") → "1.25%"."""
    number = _decimal(value)
    return UNDEFINED if number is None else f"{number * 100:z,.{int(places)}f}%"


@register.filter
def localized(obj, name):
    """`obj.<name>_en` when the user reads English, else `obj.<name>_zh`; objects and dicts alike:
    {{ finding|localized:"message" }}, {{ field|localized:"label" }}."""
    from django.utils.translation import get_language

    def read(suffix):
        key = f"{name}_{suffix}"
        return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)

    english = (get_language() or "").startswith("en")
    return (english and read("en")) or read("zh") or ""  # English falls back to Chinese where it is missing
