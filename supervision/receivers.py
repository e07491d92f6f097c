"""Recompute indicators when a filing is submitted or accepted and when what they depend on changes
(government-backed list, institution attributes). Work is enqueued after commit (core.jobs)."""

from django.dispatch import receiver

from institutions.signals import government_backed_changed, institution_attributes_changed
from reporting.signals import filing_accepted, filing_submitted

from . import tasks  # noqa: F401  (registers the Celery tasks in workers: autodiscovery reads tasks.py only)
from .services.compute import filings_for_institutions, indicators_recompute_enqueue


@receiver(filing_submitted, dispatch_uid="indicators_on_submitted")
@receiver(filing_accepted, dispatch_uid="indicators_on_accepted")
def on_filing(sender, filing, version=None, actor=None, **kwargs):
    indicators_recompute_enqueue(filing_ids=[filing.pk], user=actor, reason="filing")


@receiver(government_backed_changed, dispatch_uid="indicators_on_gov_backed")
def on_government_backed_changed(sender, institution_ids, on, **kwargs):
    """Status on a period end decides gov-backed thresholds: filings ending on or after `on` change."""
    indicators_recompute_enqueue(
        filing_ids=filings_for_institutions(institution_ids, since=on), reason="government-backed list"
    )


@receiver(institution_attributes_changed, dispatch_uid="indicators_on_attributes")
def on_institution_attributes_changed(sender, institution_ids, **kwargs):
    indicators_recompute_enqueue(
        filing_ids=filings_for_institutions(institution_ids), reason="institution attributes"
    )
