"""The batched computation (chunks of institutions, a fixed number of queries per chunk) stores exactly
what computing institution by institution stores; stale results go; recomputing changes nothing but
the compute counts; recompute jobs report progress by institution across chunk tasks."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core.models import Job
from institutions.selectors import government_backed_on
from supervision import tasks as indicator_tasks
from supervision.models import (
    IndicatorBreach,
    IndicatorRun,
    IndicatorValue,
    Threshold,
    WarningCase,
    WarningCaseQuarter,
)
from supervision.services import compute as indicator_services
from supervision.services.cases import warning_case_acknowledge, warning_case_close
from supervision.services.compute import (
    Policy,
    indicators_compute_batch,
    indicators_recompute_enqueue,
    institution_indicators_compute,
)
from tests.factories import InstitutionFactory

from .factories import HIGH_CONCENTRATION, amend, make_filing

pytestmark = pytest.mark.django_db
HIGH_FEE = {"fee_new_le5m": "600"}  # 600/50000 = 1.2% > 1% (FEE-01, government-backed only)


def rows():
    """Every stored result, without surrogate ids and timestamps."""
    runs = {
        (
            r.filing_id,
            r.version_id,
            r.institution_id,
            r.year,
            r.quarter,
            r.region_code,
            r.gov_backed,
            r.small_business_focus,
            r.compute_count,
            tuple(r.compliant_thresholds),
        )
        for r in IndicatorRun.objects.all()
    }
    values = set(
        IndicatorValue.objects.values_list("filing_id", "institution_id", "year", "quarter", "code", "value")
    )
    breaches = set(
        IndicatorBreach.objects.values_list(
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
    )
    cases = {
        (
            c.institution_id,
            c.threshold_id,
            c.filing_id,
            c.year,
            c.quarter,
            c.severity,
            c.severity_rank,
            c.level,
            c.value,
            json.dumps(c.cells, sort_keys=True),
            c.status,
            c.close_proposed,
            c.close_proposed_by_id,
        )
        for c in WarningCase.objects.all()
    }
    return {"runs": runs, "values": values, "breaches": breaches, "cases": cases}


def outcome(compute):
    """The stored results after `compute()`, which is then rolled back."""
    with transaction.atomic():
        compute()
        result = rows()
        transaction.set_rollback(True)
    return result


def one_by_one(institution_ids):
    for i in institution_ids:
        institution_indicators_compute(institution_id=i)


def cases_by_code():
    """{(institution, rule, year, quarter): (level, case proposed for closing)} for every quarter a case
    lists, including quarters no longer breached (kept, marked cleared)."""
    return {
        (q.case.institution.name, q.case.threshold.code, q.year, q.quarter): (q.level, q.case.close_proposed)
        for q in WarningCaseQuarter.objects.select_related("case__institution", "case__threshold")
    }


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(indicator_services, "CHUNK_INSTITUTIONS", 2)


@pytest.fixture
def landscape(gov_list):
    """Five institutions: one on the government-backed list for Q1–Q2 2025 only, one listed in Wenzhou
    with a draft Q3, one breaching leverage, one compliant, one without filings."""
    a = InstitutionFactory(region_id="510104", name="A")
    gov_list(a, dt.date(2025, 2, 1))
    gov_list(a, dt.date(2025, 8, 1), action="remove")
    for q in (1, 2):
        make_filing(a, 2025, q, **HIGH_CONCENTRATION, **HIGH_FEE)
    for q in (3, 4):
        make_filing(a, 2025, q, **HIGH_FEE, unearned_reserve="1000")
    b = InstitutionFactory(region_id="330302", name="B")
    gov_list(b, dt.date(2024, 1, 1))
    make_filing(b, 2025, 1)
    make_filing(b, 2025, 2, **HIGH_CONCENTRATION)
    make_filing(b, 2025, 3, submitted=False)
    c = InstitutionFactory(region_id="510703", name="C")
    make_filing(c, 2024, 4, unearned_reserve="1000")
    make_filing(c, 2025, 1, net_assets="19333.333333", farmer_small_micro_clients="700")
    d = InstitutionFactory(region_id="510107", name="D")
    make_filing(d, 2025, 1)
    e = InstitutionFactory(region_id="510104", name="E")
    return [x.pk for x in (a, b, c, d, e)]


def test_batch_stores_exactly_what_one_by_one_stores(landscape, small_chunks):
    expected = outcome(lambda: one_by_one(landscape))
    assert outcome(lambda: indicators_compute_batch(institution_ids=landscape)) == expected
    assert outcome(lambda: indicators_compute_batch(filing_ids=[])) == rows()
    indicators_compute_batch(institution_ids=landscape)
    assert rows() == expected
    assert len(expected["values"]) == 28 * 9 and len(expected["runs"]) == 9
    # FEE-01 only while A is on the list (Q1, Q2); B's Wenzhou rules apply all year
    assert {
        (name, q)
        for name, q, code in IndicatorBreach.objects.values_list(
            "institution__name", "quarter", "threshold__code"
        )
        if code == "FEE-01"
    } == {("A", 1), ("A", 2)}
    assert dict(
        IndicatorRun.objects.values_list("filing__institution__name", "gov_backed").filter(
            year=2025, quarter=1
        )
    ) == {"A": True, "B": True, "C": False, "D": False}
    assert cases_by_code() == {
        ("A", "CON-01", 2025, 1): (1, True),
        ("A", "CON-01", 2025, 2): (2, True),  # Q3 complies
        ("A", "FEE-01", 2025, 1): (1, False),
        ("A", "FEE-01", 2025, 2): (2, False),  # not judged after removal
        ("B", "CON-01", 2025, 2): (1, False),
        ("B", "FEE-04", 2025, 1): (1, False),
        ("B", "FEE-04", 2025, 2): (2, False),  # Wenzhou: fee rate 2% > 1%
        # net assets 19333.33: leverage 12 > 10; 3000 and 5000 exceed 10% / 15% of it; capital adequacy 44.7% < 60%
        ("C", "LEV-01", 2025, 1): (1, False),
        ("C", "CON-01", 2025, 1): (1, False),
        ("C", "CON-02", 2025, 1): (1, False),
        ("C", "AST-04", 2025, 1): (1, False),
    }
    assert IndicatorValue.objects.get(
        filing__institution__name="C", year=2025, code="leverage"
    ).value == Decimal("12.000000")


def test_batch_equals_one_by_one_on_exact_values_and_findings(small_chunks):
    """Values just over a cap, ratios without capital (stored and breached undefined) and a focus that
    cannot be established: batch and one by one store the same (test_exact_judging.py has the cases)."""
    just_over = InstitutionFactory(region_id="510104", name="F")
    make_filing(just_over, 2025, 1, top1_client_liability="10000.01", net_assets="100000")
    no_capital = InstitutionFactory(region_id="510107", name="G")
    make_filing(no_capital, 2025, 1, net_assets="-100")
    make_filing(no_capital, 2025, 2, net_assets="1000")
    unfocused = InstitutionFactory(region_id="330302", name="H")
    make_filing(unfocused, 2025, 1, net_assets="19333.333333", fin_inforce_clients="0")
    ids = [just_over.pk, no_capital.pk, unfocused.pk]
    expected = outcome(lambda: one_by_one(ids))
    assert outcome(lambda: indicators_compute_batch(institution_ids=ids)) == expected
    indicators_compute_batch(institution_ids=ids)
    assert rows() == expected
    assert {
        (name, q, code): value
        for name, q, code, value in IndicatorBreach.objects.filter(
            threshold__code__in=["LEV-01", "LEV-02", "CON-01"]
        ).values_list("institution__name", "quarter", "threshold__code", "value")
    } == {
        ("F", 1, "CON-01"): Decimal("0.100000"),  # 0.1000001
        ("G", 1, "LEV-02"): None,
        ("G", 1, "CON-01"): None,
        ("G", 2, "LEV-02"): None,
        ("G", 2, "CON-01"): Decimal("3.000000"),
        ("H", 1, "LEV-01"): Decimal("12.000000"),  # focus undefined: the 10× cap
        ("H", 1, "CON-01"): Decimal("0.155172"),  # 3000 / 19333.333333
    }
    assert cases_by_code()[("G", "LEV-02", 2025, 2)] == (2, False)


def test_batch_after_changes_equals_one_by_one(landscape, small_chunks, users, gov_list):
    one_by_one(landscape)
    a, b, c = landscape[:3]
    closed = WarningCase.objects.get(institution_id=a, threshold__code="CON-01", quarter=2)
    warning_case_close(actor=users["admin"], case=closed, note="已整改")
    warning_case_acknowledge(
        actor=users["admin"], case=WarningCase.objects.get(institution_id=c, threshold__code="LEV-01")
    )
    amend(IndicatorRun.objects.get(institution_id=a, quarter=2).filing, top1_client_liability="3000")
    amend(IndicatorRun.objects.get(institution_id=c, year=2025).filing, net_assets="40000")
    b1 = IndicatorRun.objects.get(institution_id=b, quarter=1).filing
    b1.current_version.submitted_at = None  # returned: no longer counted
    b1.current_version.save()
    gov_list(IndicatorRun.objects.get(institution_id=c, year=2025).institution, dt.date(2025, 1, 1))
    Threshold.objects.filter(code="CON-01").update(value=Decimal("0.12"))
    changed = list(
        IndicatorRun.objects.filter(institution_id__in=[a, b, c], year=2025).values_list(
            "filing_id", flat=True
        )
    )
    by_institution = indicator_services.filings_by_institution(changed)

    expected = outcome(
        lambda: [
            institution_indicators_compute(institution_id=i, filing_ids=ids)
            for i, ids in by_institution.items()
        ]
    )
    assert outcome(lambda: indicators_compute_batch(filing_ids=changed)) == expected
    assert outcome(lambda: one_by_one(landscape)) == outcome(
        lambda: indicators_compute_batch(institution_ids=landscape)
    )
    indicators_compute_batch(filing_ids=changed)
    assert not IndicatorRun.objects.filter(filing=b1).exists()
    # CON-01 at 12% clears the concentration breaches (11%; amended to 7.5%): closing is proposed, but a
    # closed case keeps what it had; B's returned Q1 is cleared from its case, which stands on Q2 (the
    # level restarts there); C's amended Q1 breaches nothing
    assert cases_by_code() == {
        ("A", "CON-01", 2025, 1): (1, True),
        ("A", "CON-01", 2025, 2): (2, True),
        ("A", "FEE-01", 2025, 1): (1, False),
        ("A", "FEE-01", 2025, 2): (2, False),
        ("B", "CON-01", 2025, 2): (1, True),
        ("B", "FEE-04", 2025, 1): (1, False),
        ("B", "FEE-04", 2025, 2): (1, False),
        ("C", "LEV-01", 2025, 1): (1, True),
        ("C", "CON-01", 2025, 1): (1, True),
        ("C", "CON-02", 2025, 1): (1, True),
        ("C", "AST-04", 2025, 1): (1, True),
    }
    a3 = IndicatorRun.objects.get(institution_id=a, quarter=3).filing_id
    closed.refresh_from_db()
    assert (closed.status, closed.close_proposed_by_id) == ("closed", a3)
    assert list(closed.quarters.order_by("quarter").values_list("quarter", "cleared")) == [
        (1, True),
        (2, True),
    ]


def test_filings_no_longer_counted_lose_their_results(landscape):
    indicators_compute_batch(institution_ids=landscape)
    b1 = IndicatorRun.objects.get(institution_id=landscape[1], quarter=1).filing
    d1 = IndicatorRun.objects.get(institution_id=landscape[3]).filing
    for f in (b1, d1):
        f.current_version.submitted_at = None  # e.g. a new draft version became current after a return
        f.current_version.save()
    assert indicators_compute_batch(filing_ids=[d1.pk]) == []
    b2 = IndicatorRun.objects.get(institution_id=landscape[1], quarter=2).filing_id
    assert indicators_compute_batch(institution_ids=[landscape[1]]) == [b2]
    for model in (IndicatorRun, IndicatorValue, IndicatorBreach):
        assert not model.objects.filter(filing__in=[b1, d1]).exists()
    assert list(
        IndicatorRun.objects.filter(institution_id__in=landscape[1:4:2]).values_list("filing_id", flat=True)
    ) == [b2]


def test_recomputing_changes_nothing_but_the_counts(landscape):
    indicators_compute_batch(institution_ids=landscape)
    first = rows()
    run_ids = set(IndicatorRun.objects.values_list("pk", flat=True))
    case_times = dict(WarningCase.objects.values_list("pk", "updated_at"))
    indicators_compute_batch(institution_ids=landscape)
    second = rows()
    assert {r[8] for r in first["runs"]} == {1} and {r[8] for r in second["runs"]} == {2}
    assert {r[:8] + r[9:] for r in second["runs"]} == {r[:8] + r[9:] for r in first["runs"]}
    assert {k: v for k, v in second.items() if k != "runs"} == {k: v for k, v in first.items() if k != "runs"}
    assert set(IndicatorRun.objects.values_list("pk", flat=True)) == run_ids  # runs updated in place
    assert dict(WarningCase.objects.values_list("pk", "updated_at")) == case_times  # no case written


def _institutions(n):
    """n institutions, each with a breaching and a compliant quarter (a case that proposes closing)."""
    ids = []
    for i in range(n):
        inst = InstitutionFactory(region_id=("510104", "330302")[i % 2])
        make_filing(inst, 2025, 1, **HIGH_CONCENTRATION)
        make_filing(inst, 2025, 2)
        ids.append(inst.pk)
    return ids


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_queries_per_chunk_do_not_grow_with_institutions():
    policy = Policy()
    counts = []
    for n in (2, 9):
        ids = _institutions(n)
        fresh = _queries(lambda ids=ids: indicators_compute_batch(institution_ids=ids, policy=policy))
        for inst_id in ids:
            amend(
                IndicatorRun.objects.filter(institution_id=inst_id).get(quarter=1).filing,
                top1_client_liability="1",
            )
        again = _queries(lambda ids=ids: indicators_compute_batch(institution_ids=ids, policy=policy))
        counts.append((fresh, again))
        assert WarningCase.objects.filter(institution_id__in=ids, close_proposed=True).count() == n
    assert counts[0] == counts[1]


def test_job_counts_institutions_across_chunk_tasks(
    landscape, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(indicator_tasks, "CHUNK_INSTITUTIONS", 2)
    filing_ids = list(indicator_services.counted_filings().values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        job = indicators_recompute_enqueue(filing_ids=filing_ids, reason="test")
    job.refresh_from_db()
    assert (job.status, job.total, job.done_count, job.params["filings"]) == (Job.Status.DONE, 4, 4, 9)
    parts = job.parts.order_by("pk")
    assert [(p.kind, p.task, p.status, p.done_count, list(p.params["institutions"])) for p in parts] == [
        (
            "indicators.recompute.part",
            "supervision.tasks.recompute_chunk",
            Job.Status.DONE,
            2,
            [str(i) for i in landscape[:2]],
        ),
        (
            "indicators.recompute.part",
            "supervision.tasks.recompute_chunk",
            Job.Status.DONE,
            2,
            [str(i) for i in landscape[2:4]],
        ),
    ]
    assert IndicatorRun.objects.count() == 9


def test_government_backed_status_on_several_dates(gov_list):
    a, b = InstitutionFactory(region_id="510104"), InstitutionFactory(region_id="330302")
    gov_list(a, dt.date(2025, 2, 1))
    gov_list(a, dt.date(2025, 8, 1), action="remove")
    gov_list(b, dt.date(2025, 6, 30))
    ends = [dt.date(2025, 3, 31), dt.date(2025, 6, 30), dt.date(2025, 9, 30), dt.date(2024, 12, 31)]
    assert government_backed_on(dates=ends, institution_ids=[a.pk, b.pk]) == {
        dt.date(2024, 12, 31): set(),
        dt.date(2025, 3, 31): {a.pk},
        dt.date(2025, 6, 30): {a.pk, b.pk},
        dt.date(2025, 9, 30): {b.pk},
    }
    assert government_backed_on(dates=[dt.date(2025, 6, 30)], institution_ids=[b.pk]) == {
        dt.date(2025, 6, 30): {b.pk}
    }


def test_each_filing_stores_its_breach_count_for_the_review_queue(landscape, small_chunks):
    """reporting orders its review queue by Filing.breach_count without reading supervision's tables:
    the computation keeps it equal to the filing's breach-severity breaches, and zero once they go."""
    from django.db.models import Count, Q

    from reporting.models import Filing

    indicators_compute_batch(institution_ids=landscape)
    counted = Filing.objects.annotate(
        n=Count("indicator_breaches", filter=Q(indicator_breaches__severity="breach"))
    ).values_list("pk", "n", "breach_count")
    assert all(n == stored for _pk, n, stored in counted)
    breached = {pk for pk, n, _stored in counted if n}
    b2 = IndicatorRun.objects.get(institution_id=landscape[1], quarter=2).filing
    assert len(breached) == 5 and b2.pk in breached
    b2.current_version.submitted_at = None  # no longer counted: its breaches and its count go
    b2.current_version.save()
    indicators_compute_batch(institution_ids=[landscape[1]])
    b2.refresh_from_db()
    assert b2.breach_count == 0
