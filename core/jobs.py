"""Background jobs: a row the user can watch, a thin Celery task that does the work; the row is also the
outbox that makes sending reliable.

    job = job_enqueue(kind="recompute", task=recompute_task, params={...}, user=request.user)

    @shared_task(acks_late=True, reject_on_worker_lost=True)
    def recompute_task(job_id: int) -> None:
        with job_running(job_id) as job:
            if job is None:
                return  # delivered again: done already, or another delivery holds it
            ...

Sending:
- The row is written in the caller's transaction with the name of its task; the task (the job id its
  only argument) is sent after commit, so the worker sees the row. A broker that cannot be reached is
  logged and recorded on the row (send_attempts, send_error), never raised into the caller: its
  transition is committed and answers normally.
- The relay (`jobs_relay`: the beat task core.jobs_relay every minute, or `manage.py jobs_relay`) sends
  again every job still queued at its next_send_at — JOB_RELAY_AFTER seconds after a send, the wait
  doubling with each send — and fails a job sent JOB_SEND_MAX_ATTEMPTS times. It sends nothing while
  the broker is unreachable. So a job is sent at least once, maybe more than once.

Running:
- A task claims its job in the same transaction as its effect (`job_running`): the conditional update
  queued → running commits together with the effect, or not at all. A second delivery finds the job no
  longer queued and returns (it waits while the first one's transaction is open). A worker killed
  mid-task leaves the job queued, and the redelivered message (acks late, reject on worker lost) or the
  relay runs it again. The effect happens once. Progress therefore shows when the job (or each part of
  a job split into parts) is done.
- A job may create parts: `job_enqueue(..., parent=job)` inside its body. It then stays running; each
  part adds its done count to the parent's, and the part that brings it to the total marks it done. A
  part that fails fails its parent.
- With CELERY_TASK_ALWAYS_EAGER (no broker: tests, demo) sending runs the task in-process at once and
  its errors reach the caller.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from celery import Task, current_app
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .middleware import reset_request_id, set_request_id
from .models import Job
from .stored_text import Message, clip, store

log = logging.getLogger(__name__)

RELAY_DOUBLINGS = 5  # the wait before the relay sends a job again stops growing at 32 × JOB_RELAY_AFTER


def job_enqueue(
    *,
    kind: str,
    task: Task,
    params: dict | None = None,
    user: AbstractBaseUser | AnonymousUser | None = None,
    parent: Job | None = None,
) -> Job:
    """Record a job in the caller's transaction; its task is sent after commit (see the module)."""
    job = Job.objects.create(
        kind=kind,
        params=params or {},
        created_by=user if user and user.is_authenticated else None,
        task=task.name,
        parent=parent,
        next_send_at=timezone.now() + relay_wait(1),  # the relay's, should the send after commit never happen
    )
    transaction.on_commit(lambda: job_send(job, task=task))
    return job


def relay_wait(attempts: int) -> dt.timedelta:
    """How long a job sent `attempts` times may stay queued before the relay sends it again."""
    return dt.timedelta(seconds=settings.JOB_RELAY_AFTER * 2 ** min(attempts - 1, RELAY_DOUBLINGS))


def job_send(job: Job, *, task: Task | None = None) -> bool:
    """Send the job's task with the job id. The attempt is recorded before the message can reach a
    worker; a failure to reach the broker is logged and recorded, never raised (in eager mode the task
    runs here and its errors are raised). True if the broker took the message."""
    task = task or job_task(job.task)
    job.send_attempts += 1
    Job.objects.filter(pk=job.pk).update(
        send_attempts=F("send_attempts") + 1,
        send_error="",
        next_send_at=timezone.now() + relay_wait(job.send_attempts),
    )
    try:
        task.apply_async(args=[job.pk])
    except Exception as exc:
        if current_app.conf.task_always_eager:
            raise
        job.send_error = f"{type(exc).__name__}: {exc}"[:2000]
        log.warning(
            "job %s (%s) not sent, the relay will send it again: %s", job.pk, job.task, job.send_error
        )
        Job.objects.filter(pk=job.pk).update(send_error=job.send_error)
        return False
    return True


def job_task(name: str) -> Task:
    """The registered task of that name (importing the apps' task modules first if need be)."""
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    return current_app.tasks[name]


