"""Run the job relay once by hand: send again the jobs left queued (core/jobs.py)."""

from django.core.management.base import BaseCommand

from core.jobs import jobs_relay


class Command(BaseCommand):
    help = "Send again the background jobs left queued whose next send time has come (the relay, once)."

    def handle(self, *args: object, **options: object) -> None:
        result = jobs_relay()
        self.stdout.write(" ".join(f"{key}={value}" for key, value in result.items()))
