"""Thin Celery tasks for indicator recomputation: ids in, a service call, idempotent.

`recompute_job` fans out one `recompute_chunk` task per CHUNK_INSTITUTIONS institutions (a policy change
can touch thousands; a chunk is computed with a fixed number of queries). The job's total is the number
of institutions; each chunk adds its institutions to the done count and the last one marks the job
done, so the user who triggered it watches the progress."""

from celery import shared_task
from django.db.models import F
from django.utils import timezone

from core.models import Job

from .services.compute import CHUNK_INSTITUTIONS, indicators_compute_batch


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_job(job_id: int) -> None:
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        return
    by_institution = job.params.get("institutions", {})
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        total=len(by_institution),
    )
    if not claimed:
        return  # delivered twice: the chunk tasks were already sent
    if not by_institution:
        Job.objects.filter(pk=job_id).update(status=Job.Status.DONE, finished_at=timezone.now())
        return
    items = list(by_institution.items())
    for start in range(0, len(items), CHUNK_INSTITUTIONS):
        recompute_chunk.delay(job_id, dict(items[start : start + CHUNK_INSTITUTIONS]))


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_chunk(job_id: int, institutions: dict[str, list[int]]) -> None:
    """Compute the listed filings of some institutions ({institution id: filing ids})."""
    try:
        indicators_compute_batch(filing_ids=[pk for ids in institutions.values() for pk in ids])
    except Exception as exc:
        Job.objects.filter(pk=job_id).update(
            status=Job.Status.FAILED, message=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    now = timezone.now()
    Job.objects.filter(pk=job_id).update(done_count=F("done_count") + len(institutions), heartbeat_at=now)
    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING, done_count__gte=F("total")).update(
        status=Job.Status.DONE, finished_at=now
    )
