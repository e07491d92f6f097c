"""Computing indicators for filings and judging them against the thresholds in force, in chunks of
institutions with a fixed number of queries each; enqueueing recomputation. Formulas live in
`indicators.py` and judging in `rules.py`; this module only loads and stores."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.jobs import job_enqueue
from core.memo import per_request
from core.policy import governing
from institutions.selectors import government_backed_on
from reporting.models import Filing, values_as_decimals
from reporting.periods import Period

from .. import indicators as ind
from .. import rules
from ..models import (
    IndicatorBreach,
    IndicatorRun,
    IndicatorValue,
    ParameterKey,
    PolicyParameter,
    Severity,
    Threshold,
)
from .cases import warning_cases_sync_many
from .setcompute import chunk_periods, compute_chunk_sql, lock_institutions, rejudge_threshold_sql

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from django.db import models
    from django.db.models import QuerySet

    from core.models import Job
    from core.roles import Actor

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
VALUE_COLUMNS = (
    "filing_id",
    "institution_id",
    "year",
    "quarter",
    "code",
    "value",
    "exact",
    "base_not_positive",
)
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
SET_BASED_FROM = 20  # fewer listed filings than this (one filing, on submission) are computed in Python
IN_LIST_MAX = 10_000  # ids per IN (...) list: SQLite and psycopg bound the parameters of a statement


# --- policy in force --------------------------------------------------------------------------------


def params_for(day: dt.date, rows: Iterable) -> ind.Params:
    """The parameters in force on `day` among parameter rows (PolicyMissing names a key without one)."""
    chosen = governing(PolicyParameter, rows, day)
    v = {key: chosen.require(key).value for key in ParameterKey.values}
    return ind.Params(
        weight_small_micro_farmer=v["weight_small_micro_farmer"],
        weight_housing=v["weight_housing"],
        weight_bond_aa=v["weight_bond_aa"],
        weight_other=v["weight_other"],
        deduct_guarantee_equity=v["deduct_guarantee_equity"] != 0,
        sbf_balance_share=v["sbf_balance_share"],
        sbf_client_share=v["sbf_client_share"],
    )


@per_request
def params_on(day: dt.date) -> ind.Params:
    """The parameters in force on `day` (one query, once per web request: core.memo)."""
    return params_for(day, PolicyParameter.objects.in_force(day))


class Policy:
    """Parameters and thresholds loaded once (two queries) for a batch of computations."""

    def __init__(self, parameters=None, thresholds=None):
        self.parameters = list(PolicyParameter.objects.all()) if parameters is None else parameters
        self.thresholds = list(Threshold.objects.all()) if thresholds is None else thresholds
        self.stored_thresholds = thresholds is None  # the thresholds are those in the database
        self._params: dict[dt.date, ind.Params] = {}

    def params(self, day: dt.date) -> ind.Params:
        if day not in self._params:
            self._params[day] = params_for(day, self.parameters)
        return self._params[day]


def thresholds_in_force(
    *, region_code: str, on: dt.date, gov_backed: bool, small_business_focus: bool | None, quarter: int
) -> list[Threshold]:
    """The thresholds in force that apply to a subject on a date (scope and Q4-only rules included)."""
    subject = rules.Subject(region_code, on, quarter, gov_backed, small_business_focus)
    return [
        t
        for t in Threshold.objects.in_force(on, region_code).order_by("indicator", "code")
        if rules.threshold_applies(t, subject)
    ]


def counted_filings() -> QuerySet[Filing]:
    """Filings whose current version was submitted (submitted or accepted)."""
    return Filing.objects.filter(current_version__submitted_at__isnull=False)


# --- computation ------------------------------------------------------------------------------------


def evaluate_filing(
    values: dict, *, region_code: str, period: Period, gov_backed: bool, policy: Policy
) -> tuple[dict[str, Decimal | None], rules.Subject, list[tuple]]:
    """Pure part of one filing's computation: (indicator values as stored, subject, [(threshold, exact
    value, complies)]). Thresholds are judged on the exact values; only the stored ones are rounded."""
    computed, _exact, subject, judged = evaluate_filing_exact(
        values, region_code=region_code, period=period, gov_backed=gov_backed, policy=policy
    )
    return computed, subject, judged


def evaluate_filing_exact(
    values: dict, *, region_code: str, period: Period, gov_backed: bool, policy: Policy
) -> tuple[dict[str, Decimal | None], dict[str, ind.Value], rules.Subject, list[tuple]]:
    """`evaluate_filing` with the exact values too: (stored, exact, subject, judged)."""
    exact = ind.compute_exact(values, policy.params(period.end))
    subject = rules.Subject(region_code, period.end, period.quarter, gov_backed, rules.subject_focus(exact))
    computed = {code: ind.stored(value) for code, value in exact.items()}
    return computed, exact, subject, rules.evaluate(exact, subject, policy.thresholds)


def institution_indicators_compute(
    *, institution_id: int, filing_ids: Iterable[int] | None = None, policy: Policy | None = None
) -> list[int]:
    """(Re)compute every counted filing of one institution (or the given ones); idempotent. Returns the
    filing ids computed. Warning cases of the institution are brought in step afterwards."""
    return _compute_chunk(
        {institution_id: None if filing_ids is None else list(filing_ids)}, policy or Policy()
    )


def indicators_compute_batch(
    *,
    filing_ids: Iterable[int] | None = None,
    institution_ids: Iterable[int] = None,
    by_institution: dict[int, list[int]] | None = None,
    policy: Policy | None = None,
) -> list[int]:
    """(Re)compute the given filings, or every counted filing of the given institutions, or the filings
    listed by institution (`filings_by_institution`, as a recompute job holds them), as
    `institution_indicators_compute` does for each institution, CHUNK_INSTITUTIONS institutions per
    transaction with a fixed number of queries each. Returns the filing ids computed."""
    if sum(x is not None for x in (filing_ids, institution_ids, by_institution)) != 1:
        raise TypeError("give filing_ids, institution_ids or by_institution")
    policy = policy or Policy()
    if filing_ids is not None:
        scope = filings_by_institution(filing_ids)
    elif by_institution is not None:
        scope = {int(i): sorted(ids) for i, ids in sorted(by_institution.items(), key=lambda x: int(x[0]))}
    else:
        scope = {i: None for i in sorted(set(institution_ids))}
    items = list(scope.items())
    computed = []
    for start in range(0, len(items), CHUNK_INSTITUTIONS):
        computed += _compute_chunk(dict(items[start : start + CHUNK_INSTITUTIONS]), policy)
    return computed


@transaction.atomic
def threshold_rejudge_batch(*, filing_ids: Iterable[int], threshold_id: int) -> list[int]:
    """Judge the stored exact values of the given filings again against one threshold as it now is (a
    changed limit, scope, region or dates): its breaches, the runs' compliant lists, breach counts and
    the warning cases of the institutions whose results changed — no indicator value is recomputed.
    The runs count it as a computation. Set-based (PostgreSQL) only. Returns the filing ids."""
    ids = sorted(set(filing_ids))
    changed = set()
    for start in range(0, len(ids), IN_LIST_MAX):
        part = ids[start : start + IN_LIST_MAX]
        changed |= rejudge_threshold_sql(threshold_id, "SELECT unnest(%s::bigint[])", [part])
        IndicatorRun.objects.filter(filing_id__in=part).update(
            compute_count=F("compute_count") + 1, computed_at=timezone.now()
        )
    if changed:
        warning_cases_sync_many(sorted(changed))
    return ids


def filings_by_institution(filing_ids: Iterable[int] | None) -> dict[int, list[int]]:
    """{institution id: sorted filing ids} of the given filings, institutions in id order."""
    ids = sorted(set(filing_ids))
    out: dict[int, list[int]] = defaultdict(list)
    if connection.vendor == "postgresql":  # one array parameter: building IN lists of 10,000 costs seconds
        with connection.cursor() as cur:
            cur.execute("SELECT institution_id, id FROM reporting_filing WHERE id = ANY(%s)", [ids])
            rows = cur.fetchall()
    else:
        rows = [
            row
            for start in range(0, len(ids), IN_LIST_MAX)
            for row in Filing.objects.filter(pk__in=ids[start : start + IN_LIST_MAX])
            .order_by()
            .values_list("institution_id", "pk")
        ]
    for institution_id, pk in rows:
        out[institution_id].append(pk)
    return {i: sorted(out[i]) for i in sorted(out)}


def set_based() -> bool:
    """Whether chunks are computed in SQL (`setcompute.py`, PostgreSQL) rather than in Python (any
    database; the readable definition, and the path on SQLite, whose numbers are floats)."""
    return connection.vendor == "postgresql" and getattr(settings, "INDICATORS_SET_BASED", True)


@transaction.atomic
def _compute_chunk(by_institution: dict[int, list[int] | None], policy: Policy) -> list[int]:
    """Compute the counted filings of some institutions — all of them (None) or the listed ones — and
    remove the results of listed filings no longer counted; then sync their warning cases."""
    listed = sum(len(ids) for ids in by_institution.values() if ids is not None)
    few = None not in by_institution.values() and listed < SET_BASED_FROM
    if set_based() and policy.stored_thresholds and not few:
        return _compute_chunk_sql(by_institution, policy)
    return _compute_chunk_python(by_institution, policy)


def _compute_chunk_sql(by_institution: dict[int, list[int] | None], policy: Policy) -> list[int]:
    """`_compute_chunk` in SQL: only the values, breaches and cases that change are written."""
    params = {(y, q): policy.params(Period(y, q).end) for y, q in chunk_periods(by_institution)}
    ids, changed = compute_chunk_sql(by_institution, params)
    if changed:
        warning_cases_sync_many(sorted(changed))
    return ids


def _compute_chunk_python(by_institution: dict[int, list[int] | None], policy: Policy) -> list[int]:
    """`_compute_chunk` in Python, with the functions of indicators.py and rules.py."""
    institutions = list(by_institution)
    lock_institutions(institutions)  # the set-based path inserts without upsert where nothing is stored
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
        computed, exact, subject, judged = evaluate_filing_exact(
            values_as_decimals(values),
            region_code=region,
            period=period,
            gov_backed=institution_id in gov_on[period.end],
            policy=policy,
        )
        common = (pk, institution_id, year, quarter)
        values_rows += [(*common, c, v, *_exact_columns(exact[c])) for c, v in computed.items()]
        breach_rows += [
            (*common, t.pk, t.indicator, ind.stored(v), t.comparator, t.value, t.severity)
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
    if gone:  # the review queue orders by it without reading supervision's tables
        breaches = (
            IndicatorBreach.objects.filter(filing=OuterRef("pk"), severity=Severity.BREACH)
            .order_by()
            .values("filing")
            .annotate(n=Count("pk"))
            .values("n")
        )
        Filing.objects.filter(pk__in=gone).update(breach_count=Coalesce(Subquery(breaches), 0))
    if touched:
        warning_cases_sync_many(sorted(touched))
    return ids


def _exact_columns(value: ind.Value) -> tuple[Decimal | None, bool]:
    """(exact, base_not_positive) as stored beside the rounded value."""
    if isinstance(value, ind.NonPositiveBase):
        return None, True
    return value, False


def _upsert_runs(rows: Iterable) -> None:
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


def _insert_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable) -> None:
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


# --- enqueueing -------------------------------------------------------------------------------------


def indicators_recompute_enqueue(
    *,
    filing_ids: Iterable[int] | None,
    user: Actor = None,
    reason: str = "",
    rejudge_threshold: int | None = None,
) -> Job | None:
    """One job row for the user, counting institutions; the institutions are computed by tasks of up to
    CHUNK_INSTITUTIONS institutions each, sent after commit. None if nothing to do. With
    `rejudge_threshold` (a threshold id; set-based only) the filings' stored values are only judged
    again against that threshold (`threshold_rejudge_batch`), nothing is recomputed."""
    by_institution = {str(i): ids for i, ids in filings_by_institution(filing_ids).items()}
    if not by_institution:
        return None
    from ..tasks import recompute_job

    return job_enqueue(
        kind="indicators.recompute",
        task=recompute_job,
        params={
            "institutions": by_institution,
            "reason": reason,
            "filings": sum(len(v) for v in by_institution.values()),
            **({"rejudge_threshold": rejudge_threshold} if rejudge_threshold else {}),
        },
        user=user,
    )


def filings_for_institutions(institution_ids: Iterable[int], *, since: dt.date | None = None) -> list[int]:
    qs = counted_filings().filter(institution_id__in=list(institution_ids))
    if since is not None:
        p = Period.containing(since)
        # period end on or after `since`: every quarter from the one containing `since`
        qs = qs.filter(Q(year__gt=p.year) | Q(year=p.year, quarter__gte=p.quarter))
    return list(qs.values_list("pk", flat=True))
