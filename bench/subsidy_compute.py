"""Computing one fee-subsidy application over 100,000 guarantees (the Banan scheme: general line 0.5 pp at
≤ 2 %, rural line 1 pp at ≤ 1 %, days in force within 2025 / 365) ÷ one SQL statement that sums the same
eligible amounts. Target: ≤ 3× on PostgreSQL. Lines printed:

  evaluate     services.fee_subsidy_estimate: the amount and counts (what the estimate on the company page
               costs). On PostgreSQL one statement groups the guarantees by what the rule reads (product
               line, client type, fee rate, flags) with Σ amount × days per group; each group is judged
               once in Python (calculations.fee_subsidy_sum), the amount rounded once
  python lines services.fee_subsidy_evaluate: every guarantee fetched and judged in Python with its reasons
               (the readable definition; the explanation as a list, what the estimate cost before)
  create       services.application_create: the amount as evaluate, then the 100,000 explanation lines
               stored by one INSERT … SELECT joining each guarantee to its group's verdict (on PostgreSQL;
               COPY of the Python lines elsewhere), what a filer waits for when applying
               (the computation a background job does: over SUBSIDY_BACKGROUND_MIN guarantees the web
               request only queues it, measured as "apply (queued)")
  one SQL      SUM(amount × points × days / 365) with the lines as CASE, in the database (the reference)

The amounts of evaluate, the Python lines, create and one SQL are checked equal (and the stored lines
against the Python lines: eligible count, Σ amounts) before any time is printed.

    createdb -h 127.0.0.1 -U postgres gp_subsidy_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gp_subsidy_bench .venv/bin/python bench/subsidy_compute.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from decimal import Decimal

from reporting_common import measure, setup_django

SQL = """
SELECT ROUND(SUM(g.guaranteed_amount
    * CASE WHEN pl.code = 'general' AND g.fee_rate <= 0.02 THEN 0.005
           WHEN pl.code IN ('rural_startup', 'farmer_land_income') AND g.fee_rate <= 0.01 THEN 0.01
           ELSE 0 END
    * (LEAST(g.end_date, %(after)s) - GREATEST(g.start_date, %(start)s)) / 365.0), 2)
