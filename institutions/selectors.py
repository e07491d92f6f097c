import datetime as dt

from .choices import ListAction, ListBatchStatus
from .models import GovListEntry


def government_backed_ids(*, on: dt.date, institution_ids=None) -> set[int]:
    """Institutions on the government-backed list on `on`: the latest confirmed batch published on or
    before that date that mentions the institution included it (a later removal takes it off)."""
    entries = GovListEntry.objects.filter(
        batch__status=ListBatchStatus.CONFIRMED, batch__published_on__lte=on
    ).order_by("institution_id", "batch__published_on", "batch_id")
    if institution_ids is not None:
        entries = entries.filter(institution_id__in=institution_ids)
    latest = {}
    for institution_id, action in entries.values_list("institution_id", "action"):
        latest[institution_id] = action
    return {i for i, action in latest.items() if action == ListAction.INCLUDE}
