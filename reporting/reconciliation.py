"""Reconciliation of a quarterly filing with the company's loan-level records (担保业务明细).

The records determine part of the report (guarantees.selectors.report_fields: balances and counts in
force, new business, small/micro and farmer shares, concentration, fees, compensation and recovery) and
the REL-01 figure `controller_guarantee_balance` (guarantees to the controlling shareholder or actual
controller, matched through the shareholders' keyed identifiers). Each filed figure is set beside the
derived one; a difference beyond the tolerance in force (ReconciliationTolerance: policy data, per
field code and region) is a data-quality finding — a warning the company must explain before it
submits (the filing's findings and explanations), kept on the submitted version for the regulator.

A filing whose company has no records yet is not reconciled (nothing to compare with)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.cache import cache

from guarantees import selectors as records
from institutions.models import Institution

from .models import FieldDefinition, ReconciliationTolerance
from .validation import WARNING, Finding

RULE_PREFIX = "REC-"
REL01_RULE = "REL-01"
CONTROLLER_FIELD = "controller_guarantee_balance"
RECONCILED_FIELDS = (*records.DERIVED_FIELDS, CONTROLLER_FIELD)
CITATION = "担保业务明细与季度报表核对（容差为政策数据）"
CACHE_SECONDS = 3600
PANEL_LINES = 6  # the filing page's side panel; the reconciliation page lists every line
REL01_CITATION = "《融资担保公司监督管理条例》第十七条"


def rule_id(code: str) -> str:
    return f"{RULE_PREFIX}{code}"


@dataclass
class Line:
    code: str
    label_zh: str
    label_en: str
    unit: str
    filed: Decimal | None
    derived: Decimal
    tolerance: Decimal
    difference: Decimal | None = None
    within: bool | None = None  # None: not filed, nothing to judge

    def as_dict(self) -> dict:
        def text(v):
            return None if v is None else str(v)

        return {
            "code": self.code,
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            "unit": self.unit,
            "filed": text(self.filed),
            "derived": text(self.derived),
            "difference": text(self.difference),
            "tolerance": text(self.tolerance),
            "within": self.within,
        }


@dataclass
class Reconciliation:
    period_end: dt.date
    has_records: bool
    lines: list[Line] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    controller_guarantees: list = field(default_factory=list)
    average_fee_rate: Decimal | None = None

    @property
    def differences(self) -> list[Line]:
        return [line for line in self.lines if line.within is False]


def tolerance_for(governing, code: str, derived: Decimal) -> Decimal:
    """max(absolute, relative × |derived|) of the field's own row, else of the all-fields row."""
    row = governing.get(code) or governing.require("")
    return max(row.absolute, row.relative * abs(derived))


def _shown(value: Decimal, unit: str) -> Decimal:
    return value.quantize(Decimal(1) if unit == "count" else Decimal("0.01"), ROUND_HALF_UP)


def judge(filed: Decimal, derived: Decimal, tolerance: Decimal) -> bool:
    """Within tolerance when |filed − derived| ≤ tolerance (the edge itself is within), exactly."""
    return abs(filed - derived) <= tolerance


def reconcile(
    *, institution: Institution, period_end: dt.date, values: dict, fields: list[FieldDefinition]
) -> Reconciliation:
    """Compare `values` ({code: decimal string}, as a version holds them) with the records. Callers have
    scoped the institution (a filing read through for_user, or the company's own submission)."""
    fingerprint = records.records_fingerprint(institution.pk)
    if not fingerprint[0]:
        return Reconciliation(period_end=period_end, has_records=False)
    derived, controller = _derived(institution, period_end, fingerprint)
    governing = ReconciliationTolerance.objects.governing(period_end, institution.region_id or "")
    by_code = {f.code: f for f in fields}
    result = Reconciliation(
        period_end=period_end,
        has_records=True,
        controller_guarantees=controller,
        average_fee_rate=derived.get("average_fee_rate"),
    )
    for code in RECONCILED_FIELDS:
        if code not in by_code:  # a template edition without the field
            continue
        f = by_code[code]
        value = Decimal(derived[code])
        text = values.get(code)
        filed = Decimal(text) if text not in (None, "") else None
        tolerance = tolerance_for(governing, code, value)
        # judged on the exact tolerance, shown rounded as the field is (2 places, or whole counts)
        line = Line(code, f.label_zh, f.label_en, f.unit, filed, value, _shown(tolerance, f.unit))
        if filed is not None:
            line.difference = filed - value
            line.within = judge(filed, value, tolerance)
        result.lines.append(line)
        if line.within is not False:
            continue
        if code == CONTROLLER_FIELD and filed == 0:
            result.findings.append(_rel01(line, len(controller)))
        else:
            result.findings.append(_difference(line))
    return result


