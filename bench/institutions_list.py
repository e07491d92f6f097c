"""Benchmark: the regulator's institution list at national scale.

Builds 5,600 institutions (200 per province-level region, each with a licence, some on a confirmed
government-backed list) in a throw-away SQLite database, then measures, in the same run:

  page  — GET /institutions/ (default page, 50 rows) as a national administrator, through the full
          Django stack (middleware, scoping, filters, template);
  dump  — json.dumps of the same 50 rows (the same columns) read straight from the ORM;

and prints page/dump (how many times a bare dump the page costs), plus the page with a search and a
filter, the xlsx export of all rows against a JSON dump of all rows, and the query counts.

    .venv/bin/python bench/institutions_list.py          # 5,600 institutions
    .venv/bin/python bench/institutions_list.py --small  # 560, a few seconds
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_result import report  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true", help="560 institutions instead of 5,600")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    per_province = 20 if args.small else 200

    tmp = tempfile.mkdtemp(prefix="bench-institutions-")
    # SQLite under /tmp unless BENCH_DATABASE_URL names a fresh database (make bench: PostgreSQL)
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guarantee_portal.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.core.serializers.json import DjangoJSONEncoder
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ALLOWED_HOSTS = ["*"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    from decimal import Decimal

    from accounts.models import Region, User
    from accounts.services import regions_load
    from institutions.demo import demo_credit_code
    from institutions.models import GovListBatch, GovListEntry, Institution, Licence

    regions_load()
    provinces = list(Region.objects.filter(level="province").order_by("code"))[:28]
    t0 = time.perf_counter()
    institutions = []
    for p in provinces:
        counties = list(
            Region.objects.filter(code__startswith=p.code[:2], level="county").values_list("code", flat=True)[
                :50
            ]
        ) or [p.code]
        for n in range(per_province):
            region = counties[n % len(counties)]
            institutions.append(
                Institution(
                    name=f"{p.name}第{n + 1}号融资担保有限公司",
                    credit_code=demo_credit_code(region, 1_000_000 + n),
                    region_id=region,
                    level="county",
                    registered_capital=Decimal(30000 + n),
                    paid_in_capital=Decimal(30000 + n),
                )
            )
    Institution.objects.bulk_create(institutions, batch_size=1000)
    ids = list(Institution.objects.order_by("id").values_list("id", flat=True))
    Licence.objects.bulk_create(
        [
            Licence(
                number=f"L{i:07d}",
                institution_id=i,
                issuing_authority="省地方金融监督管理局",
                status="valid" if i % 11 else "revoked",
            )
            for i in ids
        ],
        batch_size=1000,
    )
    batch = GovListBatch.objects.create(
        region_id="110000", title="名单", published_on="2024-01-01", status="confirmed"
    )
    GovListEntry.objects.bulk_create(
        [GovListEntry(batch=batch, institution_id=i) for i in ids[::7]], batch_size=1000
    )
    admin = User.objects.create(username="bench_admin", role="admin", is_superuser=True, is_staff=True)
    print(f"built {len(ids):,} institutions with licences in {time.perf_counter() - t0:.1f} s")

    # keep one connection for the run (as a pooled production connection would); this also lets the
    # query capture see every query of the request
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    client = Client()
    client.force_login(admin)
    client.get("/institutions/")  # warm up (template loading, session)

    def timed(fn):
        samples = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    def page(url):
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        return response

    from institutions.selectors import institution_list
    from institutions.views.common import PAGE_SIZE

    shown = list(institution_list(admin, {}).values_list("pk", flat=True)[:PAGE_SIZE])
    fields = [
        "name",
        "credit_code",
        "region_id",
        "region__name",
        "level",
        "ownership",
        "paid_in_capital",
        "status",
    ]

    def dump(pks):
        rows = list(Institution.objects.filter(pk__in=pks).values("id", *fields))
        numbers = dict(Licence.objects.filter(institution_id__in=pks).values_list("institution_id", "number"))
        for row in rows:
            row["licence"] = numbers.get(row["id"])
        return json.dumps(rows, cls=DjangoJSONEncoder, ensure_ascii=False)

    with CaptureQueriesContext(connection) as ctx:
        page("/institutions/")
    n_queries = len(ctx.captured_queries)  # read now: the log is a bounded deque
    t_page = timed(lambda: page("/institutions/"))
    t_dump = timed(lambda: dump(shown))
    t_search = timed(lambda: page("/institutions/?q=第1号&licence=valid&gov=1&sort=-paid_in"))
    print(
        f"institutions: {len(ids):,}; rows on the default page: {len(shown)}; queries per page: {n_queries}"
    )
    print(f"default page      {t_page * 1000:8.1f} ms")
    print(f"JSON dump (same)  {t_dump * 1000:8.1f} ms")
    print(f"ratio page/dump   {t_page / t_dump:8.1f}")
    print(f"filtered page     {t_search * 1000:8.1f} ms   ratio to dump {t_search / t_dump:.1f}")
    repeat, args.repeat = args.repeat, 3
    t_xlsx = timed(lambda: page("/institutions/export.xlsx"))
    t_all = timed(lambda: dump(ids))
    args.repeat = repeat
    print(
        f"xlsx export (all) {t_xlsx * 1000:8.1f} ms   JSON dump (all) {t_all * 1000:.1f} ms   ratio {t_xlsx / t_all:.1f}"
    )
    report("institutions: list page ÷ JSON dump of its rows", t_page / t_dump)
    report(f"institutions: xlsx export of {len(ids):,} rows ÷ JSON dump", t_xlsx / t_all, 3.0)


if __name__ == "__main__":
    main()
