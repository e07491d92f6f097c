"""Benchmark: recomputing indicators for every institution × 8 quarters through the recompute job the
app uses (chunks of institutions), against one SQL statement computing the leverage of the same rows
(same data, same run); queries per chunk; single-filing recompute; dashboard query counts at two sizes.

    .venv/bin/python bench/indicators_recompute.py            # 5,600 institutions × 8 quarters
    .venv/bin/python bench/indicators_recompute.py --small    # 300 institutions
    DATABASE_URL=postgres://… .venv/bin/python bench/indicators_recompute.py

Runs in a throwaway test database (created and dropped here); prints ratios, asserts nothing. Tasks
run in-process: leave REDIS_URL unset.
"""

import argparse
import logging
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guarantee_portal.settings")

import django  # noqa: E402

django.setup()
# The chunk tasks run in-process here; their per-task log lines would bury the results.
logging.getLogger("celery.app.trace").setLevel(logging.WARNING)

from bench_result import report  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

QUARTERS = [(2024, 1), (2024, 2), (2024, 3), (2024, 4), (2025, 1), (2025, 2), (2025, 3), (2025, 4)]
WEIGHTED = (
    "0.75*(v.small + v.farmer) + 0.30*v.housing + 1.00*(v.loan - v.small - v.farmer - v.housing)"
    " + 0.80*v.bond_aa + 1.00*(v.bond - v.bond_aa) + 1.00*v.other"
)
FIELDS = {
    "loan": "loan_balance",
    "small": "loan_small_micro_le5m",
    "farmer": "loan_farmer_le2m",
    "housing": "loan_housing",
    "bond": "bond_balance",
    "bond_aa": "bond_aa_balance",
    "other": "other_fin_balance",
    "net": "net_assets",
    "equity": "equity_in_guarantee_companies",
}


def leverage_sql(filing_ids=None) -> str:
    """One statement: leverage of every counted filing's current version, from the JSON values."""
    if connection.vendor == "postgresql":
        cols = ", ".join(f"(fv.\"values\"->>'{code}')::numeric AS {alias}" for alias, code in FIELDS.items())
    else:
        cols = ", ".join(
            f"CAST(json_extract(fv.\"values\", '$.{code}') AS REAL) AS {alias}"
            for alias, code in FIELDS.items()
        )
    where = "fv.submitted_at IS NOT NULL"
    if filing_ids:
        where += f" AND f.id IN ({', '.join(str(int(i)) for i in filing_ids)})"
    # built from constants and integer ids only
    return (
        f"SELECT v.id, ({WEIGHTED}) / NULLIF(v.net - v.equity, 0) FROM (SELECT f.id, {cols} "  # noqa: S608
        f"FROM reporting_filing f JOIN reporting_filingversion fv ON fv.id = f.current_version_id WHERE {where}) v"
    )


# The reference for the full recompute: every indicator of every counted filing computed in SQL, one
# INSERT … SELECT per indicator family into a scratch table (PostgreSQL; literal default weights).
LIABILITY = (
    "(0.75*(v.loan_small_micro_le5m + v.loan_farmer_le2m) + 0.30*v.loan_housing"
    " + 1.00*(v.loan_balance - v.loan_small_micro_le5m - v.loan_farmer_le2m - v.loan_housing)"
    " + 0.80*v.bond_aa_balance + 1.00*(v.bond_balance - v.bond_aa_balance) + 1.00*v.other_fin_balance)"
)
ASSET_BASE = "(v.total_assets - v.compensation_receivable)"


def _col(x: str) -> str:
    return x if x.startswith("(") else f"v.{x}"


