"""Shared setup for the reporting benchmarks: a throwaway SQLite database under /tmp (or DATABASE_URL
if given), migrated, with N synthetic institutions and 8 quarters of demo filings (bulk)."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django():
    if "DATABASE_URL" not in os.environ:
        db = Path(tempfile.mkdtemp(prefix="bench-reporting-")) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guarantee_portal.settings")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from accounts.services import regions_load

    regions_load()


def make_institutions(n: int):
    from decimal import Decimal

    from institutions.demo import demo_credit_code
    from institutions.models import Institution

    cities = [
        "510100",
        "510300",
        "510400",
        "510500",
        "510600",
        "510700",
        "510800",
        "510900",
        "511000",
        "511100",
    ]
    existing = Institution.objects.filter(name__startswith="基准测试").count()
    Institution.objects.bulk_create(
        [
            Institution(
                name=f"基准测试{i}号融资担保有限公司",
                credit_code=demo_credit_code(cities[i % 10], 8_000_000 + i),
                region_id=cities[i % 10],
                level="county" if i % 3 else "city",
                registered_capital=Decimal(30000),
                paid_in_capital=Decimal(20000 + 500 * (i % 120)),
            )
            for i in range(existing, n)
        ]
    )
    return list(Institution.objects.filter(name__startswith="基准测试").order_by("pk")[:n])


def measure(fn, repeat: int):
    """(best seconds per call over `repeat` untraced runs, peak traced Python memory in MiB of one
    separate traced run — tracemalloc slows code down, so it never overlaps the timing)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak / 1024 / 1024


def compare(fn, reference, repeat: int) -> tuple[float, float]:
    """(median seconds per call of `fn`, of `reference`) over `repeat` calls of each, taken in turns —
    fn, reference, fn, … — so that load from elsewhere on the machine weighs on both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for side, f in enumerate((fn, reference)):
            t0 = time.perf_counter()
            f()
            times[side].append(time.perf_counter() - t0)
    return statistics.median(times[0]), statistics.median(times[1])


def peak_memory(fn) -> float:
    """Peak traced Python memory in MiB of one call (tracemalloc slows code down: never timed)."""
    tracemalloc.start()
    fn()
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024 / 1024
