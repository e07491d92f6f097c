"""Warning cases: opened, escalated and proposed for closing from stored breaches; who handles them;
their transitions."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import audit
from core.permissions import require
from core.roles import Role
from reporting.models import Filing
from reporting.periods import Period

from .. import indicators as ind
from ..models import (
    SEVERITY_RANK,
    IndicatorBreach,
    IndicatorRun,
    Severity,
    WarningCase,
    WarningStatus,
)
from ..permissions import may_handle_warning

if TYPE_CHECKING:
    from collections.abc import Iterable

    from core.roles import Actor

CASE_SEVERITIES = (Severity.BREACH, Severity.WARNING)


def cells_for(indicator_code: str, values: dict) -> dict:
    """The report cells behind an indicator: {field code: value string or None}."""
    return {c: values.get(c) for c in ind.INDICATORS[indicator_code].inputs}


def warning_cases_sync_many(institution_ids: Iterable[int]) -> None:
    """Open, escalate and propose closing warning cases of the institutions from their stored breaches;
    idempotent; four reads, a bulk insert and a bulk update whatever the number of institutions. A
    case's level is the number of consecutive quarters, ending with its own, in which the same rule
    was breached; a later quarter judged compliant with the rule proposes closing."""
    institution_ids = list(institution_ids)
    breaches: dict[int, dict] = defaultdict(dict)  # institution -> {(threshold, period): breach}
    for b in (
        IndicatorBreach.objects.filter(institution_id__in=institution_ids, severity__in=CASE_SEVERITIES)
        .order_by()
        .values(
            "institution_id", "threshold_id", "year", "quarter", "filing_id", "severity", "value", "indicator"
        )
    ):
        breaches[b["institution_id"]][(b["threshold_id"], Period(b["year"], b["quarter"]))] = b
    # the report cells of a case come from its filing's current version (decoded once per filing)
    filing_values = dict(
        Filing.objects.filter(
            pk__in=IndicatorBreach.objects.filter(
                institution_id__in=institution_ids, severity__in=CASE_SEVERITIES
            ).values("filing_id")
        )
        .order_by()
        .values_list("pk", "current_version__values")
    )
    runs: dict[int, dict] = defaultdict(dict)  # institution -> {period: (filing, compliant thresholds)}
    for institution_id, year, quarter, filing_id, compliant in (
        IndicatorRun.objects.filter(institution_id__in=institution_ids)
        .order_by()
        .values_list("institution_id", "year", "quarter", "filing_id", "compliant_thresholds")
    ):
        runs[institution_id][Period(year, quarter)] = (filing_id, compliant or [])
    cases = {
        (c.institution_id, c.threshold_id, Period(c.year, c.quarter)): c
        for c in WarningCase.objects.filter(institution_id__in=institution_ids).order_by()
    }

    def proposer(institution_id, tid, period, case_filing_id):
        """The filing that proposes closing the case, or None while it stands."""
        inst_runs = runs[institution_id]
        if (tid, period) not in breaches[institution_id]:
            run = inst_runs.get(period)
            return run[0] if run else case_filing_id
        later = [p for p, (_f, compliant) in inst_runs.items() if p > period and tid in compliant]
        return inst_runs[min(later)][0] if later else None

    new_cases, changed_cases, changed_fields = [], [], set()

    def update(case, fields):
        changed = _case_changes(case, fields)
        if changed:
            changed_cases.append(case)
            changed_fields.update(changed)

    for institution_id, inst_breaches in breaches.items():
        for (tid, period), b in inst_breaches.items():
            level, p = 1, period.previous()
            while (tid, p) in inst_breaches:
                level, p = level + 1, p.previous()
            by = proposer(institution_id, tid, period, b["filing_id"])
            fields = {
                "filing_id": b["filing_id"],
                "severity": b["severity"],
                "severity_rank": SEVERITY_RANK[b["severity"]],
                "level": level,
                "value": b["value"],
                "cells": cells_for(b["indicator"], filing_values[b["filing_id"]]),
                "close_proposed": by is not None,
                "close_proposed_by_id": by,
            }
            case = cases.pop((institution_id, tid, period), None)
            if case is None:
                new_cases.append(
                    WarningCase(
                        institution_id=institution_id,
                        threshold_id=tid,
                        year=period.year,
                        quarter=period.quarter,
                        **fields,
                    )
                )
            else:
                update(case, fields)
    if new_cases:
        owners = case_owners({c.institution_id for c in new_cases})
        for case in new_cases:
            case.assigned_to_id = owners[case.institution_id]
    WarningCase.objects.bulk_create(new_cases)
    for (
        institution_id,
        tid,
        period,
    ), case in cases.items():  # breach went away (amended filing, changed rule)
        by = proposer(institution_id, tid, period, case.filing_id)
        update(case, {"close_proposed": by is not None, "close_proposed_by_id": by})
    if changed_cases:
        now = timezone.now()
        for case in changed_cases:
            case.updated_at = now  # bulk_update does not apply auto_now
        # fields a case did not change are written back with the value just read
        WarningCase.objects.bulk_update(
            changed_cases, [k.removesuffix("_id") for k in sorted(changed_fields)] + ["updated_at"]
        )


def jurisdiction_chain(region_code: str) -> list[str]:
    """The region and the regions above it, nearest first (county → city → province)."""
    return list(dict.fromkeys([region_code, region_code[:4] + "00", region_code[:2] + "0000"]))


def case_regulators(region_code: str) -> list:
    """Active regulators whose jurisdiction covers `region_code`, nearest jurisdiction first."""
    from accounts.models import User

    chain = jurisdiction_chain(region_code)
    users = User.objects.filter(role=Role.REGULATOR, is_active=True, region_id__in=chain)
    return sorted(users, key=lambda u: (chain.index(u.region_id), u.username))


def case_owners(institution_ids: Iterable[int]) -> dict[int, int | None]:
    """Who a new warning case goes to: a regulator of the institution's own region, else of the nearest
    region above it (first by username); two queries for any number of institutions."""
    from accounts.models import User
    from institutions.models import Institution

    chains = {
        pk: jurisdiction_chain(code)
        for pk, code in Institution.objects.filter(pk__in=list(institution_ids)).values_list(
            "pk", "region_id"
        )
    }
    first: dict[str, int] = {}
    for region_id, pk in (
        User.objects.filter(
            role=Role.REGULATOR,
            is_active=True,
            region_id__in={c for chain in chains.values() for c in chain},
        )
        .order_by("username")
        .values_list("region_id", "pk")
    ):
        first.setdefault(region_id, pk)
    return {i: next((first[c] for c in chain if c in first), None) for i, chain in chains.items()}


def _case_changes(case: WarningCase, fields: dict) -> list[str]:
    """Apply `fields` to the case (a closed case keeps its closing proposal); the names changed."""
    if case.status == WarningStatus.CLOSED:
        fields = {k: v for k, v in fields.items() if not k.startswith("close_proposed")}
    changed = [k for k, v in fields.items() if getattr(case, k) != v]
    for k in changed:
        setattr(case, k, fields[k])
    return changed


# --- warning case transitions -----------------------------------------------------------------------


def _check_case_authority(actor: Actor, case: WarningCase) -> None:
    require(actor, may_handle_warning, case, message="无权处理该预警 / not allowed to handle this warning")


@transaction.atomic
def warning_case_acknowledge(*, actor: Actor, case: WarningCase, note: str = "") -> WarningCase:
    _check_case_authority(actor, case)
    before = audit.snapshot(case)
    updated = WarningCase.objects.filter(pk=case.pk, status=WarningStatus.OPEN).update(
        status=WarningStatus.ACKNOWLEDGED, assigned_to=actor, updated_at=timezone.now()
    )
    if not updated:
        raise ValidationError("只有待处理的预警可以确认 / only open warnings can be acknowledged")
    case.refresh_from_db()
    audit.record(actor=actor, action=audit.Action.TRANSITION, instance=case, before=before, note=note)
    return case


@transaction.atomic
def warning_case_assign(*, actor: Actor, case: WarningCase, assignee: Actor, note: str = "") -> WarningCase:
    """Hand an open or acknowledged case to another regulator whose jurisdiction covers the institution (转办)."""
    _check_case_authority(actor, case)
    if assignee.pk not in {u.pk for u in case_regulators(case.institution.region_id)}:
        raise ValidationError(
            "承办人须为辖区覆盖该机构的监管人员 / the assignee must be a regulator covering the institution"
        )
    before = audit.snapshot(case)
    updated = (
        WarningCase.objects.filter(pk=case.pk)
        .exclude(status=WarningStatus.CLOSED)
        .update(assigned_to=assignee, updated_at=timezone.now())
    )
    if not updated:
        raise ValidationError("预警已关闭 / the warning is already closed")
    case.refresh_from_db()
    audit.record(actor=actor, action=audit.Action.UPDATE, instance=case, before=before, note=note)
    return case


@transaction.atomic
def warning_case_close(*, actor: Actor, case: WarningCase, note: str) -> WarningCase:
    _check_case_authority(actor, case)
    if not note.strip():
        raise ValidationError("关闭预警须填写处理说明 / a note is required to close a warning")
    before = audit.snapshot(case)
    updated = (
        WarningCase.objects.filter(pk=case.pk)
        .exclude(status=WarningStatus.CLOSED)
        .update(
            status=WarningStatus.CLOSED,
            note=note.strip(),
            closed_at=timezone.now(),
            closed_by=actor,
            updated_at=timezone.now(),
        )
    )
    if not updated:
        raise ValidationError("预警已关闭 / the warning is already closed")
    case.refresh_from_db()
    audit.record(actor=actor, action=audit.Action.TRANSITION, instance=case, before=before, note=note)
    return case
