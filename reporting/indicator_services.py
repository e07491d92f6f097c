"""Computing indicators for filings, judging them against the thresholds in force, keeping warning
cases in step, and changing policy (thresholds, parameters) with recomputation of exactly the filings
the change affects. Formulas live in `indicators.py`; this module only loads and stores."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from types import SimpleNamespace

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from core import audit
from core.jobs import job_enqueue
from core.scoping import ADMIN_ROLE, region_subtree_q
from institutions.selectors import government_backed_on

from . import indicators as ind
from .indicator_models import (
    SEVERITY_RANK,
    IndicatorBreach,
    IndicatorRun,
    IndicatorValue,
    ParameterKey,
    PolicyParameter,
    Severity,
    Threshold,
    WarningCase,
    WarningStatus,
)
from .models import Filing, values_as_decimals
from .periods import Period

CASE_SEVERITIES = (Severity.BREACH, Severity.WARNING)
RUN_COLUMNS = (
    "filing_id",
    "institution_id",
    "year",
    "quarter",
    "version_id",
    "region_code",
    "gov_backed",
    "small_business_focus",
    "compliant_thresholds",
    "compute_count",
    "computed_at",
)
VALUE_COLUMNS = ("filing_id", "institution_id", "year", "quarter", "code", "value")
BREACH_COLUMNS = (
    "filing_id",
    "institution_id",
    "year",
    "quarter",
    "threshold_id",
    "indicator",
    "value",
    "comparator",
    "limit",
    "severity",
)
CHUNK_INSTITUTIONS = 250  # institutions computed per transaction (and per recompute task)
IN_LIST_MAX = 10_000  # ids per IN (...) list: SQLite and psycopg bound the parameters of a statement
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
    "confidence",
    "q4_only",
)


# --- policy in force --------------------------------------------------------------------------------


def params_for(day: dt.date, rows) -> ind.Params:
    """The parameters in force on `day` from parameter rows (latest start on or before `day`)."""
    chosen: dict[str, tuple] = {}
    for r in rows:
        in_force = r.effective_from <= day and (r.effective_to is None or r.effective_to >= day)
        if in_force and (r.key not in chosen or r.effective_from > chosen[r.key][0]):
            chosen[r.key] = (r.effective_from, r.value)
    missing = [k for k in ParameterKey.values if k not in chosen]
    if missing:
        raise ValidationError(
            f"{day} 无生效的指标计算参数 / no indicator parameter in force on {day}: {', '.join(missing)}"
        )
    v = {k: val for k, (_start, val) in chosen.items()}
    return ind.Params(
        weight_small_micro_farmer=v["weight_small_micro_farmer"],
        weight_housing=v["weight_housing"],
        weight_bond_aa=v["weight_bond_aa"],
        weight_other=v["weight_other"],
        deduct_guarantee_equity=v["deduct_guarantee_equity"] != 0,
        sbf_balance_share=v["sbf_balance_share"],
        sbf_client_share=v["sbf_client_share"],
    )


class Policy:
    """Parameters and thresholds loaded once (two queries) for a batch of computations."""

    def __init__(self, parameters=None, thresholds=None):
        self.parameters = list(PolicyParameter.objects.all()) if parameters is None else parameters
        self.thresholds = list(Threshold.objects.all()) if thresholds is None else thresholds
        self._params: dict[dt.date, ind.Params] = {}

    def params(self, day: dt.date) -> ind.Params:
        if day not in self._params:
            self._params[day] = params_for(day, self.parameters)
        return self._params[day]


def thresholds_in_force(
    *,
    region_code: str,
    on: dt.date,
    gov_backed: bool,
    small_business_focus: bool | None,
    quarter: int | None = None,
    thresholds=None,
) -> list:
    """The thresholds (all rows unless given) that apply to a subject on a date."""
    thresholds = Threshold.objects.all() if thresholds is None else thresholds
    subject = ind.Subject(
        region_code, on, quarter or Period.containing(on).quarter, gov_backed, small_business_focus
    )
    return [t for t in thresholds if ind.threshold_applies(t, subject)]


def counted_filings():
    """Filings whose current version was submitted (submitted or accepted)."""
    return Filing.objects.filter(current_version__submitted_at__isnull=False)


# --- computation ------------------------------------------------------------------------------------


def evaluate_filing(values: dict, *, region_code: str, period: Period, gov_backed: bool, policy: Policy):
    """Pure part of one filing's computation: (indicator values, subject, [(threshold, value, complies)])."""
    computed = ind.compute_all(values, policy.params(period.end))
    subject = ind.Subject(region_code, period.end, period.quarter, gov_backed, ind.subject_focus(computed))
    return computed, subject, ind.evaluate(computed, subject, policy.thresholds)


