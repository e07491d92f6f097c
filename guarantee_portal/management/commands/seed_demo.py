from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import demo as accounts_demo
from accounts.services import regions_load
from core.models import AuditEvent
from guarantees import bank_batch_demo
from guarantees import demo as guarantees_demo
from institutions import demo as institutions_demo
from institutions.models import Licence, Notice
from reporting import demo as reporting_demo
from subsidies import demo as subsidies_demo
from supervision import demo as supervision_demo


class Command(BaseCommand):
    help = "Load deterministic demo data (re-runnable): regions, Sichuan institutions, one login per role."

    def handle(self, *args, **options):
        events_before = AuditEvent.objects.count()
        with transaction.atomic():
            regions = regions_load()
            institutions = institutions_demo.seed()
            users = accounts_demo.seed({i.name: i for i in institutions})
            filers = reporting_demo.filers(institutions)
            filings = reporting_demo.seed(
                filers,
                liability_on=supervision_demo.liability_on(),
                before_replace=supervision_demo.forget_runs,
            )
            indicators = supervision_demo.seed()
            records = guarantees_demo.seed()
            # a bank's 总对总 batch built from the demo's loan-level records
            zdz_rows = bank_batch_demo.seed(reporting_demo.demo_periods()[-1].end)
            subsidies = subsidies_demo.seed()
        self.stdout.write(
            f"regions: {regions}, institutions: {len(institutions)} (filing quarterly: {len(filers)}), "
            f"licences: {Licence.objects.count()}, published notices: {Notice.objects.filter(status='published').count()}"
        )
        periods = reporting_demo.HISTORY + reporting_demo.demo_periods()
        self.stdout.write(f"quarterly filings {periods[0]}–{periods[-1]}: {filings}")
        self.stdout.write(f"indicators: {indicators}")
        if zdz_rows:
            self.stdout.write(f"总对总 demo batch: {zdz_rows} rows")
        self.stdout.write(f"loan-level records: {records}")
        self.stdout.write(f"subsidies: {subsidies}")
        self.stdout.write(
            self.style.SUCCESS("Demo logins (password for all: %s):" % accounts_demo.DEMO_PASSWORD)
        )
        for user, scope in users:
            self.stdout.write(f"  {user.username:<16} {user.get_role_display():<8} {scope}")
        # Every service change is audited, so a run that found the demo complete records nothing.
        self.stdout.write(
            f"changes recorded by this run (audit events): {AuditEvent.objects.count() - events_before}"
        )
        self.stdout.write("Open http://127.0.0.1:8000/")
