from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

from core.templatetags.portal import money, pct

register = template.Library()


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


@register.inclusion_tag("reporting/indicators/_filing_summary.html")
def filing_indicator_summary(filing):
    """Indicators of one filing with their breaches, for inclusion on the filing page (two queries):
    {% load indicator_tags %}{% filing_indicator_summary filing %}"""
    from reporting.indicator_models import IndicatorBreach, IndicatorValue
    from reporting.indicators import INDICATORS

    values = dict(IndicatorValue.objects.filter(filing=filing).values_list("code", "value"))
    breached = {}
    for b in IndicatorBreach.objects.filter(filing=filing).select_related("threshold"):
        breached.setdefault(b.indicator, []).append(b.threshold)
    rows = [{"code": c, "def": d, "value": values[c], "breaches": breached.get(c, [])}
            for c, d in INDICATORS.items() if c in values]
    return {"filing": filing, "rows": rows}
