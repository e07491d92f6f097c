from django import template

from institutions.rules import pct as _pct

register = template.Library()


@register.filter
def pct(value):
    """A stored fraction shown as a percentage (0.2 → 20%); None → —."""
    return _pct(value)
