"""A real Celery worker process against the real Redis broker and PostgreSQL: a job enqueued through
the application code is picked up by the worker, and its effect lands in the database."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import Region
from accounts.tasks import regions_load_task
from core.jobs import job_enqueue
from core.models import Job
from guarantee_portal.celery import app

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.worker,
    # Committed rows, so the worker process sees them; reference data is restored after the flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        not settings.REDIS_URL or connection.vendor != "postgresql",
        reason="needs REDIS_URL and DATABASE_URL on PostgreSQL",
    ),
]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker():
    env = os.environ | {"DATABASE_URL": _database_url(), "REDIS_URL": settings.REDIS_URL}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "guarantee_portal",
            "worker",
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    app.conf.task_always_eager = False
    try:
        yield process
    finally:
        app.conf.task_always_eager = True
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        print(output[-4000:])


def test_worker_runs_an_enqueued_job_and_changes_the_database(worker):
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
        assert (job.status, job.done_count, job.total, job.message) == ("done", 3218, 3218, "3218 regions")
        assert job.started_at is not None and job.finished_at >= job.started_at
        assert Region.objects.get(code="510104").name == "锦江区"
    finally:
        Region.objects.filter(code="510104").update(name="锦江区")
