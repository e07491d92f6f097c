"""Set-based computation of every indicator of many filings at once, in hand-written SQL (PostgreSQL).

`indicators.py` stays the readable definition of each indicator and `rules.py` of judging; this module
states the same formulas once more as SQL expressions, one group per indicator family, so that a
chunk of thousands of filings is computed by a dozen statements instead of a Python loop. A test
(tests/supervision/test_setcompute.py) and the benchmark (bench/indicators_recompute.py) check it row
for row against the Python functions: stored values, breaches and runs.

The steps, all in the caller's transaction, over scratch tables (temporary, dropped at the end):

1. `spd_filing` — the counted filings in scope with their subject (region, period end, quarter,
   government-backed on the period end) and the parameters in force (from Python: policy rows), and
   every report cell the indicators read, as numeric (an empty cell is NULL: the indicator is undefined).
2. `spd_value` — one INSERT … SELECT per family: the exact value (rounded to 30 decimals, as stored),
   whether it is a ratio over a base that is zero or negative, and the value rounded to 6 decimals
   (half away from zero, like ROUND_HALF_UP).
3. The stored values are upserted, writing only the rows that changed.
4. Thresholds are judged in SQL against the stored exact values (`judge_sql`, `applies_sql`, shared with
   the what-if), breaches are upserted/deleted where they changed, runs upserted.
5. Warning cases are synced only for the institutions whose breaches, runs or versions changed.

Division keeps at least 30 decimals (`round(n, 30) / d`; Python's Decimal keeps 28 significant digits):
the two differ only beyond the 28th digit, which no 6-decimal threshold can tell apart.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from .. import indicators as ind
from ..models import Severity

# --- the formulas, once more, as SQL ----------------------------------------------------------------
# Columns of `spd_filing`: one per report cell (`c_<code>`), and p_* the parameters in force.


def _c(code: str) -> str:
    return f"f.c_{code}"


def _div(num: str, den: str) -> str:
    """num ÷ den; NULL when either is missing or den is zero (`indicators._div`)."""
    return f"(round({num}, 30) / NULLIF({den}, 0))"


LIABILITY = (
    f"(f.p_weight_small_micro_farmer * ({_c('loan_small_micro_le5m')} + {_c('loan_farmer_le2m')})"
    f" + f.p_weight_housing * {_c('loan_housing')}"
    f" + f.p_weight_other * ({_c('loan_balance')} - {_c('loan_small_micro_le5m')} - {_c('loan_farmer_le2m')}"
    f" - {_c('loan_housing')})"
    f" + f.p_weight_bond_aa * {_c('bond_aa_balance')}"
    f" + f.p_weight_other * ({_c('bond_balance')} - {_c('bond_aa_balance')})"
    f" + f.p_weight_other * {_c('other_fin_balance')})"
)
LEVERAGE_BASE = (
    f"(CASE WHEN f.p_deduct_guarantee_equity THEN {_c('net_assets')} - {_c('equity_in_guarantee_companies')}"
    f" ELSE {_c('net_assets')} END)"
)
ASSET_BASE = f"({_c('total_assets')} - {_c('compensation_receivable')})"

# code -> (kind, expression[, base]); kinds:
#   value: the expression is the exact value
#   ratio: (numerator, denominator) — `_ratio`/`_div`: undefined on a zero denominator
#   base:  (numerator, base) — `_over_base`: a base ≤ 0 is NonPositiveBase
#   focus: the small-business-focus test (1/0, undefined when either share is)
FAMILIES: dict[str, dict[str, tuple]] = {
    "liability": {
        "fin_liability_balance": ("value", LIABILITY),
        "leverage": ("base", LIABILITY, LEVERAGE_BASE),
        "compensation_reserve_ratio": ("ratio", _c("compensation_reserve"), LIABILITY),
        "liability_report_gap": ("value", f"({_c('fin_liability_reported')} - {LIABILITY})"),
    },
    "capital and assets": {
        "single_client_concentration": ("base", _c("top1_client_liability"), _c("net_assets")),
        "group_concentration": ("base", _c("top1_group_liability"), _c("net_assets")),
        "class12_asset_ratio": ("base", f"({_c('assets_class_1')} + {_c('assets_class_2')})", ASSET_BASE),
        "class1_asset_ratio": ("base", _c("assets_class_1"), ASSET_BASE),
        "class3_asset_ratio": ("base", _c("assets_class_3"), ASSET_BASE),
        "capital_adequacy_ratio": (
            "base",
            f"({_c('net_assets')} + {_c('unearned_reserve')} + {_c('compensation_reserve')})",
            _c("total_assets"),
        ),
    },
    "reported": {
        "controller_guarantees": ("value", _c("controller_guarantee_balance")),
        "extra_charges": ("value", _c("extra_charges")),
        "small_business_focus": ("focus", ""),
    },
    "ratios": {
        code: ("ratio", num if num.startswith("(") else _c(num), den if den.startswith("(") else _c(den))
        for code, num, den in [
            ("unearned_reserve_ratio", "unearned_reserve", "guarantee_fee_income"),
            (
                "provision_coverage",
                f"({_c('compensation_reserve')} + {_c('unearned_reserve')})",
                "compensation_receivable",
            ),
            ("compensation_rate", "compensation", "fin_released"),
            ("cumulative_compensation_rate", "compensation_cumulative", "released_cumulative"),
            ("recovery_rate", "recovery", f"({_c('compensation_balance_opening')} + {_c('compensation')})"),
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
    },
}
_CODES = [code for family in FAMILIES.values() for code in family]
assert sorted(_CODES) == sorted(ind.INDICATORS), "every indicator needs its SQL (and only those)"
CELLS = sorted({c for i in ind.INDICATORS.values() for c in i.inputs})
PARAMS = (
    "weight_small_micro_farmer",
    "weight_housing",
    "weight_bond_aa",
    "weight_other",
    "deduct_guarantee_equity",
    "sbf_balance_share",
    "sbf_client_share",
)


def _exact_and_flag(kind: str, a: str, b: str = "") -> tuple[str, str]:
    """(exact expression, base-not-positive expression) of one indicator."""
    if kind == "value":
        return f"({a})", "false"
    if kind == "ratio":
        return _div(a, b), "false"
    if kind == "base":
        return (
            f"(CASE WHEN {b} > 0 THEN round({a}, 30) / {b} END)",
            f"COALESCE({a} IS NOT NULL AND {b} <= 0, false)",
        )
    if kind == "focus":
        balance = _div(_c("farmer_small_micro_balance"), _c("fin_balance"))
        clients = _div(_c("farmer_small_micro_clients"), _c("fin_inforce_clients"))
        return (
            f"(CASE WHEN {balance} IS NULL OR {clients} IS NULL THEN NULL "
            f"WHEN {balance} >= f.p_sbf_balance_share AND {clients} >= f.p_sbf_client_share THEN 1 ELSE 0 END)",
            "false",
        )
    raise ValueError(kind)


def judge_sql(comparator: str, exact: str, base_not_positive: str, limit: str) -> str:
    """SQL of `rules.judge`: true/false, NULL when the value is undefined (not judged)."""
    compare = (
        f"CASE {comparator} WHEN '<=' THEN {exact} <= {limit} WHEN '>=' THEN {exact} >= {limit} "
        f"WHEN '<' THEN {exact} < {limit} WHEN '>' THEN {exact} > {limit} WHEN '=' THEN {exact} = {limit} "
        f"WHEN 'abs<=' THEN abs({exact}) <= {limit} END"
    )
    return f"(CASE WHEN {base_not_positive} THEN false ELSE {compare} END)"


def applies_sql(t: str, r: str) -> str:
    """SQL of `rules.threshold_applies` for threshold columns `t.*` and run/subject columns `r.*`
    (region_code, period_end, quarter, gov_backed, small_business_focus)."""
    return (
        f"({t}.effective_from IS NULL OR {r}.period_end >= {t}.effective_from)"
        f" AND ({t}.effective_to IS NULL OR {r}.period_end <= {t}.effective_to)"
        f" AND (NOT {t}.q4_only OR {r}.quarter = 4)"
        f" AND (CASE WHEN {t}.region_code IS NULL OR {t}.region_code = '' THEN true"
        f" WHEN {t}.region_code LIKE '%%0000' THEN left({r}.region_code, 2) = left({t}.region_code, 2)"
        f" WHEN {t}.region_code LIKE '%%00' THEN left({r}.region_code, 4) = left({t}.region_code, 4)"
        f" ELSE {r}.region_code = {t}.region_code END)"
        f" AND (CASE {t}.scope WHEN 'all' THEN true WHEN 'gov_backed' THEN {r}.gov_backed"
        f" WHEN 'small_business_focus' THEN {r}.small_business_focus IS TRUE"
        f" WHEN 'not_small_business_focus' THEN {r}.small_business_focus IS NOT TRUE ELSE false END)"
    )


PERIOD_END = (
    "(make_date(f.year, f.quarter * 3, 1) + interval '1 month' - interval '1 day')::date"  # the quarter's end
)
GOV_BACKED = """COALESCE((
    SELECT e.action = 'include' FROM institutions_govlistentry e
    JOIN institutions_govlistbatch b ON b.id = e.batch_id
    WHERE e.institution_id = f.institution_id AND b.status = 'confirmed' AND b.published_on <= {end}
    ORDER BY b.published_on DESC, e.batch_id DESC, e.id DESC LIMIT 1), false)"""


# --- the computation --------------------------------------------------------------------------------


def _exec(cur, sql: str, params: Iterable = ()) -> None:
    cur.execute(sql, list(params))


TABLES = ("spd_filing", "spd_value", "spd_judged", "spd_compliant")
LOCK_CLASS = 0x5350  # advisory locks (class, key of the institution id): an institution's indicator results
# The key is the id hashed to 32 bits (the two-key lock takes two integers; ids are 64-bit): two
# institutions sharing a key only wait for each other.
LOCK_KEY = "hashint8(i)"


def lock_institutions(institution_ids: Iterable[int]) -> None:
    """Hold, until the transaction ends, the lock on the indicator results of each institution, taken
    in key order (two chunks sharing institutions wait, never deadlock): computations of one
    institution are serialized, so one that finds no stored values may insert them without upsert."""
    if connection.vendor != "postgresql":
        return  # SQLite writes one transaction at a time
    with connection.cursor() as cur:
        _exec(
            cur,
            "SELECT count(pg_advisory_xact_lock(%s, k)) FROM ("  # noqa: S608 (constant SQL)
            f"SELECT DISTINCT {LOCK_KEY} AS k FROM unnest(%s::bigint[]) AS i ORDER BY k) keys",
            [LOCK_CLASS, sorted(set(institution_ids))],
        )


def _scope(by_institution: dict[int, list[int] | None]) -> tuple[str, list]:
    """SQL condition on filings `f` (reporting_filing) of a chunk — every filing of the institutions
    mapped to None, the listed ones of the others — and its parameters (arrays: a chunk lists
    thousands of filings)."""
    institutions = list(by_institution)
    whole = [i for i, ids in by_institution.items() if ids is None]
    listed = [pk for ids in by_institution.values() if ids is not None for pk in ids]
    scope = "f.institution_id = ANY(%s) AND (f.institution_id = ANY(%s) OR f.id = ANY(%s))"
    return scope, [institutions, whole, listed]


def chunk_periods(by_institution: dict[int, list[int] | None]) -> list[tuple[int, int]]:
    """The (year, quarter) of the chunk's counted filings (the periods whose parameters it needs)."""
    scope, params = _scope(by_institution)
    with connection.cursor() as cur:
        _exec(
            cur,
            "SELECT DISTINCT f.year, f.quarter FROM reporting_filing f "  # noqa: S608 (constant SQL)
            "JOIN reporting_filingversion fv ON fv.id = f.current_version_id "
            f"WHERE fv.submitted_at IS NOT NULL AND {scope}",
            params,
        )
        return cur.fetchall()


