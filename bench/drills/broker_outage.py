"""Drill: the broker (a Redis of our own) stops mid-run while filings are submitted and accepted.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/drills/broker_outage.py

A real Celery worker computes indicators. Filings are submitted through the web (Django's client
against the real database: each request commits) with Redis up, then with Redis stopped (and some of
the first ones accepted), then with Redis back (empty: it keeps nothing on disk). The relay runs as
beat would, every second (JOB_RELAY_AFTER=2). Prints the answers, the jobs, and per filing whether it
was computed exactly as often as it was submitted or accepted. LOST must be 0.
"""

import argparse
import time
from collections import Counter

from _common import drill_environment, make_draft, make_institutions, start_worker, stop_worker, wait_for


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--filings", type=int, default=30, help="filings submitted (a third in each phase)")
    args = parser.parse_args()
    third = args.filings // 3

    with drill_environment("broker_outage", env={"JOB_RELAY_AFTER": "2"}) as (database_url, redis):
        from django.test import Client

        from core.jobs import jobs_relay
        from core.models import Job
        from supervision.models import IndicatorRun

        institutions, approvers, regulator = make_institutions(3 * third)
        drafts = [make_draft(inst, appr) for inst, appr in zip(institutions, approvers, strict=True)]
        intended: Counter = Counter()  # filing id → computations the transitions ask for
        answers: Counter = Counter()
        times: dict[str, list[float]] = {"up": [], "down": [], "back": []}

        def post(user: object, url: str, data: dict, phase: str) -> None:
            client = Client(raise_request_exception=False)
            client.force_login(user)
            t0 = time.perf_counter()
            status = client.post(url, data).status_code
            times[phase].append(time.perf_counter() - t0)
            answers[(phase, status)] += 1

        def submit(i: int, phase: str) -> None:
            filing, explanations = drafts[i]
            post(approvers[i], f"/reporting/filings/{filing.pk}/submit/", explanations, phase)
            intended[filing.pk] += 1

        worker = start_worker(database=database_url, redis=redis.url)
        try:
            for i in range(third):
                submit(i, "up")
            redis.stop()
            print(f"redis stopped after {third} submissions")
            for i in range(third, 2 * third):
                submit(i, "down")
            for i in range(third // 2):
                filing = drafts[i][0]
                post(regulator, f"/reporting/review/{filing.pk}/", {"action": "accept"}, "down")
                intended[filing.pk] += 1
            queued = Job.objects.filter(parent=None, status="queued").exclude(send_error="").count()
            print(f"while it was down: {queued} jobs queued with a send error")
            redis.start()
            print("redis started again (empty)")
            for i in range(2 * third, 3 * third):
                submit(i, "back")
            wait_for(
                lambda: not Job.objects.filter(status__in=["queued", "running"]).exists(),
                timeout=300,
                every=1,
                between=jobs_relay,
            )
        finally:
            output = stop_worker(worker)
        counts = dict(IndicatorRun.objects.values_list("filing_id", "compute_count"))
        statuses = Counter(Job.objects.filter(parent=None).values_list("status", flat=True))
        parts = Counter(Job.objects.exclude(parent=None).values_list("status", flat=True))
        sends = Counter(Job.objects.filter(parent=None).values_list("send_attempts", flat=True))
        lost = [pk for pk, n in intended.items() if counts.get(pk, 0) < n]
        twice = [pk for pk, n in intended.items() if counts.get(pk, 0) > n]
        print(f"answers (phase, HTTP status): {dict(sorted(answers.items()))}")
        print(
            "seconds per answer (first, slowest of the others): "
            + ", ".join(f"redis {k} {v[0]:.2f}, {max(v[1:]):.2f}" for k, v in times.items())
        )
        print(f"recompute jobs: {dict(statuses)}; their parts: {dict(parts)}; sends per job: {dict(sends)}")
        print(f"computations intended: {sum(intended.values())}, done: {sum(counts.values())}")
        print(f"computed more often than intended: {len(twice)}")
        if lost or twice or statuses.keys() - {"done"}:
            print(output)
        print(f"LOST: {len(lost)}")


if __name__ == "__main__":
    main()
