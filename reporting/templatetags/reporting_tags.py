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


@register.inclusion_tag("reporting/_steps.html")
def filing_steps(filing, version=None, errors=None):
    """The step tracker of a filing: 草稿 → 校验通过 → 已报送 → 已受理 / 已退回 → 更正. Each step is
    "done", "current" or "todo"; the fourth names the outcome (accepted or returned)."""
    from django.utils.translation import gettext as _

    from reporting.choices import FilingStatus

    version = version or (filing.current_version if filing else None)
    status = filing.status if filing else FilingStatus.DRAFT
    open_draft = version is not None and not version.is_frozen
    amendment = bool(version and version.number > 1 and version.reason)
    if status == FilingStatus.SUBMITTED:
        reached = 2
    elif status in (FilingStatus.ACCEPTED, FilingStatus.RETURNED) and not open_draft:
        reached = 3
    else:
        reached = 1 if (version is not None and not errors) else 0
    outcome = _("已退回") if status == FilingStatus.RETURNED and not open_draft else _("已受理")
    labels = [_("草稿"), _("校验通过"), _("已报送"), outcome, _("更正")]
    steps = []
    for i, label in enumerate(labels):
        state = "done" if i < reached else ("current" if i == reached else "todo")
        steps.append({"label": label, "state": state})
    if amendment:  # an amendment of an accepted report runs the steps again
        steps[4]["state"] = "done" if status == FilingStatus.ACCEPTED else "current"
    if status == FilingStatus.ACCEPTED and not open_draft:
        steps[3]["state"] = "done"  # accepted is where a report rests
    if status == FilingStatus.RETURNED and not open_draft:
        steps[3]["returned"] = True
    return {"steps": steps}
