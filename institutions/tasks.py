from celery import shared_task
from django.core.files.storage import default_storage
from django.utils.translation import ngettext

from accounts.models import User
from core.jobs import job_progress, job_running
from core.models import Job
from core.stored_text import Message


@shared_task(acks_late=True, reject_on_worker_lost=True)
def registry_import_task(job_id: int) -> None:
    """A large registry workbook, stored at upload, imported in the background through the same
    guarded reader and all-or-nothing import as the page (idempotent: re-importing changes nothing).
    Refused cells are the job's message, and the job is marked failed."""
    from .excel import ImportFailed, registry_import

    refused = False
    with job_running(job_id) as job:
        if job is None:
            return
        path = job.params["path"]
        actor = User.objects.filter(pk=job.created_by_id).first()
        with default_storage.open(path, "rb") as fh:
            data = fh.read()
        try:
            result = registry_import(data, actor=actor)
        except ImportFailed as exc:
            refused = True
            job.message = "\n".join(
                [
                    ngettext(
                        "发现 %(n)s 处错误，未写入任何数据：",
                        "发现 %(n)s 处错误，未写入任何数据：",
                        len(exc.cells),
                    )
                    % {"n": len(exc.cells)}
                ]
                + [f"{c.sheet} {c.row} {c.column} {c.header}: {c.message}" for c in exc.cells[:200]]
            )
        else:
            total = result.institutions_created + result.institutions_updated
            job_progress(job, done=total, total=total)
            job.message = Message(
                "新增机构 %(ic)s 家，更新 %(iu)s 家；新增许可证 %(lc)s 个，更新 %(lu)s 个",
                ic=result.institutions_created,
                iu=result.institutions_updated,
                lc=result.licences_created,
                lu=result.licences_updated,
            )
    if refused:
        Job.objects.filter(pk=job_id).update(status=Job.Status.FAILED)
    default_storage.delete(path)