def institution_indicators_compute(
    *, institution_id: int, filing_ids=None, policy: Policy | None = None
) -> list[int]:
    """(Re)compute every counted filing of one institution (or the given ones); idempotent. Returns the
    filing ids computed. Warning cases of the institution are brought in step afterwards."""
    return _compute_chunk(
        {institution_id: None if filing_ids is None else list(filing_ids)}, policy or Policy()
    )


def indicators_compute_batch(
    *, filing_ids=None, institution_ids=None, policy: Policy | None = None
) -> list[int]:
    """(Re)compute the given filings, or every counted filing of the given institutions, as
    `institution_indicators_compute` does for each institution, CHUNK_INSTITUTIONS institutions per
    transaction with a fixed number of queries each. Returns the filing ids computed."""
    if (filing_ids is None) == (institution_ids is None):
        raise TypeError("give filing_ids or institution_ids")
    policy = policy or Policy()
    if filing_ids is not None:
        scope = filings_by_institution(filing_ids)
    else:
        scope = {i: None for i in sorted(set(institution_ids))}
    items = list(scope.items())
    computed = []
    for start in range(0, len(items), CHUNK_INSTITUTIONS):
        computed += _compute_chunk(dict(items[start : start + CHUNK_INSTITUTIONS]), policy)
    return computed


def filings_by_institution(filing_ids) -> dict[int, list[int]]:
    """{institution id: sorted filing ids} of the given filings, institutions in id order."""
    ids = sorted(set(filing_ids))
    out: dict[int, list[int]] = defaultdict(list)
    for start in range(0, len(ids), IN_LIST_MAX):
        rows = (
            Filing.objects.filter(pk__in=ids[start : start + IN_LIST_MAX])
            .order_by()
            .values_list("institution_id", "pk")
        )
        for institution_id, pk in rows:
            out[institution_id].append(pk)
    return {i: sorted(out[i]) for i in sorted(out)}


@transaction.atomic
def _compute_chunk(by_institution: dict[int, list[int] | None], policy: Policy) -> list[int]:
    """Compute the counted filings of some institutions — all of them (None) or the listed ones — and
    remove the results of listed filings no longer counted; then sync their warning cases."""
    institutions = list(by_institution)
    whole = [i for i, ids in by_institution.items() if ids is None]
    listed = [pk for ids in by_institution.values() if ids is not None for pk in ids]
    filings = list(
        counted_filings()
        .filter(Q(institution_id__in=institutions), Q(institution_id__in=whole) | Q(pk__in=listed))
        .order_by("institution_id", "-year", "-quarter")
        .values_list(
            "pk",
            "institution_id",
            "year",
            "quarter",
            "current_version_id",
            "current_version__values",
            "institution__region_id",
        )
    )
    ids = [f[0] for f in filings]
    runs = IndicatorRun.objects.filter(
        Q(institution_id__in=institutions), Q(institution_id__in=whole) | Q(filing_id__in=listed)
    )
    stale, touched, computing = [], {f[1] for f in filings}, set(ids)
    for filing_id, institution_id in runs.values_list("filing_id", "institution_id"):
        if filing_id not in computing:
            stale.append(filing_id)  # no longer counted (e.g. returned): its results go
            touched.add(institution_id)
    gov_on = government_backed_on(
        dates={Period(f[2], f[3]).end for f in filings}, institution_ids=sorted(touched)
    )
    values_rows, breach_rows, run_rows = [], [], []
    for pk, institution_id, year, quarter, version_id, values, region in filings:
        period = Period(year, quarter)
        computed, subject, judged = evaluate_filing(
            values_as_decimals(values),
            region_code=region,
            period=period,
            gov_backed=institution_id in gov_on[period.end],
            policy=policy,
        )
        common = (pk, institution_id, year, quarter)
        values_rows += [(*common, c, v) for c, v in computed.items()]
        breach_rows += [
            (*common, t.pk, t.indicator, v, t.comparator, t.value, t.severity)
            for t, v, ok in judged
            if not ok
        ]
        run_rows.append(
            (
                *common,
                version_id,
                region,
                subject.gov_backed,
                subject.small_business_focus,
                sorted(t.pk for t, _v, ok in judged if ok),
            )
        )
    gone = ids + stale
    if gone:
        IndicatorValue.objects.filter(filing_id__in=gone).delete()
        IndicatorBreach.objects.filter(filing_id__in=gone).delete()
    if stale:
        IndicatorRun.objects.filter(filing_id__in=stale).delete()
    _upsert_runs(run_rows)
    _insert_rows(IndicatorValue, VALUE_COLUMNS, values_rows)
    _insert_rows(IndicatorBreach, BREACH_COLUMNS, breach_rows)
    if touched:
        warning_cases_sync_many(sorted(touched))
    return ids


