"""Thin Celery tasks for indicator recomputation: ids in, a service call, idempotent.

`recompute_job` fans out one `recompute_institution` task per institution; each adds one to the job's
done count and the last one marks the job done, so the user who triggered it watches the progress."""

from celery import shared_task
from django.db.models import F
from django.utils import timezone

from core.models import Job

from .indicator_services import institution_indicators_compute


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_job(job_id: int) -> None:
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        return
    by_institution = job.params.get("institutions", {})
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now(), total=len(by_institution),
    )
    if not claimed:
        return  # delivered twice: the institution tasks were already sent
    if not by_institution:
        Job.objects.filter(pk=job_id).update(status=Job.Status.DONE, finished_at=timezone.now())
        return
    for institution_id, filing_ids in by_institution.items():
        recompute_institution.delay(job_id, int(institution_id), filing_ids)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_institution(job_id: int, institution_id: int, filing_ids: list[int]) -> None:
    try:
        institution_indicators_compute(institution_id=institution_id, filing_ids=filing_ids)
    except Exception as exc:
        Job.objects.filter(pk=job_id).update(status=Job.Status.FAILED, message=str(exc)[:2000], finished_at=timezone.now())
        raise
    now = timezone.now()
    Job.objects.filter(pk=job_id).update(done_count=F("done_count") + 1, heartbeat_at=now)
    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING, done_count__gte=F("total")).update(
        status=Job.Status.DONE, finished_at=now
    )
