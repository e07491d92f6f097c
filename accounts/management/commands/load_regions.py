from django.core.management.base import BaseCommand

from accounts.services import regions_load


class Command(BaseCommand):
    help = "Load or refresh all GB/T 2260 regions of China from accounts/data/regions.csv (idempotent)."

    def handle(self, *args, **options):
        count = regions_load()
        self.stdout.write(self.style.SUCCESS(f"regions: {count}"))
