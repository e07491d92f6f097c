"""Indicator recomputation through a real Celery worker (Redis + PostgreSQL): one job row, tasks by
chunk of institutions, progress counted in institutions."""

import time

import pytest
from django.conf import settings
from django.db import connection

from core.models import Job
from supervision.models import IndicatorRun, IndicatorValue
from supervision.services.compute import indicators_recompute_enqueue
from tests.factories import InstitutionFactory
from tests.test_worker import worker  # noqa: F401  (the worker process fixture)

from .factories import make_filing

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        not settings.REDIS_URL or connection.vendor != "postgresql",
        reason="needs REDIS_URL and DATABASE_URL on PostgreSQL",
    ),
]


def test_worker_recomputes_one_task_per_institution(worker):  # noqa: F811
    filings = []
    for region in ("510104", "510703"):
        inst = InstitutionFactory(region_id=region, level="county")
        filings += [make_filing(inst, 2025, q) for q in (1, 2)]
    job = indicators_recompute_enqueue(filing_ids=[f.pk for f in filings], reason="worker test")  # autocommit
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (Job.Status.DONE, Job.Status.FAILED):
            break
        assert worker.poll() is None, "worker exited early"
        time.sleep(0.5)
    assert (job.status, job.total, job.done_count) == ("done", 2, 2)
    assert IndicatorRun.objects.count() == 4
    assert IndicatorValue.objects.filter(code="leverage").count() == 4
