"""Thin Celery tasks: a job id in, a service does the work (core.jobs)."""

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True, name="subsidies.compute_application")
def compute_application(job_id: int) -> None:
    from .services import application_compute_job

    application_compute_job(job_id=job_id)