def compute_chunk_sql(
    by_institution: dict[int, list[int] | None], params_by_period: dict[tuple[int, int], ind.Params]
) -> tuple[list[int], set[int]]:
    """Compute the counted filings of some institutions — all of them (None) or the listed ones — as
    `compute._compute_chunk` does, in SQL; remove the results of listed filings no longer counted.
    `params_by_period` holds the parameters in force for every (year, quarter) of those filings.
    Returns (filing ids computed, institutions whose results changed). Runs in the caller's
    transaction; warning cases are the caller's."""
    institutions = list(by_institution)
    scope, scope_params = _scope(by_institution)
    cells = ", ".join(f"NULLIF(fv.\"values\"->>'{c}', '')::numeric AS c_{c}" for c in CELLS)
    periods = list(params_by_period.items())
    period_rows = ", ".join(["(%s, %s, " + ", ".join(["%s"] * len(PARAMS)) + ")"] * len(periods))
    period_params = [
        x for (year, quarter), p in periods for x in (year, quarter, *(getattr(p, name) for name in PARAMS))
    ]
    param_cols = ", ".join(f"p_{name}" for name in PARAMS)
    changed: set[int] = set()
    lock_institutions(institutions)
    with connection.cursor() as cur:
        # Derived results: the commit need not wait for its WAL to reach the disk (a chunk writes tens
        # of megabytes of it). A crash may lose the last such commits, never half of one; with a
        # chunk's results goes its recompute part's claim (core.jobs), so the part stays queued and
        # the relay sends it again.
        _exec(cur, "SET LOCAL synchronous_commit TO OFF")
        for table in TABLES:
            _exec(cur, f"DROP TABLE IF EXISTS {table}")
        if not periods:
            periods_sql = f"SELECT NULL::int AS year, NULL::int AS quarter, {', '.join('NULL AS p_' + n for n in PARAMS)} WHERE false"  # noqa: E501
        else:
            periods_sql = f"SELECT * FROM (VALUES {period_rows}) AS p(year, quarter, {param_cols})"  # noqa: S608
        _exec(
            cur,
            f"""CREATE TEMP TABLE spd_filing AS
            WITH f AS MATERIALIZED (SELECT * FROM reporting_filing f WHERE {scope})
            SELECT f.id AS filing_id, f.institution_id, f.year, f.quarter, f.current_version_id AS version_id,
                   i.region_id AS region_code, {PERIOD_END} AS period_end,
                   {GOV_BACKED.format(end=PERIOD_END)} AS gov_backed,
                   {", ".join("p.p_" + n + ("::boolean" if n == "deduct_guarantee_equity" else "::numeric") + " AS p_" + n for n in PARAMS)},
                   {cells}
            FROM f
            JOIN reporting_filingversion fv ON fv.id = f.current_version_id
            JOIN institutions_institution i ON i.id = f.institution_id
            JOIN ({periods_sql}) p ON p.year = f.year AND p.quarter = f.quarter
            WHERE fv.submitted_at IS NOT NULL""",  # noqa: S608 (constants and column names)
            # the chunk's filings first, by their keys: joined with the periods, a planner without
            # statistics on the filings (a table just loaded) scanned every filing of each period
            [*scope_params, *period_params],
        )
        _exec(cur, "ALTER TABLE spd_filing ADD PRIMARY KEY (filing_id)")
        _exec(cur, "SELECT filing_id, institution_id FROM spd_filing")
        computed = cur.fetchall()
        ids = [r[0] for r in computed]
        # 2. values, one statement per family
        _exec(
            cur,
            "CREATE TEMP TABLE spd_value (filing_id bigint, code varchar(64), exact numeric, "
            "base_not_positive boolean, value numeric)",
        )
        for family in FAMILIES.values():
            rows = []
            for code, (kind, *exprs) in family.items():
                exact, flag = _exact_and_flag(kind, *exprs)
                rows.append(f"('{code}', round(({exact})::numeric, 30), {flag})")
            _exec(
                cur,
                f"""INSERT INTO spd_value (filing_id, code, exact, base_not_positive, value)
                SELECT f.filing_id, x.code, x.exact, x.flag, round(x.exact, 6)
                FROM spd_filing f CROSS JOIN LATERAL (VALUES {", ".join(rows)}) AS x(code, exact, flag)""",  # noqa: S608
            )
        # the subject's small-business focus is the value of the focus test (undefined: None)
        _exec(cur, "ALTER TABLE spd_filing ADD COLUMN small_business_focus boolean")
        _exec(
            cur,
            "UPDATE spd_filing f SET small_business_focus = (v.exact = 1) FROM spd_value v "
            "WHERE v.filing_id = f.filing_id AND v.code = 'small_business_focus' AND v.exact IS NOT NULL",
        )
        # the row count for the plans; statistics of every report cell would cost more than they help
        _exec(cur, "ANALYZE spd_filing (filing_id, institution_id)")
        # 3. stored values: insert or update the changed ones only. None stored yet (a first
        # computation): a plain insert, cheaper than an upsert by a third — no other computation of
        # these institutions can insert meanwhile (`lock_institutions`)
        _exec(
            cur, "SELECT EXISTS (SELECT 1 FROM supervision_indicatorvalue WHERE filing_id = ANY(%s))", [ids]
        )
        columns = """INSERT INTO supervision_indicatorvalue
                (filing_id, institution_id, year, quarter, code, value, exact, base_not_positive)
            SELECT s.filing_id, f.institution_id, f.year, f.quarter, s.code, s.value, s.exact, s.base_not_positive
            FROM spd_value s JOIN spd_filing f ON f.filing_id = s.filing_id"""
        if cur.fetchone()[0]:
            _exec(
                cur,
                f"""{columns}
                LEFT JOIN (SELECT * FROM supervision_indicatorvalue WHERE filing_id = ANY(%s)) o
                    ON o.filing_id = s.filing_id AND o.code = s.code
                WHERE o.filing_id IS NULL
                   OR (o.value, o.exact, o.base_not_positive, o.institution_id, o.year, o.quarter)
                    IS DISTINCT FROM (s.value, s.exact, s.base_not_positive, f.institution_id, f.year, f.quarter)
                ORDER BY s.filing_id, s.code
                ON CONFLICT (filing_id, code) DO UPDATE SET value = EXCLUDED.value, exact = EXCLUDED.exact,
                    base_not_positive = EXCLUDED.base_not_positive, institution_id = EXCLUDED.institution_id,
                    year = EXCLUDED.year, quarter = EXCLUDED.quarter""",  # noqa: S608 (constant SQL)
                [ids],  # the stored rows by the primary key, not a scan of the whole table per chunk
            )
        else:
            _exec(cur, f"{columns} ORDER BY s.filing_id, s.code")  # noqa: S608 (constant SQL)
        # 4. judging against every threshold that applies, on the exact values
        subject = "spd_filing"
        _exec(
            cur,
            f"""CREATE TEMP TABLE spd_judged AS
            SELECT r.filing_id, r.institution_id, r.year, r.quarter, t.id AS threshold_id,
                   t.indicator, s.value, t.comparator, t.value AS "limit", t.severity,
                   {judge_sql("t.comparator", "s.exact", "s.base_not_positive", "t.value")} AS ok
            FROM {subject} r
            JOIN supervision_threshold t ON {applies_sql("t", "r")}
            JOIN spd_value s ON s.filing_id = r.filing_id AND s.code = t.indicator
            WHERE s.exact IS NOT NULL OR s.base_not_positive""",  # noqa: S608
        )
        _exec(cur, "CREATE INDEX ON spd_judged (filing_id, threshold_id)")
        _exec(
            cur,
            "CREATE TEMP TABLE spd_compliant AS SELECT filing_id, "
            "jsonb_agg(threshold_id ORDER BY threshold_id) AS compliant FROM spd_judged WHERE ok GROUP BY filing_id",
        )
        _exec(cur, "ALTER TABLE spd_compliant ADD PRIMARY KEY (filing_id)")
        # breaches gone, then breaches new or changed (institutions noted: their cases follow)
        _exec(
            cur,
            """DELETE FROM supervision_indicatorbreach b USING spd_filing f
            WHERE b.filing_id = f.filing_id AND NOT EXISTS (
                SELECT 1 FROM spd_judged j WHERE j.filing_id = b.filing_id
                AND j.threshold_id = b.threshold_id AND NOT j.ok)
            RETURNING b.institution_id""",
        )
        changed.update(r[0] for r in cur.fetchall())
        _exec(
            cur,
            """INSERT INTO supervision_indicatorbreach
                (filing_id, institution_id, year, quarter, threshold_id, indicator, value, comparator,
                 "limit", severity)
            SELECT filing_id, institution_id, year, quarter, threshold_id, indicator, value, comparator,
                   "limit", severity FROM spd_judged WHERE NOT ok
            ON CONFLICT (filing_id, threshold_id) DO UPDATE SET institution_id = EXCLUDED.institution_id,
                year = EXCLUDED.year, quarter = EXCLUDED.quarter, indicator = EXCLUDED.indicator,
                value = EXCLUDED.value, comparator = EXCLUDED.comparator, "limit" = EXCLUDED."limit",
                severity = EXCLUDED.severity
            WHERE (supervision_indicatorbreach.institution_id, supervision_indicatorbreach.year,
                   supervision_indicatorbreach.quarter, supervision_indicatorbreach.indicator,
                   supervision_indicatorbreach.value, supervision_indicatorbreach.comparator,
                   supervision_indicatorbreach."limit", supervision_indicatorbreach.severity)
                IS DISTINCT FROM (EXCLUDED.institution_id, EXCLUDED.year, EXCLUDED.quarter,
                   EXCLUDED.indicator, EXCLUDED.value, EXCLUDED.comparator, EXCLUDED."limit",
                   EXCLUDED.severity)
            RETURNING institution_id""",
        )
        changed.update(r[0] for r in cur.fetchall())
        # runs: a new version, subject or compliant list changes the institution's cases too
        runs = """SELECT r.filing_id, r.institution_id, r.year, r.quarter, r.version_id, r.region_code,
                r.gov_backed, r.small_business_focus,
                COALESCE(c.compliant, '[]'::jsonb) AS compliant
            FROM spd_filing r LEFT JOIN spd_compliant c ON c.filing_id = r.filing_id"""
        _exec(
            cur,
            f"""SELECT DISTINCT n.institution_id FROM ({runs}) n
            LEFT JOIN supervision_indicatorrun o ON o.filing_id = n.filing_id
            WHERE o.filing_id IS NULL OR (o.version_id, o.institution_id, o.year, o.quarter, o.region_code,
                  o.gov_backed, o.small_business_focus, o.compliant_thresholds)
              IS DISTINCT FROM (n.version_id, n.institution_id, n.year, n.quarter, n.region_code,
                  n.gov_backed, n.small_business_focus, n.compliant)""",  # noqa: S608
        )
        changed.update(r[0] for r in cur.fetchall())
        _exec(
            cur,
            f"""INSERT INTO supervision_indicatorrun
                (filing_id, institution_id, year, quarter, version_id, region_code, gov_backed,
                 small_business_focus, compliant_thresholds, compute_count, computed_at)
            SELECT n.*, 1, now() FROM ({runs}) n
            ON CONFLICT (filing_id) DO UPDATE SET institution_id = EXCLUDED.institution_id,
                year = EXCLUDED.year, quarter = EXCLUDED.quarter, version_id = EXCLUDED.version_id,
                region_code = EXCLUDED.region_code, gov_backed = EXCLUDED.gov_backed,
                small_business_focus = EXCLUDED.small_business_focus,
                compliant_thresholds = EXCLUDED.compliant_thresholds, computed_at = EXCLUDED.computed_at,
                compute_count = supervision_indicatorrun.compute_count + 1""",  # noqa: S608
        )
        # listed or whole-institution filings no longer counted (e.g. returned): their results go
        _exec(
            cur,
            """DELETE FROM supervision_indicatorrun o
            WHERE o.institution_id = ANY(%s) AND (o.institution_id = ANY(%s) OR o.filing_id = ANY(%s))
              AND NOT EXISTS (SELECT 1 FROM spd_filing f WHERE f.filing_id = o.filing_id)
            RETURNING o.filing_id, o.institution_id""",
            scope_params,
        )
        stale = cur.fetchall()
        stale_ids = [r[0] for r in stale]
        changed.update(r[1] for r in stale)
        if stale_ids:
            for table in ("supervision_indicatorvalue", "supervision_indicatorbreach"):
                _exec(cur, f"DELETE FROM {table} WHERE filing_id = ANY(%s)", [stale_ids])  # noqa: S608
        # the review queue orders filings by their breaches without reading supervision's tables;
        # counted from the judging just stored (the breach table's rows of these filings are now
        # exactly the judged ones that fail), a stale filing has none
        _exec(
            cur,
            """UPDATE reporting_filing rf SET breach_count = n.count FROM (
                SELECT f.filing_id, count(j.filing_id) AS count FROM spd_filing f
                LEFT JOIN spd_judged j ON j.filing_id = f.filing_id AND NOT j.ok AND j.severity = %s
                GROUP BY f.filing_id
                UNION ALL SELECT x.id, 0 FROM unnest(%s::bigint[]) AS x(id)) n
            WHERE rf.id = n.filing_id AND rf.breach_count IS DISTINCT FROM n.count""",
            [Severity.BREACH.value, stale_ids],
        )
        for table in TABLES:
            _exec(cur, f"DROP TABLE {table}")
    return ids, changed


