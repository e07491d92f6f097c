"""Drill: a Celery worker is SIGKILLed while a recompute part runs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/drills/worker_killed.py

One recompute job over every filing (parts of 250 institutions). First the whole worker (solo pool) is
killed while a part's transaction is open; a new worker is started and the relay runs as beat would
(every second, JOB_RELAY_AFTER=3; the workers' visibility timeout is 20 s, JOB_LONGEST_TASK_SECONDS=10).
Then, with a second job and no relay, only the pool process of a prefork worker is killed (acks late +
reject on worker lost hand the message back at once). Prints, per job, whether it completed and whether every
filing was computed exactly once by it. LOST must be 0.
"""

import argparse
import os
import signal
import subprocess
import time
from collections.abc import Callable

from _common import drill_environment, start_worker, stop_worker, wait_for

WORKER_ENV = {"JOB_LONGEST_TASK_SECONDS": "10"}


def make_filings(n: int) -> list[int]:
    """n institutions × 2 quarters of submitted filings, not computed yet; their ids."""
    from decimal import Decimal

    from django.db import connection
    from django.utils import timezone

    from institutions.demo import demo_credit_code
    from institutions.models import Institution
    from reporting.models import Filing, FilingVersion, ReportTemplate
    from tests.supervision.factories import BASE

    Institution.objects.bulk_create(
        Institution(
            name=f"演练{i}号融资担保有限公司",
            credit_code=demo_credit_code("510104", 7_000_000 + i),
            region_id="510104",
            level="county",
            registered_capital=Decimal(30000),
            paid_in_capital=Decimal(30000),
        )
        for i in range(n)
    )
    template = ReportTemplate.objects.get(version=1)
    Filing.objects.bulk_create(
        Filing(institution_id=i, year=2025, quarter=q, template=template, status="submitted")
        for i in Institution.objects.values_list("pk", flat=True)
        for q in (1, 2)
    )
    now = timezone.now()
    FilingVersion.objects.bulk_create(
        FilingVersion(filing_id=pk, number=1, values=BASE, submitted_at=now)
        for pk in Filing.objects.values_list("pk", flat=True)
    )
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE reporting_filing SET current_version_id = "
            "(SELECT v.id FROM reporting_filingversion v WHERE v.filing_id = reporting_filing.id)"
        )
    return list(Filing.objects.values_list("pk", flat=True))


def open_transaction_seconds() -> float:
    """How long the oldest transaction of another session on this database has been open (0 if none)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT coalesce(max(extract(epoch FROM now() - xact_start)), 0) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
        )
        return float(cur.fetchone()[0])


def run_job(filings: list[int], reason: str, kill: Callable[[], str], *, relay: bool) -> dict:
    """Enqueue one recompute job over `filings`, call kill() once a part's transaction has been open for
    50 ms (a part of 250 institutions takes a few hundred: the set-based computation is fast), wait for
    the job to finish (running the relay every second if `relay`); what happened."""
    from core.jobs import jobs_relay
    from core.models import Job
    from supervision.services.compute import indicators_recompute_enqueue

    job = indicators_recompute_enqueue(filing_ids=filings, reason=reason)  # autocommit: sent at once
    if not wait_for(lambda: open_transaction_seconds() > 0.05, timeout=300, every=0.005):
        raise SystemExit("no part ran")
    open_for = open_transaction_seconds()
    killed = kill()
    parts_then = sorted(Job.objects.filter(parent=job).values_list("status", flat=True))
    t0 = time.monotonic()
    wait_for(
        lambda: Job.objects.get(pk=job.pk).status in ("done", "failed"),
        timeout=300,
        every=1,
        between=jobs_relay if relay else None,
    )
    job.refresh_from_db()
    parts = job.parts.order_by("pk")
    return {
        "killed": f"{killed} after a part's transaction had been open {open_for:.1f}s",
        "parts committed when killed": f"{parts_then.count('done')} of {len(parts_then)}",
        "job": f"{job.status}, {job.done_count} of {job.total} institutions, {time.monotonic() - t0:.0f}s later",
        "sends per part": [p.send_attempts for p in parts],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--institutions", type=int, default=1000)
    args = parser.parse_args()
    with drill_environment("worker_killed", env={"JOB_RELAY_AFTER": "3"}) as (database_url, redis):
        from supervision.models import IndicatorRun

        filings = make_filings(args.institutions)
        print(f"{len(filings)} filings of {args.institutions} institutions")
        results, outputs = {}, []
        first = start_worker(database=database_url, redis=redis.url, extra_env=WORKER_ENV)
        second = None
        try:

            def kill_worker() -> str:
                nonlocal second
                first.send_signal(signal.SIGKILL)
                outputs.append(first.communicate()[0][-3000:])
                second = start_worker(
                    database=database_url, redis=redis.url, pool="prefork", extra_env=WORKER_ENV
                )
                return f"worker (solo pool) pid {first.pid}; a new prefork worker started"

            results["worker killed (relay running)"] = run_job(
                filings, "drill: worker killed", kill_worker, relay=True
            )
            counts_after_first = dict(IndicatorRun.objects.values_list("filing_id", "compute_count"))

            def kill_pool_process() -> str:
                children = subprocess.run(
                    ["ps", "-o", "pid=", "--ppid", str(second.pid)], capture_output=True, text=True
                ).stdout.split()
                for pid in children:
                    os.kill(int(pid), signal.SIGKILL)
                return f"pool process pid {', '.join(children)} of the prefork worker"

            results["pool process killed (no relay: the message comes back by itself)"] = run_job(
                filings, "drill: pool process killed", kill_pool_process, relay=False
            )
        finally:
            if first.poll() is None:
                outputs.append(stop_worker(first))
            if second is not None:
                outputs.append(stop_worker(second))
        counts = dict(IndicatorRun.objects.values_list("filing_id", "compute_count"))
        for name, result in results.items():
            print(f"{name}:")
            for key, value in result.items():
                print(f"  {key}: {value}")
        print(f"prefork worker saw its pool process die: {'exited with' in outputs[-1]}")
        first_lost = sum(1 for pk in filings if counts_after_first.get(pk, 0) < 1)
        first_twice = sum(1 for pk in filings if counts_after_first.get(pk, 0) > 1)
        lost = sum(1 for pk in filings if counts.get(pk, 0) < 2)
        twice = sum(1 for pk in filings if counts.get(pk, 0) > 2)
        print(f"first job: filings not computed {first_lost}, computed twice {first_twice}")
        print(f"both jobs: filings computed fewer than 2 times {lost}, more than 2 times {twice}")
        if lost or twice or first_lost or first_twice:
            print("\n".join(outputs))
        print(f"LOST: {lost + first_lost}")


if __name__ == "__main__":
    main()
