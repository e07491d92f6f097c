from django.core.management.base import BaseCommand
from django.db import connection

from reporting.exports import aggregate_summary_rebuild
from reporting.models import AggregateBucket, AggregateFiling


class Command(BaseCommand):
    help = (
        "Recompute the aggregate export's summary (PostgreSQL) from the filings and their versions: after a "
        "restore of some tables, or if the summary is ever in doubt. Triggers keep it otherwise."
    )

    def handle(self, *args, **opts):
        if connection.vendor != "postgresql":
            self.stdout.write("SQLite: the aggregate sums the versions directly; there is no summary.")
            return
        aggregate_summary_rebuild()
        self.stdout.write(
            f"{AggregateFiling.objects.count()} filings counted, {AggregateBucket.objects.count()} buckets."
        )