def rejudge_threshold_sql(threshold_id: int, candidate_filings_sql: str, params: list) -> set[int]:
    """Re-judge one threshold (as it now is in the database) for the filings the subquery selects, from
    the stored exact values — no indicator is recomputed: its breaches and the runs' compliant lists are
    brought in step, and breach counts. Returns the institutions whose results changed."""
    changed: set[int] = set()
    # the candidates: a subquery built by the ORM, its parameters passed with it
    columns = "r.filing_id, r.institution_id, r.year, r.quarter, r.region_code, r.gov_backed, r.small_business_focus"
    end = "(make_date(r.year, r.quarter * 3, 1) + interval '1 month' - interval '1 day')::date AS period_end"
    subject = f"(SELECT {columns}, {end} FROM supervision_indicatorrun r WHERE r.filing_id IN ({candidate_filings_sql}))"  # noqa: S608, E501
    with connection.cursor() as cur:
        _exec(cur, "DROP TABLE IF EXISTS spd_rejudged")
        _exec(
            cur,
            f"""CREATE TEMP TABLE spd_rejudged AS
            SELECT r.filing_id, r.institution_id, r.year, r.quarter, t.id AS threshold_id, t.indicator,
                   v.value, t.comparator, t.value AS "limit", t.severity,
                   {judge_sql("t.comparator", "v.exact", "v.base_not_positive", "t.value")} AS ok
            FROM {subject} r
            JOIN supervision_threshold t ON t.id = %s AND {applies_sql("t", "r")}
            JOIN supervision_indicatorvalue v ON v.filing_id = r.filing_id AND v.code = t.indicator
            WHERE v.exact IS NOT NULL OR v.base_not_positive""",  # noqa: S608
            [*params, threshold_id],
        )
        _exec(
            cur,
            f"""DELETE FROM supervision_indicatorbreach b
            WHERE b.threshold_id = %s AND b.filing_id IN ({candidate_filings_sql})
              AND NOT EXISTS (SELECT 1 FROM spd_rejudged j WHERE j.filing_id = b.filing_id AND NOT j.ok)
            RETURNING b.institution_id, b.filing_id""",  # noqa: S608
            [threshold_id, *params],
        )
        gone = cur.fetchall()
        _exec(
            cur,
            """INSERT INTO supervision_indicatorbreach
                (filing_id, institution_id, year, quarter, threshold_id, indicator, value, comparator,
                 "limit", severity)
            SELECT filing_id, institution_id, year, quarter, threshold_id, indicator, value, comparator,
                   "limit", severity FROM spd_rejudged WHERE NOT ok
            ON CONFLICT (filing_id, threshold_id) DO UPDATE SET indicator = EXCLUDED.indicator,
                value = EXCLUDED.value, comparator = EXCLUDED.comparator, "limit" = EXCLUDED."limit",
                severity = EXCLUDED.severity
            WHERE (supervision_indicatorbreach.indicator, supervision_indicatorbreach.value,
                   supervision_indicatorbreach.comparator, supervision_indicatorbreach."limit",
                   supervision_indicatorbreach.severity)
                IS DISTINCT FROM (EXCLUDED.indicator, EXCLUDED.value, EXCLUDED.comparator,
                   EXCLUDED."limit", EXCLUDED.severity)
            RETURNING institution_id, filing_id""",
        )
        landed = cur.fetchall()
        changed.update(r[0] for r in gone + landed)
        # compliant lists: without the threshold, then with it where it is judged and met
        _exec(
            cur,
            f"""UPDATE supervision_indicatorrun r SET compliant_thresholds = n.compliant FROM (
                SELECT o.filing_id, COALESCE((
                    SELECT jsonb_agg(x ORDER BY x) FROM (
                        SELECT e::int AS x FROM jsonb_array_elements_text(o.compliant_thresholds) e
                        WHERE e::int <> %s
                        UNION SELECT j.threshold_id FROM spd_rejudged j WHERE j.filing_id = o.filing_id AND j.ok
                    ) ids), '[]'::jsonb) AS compliant
                FROM supervision_indicatorrun o WHERE o.filing_id IN ({candidate_filings_sql})) n
            WHERE r.filing_id = n.filing_id AND r.compliant_thresholds IS DISTINCT FROM n.compliant
            RETURNING r.institution_id""",  # noqa: S608
            [threshold_id, *params],
        )
        changed.update(r[0] for r in cur.fetchall())
        touched_filings = sorted({r[1] for r in gone + landed})
        if touched_filings:
            _exec(
                cur,
                """UPDATE reporting_filing rf SET breach_count = (
                    SELECT count(*) FROM supervision_indicatorbreach b WHERE b.filing_id = rf.id
                    AND b.severity = %s) WHERE rf.id = ANY(%s)""",
                [Severity.BREACH.value, touched_filings],
            )
        _exec(cur, "DROP TABLE spd_rejudged")
    return changed


