"""The rule engine for quarterly filings: pure, no ORM. Decimal in, findings out.

Rules are data (`ValidationRule` rows, first ruleset from the notes column of the template fields file,
reporting/data/validation_rules_v1.json); this module only knows the fixed set of *kinds* (规程 art. 13:
审核报表完整性、逻辑关系、异动情况):

identity / roll_forward  left = Σ sign·term (within a tolerance)        params: left, terms [[sign, code]], tolerance
bound                    field op other-field | constant                 params: field | fields, op, other | value
count_le_count           count ≤ count                                   params: field, other
continuity               year-start field = prior year's Q4 field        params: field, previous_field
ytd_monotonic            year-to-date (or cumulative) flows never fall    params: fields, across_years
qoq_change               |x − x_prev| / x_prev > limit → finding          params: field, limit
required                 every listed field (or all template fields) set params: all

A rule whose operands are missing is not evaluated (the `required` rule reports missing fields), so
one gap gives one finding, not a cascade. Messages are templates with {placeholders} filled from a
fixed set of computed values (never evaluated as code).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal

ERROR = "error"
WARNING = "warning"
KINDS = (
    "identity",
    "roll_forward",
    "bound",
    "count_le_count",
    "continuity",
    "ytd_monotonic",
    "qoq_change",
    "required",
)
_OPS = {
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class RuleSpec:
    rule_id: str
    kind: str
    fields: tuple[str, ...]
    params: dict
    severity: str
    message_zh: str
    message_en: str
    citation: str = ""

    def canonical(self) -> dict:
        return {
            "rule_id": self.rule_id,
            "kind": self.kind,
            "fields": list(self.fields),
            "params": self.params,
            "severity": self.severity,
        }


@dataclass
class Finding:
    rule_id: str
    severity: str
    kind: str
    fields: list[str]
    message_zh: str
    message_en: str
    citation: str = ""
    values: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def ruleset_version(rules: list[RuleSpec]) -> str:
    """A stable name for the exact ruleset a filing was checked against: RS- + 12 hex of its content."""
    payload = json.dumps(sorted((r.canonical() for r in rules), key=lambda r: r["rule_id"]), sort_keys=True)
    return "RS-" + hashlib.sha256(payload.encode()).hexdigest()[:12]


def _fmt(value) -> str:
    return f"{value:,.2f}" if isinstance(value, Decimal) else str(value)


def _message(template: str, context: dict) -> str:
    return _PLACEHOLDER.sub(
        lambda m: _fmt(context[m.group(1)]) if m.group(1) in context else m.group(0), template
    )


def _finding(rule: RuleSpec, fields: list[str], context: dict) -> Finding:
    return Finding(
        rule_id=rule.rule_id,
        severity=rule.severity,
        kind=rule.kind,
        fields=fields,
        message_zh=_message(rule.message_zh, context),
        message_en=_message(rule.message_en, context),
        citation=rule.citation,
        values={k: str(v) for k, v in context.items()},
    )


def _identity(rule, values, **_):
    p = rule.params
    codes = [p["left"], *(code for _sign, code in p["terms"])]
    if any(c not in values for c in codes):
        return []
    right = sum((values[c] if sign == "+" else -values[c] for sign, c in p["terms"]), Decimal(0))
    left = values[p["left"]]
    diff = left - right
    if abs(diff) <= Decimal(str(p.get("tolerance", "0"))):
        return []
    return [_finding(rule, codes, {"left": left, "right": right, "diff": diff})]


def _bound(rule, values, **_):
    p = rule.params
    out = []
    for code in p.get("fields") or [p["field"]]:
        if code not in values:
            continue
        if "other" in p:
            if p["other"] not in values:
                continue
            other, involved = values[p["other"]], [code, p["other"]]
        else:
            other, involved = Decimal(str(p["value"])), [code]
        if not _OPS[p["op"]](values[code], other):
            out.append(_finding(rule, involved, {"field": code, "value": values[code], "other": other}))
    return out


def _count_le_count(rule, values, **_):
    p = rule.params
    a, b = p["field"], p["other"]
    if a not in values or b not in values or values[a] <= values[b]:
        return []
    return [_finding(rule, [a, b], {"field": a, "value": values[a], "other": values[b]})]


def _continuity(rule, values, *, prior_year_end, **_):
    p = rule.params
    code, prev_code = p["field"], p["previous_field"]
    if prior_year_end is None or code not in values or prev_code not in prior_year_end:
        return []
    if values[code] == prior_year_end[prev_code]:
        return []
    return [
        _finding(
            rule,
            [code],
            {
                "value": values[code],
                "previous": prior_year_end[prev_code],
                "diff": values[code] - prior_year_end[prev_code],
            },
        )
    ]


def _ytd_monotonic(rule, values, *, previous, quarter, **_):
    p = rule.params
    if previous is None or (quarter == 1 and not p.get("across_years")):
        return []
    out = []
    for code in p["fields"]:
        if code in values and code in previous and values[code] < previous[code]:
            out.append(
                _finding(
                    rule,
                    [code],
                    {
                        "field": code,
                        "value": values[code],
                        "previous": previous[code],
                        "diff": values[code] - previous[code],
                    },
                )
            )
    return out


def _qoq_change(rule, values, *, previous, **_):
    p = rule.params
    code = p["field"]
    if previous is None or code not in values or code not in previous or previous[code] == 0:
        return []  # change from zero is undefined, not infinite
    change = (values[code] - previous[code]) / abs(previous[code])
    limit = Decimal(str(p["limit"]))
    if abs(change) <= limit:
        return []
    return [
        _finding(
            rule,
            [code],
            {
                "value": values[code],
                "previous": previous[code],
                "change": f"{change * 100:.1f}%",
                "limit": f"{limit * 100:.0f}%",
            },
        )
    ]


def _required(rule, values, *, template_codes, **_):
    codes = list(template_codes) if rule.params.get("all") else list(rule.fields)
    missing = [c for c in codes if c not in values]
    if not missing:
        return []
    return [_finding(rule, missing, {"count": len(missing), "missing": "、".join(missing)})]


_EVALUATORS = {
    "identity": _identity,
    "roll_forward": _identity,
    "bound": _bound,
    "count_le_count": _count_le_count,
    "continuity": _continuity,
    "ytd_monotonic": _ytd_monotonic,
    "qoq_change": _qoq_change,
    "required": _required,
}


def evaluate(
    rules: list[RuleSpec],
    values: dict[str, Decimal],
    *,
    quarter: int,
    template_codes: list[str],
    previous: dict[str, Decimal] | None = None,
    prior_year_end: dict[str, Decimal] | None = None,
    nil_return: bool = False,
) -> list[Finding]:
    """All findings for one filing's values. `previous` is the previous quarter's submitted values,
    `prior_year_end` the prior year's Q4 (None when there is no such filing). A nil return (本期无融资担保
    业务) carries no values and is not checked."""
    if nil_return:
        return []
    known = set(template_codes)
    rules = [r for r in rules if set(r.fields) <= known or r.kind == "required"]
    findings = []
    for rule in rules:
        findings.extend(
            _EVALUATORS[rule.kind](
                rule,
                values,
                previous=previous,
                prior_year_end=prior_year_end,
                quarter=quarter,
                template_codes=template_codes,
            )
        )
    order = {ERROR: 0, WARNING: 1}
    findings.sort(key=lambda f: (order[f.severity], f.rule_id))
    return findings


def blocking(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == ERROR]


def unexplained(findings: list[Finding], explanations: dict[str, str]) -> list[Finding]:
    """Warnings without a written explanation (keyed by rule id)."""
    return [f for f in findings if f.severity == WARNING and not (explanations.get(f.rule_id) or "").strip()]
