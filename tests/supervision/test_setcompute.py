"""The set-based computation (supervision/services/setcompute.py, SQL on PostgreSQL) agrees row for row
with the Python functions (indicators.py, rules.py) — stored values, exact values, breaches, runs,
breach counts and warning cases — and writes only what changed. PostgreSQL only: SQLite computes in
Python."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reporting.models import Filing
from supervision.models import IndicatorBreach, IndicatorRun, IndicatorValue, Threshold, WarningCase
from supervision.services import compute
from supervision.services.compute import indicators_compute_batch
from tests.factories import InstitutionFactory

from .factories import amend, make_filing

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="set-based SQL runs on PostgreSQL"),
]

QUARTERS = [(2024, 3), (2024, 4), (2025, 1), (2025, 2)]
# reports that reach every branch of the formulas: breaches, undefined values (a zero or empty
# denominator), bases that are zero or negative, the focus test both ways, exact-versus-rounded limits
VARIANTS = [
    {},
    {"top1_client_liability": "4400"},  # 11% > 10%
    {"top1_client_liability": "4000.04"},  # 10.0001% of 40000: over the cap though stored as 0.100001
    {"top1_client_liability": "4000.0004"},  # 0.10000001: stored as 0.100000, still a breach
    {"net_assets": "19333.333333", "farmer_small_micro_clients": "700"},  # leverage 12, no focus
    {"net_assets": "0"},  # capital ratios over a zero base
    {"net_assets": "-500", "equity_in_guarantee_companies": "0"},
    {"total_assets": "2000", "compensation_receivable": "2000"},  # asset base zero
    {"fin_new": "0", "fin_released": "0", "compensation_receivable": "0"},  # undefined ratios
    {"fin_balance": "", "loan_housing": ""},  # empty cells: undefined
    {"controller_guarantee_balance": "12.5", "extra_charges": "3"},
    {"fin_liability_reported": "220001.00", "annualized_new_amount": "170000"},
    {"bank_risk_amount": "9999.99", "recovery": "0", "compensation_balance_opening": "-800"},
    {"unearned_reserve": "999.999999", "guarantee_fee_income": "3"},  # a non-terminating quotient
]


def snapshot():
    values = {
        (v["filing_id"], v["code"]): (
            v["institution_id"],
            v["year"],
            v["quarter"],
            v["value"],
            v["exact"],
            v["base_not_positive"],
        )
        for v in IndicatorValue.objects.values()
    }
    breaches = {
        (b["filing_id"], b["threshold_id"]): tuple(
            b[k]
            for k in (
                "institution_id",
                "year",
                "quarter",
                "indicator",
                "value",
                "comparator",
                "limit",
                "severity",
            )
        )
        for b in IndicatorBreach.objects.values()
    }
    runs = {
        r["filing_id"]: tuple(
            r[k]
            for k in (
                "institution_id",
                "year",
                "quarter",
                "version_id",
                "region_code",
                "gov_backed",
                "small_business_focus",
                "compliant_thresholds",
            )
        )
        for r in IndicatorRun.objects.values()
    }
    counts = dict(Filing.objects.values_list("pk", "breach_count"))
    cases = sorted(
        WarningCase.objects.values_list(
            "institution_id", "threshold_id", "year", "quarter", "level", "severity", "value"
        )
    )
    return values, breaches, runs, counts, cases


def assert_same(python, sql):
    pv, pb, pr, pc, pcases = python
    sv, sb, sr, sc, scases = sql
    assert set(pv) == set(sv)
    for key in pv:
        *p_head, p_exact, p_flag = pv[key]
        *s_head, s_exact, s_flag = sv[key]
        assert (p_head, p_flag) == (s_head, s_flag), key
        # Python keeps 28 significant digits, SQL 30 decimals: they agree far beyond any limit's 6
        if p_exact is None or s_exact is None:
            assert p_exact == s_exact, key
        else:
            assert abs(p_exact - s_exact) <= abs(p_exact) * Decimal("1e-26") + Decimal("1e-29"), key
    assert pb == sb
    assert pr == sr
    assert pc == sc
    assert pcases == scases


@pytest.fixture
def portfolio(chengdu_institution, wenzhou_institution, jiaxing_institution, gov_list):
    gov_list(wenzhou_institution, dt.date(2020, 1, 1))
    gov_list(chengdu_institution, dt.date(2024, 1, 1))
    gov_list(chengdu_institution, dt.date(2025, 2, 1), action="remove")
    others = [InstitutionFactory(region_id=r, level="county") for r in ("371502", "500113", "420102")]
    for inst in others[:2]:
        gov_list(inst, dt.date(2019, 1, 1))
    institutions = [chengdu_institution, wenzhou_institution, jiaxing_institution, *others]
    n = 0
    for inst in institutions:
        for year, quarter in QUARTERS:
            make_filing(inst, year, quarter, **VARIANTS[n % len(VARIANTS)])
            n += 1
    make_filing(institutions[0], 2023, 4, submitted=False)  # a draft: not counted
    return institutions


def compute_all(institutions, *, sql: bool, settings):
    settings.INDICATORS_SET_BASED = sql
    indicators_compute_batch(institution_ids=[i.pk for i in institutions])


def test_sql_and_python_agree_row_for_row(portfolio, settings):
    compute_all(portfolio, sql=False, settings=settings)
    python = snapshot()
    assert len(python[1]) > 20 and any(v[5] for v in python[0].values())  # breaches and zero bases
    for model in (WarningCase, IndicatorBreach, IndicatorValue, IndicatorRun):
        model.objects.all().delete()
    Filing.objects.update(breach_count=0)
    compute_all(portfolio, sql=True, settings=settings)
    assert_same(python, snapshot())


def test_sql_over_python_results_changes_nothing_and_writes_only_what_changed(portfolio, settings):
    compute_all(portfolio, sql=False, settings=settings)
    before = snapshot()
    counts = dict(IndicatorRun.objects.values_list("filing_id", "compute_count"))
    compute_all(portfolio, sql=True, settings=settings)
    assert_same(before, snapshot())
    assert dict(IndicatorRun.objects.values_list("filing_id", "compute_count")) == {
        k: v + 1 for k, v in counts.items()
    }
    # nothing changed: no value, breach or case row written, no case sync
    with CaptureQueriesContext(connection) as ctx:
        compute_all(portfolio, sql=True, settings=settings)
    writes = [q["sql"] for q in ctx.captured_queries if "warningcase" in q["sql"].lower()]
    assert writes == []


def test_sql_follows_amendments_threshold_edits_and_returned_filings(portfolio, settings):
    compute_all(portfolio, sql=True, settings=settings)
    filing = Filing.objects.filter(institution=portfolio[0], year=2025, quarter=2).get()
    amend(filing, top1_client_liability="9000", net_assets="-1")
    returned = Filing.objects.filter(institution=portfolio[1], year=2024, quarter=3).get()
    returned.current_version.submitted_at = None
    returned.current_version.save(update_fields=["submitted_at"])
    Threshold.objects.filter(indicator="leverage", comparator="<=", value=10).update(value=Decimal("5.5"))
    compute_all(portfolio, sql=True, settings=settings)
    sql = snapshot()
    assert not IndicatorValue.objects.filter(filing=returned).exists()
    # the Python computation over the same history (cases depend on it) leaves everything as it is
    compute_all(portfolio, sql=False, settings=settings)
    assert_same(snapshot(), sql)


def test_set_based_is_the_default_on_postgresql(settings):
    assert compute.set_based()


PROPOSALS = [
    ("LEV-01", {"value": Decimal("5"), "scope": "all"}),
    ("LEV-01", {"value": Decimal("12"), "effective_from": dt.date(2025, 1, 1)}),
    ("LEV-01", {"region_code": "330000", "scope": "all"}),
    ("LEV-01", {"indicator": "single_client_concentration", "value": Decimal("0.1")}),
    ("LEV-01", {"q4_only": True, "comparator": "<"}),
    ("CON-01", {"value": Decimal("0.100001"), "comparator": "<="}),
    ("CON-01", {"value": Decimal("0.1"), "comparator": "<"}),
    ("CON-01", {"scope": "gov_backed", "effective_to": dt.date(2025, 3, 31)}),
    (None, {"indicator": "capital_adequacy_ratio", "comparator": ">=", "value": Decimal("0.7")}),
    (None, {"indicator": "liability_report_gap", "comparator": "abs<=", "value": Decimal("0.2")}),
]


@pytest.mark.parametrize(("code", "proposed"), PROPOSALS)
def test_threshold_whatif_in_sql_equals_python(portfolio, settings, users, code, proposed):
    from supervision.services.policy import THRESHOLD_FIELDS, threshold_preview

    compute_all(portfolio, sql=True, settings=settings)
    threshold = Threshold.objects.get(code=code) if code else None
    if threshold is None:
        base = {"severity": "warning", "scope": "all", "region_code": "", "q4_only": False}
        proposed = {**base, "effective_from": dt.date(2024, 1, 1), "effective_to": None, **proposed}
    else:
        proposed = {**{f: getattr(threshold, f) for f in THRESHOLD_FIELDS}, **proposed}
    results = {}
    for sql in (True, False):
        settings.INDICATORS_SET_BASED = sql
        results[sql] = threshold_preview(threshold=threshold, proposed=proposed, user=users["admin"])
    assert results[True] == results[False]


@pytest.mark.parametrize(("code", "proposed"), [p for p in PROPOSALS if p[0]])
def test_threshold_change_rejudges_only_its_breaches_as_a_full_recompute_would(
    portfolio, settings, users, django_capture_on_commit_callbacks, code, proposed
):
    from supervision.services.policy import THRESHOLD_FIELDS, threshold_save

    compute_all(portfolio, sql=True, settings=settings)
    threshold = Threshold.objects.get(code=code)
    values_before = snapshot()[0]
    fields = {**{f: getattr(threshold, f) for f in THRESHOLD_FIELDS}, **proposed}
    with django_capture_on_commit_callbacks(execute=True):
        _t, job = threshold_save(actor=users["admin"], threshold=threshold, **fields)
    job.refresh_from_db()
    assert (job.status, job.params["rejudge_threshold"]) == ("done", threshold.pk)
    rejudged = snapshot()
    assert rejudged[0] == values_before  # no value recomputed
    settings.INDICATORS_SET_BASED = False
    indicators_compute_batch(institution_ids=[i.pk for i in portfolio])
    assert_same(snapshot(), rejudged)


def test_a_computation_holds_its_institutions_until_it_commits(portfolio, settings):
    """The set-based path inserts a first computation's values without upsert: another computation of
    the same institutions must wait for the transaction (advisory locks by institution)."""
    import psycopg

    from supervision.services.setcompute import LOCK_CLASS

    def free(institution_id):
        params = connection.get_connection_params()
        with psycopg.connect(**params, autocommit=True) as other:
            return other.execute(
                "SELECT pg_try_advisory_xact_lock(%s, hashint8(%s::bigint))", [LOCK_CLASS, institution_id]
            ).fetchone()[0]

    assert free(portfolio[0].pk)
    compute_all(portfolio[:2], sql=True, settings=settings)  # in the test's open transaction
    assert IndicatorValue.objects.filter(institution=portfolio[0]).count() == 4 * 28
    assert (free(portfolio[0].pk), free(portfolio[1].pk), free(portfolio[2].pk)) == (False, False, True)


def test_sql_first_computation_beside_stored_values_equals_python(portfolio, settings, monkeypatch):
    """Chunks of two institutions: one with some values stored (upserted), one with none (inserted
    plainly), one with all; the same rows as the Python computation."""
    compute_all(portfolio, sql=False, settings=settings)
    python = snapshot()
    IndicatorValue.objects.filter(institution=portfolio[0], year=2025).delete()
    IndicatorValue.objects.filter(institution__in=portfolio[2:4]).delete()
    monkeypatch.setattr(compute, "CHUNK_INSTITUTIONS", 2)
    compute_all(portfolio, sql=True, settings=settings)
    assert IndicatorValue.objects.count() == len(python[0]) == 6 * 4 * 28
    assert_same(python, snapshot())


def test_institution_locks_take_64_bit_ids():
    """Institution ids are 64-bit: the lock key is the id hashed to the 32 bits the two-key lock takes
    (an id past 2^31 locks, and no other computation can take it until the transaction ends)."""
    import psycopg

    from supervision.services.setcompute import LOCK_CLASS, lock_institutions

    big = 2**40 + 7

    def free(institution_id):
        with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
            return other.execute(
                "SELECT pg_try_advisory_xact_lock(%s, hashint8(%s::bigint))", [LOCK_CLASS, institution_id]
            ).fetchone()[0]

    assert free(big)
    lock_institutions([big, 5, big])
    assert (free(big), free(5), free(6)) == (False, False, True)


def test_derived_rows_without_database_keys_still_cascade_and_protect():
    """Runs, breaches and values carry no database foreign keys (each key was checked and share-locked
    at every recompute chunk's commit): Django still protects a computed version from deletion and
    deletes a threshold's breaches with it."""
    from django.db.models import ProtectedError

    institution = InstitutionFactory()
    filing = make_filing(institution, 2025, 2, top1_client_liability="4400")
    indicators_compute_batch(filing_ids=[filing.pk])
    breach = IndicatorBreach.objects.get(filing=filing)
    with pytest.raises(ProtectedError):
        filing.current_version.delete()
    WarningCase.objects.filter(threshold=breach.threshold).delete()  # a case protects its threshold
    breach.threshold.delete()
    assert (
        IndicatorBreach.objects.filter(filing=filing).count(),
        IndicatorRun.objects.filter(filing=filing).count(),
        IndicatorValue.objects.filter(filing=filing).count(),
    ) == (0, 1, 28)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text IN "
            "('supervision_indicatorrun', 'supervision_indicatorbreach', 'supervision_indicatorvalue')"
        )
        assert cur.fetchone()[0] == 0
