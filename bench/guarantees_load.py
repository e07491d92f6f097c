"""Loading loan-level guarantee records on PostgreSQL: validate + commit (batch_commit) ÷ a raw COPY of the
same rows into the same tables, at 10,000 and 100,000 rows, with the per-row time and peak RSS.

Rows are generated as a spreadsheet reader hands them over (amounts as floats, dates as date cells):
70 % as many clients as guarantees, a third of them natural persons with ID numbers. Every run loads into
fresh institutions, so every row is an insert. Lines printed:

  validate      validate_batch alone (pure pandas; includes the database look-ups of batch_check)
  write         staging COPY + one merge statement per table (services._write), already-typed rows
  batch_commit  validate + write, what a filer waits for
  raw COPY      COPY of the same typed rows straight into guarantees_client and guarantees_guarantee
  re-send       batch_commit of the same rows again (changes nothing)

    createdb -h 127.0.0.1 -U postgres gp_guarantees_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gp_guarantees_bench .venv/bin/python bench/guarantees_load.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from bench_result import report
from reporting_common import make_institutions, setup_django

if TYPE_CHECKING:  # Django is set up inside main()
    from accounts.models import User
    from guarantees.validation import ValidationResult
    from institutions.models import Institution

BANKS = [f"基准测试银行{i}分行" for i in range(20)]


def person_id(n: int) -> str:
    from guarantees.identifiers import id_check_char

    birth = dt.date(1960, 1, 1) + dt.timedelta(days=n // 1000)
    body = f"510104{birth:%Y%m%d}{n % 1000:03d}"
    return body + id_check_char(body)


def generate(n: int, seed: int) -> list[dict]:
    from institutions.demo import demo_credit_code

    rng = random.Random(seed)
    clients = max(1, n * 7 // 10)
    rows = []
    for i in range(n):
        c = rng.randrange(clients)
        person = c % 3 == 0
        start = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(900))
        amount = rng.randrange(1000, 100_000) / 100  # 10.00–1,000.00 万元
        rate = rng.choice((0.008, 0.01, 0.012, 0.015, 0.02))
        rows.append(
            {
                "source_row": i + 2,
                "contract_no": f"BJ{seed}-{i:07d}",
                "client_name": f"基准客户{c}",
                "client_type": "农户" if person else ("小微企业" if c % 3 == 1 else "个体工商户"),
                "credit_code": "" if person else demo_credit_code("510104", 5_000_000 + c),
                "id_number": person_id(c) if person else "",
                "industry": "A01" if person else "C39",
                "region_code": "510104",
                "group_name": f"集团{c // 50}" if c % 7 == 0 else "",
                "bank": BANKS[c % len(BANKS)],
                "other_lender": "",
                "loan_amount": amount,
                "guaranteed_amount": amount,
                "start_date": start,
                "end_date": start + dt.timedelta(days=rng.choice((180, 365, 730))),
                "fee_rate": rate,
                "fee_amount": round(amount * rate, 2),
                "product_line": "",
                "gov_backed": "是" if c % 2 else "否",
                "batch_zdz": "否",
                "reguarantee_provincial_share": 0.2 if c % 4 == 0 else "",
                "national_fund_share": "",
                "counter_guarantee": "保证",
            }
        )
    return rows


def raw_copy(institution: Institution, result: ValidationResult) -> None:
    """The floor: COPY the typed clients, read back their ids, COPY the guarantees — no staging, no merge."""
    from django.db import connection, transaction
    from django.utils import timezone

    from guarantees.models import Client, Guarantee, ProductLine
    from guarantees.services import CLIENT_COLUMNS
    from institutions.models import Bank

    now = timezone.now()
    banks = dict(Bank.objects.values_list("name", "id"))
    lines = dict(ProductLine.objects.values_list("code", "id"))
    columns = (
        "contract_no", "bank_id", "other_lender", "loan_amount", "guaranteed_amount", "start_date", "end_date",
        "fee_rate", "fee_amount", "product_line_id", "gov_backed", "batch_zdz", "reguarantee_provincial_share",
        "national_fund_share", "counter_guarantee",
    )  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy(
            f"COPY {Client._meta.db_table} (institution_id, {', '.join(CLIENT_COLUMNS)}, created_at, updated_at) "
            "FROM STDIN"
        ) as copy:
            for row in result.clients[list(CLIENT_COLUMNS)].astype(object).itertuples(index=False, name=None):
                copy.write_row((institution.pk, *row, now, now))
        ids = {
            (kind, key): pk
            for pk, kind, key in Client.objects.filter(institution=institution).values_list(
                "id", "id_kind", "id_key"
            )
        }
        g = result.guarantees
        with cursor.cursor.copy(
            f"COPY {Guarantee._meta.db_table} (institution_id, client_id, {', '.join(columns)}, created_at, updated_at) "
            "FROM STDIN"
        ) as copy:
            for row in g.astype(object).itertuples(index=False):
                copy.write_row(
                    (
                        institution.pk,
                        ids[(row.id_kind, row.id_key)],
                        row.contract_no,
                        banks[row.bank],
                        *(getattr(row, c) for c in columns[2:9]),
                        lines[row.product_line],
                        *(getattr(row, c) for c in columns[10:]),
                        now,
                        now,
                    )
                )


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run(n: int, institutions: list[Institution], user: User) -> dict[str, float]:
    from django.db import transaction

    from guarantees.services import _write, batch_check, batch_commit, batch_stage

    rows = generate(n, seed=n)
    fresh = iter(institutions)
    out = {}
    inst = next(fresh)
    result = None

    def check() -> None:
        nonlocal result
        result = batch_check(institution=inst, guarantees=rows, events=[])

    out["validate"] = timed(check)
    assert not result.findings, result.findings[:3]
    write_batch = batch_stage(actor=user, institution=inst, channel="api")

    def write() -> None:
        with transaction.atomic():
            _write(write_batch, result)

    out["write"] = timed(write)
    inst = next(fresh)
    batch = batch_stage(actor=user, institution=inst, channel="api")
    out["batch_commit"] = timed(lambda: batch_commit(actor=user, batch=batch, guarantees=rows, events=[]))
    batch.refresh_from_db()
    assert (batch.status, batch.guarantees_created) == ("committed", n), (batch.status, batch.findings[:3])
    again = batch_stage(actor=user, institution=inst, channel="api")
    out["re-send"] = timed(lambda: batch_commit(actor=user, batch=again, guarantees=rows, events=[]))
    again.refresh_from_db()
    assert (again.guarantees_created, again.guarantees_updated) == (0, 0)
    out["raw COPY"] = timed(lambda: raw_copy(next(fresh), result))
    out["rss"] = rss_mib()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database (COPY is what is measured)")
    setup_django()
    from accounts.models import User
    from institutions.models import Bank

    for name in BANKS:
        Bank.objects.get_or_create(name=name)
    user, _ = User.objects.get_or_create(username="bench_guarantees", defaults={"role": "admin"})
    print(f"peak RSS after setup: {rss_mib():.0f} MiB")
    results = {n: run(n, fresh_institutions(3), user) for n in args.rows}
    print(f"{'rows':>8} {'validate':>9} {'write':>8} {'commit':>8} {'raw COPY':>9} {'re-send':>8} "
          f"{'commit/COPY':>11} {'write/COPY':>10} {'µs/row':>7} {'peak RSS':>9}")  # fmt: skip
    for n, r in results.items():
        print(
            f"{n:>8,} {r['validate']:>8.2f}s {r['write']:>7.2f}s {r['batch_commit']:>7.2f}s {r['raw COPY']:>8.2f}s "
            f"{r['re-send']:>7.2f}s {r['batch_commit'] / r['raw COPY']:>10.1f}x {r['write'] / r['raw COPY']:>9.1f}x "
            f"{r['batch_commit'] / n * 1e6:>7.0f} {r['rss']:>7.0f} MiB"
        )
    for n, r in results.items():
        report(f"guarantees: batch_commit ÷ raw COPY, {n:,} rows", r["batch_commit"] / r["raw COPY"])
    if len(results) > 1:
        (small, a), (large, b) = list(results.items())[0], list(results.items())[-1]
        print(
            f"per-row time of batch_commit at {large:,} ÷ at {small:,} rows: "
            f"{(b['batch_commit'] / large) / (a['batch_commit'] / small):.2f}"
        )


def fresh_institutions(k: int) -> list[Institution]:
    """k benchmark institutions without records (earlier runs used some)."""
    from institutions.models import Institution

    used = (
        Institution.objects.filter(name__startswith="基准测试", guarantee_clients__isnull=False)
        .distinct()
        .count()
    )
    return [i for i in make_institutions(used + k) if not i.guarantee_clients.exists()][:k]


if __name__ == "__main__":
    main()