def _upsert_runs(rows) -> None:
    """Insert or update runs by filing, one statement executed for every row: a run keeps its id and
    counts the computations in the database (right even when two tasks compute the same filing)."""
    if not rows:
        return
    meta, qn = IndicatorRun._meta, connection.ops.quote_name
    as_json = meta.get_field("compliant_thresholds").get_db_prep_save
    computed_at = meta.get_field("computed_at").get_db_prep_save(timezone.now(), connection)
    rows = [(*r[:8], as_json(r[8], connection), 1, computed_at) for r in rows]
    table, cols = qn(meta.db_table), ", ".join(qn(c) for c in RUN_COLUMNS)
    update = ", ".join(f"{qn(c)} = EXCLUDED.{qn(c)}" for c in RUN_COLUMNS[4:] if c != "compute_count")
    update += f", {qn('compute_count')} = {table}.{qn('compute_count')} + 1"
    sql = (
        f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(RUN_COLUMNS))}) "  # noqa: S608
        f"ON CONFLICT ({qn('filing_id')}) DO UPDATE SET {update}"
    )
    with connection.cursor() as cur:
        cur.executemany(sql, rows)


def _insert_rows(model, columns, rows) -> None:
    """Insert plain tuples (ints, strings, Decimals, None) fast: COPY on PostgreSQL, one prepared
    statement executed for every row elsewhere (bulk_create is bound to 999 parameters on SQLite)."""
    if not rows:
        return
    qn = connection.ops.quote_name
    table, cols = qn(model._meta.db_table), ", ".join(qn(c) for c in columns)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.copy(
                f"COPY {table} ({cols}) FROM STDIN"
            ) as copy:  # counted in query logs like a statement
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({placeholders})", rows)  # noqa: S608 (model names)


def filing_indicators_compute(*, filing: Filing, policy: Policy | None = None) -> list[int]:
    return institution_indicators_compute(
        institution_id=filing.institution_id, filing_ids=[filing.pk], policy=policy
    )


def cells_for(indicator_code: str, values: dict) -> dict:
    """The report cells behind an indicator: {field code: value string or None}."""
    return {c: values.get(c) for c in ind.INDICATORS[indicator_code].inputs}


def warning_cases_sync(*, institution_id: int) -> None:
    """One institution's warning cases in step (see warning_cases_sync_many)."""
    warning_cases_sync_many([institution_id])


def warning_cases_sync_many(institution_ids) -> None:
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


def case_regulators(region_code: str):
    """Active regulators whose jurisdiction covers `region_code`, nearest jurisdiction first."""
    from accounts.models import User

    chain = jurisdiction_chain(region_code)
    users = User.objects.filter(role="regulator", is_active=True, region_id__in=chain)
    return sorted(users, key=lambda u: (chain.index(u.region_id), u.username))


def case_owners(institution_ids) -> dict[int, int | None]:
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
            role="regulator", is_active=True, region_id__in={c for chain in chains.values() for c in chain}
        )
        .order_by("username")
        .values_list("region_id", "pk")
    ):
        first.setdefault(region_id, pk)
    return {i: next((first[c] for c in chain if c in first), None) for i, chain in chains.items()}


def _case_changes(case, fields) -> list[str]:
    """Apply `fields` to the case (a closed case keeps its closing proposal); the names changed."""
    if case.status == WarningStatus.CLOSED:
        fields = {k: v for k, v in fields.items() if not k.startswith("close_proposed")}
    changed = [k for k, v in fields.items() if getattr(case, k) != v]
    for k in changed:
        setattr(case, k, fields[k])
    return changed


# --- enqueueing -------------------------------------------------------------------------------------


def indicators_recompute_enqueue(*, filing_ids, user=None, reason: str = ""):
    """One job row for the user, counting institutions; the institutions are computed by tasks of up to
    CHUNK_INSTITUTIONS institutions each, sent after commit. None if nothing to do."""
    by_institution = {str(i): ids for i, ids in filings_by_institution(filing_ids).items()}
    if not by_institution:
        return None
    from .indicator_tasks import recompute_job

    return job_enqueue(
        kind="indicators.recompute",
        task=recompute_job,
        params={
            "institutions": by_institution,
            "reason": reason,
            "filings": sum(len(v) for v in by_institution.values()),
        },
        user=user,
    )


