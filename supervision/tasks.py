"""Thin Celery tasks for indicator recomputation: ids in, a service call, idempotent.

`recompute_job` splits the job into parts (child jobs, core/jobs.py) of CHUNK_INSTITUTIONS institutions
each (a policy change can touch thousands; a part is computed with a fixed number of queries), written
with its claim and sent after commit. `recompute_chunk` computes one part in the transaction that claims
it, so a part delivered twice, or run again after its worker died, is computed once. The job's total is
the number of institutions; each part adds its institutions to the done count and the last one marks
the job done, so the user who triggered it watches the progress."""

from celery import shared_task

from core.jobs import job_enqueue, job_running
from core.stored_text import Message

from .models import Threshold
from .services.compute import (
    CHUNK_INSTITUTIONS,
    indicators_compute_batch,
    set_based,
    threshold_rejudge_batch,
)

PART_KIND = "indicators.recompute.part"


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_job(job_id: int) -> None:
    with job_running(job_id) as job:
        if job is None:
            return  # delivered twice: the parts were written with the first claim
        items = list(job.params.get("institutions", {}).items())
        job.total = len(items)
        rejudge = job.params.get("rejudge_threshold")
        for start in range(0, len(items), CHUNK_INSTITUTIONS):
            job_enqueue(
                kind=PART_KIND,
                task=recompute_chunk,
                params={
                    "institutions": dict(items[start : start + CHUNK_INSTITUTIONS]),
                    **({"rejudge_threshold": rejudge} if rejudge else {}),
                },
                parent=job,
            )


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_chunk(job_id: int) -> None:
    """Compute one part: the listed filings of some institutions ({institution id: filing ids})."""
    with job_running(job_id) as part:
        if part is None:
            return
        institutions = part.params["institutions"]
        filing_ids = [pk for ids in institutions.values() for pk in ids]
        threshold_id = part.params.get("rejudge_threshold")
        if threshold_id and set_based() and Threshold.objects.filter(pk=threshold_id).exists():
            threshold_rejudge_batch(filing_ids=filing_ids, threshold_id=threshold_id)
        else:  # a full computation judges every threshold (also one deleted since)
            # the job lists the filings by institution already (a filing keeps its institution)
            indicators_compute_batch(by_institution=institutions)
        part.total = part.done_count = len(institutions)


MEASURE_REMINDERS = "measures.remind"


@shared_task(name="supervision.measures_remind_daily")
def measures_remind_daily() -> int:
    """Celery beat, daily: record today's reminder run as a job (core.jobs relays it even if the broker
    is down at that moment); the job sends the reminders."""
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    day = timezone.localdate()
    with transaction.atomic():
        job = job_enqueue(
            kind=MEASURE_REMINDERS, task=measures_remind_job, params={"day": dt.date.isoformat(day)}
        )
    return job.pk


@shared_task(acks_late=True, reject_on_worker_lost=True)
def measures_remind_job(job_id: int) -> None:
    """Reminders before and after measure deadlines; idempotent (each measure and event is sent once)."""
    import datetime as dt

    from .services.measures import measures_remind

    with job_running(job_id) as job:
        if job is None:
            return
        sent = measures_remind(dt.date.fromisoformat(job.params["day"]))
        job.total = job.done_count = sum(sent.values())
        job.message = Message(
            "到期前提醒 %(before)s 条，逾期提醒 %(overdue)s 条",
            before=sent["before"],
            overdue=sent["overdue"],
        )


PREVIEW_PART_KIND = "indicators.parameter_preview.part"


@shared_task(acks_late=True, reject_on_worker_lost=True)
def parameter_preview_job(job_id: int) -> None:
    """Split a parameter what-if into parts of PREVIEW_PART_FILINGS filings (total: filings)."""
    from .services.policy import PREVIEW_PART_FILINGS, parameter_preview_filings

    with job_running(job_id) as job:
        if job is None:
            return
        ids = parameter_preview_filings(job.params)
        job.total = len(ids)
        for start in range(0, len(ids), PREVIEW_PART_FILINGS):
            job_enqueue(
                kind=PREVIEW_PART_KIND,
                task=parameter_preview_chunk,
                params={**job.params, "filings": ids[start : start + PREVIEW_PART_FILINGS]},
                parent=job,
            )


@shared_task(acks_late=True, reject_on_worker_lost=True)
def parameter_preview_chunk(job_id: int) -> None:
    """Judge one part's filings under the proposed parameters; the entries stay with the part."""
    from core.models import Job

    from .services.policy import parameter_preview_part

    with job_running(job_id) as part:
        if part is None:
            return
        entries = parameter_preview_part(part.params, part.params["filings"])
        Job.objects.filter(pk=part.pk).update(params={**part.params, "entries": entries})
        part.total = part.done_count = len(part.params["filings"])