FAMILIES = {
    "liability": [
        ("fin_liability_balance", LIABILITY),
        ("leverage", f"{LIABILITY} / NULLIF(v.net_assets - v.equity_in_guarantee_companies, 0)"),
        ("compensation_reserve_ratio", f"v.compensation_reserve / NULLIF({LIABILITY}, 0)"),
        ("liability_report_gap", f"v.fin_liability_reported - {LIABILITY}"),
    ],
    "over capital or assets": [
        ("single_client_concentration", "v.top1_client_liability / NULLIF(v.net_assets, 0)"),
        ("group_concentration", "v.top1_group_liability / NULLIF(v.net_assets, 0)"),
        ("class12_asset_ratio", f"(v.assets_class_1 + v.assets_class_2) / NULLIF({ASSET_BASE}, 0)"),
        ("class1_asset_ratio", f"v.assets_class_1 / NULLIF({ASSET_BASE}, 0)"),
        ("class3_asset_ratio", f"v.assets_class_3 / NULLIF({ASSET_BASE}, 0)"),
        (
            "capital_adequacy_ratio",
            "(v.net_assets + v.unearned_reserve + v.compensation_reserve) / NULLIF(v.total_assets, 0)",
        ),
    ],
    "reported values": [
        ("controller_guarantees", "v.controller_guarantee_balance"),
        ("extra_charges", "v.extra_charges"),
    ],
    "focus test": [
        (
            "small_business_focus",
            "CASE WHEN v.farmer_small_micro_balance / NULLIF(v.fin_balance, 0) >= 0.5 AND "
            "v.farmer_small_micro_clients / NULLIF(v.fin_inforce_clients, 0) >= 0.8 THEN 1 ELSE 0 END",
        ),
    ],
    "ratios": [
        (code, f"{_col(num)} / NULLIF({_col(den)}, 0)")
        for code, num, den in [
            ("unearned_reserve_ratio", "unearned_reserve", "guarantee_fee_income"),
            (
                "provision_coverage",
                "(v.compensation_reserve + v.unearned_reserve)",
                "compensation_receivable",
            ),
            ("compensation_rate", "compensation", "fin_released"),
            ("cumulative_compensation_rate", "compensation_cumulative", "released_cumulative"),
            ("recovery_rate", "recovery", "(v.compensation_balance_opening + v.compensation)"),
            ("average_fee_rate", "fin_fee_income", "annualized_new_amount"),
            ("fee_rate_le5m", "fee_new_le5m", "annualized_new_amount_le5m"),
            ("fee_rate_gt5m", "fee_new_gt5m", "annualized_new_amount_gt5m"),
            ("support_share_amount", "small_micro_agri_new", "fin_new"),
            ("single_le5m_share", "new_single_le5m", "fin_new"),
            ("single_le10m_share", "new_single_le10m", "fin_new"),
            ("support_share_clients", "small_micro_agri_clients", "fin_inforce_clients"),
            ("support_share_new_clients", "small_micro_agri_new_clients", "new_clients"),
            ("bank_risk_share", "bank_risk_amount", "bank_shared_balance"),
            ("bank_sharing_coverage", "bank_shared_balance", "loan_balance"),
        ]
    ],
}


def all_indicators_sql() -> float:
    """Seconds to compute every indicator of every counted filing into a scratch table, one INSERT …
    SELECT per family (reading the inputs from the versions' JSON each time), on PostgreSQL."""
    from supervision.indicators import INDICATORS

    fields = sorted({c for i in INDICATORS.values() for c in i.inputs})
    cols = ", ".join(f"NULLIF(fv.\"values\"->>'{c}', '')::numeric AS {c}" for c in fields)
    source = (
        f"(SELECT f.id, {cols} FROM reporting_filing f JOIN reporting_filingversion fv "  # noqa: S608
        "ON fv.id = f.current_version_id WHERE fv.submitted_at IS NOT NULL) v"
    )
    assert sum(len(f) for f in FAMILIES.values()) == len(INDICATORS)
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_scratch")
        cur.execute("CREATE TEMP TABLE bench_scratch (filing_id bigint, code text, value numeric)")
        for family in FAMILIES.values():
            rows = ", ".join(f"('{code}', ({expr})::numeric)" for code, expr in family)
            cur.execute(
                f"INSERT INTO bench_scratch SELECT v.id, x.code, round(x.value, 6) FROM {source} "  # noqa: S608
                f"CROSS JOIN LATERAL (VALUES {rows}) x(code, value)"
            )
        cur.execute("SELECT count(*) FROM bench_scratch")
        count = cur.fetchone()[0]
    elapsed = time.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute("DROP TABLE bench_scratch")
    print(
        f"reference: all {len(INDICATORS)} indicators in SQL, one INSERT … SELECT per family: {elapsed:.3f}s ({count} values)"
    )
    return elapsed