# --- thresholds: which filings a version applies to, what-if ----------------------------------------

THRESHOLD_COLUMNS = (
    "effective_from",
    "effective_to",
    "q4_only",
    "region_code",
    "scope",
    "comparator",
    "value",
)
_TYPES = ("date", "date", "boolean", "text", "text", "text", "numeric")


def _threshold_row(t) -> tuple[str, list]:
    """A threshold (model or namespace) as a one-row derived table `(SELECT … ) AS name` and its
    parameters, with the columns `applies_sql` and `judge_sql` read."""
    cols = ", ".join(f"%s::{typ} AS {c}" for c, typ in zip(THRESHOLD_COLUMNS, _TYPES, strict=True))
    params = [getattr(t, c, None) for c in THRESHOLD_COLUMNS]
    params[2] = bool(params[2])
    params[3] = params[3] or ""
    return f"(SELECT {cols})", params


RUN_SUBJECT = (
    "filing_id",
    "institution_id",
    "year",
    "quarter",
    "region_code",
    "gov_backed",
    "small_business_focus",
)


def runs_source(runs) -> tuple[str, list]:
    """An IndicatorRun queryset as SQL of the subject columns `applies_sql` reads, and its parameters."""
    inner, params = runs.order_by().values(*RUN_SUBJECT).query.sql_with_params()
    end = "(make_date(q.year, q.quarter * 3, 1) + interval '1 month' - interval '1 day')::date"
    return f"SELECT q.*, {end} AS period_end FROM ({inner}) q", list(params)  # noqa: S608 (ORM SQL)