def broker_reachable() -> bool:
    """One connection attempt to the broker (bounded by CELERY_BROKER_CONNECTION_TIMEOUT)."""
    if current_app.conf.task_always_eager:
        return True
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0)
    except Exception as exc:
        log.warning("broker unreachable: %s", exc)
        return False
    return True


def jobs_relay(*, now: dt.datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Send again the queued jobs whose next_send_at has come (up to `limit`, oldest first); fail those
    already sent JOB_SEND_MAX_ATTEMPTS times. Jobs a task holds (claimed in an open transaction) are
    skipped. While the broker is unreachable nothing is sent and no attempt is counted: `waiting` says
    how many jobs wait for it."""
    now = now or timezone.now()
    due = Job.objects.filter(status=Job.Status.QUEUED, next_send_at__lte=now)
    result = {"sent": 0, "not_sent": 0, "failed": 0, "waiting": 0}
    if not due.exists():
        return result
    if not broker_reachable():
        result["waiting"] = due.count()
        return result
    with transaction.atomic():
        jobs = list(due.select_for_update(skip_locked=True).order_by("next_send_at", "pk")[:limit])
        spent = [job for job in jobs if job.send_attempts >= settings.JOB_SEND_MAX_ATTEMPTS]
        for job in spent:
            log.error("job %s (%s) not completed after %s sends: failed", job.pk, job.task, job.send_attempts)
            job_fail(
                job.pk,
                Message("已发送 %(send_attempts)s 次仍未完成", send_attempts=job.send_attempts),
            )
    for job in jobs:
        if job not in spent:
            result["sent" if job_send(job) else "not_sent"] += 1
    result["failed"] = len(spent)
    return result


def job_claim(job_id: int) -> Job | None:
    """Inside the caller's transaction: the job, now running, if it was queued; None if it is not (done,
    failed, or claimed by another delivery whose transaction committed — while that transaction is
    open, this one waits for it)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("job_claim must run in the transaction of the job's effect")
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=now, heartbeat_at=now
    )
    return Job.objects.get(pk=job_id) if claimed else None


@contextmanager
def job_running(job_id: int) -> Iterator[Job | None]:
    """Claim the job, run the body and finish the job in one transaction (see the module). The body gets
    the job, or None when it must do nothing. An error in the body rolls the effect back, fails the job
    (and its parent) and is raised again."""
    token = set_request_id(f"job-{job_id}")
    try:
        with transaction.atomic():
            job = job_claim(job_id)
            yield job
            if job is not None:
                _finish(job)
    except Exception as exc:
        log.exception("job %s failed", job_id)
        job_fail(job_id, getattr(exc, "message", None) or str(exc))  # an AppError's Message stays one
        raise
    finally:
        reset_request_id(token)


def job_progress(job: Job, *, done: int, total: int | None = None) -> None:
    """Set the counts the job is finished with (written in its transaction, seen when it commits)."""
    job.done_count = done
    if total is not None:
        job.total = total


def _finish(job: Job) -> None:
    now = timezone.now()
    # a Message (core.stored_text) is kept as msgid + params: each reader sees it in their language
    message = clip(store(job.message), 2000)
    fields = {"done_count": job.done_count, "total": job.total, "message": message, "heartbeat_at": now}
    if not job.parts.exists():  # a job with parts is done when they are
        fields.update(status=Job.Status.DONE, finished_at=now)
    Job.objects.filter(pk=job.pk).update(**fields)
    if job.parent_id:
        parent = Job.objects.filter(pk=job.parent_id)
        parent.update(done_count=F("done_count") + job.done_count, heartbeat_at=now)
        parent.filter(status=Job.Status.RUNNING, done_count__gte=F("total")).update(
            status=Job.Status.DONE, finished_at=now
        )


def job_fail(job_id: int, message: str) -> None:
    """Fail a job that is queued (its claim rolled back, or never run) and its parent if running."""
    now = timezone.now()
    message = clip(store(message), 2000)
    parent_id = Job.objects.filter(pk=job_id).values_list("parent_id", flat=True).first()
    Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.FAILED, message=message, finished_at=now
    )
    if parent_id:
        Job.objects.filter(pk=parent_id, status=Job.Status.RUNNING).update(
            status=Job.Status.FAILED, message=message, finished_at=now
        )
