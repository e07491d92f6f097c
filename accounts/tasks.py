from celery import shared_task

from core.jobs import job_progress, job_running
from core.stored_text import Message

from .services import regions_load


@shared_task(acks_late=True, reject_on_worker_lost=True)
def regions_load_task(job_id: int) -> None:
    """Refresh the region table from the shipped file (idempotent)."""
    with job_running(job_id) as job:
        if job is None:
            return
        count = regions_load()
        job_progress(job, done=count, total=count)
        job.message = Message("已更新 %(count)s 个行政区划", count=count)