def filings_for_institutions(institution_ids, *, since: dt.date | None = None) -> list[int]:
    qs = counted_filings().filter(institution_id__in=list(institution_ids))
    if since is not None:
        p = Period.containing(since)
        # period end on or after `since`: every quarter from the one containing `since`
        qs = qs.filter(Q(year__gt=p.year) | Q(year=p.year, quarter__gte=p.quarter))
    return list(qs.values_list("pk", flat=True))


# --- thresholds: authority, affected filings, what-if, edits ----------------------------------------


def can_edit_threshold(user, region_code: str) -> bool:
    """Administrators edit every threshold; a regulator only regional ones inside its jurisdiction."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.role == ADMIN_ROLE or user.is_superuser:
        return True
    return bool(
        user.role == "regulator"
        and user.region_id
        and region_code
        and ind.region_contains(user.region_id, region_code)
    )


def _subject(run: IndicatorRun) -> ind.Subject:
    period = Period(run.year, run.quarter)
    return ind.Subject(run.region_code, period.end, run.quarter, run.gov_backed, run.small_business_focus)


def _candidate_runs(versions, user=None):
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


def filings_affected_by_threshold(before, after) -> set[int]:
    """Filings to which the old or the new version of a threshold applies."""
    versions = [t for t in (before, after) if t is not None]
    return {
        r.filing_id
        for r in _candidate_runs(versions)
        if any(ind.threshold_applies(t, _subject(r)) for t in versions)
    }


def _breaching(threshold, runs, values) -> set[int]:
    out = set()
    for r in runs:
        value = values.get((r.filing_id, threshold.indicator))
        if (
            ind.threshold_applies(threshold, _subject(r))
            and ind.judge(threshold.comparator, value, threshold.value) is False
        ):
            out.add(r.filing_id)
    return out


def threshold_preview(*, threshold: Threshold | None, proposed: dict, user=None) -> list[dict]:
    """What-if: per quarter, the institutions that would newly breach or clear if `threshold` (None for
    a new one) took the `proposed` field values — judged by the same functions as the computation,
    on the stored indicator values. [{"period", "newly": [(institution id, name, value)], "cleared": [...]}]"""
    new = SimpleNamespace(**{f: proposed.get(f, getattr(threshold, f, None)) for f in THRESHOLD_FIELDS})
    versions = [new] if threshold is None else [threshold, new]
    candidates = _candidate_runs(versions, user)
    runs = list(candidates)
    codes = {t.indicator for t in versions}
    # A subquery, not a list of ids: a national threshold covers more filings than a query may bind.
    values = {
        (fid, code): v
        for fid, code, v in IndicatorValue.objects.filter(
            filing_id__in=candidates.values("filing_id"), code__in=codes
        ).values_list("filing_id", "code", "value")
    }
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
                    "value": values.get((r.filing_id, new.indicator)),
                }
            )
    for entry in by_period.values():
        entry["newly"].sort(key=lambda e: e["institution"])
        entry["cleared"].sort(key=lambda e: e["institution"])
    return [by_period[p] for p in sorted(by_period, reverse=True)]


def _clean_threshold(fields: dict) -> dict:
    fields = {k: v for k, v in fields.items() if k in THRESHOLD_FIELDS}
    if fields.get("indicator") not in ind.INDICATORS:
        raise ValidationError(f"未知指标 / unknown indicator: {fields.get('indicator')!r}")
    if fields.get("comparator") not in ind.COMPARATORS:
        raise ValidationError(f"未知比较符 / unknown comparator: {fields.get('comparator')!r}")
    if fields.get("effective_to") and fields["effective_to"] < fields["effective_from"]:
        raise ValidationError("失效日期早于生效日期 / effective_to is before effective_from")
    fields["region_code"] = fields.get("region_code") or ""
    if not isinstance(fields.get("value"), Decimal):
        fields["value"] = Decimal(str(fields["value"]))
    return fields


@transaction.atomic
def threshold_save(*, actor, threshold: Threshold | None = None, note: str = "", code: str = "", **fields):
    """Create or change a threshold (audit trail), then recompute exactly the filings the old or new
    version applies to. Returns (threshold, job or None)."""
    fields = _clean_threshold(fields)
    if not can_edit_threshold(actor, fields["region_code"]):
        raise PermissionDenied("无权修改该地区的阈值 / not allowed to edit thresholds of this region")
    if threshold is not None:
        threshold = Threshold.objects.select_for_update().get(pk=threshold.pk)
        if not can_edit_threshold(actor, threshold.region_code):
            raise PermissionDenied("无权修改该阈值 / not allowed to edit this threshold")
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
    job = indicators_recompute_enqueue(filing_ids=affected, user=actor, reason=f"threshold {threshold.code}")
    return threshold, job


def _proposed_parameters(rows, *, key, value, effective_from, effective_to=None):
    """The parameter rows as they would be after setting `key` from `effective_from` (unsaved)."""
    proposed = PolicyParameter(
        key=key, value=Decimal(str(value)), effective_from=effective_from, effective_to=effective_to
    )
    return [r for r in rows if (r.key, r.effective_from) != (key, effective_from)] + [proposed]


def _runs_with_changed_parameters(rows_before, rows_after, runs=None):
    """The indicator runs (of `runs`, default all) of the computed quarters whose parameters in force
    differ between the two sets of parameter rows."""
    runs = IndicatorRun.objects.all() if runs is None else runs
    periods = {Period(y, q) for y, q in IndicatorRun.objects.values_list("year", "quarter").distinct()}
    cond = Q(pk__in=[])
    for p in periods:
        if params_for(p.end, rows_before) != params_for(p.end, rows_after):
            cond |= Q(year=p.year, quarter=p.quarter)
    return runs.filter(cond)


def parameter_preview(
    *, key: str, value: Decimal, effective_from: dt.date, effective_to: dt.date | None = None, user=None
) -> list[dict]:
    """What-if for a computation parameter: per quarter, the rules each filing would newly breach or
    clear, recomputing the filings whose parameters change with the same `evaluate_filing` as the
    computation and comparing with the stored breaches. Shaped like `threshold_preview`, plus the rule
    code of each entry."""
    if key not in ParameterKey.values:
        raise ValidationError(f"未知参数 / unknown parameter: {key!r}")
    rows = list(PolicyParameter.objects.all())
    policy = Policy(
        parameters=_proposed_parameters(
            rows, key=key, value=value, effective_from=effective_from, effective_to=effective_to
        )
    )
    runs = _runs_with_changed_parameters(
        rows, policy.parameters, None if user is None else IndicatorRun.objects.for_user(user)
    )
    stored: dict[int, set[int]] = defaultdict(set)
    for filing_id, threshold_id in IndicatorBreach.objects.filter(
        filing_id__in=runs.values("filing_id")
    ).values_list("filing_id", "threshold_id"):
        stored[filing_id].add(threshold_id)
    codes = {t.pk: t.code for t in policy.thresholds}
    by_period: dict[Period, dict] = {}
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
        after = {t.pk: v for t, v, ok in judged if not ok}
        before = stored[filing_id]
        for tid in sorted(set(after) ^ before):
            entry = by_period.setdefault(period, {"period": period, "newly": [], "cleared": []})
            entry["newly" if tid in after else "cleared"].append(
                {
                    "institution_id": institution_id,
                    "institution": name,
                    "filing_id": filing_id,
                    "rule": codes.get(tid, ""),
                    "value": after.get(tid),
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


@transaction.atomic
def parameter_save(
    *,
    actor,
    key: str,
    value: Decimal,
    effective_from: dt.date,
    source: str,
    effective_to: dt.date | None = None,
    note: str = "",
):
    """Set a computation parameter from a date (a new row, or the row starting that day changed) and
    recompute exactly the filings whose parameters in force change. Administrators only."""
    if not (actor.is_authenticated and (actor.role == ADMIN_ROLE or actor.is_superuser)):
        raise PermissionDenied(
            "仅系统管理员可修改指标计算参数 / only administrators change indicator parameters"
        )
    if key not in ParameterKey.values:
        raise ValidationError(f"未知参数 / unknown parameter: {key!r}")
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


# --- warning case transitions -----------------------------------------------------------------------


def _check_case_authority(actor, case):
    if actor.role not in ("regulator", ADMIN_ROLE) and not actor.is_superuser:
        raise PermissionDenied("仅监管人员可处理预警 / only regulators handle warnings")
    if not WarningCase.objects.for_user(actor).filter(pk=case.pk).exists():
        raise PermissionDenied("无权处理该预警 / not allowed to handle this warning")


@transaction.atomic
def warning_case_acknowledge(*, actor, case: WarningCase, note: str = "") -> WarningCase:
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
def warning_case_assign(*, actor, case: WarningCase, assignee, note: str = "") -> WarningCase:
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
def warning_case_close(*, actor, case: WarningCase, note: str) -> WarningCase:
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
