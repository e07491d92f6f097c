"""Judging indicator values against thresholds, as pure functions (no ORM).

`threshold_applies` (scope, region subtree, effective dates, Q4-only rules) and `judge` (the comparator)
take plain objects, so the what-if preview and the stored result run the same code. Values are judged
exact (`indicators.compute_exact`), never rounded to the stored 6 decimals: 10000.01 / 100000 =
0.1000001 is over a 10% cap although stored as 0.100000.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from .indicators import ONE, NonPositiveBase, Value

COMPARATORS = ("<=", ">=", "<", ">", "=", "abs<=")


def judge(comparator: str, value: Value, limit: Decimal) -> bool | None:
    """Whether the exact `value` complies with `comparator limit`; None when the value is undefined
    (not judged). A ratio whose base (capital, assets) is zero or negative complies with nothing."""
    if value is None:
        return None
    if isinstance(value, NonPositiveBase):
        return False
    if comparator == "<=":
        return value <= limit
    if comparator == ">=":
        return value >= limit
    if comparator == "<":
        return value < limit
    if comparator == ">":
        return value > limit
    if comparator == "=":
        return value == limit
    if comparator == "abs<=":
        return abs(value) <= limit
    raise ValueError(_("未知比较符：%(code)s") % {"code": repr(comparator)})


@dataclass(frozen=True)
class Subject:
    """What a threshold's applicability depends on, for one filing."""

    region_code: str
    period_end: dt.date
    quarter: int
    gov_backed: bool
    small_business_focus: bool | None  # None: could not be established (judged as not focused)


def region_contains(scope_code: str | None, region_code: str) -> bool:
    """GB/T 2260 subtree test: an empty scope is nationwide."""
    if not scope_code:
        return True
    if scope_code.endswith("0000"):
        return region_code[:2] == scope_code[:2]
    if scope_code.endswith("00"):
        return region_code[:4] == scope_code[:4]
    return region_code == scope_code


def scope_holds(scope: str, subject: Subject) -> bool:
    """Whether a threshold scope covers the subject. An institution whose small-business focus could not
    be established (a zero denominator in the test) has not shown it: the stricter not-focused rules
    (the 10× leverage cap rather than 15×) apply to it."""
    if scope == "all":
        return True
    if scope == "gov_backed":
        return subject.gov_backed
    if scope == "small_business_focus":
        return subject.small_business_focus is True
    if scope == "not_small_business_focus":
        return subject.small_business_focus is not True
    raise ValueError(_("未知适用范围：%(code)s") % {"code": repr(scope)})


def threshold_applies(threshold, subject: Subject) -> bool:
    """`threshold` has scope, region_code, effective_from, effective_to, q4_only (model or dataclass)."""
    if threshold.effective_from and subject.period_end < threshold.effective_from:
        return False
    if threshold.effective_to and subject.period_end > threshold.effective_to:
        return False
    if getattr(threshold, "q4_only", False) and subject.quarter != 4:
        return False
    return region_contains(threshold.region_code, subject.region_code) and scope_holds(
        threshold.scope, subject
    )


def evaluate(values: Mapping[str, Value], subject: Subject, thresholds: Iterable) -> list[tuple]:
    """[(threshold, exact value, complies)] for the thresholds that apply to this subject and whose
    indicator is judged (defined, or without a positive base); complies is False for a breach."""
    out = []
    for t in thresholds:
        if not threshold_applies(t, subject):
            continue
        value = values.get(t.indicator)
        verdict = judge(t.comparator, value, t.value)
        if verdict is not None:
            out.append((t, value, verdict))
    return out


def subject_focus(values: Mapping[str, Value]) -> bool | None:
    flag = values.get("small_business_focus")
    return None if flag is None else flag == ONE
