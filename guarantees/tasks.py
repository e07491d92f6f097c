"""Thin Celery tasks: a job id in, a service does the work (idempotent: a finished batch is not staged)."""

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True, name="guarantees.process_batch")
def process_batch(job_id: int) -> None:
    from .services import batch_process

    batch_process(job_id=job_id)