def filings_applying(versions: list, runs) -> set[int]:
    """Filings among the runs (an IndicatorRun queryset) to which any of the threshold versions
    applies: `policy.filings_affected_by_threshold` in one statement."""
    runs_sql, runs_params = runs_source(runs)
    joins, params, conds = [], [], []
    for n, t in enumerate(versions):
        row, p = _threshold_row(t)
        joins.append(f"CROSS JOIN {row} AS t{n}")
        params += p
        conds.append(f"({applies_sql(f't{n}', 'r')})")
    if not conds:
        return set()
    sql = f"SELECT r.filing_id FROM ({runs_sql}) r {' '.join(joins)} WHERE {' OR '.join(conds)}"  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(sql, [*runs_params, *params])
        return {row[0] for row in cur.fetchall()}


def threshold_whatif(before, after, runs) -> list[tuple]:
    """[(filing id, institution id, year, quarter, stored value of the new version's indicator, breached
    after)] for the runs (`runs_sql`: a query of IndicatorRun rows) whose verdict on the threshold
    changes from `before` (None: a new threshold) to `after` — judged in one statement on the stored
    exact values, with the same applicability and comparator rules as the computation."""
    runs_sql, runs_params = runs_source(runs)
    new_row, new_params = _threshold_row(after)

    def breached(t: str, v: str) -> str:
        return f"(({applies_sql(t, 'r')}) AND {judge_sql(f'{t}.comparator', f'{v}.exact', f'{v}.base_not_positive', f'{t}.value')} IS FALSE)"  # noqa: E501

    params = [*runs_params, after.indicator, *new_params]
    joins = (
        "JOIN supervision_indicatorvalue vn ON vn.filing_id = r.filing_id AND vn.code = %s "
        f"CROSS JOIN {new_row} AS tn "
    )
    if before is None:
        was = "false"
    else:
        old_row, old_params = _threshold_row(before)
        if before.indicator == after.indicator:
            joins += f"CROSS JOIN {old_row} AS tb "
            was = breached("tb", "vn")
        else:
            joins = (
                "LEFT JOIN supervision_indicatorvalue vb ON vb.filing_id = r.filing_id AND vb.code = %s "
                + joins.replace("JOIN supervision", "LEFT JOIN supervision", 1)
                + f"CROSS JOIN {old_row} AS tb "
            )
            params = [*runs_params, before.indicator, after.indicator, *new_params]
            was = f"COALESCE({breached('tb', 'vb')}, false)"
        params += old_params
    now = f"COALESCE({breached('tn', 'vn')}, false)"
    sql = (
        f"SELECT * FROM (SELECT r.filing_id, r.institution_id, r.year, r.quarter, vn.value, {was} AS was, "  # noqa: S608
        f"{now} AS now FROM ({runs_sql}) r {joins}) x WHERE x.was <> x.now"
    )
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [(f, i, y, q, v, now) for f, i, y, q, v, _was, now in cur.fetchall()]
