"""The fee subsidy computed in the database (PostgreSQL: one grouped statement for the amount,
INSERT … SELECT for the lines) against the readable Python definition (calculations.fee_subsidy_lines),
line for line: eligibility, reasons, line, days, base, rate and the unrounded amount. On SQLite both
sides are the Python path (the comparison is then trivially equal; CI runs it on PostgreSQL too)."""

import datetime as dt
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import pytest
from django.db import connection

from core.stored_text import store
from subsidies import calculations as calc
from subsidies import services
from subsidies.choices import Status
from subsidies.models import Application, ApplicationLine, Scheme

from . import helpers as h

pytestmark = pytest.mark.django_db

RATES = ("0.008", "0.01", "0.012", "0.018", "0.02", "0.021", "0.025")
LINES = ("general", "rural_startup", "farmer_land_income", "other")
TYPES = ("small_micro", "individual_business", "farmer", "other")
SPANS = (
    (dt.date(2025, 1, 1), dt.date(2026, 1, 1)),  # the whole year: 365 days
    (dt.date(2024, 3, 15), dt.date(2025, 6, 30)),  # ends within the year
    (dt.date(2025, 10, 2), dt.date(2027, 10, 2)),  # starts within the year
    (dt.date(2025, 2, 28), dt.date(2025, 3, 1)),  # one day
    (dt.date(2023, 1, 1), dt.date(2024, 12, 31)),  # ended before: not in the application
)


def _portfolio(inst):
    """Every product line × fee rate × client type with uneven amounts and spans, a government-backed
    share, and one client whose total passes a 1,000 万元 cap."""
    clients = {t: h.client(inst, t) for t in TYPES}
    big = h.client(inst, "small_micro")
    n = 0
    for line in LINES:
        for rate in RATES:
            for ctype in TYPES:
                start, end = SPANS[n % len(SPANS)]
                h.guarantee(
                    inst,
                    amount=D(137) + D(n * 7919 % 50000) / 100,
                    fee_rate=rate,
                    start=start,
                    end=end,
                    line=line,
                    gov_backed=n % 3 != 0,
                    owner=clients[ctype],
                )
                n += 1
    for rate in ("0.01", "0.008", "0.012"):
        h.guarantee(inst, amount="600.33", fee_rate=rate, gov_backed=True, owner=big)


def _scheme(code: str, params: dict) -> Scheme:
    return Scheme.objects.create(
        code=code,
        name=code,
        kind="fee_subsidy",
        region_code="",
        effective_from=dt.date(2020, 1, 1),
        source="测试",
        params=params,
    )


CAPPED = {
    "day_basis": 360,
    "institution_cap": "9.99",
    "lines": [
        {
            "key": "gov",
            "label": "政府性（单户≤1000万元）",
            "points": "0.0075",
            "fee_rate_max": "0.012",
            "single_client_max": "1000",
            "gov_backed_only": True,
            "govlist_only": True,
        },
        {
            "key": "small",
            "label": "小微",
            "points": "0.003",
            "fee_rate_max": "0.02",
            "client_types": ["small_micro", "individual_business"],
            "product_lines": ["general", "rural_startup"],
        },
    ],
}


def _expected(app: Application):
    """The Python definition over the same guarantees, with the same claims elsewhere."""
    return services.fee_subsidy_evaluate(
        scheme=app.scheme,
        institution_id=app.institution_id,
        year=app.year,
        claimed_elsewhere=services._claimed_elsewhere(app),
    )