def rejudge_sql(indicator: str, comparator: str, limit: Decimal) -> tuple[float, int]:
    """Reference for the threshold what-if: one statement re-judging the stored values of an indicator
    against a changed limit (the filings that would breach)."""
    op = {"<=": "<=", ">=": ">=", "<": "<", ">": ">", "=": "="}[comparator]
    sql = (
        "SELECT v.filing_id, v.institution_id, v.year, v.quarter, v.value FROM supervision_indicatorvalue v "  # noqa: S608
        f"WHERE v.code = %s AND v.value IS NOT NULL AND NOT (v.value {op} %s)"
    )
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(sql, [indicator, limit])
        n = len(cur.fetchall())
    return time.perf_counter() - t0, n


def make_data(n: int):
    from institutions.demo import demo_credit_code
    from institutions.models import Institution
    from reporting.models import Filing, FilingVersion, ReportTemplate
    from tests.supervision.factories import BASE

    cities = ["510104", "510107", "510703", "510603", "330302", "420102", "371502", "500113"]
    Institution.objects.bulk_create(
        [
            Institution(
                name=f"基准{i}号融资担保有限公司",
                credit_code=demo_credit_code(cities[i % 8], 5_000_000 + i),
                region_id=cities[i % 8],
                level="county",
                registered_capital=Decimal(30000),
                paid_in_capital=Decimal(30000),
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    template = ReportTemplate.objects.get(version=1)
    institutions = list(Institution.objects.filter(name__startswith="基准").values_list("pk", flat=True))
    Filing.objects.bulk_create(
        [
            Filing(institution_id=i, year=y, quarter=q, template=template, status="accepted")
            for i in institutions
            for y, q in QUARTERS
        ],
        batch_size=5000,
    )
    rnd = random.Random(1)
    from django.utils import timezone

    now = timezone.now()
    versions = []
    for fid in Filing.objects.values_list("pk", flat=True):
        values = dict(BASE)
        values["net_assets"] = str(Decimal(rnd.randint(15000, 60000)))
        values["top1_client_liability"] = str(Decimal(rnd.randint(1000, 6000)))
        versions.append(FilingVersion(filing_id=fid, number=1, values=values, submitted_at=now))
    FilingVersion.objects.bulk_create(versions, batch_size=5000)
    pairs = FilingVersion.objects.values_list("filing_id", "pk")
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE reporting_filing SET current_version_id = (SELECT v.id FROM reporting_filingversion v "
            "WHERE v.filing_id = reporting_filing.id)"
        )
    return institutions, len(pairs)


def timed(fn, repeat=1):
    best = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - t0
        best = elapsed if best is None else min(best, elapsed)
    return best, result


def dashboard_queries(client) -> int:
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("supervision:dashboard")).status_code == 200
    return len(ctx.captured_queries)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true", help="300 institutions instead of 5,600")
    parser.add_argument("--institutions", type=int)
    args = parser.parse_args()
    n = args.institutions or (300 if args.small else 5600)

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from django.conf import settings

        from accounts.models import User
        from accounts.services import regions_load
        from reporting.models import Filing
        from supervision.models import IndicatorBreach, IndicatorRun, IndicatorValue, WarningCase
        from supervision.services.compute import (
            CHUNK_INSTITUTIONS,
            counted_filings,
            filing_indicators_compute,
            indicators_compute_batch,
            indicators_recompute_enqueue,
        )

        if not settings.CELERY_TASK_ALWAYS_EAGER:
            sys.exit("unset REDIS_URL: the benchmark runs the recompute tasks in-process")
        regions_load()
        t0 = time.perf_counter()
        institutions, filings = make_data(n)
        print(
            f"database: {connection.vendor}; {len(institutions)} institutions × {len(QUARTERS)} quarters = "
            f"{filings} filings (data built in {time.perf_counter() - t0:.1f}s)"
        )

        sql_time, rows = timed(lambda: _fetch(leverage_sql()), repeat=3)
        print(f"one SQL statement, leverage of {len(rows)} filings: {sql_time:.3f}s")
        reference = None
        if connection.vendor == "postgresql":
            reference = min(all_indicators_sql() for _ in range(3))

        def recompute_all():
            """What a policy change touching every filing does: one job, tasks of CHUNK_INSTITUTIONS institutions."""
            job = indicators_recompute_enqueue(
                filing_ids=counted_filings().values_list("pk", flat=True), reason="bench"
            )
            job.refresh_from_db()
            assert (job.status, job.done_count) == ("done", len(institutions)), (job.status, job.message)

        full_time, _ = timed(recompute_all)
        values = IndicatorValue.objects.count()
        print(
            f"full recompute (28 indicators per filing, thresholds, warning cases) through the recompute job, "
            f"{CHUNK_INSTITUTIONS} institutions per task: {full_time:.1f}s for {values} values — "
            f"{full_time / len(institutions) * 1000:.2f} ms per institution"
        )
        print(f"RATIO full recompute ÷ SQL leverage: {full_time / sql_time:.0f}×")
        again_time, _ = timed(recompute_all)
        print(
            f"full recompute again (replacing the stored results): {again_time:.1f}s — RATIO {again_time / sql_time:.0f}×"
        )
        if reference:
            print(f"RATIO full recompute ÷ SQL of all indicators: {full_time / reference:.1f}×")
            report("indicators: full recompute ÷ SQL of all indicators", full_time / reference, 5.0)
            report("indicators: full recompute again ÷ SQL of all indicators", again_time / reference, 5.0)
        whatif_bench()

        chunk = institutions[:CHUNK_INSTITUTIONS]
        with CaptureQueriesContext(connection) as ctx:
            indicators_compute_batch(institution_ids=chunk)
        print(
            f"queries per chunk of {len(chunk)} institutions ({len(chunk) * len(QUARTERS)} filings): "
            f"{len(ctx.captured_queries)}"
        )

        # agreement: the SQL leverage equals the stored leverage for every row (to 6 decimals)
        stored = dict(IndicatorValue.objects.filter(code="leverage").values_list("filing_id", "value"))
        mismatches = sum(
            1
            for fid, lev in rows
            if (lev is None) != (stored[fid] is None)
            or (lev is not None and abs(Decimal(str(lev)) - stored[fid]) > Decimal("0.000001"))
        )
        print(f"SQL vs stored leverage mismatches: {mismatches}")

        if connection.vendor == "postgresql":
            python_time, differ = python_agreement(recompute_all, settings)
            print(
                f"the Python functions from scratch over the same data: {python_time:.1f}s; values and breaches "
                f"that differ from the set-based results: {differ}"
            )
            report("indicators: set-based vs Python, values and breaches that differ", differ, 0, unit="rows")

        filing = Filing.objects.order_by("pk").first()
        single_sql, _ = timed(lambda: _fetch(leverage_sql([filing.pk])), repeat=20)
        single, _ = timed(lambda: filing_indicators_compute(filing=filing), repeat=20)
        print(
            f"single-filing recompute: {single * 1000:.1f} ms (best of 20); one-row SQL leverage {single_sql * 1000:.2f} ms; "
            f"RATIO {single / single_sql:.0f}×"
        )
        report("indicators: single-filing recompute ÷ one-row SQL leverage", single / single_sql)

        from django.test import Client

        admin = User.objects.create(username="bench_admin", role="admin", is_staff=True)
        client = Client()
        client.force_login(admin)
        dashboard_queries(client)
        full_q = dashboard_queries(client)
        keep = institutions[: max(8, n // 50)]
        for model in (WarningCase, IndicatorBreach, IndicatorValue, IndicatorRun):
            model.objects.exclude(institution_id__in=keep).delete()
        small_q = dashboard_queries(client)
        print(f"dashboard queries: {full_q} with {n} institutions, {small_q} with {len(keep)} institutions")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def python_agreement(recompute_all, settings) -> tuple[float, int]:
    """Row for row over the whole benchmark data: the set-based results are set aside, every derived row
    is removed, the same recompute runs through the Python functions (the readable definition), and the
    two are compared in SQL: every value (to the stored six decimals, the exact quotient to the 26th
    significant digit, as tests/supervision/test_setcompute.py does), the zero-base flag, and every breach.
    Returns (seconds of the Python recompute, rows that differ)."""
    from reporting.models import Filing

    with connection.cursor() as cur:
        cur.execute(
            "CREATE UNLOGGED TABLE bench_sql_values AS "
            "SELECT filing_id, code, value, exact, base_not_positive FROM supervision_indicatorvalue"
        )
        cur.execute(
            "CREATE UNLOGGED TABLE bench_sql_breaches AS SELECT filing_id, threshold_id, institution_id, "
            'year, quarter, indicator, value, comparator, "limit", severity FROM supervision_indicatorbreach'
        )
        cur.execute(
            "TRUNCATE supervision_warningcase, supervision_indicatorbreach, supervision_indicatorvalue, "
            "supervision_indicatorrun CASCADE"
        )
    Filing.objects.update(breach_count=0)
    settings.INDICATORS_SET_BASED = False
    try:
        seconds, _ = timed(recompute_all)
    finally:
        settings.INDICATORS_SET_BASED = True
    values = """
        SELECT count(*) FROM bench_sql_values s FULL JOIN supervision_indicatorvalue p USING (filing_id, code)
        WHERE s.filing_id IS NULL OR p.filing_id IS NULL
           OR s.value IS DISTINCT FROM p.value OR s.base_not_positive <> p.base_not_positive
           OR (s.exact IS NULL) <> (p.exact IS NULL)
           OR abs(s.exact - p.exact) > abs(p.exact) * 1e-26 + 1e-29"""
    breaches = """
        SELECT count(*) FROM bench_sql_breaches s FULL JOIN supervision_indicatorbreach p
            USING (filing_id, threshold_id)
        WHERE s.filing_id IS NULL OR p.filing_id IS NULL
           OR (s.institution_id, s.year, s.quarter, s.indicator, s.comparator, s."limit", s.severity)
              IS DISTINCT FROM (p.institution_id, p.year, p.quarter, p.indicator, p.comparator, p."limit", p.severity)
           OR s.value IS DISTINCT FROM p.value"""
    differ = _fetch(values)[0][0] + _fetch(breaches)[0][0]
    with connection.cursor() as cur:
        cur.execute("DROP TABLE bench_sql_values, bench_sql_breaches")
    return seconds, differ


def whatif_bench():
    """The threshold what-if at this scale (a changed leverage cap) ÷ one statement re-judging the
    stored values against the changed cap."""
    from supervision.models import Threshold
    from supervision.services.policy import threshold_preview

    threshold = Threshold.objects.filter(indicator="leverage", comparator="<=").order_by("value").first()
    if threshold is None:
        print("no leverage cap among the thresholds: what-if not measured")
        return
    limit = threshold.value - Decimal(2)
    sql_time, n = min(rejudge_sql("leverage", "<=", limit) for _ in range(3))
    preview_time, result = timed(
        lambda: threshold_preview(threshold=threshold, proposed={"value": limit}), repeat=3
    )
    newly = sum(len(p["newly"]) for p in result)
    print(
        f"threshold what-if (leverage cap {threshold.value} → {limit}): {preview_time:.3f}s, {newly} newly "
        f"breaching; one SQL re-judging the stored values: {sql_time:.3f}s ({n} rows) — RATIO {preview_time / sql_time:.1f}×"
    )
    report("indicators: threshold what-if ÷ one SQL re-judging stored values", preview_time / sql_time, 3.0)


def _fetch(sql):
    with connection.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


if __name__ == "__main__":
    main()
