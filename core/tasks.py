"""The job relay, scheduled every minute by Celery beat (PeriodicTask installed by migration 0004)."""

from celery import shared_task

from .jobs import jobs_relay


@shared_task(name="core.jobs_relay")
def jobs_relay_task() -> dict[str, int]:
    return jobs_relay()