FROM guarantees_guarantee g JOIN guarantees_productline pl ON pl.id = g.product_line_id
WHERE g.institution_id = %(inst)s AND g.start_date <= %(end)s AND g.end_date > %(start)s
"""


def load(n: int, seed: int):
    from guarantees.models import Client, Guarantee, ProductLine
    from institutions.demo import demo_credit_code
    from institutions.models import Institution

    inst, created = Institution.objects.get_or_create(
        name=f"补贴基准测试融资担保有限公司{n}",
        defaults={
            "credit_code": demo_credit_code("500113", 9_500_000 + n % 100_000),
            "region_id": "500113",
            "level": "county",
            "registered_capital": Decimal(50000),
            "paid_in_capital": Decimal(50000),
        },
    )
    if not created and Guarantee.objects.filter(institution=inst).count() == n:
        return inst
    rng = random.Random(seed)
    lines = {p.code: p for p in ProductLine.objects.all()}
    clients = Client.objects.bulk_create(
        [
            Client(
                institution=inst,
                name=f"基准客户{i}",
                client_type="small_micro",
                id_kind="credit_code",
                id_key=demo_credit_code("500113", 6_000_000 + i),
            )
            for i in range(n // 10)
        ],
        batch_size=5000,
    )
    rows = []
    for i in range(n):
        start = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(700))
        amount = Decimal(rng.randrange(1000, 100_000)) / 100
        rate = Decimal(rng.choice(("0.008", "0.01", "0.012", "0.018", "0.02", "0.021", "0.025")))
        line = rng.choice(("general", "general", "general", "rural_startup", "farmer_land_income", "other"))
        rows.append(
            Guarantee(
                institution=inst,
                client=clients[i % len(clients)],
                contract_no=f"SB{seed}-{i:07d}",
                other_lender="基准贷款人",
                loan_amount=amount,
                guaranteed_amount=amount,
                start_date=start,
                end_date=start + dt.timedelta(days=rng.choice((90, 180, 365, 730))),
                fee_rate=rate,
                fee_amount=(amount * rate).quantize(Decimal("0.01")),
                product_line=lines[line],
            )
        )
    Guarantee.objects.bulk_create(rows, batch_size=5000)
    return inst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    setup_django()

    from django.db import connection, transaction
    from django.db.models import Count, Q, Sum

    from subsidies import services
    from subsidies.models import Application, Scheme

    t0 = time.perf_counter()
    inst = load(args.rows, 2026)
    if connection.vendor == "postgresql":
        # fresh planner statistics, as autovacuum keeps them in production (it is off on test servers):
        # without them the planner expects a handful of rows and sorts 83,000 on disk to group them
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE guarantees_guarantee, guarantees_client")
    print(
        f"database: {connection.vendor}; {args.rows:,} guarantees ready in {time.perf_counter() - t0:.1f} s"
    )
    scheme = Scheme.objects.get(code="banan-fee-subsidy")
    year = 2025
    params = {
        "inst": inst.pk,
        "start": dt.date(year, 1, 1),
        "end": dt.date(year, 12, 31),
        "after": dt.date(year + 1, 1, 1),
    }

    def one_sql():
        with connection.cursor() as cursor:
            cursor.execute(SQL, params)
            return cursor.fetchone()[0]

    def evaluate():
        return services.fee_subsidy_estimate(scheme=scheme, institution_id=inst.pk, year=year)

    def python_lines():
        return services.fee_subsidy_evaluate(scheme=scheme, institution_id=inst.pk, year=year)

    from django.conf import settings

    background_min = services.background_min()

    def apply_queued():
        settings.SUBSIDY_BACKGROUND_MIN = background_min
        try:
            with transaction.atomic():  # rolled back: the job's send after commit never happens
                app = services.application_create(actor=None, scheme=scheme, institution=inst, year=year)
                assert app.computation.get("computing"), app.computation
                transaction.set_rollback(True)
        finally:
            settings.SUBSIDY_BACKGROUND_MIN = 10**9  # create: computed in the call, as the job does
        return app

    settings.SUBSIDY_BACKGROUND_MIN = 10**9

    def create(check=None):
        with transaction.atomic():
            app = services.application_create(actor=None, scheme=scheme, institution=inst, year=year)
            if check:
                check(app)
            transaction.set_rollback(True)  # measured again next time: nothing kept
        return app

    total = evaluate()
    results, amount, _capped = python_lines()
    reference = Decimal(one_sql())
    eligible = sum(r.eligible for r in results)
    assert total.amount == amount == reference, (total.amount, amount, reference)
    assert (total.eligible, total.guarantees) == (eligible, len(results))
    unrounded = sum((r.amount for r in results if r.eligible), Decimal(0))

    def check(app):
        stored = app.lines.aggregate(n=Count("id"), ok=Count("id", filter=Q(eligible=True)), s=Sum("amount"))
        assert app.computed_amount == amount, app.computed_amount
        assert (stored["n"], stored["ok"]) == (len(results), eligible), stored
        assert abs(stored["s"] - unrounded) < Decimal("1e-10") * len(results), (stored["s"], unrounded)

    create(check)
    print(
        f"amount {amount} 万元 from {eligible:,} eligible of {len(results):,} guarantees"
        " (grouped SQL, Python lines, stored lines and one SQL agree)"
    )

    t_sql, m_sql = measure(one_sql, args.repeat)
    t_eval, m_eval = measure(evaluate, args.repeat)
    t_lines, m_lines = measure(python_lines, args.repeat)
    t_create, m_create = measure(create, max(1, args.repeat - 1))
    t_apply, m_apply = measure(apply_queued, args.repeat)
    assert not Application.objects.filter(institution=inst).exists()
    print(f"{'':14} {'seconds':>9} {'÷ one SQL':>10} {'peak MiB':>9}")
    for label, t, m in (
        ("one SQL", t_sql, m_sql),
        ("evaluate", t_eval, m_eval),
        ("python lines", t_lines, m_lines),
        ("create", t_create, m_create),
        ("apply (queued)", t_apply, m_apply),
    ):
        print(f"{label:14} {t:9.3f} {t / t_sql:9.1f}× {m:9.1f}")
    print("target: evaluate ÷ one SQL ≤ 3×")


if __name__ == "__main__":
    main()
