import re
from decimal import Decimal, InvalidOperation

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key, [])


@register.filter
def wan(value):
    """A decimal string as 12,345.67 (counts without decimals); empty → —."""
    if value in (None, ""):
        return "—"
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return value
    return f"{d:z,.0f}" if d == d.to_integral_value() and "." not in str(value) else f"{d:z,.2f}"


@register.filter
def placeholders(message):
    """A rule message template for display: {value}, {other}… shown as ….."""
    return re.sub(r"\{\w+\}", "…", message or "")


@register.simple_tag(takes_context=True)
def filing_panels(context, filing, frozen=True):
    """The panels other apps register for a filing's pages (reporting.panels), in order."""
    from reporting.panels import FILING_PANELS

    request = context.get("request")
    return mark_safe(  # noqa: S308  (each panel is a rendered, autoescaped template)
        "".join(
            render_to_string(p.template, p.context(filing), request=request)
            for p in FILING_PANELS
            if frozen or not p.frozen_only
        )
    )
