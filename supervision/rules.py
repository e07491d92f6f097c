"""Judging indicator values against thresholds, as pure functions (no ORM).

`threshold_applies` (scope, region subtree, effective dates, Q4-only rules) and `judge` (the comparator)
take plain objects, so the what-if preview and the stored result run the same code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from .indicators import ONE

COMPARATORS = ("<=", ">=", "<", ">", "=", "abs<=")


def judge(comparator: str, value: Decimal | None, limit: Decimal) -> bool | None:
    """Whether `value` complies with `comparator limit`; None when the value is undefined (not judged)."""
    if value is None:
        return None
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
    raise ValueError(f"未知比较符 / unknown comparator: {comparator!r}")


@dataclass(frozen=True)
class Subject:
    """What a threshold's applicability depends on, for one filing."""

    region_code: str
    period_end: dt.date
    quarter: int
    gov_backed: bool
    small_business_focus: bool | None  # None: undefined (neither focus scope applies)


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
    if scope == "all":
        return True
    if scope == "gov_backed":
        return subject.gov_backed
    if scope == "small_business_focus":
        return subject.small_business_focus is True
    if scope == "not_small_business_focus":
        return subject.small_business_focus is False
    raise ValueError(f"未知适用范围 / unknown scope: {scope!r}")


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


def evaluate(values: Mapping[str, Decimal | None], subject: Subject, thresholds: Iterable) -> list[tuple]:
    """[(threshold, value, complies)] for the thresholds that apply to this subject and whose
    indicator is defined; complies is False for a breach of that threshold."""
    out = []
    for t in thresholds:
        if not threshold_applies(t, subject):
            continue
        value = values.get(t.indicator)
        verdict = judge(t.comparator, value, t.value)
        if verdict is not None:
            out.append((t, value, verdict))
    return out


def subject_focus(values: Mapping[str, Decimal | None]) -> bool | None:
    flag = values.get("small_business_focus")
    return None if flag is None else flag == ONE
