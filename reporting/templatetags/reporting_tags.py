import re
from decimal import Decimal, InvalidOperation

from django import template
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from core.templatetags.portal import localized, pct

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


# ------------------------------------------------------------------------------------------ report rows
# The report's ~170 rows are built here rather than in a template loop: the same markup, for a tenth of
# the rendering time (the filing, form and review pages are the ones opened most).
def _get(finding, name: str):
    """A finding's attribute: findings come as objects (checked now) or dicts (stored)."""
    return finding.get(name) if isinstance(finding, dict) else getattr(finding, name)


def _finding_class(findings) -> str:
    if not findings:
        return ""
    return "finding-error" if _get(findings[0], "severity") == "error" else "finding-warning"


def _findings_lines(findings) -> str:
    return "".join(
        f'<div class="small">{escape(_get(f, "rule_id"))} {escape(localized(f, "message"))}</div>'
        for f in findings
    )


def _units(rows) -> dict:
    """{unit: its label}, each of the few units translated once rather than once per row."""
    units = {}
    for r in rows:
        if r["field"].unit not in units:
            units[r["field"].unit] = str(r["field"].get_unit_display())
    return units


@register.simple_tag
def detail_rows(rows):
    """The rows of a section on the filing page: label, unit, findings, return comment, code, this and
    the previous period's value."""
    units = _units(rows)
    out = []
    for r in rows:
        field, code = r["field"], escape(r["field"].code)
        comment = r["comment"]
        out.append(
            f'<tr id="f-{code}" class="{_finding_class(r["findings"])}">\n'
            f'      <td>{escape(localized(field, "label"))} <span class="small text-secondary">{escape(units[field.unit])}</span>'
            f"{_findings_lines(r['findings'])}"
            + (
                f'<div class="small text-danger"><i class="bi bi-chat-left-text"></i> {escape(comment)}</div>'
                if comment
                else ""
            )
            + "</td>\n"
            f'      <td class="font-monospace small text-secondary">{code}</td>\n'
            f'      <td class="num">{escape(wan(r["value"]))}</td><td class="num text-secondary">{escape(wan(r["previous"]))}</td></tr>'
        )
    return mark_safe("".join(out))  # noqa: S308  (every value above is escaped)


@register.simple_tag
def review_rows(rows, can_review):
    """The rows of a section on the review page: label and code, findings, values, the change on the
    previous period (large ones flagged) and, for a reviewer, a return comment per field."""
    out = []
    for r in rows:
        field, code = r["field"], escape(r["field"].code)
        label = escape(localized(field, "label"))
        change = r["change"]
        shown = "—" if change is None else ("+" if change > 0 else "") + pct(change, 1)
        flag = "text-danger fw-semibold" if r["change_large"] else "text-secondary"
        out.append(
            f'<tr id="f-{code}" class="{_finding_class(r["findings"])}">\n'
            f'      <td>{label} <span class="font-monospace small text-secondary">{code}</span>'
            f"{_findings_lines(r['findings'])}</td>\n"
            f'      <td class="num">{escape(wan(r["value"]))}</td><td class="num text-secondary">{escape(wan(r["previous"]))}</td>'
            f'<td class="num {flag}">{escape(shown)}</td>\n'
            + (
                f'      <td><input class="form-control form-control-sm" name="cmt_{code}" aria-label="{label}"></td>'
                if can_review
                else "      "
            )
            + "</tr>"
        )
    return mark_safe("".join(out))  # noqa: S308  (every value above is escaped)


@register.simple_tag
def form_rows(rows, prefill, overrides):
    """The rows of a section of the quarterly form: label with its help text, return comment and live
    findings, code, unit, the input (with the loan-level prefill or its override), the previous value."""
    units = _units(rows)
    edited, prefilled = _("已修改预填值"), _("明细推算")
    badge, previous = _("明细预填"), _("上期数")
    out = []
    for r in rows:
        field, code = r["field"], escape(r["field"].code)
        notes, comment = localized(field, "notes"), r["comment"]
        findings = "".join(
            f'<span class="{"text-danger" if _get(f, "severity") == "error" else "text-warning-emphasis"}">'
            f"{escape(_get(f, 'rule_id'))} {escape(localized(f, 'message'))}</span><br>"
            for f in r["findings"]
        )
        o, p = (overrides or {}).get(field.code), (prefill or {}).get(field.code)
        if o:
            source = (
                f'<div class="small text-secondary mt-1"><span class="badge text-bg-secondary">{escape(edited)}</span> '
                f"{escape(prefilled)} {escape(wan(o['derived']))}</div>"
            )
        elif p:
            source = (
                f'<div class="small mt-1"><span class="badge text-bg-info" title="{escape(localized(p, "source"))}">'
                f"{escape(badge)}</span></div>"
            )
        else:
            source = ""
        out.append(
            "\n    <tr" + (' class="table-danger"' if comment else "") + ">\n"
            f'      <td><label for="f-{code}">{escape(localized(field, "label"))}</label>'
            + (f'<div class="small text-secondary">{escape(notes)}</div>' if notes else "")
            + (
                f'<div class="small text-danger"><i class="bi bi-chat-left-text"></i> {escape(comment)}</div>'
                if comment
                else ""
            )
            + f'\n        <div id="fnd-{code}" class="small">{findings}</div></td>\n'
            f'      <td class="font-monospace small text-secondary cell-code">{code}</td>\n'
            f'      <td class="small text-nowrap cell-unit">{escape(units[field.unit])}</td>\n'
            f'      <td class="cell-input"><input id="f-{code}" name="{code}" value="{escape(r["value"])}" inputmode="decimal" '
            f'class="form-control form-control-sm text-end" autocomplete="off">\n        {source}</td>\n'
            f'      <td class="num text-secondary cell-prev" data-label="{escape(previous)}">{escape(wan(r["previous"]))}</td>\n'
            "    </tr>"
        )
    return mark_safe("".join(out))  # noqa: S308  (every value above is escaped)
