"""Thresholds and parameters: which filings a change affects, the what-if preview, and the audited
edits (who may make them: supervision/permissions.py)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from types import SimpleNamespace
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from core import audit
from core.jobs import job_enqueue
from core.permissions import require
from core.scoping import region_subtree_q
from institutions.models import Institution
from reporting.models import values_as_decimals
from reporting.periods import Period

from .. import indicators as ind
from .. import rules
from ..models import (
    IndicatorBreach,
    IndicatorRun,
    ParameterKey,
    PolicyParameter,
    Threshold,
)
from ..permissions import may_edit_threshold, may_set_parameters
from . import setcompute
from .compute import Policy, evaluate_filing, indicators_recompute_enqueue, params_for, set_based

if TYPE_CHECKING:
    from core.models import Job
    from core.roles import Actor

if TYPE_CHECKING:
    from accounts.models import User

THRESHOLD_FIELDS = (
    "indicator",
    "comparator",
    "value",
    "severity",
    "scope",
    "region_code",
    "region_name",
    "effective_from",
    "effective_to",
    "source",
    "source_en",
    "confidence",
    "q4_only",
)


# --- thresholds: affected filings, what-if, edits ---------------------------------------------------


def _subject(run: IndicatorRun) -> rules.Subject:
    period = Period(run.year, run.quarter)
    return rules.Subject(run.region_code, period.end, run.quarter, run.gov_backed, run.small_business_focus)


def _candidate_runs(versions: Iterable, user: Actor = None) -> QuerySet[IndicatorRun]:
    """Runs a threshold version could apply to (period years and region), to be tested exactly."""
    qs = IndicatorRun.objects.all() if user is None else IndicatorRun.objects.for_user(user)
    cond = Q(pk__in=[])
    for t in versions:
        c = Q(year__gte=t.effective_from.year)
        if t.effective_to:
            c &= Q(year__lte=t.effective_to.year)
        if t.region_code:
            c &= region_subtree_q("region_code", t.region_code)
        cond |= c
    return qs.filter(cond).select_related("institution")


def filings_affected_by_threshold(before: object | None, after: object | None) -> set[int]:
    """Filings to which the old or the new version of a threshold applies."""
    versions = [t for t in (before, after) if t is not None]
    if set_based():
        return setcompute.filings_applying(versions, _candidate_runs(versions).select_related(None))
    return {
        r.filing_id
        for r in _candidate_runs(versions)
        if any(rules.threshold_applies(t, _subject(r)) for t in versions)
    }


def _breaching(
    threshold: Threshold | SimpleNamespace,
    runs: list[IndicatorRun],
    values: dict[tuple[int, str], ind.Value],
) -> set[int]:
    out = set()
    for r in runs:
        value = values.get((r.filing_id, threshold.indicator))
        if (
            rules.threshold_applies(threshold, _subject(r))
            and rules.judge(threshold.comparator, value, threshold.value) is False
        ):
            out.add(r.filing_id)
    return out


def _exact_values(runs: QuerySet[IndicatorRun], codes: Iterable[str]) -> dict[tuple[int, str], ind.Value]:
    """{(filing id, code): exact value} of the runs, recomputed from the version each run computed with
    the parameters in force at its period end: what the computation judges, not the rounded value it
    stores (10.00001% is over a 10% cap though stored as 10.0000%)."""
    policy = Policy(thresholds=[])
    out = {}
    for filing_id, year, quarter, raw in runs.values_list("filing_id", "year", "quarter", "version__values"):
        values, params = values_as_decimals(raw), policy.params(Period(year, quarter).end)
        for code in codes:
            out[(filing_id, code)] = ind.INDICATORS[code].function(values, params)
    return out


def threshold_preview(*, threshold: Threshold | None, proposed: dict, user: User | None = None) -> list[dict]:
    """What-if: per quarter, the institutions that would newly breach or clear if `threshold` (None for
    a new one) took the `proposed` field values — judged by the same functions as the computation, on
    the same exact values (recomputed from the filings' values; an entry shows the value as stored).
    [{"period", "newly": [{institution_id, institution, filing_id, value}], "cleared": [...]}]"""
    new = SimpleNamespace(**{f: proposed.get(f, getattr(threshold, f, None)) for f in THRESHOLD_FIELDS})
    versions = [new] if threshold is None else [threshold, new]
    candidates = _candidate_runs(versions, user)
    if set_based():
        return _threshold_preview_sql(threshold, new, candidates.select_related(None))
    runs = list(candidates)
    values = _exact_values(candidates, {t.indicator for t in versions})
    before = _breaching(threshold, runs, values) if threshold is not None else set()
    after = _breaching(new, runs, values)
    by_period: dict[Period, dict] = {}
    for r in runs:
        if r.filing_id in before ^ after:
            period = Period(r.year, r.quarter)
            entry = by_period.setdefault(period, {"period": period, "newly": [], "cleared": []})
            key = "newly" if r.filing_id in after else "cleared"
            entry[key].append(
                {
                    "institution_id": r.institution_id,
                    "institution": r.institution.name,
                    "filing_id": r.filing_id,
                    "value": ind.stored(values.get((r.filing_id, new.indicator))),
                }
            )
    for entry in by_period.values():
        entry["newly"].sort(key=lambda e: e["institution"])
        entry["cleared"].sort(key=lambda e: e["institution"])
    return [by_period[p] for p in sorted(by_period, reverse=True)]


def _threshold_preview_sql(threshold, new, candidates: QuerySet[IndicatorRun]) -> list[dict]:
    """`threshold_preview` judged in SQL on the stored exact values (setcompute.threshold_whatif)."""
    rows = setcompute.threshold_whatif(threshold, new, candidates)
    names = dict(Institution.objects.filter(pk__in={r[1] for r in rows}).order_by().values_list("pk", "name"))
    by_period: dict[Period, dict] = {}
    for filing_id, institution_id, year, quarter, value, now in rows:
        period = Period(year, quarter)
        entry = by_period.setdefault(period, {"period": period, "newly": [], "cleared": []})
        entry["newly" if now else "cleared"].append(
            {
                "institution_id": institution_id,
                "institution": names[institution_id],
                "filing_id": filing_id,
                "value": value,
            }
        )
    for entry in by_period.values():
        entry["newly"].sort(key=lambda e: e["institution"])
        entry["cleared"].sort(key=lambda e: e["institution"])
    return [by_period[p] for p in sorted(by_period, reverse=True)]


def _clean_threshold(fields: dict) -> dict:
    fields = {k: v for k, v in fields.items() if k in THRESHOLD_FIELDS}
    if fields.get("indicator") not in ind.INDICATORS:
        raise ValidationError(_("未知指标：%(code)s") % {"code": repr(fields.get("indicator"))})
    if fields.get("comparator") not in rules.COMPARATORS:
        raise ValidationError(_("未知比较符：%(code)s") % {"code": repr(fields.get("comparator"))})
    if fields.get("effective_to") and fields["effective_to"] < fields["effective_from"]:
        raise ValidationError(_("失效日期早于生效日期"))
    fields["region_code"] = fields.get("region_code") or ""
    if not isinstance(fields.get("value"), Decimal):
        fields["value"] = Decimal(str(fields["value"]))
    return fields


@transaction.atomic
def threshold_save(
    *, actor: Actor, threshold: Threshold | None = None, note: str = "", code: str = "", **fields
) -> tuple[Threshold, Job | None]:
    """Create or change a threshold (audit trail), then recompute exactly the filings the old or new
    version applies to. Returns (threshold, job or None)."""
    fields = _clean_threshold(fields)
    require(
        actor,
        may_edit_threshold,
        fields["region_code"],
        message=_("无权修改该地区的阈值"),
    )
    if threshold is not None:
        threshold = Threshold.objects.select_for_update().get(pk=threshold.pk)
        require(
            actor,
            may_edit_threshold,
            threshold.region_code,
            message=_("无权修改该阈值"),
        )
        before_obj = SimpleNamespace(**{f: getattr(threshold, f) for f in THRESHOLD_FIELDS})
        before = audit.snapshot(threshold)
        for k, v in fields.items():
            setattr(threshold, k, v)
        threshold.full_clean()
        threshold.save()
        audit.record(actor=actor, action=audit.Action.UPDATE, instance=threshold, before=before, note=note)
    else:
        before_obj = None
        threshold = Threshold(code=code, **fields)
        threshold.full_clean()
        threshold.save()
        audit.record(actor=actor, action=audit.Action.CREATE, instance=threshold, note=note)
    affected = filings_affected_by_threshold(before_obj, threshold)
    # only this threshold's verdicts are judged again (set-based): no indicator value is recomputed
    job = indicators_recompute_enqueue(
        filing_ids=affected,
        user=actor,
        reason=f"threshold {threshold.code}",
        rejudge_threshold=threshold.pk if set_based() else None,
    )
    return threshold, job


def _proposed_parameters(
    rows: Iterable,
    *,
    key: str,
    value: Decimal | None,
    effective_from: dt.date,
    effective_to: dt.date | None = None,
) -> list:
    """The parameter rows as they would be after setting `key` from `effective_from` (unsaved)."""
    proposed = PolicyParameter(
        key=key, value=Decimal(str(value)), effective_from=effective_from, effective_to=effective_to
    )
    return [r for r in rows if (r.key, r.effective_from) != (key, effective_from)] + [proposed]


def _runs_with_changed_parameters(
    rows_before: Iterable, rows_after: Iterable, runs: QuerySet[IndicatorRun] | None = None
) -> QuerySet[IndicatorRun]:
    """The indicator runs (of `runs`, default all) of the computed quarters whose parameters in force
    differ between the two sets of parameter rows."""
    runs = IndicatorRun.objects.all() if runs is None else runs
    periods = {Period(y, q) for y, q in IndicatorRun.objects.values_list("year", "quarter").distinct()}
    cond = Q(pk__in=[])
    for p in periods:
        if params_for(p.end, rows_before) != params_for(p.end, rows_after):
            cond |= Q(year=p.year, quarter=p.quarter)
    return runs.filter(cond)


def _parameter_policy(key: str, value: Decimal, effective_from: dt.date, effective_to: dt.date | None):
    if key not in ParameterKey.values:
        raise ValidationError(_("未知参数：%(code)s") % {"code": repr(key)})
    rows = list(PolicyParameter.objects.all())
    policy = Policy(
        parameters=_proposed_parameters(
            rows, key=key, value=value, effective_from=effective_from, effective_to=effective_to
        )
    )
    return rows, policy


def parameter_preview(
    *,
    key: str,
    value: Decimal,
    effective_from: dt.date,
    effective_to: dt.date | None = None,
    user: Actor = None,
) -> list[dict]:
    """What-if for a computation parameter: per quarter, the rules each filing would newly breach or
    clear, recomputing the filings whose parameters change with the same `evaluate_filing` as the
    computation and comparing with the stored breaches. Shaped like `threshold_preview`, plus the rule
    code of each entry. At national scale it runs as a background job instead
    (`parameter_preview_enqueue`), in parts whose entries `parameter_preview_merge` puts together."""
    rows, policy = _parameter_policy(key, value, effective_from, effective_to)
    runs = _runs_with_changed_parameters(
        rows, policy.parameters, None if user is None else IndicatorRun.objects.for_user(user)
    )
    return parameter_preview_merge(_parameter_entries(runs, policy))


def _parameter_entries(runs: QuerySet[IndicatorRun], policy: Policy) -> list[dict]:
    """The changed verdicts of the runs under the proposed policy: [{period, kind (newly/cleared),
    institution_id, institution, filing_id, rule, value}] (JSON-ready: period as "YYYYQn", value text)."""
    stored: dict[int, set[int]] = defaultdict(set)
    for filing_id, threshold_id in IndicatorBreach.objects.filter(
        filing_id__in=runs.values("filing_id")
    ).values_list("filing_id", "threshold_id"):
        stored[filing_id].add(threshold_id)
    codes = {t.pk: t.code for t in policy.thresholds}
    out = []
    for (
        filing_id,
        institution_id,
        name,
        year,
        quarter,
        region,
        gov_backed,
        values,
    ) in runs.order_by().values_list(
        "filing_id",
        "institution_id",
        "institution__name",
        "year",
        "quarter",
        "region_code",
        "gov_backed",
        "version__values",
    ):
        period = Period(year, quarter)
        _computed, _subject, judged = evaluate_filing(
            values_as_decimals(values),
            region_code=region,
            period=period,
            gov_backed=gov_backed,
            policy=policy,
        )
        after = {t.pk: ind.stored(v) for t, v, ok in judged if not ok}
        before = stored[filing_id]
        for tid in sorted(set(after) ^ before):
            value = after.get(tid)
            out.append(
                {
                    "period": f"{year}Q{quarter}",
                    "kind": "newly" if tid in after else "cleared",
                    "institution_id": institution_id,
                    "institution": name,
                    "filing_id": filing_id,
                    "rule": codes.get(tid, ""),
                    "value": None if value is None else str(value),
                }
            )
    return out


def parameter_preview_merge(entries: Iterable[dict]) -> list[dict]:
    """Entries of `_parameter_entries` (from one call or from the parts of a job) in the shape of
    `parameter_preview`: per quarter, latest first, with counts per rule."""
    by_period: dict[Period, dict] = {}
    for e in entries:
        year, quarter = e["period"].split("Q")
        period = Period(int(year), int(quarter))
        entry = by_period.setdefault(period, {"period": period, "newly": [], "cleared": []})
        entry[e["kind"]].append(
            {
                "institution_id": e["institution_id"],
                "institution": e["institution"],
                "filing_id": e["filing_id"],
                "rule": e["rule"],
                "value": None if e["value"] is None else Decimal(e["value"]),
            }
        )
    for entry in by_period.values():
        entry["newly"].sort(key=lambda e: (e["institution"], e["rule"]))
        entry["cleared"].sort(key=lambda e: (e["institution"], e["rule"]))
        # a parameter moves many rules at once: counts per rule lead, the list follows
        rules = sorted({e["rule"] for k in ("newly", "cleared") for e in entry[k]})
        entry["by_rule"] = [
            {
                "rule": r,
                "newly": sum(e["rule"] == r for e in entry["newly"]),
                "cleared": sum(e["rule"] == r for e in entry["cleared"]),
            }
            for r in rules
        ]
    return [by_period[p] for p in sorted(by_period, reverse=True)]


PREVIEW_KIND = "indicators.parameter_preview"
PREVIEW_PART_FILINGS = 2000  # filings judged per part of a parameter what-if job


def parameter_preview_enqueue(
    *,
    actor: Actor,
    key: str,
    value: Decimal,
    effective_from: dt.date,
    effective_to: dt.date | None = None,
) -> Job:
    """The parameter what-if as a background job (core.jobs) the user watches on its result page: the
    filings whose parameters change are judged in parts of PREVIEW_PART_FILINGS filings; each part
    keeps its entries, the page merges them. Administrators only, like saving."""
    require(
        actor,
        may_set_parameters,
        message=_("仅系统管理员可修改指标计算参数"),
    )
    _parameter_policy(key, value, effective_from, effective_to)  # validates the key
    from ..tasks import parameter_preview_job

    return job_enqueue(
        kind=PREVIEW_KIND,
        task=parameter_preview_job,
        params={
            "key": key,
            "value": str(value),
            "effective_from": effective_from.isoformat(),
            "effective_to": effective_to.isoformat() if effective_to else None,
        },
        user=actor,
    )


def parameter_preview_policy(params: dict) -> tuple[list, Policy]:
    """(parameter rows now, the proposed policy) of a what-if job's params."""
    return _parameter_policy(
        params["key"],
        Decimal(params["value"]),
        dt.date.fromisoformat(params["effective_from"]),
        dt.date.fromisoformat(params["effective_to"]) if params.get("effective_to") else None,
    )


def parameter_preview_part(params: dict, filing_ids: list[int]) -> list[dict]:
    """The entries of one part of a what-if job (its filings, under the proposed policy)."""
    _rows, policy = parameter_preview_policy(params)
    return _parameter_entries(IndicatorRun.objects.filter(filing_id__in=filing_ids), policy)


def parameter_preview_filings(params: dict) -> list[int]:
    """The filings a what-if job judges: those whose parameters in force change."""
    rows, policy = parameter_preview_policy(params)
    runs = _runs_with_changed_parameters(rows, policy.parameters)
    return sorted(runs.values_list("filing_id", flat=True))


def parameter_preview_result(job: Job) -> list[dict]:
    """The merged what-if of a finished job (its parts' entries)."""
    entries = [e for part in job.parts.order_by("pk") for e in part.params.get("entries", [])]
    return parameter_preview_merge(entries)


@transaction.atomic
def parameter_save(
    *,
    actor: Actor,
    key: str,
    value: Decimal,
    effective_from: dt.date,
    source: str,
    effective_to: dt.date | None = None,
    note: str = "",
) -> tuple[PolicyParameter, Job | None]:
    """Set a computation parameter from a date (a new row, or the row starting that day changed) and
    recompute exactly the filings whose parameters in force change. Administrators only."""
    require(
        actor,
        may_set_parameters,
        message=_("仅系统管理员可修改指标计算参数"),
    )
    if key not in ParameterKey.values:
        raise ValidationError(_("未知参数：%(code)s") % {"code": repr(key)})
    rows_before = list(PolicyParameter.objects.all())
    param = PolicyParameter.objects.filter(key=key, effective_from=effective_from).first()
    before = audit.snapshot(param) if param else None
    param = param or PolicyParameter(key=key, effective_from=effective_from)
    param.value, param.effective_to, param.source, param.note = (
        Decimal(str(value)),
        effective_to,
        source,
        note,
    )
    param.full_clean()
    param.save()
    audit.record(
        actor=actor,
        action=audit.Action.UPDATE if before else audit.Action.CREATE,
        instance=param,
        before=before,
    )
    affected = list(
        _runs_with_changed_parameters(rows_before, list(PolicyParameter.objects.all())).values_list(
            "filing_id", flat=True
        )
    )
    job = indicators_recompute_enqueue(filing_ids=affected, user=actor, reason=f"parameter {key}")
    return param, job
