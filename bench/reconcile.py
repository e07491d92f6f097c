"""Reconciliation of one company-quarter with 50,000 guarantees, on PostgreSQL: reporting.reconciliation
(the derived report fields, the REL-01 guarantees, the tolerances and the comparison with the filed
values) ÷ one SQL statement that computes the same derived fields. Target ≤ 3×. The two must agree
field by field (the script stops if they do not).

The records are generated once (like bench/guarantees_load.py: 70 % as many clients as guarantees,
a third of them natural persons) with releases, compensations, recoveries and write-offs, and loaded
through batch_commit; later runs reuse them.

    createdb -h 127.0.0.1 -U postgres gp_reconcile_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gp_reconcile_bench .venv/bin/python bench/reconcile.py
"""
# ruff: noqa: S608 — table names from the models; values are parameters

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from decimal import ROUND_HALF_UP, Decimal

from guarantees_load import BANKS, generate
from reporting_common import make_institutions, setup_django

PERIOD_END = dt.date(2025, 6, 30)
NAME = "基准测试核对融资担保有限公司"


def events_for(rows: list[dict], seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i, row in enumerate(rows):
        amount = Decimal(str(row["guaranteed_amount"]))
        start, end = row["start_date"], row["end_date"]
        roll = rng.random()
        if roll < 0.35 and end <= dt.date(2025, 12, 31):  # released in full at maturity
            out.append(
                dict(contract_no=row["contract_no"], kind="解保", occurred_on=end, amount=float(amount))
            )
        elif roll < 0.5:  # partly repaid half-way
            mid = start + (end - start) / 2
            part = (amount * Decimal("0.3")).quantize(Decimal("0.01"))
            out.append(dict(contract_no=row["contract_no"], kind="解保", occurred_on=mid, amount=float(part)))
        elif roll < 0.52:  # defaulted: compensated, partly recovered, the rest written off
            day = start + dt.timedelta(days=120)
            out.append(
                dict(
                    contract_no=row["contract_no"],
                    kind="代偿",
                    occurred_on=day,
                    amount=float(amount),
                    interest=2.5,
                )
            )
            rec = (amount * Decimal("0.4")).quantize(Decimal("0.01"))
            out.append(
                dict(
                    contract_no=row["contract_no"],
                    kind="追偿",
                    occurred_on=day + dt.timedelta(days=60),
                    amount=float(rec),
                )
            )
            if i % 3 == 0:
                out.append(
                    dict(
                        contract_no=row["contract_no"],
                        kind="核销",
                        occurred_on=day + dt.timedelta(days=200),
                        amount=float(amount - rec),
                    )
                )
    return [{"source_row": n + 2, "interest": "", **e} for n, e in enumerate(out)]


def prepare(n: int):
    from accounts.models import User
    from guarantees.models import Guarantee
    from guarantees.services import batch_commit, batch_stage
    from institutions.models import Bank, Institution

    for name in BANKS:
        Bank.objects.get_or_create(name=name)
    user, _ = User.objects.get_or_create(username="bench_reconcile", defaults={"role": "admin"})
    inst = Institution.objects.filter(name=NAME).first()
    if inst is None:
        inst = make_institutions(Institution.objects.filter(name__startswith="基准测试").count() + 1)[-1]
        inst.name = NAME
        inst.save(update_fields=["name"])
    have = Guarantee.objects.filter(institution=inst).count()
    if have != n:
        if have:
            sys.exit(f"{NAME} holds {have} guarantees, not {n}: use a fresh database")
        rows = generate(n, seed=7)
        for i, row in enumerate(rows):  # some 总对总 business, and dates that reach into 2025
            row["batch_zdz"] = "是" if i % 10 == 0 else "否"
            row["start_date"] = row["start_date"] + dt.timedelta(days=365)
            row["end_date"] = row["end_date"] + dt.timedelta(days=365)
        t0 = time.perf_counter()
        batch = batch_stage(actor=user, institution=inst, channel="api")
        batch_commit(
            actor=user, batch=batch, guarantees=rows, events=events_for(rows, 7), confirm_warnings=True
        )
        batch.refresh_from_db()
        assert batch.status == "committed", batch.findings[:3]
        print(
            f"loaded {n:,} guarantees and {batch.events_created:,} events in {time.perf_counter() - t0:.1f}s"
        )
    return inst


SQL = """
WITH reduced AS (
    SELECT e.guarantee_id,
           SUM(e.amount) FILTER (WHERE e.occurred_on <= %(end)s) AS at_end,
           SUM(e.amount) FILTER (WHERE e.occurred_on <= %(prior)s) AS at_prior
    FROM {event} e JOIN {guarantee} g0 ON g0.id = e.guarantee_id
    WHERE g0.institution_id = %(inst)s AND e.kind IN ('release', 'compensation')
    GROUP BY e.guarantee_id
), g AS (
    SELECT g.id, g.client_id, c.client_type,
           COALESCE(NULLIF(c.group_name, ''), '#' || c.id) AS grp,
           g.batch_zdz, g.guaranteed_amount, g.start_date, g.end_date, g.fee_amount,
           g.guaranteed_amount - COALESCE(r.at_end, 0) AS bal_end,
           g.guaranteed_amount - COALESCE(r.at_prior, 0) AS bal_prior
    FROM {guarantee} g JOIN {client} c ON c.id = g.client_id LEFT JOIN reduced r ON r.guarantee_id = g.id
    WHERE g.institution_id = %(inst)s
), inforce AS (
    SELECT * FROM g WHERE start_date <= %(end)s AND bal_end > 0
), per_client AS (
    SELECT client_id, MAX(client_type) AS kind, SUM(bal_end) AS bal,
           ROW_NUMBER() OVER (ORDER BY SUM(bal_end) DESC) AS rank
    FROM inforce GROUP BY client_id
), new AS (
    SELECT g.*, SUM(guaranteed_amount) OVER (PARTITION BY client_id) AS client_new
    FROM g WHERE start_date BETWEEN %(year_start)s AND %(end)s
), ev AS (
    SELECT
        COUNT(*) FILTER (WHERE kind = 'compensation' AND occurred_on BETWEEN %(year_start)s AND %(end)s) AS comp_n,
        SUM(amount + interest) FILTER (WHERE kind = 'compensation' AND occurred_on BETWEEN %(year_start)s AND %(end)s) AS comp,
        SUM(amount + interest) FILTER (WHERE kind = 'compensation' AND occurred_on <= %(end)s) AS comp_cum,
        SUM(amount + interest) FILTER (WHERE kind = 'compensation' AND occurred_on <= %(prior)s) AS comp_prior,
        SUM(amount) FILTER (WHERE kind IN ('recovery', 'write_off') AND occurred_on <= %(prior)s) AS recovered_prior,
        SUM(amount) FILTER (WHERE kind = 'recovery' AND occurred_on BETWEEN %(year_start)s AND %(end)s) AS recovery,
        SUM(amount) FILTER (WHERE kind = 'write_off' AND occurred_on BETWEEN %(year_start)s AND %(end)s) AS write_off,
        SUM(amount) FILTER (WHERE kind IN ('release', 'compensation') AND occurred_on BETWEEN %(year_start)s AND %(end)s) AS released,
        SUM(amount) FILTER (WHERE kind IN ('release', 'compensation') AND occurred_on <= %(end)s) AS released_cum
    FROM {event} e JOIN {guarantee} g1 ON g1.id = e.guarantee_id
    WHERE g1.institution_id = %(inst)s
)
SELECT
    (SELECT COALESCE(SUM(bal_prior), 0) FROM g WHERE start_date <= %(prior)s AND bal_prior > 0),
    (SELECT COALESCE(SUM(guaranteed_amount), 0) FROM new),
    COALESCE(ev.released, 0),
    (SELECT COALESCE(SUM(bal_end), 0) FROM inforce),
    (SELECT COALESCE(SUM(bal), 0) FROM per_client WHERE kind IN ('small_micro', 'individual_business') AND bal <= 500),
    (SELECT COALESCE(SUM(bal), 0) FROM per_client WHERE kind = 'farmer' AND bal <= 200),
    (SELECT COUNT(*) FROM inforce),
    (SELECT COUNT(*) FROM per_client),
    (SELECT COALESCE(SUM(bal), 0) FROM per_client WHERE kind IN ('small_micro', 'individual_business')),
    (SELECT COALESCE(SUM(bal), 0) FROM per_client WHERE kind IN ('small_micro', 'individual_business', 'farmer')),
    (SELECT COUNT(*) FROM per_client WHERE kind IN ('small_micro', 'individual_business', 'farmer')),
    (SELECT COALESCE(SUM(guaranteed_amount), 0) FROM new WHERE client_new <= 500),
    (SELECT COALESCE(SUM(guaranteed_amount), 0) FROM new WHERE client_new <= 1000),
    (SELECT COALESCE(SUM(guaranteed_amount * (end_date - start_date) / 365.0), 0) FROM new),
    (SELECT COALESCE(SUM(guaranteed_amount * (end_date - start_date) / 365.0), 0) FROM new WHERE client_new <= 500),
    (SELECT COALESCE(SUM(fee_amount), 0) FROM new WHERE client_new <= 500),
    (SELECT COALESCE(SUM(guaranteed_amount * (end_date - start_date) / 365.0), 0) FROM new WHERE client_new > 500),
    (SELECT COALESCE(SUM(fee_amount), 0) FROM new WHERE client_new > 500),
    COALESCE(ev.comp, 0),
    ev.comp_n,
    COALESCE(ev.comp_prior, 0) - COALESCE(ev.recovered_prior, 0),
    COALESCE(ev.recovery, 0),
    COALESCE(ev.write_off, 0),
    COALESCE(ev.comp_cum, 0),
    COALESCE(ev.released_cum, 0),
    (SELECT COALESCE(MAX(bal), 0) FROM per_client),
    (SELECT COALESCE(MAX(b), 0) FROM (SELECT SUM(bal_end) AS b FROM inforce GROUP BY grp) t),
    (SELECT COALESCE(SUM(bal), 0) FROM per_client WHERE rank <= 10),
    (SELECT COALESCE(SUM(bal_end), 0) FROM inforce WHERE batch_zdz)
FROM ev
"""
ORDER = (
    "fin_balance_opening", "fin_new", "fin_released", "fin_balance", "loan_small_micro_le5m", "loan_farmer_le2m",
    "fin_inforce_count", "fin_inforce_clients", "small_micro_balance", "farmer_small_micro_balance",
    "farmer_small_micro_clients", "new_single_le5m", "new_single_le10m", "annualized_new_amount",
    "annualized_new_amount_le5m", "fee_new_le5m", "annualized_new_amount_gt5m", "fee_new_gt5m", "compensation",
    "compensation_count", "compensation_balance_opening", "recovery", "loss_writeoff", "compensation_cumulative",
    "released_cumulative", "top1_client_liability", "top1_group_liability", "top10_clients_liability",
    "batch_zdz_balance",
)  # fmt: skip


def one_statement(inst) -> dict:
    from django.db import connection

    from guarantees.models import Client, Guarantee, GuaranteeEvent

    sql = SQL.format(
        event=GuaranteeEvent._meta.db_table, guarantee=Guarantee._meta.db_table, client=Client._meta.db_table
    )
    year_start = dt.date(PERIOD_END.year, 1, 1)
    params = {
        "inst": inst.pk,
        "end": PERIOD_END,
        "prior": year_start - dt.timedelta(days=1),
        "year_start": year_start,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    out = dict(zip(ORDER, row, strict=True))
    out["loan_balance"] = out["fin_balance"]
    return {
        k: v.quantize(Decimal("0.01"), ROUND_HALF_UP) if isinstance(v, Decimal) else v for k, v in out.items()
    }


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--guarantees", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database")
    setup_django()
    from django.db import connection

    from reporting import reconciliation, services
    from reporting.periods import Period

    inst = prepare(args.guarantees)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    template = services.template_for(Period(2025, 2))
    fields = services.template_fields(template)
    filed = {k: str(v) for k, v in one_statement(inst).items()}
    filed["fin_balance"] = str(Decimal(filed["fin_balance"]) * Decimal("1.01"))  # one difference beyond 0.5 %

    from django.core.cache import cache

    def reconcile():
        return reconciliation.reconcile(institution=inst, period_end=PERIOD_END, values=filed, fields=fields)

    def cold():
        cache.clear()  # derive from the records every time: what the first look after a change costs
        return reconcile()

    one_statement(inst), cold()  # warm PostgreSQL's buffers for both
    t_sql, sql_fields = timed(lambda: one_statement(inst), args.repeat)
    t_rec, rec = timed(cold, args.repeat)
    t_warm, _rec = timed(reconcile, args.repeat)
    derived = {line.code: line.derived for line in rec.lines}
    wrong = {k: (derived[k], v) for k, v in sql_fields.items() if Decimal(derived[k]) != Decimal(v)}
    if wrong:
        sys.exit(f"the two disagree: {wrong}")
    assert [f.rule_id for f in rec.findings] == ["REC-fin_balance"], [f.rule_id for f in rec.findings]
    print(f"{args.guarantees:,} guarantees, quarter ending {PERIOD_END}; median of {args.repeat} runs")
    print(f"  one SQL statement (29 derived fields)            {t_sql * 1000:8.1f} ms")
    print(f"  reconciliation (derive + REL-01 + tolerances)     {t_rec * 1000:8.1f} ms")
    print(f"  ratio reconciliation ÷ one statement              {t_rec / t_sql:8.2f}x   (target ≤ 3x)")
    print(
        f"  again, records unchanged (cached derivation)      {t_warm * 1000:8.1f} ms   {t_warm / t_sql:.3f}x"
    )


if __name__ == "__main__":
    main()
