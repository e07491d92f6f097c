"""Thin Celery tasks: call a service, idempotent (reminders are recorded once per event)."""

from celery import shared_task
from django.utils import timezone


@shared_task(acks_late=True, reject_on_worker_lost=True, name="reporting.send_reminders")
def send_reminders() -> dict:
    """Scheduled daily by Celery beat (PeriodicTask installed by migration 0005)."""
    from .reminders import remind_due

    return remind_due(timezone.localdate())
