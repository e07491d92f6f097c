"""A real Celery worker process against the real Redis broker and PostgreSQL: a job enqueued through
the application code is picked up by the worker, and its effect lands in the database."""

import subprocess
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import Region
from accounts.tasks import regions_load_task
from core.jobs import job_enqueue
from core.models import Job
from core.stored_text import show
from guarantee_portal.celery import app

from .processes import database_url, worker_running

pytestmark = [
    pytest.mark.worker,
    # Committed rows, so the worker process sees them; reference data is restored after the flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        not settings.REDIS_URL or connection.vendor != "postgresql",
        reason="needs REDIS_URL and DATABASE_URL on PostgreSQL",
    ),
]


@pytest.fixture
def worker() -> Iterator[subprocess.Popen]:
    """A worker on the REDIS_URL broker; tasks are sent to it instead of running in-process."""
    app.conf.task_always_eager = False
    try:
        with worker_running(database=database_url(connection.settings_dict), redis=settings.REDIS_URL) as w:
            yield w
    finally:
        app.conf.task_always_eager = True


def test_worker_runs_an_enqueued_job_and_changes_the_database(worker: subprocess.Popen) -> None:
    Region.objects.filter(code="510104").update(name="被改掉的名字")
    job = job_enqueue(kind="regions_load", task=regions_load_task)  # autocommit: sent at once
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status in (Job.Status.DONE, Job.Status.FAILED):
                break
            assert worker.poll() is None, "worker exited early"
            time.sleep(0.5)
        assert (job.status, job.done_count, job.total, show(job.message)) == (
            "done",
            3218,
            3218,
            "已更新 3218 个行政区划",
        )
        assert job.started_at is not None and job.finished_at >= job.started_at
        assert Region.objects.get(code="510104").name == "锦江区"
    finally:
        Region.objects.filter(code="510104").update(name="锦江区")
