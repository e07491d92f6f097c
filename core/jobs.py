"""Background jobs: a row the user can watch, a thin Celery task that does the work.

    job = job_enqueue(kind="recompute", task=recompute_task, params={...}, user=request.user)

The task is sent after the surrounding transaction commits (so the worker sees the row), and runs
in-process at once when no broker is configured (CELERY_TASK_ALWAYS_EAGER).
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

from django.db import transaction
from django.utils import timezone

from .middleware import reset_request_id, set_request_id
from .models import Job

log = logging.getLogger(__name__)


def job_enqueue(*, kind: str, task, params: dict | None = None, user=None) -> Job:
    job = Job.objects.create(
        kind=kind, params=params or {}, created_by=user if user and user.is_authenticated else None
    )
    transaction.on_commit(lambda: task.delay(job.pk))
    return job


@contextmanager
def job_running(job_id: int):
    """Mark the job running, yield it, then mark it done or failed. A job already finished is skipped
    (tasks are idempotent and may be delivered twice with acks_late): the body gets None."""
    claimed = Job.objects.filter(pk=job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).update(
        status=Job.Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    if not claimed:
        yield None
        return
    token = set_request_id(f"job-{job_id}")
    job = Job.objects.get(pk=job_id)
    try:
        yield job
    except Exception as exc:
        log.exception("job %s failed", job_id)
        Job.objects.filter(pk=job_id).update(
            status=Job.Status.FAILED, message=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    else:
        Job.objects.filter(pk=job_id).update(
            status=Job.Status.DONE,
            done_count=job.done_count,
            total=job.total,
            message=job.message,
            finished_at=timezone.now(),
        )
    finally:
        reset_request_id(token)


def job_progress(job: Job, *, done: int, total: int | None = None) -> None:
    job.done_count = done
    if total is not None:
        job.total = total
    Job.objects.filter(pk=job.pk).update(
        done_count=job.done_count, total=job.total, heartbeat_at=timezone.now()
    )