def _derived(institution: Institution, period_end: dt.date, fingerprint: tuple) -> tuple[dict, list]:
    """The derived fields and REL-01 guarantees, cached until the records change: the form's live check
    asks for them on every edit, and a large company's records take a second or two to derive."""
    key = "reconcile:" + hashlib.sha256(repr((institution.pk, period_end, fingerprint)).encode()).hexdigest()
    hit = cache.get(key)
    if hit is not None:
        return hit
    derived = records.derive_report_fields(institution=institution, period_end=period_end)
    controller = list(records.controller_guarantees(institution=institution, on=period_end))
    derived[CONTROLLER_FIELD] = sum((g.balance for g in controller), Decimal("0.00")).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
    cache.set(key, (derived, controller), CACHE_SECONDS)
    return derived, controller


def _difference(line: Line) -> Finding:
    values = {k: str(getattr(line, k)) for k in ("filed", "derived", "difference", "tolerance")}
    return Finding(
        rule_id=rule_id(line.code),
        severity=WARNING,
        kind="reconciliation",
        fields=[line.code],
        message_zh=(
            f"{line.label_zh}：填报 {line.filed}，按担保业务明细推算为 {line.derived}，"
            f"相差 {line.difference}，超出核对容差 {line.tolerance}"
        ),
        message_en=(
            f"{line.label_en}: filed {line.filed}, the loan-level records give {line.derived}; "
            f"the difference {line.difference} exceeds the tolerance {line.tolerance}"
        ),
        citation=CITATION,
        values=values,
    )


def _rel01(line: Line, count: int) -> Finding:
    return Finding(
        rule_id=REL01_RULE,
        severity=WARNING,
        kind="reconciliation",
        fields=[line.code],
        message_zh=(
            f"为控股股东、实际控制人提供的融资担保余额填报为 0，但担保业务明细中有 {count} 笔此类担保在保，"
            f"余额 {line.derived} 万元"
        ),
        message_en=(
            f"Guarantees to the controlling shareholder or actual controller are filed as 0, but the records "
            f"hold {count} such guarantees in force with a balance of {line.derived}"
        ),
        citation=REL01_CITATION,
        values={"filed": "0", "derived": str(line.derived), "guarantees": str(count)},
    )


def for_filing(filing, version=None) -> Reconciliation:
    """The reconciliation of a filing's shown version (current by default) with today's records."""
    version = version or filing.current_version
    from .services import template_fields  # services imports this module

    fields = template_fields(filing.template)
    values = version.values if version and not version.nil_return else {}
    return reconcile(
        institution=filing.institution, period_end=filing.period.end, values=values, fields=fields
    )


def panel_context(filing) -> dict:
    version = filing.current_version
    result = for_filing(filing, version)
    explanations = (version.explanations or {}) if version else {}
    explained = {f.rule_id: explanations.get(f.rule_id, "") for f in result.findings}
    frozen = bool(version and version.is_frozen)
    return {
        "filing": filing,
        "rec": result,
        "explained": explained,
        "explained_count": sum(1 for text in explained.values() if text),
        # a submitted version was explained against the records of its day: a difference it did not show
        # then came with records loaded or changed since
        "since_submission": {
            f.rule_id
            for f in result.findings
            if frozen and f.rule_id not in {x["rule_id"] for x in version.findings}
        },
        "top": result.differences[:PANEL_LINES],
        "more": max(0, len(result.differences) - PANEL_LINES),
        "overrides": (version.overrides or {}) if version else {},
    }


def inbox_tasks(user) -> list:
    """The company's open drafts whose figures differ from its records beyond tolerance: each difference
    needs an explanation when the draft is submitted (core.inbox). Two queries for a company without
    records; with them, the derivation is cached until the records change."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from core.inbox import Task
    from core.roles import COMPANY_ROLES, role_of

    from .choices import FilingStatus
    from .models import Filing

    if role_of(user) not in COMPANY_ROLES or not user.institution_id:
        return []
    if not records.has_records(user.institution_id):
        return []
    tasks = []
    drafts = (
        Filing.objects.for_user(user)
        .filter(status__in=(FilingStatus.DRAFT, FilingStatus.RETURNED))
        .select_related("institution", "template", "current_version")
    )
    for filing in drafts:
        n = len(for_filing(filing).findings)
        if n:
            tasks.append(
                Task(
                    kind="reporting.reconciliation",
                    title=_("%(p)s：%(n)s 项填报数与担保业务明细不一致，报送时须说明")
                    % {"p": filing.period.label, "n": n},
                    url=reverse("reporting:reconciliation", args=[filing.pk]),
                    count=n,
                    due=filing.due_date,
                )
            )
    return tasks