def _compare(app: Application) -> int:
    results, amount, capped = _expected(app)
    stored = {line.guarantee_id: line for line in ApplicationLine.objects.filter(application=app).order_by()}
    assert len(stored) == len(results)
    for r in results:
        line = stored[r.guarantee_id]
        got = (line.label, line.eligible, line.claimed, line.reason, line.line_key, line.days)
        assert got == (r.label, r.eligible, r.eligible, store(*r.reasons), r.line_key, r.days), r
        assert line.base == r.base and line.rate == r.rate, r
        assert line.amount == r.amount.quantize(D("1e-10"), rounding=ROUND_HALF_UP), r
    assert app.computed_amount == amount
    c = app.computation
    assert (c["guarantees"], c["eligible"], c["capped"]) == (
        len(results),
        sum(r.eligible for r in results),
        capped,
    )
    assert calc.money(D(c["unrounded"])) == calc.money(
        sum((r.amount for r in results if r.eligible), calc.ZERO)
    )
    return sum(r.eligible for r in results)


@pytest.mark.parametrize("govlist", [True, False])
def test_database_lines_equal_python_lines(govlist):
    inst = h.institution("500113")
    if govlist:
        h.put_on_govlist(inst, "500113")
    filer, _approver = h.company_users(inst)
    _portfolio(inst)
    for scheme in (Scheme.objects.get(code="banan-fee-subsidy"), _scheme(f"capped-{govlist}", CAPPED)):
        app = services.application_create(actor=filer, scheme=scheme, institution=inst, year=2025)
        assert _compare(app) > 0
        estimate = services.fee_subsidy_estimate(scheme=scheme, institution_id=inst.pk, year=2025)
        assert (estimate.amount, estimate.guarantees) == (app.computed_amount, app.computation["guarantees"])


def test_guarantees_claimed_elsewhere_are_explained_not_claimed():
    inst = h.institution("500113")
    filer, _approver = h.company_users(inst)
    _portfolio(inst)
    scheme = Scheme.objects.get(code="banan-fee-subsidy")
    first = services.application_create(actor=filer, scheme=scheme, institution=inst, year=2025)
    # an older application (rejected, yet still holding some claims: as data migrated from before)
    Application.objects.filter(pk=first.pk).update(status=Status.REJECTED)
    held = list(first.lines.filter(claimed=True).values_list("id", flat=True))
    ApplicationLine.objects.filter(id__in=held[::2]).update(claimed=False)
    second = services.application_create(actor=filer, scheme=scheme, institution=inst, year=2025)
    _compare(second)
    reasons = set(second.lines.filter(eligible=False).values_list("reason", flat=True))
    assert store(services.EXCLUDED_REASON) in reasons
    assert second.computed_amount < first.computed_amount
    assert connection.vendor in ("postgresql", "sqlite")


def test_large_application_is_computed_by_a_background_job(settings, django_capture_on_commit_callbacks):
    from django.test import Client

    from core.models import Job

    settings.SUBSIDY_BACKGROUND_MIN = 10
    inst = h.institution("500113")
    filer, approver = h.company_users(inst)
    _portfolio(inst)
    scheme = Scheme.objects.get(code="banan-fee-subsidy")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        app = services.application_create(actor=filer, scheme=scheme, institution=inst, year=2025)
    assert app.computation["computing"] and app.computed_amount is None and not app.lines.exists()
    job = Job.objects.get(pk=app.computation["job"])
    assert (job.kind, job.status) == ("subsidies.compute", Job.Status.QUEUED)
    with pytest.raises(services.AppError) as exc:
        services.application_submit(actor=approver, application=app)
    assert exc.value.code == "conflict"
    web = Client()
    web.force_login(filer)
    page = web.get(f"/subsidies/applications/{app.pk}/").content.decode()
    assert 'id="computing"' in page and f"#{job.pk}" in page

    for callback in callbacks:  # the commit: the job is sent, and runs at once (eager, as without a broker)
        callback()
    app.refresh_from_db()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.done_count == app.computation["guarantees"]
    assert not app.computation.get("computing") and app.computed_amount is not None
    assert _compare(app) > 0
    assert 'id="computing"' not in web.get(f"/subsidies/applications/{app.pk}/").content.decode()
    services.application_submit(actor=approver, application=app)
