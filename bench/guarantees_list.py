"""Benchmark: a company's records list (担保业务明细) at 1,000,000 guarantees, on PostgreSQL.

Loads one institution with 1,000,000 guarantees of 200,000 clients (one INSERT … SELECT generate_series
each, once: a later run reuses them) and a few thousand release events, then measures in the same run:

  page   GET /guarantees/records/ as the company's filer: the default page (50 rows), through the full
         Django stack (session, middleware, scoping, filters, template);
  deep   the same after a cursor 900,000 rows down (keyset: as cheap as the first page);
  filter the default page filtered by client type and bank;
  dump   json.dumps of the same 50 rows (the same columns), read straight from the ORM;

and prints page/dump (target ≤ 15×), and the query count of each page (constant, no COUNT(*) of the
table).

    createdb -h 127.0.0.1 -U postgres gp_guarantees_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gp_guarantees_bench .venv/bin/python bench/guarantees_list.py
"""
# ruff: noqa: S608 — table names from the models only

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from reporting_common import setup_django

NAME = "基准测试明细列表融资担保有限公司"


def load(n: int) -> tuple:
    from decimal import Decimal

    from django.db import connection, transaction

    from accounts.models import User
    from guarantees.models import Client, Guarantee, GuaranteeEvent, ProductLine
    from institutions.demo import demo_credit_code
    from institutions.models import Bank, Institution

    institution, _ = Institution.objects.get_or_create(
        name=NAME,
        defaults={
            "credit_code": demo_credit_code("510104", 8_900_000),
            "region_id": "510104",
            "level": "county",
            "registered_capital": Decimal(30000),
            "paid_in_capital": Decimal(30000),
        },
    )
    user, _ = User.objects.get_or_create(
        username="bench_list_filer", defaults={"role": "filer", "institution": institution}
    )
    banks = [Bank.objects.get_or_create(name=f"基准测试银行{i}分行")[0].pk for i in range(20)]
    have = Guarantee.objects.filter(institution=institution).count()
    if have >= n:
        return institution, user
    line = ProductLine.objects.get(code="general").pk
    clients = n // 5
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {Client._meta.db_table} (institution_id, name, client_type, id_kind, id_key, id_last4,
                industry, region_id, group_name, created_at, updated_at)
            SELECT %s, '基准客户' || i, (ARRAY['small_micro','individual_business','farmer','other'])[1 + i %% 4],
                   'credit_code', '91510104BC' || lpad(i::text, 8, '0'), '', 'C39', '510104', '', now(), now()
            FROM generate_series(1, %s) i""",
            [institution.pk, clients],
        )
        cursor.execute(
            f"SELECT min(id) FROM {Client._meta.db_table} WHERE institution_id = %s", [institution.pk]
        )
        first_client = cursor.fetchone()[0]
        cursor.execute(
            f"""INSERT INTO {Guarantee._meta.db_table} (institution_id, client_id, contract_no, bank_id, other_lender,
                loan_amount, guaranteed_amount, start_date, end_date, fee_rate, fee_amount, product_line_id,
                gov_backed, batch_zdz, reguarantee_provincial_share, national_fund_share, counter_guarantee,
                created_at, updated_at)
            SELECT %s, %s + i %% %s, 'BL-' || lpad(i::text, 8, '0'), (%s::bigint[])[1 + i %% 20], '',
                   100 + i %% 900, 100 + i %% 900, date '2020-01-01' + (i %% 2400), date '2021-01-01' + (i %% 2400),
                   0.012, 1.2, %s, i %% 2 = 0, false, 0, 0, 'none', now(), now()
            FROM generate_series(1, %s) i""",
            [institution.pk, first_client, clients, banks, line, n],
        )
        cursor.execute(
            f"""INSERT INTO {GuaranteeEvent._meta.db_table} (guarantee_id, kind, occurred_on, amount, interest, created_at)
            SELECT id, 'release', start_date + 30, 10, 0, now() FROM {Guarantee._meta.db_table}
            WHERE institution_id = %s AND id %% 200 = 0""",
            [institution.pk],
        )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Guarantee._meta.db_table}")
        cursor.execute(f"ANALYZE {Client._meta.db_table}")
    print(f"loaded {n:,} guarantees in {time.perf_counter() - t0:.1f}s")
    return institution, user


def timed(fn, repeat: int) -> float:
    fn()  # warm
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database")
    setup_django()
    from django.conf import settings
    from django.core.serializers.json import DjangoJSONEncoder
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from guarantees import selectors
    from guarantees.models import Guarantee

    settings.ALLOWED_HOSTS = ["*"]
    institution, user = load(args.rows)
    client = Client()
    client.force_login(user)
    assert client.get("/guarantees/records/").status_code == 200
    page = selectors.records_page(user=user, institution=institution, filters=selectors.RecordFilter())
    ids = [g.pk for g in page.rows]
    deep_cursor = (
        Guarantee.objects.filter(institution=institution)
        .order_by("-start_date", "-id")
        .values_list("start_date", "id")[args.rows * 9 // 10]
    )
    deep_url = f"/guarantees/records/?after={deep_cursor[0].isoformat()}_{deep_cursor[1]}"
    farmer_bank = (
        Guarantee.objects.filter(institution=institution, client__client_type="farmer")
        .values_list("bank_id", flat=True)
        .first()
    )
    filter_url = f"/guarantees/records/?client_type=farmer&bank={farmer_bank}"
    columns = [
        "contract_no", "client__name", "client__client_type", "client__id_kind", "client__id_key",
        "client__id_last4", "bank__name", "other_lender", "guaranteed_amount", "start_date", "end_date",
        "fee_rate", "product_line__name_zh",
    ]  # fmt: skip

    def dump() -> str:
        rows = list(Guarantee.objects.filter(pk__in=ids).order_by("-start_date", "-id").values(*columns))
        return json.dumps(rows, cls=DjangoJSONEncoder, ensure_ascii=False)

    results = {}
    for label, url in (("page", "/guarantees/records/"), ("deep", deep_url), ("filter", filter_url)):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        shown = response.content.decode().count('<td class="text-nowrap font-monospace small">BL-')
        assert response.status_code == 200 and shown == selectors.PAGE_SIZE, (label, shown)
        counts = [q["sql"] for q in queries.captured_queries]
        assert not any("COUNT(" in q.upper() and "guarantees_guarantee" in q for q in counts), label
        results[label] = (timed(lambda url=url: client.get(url), args.repeat), len(counts))
    base = timed(dump, args.repeat)
    print(f"{args.rows:,} guarantees of one institution; medians of {args.repeat} runs")
    print(f"  dump (json of the page's {len(ids)} rows): {base * 1000:7.1f} ms")
    for label, (seconds, n) in results.items():
        print(f"  {label:<6} {seconds * 1000:7.1f} ms  {seconds / base:5.1f}× dump  {n} queries")
    print(f"default page ÷ dump: {results['page'][0] / base:.1f} (target ≤ 15); queries per page: "
          f"{sorted({n for _, n in results.values()})} (constant)")  # fmt: skip


if __name__ == "__main__":
    main()
