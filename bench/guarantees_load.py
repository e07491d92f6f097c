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

and, with --files (the target of the issue), what a filer's upload costs, each size in a fresh process so
its peak RSS is its own:

  import        the workbook read through the guarded reader (read_batch: streaming rows) + batch_commit
  parse + COPY  the floor: python-calamine parsing the same sheet + raw COPY of the same typed rows

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


def write_workbook(n: int, path: str) -> None:
    """The rows of generate() as a filer's workbook: Chinese headers, numbers as numbers, dates as dates."""
    import xlsxwriter

    from guarantees.validation import GUARANTEE_COLUMNS

    book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet("担保明细")
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    codes = list(GUARANTEE_COLUMNS)
    for c, label in enumerate(GUARANTEE_COLUMNS.values()):
        sheet.write_string(0, c, label)
    for r, row in enumerate(generate(n, seed=n), start=1):
        for c, code in enumerate(codes):
            value = row[code]
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date)
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value)
            elif value != "":
                sheet.write_string(r, c, value)
    book.add_worksheet("担保事件").write_row(0, 0, ["担保合同编号", "事件类型", "发生日期", "金额（万元）"])
    book.close()


def measure_file(path: str) -> dict[str, float]:
    """In this (fresh) process: import the workbook as a filer's upload, then the floor on the same rows."""
    import io
    import json

    from python_calamine import CalamineWorkbook

    from accounts.models import User
    from guarantees.excel import read_batch
    from guarantees.services import batch_commit, batch_stage

    user = User.objects.get(username="bench_guarantees")
    first, second = fresh_institutions(2)
    with open(path, "rb") as fh:
        data = fh.read()
    base = rss_mib()
    t0 = time.perf_counter()
    rows = read_batch([(data, "bench.xlsx")])
    batch = batch_stage(actor=user, institution=first, channel="upload")
    result = batch_commit(actor=user, batch=batch, guarantees=rows.guarantees, events=rows.events)
    out = {"import": time.perf_counter() - t0, "rss": rss_mib(), "rss_before": base}
    batch.refresh_from_db()
    assert batch.status == "committed", batch.findings[:3]
    del rows
    t0 = time.perf_counter()
    values = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("担保明细").to_python()
    out["parse"] = time.perf_counter() - t0
    del values
    out["copy"] = timed(lambda: raw_copy(second, result))
    out["rows"] = len(result.guarantees)
    print(json.dumps(out))
    return out


def files(sizes: list[int]) -> None:
    import json
    import subprocess
    import tempfile

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = os.path.join(tmp, f"bench-{n}.xlsx")
            write_workbook(n, path)
            child = subprocess.run(
                [sys.executable, __file__, "--measure", path], capture_output=True, text=True, check=True
            )
            results[n] = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"{'rows':>8} {'import':>8} {'parse':>7} {'COPY':>7} {'import/(parse+COPY)':>20} {'µs/row':>7} {'peak RSS':>9}"
    )
    for n, r in results.items():
        floor = r["parse"] + r["copy"]
        print(
            f"{n:>8,} {r['import']:>7.2f}s {r['parse']:>6.2f}s {r['copy']:>6.2f}s {r['import'] / floor:>19.2f}x "
            f"{r['import'] / n * 1e6:>7.0f} {r['rss']:>5.0f} MiB (process before import: {r['rss_before']:.0f} MiB)"
        )
    if len(results) > 1:
        (small, a), (large, b) = list(results.items())[0], list(results.items())[-1]
        print(
            f"per-row time of the import at {large:,} ÷ at {small:,} rows: "
            f"{(b['import'] / large) / (a['import'] / small):.2f} (target ≤ 1.2); "
            f"import ÷ (parse + COPY) at {large:,}: {b['import'] / (b['parse'] + b['copy']):.2f} (target ≤ 2.5); "
            f"peak RSS {b['rss']:.0f} MiB (target ≤ 400 MB)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--files", action="store_true", help="measure uploads of workbooks (the issue's target)"
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # child process: one workbook
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database (COPY is what is measured)")
    setup_django()
    if args.measure:
        measure_file(args.measure)
        return
    from accounts.models import User
    from institutions.models import Bank

    for name in BANKS:
        Bank.objects.get_or_create(name=name)
    user, _ = User.objects.get_or_create(username="bench_guarantees", defaults={"role": "admin"})
    if args.files:
        files(args.rows)
        return
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
